"""The integration suite: the real application against PostgreSQL, Redis and MEDIA_ROOT.

These tests are written the way application tests usually are: fixed rows (author ``id=1``,
one well-known ISBN, ``ada@example.com``), fixed cache keys and fixed file names, and every
test leaves the database, the Redis database and the media folder empty for the next one.
That makes them deterministic within one database, in any order, and means they cannot share
a database, a Redis database or a folder with another process running the same tests. Run
through suitekit (``nox -s integration``, ``pytest --suitekit-suite=integration``), each xdist
worker gets its own clone of the migrated template database, its own Redis logical database
and its own ``MEDIA_ROOT``, before this file is imported.

The engine is built from ``DATABASE_URL`` at import time, as many applications' test set-ups
do: suitekit has already pointed it at this worker's database by then.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bookshop import settings
from bookshop.cache import Cache, client_from_env
from bookshop.db import BookshopService, create_session_factory, make_engine

ENGINE_URL = os.environ["DATABASE_URL"]
# A lock wait that long is a bug in a test (two of its own sessions waiting on each other),
# not a slow database: fail instead of hanging the run.
ENGINE: Engine = make_engine(ENGINE_URL, connect_args={"options": "-c lock_timeout=10s"})
SESSIONS: sessionmaker[Session] = create_session_factory(ENGINE)

TABLES = ("order_lines", "orders", "stock", "books", "authors", "customers")

# The book most tests talk about.
PRIDE_ISBN = "9780141439518"
PRIDE_TITLE = "Pride and Prejudice"


@pytest.fixture(scope="session", autouse=True)
def _dispose_engine() -> Iterator[None]:
    yield
    ENGINE.dispose()


def a_later_request() -> None:
    """What one request wrote is read back by a later one, not in the same instant."""
    time.sleep(0.08)


def empty_database() -> None:
    """Delete every row and restart the id sequences, so the next test's ids start at 1."""
    with ENGINE.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))


def row_counts() -> dict[str, int]:
    with ENGINE.connect() as connection:
        return {
            table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in TABLES
        }


@pytest.fixture
def sessions() -> Iterator[sessionmaker[Session]]:
    """Sessions on the bookshop database; every table is emptied after the test."""
    yield SESSIONS
    empty_database()


@pytest.fixture
def service(sessions: sessionmaker[Session]) -> BookshopService:
    """The service layer on PostgreSQL (overrides the SQLite one of ``tests/conftest.py``)."""
    return BookshopService(sessions)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """A client for ``REDIS_URL``; its database is flushed after the test."""
    client = client_from_env()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def cache(redis_client: redis.Redis) -> Cache:
    return Cache(redis_client)


@pytest.fixture
def media_root() -> Iterator[Path]:
    """``MEDIA_ROOT``; whatever the test wrote there is removed after it."""
    root = settings.media_root()
    root.mkdir(parents=True, exist_ok=True)
    yield root
    for entry in root.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
