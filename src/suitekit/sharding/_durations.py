"""The durations store: how long each test took when it last ran, kept between runs.

The store is one JSON file, by default ``.suitekit/durations.json`` under the project root
(:data:`DURATIONS_FILE`). It maps a suite's name to its test cases (``classname::name``) and
each case to a :class:`Measurement`: the seconds it took and the conditions it was measured
under (how many xdist workers shared how many CPUs, and when).

Why the newest measurement wins, and not a moving average:

- Stores are combined from many places (CI shards, matrix jobs, a developer's machine), in an
  order nobody controls. :meth:`DurationStore.merge` must therefore give the same store whatever
  the order and grouping of the merges: commutative, associative and idempotent. Picking the
  maximum of a total order (newest ``measured_at``; on a tie the larger seconds, then the larger
  worker and CPU counts) has all three properties. A moving average has none of them: folding
  shard A then B gives another figure than B then A, and merging a store into itself again
  moves the average.
- The newest figure measures the current code. A test made ten times faster last week should
  be scheduled as fast now, not drift there over a dozen runs.
- A figure is only comparable with the conditions it was measured under, so those conditions
  are kept instead of being averaged away. Tests run in parallel slow each other down: on one
  real suite the summed test time grew from 120 s run serially to 198 s with 2 workers and to
  351 s with 4 on the same cores. Where the kernel counts it, the time each test waited for a
  CPU is kept too (``waited``), and :attr:`Measurement.serial_seconds` takes it off; elsewhere
  ``workers`` and ``cpus`` give a guess of it.

The file is written atomically (a temporary file in the same folder, then :func:`os.replace`),
so a reader sees the old store or the new one, never half of one. A corrupt file is reported,
never deleted: it may be the only copy of hours of measurements.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar

from suitekit._files import (
    FormatError,
    frozen_table,
    json_table,
    read_versioned_json,
    write_text_atomic,
)
from suitekit.errors import ReportError

__all__ = ["DURATIONS_FILE", "DurationStore", "Measurement", "update_store"]

DURATIONS_FILE: Final = Path(".suitekit", "durations.json")
"""Where the store lives, relative to the project root."""

_VERSION: Final = 1
_FIELDS: Final = ("seconds", "workers", "cpus", "measured_at")
T = TypeVar("T")
_FIELD_SET: Final = frozenset(_FIELDS)
_NUMBERS: Final = (int, float)
_string: Final[Callable[[str], str]] = json.encoder.encode_basestring_ascii
"""A JSON string literal, escaped as ``json.dumps`` escapes it (its C function)."""
_WAITED: Final = "waited"
"""The optional table of measured waits (suite -> case -> seconds), beside ``suites`` rather
than in its entries: a suitekit older than the waits reads only ``suites`` and ignores it."""
_FIX: Final = (
    "  fix: delete it (the next run measures every test afresh) "
    "or restore it from version control or the CI cache."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """How long one test case took in one run, and under which conditions.

    Attributes:
        seconds: The test's own time, as the JUnit report gives it.
        workers: How many test processes ran at once (1 for a serial run).
        cpus: How many CPUs the machine offered them.
        measured_at: When the run that measured it started, in seconds since the Unix epoch.
        waited: Of ``seconds``, how long the test waited for a CPU, as the kernel counted it
            (``None``: not measured, e.g. off Linux or by an older suitekit).

    Raises:
        ValueError: A figure is negative or not finite, or a count is not a whole number of
            at least 1.
    """

    seconds: float
    workers: int
    cpus: int
    measured_at: float
    waited: float | None = None

    @property
    def serial_seconds(self) -> float:
        """The figure corrected for contention, as if the test had a CPU to itself.

        When the test's wait for a CPU was measured, that wait is taken off: what is left is
        its own work and what it waited on that is not a CPU (a sleep, a server, a
        subprocess), which a CPU to itself would not have shortened. Any contention counts,
        the suite's own workers' and other processes' alike.

        Otherwise it is guessed from the run's counts. Under xdist the controller is one more
        busy process beside the workers (it takes every result, one at a time), so
        ``workers + 1`` processes shared the CPUs; when they outnumbered them they slowed each
        other down, and ``cpus / (workers + 1)`` of the figure is counted. A serial run (one
        worker) is taken as it is. Counting the controller keeps a figure taken with as many
        workers as CPUs from making a serial run look slower than it is (which would choose
        xdist again, and record inflated figures again). The guess shrinks a test that slept
        as much as one that computed, and misses other processes' load: the measured wait
        does neither.
        """
        if self.waited is not None:
            return max(self.seconds - self.waited, 0.0)
        processes = self.workers + 1 if self.workers > 1 else 1
        return self.seconds * min(1.0, self.cpus / processes)

    def __post_init__(self) -> None:
        """Reject figures that no run can produce; they would also break the merge order."""
        if not (math.isfinite(self.seconds) and self.seconds >= 0):
            message = f"seconds must be a finite number >= 0, not {self.seconds!r}"
            raise ValueError(message)
        if not math.isfinite(self.measured_at):
            message = f"measured_at must be a finite number, not {self.measured_at!r}"
            raise ValueError(message)
        if self.waited is not None and not (math.isfinite(self.waited) and self.waited >= 0):
            message = f"waited must be a finite number >= 0, not {self.waited!r}"
            raise ValueError(message)
        if type(self.workers) is not int or type(self.cpus) is not int:
            message = (
                f"workers and cpus must be whole numbers, not {self.workers!r} and {self.cpus!r}"
            )
            raise ValueError(message)
        if self.workers < 1 or self.cpus < 1:
            message = f"workers and cpus must be >= 1, not {self.workers!r} and {self.cpus!r}"
            raise ValueError(message)


def _rank(measurement: Measurement) -> tuple[float, float, int, int, float]:
    """The order in which measurements win a merge: a total order over every field.

    Because every field takes part, two measurements that rank equal are equal, so the winner
    never depends on which argument came first (an unmeasured wait ranks below every measured
    one).
    """
    waited = -1.0 if measurement.waited is None else measurement.waited
    return (
        measurement.measured_at,
        measurement.seconds,
        measurement.workers,
        measurement.cpus,
        waited,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DurationStore:
    """Per suite, per test case, the newest measurement of its duration.

    Every method returns a new store; a store never changes.

    Attributes:
        suites: Suite name -> case key (``classname::name``) -> measurement. Read-only; suites
            without cases are dropped.
    """

    suites: Mapping[str, Mapping[str, Measurement]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Freeze the mappings, so that the store is as immutable as it looks."""
        object.__setattr__(self, "suites", frozen_table(self.suites))

    @classmethod
    def load(cls, path: Path) -> DurationStore:
        """Read a store from ``path``; a missing file is an empty store.

        Raises:
            ReportError: The file exists but cannot be read or is not a durations file. The
                file is left as it is.
        """
        suites = read_versioned_json(
            path,
            version=_VERSION,
            reading="durations store",
            kind="durations file",
            fix=_FIX,
            parse=_parse,
        )
        return cls() if suites is None else cls(suites=suites)

    def save(self, path: Path) -> None:
        """Write the store to ``path`` atomically, with sorted keys and ``"version": 1``.

        One test case per line (see :func:`_store_text`).

        Raises:
            ReportError: The file cannot be written; an older store at ``path`` is left intact.
        """
        write_text_atomic(path, _store_text(self))

    def record(
        self,
        durations: Mapping[str, Mapping[str, float]],
        *,
        workers: int,
        cpus: int,
        measured_at: float,
        waited: Mapping[str, Mapping[str, float]] | None = None,
    ) -> DurationStore:
        """Fold in the figures of one run, measured with ``workers`` processes on ``cpus`` CPUs.

        Args:
            durations: Suite name -> case key -> seconds, as the JUnit merge gives them.
            workers: How many test processes ran at once.
            cpus: How many CPUs the machine had.
            measured_at: When the run started (Unix time).
            waited: Suite name -> case key -> seconds it waited for a CPU, for the cases
                whose wait was measured (capped at their seconds).

        Returns:
            The merge of this store with the run's figures: a stored measurement newer than
            ``measured_at`` is kept.

        Raises:
            ValueError: A figure is negative or not finite, or a count is below 1.
        """
        run = DurationStore(
            suites={
                suite: {
                    key: Measurement(
                        seconds=seconds,
                        workers=workers,
                        cpus=cpus,
                        measured_at=measured_at,
                        waited=_capped((waited or {}).get(suite, {}).get(key), seconds),
                    )
                    for key, seconds in cases.items()
                }
                for suite, cases in durations.items()
            }
        )
        return self.merge(run)

    def merge(self, other: DurationStore) -> DurationStore:
        """Combine two stores: per test case, the newer measurement wins.

        On equal ``measured_at`` the larger seconds win, then the larger worker count, then
        the larger CPU count, then the larger wait (a measured one above none). The result is
        thus the maximum of a total order, so merging is commutative, associative and
        idempotent: shards' stores can be combined in any order.
        """
        combined: dict[str, dict[str, Measurement]] = {
            suite: dict(cases) for suite, cases in self.suites.items()
        }
        for suite, cases in other.suites.items():
            mine = combined.setdefault(suite, {})
            for key, theirs in cases.items():
                current = mine.get(key)
                if current is None or _rank(theirs) > _rank(current):
                    mine[key] = theirs
        return DurationStore(suites=combined)

    def prune(self, suite: str, existing: Collection[str]) -> DurationStore:
        """Drop the cases of ``suite`` that are not in ``existing`` (tests removed or renamed).

        Other suites are left alone: a run of one suite knows nothing about the others.
        """
        if suite not in self.suites:
            return self
        keep = frozenset(existing)
        suites = dict(self.suites)
        suites[suite] = {key: m for key, m in self.suites[suite].items() if key in keep}
        return DurationStore(suites=suites)

    def seconds(self, suite: str, key: str) -> float | None:
        """The stored seconds of one test case, or ``None`` when it was never measured."""
        measurement = self.suites.get(suite, {}).get(key)
        return None if measurement is None else measurement.seconds


def _parse(document: dict[str, object]) -> dict[str, dict[str, Measurement]]:
    """Validate a decoded durations file (its version checked) and build its measurements.

    Each measurement is built once, with its wait when the ``waited`` table has one. Every
    wait is checked; one of no stored case is then passed over.
    """
    waits = _waits(document)
    return {
        suite: {
            key: _measurement(f"suites.{suite}.{key}", raw, waits.get(suite, {}).get(key))
            for key, raw in cases.items()
        }
        for suite, cases in json_table(document, "suites").items()
    }


def _waits(document: dict[str, object]) -> dict[str, dict[str, float]]:
    """The ``waited`` table (suite -> case -> seconds), checked; empty when there is none."""
    if _WAITED not in document:
        return {}
    waits: dict[str, dict[str, float]] = {}
    for suite, cases in json_table(document, _WAITED).items():
        row = waits[suite] = {}
        for key, waited in cases.items():
            if isinstance(waited, bool) or not isinstance(waited, int | float):
                problem = f"{_WAITED}.{suite}.{key} is not a number"
                raise FormatError(problem)
            try:
                seconds = float(waited)
            except OverflowError:  # an integer of hundreds of digits: no float holds it
                problem = f"{_WAITED}.{suite}.{key} is a number too large for a float"
                raise FormatError(problem) from None
            if not (math.isfinite(seconds) and seconds >= 0):
                problem = (
                    f"{_WAITED}.{suite}.{key}: waited must be a finite number >= 0, not {seconds!r}"
                )
                raise FormatError(problem)
            row[key] = seconds
    return waits


def _capped(waited: float | None, seconds: float) -> float | None:
    """A measured wait, at most the test's seconds (the two come from different clocks)."""
    return None if waited is None else min(max(waited, 0.0), seconds)


def _measurement(where: str, raw: object, waited: float | None = None) -> Measurement:
    """One measurement from its JSON object (and its checked wait); ``where`` names it.

    A store holds one object per test case (tens of thousands in a large suite, read by every
    session), so the checks are exact-type tests: the JSON decoder gives ``int``, ``float``
    and ``bool`` values as exactly those types, and true/false (an ``int`` to ``isinstance``)
    is never a measurement.
    """
    if type(raw) is not dict or raw.keys() != _FIELD_SET:
        problem = f"{where} is not an object with exactly the keys {', '.join(_FIELDS)}"
        raise FormatError(problem)
    seconds, workers, cpus, measured_at = (
        raw["seconds"],
        raw["workers"],
        raw["cpus"],
        raw["measured_at"],
    )
    if (
        type(workers) is not int
        or type(cpus) is not int
        or type(seconds) not in _NUMBERS
        or type(measured_at) not in _NUMBERS
    ):
        problem = f"{where} has a value of the wrong type"
        raise FormatError(problem)
    try:
        return Measurement(
            seconds=float(seconds),
            workers=workers,
            cpus=cpus,
            measured_at=float(measured_at),
            waited=waited,
        )
    except ValueError as error:
        problem = f"{where}: {error}"
        raise FormatError(problem) from None
    except OverflowError:  # an integer of hundreds of digits: no float holds it
        problem = f"{where} has a number too large for a float"
        raise FormatError(problem) from None


def _store_text(store: DurationStore) -> str:
    """The store's JSON text: sorted keys, one line per test case and per measured wait.

    Python's JSON encoder runs in C only for output without indentation, and even then pays
    for a new encoder on every call: a store of 20,000 cases took 0.25 s to write, indented,
    on every session's end. The layout is therefore written here, for the store's one shape
    (the same JSON document as before): names through the encoder's own string escaping, and
    figures as it writes them (``repr`` of a finite float, which :class:`Measurement` ensures;
    ``str`` of an int).
    """
    lines = ["{", '  "suites": {']
    lines += _rows(store.suites, _case_text)
    waits = {
        suite: {key: m.waited for key, m in cases.items() if m.waited is not None}
        for suite, cases in store.suites.items()
    }
    if waits := {suite: cases for suite, cases in waits.items() if cases}:
        lines += ["  },", f'  "version": {_VERSION},', f'  "{_WAITED}": {{']
        lines += _rows(waits, _float_text)
        lines += ["  }"]
    else:
        lines += ["  },", f'  "version": {_VERSION}']
    lines.append("}")
    return "\n".join(lines) + "\n"


def _rows(table: Mapping[str, Mapping[str, T]], text: Callable[[T], str]) -> list[str]:
    """The lines of a two-level table (suite -> case -> value), its keys sorted."""
    lines: list[str] = []
    suites = sorted(table)
    for index, suite in enumerate(suites):
        lines.append(f"    {_string(suite)}: {{")
        cases = table[suite]
        lines.append(
            ",\n".join(f"      {_string(key)}: {text(cases[key])}" for key in sorted(cases))
        )
        lines.append("    }," if index < len(suites) - 1 else "    }")
    return lines


def _case_text(measurement: Measurement) -> str:
    """One case's object, its keys in order, as ``json.dumps`` with ``sort_keys`` writes it."""
    return (
        f'{{"cpus": {measurement.cpus}, "measured_at": {_float_text(measurement.measured_at)}, '
        f'"seconds": {_float_text(measurement.seconds)}, "workers": {measurement.workers}}}'
    )


def _float_text(value: float) -> str:
    return repr(float(value))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``'s lock file (beside it) while the block runs.

    Suite sessions of a parallel run and the report update the same store: each reads, merges
    and writes under the lock, so none loses another's figures. The lock file is the user's
    own (0600, in the project's ``.suitekit`` folder) and is opened without following a link.

    Raises:
        ReportError: The lock file cannot be created or opened.
    """
    lock = path.with_name(f"{path.name}.lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        message = f"{lock}: cannot lock the durations store ({error})"
        raise ReportError(message) from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def update_store(path: Path, change: Callable[[DurationStore], DurationStore]) -> DurationStore:
    """Read the store at ``path``, apply ``change`` and write the result, under a lock.

    Merging is commutative and idempotent (see :meth:`DurationStore.merge`), so sessions that
    record their figures in any order, or twice, leave the same store.

    Raises:
        ReportError: The store cannot be read, locked or written; it is left as it was.
    """
    with _locked(path):
        changed = change(DurationStore.load(path))
        changed.save(path)
    return changed
