"""Repositories against in-memory SQLite."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bookshop.db import (
    AuthorRepository,
    Base,
    BookRepository,
    CustomerRepository,
    NotFoundError,
    OrderRepository,
    StockRepository,
)
from bookshop.domain.orders import OrderStatus


@pytest.fixture
def books(session: Session, make_isbn: Callable[[int], str]) -> BookRepository:
    authors = AuthorRepository(session)
    repo = BookRepository(session)
    shelley = authors.get_or_create("Mary Shelley")
    austen = authors.get_or_create("Jane Austen")
    for serial, (title, author, price) in enumerate(
        [
            ("Frankenstein", shelley, "7.99"),
            ("The Last Man", shelley, "9.50"),
            ("Emma", austen, "6.99"),
            ("Persuasion", austen, "5.99"),
        ]
    ):
        repo.add(isbn=make_isbn(serial), title=title, author=author, price=Decimal(price))
    return repo


def test_schema_has_every_table(session: Session) -> None:
    tables = set(inspect(session.get_bind()).get_table_names())
    assert (
        tables
        == set(Base.metadata.tables)
        == {
            "authors",
            "books",
            "customers",
            "orders",
            "order_lines",
            "stock",
        }
    )


def test_get_or_create_author_is_idempotent(session: Session) -> None:
    authors = AuthorRepository(session)
    first = authors.get_or_create("Ada Lovelace")
    assert authors.get_or_create("Ada Lovelace") is first
    assert [a.name for a in authors.list()] == ["Ada Lovelace"]


def test_find_by_isbn_keeps_decimal_prices(
    books: BookRepository, session: Session, make_isbn: Callable[[int], str]
) -> None:
    session.expire_all()
    book = books.get_by_isbn(make_isbn(1))
    assert book.title == "The Last Man"
    assert book.price == Decimal("9.50")
    assert isinstance(book.price, Decimal)
    assert book.author.name == "Mary Shelley"


def test_missing_book(books: BookRepository) -> None:
    assert books.find_by_isbn("9791034304431") is None
    with pytest.raises(NotFoundError, match="9791034304431"):
        books.get_by_isbn("9791034304431")
    with pytest.raises(NotFoundError):
        books.get(12345)


@pytest.mark.parametrize(
    ("text", "titles"),
    [("man", ["The Last Man"]), ("E", ["Emma", "Frankenstein", "Persuasion", "The Last Man"])],
)
def test_search_titles_is_case_insensitive(
    books: BookRepository, text: str, titles: list[str]
) -> None:
    assert [b.title for b in books.search_titles(text)] == titles


def test_books_by_author(books: BookRepository) -> None:
    assert [b.title for b in books.by_author("Jane Austen")] == ["Emma", "Persuasion"]
    assert books.count() == 4


def test_isbn_is_unique(
    books: BookRepository, session: Session, make_isbn: Callable[[int], str]
) -> None:
    author = AuthorRepository(session).get_or_create("Someone")
    with pytest.raises(IntegrityError):
        books.add(isbn=make_isbn(0), title="Copy", author=author, price=Decimal("1.00"))


def test_customer_emails_are_normalised(session: Session) -> None:
    customers = CustomerRepository(session)
    customer = customers.get_or_create("  Reader@Example.ORG ", "Reader")
    assert customer.email == "reader@example.org"
    assert customers.get_or_create("reader@example.org") is customer
    assert customers.find_by_email("READER@example.org") is customer


def test_stock_rows_are_created_on_demand(
    books: BookRepository, session: Session, make_isbn: Callable[[int], str]
) -> None:
    stock = StockRepository(session)
    level = stock.for_book(books.get_by_isbn(make_isbn(2)))
    assert (level.on_hand, level.reserved, level.available) == (0, 0, 0)
    level.on_hand = 4
    level.reserved = 1
    other = stock.for_book(books.get_by_isbn(make_isbn(3)))
    other.on_hand = 10
    session.flush()
    assert [s.book.title for s in stock.low_stock(threshold=3)] == ["Emma"]


def test_orders_by_status_and_customer(session: Session) -> None:
    customer = CustomerRepository(session).get_or_create("a@example.org")
    orders = OrderRepository(session)
    first = orders.create(customer)
    orders.create(customer)
    first.status = OrderStatus.PLACED.value
    session.flush()
    assert [o.id for o in orders.with_status(OrderStatus.PLACED)] == [first.id]
    assert len(orders.for_customer("A@example.org")) == 2
    with pytest.raises(NotFoundError):
        orders.get(999)
