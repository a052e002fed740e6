"""Lending rules that need no database: due dates and late fees."""

from datetime import date, timedelta
from decimal import Decimal

LOAN_DAYS = 21
FEE_PER_DAY = Decimal("0.25")
MAX_FEE = Decimal("10.00")


def due_date(lent_on: date, days: int = LOAN_DAYS) -> date:
    """The day a loan made on ``lent_on`` is due back."""
    if days <= 0:
        message = f"a loan lasts at least one day, not {days}"
        raise ValueError(message)
    return lent_on + timedelta(days=days)


def late_fee(due_on: date, returned_on: date) -> Decimal:
    """What a book returned on ``returned_on`` owes: a fee per late day, capped."""
    late_days = (returned_on - due_on).days
    if late_days <= 0:
        return Decimal("0.00")
    return min(FEE_PER_DAY * late_days, MAX_FEE).quantize(Decimal("0.01"))


def normalise_isbn(raw: str) -> str:
    """An ISBN-13 without separators; raises ValueError when its check digit is wrong."""
    digits = raw.replace("-", "").replace(" ", "")
    if len(digits) != 13 or not digits.isdigit():
        message = f"{raw!r} is not a 13-digit ISBN"
        raise ValueError(message)
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits[:12]))
    if (10 - total % 10) % 10 != int(digits[12]):
        message = f"{raw!r} has a wrong check digit"
        raise ValueError(message)
    return digits
