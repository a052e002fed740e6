"""How many xdist workers a suite should get: the cost model and the decision rule.

Blind ``-n auto`` is often slower than no xdist at all on small machines: a worker costs a
Python start-up and a collection, and every test result then crosses a process boundary to the
controller, which handles them one at a time while the workers compete with it for the CPUs. On
one real 62,423-test suite of tiny tests that meant 51 s serially, 62 s with 2 workers and 69 s
with 4; on 900 fast tests ``-n auto`` was 2 to 3 times slower than serial.

The prediction, for ``n`` workers on a machine whose costs were measured (:class:`Calibration`),
with ``N`` tests whose own times (setup, call and teardown) are ``b_i``:

- ``n = 0`` (no xdist): ``sum(b_i) + N * serial_per_test``;
- ``n >= 2``: ``startup(n) + N * xdist_per_test + LPT makespan of the units' b over n``, and,
  where the run has collected already (``workers = "auto"`` decides after collection), the
  workers' own collection of the suite.

``xdist_per_test`` is the wall time per trivial test of a run with 2 workers: what the
controller and the workers together spend on each test beyond its body, on this machine. It is
*added* to the schedule of the bodies rather than overlapped with it, because on a machine with
as many workers as CPUs the controller's work takes CPU time from the workers (the model the
first version used overlapped them, and chose 2 workers for 62,000 sub-millisecond tests where
serial was 1.4 times faster). Start-up is ``xdist_startup`` for 2 workers (starting them, and
stopping them at the end) plus ``startup_per_worker`` for each further one.

Worker counts above the CPU budget are not considered, and a lone worker (``n = 1``) only adds
cost and is never chosen. On a tie (within a millisecond) the smaller count wins.

A machine busy with other processes (the other sessions of a parallel run, a build) starts
workers slower than the calibration, taken on an idle one, says; the tests' own times were
recorded as they ran, so those stand. xdist's costs for ``n`` workers are then scaled by how much
less of a CPU each of them gets beside the processes running now (:func:`contention`), and in
:func:`decide_from_sample` by what the load average explains.

Without recorded durations the pytest plugin decides from the run itself (see
:func:`decide_from_sample`): it starts without xdist, times the first tests, and hands the rest
to workers only when the prediction says they pay, counting what promoting costs (the workers'
start-up and their own collection of the suite).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from suitekit._files import load_json

__all__ = [
    "BOUNDS",
    "DEFAULT_CALIBRATION",
    "SAMPLE_SECONDS",
    "Calibration",
    "Sample",
    "WorkerChoice",
    "choose_workers",
    "choose_workers_now",
    "contention",
    "decide_from_sample",
    "next_look",
    "predict",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """What running tests costs on this machine, beyond the tests' own time.

    Attributes:
        serial_per_test: pytest's own seconds per test without xdist (collection, hooks,
            reporting).
        xdist_per_test: Seconds per test of the same trivial tests run with 2 xdist workers:
            the rate at which the controller takes results.
        xdist_startup: Seconds that starting 2 workers (and stopping them) adds to a run.
        startup_per_worker: Seconds each further worker adds.
        cpus: The CPU count it was measured with.
    """

    serial_per_test: float
    xdist_per_test: float
    xdist_startup: float
    startup_per_worker: float
    cpus: int

    def to_json(self) -> str:
        """The calibration as a JSON object (for the per-machine cache)."""
        return json.dumps(
            {
                "serial_per_test": self.serial_per_test,
                "xdist_per_test": self.xdist_per_test,
                "xdist_startup": self.xdist_startup,
                "startup_per_worker": self.startup_per_worker,
                "cpus": self.cpus,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        """Read :meth:`to_json`'s output.

        Raises:
            ValueError: The text is not such an object.
        """
        try:
            data = load_json(text)  # deep nesting and huge integers become ValueError
            return cls(
                serial_per_test=max(float(data["serial_per_test"]), 0.0),
                xdist_per_test=max(float(data["xdist_per_test"]), 0.0),
                xdist_startup=max(float(data["xdist_startup"]), 0.0),
                startup_per_worker=max(float(data["startup_per_worker"]), 0.0),
                cpus=max(int(data["cpus"]), 1),
            )
        except (ValueError, KeyError, TypeError) as error:
            message = f"not a suitekit calibration: {error}"
            raise ValueError(message) from None

    def startup(self, workers: int) -> float:
        """Seconds that starting ``workers`` workers adds to a run (0 for no xdist)."""
        if workers < 2:  # noqa: PLR2004 - two workers is what the calibration measures
            return 0.0
        return self.xdist_startup + (workers - 2) * self.startup_per_worker

    def problem(self) -> str | None:
        """Why these figures cannot be this machine's costs, or ``None`` when they can be.

        A measurement taken while other processes held the CPUs is slow in every figure; one
        whose runs failed in odd ways gives zeros. Either would steer every later decision, so
        a calibration outside :data:`BOUNDS` is discarded rather than cached.
        """
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                return f"{name} = {value:.6g} is outside [{low:g}, {high:g}]"
        if self.xdist_per_test < self.serial_per_test / 2:
            return (
                f"xdist_per_test = {self.xdist_per_test:.6g} is below half of serial_per_test "
                f"= {self.serial_per_test:.6g}: the controller cannot take results that fast"
            )
        return None


BOUNDS: Final[Mapping[str, tuple[float, float]]] = {
    "serial_per_test": (2e-5, 0.02),
    "xdist_per_test": (2e-5, 0.05),
    "xdist_startup": (0.05, 15.0),
    "startup_per_worker": (0.0, 5.0),
}
"""Plausible ranges of a calibration's figures, from a Raspberry Pi to a large server."""

DEFAULT_CALIBRATION: Final = Calibration(
    serial_per_test=0.0008,
    xdist_per_test=0.0012,
    xdist_startup=1.5,
    startup_per_worker=0.3,
    cpus=2,
)
"""What the decision assumes when this machine has no calibration (it was busy): a slow
machine's costs, so that without a measurement suitekit errs towards fewer workers."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerChoice:
    """The chosen worker count and the predictions it was chosen from.

    Attributes:
        workers: The count for ``-n`` (0: no xdist).
        predicted: ``(workers, predicted seconds)`` for every count considered.
        longest: The longest unit's predicted seconds.
        tests: How many tests the prediction covered.
        basis: What the prediction came from, when not the recorded durations.
        busy: How a busy machine changed xdist's costs ("": it did not).
    """

    workers: int
    predicted: tuple[tuple[int, float], ...]
    longest: float
    tests: int
    basis: str = ""
    busy: str = ""

    def reason(self) -> str:
        """One line for the pytest header: what was chosen and why."""
        shown = ", ".join(f"-n {n}: {s:.1f}s" for n, s in self.predicted)
        busy = f"; {self.busy}" if self.busy else ""
        if self.basis:
            return f"from {self.basis}: predicted for the last {self.tests} {shown}{busy}"
        return (
            f"from durations of {self.tests} tests: predicted {shown}; "
            f"longest unit {self.longest:.1f}s{busy}"
        )


def _makespan(units: Sequence[float], workers: int) -> float:
    """LPT makespan of ``units`` (seconds) over ``workers`` identical workers."""
    loads = [0.0] * workers
    for seconds in sorted(units, reverse=True):
        heapq.heapreplace(loads, loads[0] + seconds)
    return max(loads)


def predict(units: Sequence[Sequence[float]], workers: int, calibration: Calibration) -> float:
    """The predicted wall seconds of running the tests with ``workers`` xdist workers.

    Args:
        units: Per unit, the predicted seconds of each of its tests.
        workers: 0 for no xdist, else the worker count.
        calibration: The machine's costs.
    """
    tests = sum(len(unit) for unit in units)
    if workers == 0:
        return sum(sum(unit) for unit in units) + tests * calibration.serial_per_test
    schedule = _makespan([sum(unit) for unit in units], workers)
    return calibration.startup(workers) + tests * calibration.xdist_per_test + schedule


def contention(others: float, workers: int, cpus: int) -> float:
    """How many times slower ``workers`` processes run beside ``others`` runnable ones than alone.

    Alone on ``cpus`` CPUs each gets ``min(1, cpus / workers)`` of a CPU; beside the others,
    ``min(1, cpus / (others + workers))``. At least 1: on a machine with CPUs to spare nothing is
    slower.
    """
    machine = max(cpus, 1)
    alone = min(1.0, machine / max(workers, 1))
    beside = min(1.0, machine / (max(others, 0.0) + max(workers, 1)))
    return max(alone / beside, 1.0)


def _scaled(calibration: Calibration, slowdown: float) -> Calibration:
    """``calibration`` with xdist's costs ``slowdown`` times the idle machine's."""
    if slowdown <= 1.0:
        return calibration
    return replace(
        calibration,
        xdist_per_test=calibration.xdist_per_test * slowdown,
        xdist_startup=calibration.xdist_startup * slowdown,
        startup_per_worker=calibration.startup_per_worker * slowdown,
    )


def choose_workers(
    units: Sequence[Sequence[float]],
    *,
    cpus: int,
    calibration: Calibration,
    others: float = 0.0,
    machine_cpus: int | None = None,
    collect: float = 0.0,
) -> WorkerChoice:
    """The worker count, 0 or 2..cpus, with the smallest predicted wall time.

    ``collect`` is the wall seconds this process took to collect the suite, beside the same
    ``others``: under ``workers = "auto"`` the controller has collected it already when it
    decides, and the workers it starts collect it again (in parallel, so once). That second
    collection counts against every count of workers, as slow as each worker's share of a CPU
    against the share this process had (:func:`contention` of both).

    ``units`` are recorded times, which stand as they are. xdist's costs (start-up, per-test
    traffic) are ``calibration``'s, taken on an idle machine, times :func:`contention`: with
    ``others`` processes running on the machine's ``machine_cpus`` (``cpus`` by default), the
    workers start slower than that. The tests' times are not scaled, either way: a test that
    sleeps or waits on a server takes as long beside other processes, and the durations do not
    say which tests compute. So beside others xdist is still counted as gaining on computing
    tests what it gains on an idle machine: the model errs towards workers, as it did before it
    counted the others at all, only less.

    Where the others leave the workers less than their idle share, their start-up is also
    unsure, not only slower (the others start, stop and take the CPUs as they come: on
    bench_overhead's small project two workers took 2 s to start beside one other process on 2
    CPUs, against 0.3 s idle). So it counts ``2 * slowdown - 1`` times the idle figure instead of
    ``slowdown`` times: nothing more where nothing is slower, three times at half a CPU each.

    On a tie (within a millisecond) the smaller count wins: fewer processes for the same time.
    """
    machine = machine_cpus or cpus
    counts = [0, *range(2, cpus + 1)]
    slower = {n: contention(others, n, machine) for n in counts if n}
    collected_beside = contention(others, 1, machine)  # this process, as it collected

    def seconds(workers: int) -> float:
        if workers == 0:
            return predict(units, 0, calibration)
        costs = _scaled(calibration, slower[workers])
        unsure = calibration.startup(workers) * (slower[workers] - 1)
        again = collect * slower[workers] / collected_beside
        return predict(units, workers, costs) + unsure + again

    predicted = tuple((n, seconds(n)) for n in counts)
    best = min(predicted, key=lambda pair: (round(pair[1], 3), pair[0]))
    scaled = [n for n in counts if n and slower[n] > 1.0]
    busy = ""
    if scaled:
        first, last = scaled[0], scaled[-1]
        span = (
            f"-n {first}" if first == last else f"-n {first} to x{slower[last]:.1f} for -n {last}"
        )
        busy = (
            f"xdist's costs counted beside {others:g} running "
            f"process{'es' if others != 1 else ''} (x{slower[first]:.1f} for {span}; "
            "its start-up unsure)"
        )
    return WorkerChoice(
        workers=best[0],
        predicted=predicted,
        longest=max((sum(unit) for unit in units), default=0.0),
        tests=sum(len(unit) for unit in units),
        busy=busy,
    )


def choose_workers_now(
    units: Sequence[Sequence[float]],
    *,
    cpus: int,
    calibration: Calibration,
    running: Callable[[], float],
    machine_cpus: int,
    collect: float = 0.0,
) -> WorkerChoice:
    """:func:`choose_workers` beside the processes ``running()`` counts, read only if it matters.

    Other processes only make workers dearer (:func:`contention` is at least 1), so where the
    idle machine's costs keep the run serial, serial stands and nothing is read; otherwise the
    choice is made again beside them (the durations were recorded as the tests ran, busy machine
    or not; the workers' start is what the processes running now slow down).
    """
    idle = choose_workers(units, cpus=cpus, calibration=calibration, collect=collect)
    if not idle.workers:
        return idle
    others = running()
    if not others:
        return idle
    return choose_workers(
        units,
        cpus=cpus,
        calibration=calibration,
        others=others,
        machine_cpus=machine_cpus,
        collect=collect,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """What a run without xdist has measured of itself so far.

    Attributes:
        ran: How many tests ran.
        remaining: How many tests are left.
        elapsed: Wall seconds since the first test started.
        body_seconds: The sum of the tests' own times (setup, call and teardown reports).
        collect_seconds: Wall seconds the collection took (each worker would collect again).
        load: The machine's one-minute load average when the sample was taken.
    """

    ran: int
    remaining: int
    elapsed: float
    body_seconds: float
    collect_seconds: float
    load: float = 0.0

    @property
    def overhead(self) -> float:
        """The seconds pytest itself spends per test in this run (the serial per-test cost)."""
        return max(self.elapsed - self.body_seconds, 0.0) / self.ran if self.ran else 0.0

    @property
    def mean_body(self) -> float:
        """The mean of the tests' own seconds so far."""
        return self.body_seconds / self.ran if self.ran else 0.0


SAMPLE_SECONDS: Final = 0.5
"""The first look at a run without recorded durations: after this many seconds of tests."""


def next_look(elapsed: float) -> float:
    """When a run without recorded durations looks again: each time its elapsed time doubles.

    A suite's first tests may be its quick ones; looking again at 1, 2, 4 ... seconds lets a
    run whose later tests turn out slow still hand them to workers, at a bounded cost.
    """
    look = SAMPLE_SECONDS
    while look <= elapsed:
        look *= 2
    return look


def decide_from_sample(sample: Sample, *, cpus: int, calibration: Calibration) -> WorkerChoice:
    """The worker count for the rest of a run that started without xdist.

    The remaining tests are predicted at the sample's mean own time each (units of one test:
    nothing better is known yet) and the serial per-test cost is the one this run shows.
    Promoting costs the workers' start-up plus their own collection of the whole suite (they
    collect in parallel, so once), on top of :func:`predict`'s ``n >= 2`` figure.

    A run on a busy machine is slower per test than the calibration (taken on an idle one),
    and xdist's costs grow as much: they are scaled by how much slower this run's per-test cost
    is, at most by what the load average explains (``(load + 1) / cpus``, the share of a CPU
    each runnable process gets). The load bound keeps a small sample's noise (the first tests
    pay for imports and fixtures) from scaling an idle machine's costs; the measured bound keeps
    a load of sleeping tests from doing so.
    """
    slowdown = 1.0
    if calibration.serial_per_test > 0:
        measured_slowdown = sample.overhead / calibration.serial_per_test
        slowdown = max(min(measured_slowdown, (sample.load + 1) / max(cpus, 1)), 1.0)
    measured = replace(_scaled(calibration, slowdown), serial_per_test=sample.overhead)
    units = [[sample.mean_body]] * sample.remaining
    candidates = [0, *range(2, cpus + 1)]
    predicted = tuple(
        (n, predict(units, n, measured) + (sample.collect_seconds if n else 0.0))
        for n in candidates
    )
    best = min(predicted, key=lambda pair: (round(pair[1], 3), pair[0]))
    return WorkerChoice(
        workers=best[0],
        predicted=predicted,
        longest=sample.mean_body,
        tests=sample.remaining,
        basis=f"the first {sample.ran} tests of this run ({sample.mean_body * 1000:.2f} ms each)",
        busy=f"xdist's costs x{slowdown:.1f}: the machine is busy" if slowdown > 1.0 else "",
    )
