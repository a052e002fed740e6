"""The report layout: the one owner of where a session's reports go and what they are called.

Every process of a run finds the others' reports by these names alone: a suite session writes
its JUnit file (and the sidecar beside it), the runner and ``suitekit report`` read them, CI
downloads every shard's into one folder. So the names are made and read here only:

- a session is ``<suite>-<python>`` (``unit-3.11``); a shard of it adds ``.shard-K-of-N``;
- its JUnit file is ``<reports>/junit/<stem>.xml``, its output ``<reports>/logs/<session>.log``;
- :class:`Measured`, the sidecar ``<stem>.measured.json`` beside a JUnit file, says how its
  durations were measured (workers and CPUs), what the shard was predicted to take, and when
  the session and each of its tests ran on which worker (:class:`Timeline`, for the run's HTML
  report): written atomically, read back bounded and validated (a missing or hostile one is
  ``None``: the figures only refine the durations store and draw the report's timeline).

Pure but for :meth:`Measured.write` and :meth:`Measured.read`; no third-party import.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Final, TypeGuard

from suitekit._files import (
    STORE_LIMIT,
    FileRefusedError,
    load_json,
    open_regular,
    write_text_atomic,
)

__all__ = [
    "EMPTY_JUNIT",
    "EPOCH_LIMIT",
    "JUNIT_FOLDER",
    "LOGS_FOLDER",
    "Measured",
    "Span",
    "Timeline",
    "junit_file",
    "log_file",
    "session_name",
    "session_reports",
    "shard_slug",
    "shard_stems",
    "split_of",
]

EMPTY_JUNIT: Final = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<testsuites name="suitekit" tests="0" failures="0" errors="0" skipped="0"/>\n'
)
"""The report of a shard that got no test to run (more shards than a suite's test files)."""

JUNIT_FOLDER: Final = "junit"
"""The JUnit files' folder inside the reports folder."""
LOGS_FOLDER: Final = "logs"
"""The sessions' logs' folder inside the reports folder."""

_SHARD: Final = re.compile(r"\.shard-\d+-of-(\d+)")
_WITH_WAIT: Final = 5
"""A timeline entry's length with its wait: node id, lane, start, length, waited."""

EPOCH_LIMIT: Final = 4e9
"""The latest time a timeline may name (seconds since the epoch: the year 2096); a sidecar's
time outside 0 to this is none a clock gave, and the timeline is left out."""


def session_name(suite: str, python: str) -> str:
    """The full name of a suite's session on one Python: ``unit-3.11``."""
    return f"{suite}-{python}"


def shard_slug(index: int, total: int) -> str:
    """What a shard adds to its session's report names: ``shard-2-of-4``."""
    return f"shard-{index}-of-{total}"


def junit_file(reports: Path, session: str, shard: tuple[int, int] | None = None) -> Path:
    """A session's JUnit file in the reports folder: unique per suite, Python and shard.

    ``unit-3.11.xml`` for the whole suite, ``unit-3.11.shard-2-of-4.xml`` for a shard (``shard``
    is ``(index, total)``), so that every shard's artifacts can be downloaded into one folder.
    """
    stem = session + (f".{shard_slug(*shard)}" if shard is not None else "")
    return reports / JUNIT_FOLDER / f"{stem}.xml"


def log_file(reports: Path, session: str) -> Path:
    """Where a run keeps a session's output."""
    return reports / LOGS_FOLDER / f"{session}.log"


def session_reports(junit_folder: Path, session: str) -> list[Path]:
    """The JUnit files of ``session`` that may be in ``junit_folder``: its own, then its shards'.

    The whole-suite file is listed whether or not it exists; the shards' are those found.
    """
    return [
        junit_folder / f"{session}.xml",
        *sorted(junit_folder.glob(f"{session}.shard-*.xml")),
    ]


def split_of(stem: str, session: str) -> int | None:
    """How a report file stem splits ``session``.

    0 for the whole suite (``unit-3.11``), N for a shard of N (``unit-3.11.shard-2-of-4``),
    ``None`` when it is another session's report (``unit-3.11`` seen from ``unit-3.1``).
    """
    if stem == session:
        return 0
    match = _SHARD.fullmatch(stem.removeprefix(session)) if stem.startswith(session) else None
    return int(match[1]) if match else None


def shard_stems(session: str, total: int) -> list[str]:
    """The report stems of every shard of ``session`` split ``total`` ways."""
    return [f"{session}.{shard_slug(index, total)}" for index in range(1, total + 1)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """When one test ran, and where.

    Attributes:
        node_id: The test's pytest node id, relative to the project's root.
        worker: The xdist worker that ran it (``gw0``...), or ``main`` without xdist.
        start: When its setup began, in seconds after its session started (millisecond
            precision).
        seconds: From its setup's start to its teardown's end (of every attempt, when it was
            retried).
        waited: How long it waited for a CPU between its final attempt's setup and teardown
            (``None``: not measured; see :mod:`suitekit.pytest_plugin._waits`).
    """

    node_id: str
    worker: str
    start: float
    seconds: float
    waited: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    """When a suite session ran, and each of its tests.

    In the sidecar a test costs its node id and three or four numbers: the index of its worker
    in ``lanes``, its start and length in whole milliseconds and, when it was measured, how many
    of those it waited for a CPU (about 75 bytes for a node id of 50 characters).

    Attributes:
        started: When the session started, in seconds since the epoch.
        stopped: When it ended (its JUnit file written), in seconds since the epoch.
        tests: The tests it ran, in the order their first report arrived.
    """

    started: float
    stopped: float
    tests: tuple[Span, ...] = ()

    @property
    def workers(self) -> tuple[str, ...]:
        """The workers that ran a test, in a stable order: ``main`` first, then ``gw0``..."""
        return tuple(sorted({span.worker for span in self.tests}, key=_worker_order))

    def to_data(self) -> dict[str, object]:
        """The sidecar's keys for the timeline."""
        lanes = self.workers
        index = {worker: number for number, worker in enumerate(lanes)}
        return {
            "started": round(self.started, 3),
            "stopped": round(self.stopped, 3),
            "lanes": list(lanes),
            "tests": [
                [span.node_id, index[span.worker], _ms(span.start), _ms(span.seconds)]
                + ([] if span.waited is None else [_ms(span.waited)])
                for span in self.tests
            ],
        }

    @classmethod
    def from_data(cls, data: dict[str, object]) -> Timeline | None:
        """The timeline in a sidecar's keys; ``None`` when they hold none, or a broken one.

        All or nothing: one broken entry (a test that is not ``[node id, lane index, start ms,
        length ms]``, optionally followed by its ``waited ms``, with a known lane and lengths of
        at least 0), or times outside 0 to
        :data:`EPOCH_LIMIT` or stopping before they start, discard the whole timeline, never
        a part of it (a sidecar suitekit wrote has none; one that does was changed by hand or
        is hostile, and half of it would draw a session that did not run so). A span is not
        checked against the session's length: the page clamps it.
        """
        started, stopped = data.get("started"), data.get("stopped")
        lanes, tests = data.get("lanes", []), data.get("tests", [])
        if not _finite(started) or not _finite(stopped):
            return None
        if not 0 <= started <= stopped <= EPOCH_LIMIT:
            return None
        if not (isinstance(lanes, list) and isinstance(tests, list)):
            return None
        if not all(isinstance(lane, str) for lane in lanes):
            return None
        spans = []
        for entry in tests:
            span = _span(entry, lanes)
            if span is None:
                return None
            spans.append(span)
        return cls(started=float(started), stopped=float(stopped), tests=tuple(spans))


def _ms(seconds: float) -> int:
    return max(round(seconds * 1000), 0)


def _finite(value: object) -> TypeGuard[float]:
    """A JSON number that a float holds (an int of hundreds of digits does not)."""
    if type(value) is int:
        return abs(value) <= sys.float_info.max
    return type(value) is float and math.isfinite(value)


def _span(entry: object, lanes: Sequence[str]) -> Span | None:
    """One test of a sidecar: ``[node id, lane index, start ms, length ms(, waited ms)]``.

    A sidecar holds one entry per test (tens of thousands in a large suite, read by every
    session's end), so the checks are exact-type tests: the JSON decoder gives numbers as
    exactly ``int`` or ``float``, and true/false is never one here.
    """
    if type(entry) is not list or len(entry) not in (_WITH_WAIT - 1, _WITH_WAIT):
        return None
    node_id, lane = entry[0], entry[1]
    if type(node_id) is not str or type(lane) is not int or not 0 <= lane < len(lanes):
        return None
    start, length = _seconds(entry[2]), _seconds(entry[3])
    if start is None or length is None:
        return None
    waited = None
    if len(entry) == _WITH_WAIT:
        waited = _seconds(entry[4])
        if waited is None:
            return None
    return Span(node_id=node_id, worker=lanes[lane], start=start, seconds=length, waited=waited)


def _seconds(milliseconds: object) -> float | None:
    """A sidecar's whole milliseconds as seconds; ``None`` unless finite and at least 0."""
    if type(milliseconds) is int:
        return milliseconds / 1000 if 0 <= milliseconds <= sys.float_info.max else None
    if type(milliseconds) is float and math.isfinite(milliseconds) and milliseconds >= 0:
        return milliseconds / 1000
    return None


def _worker_order(worker: str) -> tuple[int, str]:
    """``main``, then ``gw0``, ``gw1``, ... ``gw10`` in number order, then any other name."""
    if worker == "main":
        return (-1, "")
    number = worker.removeprefix("gw")
    return (int(number), "") if number.isdigit() else (1 << 30, worker)


@dataclass(frozen=True, slots=True, kw_only=True)
class Measured:
    """How a JUnit file's durations were measured: the sidecar beside it.

    Attributes:
        workers: The xdist workers of the run (1 without xdist).
        cpus: The machine's CPU count then.
        predicted: The seconds the shard plan predicted for this shard's tests (``None``: the
            run was not a shard).
        timeline: When the session and each of its tests ran (``None``: not recorded).
    """

    workers: int
    cpus: int
    predicted: float | None = None
    timeline: Timeline | None = None

    SUFFIX: ClassVar[str] = ".measured.json"
    # About 70 bytes a test (1.4 MB for 20,000): a store's limit bounds the largest suite.
    LIMIT: ClassVar[int] = STORE_LIMIT
    # Where the figures end in a sidecar suitekit wrote: the tests come last (see to_json).
    _TESTS: ClassVar[bytes] = b',"tests":'
    # How much of a sidecar is read for its figures alone: they and the lanes fit well within.
    _HEAD: ClassVar[int] = 1 << 14

    @classmethod
    def path_for(cls, junit: Path) -> Path:
        """The sidecar of ``junit``."""
        return junit.with_suffix(cls.SUFFIX)

    def to_json(self) -> str:
        """The sidecar's text: one line, without spaces (it holds a line per test's worth).

        The timeline's tests come last, so that the figures can be read without them
        (:meth:`read_path` with ``timeline=False``).
        """
        data: dict[str, object] = {"workers": self.workers, "cpus": self.cpus}
        if self.predicted is not None:
            data["predicted"] = round(self.predicted, 3)
        if self.timeline is not None:
            data.update(self.timeline.to_data())
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes, *, timeline: bool = True) -> Measured | None:
        """The figures in a sidecar's text; ``None`` when it holds none (each at least 1).

        The prediction and the timeline are optional (an older suitekit wrote neither): a
        broken one is left out, the figures kept. ``timeline=False`` leaves the timeline out
        unread (a :class:`Span` a test: what only the run's page needs).
        """
        try:
            data = load_json(text)
            if not isinstance(data, dict):
                return None
            workers, cpus = max(int(data["workers"]), 1), max(int(data["cpus"]), 1)
        except (ValueError, KeyError, TypeError, OverflowError):
            return None
        predicted = data.get("predicted")
        return cls(
            workers=workers,
            cpus=cpus,
            predicted=float(predicted) if _finite(predicted) and predicted >= 0 else None,
            timeline=Timeline.from_data(data) if timeline else None,
        )

    def write(self, junit: Path) -> None:
        """Write the sidecar of ``junit``, atomically (readers see all of it or none).

        Raises:
            ReportError: It cannot be written.
        """
        write_text_atomic(self.path_for(junit), self.to_json())  # makes the folder too

    @classmethod
    def read(cls, junit: Path, *, timeline: bool = True) -> Measured | None:
        """The sidecar of ``junit``; ``None`` when missing, unreadable or not one.

        A hostile sidecar (a FIFO, a link, a huge or deeply nested file) is passed over, never
        waited on. ``timeline=False``: the figures alone (see :meth:`read_path`).
        """
        return cls.read_path(cls.path_for(junit), timeline=timeline)

    @classmethod
    def read_path(cls, path: Path, *, timeline: bool = True) -> Measured | None:
        """A sidecar at ``path`` (see :meth:`read`).

        ``timeline=False`` reads the figures alone, without the timeline: from the sidecar's
        first bytes when they hold all of them, up to the tests (a sidecar suitekit wrote:
        :meth:`to_json` puts the tests last), at a cost that does not grow with the suite;
        else (another layout, or figures the first bytes do not hold) from the whole text.
        """
        try:
            with open_regular(path, limit=cls.LIMIT) as handle:
                if timeline:
                    return cls.from_json(handle.read(cls.LIMIT + 1))
                head = handle.read(cls._HEAD)
                cut = head.find(cls._TESTS)
                if cut >= 0:
                    # Valid JSON only when the cut is in the top-level object (a ',"tests":'
                    # inside a string would have its quotes escaped).
                    figures = cls.from_json(head[:cut] + b"}", timeline=False)
                    if figures is not None:
                        return figures
                return cls.from_json(head + handle.read(cls.LIMIT + 1), timeline=False)
        except (OSError, FileRefusedError):
            return None
