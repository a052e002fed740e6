"""From a catalogue file into an SQLite database file, and back out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bookshop.db import BookRepository, BookshopService, create_session_factory, make_engine
from bookshop.db.models import Base
from bookshop.processing.catalogue import import_catalogue_file

pytestmark = pytest.mark.processing

CatalogueWriter = Callable[..., Path]


def load(path: Path, database: Path) -> BookshopService:
    engine = make_engine(f"sqlite:///{database}")
    Base.metadata.create_all(engine)
    service = BookshopService(create_session_factory(engine))
    report = import_catalogue_file(path)
    assert report.ok
    service.import_catalogue(report.rows)
    return service


def test_catalogue_file_into_database_file(
    write_catalogue_csv: CatalogueWriter, tmp_path: Path, make_isbn: Callable[[int], str]
) -> None:
    database = tmp_path / "shop.sqlite3"
    service = load(write_catalogue_csv(2_000), database)
    service.session_factory.kw["bind"].dispose()

    engine = make_engine(f"sqlite:///{database}")
    with create_session_factory(engine)() as session:
        books = BookRepository(session)
        assert books.count() == 2_000
        assert books.get_by_isbn(make_isbn(41)).author.name == "Charlotte Brontë"
    engine.dispose()
    assert database.stat().st_size > 50_000


def test_order_flow_on_a_database_file(
    write_catalogue_csv: CatalogueWriter, tmp_path: Path, make_isbn: Callable[[int], str]
) -> None:
    service = load(write_catalogue_csv(200, seed=11), tmp_path / "shop.sqlite3")
    isbn = next(make_isbn(n) for n in range(200) if service.available(make_isbn(n)) >= 2)
    before = service.available(isbn)
    order_id = service.place_order("reader@example.org", {isbn: 2})
    service.cancel_order(order_id)
    assert service.available(isbn) == before
    service.session_factory.kw["bind"].dispose()


def test_large_catalogue_and_a_second_delivery(
    write_catalogue_csv: CatalogueWriter, tmp_path: Path, make_isbn: Callable[[int], str]
) -> None:
    """Slow on purpose: 4,000 titles into a database file, then a delivery of 1,500 more."""
    service = load(write_catalogue_csv(4_000, name="first.csv", seed=5), tmp_path / "shop.sqlite3")
    before = service.available(make_isbn(3_999))

    delivery = import_catalogue_file(write_catalogue_csv(5_500, name="second.csv", seed=5))
    summary = service.import_catalogue(delivery.rows[3_000:])
    assert (summary.created, summary.updated, summary.authors_created) == (1_500, 1_000, 0)
    assert service.available(make_isbn(3_999)) == 2 * before
    with service.session_factory() as session:
        assert BookRepository(session).count() == 5_500
    service.session_factory.kw["bind"].dispose()
