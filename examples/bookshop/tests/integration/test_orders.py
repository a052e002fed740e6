"""Orders in PostgreSQL: customers, reservations, payment, shipping and cancellation."""

from __future__ import annotations

from decimal import Decimal

import pytest
import redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bookshop.cache import Cache
from bookshop.db import BookshopService, Customer, CustomerRepository, OrderRepository
from bookshop.domain.inventory import InsufficientStockError
from bookshop.domain.orders import OrderStatus
from bookshop.domain.pricing import VatCategory, quote
from bookshop.processing.catalogue import CatalogueRow

from .conftest import PRIDE_ISBN, PRIDE_TITLE, a_later_request, row_counts

ADA = "ada@example.com"


def stock_pride(service: BookshopService, copies: int) -> None:
    service.import_catalogue(
        [
            CatalogueRow(
                isbn=PRIDE_ISBN,
                title=PRIDE_TITLE,
                author="Jane Austen",
                price=Decimal("8.99"),
                quantity=copies,
                year=1813,
                vat=VatCategory.ZERO,
            )
        ]
    )


def test_placing_an_order_reserves_stock_and_caches_the_quote(
    service: BookshopService,
    sessions: sessionmaker[Session],
    cache: Cache,
    redis_client: redis.Redis,
) -> None:
    stock_pride(service, 5)
    basket_quote = cache.quote(
        PRIDE_ISBN, 2, VatCategory.ZERO, lambda: quote(Decimal("8.99"), 2, VatCategory.ZERO)
    )
    order_id = service.place_order(ADA, {PRIDE_ISBN: 2})
    assert order_id == 1
    assert service.available(PRIDE_ISBN) == 3
    assert service.order_status(order_id) is OrderStatus.PLACED
    with sessions() as session:
        [order] = OrderRepository(session).for_customer(ADA)
        assert order.total == basket_quote.total == Decimal("17.98")
        assert [(line.book.isbn, line.quantity) for line in order.lines] == [(PRIDE_ISBN, 2)]
    assert cache.get_quote(PRIDE_ISBN, 2, VatCategory.ZERO) == basket_quote
    assert redis_client.dbsize() == 1


def test_paid_and_shipped_order_leaves_stock(
    service: BookshopService, sessions: sessionmaker[Session]
) -> None:
    stock_pride(service, 4)
    order_id = service.place_order(ADA, {PRIDE_ISBN: 3})
    a_later_request()
    service.pay_order(order_id, Decimal("26.97"))
    service.ship_order(order_id)
    assert service.order_status(order_id) is OrderStatus.SHIPPED
    assert service.available(PRIDE_ISBN) == 1
    with sessions() as session:
        orders = OrderRepository(session)
        [shipped] = orders.with_status(OrderStatus.SHIPPED)
        assert shipped.id == order_id
        assert orders.units_sold(shipped.lines[0].book) == 3
        assert shipped.lines[0].book.stock is not None
        assert (shipped.lines[0].book.stock.on_hand, shipped.lines[0].book.stock.reserved) == (1, 0)


def test_cancelling_releases_reserved_stock(service: BookshopService) -> None:
    assert row_counts()["orders"] == 0
    stock_pride(service, 6)
    first = service.place_order(ADA, {PRIDE_ISBN: 4})
    a_later_request()
    assert service.available(PRIDE_ISBN) == 2
    service.cancel_order(first)
    assert service.available(PRIDE_ISBN) == 6
    second = service.place_order("grace@example.com", {PRIDE_ISBN: 6})
    assert (first, second) == (1, 2)
    assert service.available(PRIDE_ISBN) == 0
    assert row_counts()["customers"] == 2


def test_customer_email_is_unique(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ada = CustomerRepository(session).get_or_create(" Ada@Example.com ", "Ada Lovelace")
        assert ada.id == 1
    a_later_request()
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(Customer(email=ADA, name="Someone else"))
    with sessions() as session:
        found = CustomerRepository(session).find_by_email(ADA)
        assert found is not None
        assert found.name == "Ada Lovelace"
    assert row_counts()["customers"] == 1


def test_short_stock_places_nothing(service: BookshopService) -> None:
    stock_pride(service, 1)
    a_later_request()
    with pytest.raises(InsufficientStockError):
        service.place_order(ADA, {PRIDE_ISBN: 2})
    assert service.available(PRIDE_ISBN) == 1
    counts = row_counts()
    assert (counts["orders"], counts["order_lines"], counts["customers"]) == (0, 0, 0)
