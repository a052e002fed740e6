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
import threading
import time

import psycopg
import pytest

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
                psycopg.connect(MACHINE_POSTGRES, autocommit=True) as connection,
                pytest.raises(ServiceError) as refused,
            ):
                _postgres._prepare_kept(
                    connection, name, "handoff", dataclasses.replace(kept, rebuild=True)
                )
            assert f"the kept template {name} cannot be built again now" in str(refused.value)
            assert "SUITEKIT_KEEP_TEMPLATE=0" in str(refused.value)
            assert _exists(name)  # the other run's copy is safe
        # The other run has ended: the rebuild goes ahead.
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as connection:
            assert _postgres._prepare_kept(
                connection, name, "handoff", dataclasses.replace(kept, rebuild=True)
            )
    finally:
        _postgres.let_go()
        _drop(name)
