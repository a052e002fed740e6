"""A warm session skips its install; a change to what it installs (or --reinstall) does not."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.helpers import make_project

INSTALL = "pip install"
SKIPPED = "suitekit: install unchanged since this virtualenv's last install; skipped"


def test_a_session_installs_only_when_what_it_installs_changed(tmp_path: Path) -> None:
    project = make_project(tmp_path / "demo")

    def session(env: dict[str, str] | None = None) -> str:
        # Installs are the point, not workers: no xdist worker to start in any of five runs.
        result = project.run("nox", "-s", "unit", env={"SUITEKIT_WORKERS": "0", **(env or {})})
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "3 passed" in output
        return output

    assert INSTALL in session()  # a new virtualenv
    warm = session()
    assert SKIPPED in warm
    assert INSTALL not in warm

    # Editing suitekit's own table is not a dependency change.
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("target-seconds = 30", "target-seconds = 31"),
        encoding="utf-8",
    )
    assert SKIPPED in session()

    # A new dependency in the group the suite installs is.
    pyproject.write_text(
        pyproject.read_text().replace('test = ["pytest"]', 'test = ["pytest", "iniconfig"]'),
        encoding="utf-8",
    )
    changed = session()
    assert INSTALL in changed
    assert "iniconfig" in changed

    # SUITEKIT_REINSTALL=1 (inv --reinstall) forces an install.
    forced = session({"SUITEKIT_REINSTALL": "1"})
    assert INSTALL in forced
    assert SKIPPED not in forced


SEEN = """\
import json
import os
import sys
import json
from pathlib import Path


def test_what_the_session_gives_its_pytest():
    seen = {
        "executable": sys.executable,
        "path0": os.environ["PATH"].split(os.pathsep)[0],
        "sys_path0": sys.path[0],
        "env": {
            name: os.environ.get(name)
            for name in ("VIRTUAL_ENV", "NOX_CURRENT_SESSION", "CONDA_PREFIX", "UV_PYTHON")
        },
        "names": sorted(os.environ),
    }
    folder = Path(os.environ["SEEN_FOLDER"])
    count = len(list(folder.iterdir()))
    (folder / f"{count}.json").write_text(json.dumps(seen))
"""

# Names whose presence differs by run, not by how the session was started.
_PER_RUN = {"SUITEKIT_PROGRESS", "PYTEST_VERSION", "PYTEST_CURRENT_TEST"}


def test_a_warm_session_runs_its_pytest_without_nox_as_nox_would(tmp_path: Path) -> None:
    project = make_project(tmp_path / "demo")
    project.write("tests/unit/test_seen.py", SEEN)
    # Measured, as most projects' suites are: the session's command is coverage's.
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.suitekit]\n", '[tool.suitekit]\nsource = ["src/demo"]\n'
        ),
        encoding="utf-8",
    )
    seen = tmp_path / "seen"
    seen.mkdir()
    logs = project.root / ".suitekit" / "reports" / "logs"

    def run(env: dict[str, str] | None = None) -> tuple[str, str, dict[str, object]]:
        result = project.run(
            "inv",
            "test.all",
            env={"SEEN_FOLDER": str(seen), "SUITEKIT_WORKERS": "0", **(env or {})},
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "unit" in output
        newest = max(seen.iterdir(), key=lambda path: int(path.stem))
        return (
            next(logs.glob("unit-*.log")).read_text(encoding="utf-8"),
            (logs / "hello.log").read_text(encoding="utf-8"),
            json.loads(newest.read_text(encoding="utf-8")),
        )

    cold_unit, cold_hello, through_nox = run()
    assert "nox > " in cold_unit
    assert "without nox" not in cold_unit
    assert "nox > " in cold_hello
    store = project.root / ".suitekit" / "durations.json"
    recorded = store.stat().st_mtime_ns

    warm_unit, warm_hello, direct = run()
    assert "without nox" in warm_unit, warm_unit
    assert "nox > " not in warm_unit
    assert "4 passed" in warm_unit
    # Under coverage, as the session runs it (the run's coverage gate passed on its data).
    assert "suitekit: coverage run --rcfile=" in warm_unit
    assert "without nox" in warm_hello
    assert "42" in warm_hello
    # The same interpreter, virtualenv, variables and import path as the nox session's.
    assert direct["executable"] == through_nox["executable"]
    assert direct["path0"] == through_nox["path0"]
    assert direct["sys_path0"] == through_nox["sys_path0"]
    assert direct["env"] == through_nox["env"]
    names = {str(name) for name in direct["names"]}  # type: ignore[attr-defined]
    before = {str(name) for name in through_nox["names"]}  # type: ignore[attr-defined]
    assert names - _PER_RUN == before - _PER_RUN
    # The session's bookkeeping happened too: its durations were recorded again.
    assert store.stat().st_mtime_ns > recorded

    # A new dependency: through nox, which installs it.
    pyproject.write_text(
        pyproject.read_text().replace('test = ["pytest"]', 'test = ["pytest", "iniconfig"]'),
        encoding="utf-8",
    )
    changed, _, _ = run()
    assert "without nox" not in changed
    assert INSTALL in changed
    assert "without nox" in run()[0]  # warm again
    # Asked for: nox.
    assert "without nox" not in run({"SUITEKIT_VIA_NOX": "1"})[0]
