"""The lending rules, without a database."""

from datetime import date
from decimal import Decimal

import pytest

from lending import rules


def test_due_date_is_three_weeks_later():
    assert rules.due_date(date(2026, 1, 31)) == date(2026, 2, 21)


def test_due_date_needs_a_positive_period():
    with pytest.raises(ValueError, match="at least one day, not 0"):
        rules.due_date(date(2026, 1, 1), days=0)


@pytest.mark.parametrize(
    ("returned", "fee"),
    [
        (date(2026, 3, 1), Decimal("0.00")),
        (date(2026, 3, 2), Decimal("0.00")),
        (date(2026, 3, 3), Decimal("0.25")),
        (date(2026, 3, 12), Decimal("2.50")),
        (date(2026, 9, 1), Decimal("10.00")),
    ],
)
def test_late_fee(returned, fee):
    assert rules.late_fee(date(2026, 3, 2), returned) == fee


def test_isbn_is_normalised():
    assert rules.normalise_isbn("978-0-441-17271-9") == "9780441172719"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("978044117271", "13-digit"), ("9780441172718", "check digit"), ("97804411727x9", "13-digit")],
)
def test_bad_isbn(raw, problem):
    with pytest.raises(ValueError, match=problem):
        rules.normalise_isbn(raw)
