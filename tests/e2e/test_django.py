"""A Django project with pytest-django under suitekit: one migration, a clone per worker, no leak.

The project is examples/library, copied, on the PostgreSQL server named for these tests
(``SUITEKIT_TEST_POSTGRES_URL``). One nox run builds its session virtualenv (Django and
pytest-django from the index) and is the green run; the failing, Ctrl-C and SIGKILL runs use
that virtualenv's pytest directly. Every run has its own ``SUITEKIT_RUN_ID``, so what is left
can be told apart from the databases of other runs on the same server.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from suitekit import _naming
from tests.e2e.helpers import Project, clean_env
from tests.e2e.isolation import MACHINE_POSTGRES, machine_env, require_machine_services

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "library"
IGNORED = shutil.ignore_patterns(".nox", "reports", ".venv*", "__pycache__", ".*_cache")
SUITE = ("--suitekit-suite=integration", "-p", "no:cacheprovider")
# The run's own template, dropped at its end, as these tests check: on this persistent server a
# Django suite would keep it between runs otherwise (tests/e2e/test_django_kept_template.py).
PER_RUN = {"SUITEKIT_KEEP_TEMPLATE": "0"}

# Each worker says which database Django's tests use, and when its migrations were applied.
PROBE = """\
import json
import os
import pathlib

import pytest

# What this conftest saw when it was imported: its process's own database, never the template.
IMPORT_URL = os.environ.get("DATABASE_URL", "")


@pytest.fixture(scope="session", autouse=True)
def _probe(django_db_setup, django_db_blocker):
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        (current,) = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), min(applied)::text, max(applied)::text FROM django_migrations"
        )
        count, first, last = cursor.fetchone()
    folder = pathlib.Path(os.environ["PROBE_DIR"])
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    record = {"name": connection.settings_dict["NAME"], "current": current, "count": count,
              "first": first, "last": last, "import_url": IMPORT_URL,
              "url": os.environ.get("DATABASE_URL", "")}
    (folder / f"{worker}.json").write_text(json.dumps(record))
"""

FAILING = """\
from lending.models import Book


def test_fails(db):
    Book.objects.create(isbn="9780000000009", title="Broken", author="Anon")
    assert Book.objects.count() == 2
"""

HOLD = """\
import os
import pathlib
import time

import pytest


@pytest.mark.parametrize("n", range(2))
def test_hold(db, n):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (pathlib.Path(os.environ["PROBE_DIR"]) / f"holding-{worker}").touch()
    time.sleep(120)
"""


def _left(run_id: str) -> list[str]:
    """Databases of this run on the server: suitekit's ``sk_...`` and Django's ``test_sk_...``."""
    stem = f"{_naming.PREFIX}{_naming.slug(run_id, 20)}\\_"
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s OR datname LIKE %s",
            (stem + "%", "test\\_" + stem + "%"),
        ).fetchall()
    return sorted(row[0] for row in rows)


def _create(name: str) -> None:
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop(name: str) -> None:
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def _hold(root: Path, python: Path, run_id: str, probe: Path) -> subprocess.Popen[str]:
    """A run whose two workers hold their databases in a test, until a signal comes."""
    env = {**machine_env(), **PER_RUN, "SUITEKIT_RUN_ID": run_id, "PROBE_DIR": str(probe)}
    process = subprocess.Popen(
        [str(python), "-m", "pytest", *SUITE, "-n", "2", "tests/integration/test_hold.py"],
        cwd=root,
        env=clean_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while len(list(probe.glob("holding-*"))) < 2:
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            out = process.communicate()[0]
            pytest.fail(f"the workers never held their databases:\n{out}")
        time.sleep(0.1)
    return process


def test_django_project_migrates_once_uses_a_clone_per_worker_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    require_machine_services()
    root = tmp_path / "library"
    shutil.copytree(EXAMPLE, root, ignore=IGNORED)
    (root / "tests" / "integration" / "conftest.py").write_text(PROBE)
    tag = secrets.token_hex(3)
    python = _green(Project(root), tmp_path, tag)
    _failing(root, python, tmp_path, tag)
    _serial_then_auto_workers(root, python, tmp_path, tag)
    _settings_elsewhere(root, python, tmp_path, tag)
    _own_db_setup(root, python, tmp_path, tag)
    _unreachable(root, python, tmp_path)
    (root / "tests" / "integration" / "test_hold.py").write_text(HOLD)
    _interrupted(root, python, tmp_path, tag)
    _killed(Project(root), python, tmp_path, tag)


def _green(project: Project, tmp_path: Path, tag: str) -> Path:
    """Green, through nox; returns the session virtualenv's python, built by this run."""
    root = project.root
    # Green, through nox: the session virtualenv is built here (Django, pytest-django).
    probe = tmp_path / "green"
    probe.mkdir()
    run_id = f"djgreen{tag}"
    env = {**machine_env(), **PER_RUN, "SUITEKIT_RUN_ID": run_id, "PROBE_DIR": str(probe)}
    green = project.run("nox", "-s", "integration", env=env, timeout=900)
    out = green.stdout + green.stderr
    assert green.returncode == 0, out
    assert "23 passed" in out, out
    # A nox session names its run after the given id and its Python (run <id>-py3.11).
    found = re.search(r"^suitekit: run (\S+);", out, re.MULTILINE)
    assert found is not None, out
    run_id = found.group(1)
    assert run_id.startswith(f"djgreen{tag}"), out
    # The template was migrated once, in the controller, before the workers cloned it.
    template = _naming.template_name(run_id, "integration", None)
    assert out.count(f"suitekit: django: migrated {template} once in ") == 1, out
    # ... and copied it into both workers' databases while they started (they took those).
    assert "; copied for 2 workers" in out, out
    records = {p.stem: json.loads(p.read_text()) for p in probe.glob("*.json")}
    assert sorted(records) == ["gw0", "gw1"], records
    for worker, record in records.items():
        # Django's tests ran in the worker's own clone: not in a test_... database of its own.
        assert (
            record["name"]
            == record["current"]
            == _naming.database_name(run_id, "integration", worker)
        )
        assert record["count"] >= 20
    # The clones carry the template's migration history, to the microsecond: one migrate.
    assert records["gw0"]["first"] == records["gw1"]["first"]
    assert records["gw0"]["last"] == records["gw1"]["last"]
    assert _left(run_id) == []
    return root / ".nox" / "integration-3-11" / "bin" / "python"


def _failing(root: Path, python: Path, tmp_path: Path, tag: str) -> None:
    probe = tmp_path / "failing"
    probe.mkdir()
    # Failing: the run fails, and a Django test database named after this run's clone (as
    # pytest-django leaves one when its teardown fails) is dropped by the run's controller.
    run_id = f"djfail{tag}"
    leaked = "test_" + _naming.database_name(run_id, "integration", "gw1") + "_gw1"
    _create(leaked)
    try:
        (root / "tests" / "integration" / "test_zz_fails.py").write_text(FAILING)
        env = {**machine_env(), **PER_RUN, "SUITEKIT_RUN_ID": run_id, "PROBE_DIR": str(probe)}
        failing = subprocess.run(
            [str(python), "-m", "pytest", *SUITE, "-n", "2"],
            cwd=root, env=clean_env(env), capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert failing.returncode == 1, failing.stdout + failing.stderr
        assert "1 failed, 23 passed" in failing.stdout, failing.stdout
        assert _left(run_id) == []
    finally:
        _drop(leaked)
        (root / "tests" / "integration" / "test_zz_fails.py").unlink()


SLOW_FIRST = """\
import time

import pytest


# First in the suite, and most of its time: whatever auto samples, the rest pays for workers.
# pytest-django runs the tests that use no database last: these use one, and sort first.
@pytest.mark.django_db
@pytest.mark.parametrize("n", range(16))
def test_slow_first(n):
    time.sleep(0.75)
"""


def _cheap_xdist(python: Path, tmp_path: Path) -> Path:
    """A calibration cache, for the project's virtualenv, of a machine where xdist is cheap.

    Cheap, yet within the plausible bounds: a calibration outside them is no calibration.
    """
    code = (
        "import json, os, sys\n"
        "from suitekit.sharding import Calibration\n"
        "from suitekit.sharding._calibrate import fingerprint\n"
        "cheap = Calibration(serial_per_test=0.0005, xdist_per_test=0.0005,"
        " xdist_startup=0.1, startup_per_worker=0.01, cpus=os.cpu_count() or 1)\n"
        "assert cheap.problem() is None, cheap.problem()\n"
        "json.dump({fingerprint(): cheap.to_json()}, sys.stdout)\n"
    )
    made = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    cache = tmp_path / "calibration.json"
    cache.write_text(made.stdout, encoding="utf-8")
    return cache


def _serial_then_auto_workers(root: Path, python: Path, tmp_path: Path, tag: str) -> None:
    """Without xdist: the template is migrated once and the tests use a copy of it; and so do
    the workers that ``workers = "auto"`` starts after the run's first tests."""
    for step, args, extra in (
        ("serial", ["-n", "0"], {}),
        ("auto", ["-n", "auto"], {"SUITEKIT_WORKERS": "auto"}),
    ):
        probe = tmp_path / step
        probe.mkdir()
        run_id = f"dj{step}{tag}"
        env = {
            **machine_env(), **PER_RUN, **extra, "SUITEKIT_RUN_ID": run_id,
            "PROBE_DIR": str(probe),
        }  # fmt: skip
        slow = root / "tests" / "integration" / "test_aa_slow.py"
        if step == "auto":  # the first tests are slow: auto gives the rest to workers
            slow.write_text(SLOW_FIRST)
            # This step is about the workers auto starts, not about auto's judgement: on a
            # loaded machine auto may rightly keep the rest serial (seen in CI: "-n 0: 6.0s,
            # -n 2: 7.5s"). So it decides from the first tests (not the durations the runs
            # above recorded) and a machine whose xdist costs next to nothing.
            (root / ".suitekit" / "durations.json").unlink(missing_ok=True)
            env["SUITEKIT_CALIBRATION"] = str(_cheap_xdist(python, tmp_path))
        try:
            result = subprocess.run(
                [str(python), "-m", "pytest", *SUITE, *args],
                cwd=root, env=clean_env(env), capture_output=True, text=True, timeout=600,
                check=False,
            )  # fmt: skip
        finally:
            slow.unlink(missing_ok=True)
        out = result.stdout + result.stderr
        assert result.returncode == 0, out
        template = _naming.template_name(run_id, "integration", None)
        main = _naming.database_name(run_id, "integration", "main")
        line = f"suitekit: django: migrated {template} once in "
        assert out.count(line) == 1, out
        assert f"the tests use its copy {main} as Django's database" in out, out
        records = {p.stem: json.loads(p.read_text()) for p in probe.glob("*.json")}
        # Under auto, this process times the first tests before its own session fixtures
        # run: the workers' records are the ones to read.
        expected = ["main"] if step == "serial" else ["gw0", "gw1"]
        assert set(records) >= set(expected), (records, out)
        if step == "auto":
            assert "workers auto: -n 2" in out, out
            # The cheap calibration was read: neither measured nor replaced by a slow one.
            assert "suitekit: measur" not in out, out
            assert "suitekit: not measuring" not in out, out
            assert "39 passed" in out, out
        for worker, record in records.items():
            # Each process's tests ran in its own copy of the one migrated template.
            name = _naming.database_name(run_id, "integration", worker)
            assert record["name"] == record["current"] == name, (worker, record)
            assert record["count"] >= 20, record
            # The variables named it too, at the conftests' import and in the tests.
            assert record["import_url"].endswith(f"/{name}"), (worker, record)
            assert record["url"].endswith(f"/{name}"), (worker, record)
        assert len({(r["first"], r["last"]) for r in records.values()}) == 1, records
        assert _left(run_id) == []


def _settings_elsewhere(root: Path, python: Path, tmp_path: Path, tag: str) -> None:
    """Settings that name none of suitekit's databases: pytest-django makes its own, as without
    suitekit, and the workers' clones still get their template (built once they start)."""
    run_id = f"djother{tag}"
    config = root / "pyproject.toml"
    before = config.read_text()
    # suitekit's URL goes to a variable the settings do not read; they read the given URL.
    config.write_text(
        before + '\n[tool.suitekit.services.postgres]\nenv = { OTHER_URL = "{url}" }\n'
    )
    other = f"djother{tag}"
    # suitekit's server comes as an outer layer hands it down; Django's settings read another
    # database on it (pytest-django's test databases are then test_<other>_gwN).
    env = {
        **machine_env(),
        **PER_RUN,
        "SUITEKIT_POSTGRES_URL": MACHINE_POSTGRES,
        "DATABASE_URL": MACHINE_POSTGRES.rsplit("/", 1)[0] + f"/{other}",
        "SUITEKIT_RUN_ID": run_id,
        "PROBE_DIR": str(tmp_path),
    }
    try:
        result = subprocess.run(
            [str(python), "-m", "pytest", *SUITE, "-n", "2"],
            cwd=root, env=clean_env(env), capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        out = result.stdout + result.stderr
        assert result.returncode == 0, out
        assert "23 passed" in out, out
        assert "Django's settings name none of suitekit's databases" in out, out
        assert _left(run_id) == []
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
            rows = admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"test\\_{other}%",)
            ).fetchall()
        assert rows == []  # pytest-django dropped its own
        record = json.loads((tmp_path / "gw0.json").read_text())
        assert record["current"] == f"test_{other}_gw0"
    finally:
        config.write_text(before)


OWN_DB_SETUP = """

@pytest.fixture(scope="session")
def django_db_setup():
    # The project's own: its databases are ready as they are (pytest-django's documented way).
    pass
"""


def _own_db_setup(root: Path, python: Path, tmp_path: Path, tag: str) -> None:
    """A project's own ``django_db_setup`` replaces suitekit's: each worker's clone, made
    before its first test, is still there and migrated for the tests."""
    run_id = f"djown{tag}"
    probe = tmp_path / "own"
    probe.mkdir()
    conftest = root / "tests" / "integration" / "conftest.py"
    conftest.write_text(PROBE + OWN_DB_SETUP)
    env = {**machine_env(), **PER_RUN, "SUITEKIT_RUN_ID": run_id, "PROBE_DIR": str(probe)}
    try:
        result = subprocess.run(
            [str(python), "-m", "pytest", *SUITE, "-n", "2"],
            cwd=root, env=clean_env(env), capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        out = result.stdout + result.stderr
        assert result.returncode == 0, out
        assert "23 passed" in out, out
        records = {p.stem: json.loads(p.read_text()) for p in probe.glob("*.json")}
        assert sorted(records) == ["gw0", "gw1"], records
        for worker, record in records.items():
            assert record["current"] == _naming.database_name(run_id, "integration", worker)
            assert record["count"] >= 20, (worker, record)
        assert _left(run_id) == []
    finally:
        conftest.write_text(PROBE)


def _unreachable(root: Path, python: Path, tmp_path: Path) -> None:
    """A server that does not answer: one clear error (the template is built after the workers
    start, so the run's first connection says it), not a server "stopped during the run"."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/postgres"}
    result = subprocess.run(
        [str(python), "-m", "pytest", *SUITE, "-n", "2"],
        cwd=root, env=clean_env({**env, "PROBE_DIR": str(tmp_path)}), capture_output=True,
        text=True, timeout=600, check=False,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, out
    assert out.count(f"cannot connect to PostgreSQL at 127.0.0.1:{port}") == 1, out
    assert "fix: start it, correct the URL" in out, out
    assert "stopped answering" not in out, out


def _interrupted(root: Path, python: Path, tmp_path: Path, tag: str) -> None:
    # Ctrl-C, once, to the whole process group, while both workers are in a test.
    run_id = f"djint{tag}"
    probe = tmp_path / "interrupted"
    probe.mkdir()
    process = _hold(root, python, run_id, probe)
    assert len(_left(run_id)) == 3
    os.killpg(process.pid, signal.SIGINT)
    out = process.communicate(timeout=120)[0]
    assert process.returncode == pytest.ExitCode.INTERRUPTED, out
    assert _left(run_id) == [], out


def _killed(project: Project, python: Path, tmp_path: Path, tag: str) -> None:
    root = project.root
    # SIGKILL: everything stays; suitekit clean removes it, and Django's test database of a
    # killed worker with it, but not a user's test_ database nor a look-alike.
    run_id = f"djkill{tag}"
    probe = tmp_path / "killed"
    probe.mkdir()
    mine = f"test_userdb_{tag}"
    lookalike = f"test_sk_{run_id}_integration_gw0_00000000"
    leaked = "test_" + _naming.database_name(run_id, "integration", "gw0") + "_gw0"
    for name in (mine, lookalike):
        _create(name)
    try:
        process = _hold(root, python, run_id, probe)
        _create(leaked)
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
        assert len(_left(run_id)) == 5
        result = project.run("suitekit", "clean", env=machine_env())
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"dropped database {leaked} (pytest-django's, of run {run_id})" in result.stdout
        assert _left(run_id) == [lookalike]
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
            row = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (mine,))
            assert row.fetchone() is not None
    finally:
        for name in (mine, lookalike, leaked):
            _drop(name)
