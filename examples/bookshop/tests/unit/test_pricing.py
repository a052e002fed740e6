from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from bookshop.domain.pricing import (
    BulkDiscount,
    FixedDiscount,
    PercentageDiscount,
    PriceQuote,
    PricingError,
    VatCategory,
    basket_total,
    quote,
    round_money,
    to_money,
)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1.005", "1.01"),
        ("1.004", "1.00"),
        ("2.675", "2.68"),
        ("-1.005", "-1.01"),
        ("10", "10.00"),
    ],
)
def test_round_money_is_half_up(amount: str, expected: str) -> None:
    assert round_money(Decimal(amount)) == Decimal(expected)


@pytest.mark.parametrize(
    ("category", "rate"),
    [(VatCategory.STANDARD, "0.20"), (VatCategory.REDUCED, "0.05"), (VatCategory.ZERO, "0")],
)
def test_vat_rates(category: VatCategory, rate: str) -> None:
    assert category.rate == Decimal(rate)


def test_plain_quote_for_a_zero_rated_book() -> None:
    q = quote(Decimal("9.99"), 3)
    assert (q.gross, q.discount, q.net, q.vat, q.total) == (
        Decimal("29.97"),
        Decimal("0.00"),
        Decimal("29.97"),
        Decimal("0.00"),
        Decimal("29.97"),
    )


def test_standard_vat_is_rounded_on_the_net_amount() -> None:
    q = quote(Decimal("4.99"), 1, VatCategory.STANDARD)
    assert q.vat == Decimal("1.00")  # 0.998 rounds up
    assert q.total == Decimal("5.99")


def test_percentage_discount() -> None:
    q = quote(Decimal("12.50"), 2, discounts=[PercentageDiscount(Decimal("10"))])
    assert q.discount == Decimal("2.50")
    assert q.net == Decimal("22.50")


def test_only_the_best_discount_applies() -> None:
    q = quote(
        Decimal("10.00"),
        5,
        VatCategory.REDUCED,
        discounts=[
            PercentageDiscount(Decimal("5")),
            FixedDiscount(Decimal("3.00")),
            BulkDiscount(5, Decimal("15")),
        ],
    )
    assert q.discount == Decimal("7.50")
    assert q.net == Decimal("42.50")
    assert q.vat == Decimal("2.13")  # 2.125 half-up
    assert q.total == Decimal("44.63")


def test_bulk_discount_needs_the_minimum_quantity() -> None:
    bulk = BulkDiscount(10, Decimal("20"))
    assert quote(Decimal("5.00"), 9, discounts=[bulk]).discount == Decimal("0.00")
    assert quote(Decimal("5.00"), 10, discounts=[bulk]).discount == Decimal("10.00")


def test_fixed_discount_never_makes_a_line_negative() -> None:
    q = quote(Decimal("4.00"), 1, discounts=[FixedDiscount(Decimal("10.00"))])
    assert q.discount == Decimal("4.00")
    assert q.total == Decimal("0.00")


@pytest.mark.parametrize(
    "make",
    [
        lambda: PercentageDiscount(Decimal("101")),
        lambda: PercentageDiscount(Decimal("-1")),
        lambda: FixedDiscount(Decimal("-0.01")),
        lambda: BulkDiscount(0, Decimal("10")),
    ],
)
def test_bad_discounts_are_rejected(make: Callable[[], object]) -> None:
    with pytest.raises(PricingError):
        make()


@pytest.mark.parametrize(("price", "quantity"), [("-1.00", 1), ("1.00", 0), ("1.00", -2)])
def test_bad_quotes_are_rejected(price: str, quantity: int) -> None:
    with pytest.raises(PricingError):
        quote(Decimal(price), quantity)


def test_to_money_rejects_junk() -> None:
    assert to_money("3.50") == Decimal("3.50")
    with pytest.raises(PricingError, match="not an amount"):
        to_money("three")
    with pytest.raises(PricingError, match="finite"):
        to_money("NaN")


def test_quote_round_trips_through_a_dict() -> None:
    q = quote(Decimal("7.35"), 4, VatCategory.STANDARD, [PercentageDiscount(Decimal("12.5"))])
    assert PriceQuote.from_dict(q.as_dict()) == q


def test_basket_total() -> None:
    quotes = [quote(Decimal("1.10"), 3), quote(Decimal("2.00"), 1, VatCategory.STANDARD)]
    assert basket_total(quotes) == Decimal("5.70")
    assert basket_total([]) == Decimal("0.00")
