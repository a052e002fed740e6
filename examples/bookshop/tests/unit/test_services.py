"""The service layer's use cases against in-memory SQLite."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from bookshop.db import BookshopService, NotFoundError
from bookshop.domain.inventory import InsufficientStockError
from bookshop.domain.orders import InvalidTransitionError, OrderError, OrderStatus
from bookshop.domain.pricing import VatCategory
from bookshop.processing.catalogue import CatalogueRow


@pytest.fixture
def isbns(make_isbn: Callable[[int], str]) -> list[str]:
    return [make_isbn(n) for n in range(3)]


@pytest.fixture
def stocked(service: BookshopService, isbns: list[str]) -> BookshopService:
    service.import_catalogue(
        [
            CatalogueRow(isbns[0], "Dune", "Frank Herbert", Decimal("9.99"), 5),
            CatalogueRow(isbns[1], "Emma", "Jane Austen", Decimal("4.00"), 2),
            CatalogueRow(
                isbns[2], "Audio Emma", "Jane Austen", Decimal("10.00"), 1, vat=VatCategory.STANDARD
            ),
        ]
    )
    return service


def test_import_creates_books_authors_and_stock(service: BookshopService, isbns: list[str]) -> None:
    summary = service.import_catalogue(
        [
            CatalogueRow(isbns[0], "Dune", "Frank Herbert", Decimal("9.99"), 5),
            CatalogueRow(isbns[1], "Emma", "Jane Austen", Decimal("4.00"), 0),
        ]
    )
    assert (summary.created, summary.updated, summary.authors_created) == (2, 0, 2)
    assert service.available(isbns[0]) == 5
    assert service.available(isbns[1]) == 0


def test_reimport_updates_and_adds_stock(stocked: BookshopService, isbns: list[str]) -> None:
    summary = stocked.import_catalogue(
        [CatalogueRow(isbns[0], "Dune (new edition)", "Frank Herbert", Decimal("11.00"), 3)]
    )
    assert (summary.created, summary.updated, summary.authors_created) == (0, 1, 0)
    assert stocked.available(isbns[0]) == 8


def test_placing_an_order_reserves_stock(stocked: BookshopService, isbns: list[str]) -> None:
    order_id = stocked.place_order("reader@example.org", {isbns[0]: 2, isbns[2]: 1})
    assert stocked.order_status(order_id) is OrderStatus.PLACED
    assert stocked.available(isbns[0]) == 3
    assert stocked.available(isbns[2]) == 0


def test_order_is_all_or_nothing(stocked: BookshopService, isbns: list[str]) -> None:
    with pytest.raises(InsufficientStockError):
        stocked.place_order("reader@example.org", {isbns[0]: 1, isbns[1]: 3})
    assert stocked.available(isbns[0]) == 5


def test_pay_and_ship_take_copies_out_of_stock(stocked: BookshopService, isbns: list[str]) -> None:
    order_id = stocked.place_order("reader@example.org", {isbns[0]: 2, isbns[2]: 1})
    stocked.pay_order(order_id, Decimal("31.98"))  # 2 x 9.99 + 10.00 + 20% VAT
    stocked.ship_order(order_id)
    assert stocked.order_status(order_id) is OrderStatus.SHIPPED
    assert stocked.available(isbns[0]) == 3


def test_wrong_payment_is_refused(stocked: BookshopService, isbns: list[str]) -> None:
    order_id = stocked.place_order("reader@example.org", {isbns[1]: 1})
    with pytest.raises(OrderError, match="does not match"):
        stocked.pay_order(order_id, Decimal("3.99"))
    assert stocked.order_status(order_id) is OrderStatus.PLACED


def test_cancel_releases_the_reservation(stocked: BookshopService, isbns: list[str]) -> None:
    order_id = stocked.place_order("reader@example.org", {isbns[1]: 2})
    assert stocked.available(isbns[1]) == 0
    stocked.cancel_order(order_id)
    assert stocked.available(isbns[1]) == 2
    with pytest.raises(InvalidTransitionError):
        stocked.ship_order(order_id)


def test_cannot_ship_an_unpaid_order(stocked: BookshopService, isbns: list[str]) -> None:
    order_id = stocked.place_order("reader@example.org", {isbns[0]: 1})
    with pytest.raises(InvalidTransitionError, match="from placed to shipped"):
        stocked.ship_order(order_id)


def test_unknown_isbn_or_empty_order(stocked: BookshopService) -> None:
    with pytest.raises(NotFoundError):
        stocked.place_order("reader@example.org", {"9791034304431": 1})
    with pytest.raises(OrderError, match="empty"):
        stocked.place_order("reader@example.org", {})
