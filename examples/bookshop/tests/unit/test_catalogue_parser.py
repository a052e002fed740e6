"""The catalogue CSV parser, on in-memory text."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from bookshop.domain.pricing import VatCategory
from bookshop.processing.catalogue import (
    CatalogueFormatError,
    detect_encoding,
    parse_catalogue,
)

HEADER = "isbn,title,author,price,quantity,year,vat\n"


def test_good_rows_are_parsed() -> None:
    report = parse_catalogue(
        io.StringIO(
            HEADER
            + "0-306-40615-2,  Signal   Processing ,Ada Lovelace,£12.50,3,1999,\n"
            + '9780198526636,"Words, Words",Mary Shelley,1299.00,0,,standard\n'
        )
    )
    assert report.ok
    first, second = report.rows
    assert first.isbn == "9780306406157"
    assert first.title == "Signal Processing"
    assert first.price == Decimal("12.50")
    assert first.year == 1999
    assert first.vat is VatCategory.ZERO
    assert second.title == "Words, Words"
    assert second.vat is VatCategory.STANDARD
    assert report.total_quantity == 3


def test_columns_may_come_in_any_order_and_case() -> None:
    report = parse_catalogue(
        ["Quantity, ISBN ,Price,Author,Title\n", "2,9780306406157,3.00,A. Author,A Title\n"]
    )
    assert report.ok
    assert report.rows[0].quantity == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("9780306406158,T,A,1.00,1,,", "wrong ISBN-13 check digit"),
        ("9780306406157,,A,1.00,1,,", "title is empty"),
        ("9780306406157,T,  ,1.00,1,,", "author is empty"),
        ("9780306406157,T,A,cheap,1,,", "not a number"),
        ("9780306406157,T,A,-1.00,1,,", "positive amount"),
        ("9780306406157,T,A,1.001,1,,", "two decimal places"),
        ("9780306406157,T,A,20000,1,,", "limit"),
        ("9780306406157,T,A,1.00,two,,", "not a whole number"),
        ("9780306406157,T,A,1.00,-3,,", "cannot be negative"),
        ("9780306406157,T,A,1.00,1,1200,", "out of range"),
        ("9780306406157,T,A,1.00,1,,luxury", "not one of"),
        ("9780306406157,T,A,1.00", "expected 7 fields, found 4"),
    ],
)
def test_bad_rows_are_reported_with_line_numbers(row: str, message: str) -> None:
    report = parse_catalogue(io.StringIO(HEADER + "9780198526636,Fine,B,2.00,1,,\n" + row + "\n"))
    assert len(report.rows) == 1
    assert len(report.errors) == 1
    error = report.errors[0]
    assert error.line == 3
    assert message in error.message
    assert str(error).startswith("line 3: ")


def test_duplicates_point_at_the_first_occurrence() -> None:
    text = HEADER + "".join(
        ["9780306406157,T,A,1.00,1,,\n", "\n", "0306406152,T again,A,1.00,1,,\n"]
    )
    report = parse_catalogue(io.StringIO(text))
    assert [str(e) for e in report.errors] == [
        "line 4: ISBN 9780306406157 already appears on line 2"
    ]


def test_line_numbers_count_multiline_fields() -> None:
    text = HEADER + '9780306406157,"A title\nover two lines",A,1.00,1,,\n' + "bad,T,A,1,1,,\n"
    report = parse_catalogue(io.StringIO(text, newline=""))
    assert report.rows[0].title == "A title over two lines"
    assert report.errors[0].line == 4


def test_missing_columns_reject_the_whole_file() -> None:
    with pytest.raises(CatalogueFormatError, match="missing column"):
        parse_catalogue(io.StringIO("isbn,title,price\n"))


def test_empty_file() -> None:
    with pytest.raises(CatalogueFormatError, match="empty"):
        parse_catalogue(io.StringIO(""))


def test_too_many_errors_stop_the_import() -> None:
    text = HEADER + "".join(f"bad{i},T,A,1.00,1,,\n" for i in range(5))
    with pytest.raises(CatalogueFormatError, match="more than 3 bad rows"):
        parse_catalogue(io.StringIO(text), max_errors=3)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("café".encode(), "utf-8"),
        ("\ufeffcafé".encode(), "utf-8-sig"),
        ("café".encode("utf-16"), "utf-16"),
        ("café \u2013 £".encode("cp1252"), "cp1252"),
        (b"caf\xe9 \x81", "latin-1"),
    ],
)
def test_detect_encoding(data: bytes, encoding: str) -> None:
    assert detect_encoding(data) == encoding
