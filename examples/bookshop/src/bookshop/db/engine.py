"""Engine and session creation.

The database URL is read from ``DATABASE_URL`` when
:func:`create_engine_from_env` is called, never at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bookshop import settings


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``.

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
    return create_engine(url, **kwargs)


def create_engine_from_env(env: Mapping[str, str] | None = None, **kwargs: Any) -> Engine:
    """Create an engine from ``DATABASE_URL``.

    Raises :class:`bookshop.settings.MissingSettingError` when it is unset.
    """
    return make_engine(settings.database_url(env), **kwargs)


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
