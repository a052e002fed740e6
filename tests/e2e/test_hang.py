"""A hanging test, for real: ``inv test.unit`` of a project with a throwaway PostgreSQL.

The hung test fails within its timeout with its name and its stack, the other tests run, the run
ends with exit status 1, and nothing is left: no server, no database (they lived on the server),
no work folder, and no process the tests started (issue 12's acceptance for items 10 and 11).
"""

from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path
from typing import Final

from suitekit.services._throwaway import records
from suitekit.services._worker import work_folders
from tests.e2e.helpers import SUITES, make_project
from tests.e2e.isolation import require_local_binaries

# The demo's "unit" suite (its virtualenv is warm), now with a database, a folder per worker and
# a two-second timeout per test.
HANGING_SUITES: Final = SUITES.replace(
    "target-seconds = 30\n",
    'target-seconds = 30\nservices = ["postgres"]\ntimeout = 2\n'
    '\n[tool.suitekit.isolation]\ndirs = ["MEDIA_ROOT"]\n',
)

HANGING_TESTS: Final = """\
import os
import pathlib
import subprocess
import time

import psycopg


def test_uses_its_database():
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as db:
        assert db.execute("SELECT 1").fetchone() == (1,)
    pathlib.Path(os.environ["MEDIA_ROOT"], "cover.png").write_text("x")


def test_hangs_holding_a_connection_and_a_child():
    # A daemon of its own session (out of the run's process groups), and an open connection.
    started = subprocess.run(
        ["sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!"],
        start_new_session=True, capture_output=True, text=True, check=True,
    )
    pathlib.Path(os.environ["CHILD_PID_FILE"]).write_text(started.stdout.strip())
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True):
        time.sleep(600)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _assert_nothing_left(output: str, run_id: str) -> None:
    """The throwaway server the run's header named is gone, its record, and the run's folders."""
    ports = re.findall(r"postgres 127\.0\.0\.1:(\d+)", output)
    assert ports, output
    for port in set(ports):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", int(port))) != 0
    assert [r for r in records() if any(f":{port}/" in r.url for port in ports)] == []
    runs = [str(owner.get("run", "")) for _, owner in work_folders()]
    assert [run for run in runs if run.startswith(run_id)] == []


def test_a_hanging_test_fails_in_its_timeout_and_the_run_leaves_nothing(
    demo_root: Path, tmp_path: Path
) -> None:
    require_local_binaries()
    project = make_project(demo_root, HANGING_SUITES)
    project.write("tests/unit/test_hang.py", HANGING_TESTS)
    run_id = f"hang{os.getpid()}"
    child_file = tmp_path / "child.pid"
    started = time.monotonic()
    result = project.run(
        "inv",
        "test.unit",
        env={"SUITEKIT_RUN_ID": run_id, "CHILD_PID_FILE": str(child_file)},
        timeout=240,
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    child = int(child_file.read_text())
    try:
        assert result.returncode == 1, output
        # Its two seconds, and a warm session's set-up (nox, a throwaway server, two workers).
        assert elapsed < 120, (elapsed, output)
        assert "_ test_hangs_holding_a_connection_and_a_child _" in output
        assert ">           time.sleep(600)" in output  # the stack points at the hang
        assert "E           Failed: Timeout (>2.0s) from pytest-timeout." in output
        assert re.search(r"1 failed, 4 passed in [\d.]+s", output), output
        assert f"suitekit: stopped 1 process the tests left running: {child} sleep 1000" in output
        assert not _running(child)
        _assert_nothing_left(output, run_id)
    finally:
        if _running(child):
            os.kill(child, 9)


# No per-test timeout: the session's deadline is what ends the hang.
STUCK_SUITES: Final = HANGING_SUITES.replace("timeout = 2\n", "timeout = 0\ndeadline = 6\n")


def test_a_session_past_its_deadline_ends_with_its_stacks_and_leaves_nothing(
    demo_root: Path, tmp_path: Path
) -> None:
    require_local_binaries()
    project = make_project(demo_root, STUCK_SUITES)
    project.write("tests/unit/test_hang.py", HANGING_TESTS)
    run_id = f"stuck{os.getpid()}"
    child_file = tmp_path / "child.pid"
    result = project.run(
        "inv",
        "test.unit",
        env={"SUITEKIT_RUN_ID": run_id, "CHILD_PID_FILE": str(child_file)},
        timeout=240,
    )
    output = result.stdout + result.stderr
    child = int(child_file.read_text())
    try:
        assert result.returncode == 1, output
        assert "suitekit: suite 'unit' is still running at its deadline of 6s" in output
        assert (
            "fix: find the hang in the stacks below, or set tool.suitekit.suites.unit.deadline"
            in output
        )
        assert "test_hang.py::test_hangs_holding_a_connection_and_a_child" in output
        assert re.search(r'File ".*test_hang\.py", line \d+ in test_hangs_holding', output), output
        assert not _running(child)
        _assert_nothing_left(output, run_id)
    finally:
        if _running(child):
            os.kill(child, 9)
