"""The worker's database (its URL and schema), and that the worker starts with nothing stored."""

from __future__ import annotations

from pathlib import Path

import redis
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from suitekit.services import WorkerResources

from bookshop.db import Base

from .conftest import ENGINE, ENGINE_URL, TABLES, row_counts


def test_import_time_url_names_this_workers_database(suitekit_worker: WorkerResources) -> None:
    # ENGINE_URL was read when conftest.py was imported: suitekit must already have
    # pointed DATABASE_URL at this worker's own clone of the template by then.
    assert suitekit_worker.database
    assert make_url(ENGINE_URL).database == suitekit_worker.database
    assert ENGINE.url.database == suitekit_worker.database
    assert (ENGINE.dialect.name, ENGINE.dialect.driver) == ("postgresql", "psycopg")


def test_schema_is_migrated_to_head() -> None:
    with ENGINE.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == "0002"
    assert set(inspect(ENGINE).get_table_names()) == {*Base.metadata.tables, "alembic_version"}


def test_database_redis_and_media_start_empty(redis_client: redis.Redis, media_root: Path) -> None:
    assert row_counts() == dict.fromkeys(TABLES, 0)
    assert redis_client.dbsize() == 0
    assert list(media_root.iterdir()) == []
