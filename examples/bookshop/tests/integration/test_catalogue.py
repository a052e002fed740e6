"""The catalogue in PostgreSQL: authors, books and stock, through repositories and services."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import redis
from sqlalchemy.orm import Session, sessionmaker

from bookshop.cache import Cache
from bookshop.db import (
    Author,
    AuthorRepository,
    BookRepository,
    BookshopService,
    StockRepository,
)
from bookshop.domain.pricing import VatCategory
from bookshop.processing.catalogue import CatalogueRow, import_catalogue_file, write_catalogue

from .conftest import PRIDE_ISBN, PRIDE_TITLE, a_later_request, row_counts

AUTHORS = ("Jane Austen", "Charlotte Brontë", "George Eliot", "Elizabeth Gaskell", "Mary Shelley")


def catalogue(make_isbn: Callable[[int], str], count: int, quantity: int) -> list[CatalogueRow]:
    return [
        CatalogueRow(
            isbn=make_isbn(n),
            title=f"Collected works, volume {n}",
            author=AUTHORS[n % len(AUTHORS)],
            price=Decimal("4.99") + n,
            quantity=quantity,
            year=1850 + n % 150,
            vat=VatCategory.ZERO,
        )
        for n in range(count)
    ]


def upload_catalogue(media_root: Path, rows: list[CatalogueRow]) -> list[CatalogueRow]:
    """Store a supplier's catalogue under MEDIA_ROOT, as the upload form does, and parse it."""
    path = media_root / "imports" / "catalogue.csv"
    path.parent.mkdir(exist_ok=True)
    assert write_catalogue(rows, path) == len(rows)
    report = import_catalogue_file(path)
    assert report.ok, report.errors
    return report.rows


def test_author_with_a_fixed_id(sessions: sessionmaker[Session]) -> None:
    assert row_counts()["authors"] == 0
    with sessions.begin() as session:
        session.add(Author(id=1, name="Jane Austen"))
    a_later_request()
    with sessions() as session:
        author = session.get(Author, 1)
        assert author is not None
        assert author.name == "Jane Austen"
        assert [a.name for a in AuthorRepository(session).list()] == ["Jane Austen"]


def test_book_is_found_by_isbn_and_cached(
    sessions: sessionmaker[Session], cache: Cache, redis_client: redis.Redis
) -> None:
    with sessions.begin() as session:
        author = Author(id=1, name="Jane Austen")
        session.add(author)
        BookRepository(session).add(
            isbn=PRIDE_ISBN, title=PRIDE_TITLE, author=author, price=Decimal("8.99")
        )

    def load(isbn: str) -> dict[str, str | int]:
        with sessions() as session:
            book = BookRepository(session).get_by_isbn(isbn)
            return {"id": book.id, "title": book.title, "price": str(book.price)}

    assert redis_client.dbsize() == 0
    assert cache.book(PRIDE_ISBN, load) == {"id": 1, "title": PRIDE_TITLE, "price": "8.99"}
    a_later_request()
    with sessions() as session:
        books = BookRepository(session)
        book = books.get_by_isbn(PRIDE_ISBN)
        assert (book.id, book.title, book.author_id) == (1, PRIDE_TITLE, 1)
        assert books.count() == 1
    assert cache.get_book(PRIDE_ISBN) == {"id": 1, "title": PRIDE_TITLE, "price": "8.99"}
    assert redis_client.keys("*") == [cache.book_key(PRIDE_ISBN)]


def test_import_creates_books_authors_and_stock(
    service: BookshopService,
    sessions: sessionmaker[Session],
    media_root: Path,
    make_isbn: Callable[[int], str],
) -> None:
    assert not (media_root / "imports").exists()
    rows = upload_catalogue(media_root, catalogue(make_isbn, 200, quantity=3))
    summary = service.import_catalogue(rows)
    assert (summary.created, summary.updated, summary.authors_created) == (200, 0, 5)
    with sessions() as session:
        assert BookRepository(session).count() == 200
        assert len(BookRepository(session).by_author("George Eliot")) == 40
        assert StockRepository(session).low_stock(2) == []
    assert service.available(make_isbn(7)) == 3
    assert row_counts()["stock"] == 200
    assert [p.name for p in (media_root / "imports").iterdir()] == ["catalogue.csv"]


def test_importing_twice_updates_books_and_adds_stock(
    service: BookshopService,
    sessions: sessionmaker[Session],
    media_root: Path,
    make_isbn: Callable[[int], str],
) -> None:
    first = service.import_catalogue(
        upload_catalogue(media_root, catalogue(make_isbn, 100, quantity=2))
    )
    second = service.import_catalogue(
        upload_catalogue(media_root, catalogue(make_isbn, 100, quantity=5))
    )
    assert (first.created, first.updated) == (100, 0)
    assert (second.created, second.updated, second.authors_created) == (0, 100, 0)
    assert service.available(make_isbn(42)) == 7
    with sessions() as session:
        assert BookRepository(session).count() == 100


def test_title_search_finds_only_matching_books(
    sessions: sessionmaker[Session], make_isbn: Callable[[int], str]
) -> None:
    with sessions.begin() as session:
        austen = AuthorRepository(session).get_or_create("Jane Austen")
        books = BookRepository(session)
        books.add(isbn=PRIDE_ISBN, title=PRIDE_TITLE, author=austen, price=Decimal("8.99"))
        books.add(isbn=make_isbn(1), title="Persuasion", author=austen, price=Decimal("7.99"))
        books.add(isbn=make_isbn(2), title="Emma", author=austen, price=Decimal("6.99"))
    a_later_request()
    with sessions() as session:
        books = BookRepository(session)
        assert [b.isbn for b in books.search_titles("PRIDE")] == [PRIDE_ISBN]
        assert [b.title for b in books.by_author("Jane Austen")] == [
            "Emma",
            "Persuasion",
            PRIDE_TITLE,
        ]
        assert books.count() == 3
