"""How long each test waited for a CPU: what its measured time owes to other processes.

A test's JUnit time is wall time. When more processes want the CPUs than there are (a
suite's xdist workers and their controller, other suites of a parallel ``inv test.all``, a
busy machine), a CPU-bound test waits its turn and its time grows; a test that sleeps or
waits on a server does not. The durations store used to guess the difference from the run's
worker and CPU counts, which shrank a sleeping test's figure as much as a CPU-bound one's and
knew nothing of other processes: ``workers = "auto"`` then flipped between ``-n 0`` and
``-n 2`` from one run to the next on the same suite.

On Linux the kernel counts, per thread, the nanoseconds it spent runnable but waiting for a
CPU (the second field of ``/proc/thread-self/schedstat``). The process that runs a test reads
it as the test's setup starts and as its teardown ends (both inside the phases' own timing, so
the wait is part of the test's time), and puts the difference on the teardown's report
(``suitekit_waited``, seconds): xdist carries a report's attributes to the
controller, whose timeline sums them per test into the sidecar, and the durations store keeps
them beside the test's seconds
(:attr:`suitekit.sharding.Measurement.waited`). Where the file is missing (another system, a
kernel without scheduler statistics) nothing is added and the store falls back on its guess.

The file is opened once per thread that runs tests and read with ``pread``: about two
microseconds a read, two reads a test (a trivial test costs pytest 300 to 800 here). A test
retried by suitekit is measured per attempt, as its JUnit time is: the clock starts again at
each attempt's setup, and the timeline leaves out the waits of the attempts whose reports are
logged as reruns.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator
from typing import Final

import pytest

__all__ = ["WAITED", "SchedClock", "WaitsPlugin"]

WAITED: Final = "suitekit_waited"
"""The report attribute: seconds the phase's thread waited for a CPU."""

_SCHEDSTAT: Final = "/proc/thread-self/schedstat"


class SchedClock:
    """The calling thread's CPU wait so far, in seconds; ``None`` where the kernel says nothing.

    ``/proc/thread-self`` names the thread that opens it, so the file is opened again when
    another thread reads (pytest runs tests in its main thread; a plugin may not).
    """

    def __init__(self, path: str = _SCHEDSTAT) -> None:
        """Nothing is opened until the first read."""
        self.path = path
        self._fd = -1
        self._thread: int | None = None
        self._broken = False

    def read(self) -> float | None:
        """The seconds this thread has waited on a run queue since it started."""
        if self._broken:
            return None
        thread = threading.get_ident()
        try:
            if thread != self._thread:
                self.close()
                self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
                self._thread = thread
            fields = os.pread(self._fd, 128, 0).split()
            return int(fields[1]) / 1e9
        except (OSError, ValueError, IndexError):
            self._broken = True  # asked once: a missing or odd file stays so
            self.close()
            return None

    def close(self) -> None:
        """Close the file (a later read opens it again)."""
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = -1
        self._thread = None


class WaitsPlugin:
    """Puts on each test's teardown report how long it waited for a CPU (every test process)."""

    def __init__(self, clock: SchedClock | None = None) -> None:
        """Start with no mark: a report made before any test started carries nothing."""
        self.clock = clock if clock is not None else SchedClock()
        self.mark: float | None = None
        self.waited: float | None = None

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self) -> Generator[None]:
        """A test (or a retried test's attempt) begins: its wait counts from here."""
        self.mark = self.clock.read()
        self.waited = None
        return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self) -> Generator[None]:
        """The test's teardown is done: its wait is the clock's advance since the mark.

        Read after every other teardown (this outermost wrapper's code after the ``yield`` runs
        last) and before pytest stops the phase's clock, so that the wait lies inside the
        test's time.
        """
        try:
            return (yield)
        finally:
            if self.mark is not None:
                now = self.clock.read()
                self.waited = None if now is None else max(now - self.mark, 0.0)
            self.mark = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """The teardown's report carries the test's wait."""
        report = yield
        if call.when == "teardown" and self.waited is not None:
            setattr(report, WAITED, self.waited)
            self.waited = None
        return report

    def pytest_unconfigure(self) -> None:
        """Close the clock's file."""
        self.clock.close()
