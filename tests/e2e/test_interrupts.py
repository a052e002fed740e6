"""Ctrl-C twice at any moment of a run's start-up, through inv and through nox: nothing left.

The trials run in tests/e2e/interrupt_trials.py, in a mount namespace with a RAM disk of their
own (see there); this test starts them, with a project whose suite has every per-worker
resource (PostgreSQL with a template, Redis, folders), and reads what each trial left.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import BIN, SUITES, Project, clean_env, make_project
from tests.e2e.isolation import CI, MACHINE_POSTGRES, MACHINE_REDIS, require_local_binaries

# Per tool, one in each sixteenth of the start-up (the moment within it drawn anew each run,
# from a seed of the run): 32 in all, about 1.3 CPU-seconds each.
TRIALS = 16

SUITE_WITH_SERVICES = (
    SUITES.replace(
        'paths = ["tests/unit"]\nworkers = 2\n',
        'paths = ["tests/unit"]\nworkers = 2\nservices = ["postgres", "redis"]\n',
    )
    + """
[tool.suitekit.services.postgres]
setup = [{ sql = "CREATE TABLE items (id integer PRIMARY KEY)" }]

[tool.suitekit.isolation]
dirs = ["MEDIA_ROOT"]
"""
)

WAITING_TEST = """\
import os
import time


def test_wait():
    if os.environ.get("WAIT") == "1":
        open(os.environ["TESTS_STARTED_FILE"], "w").close()  # start-up is over
        time.sleep(60)
"""


def _own_ram_disk() -> list[str]:
    """The command prefix that runs a command with an empty RAM disk of its own on /dev/shm."""
    prefix = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
              'mount -t tmpfs -o mode=1777,size=1g tmpfs /dev/shm && exec "$0" "$@"']  # fmt: skip
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        reason = f"cannot give the trials a RAM disk of their own: {probe.stderr.strip()}"
        if CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return prefix


COMMANDS = {"inv": ["inv", "test.unit"], "nox": ["nox", "-s", "unit-3.11"]}


def _start_up_seconds(project: Project, tool: str, started: Path) -> float:
    """Seconds from a warm run's start to its test's, then the run is stopped (one Ctrl-C)."""
    env = {"WAIT": "1", "TESTS_STARTED_FILE": str(started)}
    command = [str(BIN / COMMANDS[tool][0]), *COMMANDS[tool][1:]]
    begun = time.monotonic()
    process = subprocess.Popen(
        command, cwd=project.root, env=clean_env(env), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        while not started.exists():
            assert process.poll() is None, "the warm run ended before its test began"
            assert time.monotonic() - begun < 120, "the warm run never began its test"
            time.sleep(0.02)
        seconds = time.monotonic() - begun
    finally:
        ended = _interrupt(project, process)
    # A run that one Ctrl-C does not end fails here, not as a process still running that the
    # next test on this worker finds.
    assert ended, f"{shlex.join(command)} did not end within 120 s of one Ctrl-C"
    return seconds


def _interrupt(project: Project, process: subprocess.Popen[bytes]) -> bool:
    """One Ctrl-C to the run's group; whether the run ended within 120 s.

    One that did not is killed, and its servers (each in a session of its own) are stopped by
    ``suitekit clean``.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        project.run("suitekit", "clean")
        return False
    return True


@pytest.mark.parametrize("tool", list(COMMANDS))
def test_ctrl_c_twice_at_any_moment_of_start_up_leaves_nothing(
    demo_root: Path, tmp_path: Path, tool: str
) -> None:
    require_local_binaries()
    prefix = _own_ram_disk()
    assert "services" in SUITE_WITH_SERVICES
    project: Project = make_project(demo_root, SUITE_WITH_SERVICES)
    project.write("tests/unit/test_wait.py", WAITING_TEST)
    # A whole run first builds the session's virtualenv; then runs of the trials' own tool,
    # warm, show how long start-up takes until the test begins: the horizon of the delays. The
    # faster of two, since a load that slows one (the other tests on this machine) would put
    # the later delays past the trials' start-up, and those trials would reach their test.
    warm = project.run("inv", "test.unit")
    assert warm.returncode == 0, warm.stdout + warm.stderr
    horizon = min(_start_up_seconds(project, tool, tmp_path / f"started{n}") for n in (1, 2))
    given = (
        {"postgres": MACHINE_POSTGRES, "redis": MACHINE_REDIS}
        if MACHINE_POSTGRES and MACHINE_REDIS
        else {}
    )
    spec = {
        "root": str(project.root),
        "tool": tool,
        "trials": TRIALS,
        "horizon": horizon,
        "seed": f"{tool}{os.getpid()}",
        "given": given,
    }
    driver = Path(__file__).with_name("interrupt_trials.py")
    # The driver looks for what a trial left on the given servers as these tests do: it is
    # told them the same way (an autouse fixture hid SUITEKIT_* from this process's children).
    named = (
        {"SUITEKIT_TEST_POSTGRES_URL": MACHINE_POSTGRES, "SUITEKIT_TEST_REDIS_URL": MACHINE_REDIS}
        if given
        else {}
    )
    result = subprocess.run(
        [*prefix, sys.executable, str(driver), json.dumps(spec)], env={**os.environ, **named},
        capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    trials = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(trials) == TRIALS, result.stdout + result.stderr
    leaky = [t for t in trials if t["left"]]
    assert leaky == [], json.dumps(leaky, indent=2)
    # No error of suitekit's on the way out either. A KeyboardInterrupt's own report is fine,
    # and so is execnet's when an xdist worker idle between tasks gets the second SIGINT (its
    # "RuntimeError: release unlocked lock"): that is xdist's, and leaves nothing behind.
    ours = ("Bad file descriptor", "OSError", "suitekit.errors.", "suitekit: cleanup:")
    broken = [t for t in trials if any(sign in t["tail"] for sign in ours)]
    assert broken == [], json.dumps(broken, indent=2)
    # The trials did interrupt start-up, at varied moments: most runs never reached their test.
    assert len({t["delay"] for t in trials}) == TRIALS
    assert sum(not t["reached_tests"] for t in trials) >= TRIALS * 0.7, json.dumps(trials)
