"""Sales reports exported as CSV."""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from bookshop.domain.pricing import ZERO, round_money

REPORT_HEADER: tuple[str, ...] = ("isbn", "title", "units", "revenue", "first_sold", "last_sold")
TOTAL_LABEL = "TOTAL"
StrPath = str | os.PathLike[str]


class ReportError(ValueError):
    """A report file is malformed or its total does not add up."""


@dataclass(frozen=True, slots=True)
class Sale:
    isbn: str
    title: str
    quantity: int
    unit_price: Decimal
    sold_on: date

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class ReportLine:
    isbn: str
    title: str
    units: int
    revenue: Decimal
    first_sold: date
    last_sold: date


@dataclass(frozen=True, slots=True)
class ReportSummary:
    path: Path
    lines: int
    units: int
    revenue: Decimal


def _in_period(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def summarise_sales(
    sales: Iterable[Sale], *, start: date | None = None, end: date | None = None
) -> list[ReportLine]:
    """One line per ISBN sold in ``[start, end]``, best-selling (by revenue) first."""
    units: dict[str, int] = defaultdict(int)
    revenue: dict[str, Decimal] = defaultdict(lambda: ZERO)
    titles: dict[str, str] = {}
    first: dict[str, date] = {}
    last: dict[str, date] = {}
    for sale in sales:
        if not _in_period(sale.sold_on, start, end):
            continue
        isbn = sale.isbn
        units[isbn] += sale.quantity
        revenue[isbn] += sale.amount
        titles.setdefault(isbn, sale.title)
        if isbn not in first or sale.sold_on < first[isbn]:
            first[isbn] = sale.sold_on
        if isbn not in last or sale.sold_on > last[isbn]:
            last[isbn] = sale.sold_on
    lines = [
        ReportLine(
            isbn, titles[isbn], units[isbn], round_money(revenue[isbn]), first[isbn], last[isbn]
        )
        for isbn in units
    ]
    lines.sort(key=lambda line: (-line.revenue, line.isbn))
    return lines


def daily_totals(sales: Iterable[Sale]) -> dict[date, Decimal]:
    """Revenue per day, in date order."""
    totals: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for sale in sales:
        totals[sale.sold_on] += sale.amount
    return {day: round_money(totals[day]) for day in sorted(totals)}


def export_sales_report(
    sales: Iterable[Sale],
    path: StrPath,
    *,
    start: date | None = None,
    end: date | None = None,
) -> ReportSummary:
    """Write the summary as CSV with a header and a final ``TOTAL`` row.

    The file is written to a temporary name and renamed, so a reader never
    sees half a report.
    """
    target = Path(path)
    lines = summarise_sales(sales, start=start, end=end)
    total_units = sum(line.units for line in lines)
    total_revenue = sum((line.revenue for line in lines), ZERO)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_HEADER)
        writer.writerows(
            (
                line.isbn,
                line.title,
                line.units,
                f"{line.revenue:.2f}",
                line.first_sold.isoformat(),
                line.last_sold.isoformat(),
            )
            for line in lines
        )
        writer.writerow((TOTAL_LABEL, "", total_units, f"{total_revenue:.2f}", "", ""))
    tmp.replace(target)
    return ReportSummary(target, len(lines), total_units, total_revenue)


def read_sales_report(path: StrPath) -> list[ReportLine]:
    """Read a report written by :func:`export_sales_report`, checking its total row."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or tuple(rows[0]) != REPORT_HEADER:
        raise ReportError(f"{os.fspath(path)}: not a sales report (bad header)")
    if len(rows) < 2 or rows[-1][0] != TOTAL_LABEL:
        raise ReportError(f"{os.fspath(path)}: missing TOTAL row")
    lines = [
        ReportLine(
            isbn=row[0],
            title=row[1],
            units=int(row[2]),
            revenue=Decimal(row[3]),
            first_sold=date.fromisoformat(row[4]),
            last_sold=date.fromisoformat(row[5]),
        )
        for row in rows[1:-1]
    ]
    total = rows[-1]
    if int(total[2]) != sum(line.units for line in lines) or Decimal(total[3]) != sum(
        (line.revenue for line in lines), ZERO
    ):
        raise ReportError(f"{os.fspath(path)}: TOTAL row does not match the lines")
    return lines
