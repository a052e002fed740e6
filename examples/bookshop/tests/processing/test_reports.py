"""Sales reports exported to CSV files."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bookshop.processing.reports import (
    REPORT_HEADER,
    ReportError,
    Sale,
    daily_totals,
    export_sales_report,
    read_sales_report,
)

pytestmark = pytest.mark.processing

SalesMaker = Callable[..., list[Sale]]


def test_small_report_contents(tmp_path: Path) -> None:
    sales = [
        Sale("9780306406157", "Dune", 2, Decimal("9.99"), date(2024, 3, 1)),
        Sale("9780198526636", "Emma", 1, Decimal("4.50"), date(2024, 3, 2)),
        Sale("9780306406157", "Dune", 1, Decimal("9.99"), date(2024, 3, 5)),
    ]
    summary = export_sales_report(sales, tmp_path / "reports" / "march.csv")
    with summary.path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        list(REPORT_HEADER),
        ["9780306406157", "Dune", "3", "29.97", "2024-03-01", "2024-03-05"],
        ["9780198526636", "Emma", "1", "4.50", "2024-03-02", "2024-03-02"],
        ["TOTAL", "", "4", "34.47", "", ""],
    ]
    assert (summary.lines, summary.units, summary.revenue) == (2, 4, Decimal("34.47"))
    assert not list(summary.path.parent.glob(".*.tmp"))


def test_round_trip(make_sales: SalesMaker, tmp_path: Path) -> None:
    sales = make_sales(20_000)
    summary = export_sales_report(sales, tmp_path / "year.csv")
    lines = read_sales_report(summary.path)
    assert len(lines) == summary.lines == 500
    assert sum(line.units for line in lines) == sum(s.quantity for s in sales)
    assert [line.revenue for line in lines] == sorted(
        (line.revenue for line in lines), reverse=True
    )


def test_period_filter(make_sales: SalesMaker, tmp_path: Path) -> None:
    sales = make_sales(10_000)
    start, end = date(2024, 2, 1), date(2024, 2, 29)
    lines = read_sales_report(
        export_sales_report(sales, tmp_path / "feb.csv", start=start, end=end).path
    )
    assert all(start <= line.first_sold <= line.last_sold <= end for line in lines)
    in_feb = sum(s.quantity for s in sales if start <= s.sold_on <= end)
    assert sum(line.units for line in lines) == in_feb


def test_tampered_report_is_rejected(make_sales: SalesMaker, tmp_path: Path) -> None:
    path = export_sales_report(make_sales(1_000), tmp_path / "r.csv").path
    text = path.read_text(encoding="utf-8").splitlines()
    isbn, title, units, *rest = text[1].split(",")
    text[1] = ",".join([isbn, title, str(int(units) + 1), *rest])
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ReportError, match="does not match"):
        read_sales_report(path)


def test_daily_totals_match_the_report(make_sales: SalesMaker, tmp_path: Path) -> None:
    sales = make_sales(5_000)
    totals = daily_totals(sales)
    assert list(totals) == sorted(totals)
    summary = export_sales_report(sales, tmp_path / "r.csv")
    assert abs(sum(totals.values()) - summary.revenue) <= Decimal("0.01") * len(totals)


def test_report_for_a_year_of_sales(make_sales: SalesMaker, tmp_path: Path) -> None:
    """Slow on purpose: 200,000 sales of 20,000 titles summarised and re-read."""
    sales = make_sales(200_000, titles=20_000)
    summary = export_sales_report(sales, tmp_path / "2024.csv")
    lines = read_sales_report(summary.path)
    assert summary.lines == len(lines) > 19_000
    assert summary.units == sum(s.quantity for s in sales)
