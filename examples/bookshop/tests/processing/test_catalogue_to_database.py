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
