"""The hand-off between a template built while the workers start and their clones.

A Django suite's controller creates and migrates the template only once xdist has started the
workers (suitekit.pytest_plugin._django); a worker's clone may ask for it before it exists. These
tests drive suitekit's own functions against a real server: the clone waits for the template
and copies it only complete, a template that never comes is a clear error, and a build that
fails leaves nothing.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import subprocess
import threading
import time
from collections.abc import Callable

import psycopg
import pytest
from psycopg import sql

from suitekit.errors import ServiceError
from suitekit.services import _postgres
from suitekit.services._endpoints import PostgresServer
from tests.e2e.isolation import MACHINE_POSTGRES, require_machine_services


def _names() -> tuple[str, str]:
    token = secrets.token_hex(4)
    return f"sk_handoff_tpl_{token}", f"sk_handoff_clone_{token}"


def _drop(*names: str) -> None:
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _exists(name: str) -> bool:
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        row = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def test_a_clone_asked_for_before_its_template_exists_copies_it_complete() -> None:
    require_machine_services()
    server = PostgresServer.from_url(MACHINE_POSTGRES)
    template, clone = _names()
    errors: list[BaseException] = []

    def clone_it() -> None:
        try:
            _postgres.clone(server, template, clone, "handoff", "test", suite="handoff")
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    worker = threading.Thread(target=clone_it)
    try:
        worker.start()  # the template does not exist yet: the clone waits for it
        time.sleep(0.3)
        assert worker.is_alive()
        with _postgres.building(server, template, create=("handoff", "handoff")):
            with psycopg.connect(server.url(template), autocommit=True) as filling:
                filling.execute("CREATE TABLE migrated (id integer)")
                time.sleep(0.3)  # the clone sees the template now, but waits for the lock
                filling.execute("INSERT INTO migrated VALUES (1)")
            assert worker.is_alive()
        worker.join(timeout=30)
        assert not worker.is_alive()
        assert errors == []
        with psycopg.connect(server.url(clone)) as copied:
            assert copied.execute("SELECT id FROM migrated").fetchall() == [(1,)]
    finally:
        worker.join(timeout=30)
        _drop(clone, template)


def test_a_template_that_never_comes_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    require_machine_services()
    monkeypatch.setattr(_postgres, "_TEMPLATE_WAIT_SECONDS", 0.5)
    server = PostgresServer.from_url(MACHINE_POSTGRES)
    template, clone = _names()
    try:
        with pytest.raises(ServiceError, match=f"the template database {template} was never"):
            _postgres.clone(server, template, clone, "handoff", "test", suite="handoff")
        assert not _exists(clone)
    finally:
        _drop(clone, template)


def test_a_build_that_fails_drops_the_template_it_created() -> None:
    require_machine_services()
    server = PostgresServer.from_url(MACHINE_POSTGRES)
    template, _ = _names()
    seen: list[bool] = []

    def build_and_fail() -> None:
        with _postgres.building(server, template, create=("handoff", "handoff")):
            seen.append(_exists(template))
            raise RuntimeError("migration failed")

    try:
        with pytest.raises(RuntimeError, match="migration failed"):
            build_and_fail()
        assert seen == [True]
        assert not _exists(template)
    finally:
        _drop(template)


def test_a_kept_template_another_run_clones_is_not_rebuilt_under_it() -> None:
    """--reinstall (or other settings) while another run holds the kept template: refused."""
    require_machine_services()
    from suitekit.services._databases import Kept  # noqa: PLC0415

    server = PostgresServer.from_url(MACHINE_POSTGRES)
    name = f"sk_tpl_handoff{secrets.token_hex(6)}"
    kept = Kept(project="p", suite="handoff", key=name.removeprefix("sk_tpl_"))
    marks = {"run": "handoff", "role": "template", **kept.marks("true")}
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        admin.execute(f"COMMENT ON DATABASE \"{name}\" IS 'suitekit {json.dumps(marks)}'")
    try:
        _postgres.hold(server, name)  # this run's own hold
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as other:
            other.execute("SELECT pg_advisory_lock_shared(%s)", (_postgres._use_lock(name),))
            with (
                _postgres._admin(server) as connection,
                pytest.raises(ServiceError) as refused,
            ):
                _postgres._prepare_kept(
                    connection, name, "handoff", dataclasses.replace(kept, rebuild=True)
                )
            assert f"the kept template {name} cannot be built again now" in str(refused.value)
            assert "SUITEKIT_KEEP_TEMPLATE=0" in str(refused.value)
            assert _exists(name)  # the other run's copy is safe
        # The other run has ended: the rebuild goes ahead.
        with _postgres._admin(server) as connection:
            assert _postgres._prepare_kept(
                connection, name, "handoff", dataclasses.replace(kept, rebuild=True)
            )
    finally:
        _postgres.let_go()
        _drop(name)


def _marks(name: str) -> dict[str, str]:
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    assert row is not None, name
    marks: dict[str, str] = json.loads(str(row[0]).removeprefix(_postgres.COMMENT_PREFIX))
    return marks


def _template(server: PostgresServer, template: str) -> None:
    """A complete template of run ``handoff`` with one row in a table."""
    with (
        _postgres.building(server, template, create=("handoff", "handoff")),
        psycopg.connect(server.url(template), autocommit=True) as filling,
    ):
        filling.execute("CREATE TABLE migrated (id integer)")
        filling.execute("INSERT INTO migrated VALUES (1)")


def test_a_copy_the_controller_made_is_the_one_its_worker_takes() -> None:
    """preclone copies the template for the workers; take_or_clone uses that very database."""
    require_machine_services()
    server = PostgresServer.from_url(MACHINE_POSTGRES)
    template, clone = _names()
    try:
        _template(server, template)
        made = _postgres.preclone(
            server, template, [clone], "handoff", suite="handoff", copies="token-1"
        )
        assert made == [clone]
        marks = _marks(clone)
        assert (marks["run"], marks["role"], marks["suite"]) == ("handoff", "worker", "handoff")
        with psycopg.connect(server.url(clone), autocommit=True) as copy:
            copy.execute("INSERT INTO migrated VALUES (2)")  # the worker must see this one
        # A second call leaves the existing copy alone: its owner (this process) is alive.
        assert (
            _postgres.preclone(
                server, template, [clone], "handoff", suite="handoff", copies="token-1"
            )
            == []
        )
        _postgres.take_or_clone(
            server, template, clone, "handoff", "test", suite="handoff", copies="token-1"
        )
        with psycopg.connect(server.url(clone)) as taken:
            rows = taken.execute("SELECT id FROM migrated ORDER BY id").fetchall()
        assert rows == [(1,), (2,)]
    finally:
        _drop(clone, template)


def test_a_leftover_of_the_same_name_is_replaced_by_a_fresh_copy() -> None:
    """Not this controller's copy for this run: dropped, and the template copied afresh.

    Another run's copy, a worker's own clone, and a copy of this run id by another controller
    (a run re-run with the same SUITEKIT_RUN_ID after a kill: the token differs).
    """
    require_machine_services()
    server = PostgresServer.from_url(MACHINE_POSTGRES)
    template, clone = _names()
    leftovers: dict[str, Callable[[], object]] = {
        "another run's copy": lambda: _postgres.preclone(
            server, template, [clone], "another-run", suite="handoff", copies="token-1"
        ),
        "a worker's own clone": lambda: _postgres.clone(
            server, template, clone, "handoff", "test", suite="handoff"
        ),
        "another controller's copy": lambda: _postgres.preclone(
            server, template, [clone], "handoff", suite="handoff", copies="token-0"
        ),
    }
    try:
        _template(server, template)
        for what, leave in leftovers.items():
            leave()
            with psycopg.connect(server.url(clone), autocommit=True) as stale:
                stale.execute("INSERT INTO migrated VALUES (99)")
            _postgres.take_or_clone(
                server, template, clone, "handoff", "test", suite="handoff", copies="token-1"
            )
            with psycopg.connect(server.url(clone)) as fresh:
                assert fresh.execute("SELECT id FROM migrated").fetchall() == [(1,)], what
            assert "copied-from" not in _marks(clone), what
            _drop(clone)
    finally:
        _drop(clone, template)


def test_the_controller_copies_again_what_a_gone_process_left() -> None:
    """A copy of this run id whose owner is gone (a killed controller's) is replaced."""
    require_machine_services()
    server = PostgresServer.from_url(MACHINE_POSTGRES)
    template, clone = _names()
    try:
        _template(server, template)
        _postgres.preclone(server, template, [clone], "handoff", suite="handoff", copies="old")
        with psycopg.connect(server.url(clone), autocommit=True) as stale:
            stale.execute("INSERT INTO migrated VALUES (666)")
        marks = _marks(clone)
        dead = subprocess.Popen(["true"])  # a pid that has ended
        dead.wait()
        marks["owner"] = f"{marks['owner'].rsplit(':', 1)[0]}:{dead.pid}"
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
            comment = _postgres.COMMENT_PREFIX + json.dumps(marks)
            admin.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(clone), sql.Literal(comment)
                )
            )
        made = _postgres.preclone(
            server, template, [clone], "handoff", suite="handoff", copies="new"
        )
        assert made == [clone]
        _postgres.take_or_clone(
            server, template, clone, "handoff", "test", suite="handoff", copies="new"
        )
        with psycopg.connect(server.url(clone)) as taken:
            assert taken.execute("SELECT id FROM migrated").fetchall() == [(1,)]
    finally:
        _drop(clone, template)


def test_the_controller_leaves_alone_a_database_its_worker_is_copying() -> None:
    """A worker holding its copy's lock makes its own: preclone skips it without waiting."""
    require_machine_services()
    server = PostgresServer.from_url(MACHINE_POSTGRES)
    template, clone = _names()
    try:
        _template(server, template)
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as worker:
            worker.execute("SELECT pg_advisory_lock(%s)", (_postgres._copy_lock(clone),))
            started = time.monotonic()
            made = _postgres.preclone(
                server, template, [clone], "handoff", suite="handoff", copies="token-1"
            )
            assert made == []
            assert time.monotonic() - started < 5
        assert not _exists(clone)
    finally:
        _drop(clone, template)


def test_many_copies_are_made_side_by_side() -> None:
    """Every worker's database is copied, and each is a whole copy of the template."""
    require_machine_services()
    server = PostgresServer.from_url(MACHINE_POSTGRES)
    template, clone = _names()
    names = [f"{clone}_gw{n}" for n in range(10)]
    try:
        _template(server, template)
        made = _postgres.preclone(server, template, names, "handoff", suite="handoff", copies="t")
        assert made == names
        for name in names:
            with psycopg.connect(server.url(name)) as copy:
                assert copy.execute("SELECT id FROM migrated").fetchall() == [(1,)]
    finally:
        _drop(*names, template)


def test_a_template_a_killed_run_of_the_same_id_left_is_built_again() -> None:
    """A run re-run with the same run id replaces its own leftover template, nothing else's."""
    require_machine_services()
    server = PostgresServer.from_url(MACHINE_POSTGRES)
    template, other = _names()
    try:
        _template(server, template)  # as a killed run of id "handoff" left it: rows and all
        with psycopg.connect(server.url(template), autocommit=True) as stale:
            stale.execute("INSERT INTO migrated VALUES (666)")
        with _postgres.building(server, template, create=("handoff", "handoff")):
            with psycopg.connect(server.url(template)) as fresh:
                found = fresh.execute(
                    "SELECT count(*) FROM pg_tables WHERE tablename = 'migrated'"
                ).fetchone()
            assert found == (0,)  # an empty database again, for this run to fill
        # Another run's template of that name (or one not suitekit's) is refused, and kept.
        _template(server, other)
        with (
            pytest.raises(ServiceError, match=f"a database named {other} exists"),
            _postgres.building(server, other, create=("another-run", "handoff")),
        ):
            pass
        assert _exists(other)
    finally:
        _drop(template, other)
