"""Prices, discounts and VAT, all in :class:`~decimal.Decimal`.

Amounts are rounded half-up to the penny at well-defined points only: each
discount is rounded, the net line amount is rounded, and VAT is computed on
the rounded net and rounded again.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Protocol

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


class PricingError(ValueError):
    """A price, quantity or discount is not acceptable."""


class VatCategory(enum.Enum):
    """VAT categories with their rates (UK-style: printed books are zero-rated)."""

    STANDARD = "standard"
    REDUCED = "reduced"
    ZERO = "zero"

    @property
    def rate(self) -> Decimal:
        return _VAT_RATES[self]


_VAT_RATES: dict[VatCategory, Decimal] = {
    VatCategory.STANDARD: Decimal("0.20"),
    VatCategory.REDUCED: Decimal("0.05"),
    VatCategory.ZERO: Decimal("0.00"),
}


def round_money(amount: Decimal) -> Decimal:
    """Round to the penny, half-up (``0.005`` becomes ``0.01``)."""
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def to_money(value: str | int | Decimal) -> Decimal:
    """Parse an amount; rejects floats' imprecision by accepting only str, int or Decimal."""
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise PricingError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise PricingError(f"not a finite amount: {value!r}")
    return amount


class Discount(Protocol):
    """Something that takes money off a line."""

    def amount_off(self, unit_price: Decimal, quantity: int) -> Decimal:
        """The (unrounded, non-negative) amount off the gross line price."""
        ...


@dataclass(frozen=True, slots=True)
class PercentageDiscount:
    """``percent`` off the whole line, e.g. ``Decimal("12.5")``."""

    percent: Decimal

    def __post_init__(self) -> None:
        if not ZERO <= self.percent <= HUNDRED:
            raise PricingError(f"percentage must be between 0 and 100, got {self.percent}")

    def amount_off(self, unit_price: Decimal, quantity: int) -> Decimal:
        return unit_price * quantity * self.percent / HUNDRED


@dataclass(frozen=True, slots=True)
class FixedDiscount:
    """A fixed amount off the line (a voucher), never more than the line is worth."""

    amount: Decimal

    def __post_init__(self) -> None:
        if self.amount < ZERO:
            raise PricingError(f"fixed discount cannot be negative, got {self.amount}")

    def amount_off(self, unit_price: Decimal, quantity: int) -> Decimal:
        return min(self.amount, unit_price * quantity)


@dataclass(frozen=True, slots=True)
class BulkDiscount:
    """``percent`` off when at least ``min_quantity`` copies are bought."""

    min_quantity: int
    percent: Decimal

    def __post_init__(self) -> None:
        if self.min_quantity < 1:
            raise PricingError("bulk discount needs a minimum quantity of at least 1")
        if not ZERO <= self.percent <= HUNDRED:
            raise PricingError(f"percentage must be between 0 and 100, got {self.percent}")

    def amount_off(self, unit_price: Decimal, quantity: int) -> Decimal:
        if quantity < self.min_quantity:
            return ZERO
        return unit_price * quantity * self.percent / HUNDRED


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """A priced line: everything a till receipt shows."""

    unit_price: Decimal
    quantity: int
    gross: Decimal
    discount: Decimal
    net: Decimal
    vat_rate: Decimal
    vat: Decimal
    total: Decimal

    def as_dict(self) -> dict[str, str | int]:
        """A JSON-friendly form (amounts as strings, to keep them exact)."""
        return {
            "unit_price": str(self.unit_price),
            "quantity": self.quantity,
            "gross": str(self.gross),
            "discount": str(self.discount),
            "net": str(self.net),
            "vat_rate": str(self.vat_rate),
            "vat": str(self.vat),
            "total": str(self.total),
        }

    @classmethod
    def from_dict(cls, data: dict[str, str | int]) -> PriceQuote:
        return cls(
            unit_price=Decimal(str(data["unit_price"])),
            quantity=int(data["quantity"]),
            gross=Decimal(str(data["gross"])),
            discount=Decimal(str(data["discount"])),
            net=Decimal(str(data["net"])),
            vat_rate=Decimal(str(data["vat_rate"])),
            vat=Decimal(str(data["vat"])),
            total=Decimal(str(data["total"])),
        )


def quote(
    unit_price: Decimal,
    quantity: int,
    vat: VatCategory = VatCategory.ZERO,
    discounts: Iterable[Discount] = (),
) -> PriceQuote:
    """Price ``quantity`` copies at ``unit_price`` (VAT-exclusive).

    Discounts are applied to the gross line price and capped at it; only the
    single best discount applies (they do not stack).
    """
    if unit_price < ZERO:
        raise PricingError(f"unit price cannot be negative, got {unit_price}")
    if quantity < 1:
        raise PricingError(f"quantity must be at least 1, got {quantity}")
    gross = round_money(unit_price * quantity)
    offers = [round_money(d.amount_off(unit_price, quantity)) for d in discounts]
    discount = min(max(offers, default=ZERO), gross)
    net = gross - discount
    vat_amount = round_money(net * vat.rate)
    return PriceQuote(
        unit_price=unit_price,
        quantity=quantity,
        gross=gross,
        discount=discount,
        net=net,
        vat_rate=vat.rate,
        vat=vat_amount,
        total=net + vat_amount,
    )


def basket_total(quotes: Sequence[PriceQuote]) -> Decimal:
    """The sum of the quotes' totals (each already rounded)."""
    return sum((q.total for q in quotes), ZERO)
