"""Importing catalogue files from disk: encodings, delimiters, size."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from bookshop.domain.pricing import VatCategory
from bookshop.processing.catalogue import (
    CatalogueFormatError,
    CatalogueRow,
    import_catalogue_file,
    write_catalogue,
)

pytestmark = pytest.mark.processing

CatalogueWriter = Callable[..., Path]


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"), ("utf-16", "utf-16")],
)
def test_encodings_are_detected(
    write_catalogue_csv: CatalogueWriter, encoding: str, detected: str
) -> None:
    path = write_catalogue_csv(2_000, encoding=encoding)
    report = import_catalogue_file(path)
    assert report.encoding == detected
    assert report.ok, report.errors[:3]
    assert len(report.rows) == 2_000
    assert {row.author for row in report.rows} >= {"Émile Zola", "Hans Christian Ørsted"}


def test_semicolon_separated_spreadsheet_export(write_catalogue_csv: CatalogueWriter) -> None:
    path = write_catalogue_csv(1_000, encoding="cp1252", delimiter=";")
    report = import_catalogue_file(path)
    assert report.ok
    assert report.rows[0].vat is VatCategory.STANDARD
    assert report.rows[1].vat is VatCategory.ZERO


def test_bad_rows_are_reported_with_file_line_numbers(
    write_catalogue_csv: CatalogueWriter,
) -> None:
    path = write_catalogue_csv(5_000, bad_every=500)
    report = import_catalogue_file(path)
    assert len(report.rows) == 4_990
    # data row n (0-based) is on line n + 2; rows 499, 999, ... are bad
    assert [e.line for e in report.errors] == [n + 2 for n in range(499, 5_000, 500)]
    assert all("'n/a' is not a number" in e.message for e in report.errors)


def test_wrong_explicit_encoding_is_a_format_error(write_catalogue_csv: CatalogueWriter) -> None:
    path = write_catalogue_csv(10, encoding="utf-16")
    with pytest.raises(CatalogueFormatError, match="not valid utf-8"):
        import_catalogue_file(path, encoding="utf-8")


def test_write_then_import_round_trip(tmp_path: Path, make_isbn: Callable[[int], str]) -> None:
    rows = [
        CatalogueRow(
            isbn=make_isbn(n),
            title=f'"Quoted", title {n}',
            author="Brontë, Charlotte",
            price=Decimal(n % 50) + Decimal("0.99"),
            quantity=n % 7,
            year=None if n % 3 else 2001,
            vat=VatCategory.REDUCED if n % 4 == 0 else VatCategory.ZERO,
        )
        for n in range(3_000)
    ]
    path = tmp_path / "export.csv"
    assert write_catalogue(rows, path) == 3_000
    report = import_catalogue_file(path)
    assert report.ok
    assert report.rows == rows


def test_large_catalogue(write_catalogue_csv: CatalogueWriter) -> None:
    """Slow on purpose: a full supplier catalogue of 100,000 rows."""
    path = write_catalogue_csv(100_000)
    report = import_catalogue_file(path)
    assert report.ok
    assert len(report.rows) == 100_000
    assert len({row.isbn for row in report.rows}) == 100_000


def test_large_legacy_catalogue_with_errors(write_catalogue_csv: CatalogueWriter) -> None:
    """20,000 Windows-1252 rows with a bad price every 997 rows."""
    path = write_catalogue_csv(20_000, encoding="cp1252", delimiter=";", bad_every=997, seed=3)
    report = import_catalogue_file(path, max_errors=100)
    assert report.encoding == "cp1252"
    assert len(report.errors) == 20_000 // 997
    assert len(report.rows) + len(report.errors) == 20_000
    assert report.errors[0].line == 998
