"""Engine and session creation.

The database URL is read from ``DATABASE_URL`` when
:func:`create_engine_from_env` is called, never at import time.

A PostgreSQL URL without a driver (``postgresql://...``, as libpq, Docker images and
test runners write it, or Heroku's ``postgres://...``) is given the psycopg 3 driver
(``postgresql+psycopg://...``): SQLAlchemy would otherwise pick psycopg2, which bookshop
does not depend on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bookshop import settings

POSTGRES_DRIVER = "psycopg"
_DRIVERLESS_POSTGRES_SCHEMES = ("postgresql", "postgres")


def sqlalchemy_url(url: str) -> str:
    """``url`` with the psycopg 3 driver if it is a PostgreSQL URL that names no driver.

    Other URLs (SQLite, or PostgreSQL with an explicit driver) are returned unchanged.
    """
    scheme, separator, rest = url.partition("://")
    if separator and scheme.lower() in _DRIVERLESS_POSTGRES_SCHEMES:
        return f"postgresql+{POSTGRES_DRIVER}://{rest}"
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (see :func:`sqlalchemy_url` for driverless URLs).

    For SQLite, foreign keys are switched on, and an in-memory database
    (``sqlite://``) is shared by all sessions of the engine.
    """
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:", "sqlite+pysqlite://"):
            kwargs.setdefault("poolclass", StaticPool)
            kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _enable_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(sqlalchemy_url(url), **kwargs)


def create_engine_from_env(env: Mapping[str, str] | None = None, **kwargs: Any) -> Engine:
    """Create an engine from ``DATABASE_URL``.

    Raises :class:`bookshop.settings.MissingSettingError` when it is unset.
    """
    return make_engine(settings.database_url(env), **kwargs)


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
