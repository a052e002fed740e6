"""How much suitekit's slow-first order saves when a suite's slow tests are collected last.

Run on demand (not part of the test suites):

    .venv/bin/python benchmarks/bench_slow_tail.py [--rounds 3] [--workers 2]
        [--fast 200] [--fast-seconds 0.02] [--slow 6] [--slow-seconds 1.5]

It writes a suite of ``--fast`` quick tests (10 modules) followed by ``--slow`` slow ones (one
last module), all burning CPU, in two copies of one project: one without a durations store, one
whose durations were recorded by a serial run and ``suitekit report``. Then it runs, alternately
and ``--rounds`` times each, with ``-n --workers``:

- plain xdist order (no store): ``--dist load`` and ``--dist worksteal``, the baselines;
- suitekit's order (the store present, so the plugin deals the longest tests first into
  xdist's first blocks): ``--dist load`` and ``--dist worksteal``.

All four runs select the suite with ``--suitekit-suite=unit``, so only the store differs. It
prints each run's wall time, how many slow tests each worker ran and each worker's busy seconds
(the JUnit seconds of the tests ``-v`` says it ran: ``3+3`` and ``6.6+6.5`` is an even split,
``6+0`` a slow tail), then the medians and their ratio to the better of the two plain baselines
(measured in the same run), next to the ideal (the tests' seconds over the workers, or the
longest test). The busiest worker's seconds hardly depend on what else the machine runs (the
tests end at wall-clock deadlines), so they show the schedule even when the walls are noisy.
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from _fixture_suites import (
    SUITE,
    Run,
    describe,
    machine,
    module_path,
    record,
    run_pytest,
    write_project,
)

from suitekit import sharding

_FAST_MODULES: Final = 10
_PASSED: Final = re.compile(r"^\[(gw\d+)\] .*PASSED (\S+)", re.MULTILINE)
MODES: Final = (
    ("plain load", "plain", "load"),
    ("plain worksteal", "plain", "worksteal"),
    ("suitekit load", "stored", "load"),
    ("suitekit worksteal", "stored", "worksteal"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """What each worker of one run did, busiest first.

    Attributes:
        slow: How many of the slow tests each worker ran.
        busy: The sum of the JUnit seconds of each worker's tests.
    """

    slow: tuple[int, ...]
    busy: tuple[float, ...]

    @classmethod
    def of(cls, run: Run, slow_module: str, workers: int) -> Schedule:
        """Read the workers' tests from ``-v`` output and their seconds from the JUnit file."""
        ran = _PASSED.findall(run.stdout)
        slow = Counter(worker for worker, node in ran if node.startswith(slow_module))
        busy: dict[str, float] = {}
        for worker, node in ran:
            busy[worker] = busy.get(worker, 0.0) + run.junit[sharding.case_key(node)]
        names = [f"gw{index}" for index in range(workers)]
        return cls(
            slow=tuple(sorted((slow.get(name, 0) for name in names), reverse=True)),
            busy=tuple(sorted((busy.get(name, 0.0) for name in names), reverse=True)),
        )

    def __str__(self) -> str:
        """``slow tests per worker 3+3, busy s 6.6+6.5``."""
        slow = "+".join(str(count) for count in self.slow)
        busy = "+".join(f"{seconds:.1f}" for seconds in self.busy)
        return f"slow tests per worker {slow}, busy s {busy}"


def main() -> None:
    """Write both projects, record one, run every mode ``--rounds`` times, print medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fast", type=int, default=200)
    parser.add_argument("--fast-seconds", type=float, default=0.02)
    parser.add_argument("--slow", type=int, default=6)
    parser.add_argument("--slow-seconds", type=float, default=1.5)
    args = parser.parse_args()
    per_module = -(-args.fast // _FAST_MODULES)
    fast = [args.fast_seconds] * args.fast
    modules = [fast[start : start + per_module] for start in range(0, args.fast, per_module)]
    modules.append([args.slow_seconds] * args.slow)  # collected last
    seconds = [value for module in modules for value in module]
    slow_module = module_path(len(modules) - 1, len(modules)) + "::"
    with tempfile.TemporaryDirectory(prefix="bench-slow-tail-") as scratch:
        roots = {name: write_project(Path(scratch, name), modules) for name in ("plain", "stored")}
        print(f"suite: {describe(seconds)}; slow tests last; {machine()}")
        serial, stored = record(roots["stored"])
        print(f"recorded with one serial run: wall {serial.wall:.1f}s, {len(stored)} durations")
        walls: dict[str, list[float]] = {label: [] for label, _, _ in MODES}
        busiest: dict[str, list[float]] = {label: [] for label, _, _ in MODES}
        for index in range(args.rounds):
            for label, project, dist in MODES:
                root = roots[project]
                xdist = ("-n", str(args.workers), "--dist", dist)
                junit = root / "runs" / f"{dist}-{index}.xml"
                run = run_pytest(
                    root, f"--suitekit-suite={SUITE}", *xdist, junit=junit, verbose=True
                )
                schedule = Schedule.of(run, slow_module, args.workers)
                walls[label].append(run.wall)
                busiest[label].append(schedule.busy[0])
                print(f"round {index + 1} {label:<19} wall {run.wall:6.2f}s  {schedule}")
    medians = {label: statistics.median(values) for label, values in walls.items()}
    baseline_label = min(("plain load", "plain worksteal"), key=medians.__getitem__)
    baseline = medians[baseline_label]
    ideal = max(math.fsum(seconds) / args.workers, *seconds)
    print(f"\n{args.workers} workers; ideal {ideal:.2f}s; afterwards: {machine()}")
    print(f"{'mode':<19} {'median wall s':>13} {'vs ' + baseline_label:>20} {'busiest s':>10}")
    for label, median in medians.items():
        busy = statistics.median(busiest[label])
        print(f"{label:<19} {median:>13.2f} {median / baseline:>20.2f} {busy:>10.2f}")


if __name__ == "__main__":
    main()
