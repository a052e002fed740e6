"""Tests as sharding sees them: their JUnit keys, their estimated seconds, their units.

A *unit* is what must stay on one machine (one shard, one xdist worker): a single test for
``--dist load`` and ``worksteal``; a module or class for ``loadscope``; a file for ``loadfile``;
an ``xdist_group`` for ``loadgroup``. The units are exactly those pytest-xdist itself keeps
together, so a shard never splits what a worker would keep together.

How long a test will take is estimated from the durations store, in this order:

1. its own stored figure, corrected for contention: a test measured while ``w`` workers shared
   ``c < w`` CPUs is counted at ``c / w`` of its measured time (on one real suite the summed test
   time grew from 120 s serially to 351 s with 4 workers on 2 CPUs);
2. for a test with no figure (new or renamed), the median of the suite's known figures;
3. when the suite has no figures at all, its test file's size shared equally by the file's
   tests, at :data:`SECONDS_PER_BYTE` (long files hold more, or longer, tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from suitekit._model import DistMode

if TYPE_CHECKING:
    from suitekit.sharding._durations import Measurement

__all__ = [
    "SECONDS_PER_BYTE",
    "Basis",
    "Case",
    "Estimates",
    "Unit",
    "case_key",
    "estimate",
    "group_units",
    "unit_key",
]

SECONDS_PER_BYTE: Final = 1e-5
"""The guess when nothing is known: a 10 kB test file takes a tenth of a second."""

Basis = Literal["durations", "file size"]

_PY_SUFFIX: Final = re.compile(r"\.py$")


def case_key(node_id: str) -> str:
    """The key of a test in the durations store: ``classname::name`` as pytest's JUnit has it.

    pytest's ``--junitxml`` turns the node id ``tests/unit/test_a.py::TestX::test_y[1]`` into
    ``classname="tests.unit.test_a.TestX"`` and ``name="test_y[1]"``; the store is filled from
    those reports, so a collected item is looked up the same way.
    """
    path, bracket, params = node_id.partition("[")
    names = path.split("::")
    names[0] = _PY_SUFFIX.sub("", names[0].replace("/", "."))
    names[-1] += bracket + params
    classname, name = ".".join(names[:-1]), names[-1]
    return f"{classname}::{name}" if classname else name


def unit_key(node_id: str, dist: DistMode, group: str | None = None) -> str:
    """The unit a test belongs to under a distribution mode (as pytest-xdist groups them)."""
    if dist == "loadscope":
        return node_id.rsplit("::", 1)[0]  # the module or the class
    if dist == "loadfile":
        return node_id.split("::", 1)[0]
    if dist == "loadgroup" and group:
        return f"@{group}"
    return node_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One collected test.

    Attributes:
        node_id: pytest's node id.
        file_bytes: The size of its file, for estimates when no duration is known.
        group: Its ``xdist_group`` name, if any.
    """

    node_id: str
    file_bytes: int = 0
    group: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimates:
    """The predicted seconds of every test, and how they were found.

    Attributes:
        seconds: Node id -> predicted seconds.
        known: How many tests had a stored figure.
        basis: ``durations`` (stored figures, with the median for the others) or ``file size``.
    """

    seconds: Mapping[str, float]
    known: int
    basis: Basis

    @property
    def estimated(self) -> int:
        """How many tests had no stored figure."""
        return len(self.seconds) - self.known

    def describe(self) -> str:
        """``120 known, 3 estimated (median)`` or ``estimated from file sizes``."""
        if self.basis == "file size":
            return "no durations yet: estimated from file sizes"
        extra = f", {self.estimated} estimated (median)" if self.estimated else ""
        return f"{self.known} known durations{extra}"


def estimate(cases: Sequence[Case], stored: Mapping[str, Measurement]) -> Estimates:
    """Predict each case's seconds from the suite's stored measurements (see the module doc)."""
    figures = {case.node_id: stored.get(case_key(case.node_id)) for case in cases}
    known = {node: m.serial_seconds for node, m in figures.items() if m is not None}
    if known:
        import statistics  # noqa: PLC0415 - decimal and fractions, for this one median

        median = statistics.median(known.values())
        seconds = {case.node_id: known.get(case.node_id, median) for case in cases}
        return Estimates(seconds=seconds, known=len(known), basis="durations")
    per_file: dict[str, int] = {}
    for case in cases:
        file = case.node_id.split("::", 1)[0]
        per_file[file] = per_file.get(file, 0) + 1
    seconds = {
        case.node_id: case.file_bytes / per_file[case.node_id.split("::", 1)[0]] * SECONDS_PER_BYTE
        for case in cases
    }
    return Estimates(seconds=seconds, known=0, basis="file size")


@dataclass(frozen=True, slots=True, kw_only=True)
class Unit:
    """Tests that run together on one machine and one worker.

    Attributes:
        key: The unit's name (a node id, a module, a class, a file or ``@group``).
        node_ids: Its tests, sorted.
        seconds: Their predicted seconds together.
    """

    key: str
    node_ids: tuple[str, ...]
    seconds: float


def group_units(cases: Iterable[Case], dist: DistMode, estimates: Estimates) -> tuple[Unit, ...]:
    """The units of ``cases`` under ``dist``, sorted by key; each unit's tests sorted.

    Sorting first makes everything downstream a function of the node ids and the durations
    only, never of the collection order.
    """
    members: dict[str, list[str]] = {}
    for case in sorted(cases, key=lambda case: case.node_id):
        members.setdefault(unit_key(case.node_id, dist, case.group), []).append(case.node_id)
    return tuple(
        Unit(
            key=key,
            node_ids=tuple(node_ids),
            seconds=sum(estimates.seconds[node] for node in node_ids),
        )
        for key, node_ids in sorted(members.items())
    )
