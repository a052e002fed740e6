"""A Django suite's template kept between runs on a persistent server (issue 13).

examples/library, copied, on the PostgreSQL server named for these tests. The first run (through
nox, which builds the session virtualenv) migrates the template and keeps it; the next one
clones it without migrating; a changed migration builds a new one and drops the old; two runs at
once build it once; ``suitekit clean --templates`` drops it. The copy's own folder makes the
project's mark unique, so only this test's templates are ever looked at or dropped; a note of
its own in one of its migrations makes the template's key unique too (a kept template is keyed
by its inputs, not its folder: another checkout of the example run on the same server, with the
same migrations, would have kept one this test's first run would reuse).
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from suitekit import _naming
from suitekit._model import Suite
from suitekit.services import _postgres
from suitekit.services._databases import Kept, marks, project_mark
from suitekit.services._endpoints import PostgresServer
from suitekit.services._postgres_backend import POSTGRES
from tests.e2e.helpers import Project, clean_env
from tests.e2e.isolation import MACHINE_POSTGRES, machine_env, require_machine_services

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "library"
IGNORED = shutil.ignore_patterns(".nox", "reports", ".venv*", "__pycache__", ".*_cache")
SUITE = ("--suitekit-suite=integration", "-p", "no:cacheprovider", "-n", "2")
KEEP = {"SUITEKIT_KEEP_TEMPLATE": "1"}  # the nested runs of the other tests keep none
MIGRATED = re.compile(r"^suitekit: django: migrated (sk_tpl_[0-9a-f]+) once in .*$", re.MULTILINE)
REUSED = re.compile(r"^suitekit: django: reused the kept template (sk_tpl_[0-9a-f]+)", re.MULTILINE)

FAILING = """\
def test_fails(db):
    assert False
"""


def _kept(project: str) -> dict[str, dict[str, str]]:
    """This project's kept templates on the server, with their marks."""
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
            " WHERE datname LIKE 'sk\\_tpl\\_%'"
        ).fetchall()
    found = {}
    for name, comment in rows:
        info = marks(comment)
        if info is not None and info.get("project") == project:
            found[str(name)] = info
    return found


def _left(run_id: str) -> list[str]:
    """The run's own databases (clones, a per-run template, Django's test_...)."""
    stem = f"{_naming.PREFIX}{_naming.slug(run_id, 20)}\\_"
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s OR datname LIKE %s",
            (stem + "%", "test\\_" + stem + "%"),
        ).fetchall()
    return sorted(row[0] for row in rows)


def _drop_all(names: list[str]) -> None:
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        for name in names:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _start(root: Path, python: Path, run_id: str) -> subprocess.Popen[str]:
    env = clean_env({**machine_env(), **KEEP, "SUITEKIT_RUN_ID": run_id})
    return subprocess.Popen(
        [str(python), "-m", "pytest", *SUITE],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _run(root: Path, python: Path, run_id: str) -> subprocess.CompletedProcess[str]:
    process = _start(root, python, run_id)
    out, _ = process.communicate(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, out, "")


def _touch_migration(root: Path, note: str) -> None:
    migration = root / "lending" / "migrations" / "0002_loans.py"
    migration.write_text(migration.read_text() + f"\n# {note}\n")


def test_a_kept_template_is_reused_rebuilt_on_change_built_once_and_cleaned(  # noqa: PLR0915 - one project's story, step by step
    tmp_path: Path,
) -> None:
    require_machine_services()
    root = tmp_path / f"library{secrets.token_hex(3)}"
    shutil.copytree(EXAMPLE, root, ignore=IGNORED)
    project = project_mark(root)
    tag = secrets.token_hex(3)
    _touch_migration(root, f"this copy: {tag}")
    try:
        # 1. Cold: the nox session builds its virtualenv, migrates the template and keeps it.
        env = {**machine_env(), **KEEP, "SUITEKIT_RUN_ID": f"kcold{tag}"}
        cold = Project(root).run("nox", "-s", "integration", env=env, timeout=900)
        out = cold.stdout + cold.stderr
        assert cold.returncode == 0, out
        assert "23 passed" in out, out
        built = MIGRATED.findall(out)
        assert len(built) == 1, out
        first = built[0]
        assert "kept for the next runs" in out, out
        kept = _kept(project)
        assert list(kept) == [first], kept
        assert kept[first]["kept"] == "true"
        assert kept[first]["suite"] == "integration"
        assert kept[first]["schema"]  # the settings' digest it was migrated for
        python = root / ".nox" / "integration-3-11" / "bin" / "python"

        # 2. Warm: the same inputs: cloned as it is, nothing migrated, nothing else left.
        warm = _run(root, python, f"kwarm{tag}")
        assert warm.returncode == 0, warm.stdout
        assert "23 passed" in warm.stdout, warm.stdout
        assert REUSED.findall(warm.stdout) == [first], warm.stdout
        assert MIGRATED.findall(warm.stdout) == [], warm.stdout
        # Copied for both workers while the controller set Django up, and kept: the template
        # was reused.
        assert "copied for 2 workers while Django was set up" in warm.stdout, warm.stdout
        assert _left(f"kwarm{tag}") == []
        assert list(_kept(project)) == [first]

        # 2b. The settings alone change (the installed apps' order): the template of the same
        # name is migrated again for them, though this run's early copies hold its use lock
        # (a second holder would count as another run, and the rebuild would be refused).
        # The copies begun before Django was set up are of the old one: they are dropped and
        # the workers get copies of the new one ("copied for 2 workers": copies that were
        # kept would not have been made again).
        settings = root / "library_site" / "settings.py"
        apps = '    "django.contrib.sessions",\n    "django.contrib.messages",\n'
        assert apps in settings.read_text()
        settings.write_text(
            settings.read_text().replace(apps, "".join(reversed(apps.splitlines(keepends=True))))
        )
        schema = _kept(project)[first]["schema"]
        resettled = _run(root, python, f"kset{tag}")
        assert resettled.returncode == 0, resettled.stdout
        assert "23 passed" in resettled.stdout, resettled.stdout
        assert MIGRATED.findall(resettled.stdout) == [first], resettled.stdout
        assert "kept for the next runs; copied for 2 workers\n" in resettled.stdout
        assert _left(f"kset{tag}") == []
        assert list(_kept(project)) == [first]
        assert _kept(project)[first]["schema"] != schema

        # 3. A failing run reuses it too and leaves nothing of its own.
        failing_test = root / "tests" / "integration" / "test_zz_fails.py"
        failing_test.write_text(FAILING)
        failing = _run(root, python, f"kfail{tag}")
        failing_test.unlink()
        assert failing.returncode == 1, failing.stdout
        assert "1 failed, 23 passed" in failing.stdout, failing.stdout
        assert REUSED.findall(failing.stdout) == [first], failing.stdout
        assert _left(f"kfail{tag}") == []
        assert list(_kept(project)) == [first]

        # 4. A changed migration: a new template, built once; the old one is dropped.
        _touch_migration(root, "changed")
        changed = _run(root, python, f"kchg{tag}")
        assert changed.returncode == 0, changed.stdout
        rebuilt = MIGRATED.findall(changed.stdout)
        assert len(rebuilt) == 1, changed.stdout
        second = rebuilt[0]
        assert second != first
        assert f"dropped the older {first}" in changed.stdout, changed.stdout
        assert list(_kept(project)) == [second]

        # 5. Two runs at once after another change: one builds, the other waits and reuses.
        _touch_migration(root, "changed again")
        both = [_start(root, python, f"kpar{n}{tag}") for n in range(2)]
        outs = [process.communicate(timeout=600)[0] for process in both]
        assert [process.returncode for process in both] == [0, 0], outs
        migrated = [name for out in outs for name in MIGRATED.findall(out)]
        reused = [name for out in outs for name in REUSED.findall(out)]
        assert len(migrated) == 1, outs
        assert reused == migrated, outs
        third = migrated[0]
        assert third not in (first, second)
        assert list(_kept(project)) == [third]
        for n in range(2):
            assert _left(f"kpar{n}{tag}") == []

        # 6. Plain clean keeps it (it is no run's leftover); clean --templates drops it.
        plain = Project(root).run("suitekit", "clean", env={**machine_env(), **KEEP})
        assert plain.returncode == 0, plain.stdout + plain.stderr
        assert list(_kept(project)) == [third]
        dropping = Project(root).run(
            "suitekit", "clean", "--templates", env={**machine_env(), **KEEP}
        )
        assert dropping.returncode == 0, dropping.stdout + dropping.stderr
        assert f"dropped kept template {third}" in dropping.stdout, dropping.stdout
        assert "1 kept template(s) dropped" in dropping.stdout, dropping.stdout
        assert _kept(project) == {}
    finally:
        _drop_all(list(_kept(project)))


def test_a_database_of_the_kept_name_that_suitekit_did_not_make_is_refused() -> None:
    """A database named like a kept template, without suitekit's mark: never used or dropped."""
    require_machine_services()
    from suitekit.errors import ServiceError  # noqa: PLC0415

    key = secrets.token_hex(12)
    name = f"sk_tpl_{key}"
    server = PostgresServer.from_url(MACHINE_POSTGRES)
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        kept = Kept(project="p" * 16, suite="s", key=key)
        with (
            pytest.raises(ServiceError, match=f"a database named {name} exists that suitekit did"),
            _postgres.building(server, name, create=("run", "s"), kept=kept),
        ):
            pass
        with pytest.raises(ServiceError, match=f"a database named {name} exists that suitekit"):
            _postgres.clone(server, name, f"sk_clone_{key}", "run", "test", suite="s")
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
            row = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            assert row.fetchone() is not None  # still there, untouched
    finally:
        _postgres.let_go()
        _drop_all([name, f"sk_clone_{key}"])


def _marks_of(name: str) -> dict[str, str] | None:
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    return None if row is None else marks(row[0])


@pytest.fixture
def kept_template() -> Iterator[tuple[str, Kept]]:
    """A complete kept template of a test's own on the machine's server (dropped after)."""
    require_machine_services()
    key = secrets.token_hex(12)
    template = f"sk_tpl_{key}"
    kept = Kept(project=secrets.token_hex(8), suite="s", key=key, schema="a")
    try:
        yield template, kept
    finally:
        _postgres.let_go()
        _postgres.settle()
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
            rows = admin.execute(
                "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
            ).fetchall()
        copies = [
            name for name, comment in rows if (marks(comment) or {}).get("copied-from") == template
        ]
        _drop_all([template, *copies])


def _server() -> PostgresServer:
    return PostgresServer.from_url(MACHINE_POSTGRES)


def _names(run_id: str) -> list[str]:
    return [_naming.database_name(run_id, "s", worker) for worker in ("gw0", "gw1")]


def _build(template: str, run_id: str, kept: Kept) -> None:
    """Build (create empty, then mark complete) the kept template for ``kept``'s schema."""
    with _postgres.building(_server(), template, create=(run_id, "s"), kept=kept) as build:
        assert build.fill


def test_early_copies_are_of_a_complete_kept_template_and_dropped_on_a_rebuild(
    kept_template: tuple[str, Kept],
) -> None:
    """The copies a controller begins at once (before Django is set up).

    None of a template that is not there; of a complete one, marked for the workers; dropped
    (``discard``) when the template is migrated again for other settings, which the run's one
    use lock, taken by the early copies, does not prevent.
    """
    template, kept = kept_template
    run_id = f"early{secrets.token_hex(4)}"
    names = _names(run_id)
    none = _postgres.copy_kept_early(_server(), template, names, create=(run_id, "s"), copies="t")
    assert none.result() == []
    assert none.held  # the use lock, taken before looking
    assert [_marks_of(name) for name in names] == [None, None]
    _postgres.let_go()

    _build(template, run_id, kept)
    early = _postgres.copy_kept_early(_server(), template, names, create=(run_id, "s"), copies="t")
    assert early.result() == names
    for name in names:
        info = _marks_of(name)
        assert info is not None
        assert info["role"] == "worker"
        assert info["copied-from"] == template
        assert info["copied-by"] == "t"

    # Migrated again for other settings, under this run's use lock (the early copies').
    _build(template, run_id, dataclasses.replace(kept, schema="b"))
    early.copied = names[:1]  # as if the second copy's error had hidden the first's name
    early.discard()  # every name asked for: a copy of the old template would be taken
    assert [_marks_of(name) for name in names] == [None, None]
    assert early.result() == []


def test_early_copies_wait_for_no_other_run_and_the_run_end_waits_for_them(
    kept_template: tuple[str, Kept],
) -> None:
    """A build under way is not waited for; a run's end waits for the copies being made."""
    template, kept = kept_template
    _build(template, "builder", kept)
    # Another run rebuilds the template now (its build lock taken): nothing is waited for,
    # nothing copied; the run copies later, as usual.
    run_id = f"early{secrets.token_hex(4)}"
    names = _names(run_id)
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as builder:
        builder.execute("SELECT pg_advisory_lock(%s)", (_postgres._build_lock(template),))
        started = time.monotonic()
        busy = _postgres.copy_kept_early(
            _server(), template, names, create=(run_id, "s"), copies="t"
        )
        assert busy.result() == []
        _postgres.settle()
        assert time.monotonic() - started < 60  # a hang guard: it would wait for the builder
    assert [_marks_of(name) for name in names] == [None, None]
    _postgres.let_go()

    # The run ends (a Ctrl-C) while its early copies are being made: its end waits for them,
    # then drops them with the rest of the run's databases.
    late = f"late{secrets.token_hex(4)}"
    server = _server()
    ending = _postgres.copy_kept_early(
        server, template, _names(late), create=(late, "s"), copies="t"
    )
    POSTGRES.finish_run(Suite(name="s"), late, MACHINE_POSTGRES)
    ending.result()  # (long since done: the end waited)
    assert [_marks_of(name) for name in _names(late)] == [None, None]
    assert _left(late) == []
