"""How long each test waited for a CPU (suitekit.pytest_plugin._waits), on this kernel."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from suitekit._layout import Measured
from suitekit.pytest_plugin._waits import WAITED, SchedClock, WaitsPlugin
from tests.plugin.helpers import run

needs_schedstat = pytest.mark.skipif(
    not Path("/proc/thread-self/schedstat").exists(),
    reason="the kernel does not count run-queue waits here (Linux with scheduler statistics)",
)


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


@pytest.fixture
def one_cpu() -> Iterator[int]:
    """This thread pinned to one CPU (restored afterwards)."""
    allowed = os.sched_getaffinity(0)
    cpu = min(allowed)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, allowed)


@needs_schedstat
def test_a_cpu_shared_with_a_busy_process_is_waited_for_and_a_sleep_is_not(one_cpu: int) -> None:
    clock = SchedClock()
    start = clock.read()
    time.sleep(0.3)
    slept = clock.read()
    assert start is not None
    assert slept is not None
    assert slept - start < 0.1  # a sleep waits for no CPU

    rival = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        os.sched_setaffinity(rival.pid, {one_cpu})
        time.sleep(0.05)  # the rival is running
        before, wall = clock.read(), time.perf_counter()
        _burn(0.3)
        after, wall = clock.read(), time.perf_counter() - wall
    finally:
        rival.kill()
        rival.wait()
    assert before is not None
    assert after is not None
    # Two runnable processes on one CPU: about half of the wall time is spent waiting.
    assert 0.1 < after - before < wall
    clock.close()


def test_a_missing_file_gives_no_wait_and_is_not_asked_again(tmp_path: Path) -> None:
    clock = SchedClock(path=str(tmp_path / "nothing"))
    assert clock.read() is None
    assert clock.read() is None


class _FakeClock(SchedClock):
    def __init__(self, readings: list[float | None]) -> None:
        super().__init__()
        self.readings = readings

    def read(self) -> float | None:
        return self.readings.pop(0)


def _phases(plugin: WaitsPlugin) -> list[object]:
    """Run the setup and teardown wrappers and the makereport one; each phase report's wait."""
    waits = []
    for when in ("setup", "call", "teardown"):
        wrapper = {"setup": plugin.pytest_runtest_setup, "teardown": plugin.pytest_runtest_teardown}
        if when in wrapper:
            phase = wrapper[when]()
            next(phase)
            with pytest.raises(StopIteration):
                phase.send(None)
        call = cast("pytest.CallInfo[None]", SimpleNamespace(when=when))
        making = plugin.pytest_runtest_makereport(call)
        next(making)
        report = cast("pytest.TestReport", SimpleNamespace())
        with pytest.raises(StopIteration) as ended:
            making.send(report)
        assert ended.value.value is report
        waits.append(getattr(report, WAITED, None))
    return waits


def test_the_teardown_report_carries_the_wait_from_setup_to_teardown() -> None:
    plugin = WaitsPlugin(_FakeClock([1.0, 2.25]))
    assert _phases(plugin) == [None, None, 1.25]
    # A report made outside a test (none started since) carries nothing.
    assert _phases(WaitsPlugin(_FakeClock([None]))) == [None, None, None]


def test_without_a_clock_no_report_carries_a_wait() -> None:
    plugin = WaitsPlugin(_FakeClock([None, None]))
    assert _phases(plugin) == [None, None, None]


RETRIED = """
import os, pathlib, time

def test_second_time_lucky():
    time.sleep(0.2)
    marker = pathlib.Path(os.environ["ATTEMPTS"])
    if not marker.exists():
        marker.write_text("failed once")
        raise AssertionError("the first attempt fails")
"""


@needs_schedstat
@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_retried_test_has_the_wait_of_its_final_attempt(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    monkeypatch.setenv("ATTEMPTS", str(project.path / "attempts"))
    project.makepyfile(**{"tests/unit/test_retried": RETRIED})
    result = run(
        project, workers, "--suitekit-suite=unit", "--suitekit-retries=1",
        "--junitxml=junit/unit-3.11.xml", "-k", "lucky",
    )  # fmt: skip
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*1 rerun, 1 flaky*"])
    measured = Measured.read(project.path / "junit" / "unit-3.11.xml")
    assert measured is not None
    assert measured.timeline is not None
    (span,) = (s for s in measured.timeline.tests if s.node_id.endswith("lucky"))
    # Measured from the final attempt's setup (the clock starts again per attempt); the rerun's
    # wait is left out, as its time is left out of the JUnit file.
    assert span.waited is not None
    assert span.waited <= span.seconds - 0.4 + 0.002  # two sleeps of 0.2 s, no CPU waited
