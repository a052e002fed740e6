"""The per-test timeout and the session deadline: their keys, defaults and precedence; and how
suitekit finds and stops the processes a session's tests left running (issue 12, items 10, 11)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

import pytest

from suitekit import _processes, plan
from suitekit._model import DEADLINE_FLOOR, DEFAULT_TIMEOUT, Source, Suite
from suitekit.config import parse_project
from suitekit.errors import ConfigError

_ROOT: list[Path] = []


@pytest.fixture(autouse=True)
def _project_root(tmp_path: Path) -> None:
    # The configuration is checked against the project's folders: give it a real one.
    (tmp_path / "tests").mkdir()
    _ROOT[:] = [tmp_path]


def _suite(**keys: Any) -> Suite:
    document = {"tool": {"suitekit": {"suites": {"unit": {"paths": ["tests"], **keys}}}}}
    return parse_project(document, config_file=_ROOT[0] / "pyproject.toml").suite("unit")


def test_a_suite_has_a_five_minute_timeout_and_a_derived_deadline_by_default() -> None:
    suite = _suite()
    assert suite.timeout == DEFAULT_TIMEOUT == 300.0
    assert suite.deadline is None
    deadline = plan.session_deadline(suite)
    assert (deadline.value, deadline.source) == (DEADLINE_FLOOR, Source.DEFAULT)


@pytest.mark.parametrize(
    ("target", "expected"),
    [(None, 1800.0), (10, 1800.0), (180, 1800.0), (600, 6000.0)],
)
def test_the_default_deadline_is_ten_budgets_but_at_least_half_an_hour(
    target: float | None, expected: float
) -> None:
    suite = _suite(**({"target-seconds": target} if target is not None else {}))
    assert plan.session_deadline(suite).value == expected


@pytest.mark.parametrize(("given", "expected"), [(30, 30.0), (2.5, 2.5), (0, 0.0), (False, 0.0)])
def test_timeout_and_deadline_take_seconds_and_zero_or_false_turns_them_off(
    given: float, expected: float
) -> None:
    suite = _suite(timeout=given, deadline=given)
    assert suite.timeout == expected
    assert plan.session_deadline(suite).value == expected
    assert plan.session_deadline(suite).source is Source.CONFIG


@pytest.mark.parametrize("key", ["timeout", "deadline"])
@pytest.mark.parametrize("value", [-1, "300", True, float("nan"), float("inf"), 10**9])
def test_a_bad_timeout_or_deadline_is_a_config_error_naming_the_key(key: str, value: Any) -> None:
    pattern = (
        rf"(?s)tool\.suitekit\.suites\.unit\.{key}: expected a number of seconds from 0 to 604800"
        rf".*{key} = 600, or {key} = 0 \(or false\) to turn it off"
    )
    with pytest.raises(ConfigError, match=pattern):
        _suite(**{key: value})


def test_a_misspelt_timeout_gets_a_did_you_mean() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'timout' \(did you mean 'timeout'\?\)"):
        _suite(timout=10)


def test_the_suites_timeout_applies_when_the_user_set_none() -> None:
    suite = _suite(timeout=20)
    timeout = plan.test_timeout(suite, option=None, environ={}, ini="")
    assert timeout is not None
    assert (timeout.value, timeout.source) == (20.0, Source.CONFIG)
    default = plan.test_timeout(_suite(), option=None, environ={}, ini="")
    assert default is not None
    assert (default.value, default.source) == (300.0, Source.DEFAULT)


@pytest.mark.parametrize(
    "given",
    [
        {"option": 5.0, "environ": {}, "ini": ""},
        {"option": 0.0, "environ": {}, "ini": ""},
        {"option": None, "environ": {"PYTEST_TIMEOUT": "5"}, "ini": ""},
        {"option": None, "environ": {}, "ini": "5"},
    ],
    ids=["--timeout", "--timeout=0", "PYTEST_TIMEOUT", "ini"],
)
def test_a_timeout_the_user_gives_pytest_timeout_wins(given: dict[str, Any]) -> None:
    assert plan.test_timeout(_suite(timeout=20), **given) is None


def test_a_left_process_carrying_the_mark_is_found_and_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not Path("/proc/self/environ").exists():
        pytest.skip("finding processes by their environment needs /proc")
    mark = _processes.new_mark()
    assert mark.startswith(f"{os.getpid()}-")
    monkeypatch.setenv(_processes.MARK_VARIABLE, mark)
    # Its own session, as a daemon would: not in our process group, yet found by its mark.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"],
                             start_new_session=True)  # fmt: skip
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(1000)"],
        env={**os.environ, _processes.MARK_VARIABLE: "1-other"},
    )
    try:
        found = _processes.marked(mark)
        assert [process.pid for process in found] == [child.pid]
        assert found[0].command == f"{sys.executable} -c import time; time.sleep(1000)"
        _processes.stop(found, grace=5)
        assert child.wait(timeout=5) == -15  # SIGTERM was enough
        assert not _running(child.pid)
        assert _processes.marked(mark) == []
        assert other.poll() is None
    finally:
        for process in (child, other):
            process.kill()
            process.wait()


def test_a_process_that_ignores_sigterm_is_killed() -> None:
    ignoring = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN)"
    command = [sys.executable, "-c", f"{ignoring}; print('ready', flush=True); time.sleep(1000)"]
    with subprocess.Popen(command, stdout=subprocess.PIPE) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == b"ready\n"
            _processes.stop([_processes.LeftProcess(pid=child.pid, command="x")], grace=0.2)
            assert child.wait(timeout=5) == -9
        finally:
            child.kill()


def test_the_warning_lists_each_process_by_pid_and_command() -> None:
    one = [_processes.LeftProcess(pid=12345, command="sleep 1000")]
    assert _processes.describe(one) == (
        "suitekit: stopped 1 process the tests left running: 12345 sleep 1000"
    )
    two = [*one, _processes.LeftProcess(pid=7, command="redis-server *:0")]
    assert _processes.describe(two) == (
        "suitekit: stopped 2 processes the tests left running: 12345 sleep 1000; 7 redis-server *:0"
    )


def test_the_runner_stops_what_a_session_left_in_its_process_group(tmp_path: Path) -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("listing a process group needs /proc")
    from suitekit._runner import Runner  # noqa: PLC0415 - the runner's imports are its own
    from suitekit.plan import Job  # noqa: PLC0415

    # The shell ends at once; its background sleep stays in the session's group, and keeps
    # the output pipe open: without the runner's cleanup the run would not end.
    job = Job(
        session="leaky",
        kind="check",
        title="leaky",
        command=("sh", "-c", "sleep 1000 & echo $! > sleep.pid"),
        env={},
        required=True,
        junit=None,
        log=tmp_path / "logs" / "leaky.log",
        target_seconds=None,
    )
    out = io.StringIO()
    (outcome,) = Runner(root=tmp_path, stream=out).run([job])
    pid = int((tmp_path / "sleep.pid").read_text())
    assert outcome.status == "passed"
    line = f"suitekit: stopped 1 process session leaky left running: {pid} sleep 1000"
    assert line in out.getvalue().splitlines()
    assert line in job.log.read_text().splitlines()
    assert not _running(pid)


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not yet reaped by its new parent, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_suitekit_clean_finds_what_a_dead_runs_tests_left() -> None:
    if not Path("/proc/self/environ").exists():
        pytest.skip("finding processes by their environment needs /proc")
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    dead = int(ended.stdout)  # a controller that has ended: its leftovers are orphans
    command = [sys.executable, "-c", "import time; time.sleep(1000)"]
    orphan = subprocess.Popen(
        command, env={**os.environ, _processes.MARK_VARIABLE: f"{dead}-0123456789abcdef"}
    )
    alive = subprocess.Popen(
        command, env={**os.environ, _processes.MARK_VARIABLE: _processes.new_mark()}
    )
    try:
        found = [process.pid for process in _processes.orphaned()]
        assert orphan.pid in found
        assert alive.pid not in found
    finally:
        for process in (orphan, alive):
            process.kill()
            process.wait()


IGNORES_CTRL_C: Final = """
import signal, time
from suitekit._watchdog import Watchdog

signal.signal(signal.SIGINT, signal.SIG_IGN)  # a main thread that Ctrl-C cannot stop
watchdog = Watchdog(
    0.2, message="suitekit: the deadline", cleanup=lambda: print("cleaned up", flush=True),
    hard_grace=0.5,
)
watchdog.start()
time.sleep(60)
"""


def test_a_session_that_ignores_the_interrupt_is_cleaned_up_and_ended() -> None:
    started = time.monotonic()
    command = [sys.executable, "-c", IGNORES_CTRL_C]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert time.monotonic() - started < 30
    assert done.stdout == "cleaned up\n"
    assert done.stderr.startswith("\nsuitekit: the deadline\n")
    assert "suitekit: the session did not end within 0.5s of being interrupted" in done.stderr
    assert re.search(r'File "<string>", line 11 in <module>', done.stderr), done.stderr


CLEANING_UP: Final = """
import time
from suitekit._watchdog import Watchdog

watchdog = Watchdog(
    0.2, message="suitekit: the deadline", cleanup=lambda: print("cut short", flush=True),
    hard_grace=0.3,
)
watchdog.start()
watchdog.finishing()  # the tests are over: the session's own cleanup runs (slowly)
time.sleep(1.5)
watchdog.cancel()
print("cleaned up in its own time", flush=True)
"""


def test_a_cleanup_that_began_before_the_deadline_is_neither_interrupted_nor_cut_short() -> None:
    command = [sys.executable, "-c", CLEANING_UP]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "cleaned up in its own time\n"
    assert "did not end" not in done.stderr
