"""When each test of a suite run ran, and on which worker: the timeline in the sidecar.

The controller (or the only process) of a suite run sees every test's reports: their ``start``
and ``stop`` (wall-clock seconds, which pytest measures for each phase) and, under xdist, the
worker that sent them (``worker_id``, which xdist adds to every report it forwards). A test's
span runs from its first report's start to its last report's stop, so a retried test covers all
its attempts. At the session's end :class:`~._suite.SuitePlugin` writes the spans into the
sidecar beside the JUnit file (:class:`suitekit._layout.Timeline`), where ``suitekit report``
reads them for the run's HTML report.

Each report costs a dictionary lookup and two comparisons; node ids are made relative to the
project's root once per test, at the end.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from suitekit._layout import Span, Timeline

if TYPE_CHECKING:
    import pytest

    from suitekit.pytest_plugin._shared import ProjectIds

__all__ = ["TimelinePlugin"]

MAIN = "main"
"""The worker of a test run without xdist (or by the controller itself)."""


class _Seen:
    """A test's span so far: mutable, one per test, widened by each of its reports."""

    __slots__ = ("first", "last", "worker")

    def __init__(self, worker: str, first: float, last: float) -> None:
        self.worker = worker
        self.first = first
        self.last = last


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
        span = self.spans.get(report.nodeid)
        if span is None:
            worker = getattr(report, "worker_id", None)
            self.spans[report.nodeid] = _Seen(
                worker if isinstance(worker, str) else MAIN, start, stop
            )
            return
        span.first = min(span.first, start)
        span.last = max(span.last, stop)

    def timeline(self, stopped: float) -> Timeline | None:
        """The session's timeline, ending at ``stopped``; ``None`` in a worker."""
        started = self.started
        if started is None:
            return None
        tests = tuple(
            Span(
                node_id=self.ids.of(node_id),
                worker=seen.worker,
                start=max(seen.first - started, 0.0),
                seconds=max(seen.last - seen.first, 0.0),
            )
            for node_id, seen in self.spans.items()
        )
        return Timeline(started=started, stopped=max(stopped, started), tests=tests)
