"""bookshop.cache against a real Redis, with PostgreSQL behind it."""

from __future__ import annotations

from decimal import Decimal

import redis
from sqlalchemy.orm import Session, sessionmaker

from bookshop.cache import BOOK_TTL, QUOTE_TTL, Cache
from bookshop.db import AuthorRepository, BookRepository
from bookshop.domain.pricing import PriceQuote, VatCategory, quote

from .conftest import PRIDE_ISBN, PRIDE_TITLE, a_later_request

BOOK_KEY = f"bookshop:book:{PRIDE_ISBN}"


def test_book_round_trip(cache: Cache, redis_client: redis.Redis) -> None:
    assert cache.get_book(PRIDE_ISBN) is None
    cache.set_book(PRIDE_ISBN, {"title": PRIDE_TITLE, "price": "8.99"})
    for quantity in range(1, 11):
        cache.set_quote(PRIDE_ISBN, quote(Decimal("8.99"), quantity), VatCategory.ZERO)
    a_later_request()
    assert cache.get_book(PRIDE_ISBN) == {"title": PRIDE_TITLE, "price": "8.99"}
    assert BOOK_TTL - 5 <= redis_client.ttl(BOOK_KEY) <= BOOK_TTL
    assert redis_client.dbsize() == 11


def test_lookup_loads_from_the_database_once(
    cache: Cache, redis_client: redis.Redis, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        author = AuthorRepository(session).get_or_create("Jane Austen")
        BookRepository(session).add(
            isbn=PRIDE_ISBN, title=PRIDE_TITLE, author=author, price=Decimal("9.50")
        )
    loads: list[str] = []

    def load(isbn: str) -> dict[str, str] | None:
        loads.append(isbn)
        with sessions() as session:
            book = BookRepository(session).find_by_isbn(isbn)
            return None if book is None else {"title": book.title, "price": str(book.price)}

    assert cache.book(PRIDE_ISBN, load) == {"title": PRIDE_TITLE, "price": "9.50"}
    a_later_request()
    with sessions.begin() as session:
        BookRepository(session).get_by_isbn(PRIDE_ISBN).price = Decimal("11.00")
    assert cache.book(PRIDE_ISBN, load) == {"title": PRIDE_TITLE, "price": "9.50"}
    assert loads == [PRIDE_ISBN]
    cache.invalidate_book(PRIDE_ISBN)
    assert cache.book(PRIDE_ISBN, load) == {"title": PRIDE_TITLE, "price": "11.00"}
    assert loads == [PRIDE_ISBN, PRIDE_ISBN]
    assert redis_client.keys("*") == [BOOK_KEY]


def test_quote_is_computed_once_then_cached(cache: Cache, redis_client: redis.Redis) -> None:
    assert redis_client.dbsize() == 0
    computed: list[PriceQuote] = []

    def compute() -> PriceQuote:
        computed.append(quote(Decimal("12.50"), 2, VatCategory.STANDARD))
        return computed[-1]

    first = cache.quote(PRIDE_ISBN, 2, VatCategory.STANDARD, compute)
    a_later_request()
    second = cache.quote(PRIDE_ISBN, 2, VatCategory.STANDARD, compute)
    assert first == second
    assert first.total == Decimal("30.00")
    assert len(computed) == 1
    key = cache.quote_key(PRIDE_ISBN, 2, VatCategory.STANDARD)
    assert redis_client.keys("*") == [key]
    assert 0 < redis_client.ttl(key) <= QUOTE_TTL


def test_invalidating_a_book_forgets_its_quotes(cache: Cache, redis_client: redis.Redis) -> None:
    cache.set_book(PRIDE_ISBN, {"title": PRIDE_TITLE, "price": "7.00"})
    for vat in VatCategory:
        for quantity in (1, 2, 3):
            cache.set_quote(PRIDE_ISBN, quote(Decimal("7.00"), quantity, vat), vat)
    a_later_request()
    assert redis_client.dbsize() == 10
    cache.invalidate_book(PRIDE_ISBN)
    assert cache.get_book(PRIDE_ISBN) is None
    assert cache.get_quote(PRIDE_ISBN, 2, VatCategory.REDUCED) is None
    assert redis_client.dbsize() == 0


def test_corrupt_entry_is_a_miss_and_is_dropped(cache: Cache, redis_client: redis.Redis) -> None:
    assert redis_client.dbsize() == 0
    redis_client.set(BOOK_KEY, "{not json")
    assert cache.get_book(PRIDE_ISBN) is None
    assert redis_client.exists(BOOK_KEY) == 0
    cache.set_book(PRIDE_ISBN, {"title": PRIDE_TITLE, "price": "5.00"})
    a_later_request()
    assert cache.get_book(PRIDE_ISBN) == {"title": PRIDE_TITLE, "price": "5.00"}
