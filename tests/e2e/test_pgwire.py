"""suitekit's own PostgreSQL client against real servers (tests/unit/test_pgwire.py scripts one).

The server given to the tests (trust, in CI), and a throwaway one suitekit starts, which asks
for SCRAM-SHA-256: what suitekit's administration needs goes through this client, not psycopg,
and means the same as psycopg's would.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from suitekit.services import _pgwire, _postgres, _throwaway
from suitekit.services._endpoints import PostgresServer
from tests.e2e.isolation import MACHINE_POSTGRES, require_local_binaries, require_machine_services

TRICKY = ["it's", "back\\slash", "\\'", "'; DROP DATABASE postgres; --", "ünïcödé", "%s %%", ""]


@pytest.fixture
def given() -> PostgresServer:
    require_machine_services()
    return PostgresServer.from_url(MACHINE_POSTGRES)


@pytest.fixture(scope="module")
def scram() -> Iterator[PostgresServer]:
    require_local_binaries()
    bindir = _throwaway.find_postgres_bindir(os.environ)
    assert bindir is not None
    started = _throwaway.start_postgres(bindir, os.environ)
    try:
        yield PostgresServer.from_url(started.record.url)
    finally:
        started.stop()


@contextlib.contextmanager
def wire(server: PostgresServer) -> Iterator[_pgwire.Connection]:
    connection = _pgwire.connect(**server.connect_kwargs())  # type: ignore[arg-type]
    try:
        assert type(connection).__name__ == "_Wire", "psycopg was used"
        yield connection
    finally:
        connection.close()


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_literals_come_back_as_they_were_sent(given: PostgresServer, conforming: str) -> None:
    with wire(given) as connection:
        connection.execute(f"SET standard_conforming_strings = {conforming}")
        for text in TRICKY:
            assert connection.execute("SELECT %s", (text,)).fetchone() == (text,)
        row = connection.execute("SELECT %s, %s, %s, %s", (None, True, -(2**63), 7)).fetchone()
        assert row == (None, True, -(2**63), 7)


def test_a_database_named_with_quotes_is_made_and_dropped(given: PostgresServer) -> None:
    name = f'sk_pgwire_"q" {secrets.token_hex(4)}'
    _postgres.create_empty(given, name, "pgwire")
    try:
        with wire(given) as connection:
            with pytest.raises(_pgwire.Error) as exists:
                connection.execute(f"CREATE DATABASE {_pgwire.identifier(name)}")
            assert exists.value.sqlstate == "42P04"  # duplicate_database
            with psycopg.connect(MACHINE_POSTGRES) as other:
                comment = other.execute(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
                    " WHERE datname = %s",
                    (name,),
                ).fetchone()
        assert comment is not None
        assert '"run": "pgwire"' in comment[0]
    finally:
        _postgres.drop(given, name)
    assert _postgres.databases_with_prefix(given, name) == []


def test_a_statement_error_leaves_the_connection_usable(given: PostgresServer) -> None:
    with wire(given) as connection:
        with pytest.raises(_pgwire.Error, match="division by zero") as raised:
            connection.execute("SELECT 1/0")
        assert raised.value.sqlstate == "22012"
        assert connection.execute("SELECT 1; SELECT 'two'").fetchall() == [(1,)]
        assert connection.server_version >= 100000


def test_ctrl_c_cancels_a_waiting_statement_and_the_connection_goes_on(
    given: PostgresServer,
) -> None:
    main = threading.main_thread().ident
    assert main is not None
    with wire(given) as connection:
        timer = threading.Timer(0.5, signal.pthread_kill, (main, signal.SIGINT))
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        started = time.monotonic()
        try:
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                connection.execute("SELECT pg_sleep(60)")
        finally:
            timer.cancel()
            signal.signal(signal.SIGINT, previous)
        assert time.monotonic() - started < 30  # the server cancelled it
        assert connection.execute("SELECT 'after'").fetchone() == ("after",)


def test_scram_authentication_with_the_servers_password(scram: PostgresServer) -> None:
    assert scram.password
    with wire(scram) as connection:
        assert connection.execute("SELECT current_user").fetchone() == ("postgres",)
    wrong = PostgresServer(host=scram.host, port=scram.port, password="not-" + scram.password)
    # A refused password is left to libpq (it may find another in ~/.pgpass): its error says it.
    with pytest.raises(_pgwire.OperationalError, match="password authentication failed"):
        _pgwire.connect(**wrong.connect_kwargs()).close()  # type: ignore[arg-type]


def test_suitekit_checks_and_administers_a_server_without_loading_psycopg(
    scram: PostgresServer,
) -> None:
    code = (
        "import sys\n"
        "from suitekit.services import _postgres\n"
        "from suitekit.services._endpoints import PostgresServer\n"
        f"server = PostgresServer.from_url({scram.url()!r})\n"
        "_postgres.check(server.url())\n"
        "_postgres.create_empty(server, 'sk_pgwire_alone', 'pgwire')\n"
        "_postgres.drop(server, 'sk_pgwire_alone')\n"
        "assert _postgres.databases_with_prefix(server, 'sk_pgwire_alone') == []\n"
        "print('psycopg' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_psycopg_stands_in_with_the_same_interface_and_errors(
    given: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_pgwire, "_local", lambda _host: False)  # a server elsewhere
    connection = _pgwire.connect(**given.connect_kwargs())  # type: ignore[arg-type]
    try:
        assert type(connection).__name__ == "_Libpq"
        assert connection.server_version >= 100000
        assert connection.execute("SELECT %s, %s", ("it's", 7)).fetchone() == ("it's", 7)
        with pytest.raises(_pgwire.Error, match="division by zero") as raised:
            connection.execute("SELECT 1/0")
        assert raised.value.sqlstate == "22012"
        assert connection.execute("SELECT 1; SELECT 2").fetchall() == [(1,)]
    finally:
        connection.close()
    gone = PostgresServer(host=given.host, port=1, user=given.user)
    with pytest.raises(_pgwire.OperationalError):
        _pgwire.connect(**gone.connect_kwargs())  # type: ignore[arg-type]
