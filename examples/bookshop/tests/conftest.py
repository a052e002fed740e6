"""Fixtures shared by the unit and processing suites."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bookshop.db import Base, BookshopService, create_session_factory, make_engine
from bookshop.domain.isbn import isbn13_check_digit

IsbnFactory = Callable[[int], str]


def _isbn13(serial: int) -> str:
    body = f"978{serial:09d}"
    return body + isbn13_check_digit(body)


@pytest.fixture(scope="session")
def make_isbn() -> IsbnFactory:
    """A function turning a serial number into a valid, distinct ISBN-13."""
    return _isbn13


@pytest.fixture
def engine() -> Iterator[Engine]:
    """A fresh in-memory SQLite database with the whole schema."""
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return create_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def service(session_factory: sessionmaker[Session]) -> BookshopService:
    return BookshopService(session_factory)
