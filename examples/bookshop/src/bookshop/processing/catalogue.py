"""Importing the supplier's catalogue from CSV.

The file has a header row naming at least ``isbn, title, author, price,
quantity`` (any order, any case) and optionally ``year`` and ``vat``. Every
bad row is reported with its line number in the file; good rows are kept, so
one typo does not block a whole delivery.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bookshop.domain.isbn import InvalidISBNError, parse_isbn
from bookshop.domain.pricing import VatCategory

REQUIRED_COLUMNS: tuple[str, ...] = ("isbn", "title", "author", "price", "quantity")
OPTIONAL_COLUMNS: tuple[str, ...] = ("year", "vat")
MAX_TITLE = 300
MAX_AUTHOR = 200
MAX_PRICE = Decimal("10000.00")
FIRST_PRINTED_YEAR = 1450
CURRENCY_SYMBOLS = "£$€"
FALLBACK_ENCODINGS: tuple[str, ...] = ("utf-8", "cp1252", "latin-1")


class CatalogueFormatError(ValueError):
    """The file as a whole cannot be read (no header, missing columns, unknown encoding)."""


@dataclass(frozen=True, slots=True)
class CatalogueRow:
    isbn: str
    title: str
    author: str
    price: Decimal
    quantity: int
    year: int | None = None
    vat: VatCategory = VatCategory.ZERO


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(slots=True)
class ImportReport:
    rows: list[CatalogueRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    encoding: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_quantity(self) -> int:
        return sum(row.quantity for row in self.rows)


class _RowInvalid(Exception):
    pass


def _header_index(header: Sequence[str]) -> dict[str, int]:
    names = [name.strip().lower().lstrip("\ufeff") for name in header]
    missing = [col for col in REQUIRED_COLUMNS if col not in names]
    if missing:
        raise CatalogueFormatError(f"header is missing column(s): {', '.join(missing)}")
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if duplicated:
        raise CatalogueFormatError(f"header repeats column(s): {', '.join(duplicated)}")
    return {name: i for i, name in enumerate(names) if name}


def _price(text: str) -> Decimal:
    cleaned = text.strip().lstrip(CURRENCY_SYMBOLS).replace(",", "")
    try:
        price = Decimal(cleaned)
    except InvalidOperation:
        raise _RowInvalid(f"price {text!r} is not a number") from None
    if not price.is_finite() or price < 0:
        raise _RowInvalid(f"price {text!r} must be a positive amount")
    exponent = price.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise _RowInvalid(f"price {text!r} has more than two decimal places")
    if price > MAX_PRICE:
        raise _RowInvalid(f"price {text!r} is above the {MAX_PRICE} limit")
    return price.quantize(Decimal("0.01"))


def _quantity(text: str) -> int:
    try:
        quantity = int(text.strip())
    except ValueError:
        raise _RowInvalid(f"quantity {text!r} is not a whole number") from None
    if quantity < 0:
        raise _RowInvalid(f"quantity {quantity} cannot be negative")
    return quantity


def _year(text: str, this_year: int) -> int | None:
    if not text.strip():
        return None
    try:
        year = int(text.strip())
    except ValueError:
        raise _RowInvalid(f"year {text!r} is not a whole number") from None
    if not FIRST_PRINTED_YEAR <= year <= this_year + 1:
        raise _RowInvalid(f"year {year} is out of range")
    return year


def _vat(text: str) -> VatCategory:
    if not text.strip():
        return VatCategory.ZERO
    try:
        return VatCategory(text.strip().lower())
    except ValueError:
        allowed = ", ".join(v.value for v in VatCategory)
        raise _RowInvalid(f"vat {text!r} is not one of {allowed}") from None


def _text(value: str, column: str, limit: int) -> str:
    text = " ".join(value.split())
    if not text:
        raise _RowInvalid(f"{column} is empty")
    if len(text) > limit:
        raise _RowInvalid(f"{column} is longer than {limit} characters")
    return text


def parse_catalogue(
    source: Iterable[str], *, delimiter: str = ",", max_errors: int | None = None
) -> ImportReport:
    """Parse catalogue CSV text (an open text file, a ``StringIO`` or a list of lines).

    Raises :class:`CatalogueFormatError` for a missing or bad header, or when
    more than ``max_errors`` rows are bad.
    """
    reader = csv.reader(source, delimiter=delimiter, strict=True)
    report = ImportReport()
    try:
        header = next(reader)
    except StopIteration:
        raise CatalogueFormatError("the file is empty") from None
    except csv.Error as exc:
        raise CatalogueFormatError(f"line 1: {exc}") from None
    index = _header_index(header)
    width = len(header)
    isbn_i, title_i, author_i = index["isbn"], index["title"], index["author"]
    price_i, quantity_i = index["price"], index["quantity"]
    year_i, vat_i = index.get("year"), index.get("vat")
    this_year = date.today().year
    seen: dict[str, int] = {}

    line = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.errors.append(RowError(line, f"malformed CSV: {exc}"))
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if not record or all(not cell.strip() for cell in record):
            continue
        try:
            if len(record) != width:
                raise _RowInvalid(f"expected {width} fields, found {len(record)}")
            try:
                isbn = parse_isbn(record[isbn_i])
            except InvalidISBNError as exc:
                raise _RowInvalid(str(exc)) from None
            if isbn in seen:
                raise _RowInvalid(f"ISBN {isbn} already appears on line {seen[isbn]}")
            row = CatalogueRow(
                isbn=isbn,
                title=_text(record[title_i], "title", MAX_TITLE),
                author=_text(record[author_i], "author", MAX_AUTHOR),
                price=_price(record[price_i]),
                quantity=_quantity(record[quantity_i]),
                year=_year(record[year_i], this_year) if year_i is not None else None,
                vat=_vat(record[vat_i]) if vat_i is not None else VatCategory.ZERO,
            )
        except _RowInvalid as exc:
            report.errors.append(RowError(start, str(exc)))
            if max_errors is not None and len(report.errors) > max_errors:
                raise CatalogueFormatError(
                    f"more than {max_errors} bad rows; first: {report.errors[0]}"
                ) from None
            continue
        seen[isbn] = start
        report.rows.append(row)
    return report


def detect_encoding(data: bytes) -> str:
    """Guess a file's encoding: a BOM wins, then UTF-8, then Windows-1252, then Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in FALLBACK_ENCODINGS:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise CatalogueFormatError("could not determine the file's encoding")  # pragma: no cover


def import_catalogue_file(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    max_errors: int | None = None,
) -> ImportReport:
    """Read and parse a catalogue file, detecting its encoding unless one is given."""
    data = Path(path).read_bytes()
    chosen = encoding or detect_encoding(data)
    try:
        text = data.decode(chosen)
    except UnicodeDecodeError as exc:
        raise CatalogueFormatError(f"{path} is not valid {chosen}: {exc}") from None
    delimiter = ";" if _looks_semicolon_separated(text) else ","
    report = parse_catalogue(
        io.StringIO(text, newline=""), delimiter=delimiter, max_errors=max_errors
    )
    report.encoding = chosen
    return report


def _looks_semicolon_separated(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return first.count(";") > first.count(",")


def write_catalogue(
    rows: Iterable[CatalogueRow], path: str | os.PathLike[str], *, encoding: str = "utf-8"
) -> int:
    """Write rows in the import format; returns how many were written."""
    count = 0
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))
        for row in rows:
            writer.writerow(
                (
                    row.isbn,
                    row.title,
                    row.author,
                    f"{row.price:.2f}",
                    row.quantity,
                    "" if row.year is None else row.year,
                    row.vat.value,
                )
            )
            count += 1
    return count
