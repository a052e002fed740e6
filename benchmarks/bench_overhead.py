"""What suitekit adds to a small project's run, measured against bare pytest in the same run.

Run on demand (not part of the test suites):

    .venv/bin/python benchmarks/bench_overhead.py [--rounds 5]

It writes a small new project to a temporary folder, as a new user would start one:

- ``unit``: 15 fast tests (``paths = ["tests/unit"]``, ``workers = "auto"``);
- ``slow``: 4 tests of 0.25 s selected by the marker ``slow`` (``workers = "auto"``);
- ``integration``: 4 tests against PostgreSQL (``services = ["postgres"]``, ``workers = 2``);
- the check ``lint`` (``ruff check .``).

PostgreSQL comes from ``DATABASE_URL`` when it is set, else suitekit starts a throwaway server
(the bare baseline then gets a database on that same server). One warm-up run builds the
session virtualenvs; then, ``--rounds`` times each and alternately, it times:

- ``nox -R -s unit-<py>`` against the session's own ``pytest tests/unit`` (same virtualenv);
- ``inv test.all --parallel`` against ``pytest -n 0`` over every test plus ``ruff check .``
  (the same two tools, one after the other: what a user ran before suitekit), and again with
  ``SUITEKIT_VIA_NOX=1`` (every session through nox, as before warm sessions skipped it);
- ``suitekit --help``.

PYTHONDONTWRITEBYTECODE is dropped from the runs' environment, as on a user's machine (with it,
every Python start compiles every module again). It prints the medians and each ratio with its
goal: ``nox -s unit`` at most bare + 0.35 s, ``inv test.all --parallel`` at most 1.5 x the bare
pipeline, ``suitekit --help`` at most 0.25 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Final

BIN: Final = Path(sys.executable).parent
PYTHON: Final = f"{sys.version_info.major}.{sys.version_info.minor}"
SESSION_PY: Final = PYTHON.replace(".", "-")

PYPROJECT: Final = f"""\
[project]
name = "tiny"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = []

[dependency-groups]
test = ["pytest>=8", "psycopg[binary]>=3.1"]
lint = ["ruff>=0.6"]

[tool.pytest.ini_options]
markers = ["slow: takes a while"]

[tool.suitekit]
python = ["{PYTHON}"]
install = {{ project = false, groups = ["test"] }}
tests = ["tests"]

[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = "auto"

[tool.suitekit.suites.slow]
paths = ["tests/slow"]
marker = "slow"
workers = "auto"

[tool.suitekit.suites.integration]
paths = ["tests/integration"]
workers = 2
services = ["postgres"]

[tool.suitekit.checks]
lint = {{ run = "ruff check .", install = {{ project = false, groups = ["lint"] }} }}
"""

UNIT: Final = '''\
"""Fast unit tests."""

import pytest


def add(a: int, b: int) -> int:
    return a + b


@pytest.mark.parametrize("n", range(12))
def test_add(n: int) -> None:
    assert add(n, 1) == n + 1


def test_text() -> None:
    assert "tiny".upper() == "TINY"


def test_list() -> None:
    assert sorted([3, 1, 2]) == [1, 2, 3]


def test_dict() -> None:
    assert {"a": 1}.get("b") is None
'''

SLOW: Final = '''\
"""Slow tests, selected by their marker."""

import time

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("n", range(4))
def test_slow(n: int) -> None:
    time.sleep(0.25)
    assert n >= 0
'''

INTEGRATION: Final = '''\
"""Tests against PostgreSQL at DATABASE_URL."""

import os

import psycopg
import pytest


@pytest.fixture
def db():
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text)")
        conn.execute("TRUNCATE items")
        yield conn
        conn.execute("TRUNCATE items")


@pytest.mark.parametrize("n", range(4))
def test_items(db, n: int) -> None:
    db.execute("INSERT INTO items VALUES (%s, %s)", (n, f"item {n}"))
    row = db.execute("SELECT name FROM items WHERE id = %s", (n,)).fetchone()
    assert row == (f"item {n}",)
'''


def write_project(root: Path) -> None:
    """The small project described in the module's docstring."""
    for folder, text in (("unit", UNIT), ("slow", SLOW), ("integration", INTEGRATION)):
        (root / "tests" / folder).mkdir(parents=True)
        (root / "tests" / folder / f"test_{folder}.py").write_text(text, encoding="utf-8")
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "noxfile.py").write_text("import suitekit.nox\n\nsuitekit.nox.register()\n")
    (root / "tasks.py").write_text("from suitekit.invoke import ns  # noqa: F401\n")


def environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without settings that change what the runs do."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SUITEKIT_", "PYTEST_", "NOX_", "COVERAGE_"))
        and key != "PYTHONDONTWRITEBYTECODE"  # as on a user's machine: compiled modules cached
    }
    env.update(extra or {})
    return env


def timed(command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> float:
    """Wall seconds of ``command``; exits with its output when it fails."""
    started = time.perf_counter()
    result = subprocess.run(
        list(command), cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stdout[-4000:], result.stderr[-4000:])
        message = f"{' '.join(command)} failed with {result.returncode}"
        raise SystemExit(message)
    return wall


@contextlib.contextmanager
def bare_database(url: str | None, project: Path) -> Iterator[str]:
    """A database for the bare baseline, on the server the suitekit runs use; dropped after."""
    import psycopg  # noqa: PLC0415 - suitekit's own dependency

    if url is None:
        # The suitekit runs start a throwaway server each; the baseline gets one of its own.
        from suitekit import services  # noqa: PLC0415
        from suitekit.config import load_project  # noqa: PLC0415

        project_model = load_project(project)
        needed = project_model.suite("integration").services
        with (
            services.provide(project_model, needed, environ(), say=print) as provided,
            bare_database(provided["SUITEKIT_POSTGRES_URL"], project) as bare,
        ):
            yield bare
        return
    name = f"sk_bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def verdict(ok: bool) -> str:  # noqa: FBT001 - a printed flag
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    url = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="suitekit-bench-") as scratch:
        project = Path(scratch) / "tiny"
        project.mkdir()
        write_project(project)
        env = environ({"DATABASE_URL": url} if url else {})
        via_nox = {**env, "SUITEKIT_VIA_NOX": "1"}  # every session through nox, warm or not
        print(f"project at {project}; warming up (session virtualenvs) ...")
        timed([str(BIN / "inv"), "test.all", "--parallel"], project, env)
        timed([str(BIN / "nox"), "-R", "-s", f"unit-{PYTHON}"], project, env)
        venv = project / ".nox" / f"unit-{SESSION_PY}" / "bin"
        ruff = project / ".nox" / "lint" / "bin" / "ruff"
        walls: dict[str, list[float]] = {
            "nox": [],
            "bare unit": [],
            "inv": [],
            "inv via nox": [],
            "bare all": [],
            "help": [],
        }
        with bare_database(url, project) as bare_url:
            bare_env = environ({"DATABASE_URL": bare_url})
            for index in range(rounds):
                walls["nox"].append(
                    timed([str(BIN / "nox"), "-R", "-s", f"unit-{PYTHON}"], project, env)
                )
                walls["bare unit"].append(
                    timed(
                        [str(venv / "pytest"), "-q", "-p", "no:suitekit", "tests/unit"],
                        project,
                        bare_env,
                    )
                )
                walls["inv"].append(
                    timed([str(BIN / "inv"), "test.all", "--parallel"], project, env)
                )
                walls["inv via nox"].append(
                    timed([str(BIN / "inv"), "test.all", "--parallel"], project, via_nox)
                )
                started = time.perf_counter()
                timed(
                    [str(venv / "pytest"), "-q", "-p", "no:suitekit", "-n", "0", "tests"],
                    project,
                    bare_env,
                )
                timed([str(ruff), "check", "."], project, bare_env)
                walls["bare all"].append(time.perf_counter() - started)
                walls["help"].append(timed([str(BIN / "suitekit"), "--help"], project, env))
                print(
                    f"round {index + 1}: "
                    + ", ".join(f"{name} {values[-1]:.2f}s" for name, values in walls.items())
                )
        shutil.rmtree(project / ".nox", ignore_errors=True)
    nox, bare_unit = median(walls["nox"]), median(walls["bare unit"])
    inv, bare_all = median(walls["inv"]), median(walls["bare all"])
    through_nox = median(walls["inv via nox"])
    help_ = median(walls["help"])
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; medians of {rounds}")
    print(
        f"nox -R -s unit-{PYTHON}: {nox:.2f}s vs bare pytest {bare_unit:.2f}s:"
        f" +{nox - bare_unit:.2f}s (goal <= +0.35s: {verdict(nox - bare_unit <= 0.35)})"
    )
    print(
        f"inv test.all --parallel: {inv:.2f}s vs bare pytest -n 0 + ruff {bare_all:.2f}s:"
        f" {inv / bare_all:.2f}x (goal <= 1.5x: {verdict(inv / bare_all <= 1.5)})"
    )
    print(
        f"  the same with every session through nox (SUITEKIT_VIA_NOX=1): {through_nox:.2f}s,"
        f" {through_nox / bare_all:.2f}x; warm sessions without nox save {through_nox - inv:.2f}s"
    )
    print(f"suitekit --help: {help_:.3f}s (goal <= 0.25s: {verdict(help_ <= 0.25)})")


if __name__ == "__main__":
    main()
