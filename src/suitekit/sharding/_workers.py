"""How many xdist workers a suite should get, decided from its recorded durations.

Blind ``-n auto`` is often slower than no xdist at all on small machines: a worker costs a
Python start-up and a collection, and every test result then crosses a process boundary to the
controller, which handles them one at a time. On one real 62,423-test suite of tiny tests that
meant 51 s serially, 62 s with 2 workers and 69 s with 4.

The prediction, for ``n`` workers on a machine whose costs were measured (:class:`Calibration`):

- ``n = 0`` (no xdist): ``sum(test seconds) + tests * serial_per_test``;
- ``n >= 2``: ``xdist_startup(n) + max(LPT makespan of the units over n workers, each test
  costing its seconds + serial_per_test; tests * xdist_per_test)``: the workers run in
  parallel, but no faster than the controller can take their results, and never faster than
  the longest unit.

Worker counts above the CPU budget are not considered: the durations in the store cannot tell
CPU-bound tests from waiting ones, and the budget is what the user (or a parallel run) allows.
A lone worker (``n = 1``) only adds cost and is never chosen.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Calibration", "WorkerChoice", "choose_workers", "predict"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """What running tests costs on this machine, beyond the tests' own time.

    Attributes:
        serial_per_test: pytest's own seconds per test without xdist (collection, hooks,
            reporting).
        xdist_per_test: Seconds per test of the same trivial tests run with 2 xdist workers:
            the rate at which the controller takes results.
        xdist_startup: Seconds that starting 2 workers adds to a run.
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
            data = json.loads(text)
            return cls(
                serial_per_test=max(float(data["serial_per_test"]), 0.0),
                xdist_per_test=max(float(data["xdist_per_test"]), 0.0),
                xdist_startup=max(float(data["xdist_startup"]), 0.0),
                startup_per_worker=max(float(data["startup_per_worker"]), 0.0),
                cpus=max(int(data["cpus"]), 1),
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            message = f"not a suitekit calibration: {error}"
            raise ValueError(message) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerChoice:
    """The chosen worker count and the predictions it was chosen from.

    Attributes:
        workers: The count for ``-n`` (0: no xdist).
        predicted: ``(workers, predicted seconds)`` for every count considered.
        longest: The longest unit's predicted seconds.
        tests: How many tests the prediction covered.
    """

    workers: int
    predicted: tuple[tuple[int, float], ...]
    longest: float
    tests: int

    def reason(self) -> str:
        """One line for the pytest header: what was chosen and why."""
        shown = ", ".join(f"-n {n}: {s:.1f}s" for n, s in self.predicted)
        return (
            f"from durations of {self.tests} tests: predicted {shown}; "
            f"longest unit {self.longest:.1f}s"
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
    per_test = calibration.serial_per_test
    if workers == 0:
        return sum(sum(unit) for unit in units) + tests * per_test
    costs = [sum(unit) + len(unit) * per_test for unit in units]
    startup = calibration.xdist_startup + max(workers - 2, 0) * calibration.startup_per_worker
    return startup + max(_makespan(costs, workers), tests * calibration.xdist_per_test)


def choose_workers(
    units: Sequence[Sequence[float]], *, cpus: int, calibration: Calibration
) -> WorkerChoice:
    """The worker count, 0 or 2..cpus, with the smallest predicted wall time.

    On a tie (within a millisecond) the smaller count wins: fewer processes for the same time.
    """
    candidates = [0, *range(2, cpus + 1)]
    predicted = tuple((n, predict(units, n, calibration)) for n in candidates)
    best = min(predicted, key=lambda pair: (round(pair[1], 3), pair[0]))
    return WorkerChoice(
        workers=best[0],
        predicted=predicted,
        longest=max((sum(unit) for unit in units), default=0.0),
        tests=sum(len(unit) for unit in units),
    )
