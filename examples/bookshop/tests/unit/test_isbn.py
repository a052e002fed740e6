from __future__ import annotations

from collections.abc import Callable

import pytest

from bookshop.domain.isbn import (
    InvalidISBNError,
    format_isbn13,
    is_valid_isbn,
    is_valid_isbn10,
    is_valid_isbn13,
    isbn10_check_digit,
    isbn13_check_digit,
    normalize_isbn,
    parse_isbn,
    to_isbn10,
    to_isbn13,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0-306-40615-2", "0306406152"),
        (" 978 0 306 40615 7 ", "9780306406157"),
        ("ISBN: 0-8044-2957-x", "080442957X"),
        ("isbn 978-3-16-148410-0", "9783161484100"),
    ],
)
def test_normalize_strips_separators_and_labels(raw: str, expected: str) -> None:
    assert normalize_isbn(raw) == expected


@pytest.mark.parametrize("isbn10", ["0306406152", "080442957X", "0-19-852663-6", "1-86197-876-6"])
def test_valid_isbn10(isbn10: str) -> None:
    assert is_valid_isbn10(isbn10)
    assert is_valid_isbn(isbn10)


@pytest.mark.parametrize("isbn13", ["9780306406157", "978-3-16-148410-0", "9791034304431"])
def test_valid_isbn13(isbn13: str) -> None:
    assert is_valid_isbn13(isbn13)
    assert is_valid_isbn(isbn13)


@pytest.mark.parametrize(
    "bad",
    ["0306406153", "9780306406158", "97803064061", "", "abcdefghij", "9770306406157", "X306406152"],
)
def test_invalid_isbns(bad: str) -> None:
    assert not is_valid_isbn(bad)


def test_check_digits() -> None:
    assert isbn10_check_digit("030640615") == "2"
    assert isbn10_check_digit("080442957") == "X"
    assert isbn13_check_digit("978030640615") == "7"


def test_check_digit_needs_the_right_length() -> None:
    with pytest.raises(InvalidISBNError, match="9 digits"):
        isbn10_check_digit("12345")
    with pytest.raises(InvalidISBNError, match="12 digits"):
        isbn13_check_digit("97803064061X")


@pytest.mark.parametrize(
    ("isbn10", "isbn13"),
    [
        ("0306406152", "9780306406157"),
        ("080442957X", "9780804429573"),
        ("0198526636", "9780198526636"),
    ],
)
def test_conversion_round_trip(isbn10: str, isbn13: str) -> None:
    assert to_isbn13(isbn10) == isbn13
    assert to_isbn10(isbn13) == isbn10
    assert to_isbn13(isbn13) == isbn13
    assert to_isbn10(isbn10) == isbn10


def test_979_has_no_isbn10() -> None:
    with pytest.raises(InvalidISBNError, match="978-prefixed"):
        to_isbn10("9791034304431")


def test_parse_returns_canonical_isbn13() -> None:
    assert parse_isbn("0-306-40615-2") == "9780306406157"
    assert parse_isbn("978-0-306-40615-7") == "9780306406157"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("", "empty"),
        ("12345", "expected 10 or 13"),
        ("0306406153", "wrong ISBN-10 check digit"),
        ("9780306406158", "wrong ISBN-13 check digit"),
        ("9770306406157", "978 or 979"),
        ("03064X6152", "9 digits then"),
    ],
)
def test_parse_explains_what_is_wrong(bad: str, reason: str) -> None:
    with pytest.raises(InvalidISBNError, match=reason) as excinfo:
        parse_isbn(bad)
    assert excinfo.value.value == bad


def test_format_isbn13() -> None:
    assert format_isbn13("0306406152") == "978-0-3064-0615-7"


def test_generated_isbns_are_valid_and_distinct(make_isbn: Callable[[int], str]) -> None:
    isbns = {make_isbn(n) for n in range(200)}
    assert len(isbns) == 200
    assert all(is_valid_isbn13(i) for i in isbns)
