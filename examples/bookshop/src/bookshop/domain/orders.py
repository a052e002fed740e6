"""Orders and their life cycle.

::

    cart --> placed --> paid --> shipped
      \\         \\        \\
       +---------+--------+--> cancelled

Shipped and cancelled orders are final.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from bookshop.domain.pricing import ZERO, PriceQuote, VatCategory, quote


class OrderStatus(enum.StrEnum):
    CART = "cart"
    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return not TRANSITIONS[self]


TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.CART: frozenset({OrderStatus.PLACED, OrderStatus.CANCELLED}),
    OrderStatus.PLACED: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[current]


class OrderError(Exception):
    """An order cannot do what was asked."""


class InvalidTransitionError(OrderError):
    def __init__(self, current: OrderStatus, target: OrderStatus) -> None:
        self.current = current
        self.target = target
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (final state)"
        super().__init__(f"cannot go from {current.value} to {target.value}; allowed: {allowed}")


@dataclass(frozen=True, slots=True)
class OrderLine:
    isbn: str
    quantity: int
    unit_price: Decimal
    vat: VatCategory = VatCategory.ZERO

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise OrderError(f"line quantity must be at least 1, got {self.quantity}")

    def price(self) -> PriceQuote:
        return quote(self.unit_price, self.quantity, self.vat)


@dataclass
class Order:
    customer_email: str
    lines: dict[str, OrderLine] = field(default_factory=dict)
    status: OrderStatus = OrderStatus.CART
    history: list[tuple[OrderStatus, datetime]] = field(default_factory=list)
    paid_amount: Decimal = ZERO

    def __post_init__(self) -> None:
        if not self.history:
            self.history.append((self.status, datetime.now(UTC)))

    # -- contents -----------------------------------------------------------

    def add(self, line: OrderLine) -> None:
        """Add a line, merging with an existing line for the same ISBN."""
        self._require(OrderStatus.CART, "add lines")
        existing = self.lines.get(line.isbn)
        if existing is not None:
            if existing.unit_price != line.unit_price:
                raise OrderError(f"{line.isbn} is already in the cart at another price")
            line = OrderLine(
                line.isbn, existing.quantity + line.quantity, line.unit_price, line.vat
            )
        self.lines[line.isbn] = line

    def remove(self, isbn: str) -> None:
        self._require(OrderStatus.CART, "remove lines")
        if self.lines.pop(isbn, None) is None:
            raise OrderError(f"{isbn} is not in the cart")

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines.values())

    def total(self) -> Decimal:
        return sum((line.price().total for line in self.lines.values()), ZERO)

    # -- life cycle ---------------------------------------------------------

    def place(self) -> None:
        if self.status is OrderStatus.CART and not self.lines:
            raise OrderError("cannot place an empty order")
        self._move(OrderStatus.PLACED)

    def pay(self, amount: Decimal) -> None:
        if self.status is OrderStatus.PLACED and amount != self.total():
            raise OrderError(f"payment of {amount} does not match the total {self.total()}")
        self._move(OrderStatus.PAID)
        self.paid_amount = amount

    def ship(self) -> None:
        self._move(OrderStatus.SHIPPED)

    def cancel(self) -> Decimal:
        """Cancel the order; returns the amount to refund."""
        self._move(OrderStatus.CANCELLED)
        refund, self.paid_amount = self.paid_amount, ZERO
        return refund

    def _move(self, target: OrderStatus) -> None:
        if not can_transition(self.status, target):
            raise InvalidTransitionError(self.status, target)
        self.status = target
        self.history.append((target, datetime.now(UTC)))

    def _require(self, status: OrderStatus, action: str) -> None:
        if self.status is not status:
            raise OrderError(f"can only {action} while the order is {status.value}")
