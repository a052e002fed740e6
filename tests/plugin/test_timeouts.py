"""A hung test fails by name with its stack, a stuck session ends at its deadline, and the
processes the tests left running are stopped (issue 12, items 10 and 11).

The timeout and stray-process runs happen in this process (their xdist workers are
subprocesses); a deadline interrupts the main thread of the session's process, so those runs
are subprocesses of their own.
"""

from __future__ import annotations

import os
import re
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

from suitekit import _processes
from tests.plugin.helpers import run

PYPROJECT: Final = """
[tool.suitekit]
tests = ["tests"]

[tool.suitekit.suites.unit]
paths = ["tests"]
{keys}
"""

HANGS: Final = """
import time

def test_before():
    pass

def test_hangs():
    time.sleep(60)

def test_after():
    pass
"""

READS_TIMEOUT: Final = """
def test_timeout(request):
    with open("timeout.txt", "w") as file:
        file.write(repr(request.config.getoption("timeout")))
"""


@pytest.fixture(autouse=True)
def _not_an_xdist_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """An in-process run is the controller of its own suite run, also when these tests run on
    an xdist worker of suitekit's own run (the plugin tells a worker by this variable, set
    before a worker's configuration exists)."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)


@pytest.fixture
def suite(
    pytester: pytest.Pytester, write_pyproject: Callable[[str], Path]
) -> Callable[..., pytest.Pytester]:
    """A one-suite project with the given suite keys and test files."""

    def make(keys: str = "", **files: str) -> pytest.Pytester:
        write_pyproject(PYPROJECT.format(keys=textwrap.dedent(keys)))
        pytester.makepyfile(**{f"tests/{name}": text for name, text in files.items()})
        return pytester

    return make


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_hung_test_fails_by_name_with_its_stack_and_the_others_run(
    suite: Callable[..., pytest.Pytester], workers: str
) -> None:
    pytester = suite("timeout = 1", test_hang=HANGS)
    started = time.monotonic()
    result = run(pytester, workers, "--suitekit-suite=unit")
    assert time.monotonic() - started < 30
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "suitekit: timeout 1s per test (pyproject.toml); deadline 1800s (default)",
            "*_ test_hangs _*",
            ">       time.sleep(60)",
            "E       Failed: Timeout (>1.0s) from pytest-timeout.",
            "FAILED tests/test_hang.py::test_hangs - Failed: Timeout*",
        ]
    )


def test_the_default_timeout_is_five_minutes(suite: Callable[..., pytest.Pytester]) -> None:
    pytester = suite(test_reads=READS_TIMEOUT)
    result = run(pytester, "0", "--suitekit-suite=unit")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["suitekit: timeout 300s per test (default); deadline 1800s (default)", "timeout: 300.0s"]
    )
    assert (pytester.path / "timeout.txt").read_text() == "300.0"


@pytest.mark.parametrize("off", ["0", "false"])
def test_timeout_zero_or_false_turns_it_off(
    suite: Callable[..., pytest.Pytester], off: str
) -> None:
    pytester = suite(f"timeout = {off}", test_reads=READS_TIMEOUT)
    result = run(pytester, "2", "--suitekit-suite=unit")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["suitekit: no per-test timeout; deadline 1800s (default)"])
    assert (pytester.path / "timeout.txt").read_text() == "0.0"  # the worker's own option


@pytest.mark.parametrize("how", ["option", "ini", "environment"])
def test_the_users_own_timeout_wins_over_the_suites(
    suite: Callable[..., pytest.Pytester], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    pytester = suite("timeout = 120", test_hang=HANGS)
    args = ["--suitekit-suite=unit"]
    if how == "option":
        args.append("--timeout=1")
    elif how == "ini":
        pyproject = pytester.path / "pyproject.toml"
        text = pyproject.read_text().replace("[tool.pytest.ini_options]\n", "")
        pyproject.write_text(f"[tool.pytest.ini_options]\ntimeout = 1\n{text}")
    else:
        monkeypatch.setenv("PYTEST_TIMEOUT", "1")
    result = run(pytester, "0", *args)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "suitekit: timeout: pytest-timeout's own settings; deadline 1800s (default)",
            "E       Failed: Timeout (>1.0s) from pytest-timeout.",
        ]
    )


def test_a_retried_hung_test_times_out_in_every_attempt(
    suite: Callable[..., pytest.Pytester],
) -> None:
    pytester = suite("timeout = 1\nretries = 1", test_hang=HANGS)
    started = time.monotonic()
    result = run(pytester, "0", "--suitekit-suite=unit", "-rR")
    assert time.monotonic() - started < 30
    assert result.parseoutcomes() == {"passed": 2, "failed": 1, "rerun": 1}


LEAVES_A_CHILD: Final = """
import pathlib
import subprocess

def test_starts_a_daemon():
    # Its own session, and no parent left: it escapes the process group, as a daemon does.
    started = subprocess.run(
        ["sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!"],
        start_new_session=True, capture_output=True, text=True, check=True,
    )
    pathlib.Path("child.pid").write_text(started.stdout.strip())
"""


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_process_the_tests_left_running_is_stopped_and_named(
    suite: Callable[..., pytest.Pytester], workers: str
) -> None:
    if not Path("/proc/self/environ").exists():
        pytest.skip("finding processes by their environment needs /proc")
    pytester = suite(test_child=LEAVES_A_CHILD)
    result = run(pytester, workers, "--suitekit-suite=unit")
    result.assert_outcomes(passed=1)
    pid = int((pytester.path / "child.pid").read_text())
    try:
        result.stdout.fnmatch_lines(
            [f"suitekit: stopped 1 process the tests left running: {pid} sleep 1000"]
        )
        assert not _running(pid)
        # The mark was this run's only: it is gone from this process's environment.
        assert _processes.MARK_VARIABLE not in os.environ
    finally:
        if _running(pid):
            os.kill(pid, 9)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


HANGS_WITHOUT_TIMEOUT: Final = """
import time

def test_before():
    pass

def test_hangs_forever():
    time.sleep(600)
"""


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_stuck_session_ends_at_its_deadline_with_stacks_and_exit_1(
    suite: Callable[..., pytest.Pytester], workers: str
) -> None:
    # Long enough for an xdist worker to start its test on a loaded machine.
    pytester = suite("timeout = 0\ndeadline = 6", test_stuck=HANGS_WITHOUT_TIMEOUT)
    started = time.monotonic()
    result = pytester.runpytest_subprocess("-n", workers, "--suitekit-suite=unit", timeout=120)
    elapsed = time.monotonic() - started
    assert result.ret == 1, (result.ret, result.stdout.str())
    assert elapsed < 40, elapsed
    output = result.stdout.str() + result.stderr.str()
    assert (
        "suitekit: suite 'unit' is still running at its deadline of 6s "
        "(tool.suitekit.suites.unit.deadline); stopping it (its tests' cleanup runs)\n"
        "  fix: find the hang in the stacks below, or set tool.suitekit.suites.unit.deadline "
        "to more seconds (0: no deadline)"
    ) in output
    assert "running: tests/test_stuck.py::test_hangs_forever (call)" in output
    # Never the test that runs this pytest: its PYTEST_CURRENT_TEST is inherited, not its own.
    assert "running: tests/plugin/" not in output
    # faulthandler's stack of the thread that runs the test (a worker's, under xdist).
    assert re.search(r'File ".*test_stuck\.py", line \d+ in test_hangs_forever', output), output
    result.stdout.fnmatch_lines(
        [
            (
                "suitekit: suite 'unit' was stopped at its deadline of 6s (the stacks of what "
                "ran are above): it fails"
            )
        ]
    )
