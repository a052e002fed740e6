"""ISBN-10 and ISBN-13: validation, check digits and conversion.

The canonical form used everywhere else in bookshop is the 13-digit ISBN
without separators, as returned by :func:`parse_isbn`.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-]")
_ISBN10 = re.compile(r"\d{9}[\dX]")
_ISBN13 = re.compile(r"\d{13}")
BOOKLAND_PREFIXES = ("978", "979")


class InvalidISBNError(ValueError):
    """The text is not a valid ISBN-10 or ISBN-13."""

    def __init__(self, value: str, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"invalid ISBN {value!r}: {reason}")


def normalize_isbn(value: str) -> str:
    """Strip spaces and hyphens, upper-case a trailing ``x``, and drop an ``ISBN`` label."""
    text = value.strip()
    if text.upper().startswith("ISBN"):
        text = text[4:].lstrip(":").strip()
    return _SEPARATORS.sub("", text).upper()


def isbn10_check_digit(first_nine: str) -> str:
    """The check character (``0``-``9`` or ``X``) for the first nine digits of an ISBN-10."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise InvalidISBNError(first_nine, "need exactly 9 digits to compute an ISBN-10 check")
    total = sum((10 - i) * int(d) for i, d in enumerate(first_nine))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def isbn13_check_digit(first_twelve: str) -> str:
    """The check digit for the first twelve digits of an ISBN-13 (EAN-13)."""
    if len(first_twelve) != 12 or not first_twelve.isdigit():
        raise InvalidISBNError(first_twelve, "need exactly 12 digits to compute an ISBN-13 check")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first_twelve))
    return str((10 - total % 10) % 10)


def is_valid_isbn10(value: str) -> bool:
    text = normalize_isbn(value)
    return bool(_ISBN10.fullmatch(text)) and isbn10_check_digit(text[:9]) == text[9]


def is_valid_isbn13(value: str) -> bool:
    text = normalize_isbn(value)
    return (
        bool(_ISBN13.fullmatch(text))
        and text.startswith(BOOKLAND_PREFIXES)
        and isbn13_check_digit(text[:12]) == text[12]
    )


def is_valid_isbn(value: str) -> bool:
    return is_valid_isbn10(value) or is_valid_isbn13(value)


def to_isbn13(value: str) -> str:
    """Convert an ISBN-10 (or pass through an ISBN-13) to the canonical 13-digit form."""
    text = normalize_isbn(value)
    if len(text) == 13:
        if not is_valid_isbn13(text):
            raise InvalidISBNError(value, "bad ISBN-13")
        return text
    if len(text) == 10:
        if not is_valid_isbn10(text):
            raise InvalidISBNError(value, "bad ISBN-10 check digit or characters")
        body = "978" + text[:9]
        return body + isbn13_check_digit(body)
    raise InvalidISBNError(value, f"expected 10 or 13 characters, got {len(text)}")


def to_isbn10(value: str) -> str:
    """Convert a 978-prefixed ISBN-13 (or pass through an ISBN-10) to ISBN-10.

    979-prefixed ISBN-13s have no ISBN-10 equivalent.
    """
    text = normalize_isbn(value)
    if len(text) == 10:
        if not is_valid_isbn10(text):
            raise InvalidISBNError(value, "bad ISBN-10 check digit or characters")
        return text
    if len(text) != 13 or not is_valid_isbn13(text):
        raise InvalidISBNError(value, "not a valid ISBN-13")
    if not text.startswith("978"):
        raise InvalidISBNError(value, "only 978-prefixed ISBN-13s have an ISBN-10 form")
    body = text[3:12]
    return body + isbn10_check_digit(body)


def parse_isbn(value: str) -> str:
    """Validate any ISBN form and return its canonical 13-digit form."""
    text = normalize_isbn(value)
    if not text:
        raise InvalidISBNError(value, "empty")
    if len(text) == 10:
        if not _ISBN10.fullmatch(text):
            raise InvalidISBNError(value, "ISBN-10 must be 9 digits then a digit or X")
        if isbn10_check_digit(text[:9]) != text[9]:
            raise InvalidISBNError(value, "wrong ISBN-10 check digit")
        return to_isbn13(text)
    if len(text) == 13:
        if not _ISBN13.fullmatch(text):
            raise InvalidISBNError(value, "ISBN-13 must be 13 digits")
        if not text.startswith(BOOKLAND_PREFIXES):
            raise InvalidISBNError(value, "ISBN-13 must start with 978 or 979")
        if isbn13_check_digit(text[:12]) != text[12]:
            raise InvalidISBNError(value, "wrong ISBN-13 check digit")
        return text
    raise InvalidISBNError(value, f"expected 10 or 13 characters, got {len(text)}")


def format_isbn13(value: str) -> str:
    """A readable form ``978-X-XXXX-XXXX-X`` (fixed grouping, not registrant-aware)."""
    text = parse_isbn(value)
    return f"{text[:3]}-{text[3]}-{text[4:8]}-{text[8:12]}-{text[12]}"
