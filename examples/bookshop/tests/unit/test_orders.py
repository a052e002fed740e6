from __future__ import annotations

from decimal import Decimal

import pytest

from bookshop.domain.orders import (
    TRANSITIONS,
    InvalidTransitionError,
    Order,
    OrderError,
    OrderLine,
    OrderStatus,
    can_transition,
)
from bookshop.domain.pricing import VatCategory

ISBN_A = "9780306406157"
ISBN_B = "9780198526636"


@pytest.fixture
def order() -> Order:
    order = Order("reader@example.org")
    order.add(OrderLine(ISBN_A, 2, Decimal("8.99")))
    order.add(OrderLine(ISBN_B, 1, Decimal("5.00"), VatCategory.STANDARD))
    return order


def test_total_includes_vat(order: Order) -> None:
    assert order.total() == Decimal("23.98")
    assert order.quantity == 3


def test_adding_the_same_isbn_merges_lines(order: Order) -> None:
    order.add(OrderLine(ISBN_A, 3, Decimal("8.99")))
    assert order.lines[ISBN_A].quantity == 5
    assert len(order.lines) == 2


def test_same_isbn_at_another_price_is_refused(order: Order) -> None:
    with pytest.raises(OrderError, match="another price"):
        order.add(OrderLine(ISBN_A, 1, Decimal("7.99")))


def test_happy_path(order: Order) -> None:
    order.place()
    order.pay(order.total())
    order.ship()
    assert order.status is OrderStatus.SHIPPED
    assert [status for status, _ in order.history] == [
        OrderStatus.CART,
        OrderStatus.PLACED,
        OrderStatus.PAID,
        OrderStatus.SHIPPED,
    ]


def test_empty_order_cannot_be_placed() -> None:
    with pytest.raises(OrderError, match="empty"):
        Order("reader@example.org").place()


def test_payment_must_match_the_total(order: Order) -> None:
    order.place()
    with pytest.raises(OrderError, match="does not match"):
        order.pay(Decimal("1.00"))
    assert order.status is OrderStatus.PLACED


def test_lines_are_frozen_once_placed(order: Order) -> None:
    order.place()
    with pytest.raises(OrderError, match="while the order is cart"):
        order.add(OrderLine(ISBN_A, 1, Decimal("8.99")))
    with pytest.raises(OrderError):
        order.remove(ISBN_A)


def test_remove_unknown_line(order: Order) -> None:
    order.remove(ISBN_B)
    with pytest.raises(OrderError, match="not in the cart"):
        order.remove(ISBN_B)


def test_cancelling_a_paid_order_refunds_it(order: Order) -> None:
    order.place()
    order.pay(order.total())
    assert order.cancel() == Decimal("23.98")
    assert order.status is OrderStatus.CANCELLED
    assert order.paid_amount == Decimal("0.00")


@pytest.mark.parametrize(
    ("steps", "forbidden"),
    [
        ([], "pay"),
        ([], "ship"),
        (["place"], "ship"),
        (["place", "pay", "ship"], "cancel"),
        (["cancel"], "place"),
        (["place", "cancel"], "pay"),
    ],
)
def test_invalid_transitions_raise(order: Order, steps: list[str], forbidden: str) -> None:
    for step in steps:
        if step == "pay":
            order.pay(order.total())
        else:
            getattr(order, step)()
    before = order.status
    action = (lambda: order.pay(order.total())) if forbidden == "pay" else getattr(order, forbidden)
    with pytest.raises(InvalidTransitionError) as excinfo:
        action()
    assert excinfo.value.current is before
    assert order.status is before


def test_final_states() -> None:
    assert {s for s in OrderStatus if s.is_final} == {OrderStatus.SHIPPED, OrderStatus.CANCELLED}
    assert set(TRANSITIONS) == set(OrderStatus)
    assert can_transition(OrderStatus.PAID, OrderStatus.SHIPPED)
    assert not can_transition(OrderStatus.CART, OrderStatus.PAID)


def test_error_message_lists_allowed_moves() -> None:
    error = InvalidTransitionError(OrderStatus.SHIPPED, OrderStatus.CANCELLED)
    assert "final state" in str(error)
    assert "placed" in str(InvalidTransitionError(OrderStatus.CART, OrderStatus.SHIPPED))


def test_line_quantity_must_be_positive() -> None:
    with pytest.raises(OrderError, match="at least 1"):
        OrderLine(ISBN_A, 0, Decimal("1.00"))
