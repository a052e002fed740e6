"""When each test of a suite run ran, and on which worker: the timeline in the sidecar.

The controller (or the only process) of a suite run sees every test's reports: their ``start``
and ``stop`` (wall-clock seconds, which pytest measures for each phase) and, under xdist, the
worker that sent them (``worker_id``, which xdist adds to every report it forwards). A test's
span runs from its first report's start to its last report's stop, so a retried test covers all
its attempts.

A report without a phase's times is left out: xdist reports a worker's crash with a report of
its own (``when="???"``, ``start`` and ``stop`` 0, no ``worker_id``; ``dsession.handle_crashitem``),
which would stretch the test's span back to 1970. A test that crashed its worker before any
report is thus not on the timeline (the JUnit report has its failure); one that crashed after
its setup keeps the span of what it reported. The worker of a report without ``worker_id``
is the one of xdist's node that sent it, when it names one.

Each report may also say how long its test waited for a CPU (:mod:`._waits`): a test's waits
are summed over its reports but those of its reruns (attempts its JUnit time leaves out), and a
test none of whose reports said is recorded without one.

At the session's end :class:`~._suite.SuitePlugin` writes the spans into the
sidecar beside the JUnit file (:class:`suitekit._layout.Timeline`), where ``suitekit report``
reads them for the run's HTML report.

Each report costs a few comparisons and a dictionary lookup; node ids are made relative to the
project's root once per test, at the end.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from suitekit._layout import Span, Timeline
from suitekit.pytest_plugin._waits import WAITED

if TYPE_CHECKING:
    import pytest

    from suitekit.pytest_plugin._shared import ProjectIds

__all__ = ["TimelinePlugin"]

MAIN = "main"
"""The worker of a test run without xdist (or by the controller itself)."""

_PHASES = frozenset({"setup", "call", "teardown"})


class _Seen:
    """A test's span so far: mutable, one per test, widened by each of its reports."""

    __slots__ = ("first", "last", "waited", "worker")

    def __init__(self, worker: str, first: float, last: float, waited: float | None) -> None:
        self.worker = worker
        self.first = first
        self.last = last
        self.waited = waited


class TimelinePlugin:
    """Records, in the controller, when each test ran and where (see the module docstring)."""

    def __init__(self, ids: ProjectIds) -> None:
        """Keep the project's node ids; nothing is recorded before the session starts."""
        self.ids = ids
        self.started: float | None = None
        self.spans: dict[str, _Seen] = {}

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """The controller (or the only process) starts the clock; a worker records nothing."""
        if not hasattr(session.config, "workerinput"):
            self.started = time.time()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Widen the test's span to this report's phase."""
        if self.started is None:
            return
        start, stop = report.start, report.stop
        if report.when not in _PHASES or not 0 < start <= stop:  # e.g. xdist's crash report
            return
        waited = getattr(report, WAITED, None)
        outcome: str = report.outcome  # "rerun": an attempt the JUnit time leaves out
        if not isinstance(waited, float) or outcome == "rerun":
            waited = None
        span = self.spans.get(report.nodeid)
        if span is None:
            self.spans[report.nodeid] = _Seen(_worker(report), start, stop, waited)
            return
        span.first = min(span.first, start)
        span.last = max(span.last, stop)
        if waited is not None:
            span.waited = waited + (span.waited or 0.0)

    def timeline(self, stopped: float) -> Timeline | None:
        """The session's timeline, ending at ``stopped``; ``None`` in a worker.

        Each span is clamped to the session: the reports' times are the workers' clocks
        (another machine's, for a remote xdist worker), the session's the controller's.
        """
        started = self.started
        if started is None:
            return None
        stopped = max(stopped, started)
        tests = []
        for node_id, seen in self.spans.items():
            first = min(max(seen.first, started), stopped)
            last = min(max(seen.last, first), stopped)
            tests.append(
                Span(
                    node_id=self.ids.of(node_id),
                    worker=seen.worker,
                    start=first - started,
                    seconds=last - first,
                    waited=seen.waited,
                )
            )
        return Timeline(started=started, stopped=stopped, tests=tuple(tests))


def _worker(report: pytest.TestReport) -> str:
    """The xdist worker that sent ``report`` (``gw0``...); :data:`MAIN` without xdist."""
    worker = getattr(report, "worker_id", None)
    if isinstance(worker, str):
        return worker
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    named = getattr(gateway, "id", None)
    return named if isinstance(named, str) else MAIN
