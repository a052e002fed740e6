"""A project whose integration tests collide unless every worker has its own services."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from suitekit.services._endpoints import PostgresServer, RedisServer
from tests.e2e.helpers import Project, clean_env

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _given_servers() -> tuple[str, str, str]:
    """The PostgreSQL and Redis servers these tests may use, and where they come from.

    Only servers named for this purpose, never whatever listens on 5432/6379 (a contributor's
    own servers): ``SUITEKIT_TEST_POSTGRES_URL`` / ``SUITEKIT_TEST_REDIS_URL`` when set, else
    the servers suitekit provides to this e2e worker (pyproject.toml declares ``services`` for
    the suite: throwaway servers, unless the environment names servers of its own). The worker
    is given a database and a Redis database of its own; the tests need the server.
    """
    postgres = os.environ.get("SUITEKIT_TEST_POSTGRES_URL", "")
    redis = os.environ.get("SUITEKIT_TEST_REDIS_URL", "")
    source = "SUITEKIT_TEST_POSTGRES_URL / SUITEKIT_TEST_REDIS_URL"
    worker_postgres = os.environ.get("SUITEKIT_TEST_WORKER_POSTGRES_URL", "")
    worker_redis = os.environ.get("SUITEKIT_TEST_WORKER_REDIS_URL", "")
    if os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL"):
        # The suite's services would have taken these (a contributor's own servers, named for
        # their other work; noxfile.py and tasks.py drop them, a bare pytest run does not).
        worker_postgres = worker_redis = ""
    if not postgres and worker_postgres:
        postgres = PostgresServer.from_url(worker_postgres).url("postgres")
        source = "the servers suitekit provides to the e2e suite"
    if not redis and worker_redis:
        redis = RedisServer.from_url(worker_redis).url(0)
        source = "the servers suitekit provides to the e2e suite"
    return postgres, redis, source


MACHINE_POSTGRES, MACHINE_REDIS, _SOURCE = _given_servers()

PYPROJECT = """\
[project]
name = "collide"
version = "0.1"

[tool.pytest.ini_options]
addopts = ["--strict-markers", "-p", "no:cacheprovider"]

[tool.suitekit]

[tool.suitekit.suites.integration]
paths = ["tests/integration"]
workers = 4
dist = "load"
services = ["postgres", "redis"]

[tool.suitekit.services.postgres]
setup = [
  { sql = "CREATE TABLE items (id integer PRIMARY KEY, owner text NOT NULL)" },
  "python seed.py",
]
env = { APP_DB_URL = "{url}", APP_DB_NAME = "{database}", DATABASE_URL = "{url}" }

[tool.suitekit.isolation]
dirs = ["MEDIA_ROOT"]
ports = 3
"""

SEED = """\
import os

import psycopg

with psycopg.connect(os.environ["APP_DB_URL"], autocommit=True) as db:
    db.execute("INSERT INTO items VALUES (0, 'seed')")
"""

CONFTEST = """\
import os

# Read at import time, as settings modules do: it must already be this worker's database.
IMPORT_TIME_URL = os.environ["DATABASE_URL"]
"""

TESTS = """\
import os
import pathlib
import time

import psycopg
import pytest
import redis

from conftest import IMPORT_TIME_URL

# Built at run time: a set display of constants compiles to a frozenset constant whose order in
# a cached .pyc is the compiling process's, so workers that load the .pyc a sibling wrote and
# workers that compile the source could disagree whatever the seed.
WORDS = set(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])


def _db():
    return psycopg.connect(IMPORT_TIME_URL, autocommit=True)


@pytest.mark.parametrize("word", WORDS)  # a set: workers agree only with one PYTHONHASHSEED
def test_fixed_row(word):
    with _db() as db:
        db.execute("INSERT INTO items VALUES (1, %s)", (word,))
        time.sleep(0.05)
        rows = db.execute("SELECT owner FROM items WHERE id > 0").fetchall()
        db.execute("DELETE FROM items WHERE id = 1")
    assert rows == [(word,)]


@pytest.mark.parametrize("n", range(6))
def test_fixed_cache_key(n):
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        assert client.set("book:9780000000001", str(n), nx=True)
        time.sleep(0.05)
        assert client.get("book:9780000000001") == str(n).encode()
    finally:
        client.delete("book:9780000000001")
        client.close()


@pytest.mark.parametrize("n", range(6))
def test_fixed_file(n):
    media = pathlib.Path(os.environ["MEDIA_ROOT"])
    cover = media / "covers" / "cover.png"
    cover.parent.mkdir(exist_ok=True)
    cover.write_text(str(n))
    time.sleep(0.05)
    assert sorted(p.name for p in media.rglob("*") if p.is_file()) == ["cover.png"]
    assert cover.read_text() == str(n)
    cover.unlink()


def test_import_time_url_is_this_workers_database(suitekit_worker):
    assert IMPORT_TIME_URL == os.environ["DATABASE_URL"]
    assert IMPORT_TIME_URL.rsplit("/", 1)[1] == suitekit_worker.database
    assert os.environ["APP_DB_NAME"] == suitekit_worker.database
    with _db() as db:
        assert db.execute("SELECT current_database()").fetchone() == (suitekit_worker.database,)
        # the setup ran once into the template, and every clone has its seed row
        assert db.execute("SELECT owner FROM items WHERE id = 0").fetchone() == ("seed",)
    assert len(suitekit_worker.ports) == 3
"""


def make_collide_project(root: Path, *, extra_tests: str = "") -> Project:
    project = Project(root)
    project.write("pyproject.toml", PYPROJECT)
    project.write("seed.py", SEED)
    project.write("tests/integration/conftest.py", CONFTEST)
    project.write("tests/integration/test_collide.py", TESTS + extra_tests)
    return project


def machine_env() -> dict[str, str]:
    return {"DATABASE_URL": MACHINE_POSTGRES, "REDIS_URL": MACHINE_REDIS}


def require_machine_services() -> None:
    """The given PostgreSQL and Redis: a skip without them, a failure in CI."""
    import psycopg  # noqa: PLC0415
    import redis  # noqa: PLC0415

    if not (MACHINE_POSTGRES and MACHINE_REDIS):
        reason = (
            "no PostgreSQL and Redis server was given to these tests: run them through "
            "`nox -s e2e` or `inv test.e2e` (suitekit provides the servers), or name servers "
            "of your own with SUITEKIT_TEST_POSTGRES_URL and SUITEKIT_TEST_REDIS_URL"
        )
        if CI:
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        psycopg.connect(MACHINE_POSTGRES, connect_timeout=5).close()
        redis.Redis.from_url(MACHINE_REDIS, socket_connect_timeout=5).ping()
    except (psycopg.Error, redis.RedisError) as error:
        if CI:
            pytest.fail(f"CI must provide PostgreSQL and Redis ({_SOURCE}): {error}")
        pytest.skip(f"the PostgreSQL/Redis given by {_SOURCE} do not answer: {error}")


def require_local_binaries() -> None:
    """suitekit's throwaway servers need local binaries: a skip without them, a failure in CI."""
    from suitekit.services._throwaway import find_postgres_bindir, find_redis_server  # noqa: PLC0415

    if find_postgres_bindir(os.environ) is None or find_redis_server(os.environ) is None:
        if CI:
            pytest.fail("CI must have PostgreSQL's server binaries and redis-server")
        pytest.skip("no PostgreSQL server binaries or redis-server here")


def run_pytest(
    project: Project,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=project.root,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_pytest(
    project: Project, args: Sequence[str], env: Mapping[str, str]
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", *args],
        cwd=project.root,
        env=clean_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def suitekit_databases(run_id: str | None = None, *, prefix: bool = False) -> list[str]:
    """Databases on the given server that carry suitekit's comment (of one run).

    With ``prefix``, of every run whose id starts with ``run_id`` (a nox session adds
    ``-py<version>`` to the run id it is given).
    """
    import psycopg  # noqa: PLC0415

    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
        ).fetchall()
    found = []
    for name, comment in rows:
        if isinstance(comment, str) and comment.startswith("suitekit "):
            info = json.loads(comment.removeprefix("suitekit "))
            run = str(info.get("run", ""))
            if run_id is None or run == run_id or (prefix and run.startswith(f"{run_id}-")):
                found.append(name)
    return found


def databases_named_for(run_id: str, suite: str) -> list[str]:
    """Every database on the given server named for one run's suite, marked or not.

    A worker killed while the server created its database leaves it without suitekit's
    comment: :func:`suitekit_databases` would not see it.
    """
    from suitekit._naming import database_prefix  # noqa: PLC0415
    from suitekit.services._postgres import databases_with_prefix  # noqa: PLC0415

    server = PostgresServer.from_url(MACHINE_POSTGRES)
    return [name for name, _ in databases_with_prefix(server, database_prefix(run_id, suite))]


def redis_leases(run_id: str, *, prefix: bool = False) -> list[str]:
    """Leases on the given Redis of one run (of every run whose id starts so, with ``prefix``)."""
    import redis  # noqa: PLC0415

    client = redis.Redis.from_url(MACHINE_REDIS, decode_responses=True)
    try:
        found = []
        for key in client.scan_iter("suitekit:lease:*"):
            run = str(json.loads(str(client.get(key))).get("run", ""))
            if run == run_id or (prefix and run.startswith(f"{run_id}-")):
                found.append(key)
        return found
    finally:
        client.close()
