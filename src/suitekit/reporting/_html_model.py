"""What the run's HTML report shows, as plain data: :func:`build_page` makes a :class:`RunPage`.

The report step (:func:`suitekit.reporting._report.report`) gathers one :class:`SessionRecord`
per JUnit file (its sidecar, with the timeline the pytest plugin recorded, or for another
runner's report only when it ran) and passes them with the run's
:class:`~suitekit.reporting._summary.Summary`; everything here is a pure function of that, so
the page is the same for the same files (:mod:`suitekit.reporting._html` renders it).

The timeline's axis starts when the first session started. A session is a lane; within it, a
lane per worker that ran a test (``main`` without xdist, ``gw0``... under xdist), and a bar per
test. A session of tens of thousands of tests would give a page of as many elements, most of
them narrower than a pixel: above :data:`BAR_LIMIT` tests, each worker's neighbouring tests are
drawn as one bar while it stays under :data:`MERGE_FRACTION` of the session's length (the bar
says how many tests it stands for). A bar is drawn within its session: a span that a sidecar
puts before the session's start or past its end is clipped to it.

A bar's outcome is its session's: a test that failed in ``unit-3.12`` alone is red in that lane
only, not in ``unit-3.11``'s nor in another shard's.

Balance is max/mean, as ``suitekit shards`` prints it: 1.0 is a perfect split. Per sharded
session, of the shards' predicted seconds (each shard's sidecar records what the plan predicted
for it) and of their measured seconds (from the session's start to its end, else the JUnit
time); per session on several xdist workers, of the workers' busy seconds (the sum of their
tests' spans), which nothing predicts.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from suitekit._layout import Measured, Span
    from suitekit.reporting._summary import Summary

__all__ = [
    "BAR_LIMIT",
    "MERGE_FRACTION",
    "Balance",
    "Bar",
    "Link",
    "RunPage",
    "SessionLane",
    "SessionRecord",
    "WorkerLane",
    "build_page",
    "junit_started",
    "session_of",
]

BAR_LIMIT: Final = 3000
"""Above this many tests in a session, neighbouring short tests share a bar."""
MERGE_FRACTION: Final = 0.002
"""The longest a shared bar grows, as a fraction of its session's length (2 px of 1000)."""

BarOutcome = Literal["passed", "failed", "flaky"]

_SHARD: Final = re.compile(r"\.shard-(\d+)-of-(\d+)$")
_TIMESTAMP: Final = re.compile(rb"<testsuites?\b[^>]*?\btimestamp=\"([^\"]{1,64})\"")


def session_of(stem: str) -> str:
    """The session a report stem belongs to: ``unit-3.11`` of ``unit-3.11.shard-2-of-4``."""
    return _SHARD.sub("", stem)


def junit_started(head: bytes, *, stopped: float, seconds: float) -> float:
    """When the run that wrote a JUnit file started (seconds since the epoch).

    From the ``timestamp`` of its first ``<testsuites>`` or ``<testsuite>`` in ``head`` (the
    file's first bytes), when that agrees with the file's modification time ``stopped`` and its
    time ``seconds`` within two minutes (a timestamp without a zone is the machine's local
    time); else ``stopped - seconds``.
    """
    fallback = stopped - seconds
    match = _TIMESTAMP.search(head)
    if match is None:
        return fallback
    try:
        started = datetime.fromisoformat(match[1].decode("ascii")).timestamp()
    except (ValueError, UnicodeDecodeError, OverflowError, OSError):
        return fallback
    return started if abs(started + seconds - stopped) <= 120 else fallback  # noqa: PLR2004


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    """What the report step found of one JUnit file.

    Attributes:
        stem: The report's stem (``unit-3.11``, ``unit-3.11.shard-2-of-4``).
        measured: Its sidecar; ``None`` for another runner's report (or an unreadable one).
        started: When the session started, for a report without a timeline (see
            :func:`junit_started`).
        seconds: The report's own time (the JUnit ``time``).
    """

    stem: str
    measured: Measured | None
    started: float
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    """A test (or, in a large session, neighbouring tests) on the timeline.

    Attributes:
        test: The node id of the test (of the first test, for a shared bar).
        start: Seconds after the page's axis starts.
        seconds: How long it ran.
        outcome: ``failed`` when it failed (or one of a shared bar's tests did), ``flaky``
            when it passed on a retry, else ``passed``.
        tests: How many tests it stands for.
        last: The node id of the last test of a shared bar (``""`` for one test).
    """

    test: str
    start: float
    seconds: float
    outcome: BarOutcome = "passed"
    tests: int = 1
    last: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerLane:
    """One worker of a session, and its tests.

    Attributes:
        name: ``main``, ``gw0``...
        bars: Its tests, by start.
        tests: How many tests it ran.
        busy: The sum of its tests' seconds.
    """

    name: str
    bars: tuple[Bar, ...]
    tests: int
    busy: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionLane:
    """One session (one JUnit file) on the timeline.

    Attributes:
        name: The report's stem: ``unit-3.11``, ``unit-3.11.shard-1-of-2``.
        session: The session it belongs to (the stem less a shard's part).
        start: Seconds after the page's axis starts.
        seconds: How long it ran.
        workers: Its workers, ``main`` first then ``gw0``...; empty when the report has no
            per-test times (another runner's, or an older plugin's).
        tests: How many tests the timeline shows.
    """

    name: str
    session: str
    start: float
    seconds: float
    workers: tuple[WorkerLane, ...]
    tests: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """How evenly a session's work was split.

    Attributes:
        session: The session.
        parts: ``shards`` or ``workers``.
        count: How many parts.
        predicted: Max/mean of the parts' predicted seconds; ``None`` when not predicted.
        measured: Max/mean of their measured seconds.
        seconds: Each part's measured seconds, in part order.
    """

    session: str
    parts: Literal["shards", "workers"]
    count: int
    predicted: float | None
    measured: float
    seconds: tuple[float, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """A file of the run, linked relative to the reports folder.

    Attributes:
        label: What it is.
        href: Its path relative to the reports folder, with ``/``.
        present: Whether it existed when the page was written (a later step may write it).
    """

    label: str
    href: str
    present: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class RunPage:
    """Everything the run's HTML report shows.

    Attributes:
        title: The project's name.
        started: When the first session started (seconds since the epoch); ``None`` when no
            session has a time.
        seconds: The axis' length: from the first session's start to the last one's end.
        sessions: The timeline's lanes, by start.
        balance: The sessions split into shards or over xdist workers.
        summary: The run's summary (its tables, failures, flaky and quarantined tests).
        links: The run's other files.
        logs: Session to its log's path (relative), for the sessions that have one.
    """

    title: str
    started: float | None
    seconds: float
    sessions: tuple[SessionLane, ...]
    balance: tuple[Balance, ...]
    summary: Summary
    links: tuple[Link, ...]
    logs: Mapping[str, str]


def build_page(
    *,
    title: str,
    records: Sequence[SessionRecord],
    summary: Summary,
    links: Sequence[Link] = (),
    logs: Mapping[str, str] | None = None,
) -> RunPage:
    """The page of a run: its timeline and balance from ``records``, the rest from ``summary``."""
    spans: list[tuple[SessionRecord, float, float]] = []
    for record in records:
        timeline = record.measured.timeline if record.measured is not None else None
        if timeline is not None:
            spans.append((record, timeline.started, timeline.stopped))
        else:
            spans.append((record, record.started, record.started + max(record.seconds, 0.0)))
    origin = min((start for _, start, _ in spans), default=None)
    end = max((stop for _, _, stop in spans), default=0.0)
    # By report and node id: a test's outcome in one session is not its outcome in another.
    outcomes: dict[tuple[str, str], BarOutcome] = {
        (case.report, case.node_id): "flaky" for case in summary.flaky if case.node_id
    }
    outcomes.update(
        {(case.report, case.node_id): "failed" for case in summary.failed if case.node_id}
    )
    lanes = tuple(
        sorted(
            (
                _session_lane(record, start - (origin or 0.0), stop - start, outcomes)
                for record, start, stop in spans
            ),
            key=lambda lane: (lane.start, lane.name),
        )
    )
    return RunPage(
        title=title,
        started=origin,
        seconds=max(end - origin, 0.0) if origin is not None else 0.0,
        sessions=lanes,
        balance=_balance(records, lanes),
        summary=summary,
        links=tuple(links),
        logs=dict(logs or {}),
    )


def _session_lane(
    record: SessionRecord,
    start: float,
    seconds: float,
    outcomes: Mapping[tuple[str, str], BarOutcome],
) -> SessionLane:
    timeline = record.measured.timeline if record.measured is not None else None
    tests = timeline.tests if timeline is not None else ()
    by_worker: dict[str, list[Span]] = {}
    for span in tests:
        by_worker.setdefault(span.worker, []).append(span)
    merge = seconds * MERGE_FRACTION if len(tests) > BAR_LIMIT else 0.0
    mine = {
        node_id: outcome for (stem, node_id), outcome in outcomes.items() if stem == record.stem
    }
    workers = tuple(
        WorkerLane(
            name=name,
            bars=_bars(by_worker[name], start, seconds, merge, mine),
            tests=len(by_worker[name]),
            busy=sum(span.seconds for span in by_worker[name]),
        )
        for name in (timeline.workers if timeline is not None else ())
    )
    return SessionLane(
        name=record.stem,
        session=session_of(record.stem),
        start=start,
        seconds=seconds,
        workers=workers,
        tests=len(tests),
    )


def _bars(
    spans: Sequence[Span],
    offset: float,
    length: float,
    merge: float,
    outcomes: Mapping[str, BarOutcome],
) -> tuple[Bar, ...]:
    """A worker's bars, by start, within ``0``-``length`` s of its session (clipped to it).

    With ``merge`` > 0, neighbours within ``merge`` s share one. ``outcomes``: the session's
    failed and flaky tests by node id.
    """
    ordered = sorted(spans, key=lambda span: (span.start, span.node_id))
    bars: list[Bar] = []
    group: list[Span] = []

    def close() -> None:
        first, last = group[0], group[-1]
        begin = min(max(first.start, 0.0), length)
        stop = min(max(span.start + span.seconds for span in group), length)
        found = {outcomes.get(span.node_id, "passed") for span in group}
        outcome: BarOutcome = next(
            (kind for kind in ("failed", "flaky") if kind in found), "passed"
        )
        bars.append(
            Bar(
                test=first.node_id,
                start=offset + begin,
                seconds=max(stop - begin, 0.0),
                outcome=outcome,
                tests=len(group),
                last=last.node_id if len(group) > 1 else "",
            )
        )
        group.clear()

    for span in ordered:
        # Without merging every test has its bar, even one of no length at the same
        # millisecond as the one before (the sidecar's times are whole milliseconds).
        if group and (merge <= 0 or span.start + span.seconds - group[0].start > merge):
            close()
        group.append(span)
    if group:
        close()
    return tuple(bars)


def _ratio(values: Sequence[float]) -> float:
    mean = statistics.fmean(values) if values else 0.0
    return max(values) / mean if mean > 0 else 1.0


def _balance(records: Sequence[SessionRecord], lanes: Sequence[SessionLane]) -> tuple[Balance, ...]:
    found: list[Balance] = []
    shards: dict[str, dict[int, SessionRecord]] = {}
    for record in records:
        match = _SHARD.search(record.stem)
        if match is not None:
            shards.setdefault(session_of(record.stem), {})[int(match[1])] = record
    measured_seconds = {lane.name: lane.seconds for lane in lanes}
    for session, parts in sorted(shards.items()):
        ordered = [parts[index] for index in sorted(parts)]
        seconds = tuple(measured_seconds.get(part.stem, part.seconds) for part in ordered)
        predictions = [part.measured.predicted if part.measured else None for part in ordered]
        known = [value for value in predictions if value is not None]
        found.append(
            Balance(
                session=session,
                parts="shards",
                count=len(ordered),
                predicted=_ratio(known) if len(known) == len(ordered) else None,
                measured=_ratio(seconds),
                seconds=seconds,
            )
        )
    for lane in lanes:
        if len(lane.workers) > 1:
            busy = tuple(worker.busy for worker in lane.workers)
            found.append(
                Balance(
                    session=lane.name,
                    parts="workers",
                    count=len(busy),
                    predicted=None,
                    measured=_ratio(busy),
                    seconds=busy,
                )
            )
    return tuple(found)
