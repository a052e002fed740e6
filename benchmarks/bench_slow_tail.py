"""How suitekit's slow-first order compares with xdist's own order, on two kinds of suites.

Run on demand (not part of the test suites):

    .venv/bin/python benchmarks/bench_slow_tail.py [--suite both|tail|dominant] [--rounds 5]
        [--workers 2] [--fast 200] [--fast-seconds 0.02] [--slow 6] [--slow-seconds 1.5]
        [--tests 120] [--total 16] [--share 0.4]

Two suites, all of whose tests burn CPU:

- ``tail``: ``--fast`` quick tests (10 modules) followed by ``--slow`` slow ones (one last
  module). xdist starts the slow tests last, and the run waits for them: the order helps.
- ``dominant``: ``--tests`` tests of a lognormal spread summing to ``(1 - --share)`` of
  ``--total`` seconds (10 modules), plus one test of ``--share`` of it (40 % by default) in the
  middle of the fourth module. xdist's own order starts it early enough; moving the other slow
  tests to the front as well put them behind it on the same worker (19.9 s against 17.2 s on a
  real suite): the order must not hurt here.

Each suite is written in two copies of one project: one without a durations store, one whose
durations were recorded by a serial run and ``suitekit report``. Then it runs, alternately (so
the noise of a shared machine falls on every mode alike) and ``--rounds`` times each, with
``-n --workers``:

- plain xdist order (no store): ``--dist load`` and ``--dist worksteal``, the baselines;
- suitekit's order (the store present): ``--dist load`` and ``--dist worksteal``.

All four runs select the suite with ``--suitekit-suite=unit``, so only the store differs. It
prints each run's wall time, how many slow tests each worker ran and each worker's busy seconds
(the JUnit seconds of the tests ``-v`` says it ran: ``3+3`` and ``6.6+6.5`` is an even split,
``6+0`` a slow tail), then the medians, suitekit's against plain xdist with the same ``--dist``
(``SLOWER`` where the order lost), and the ideal (the tests' seconds over the workers, or the
longest test). The first round of each suitekit mode also prints the order the plugin chose and
its prediction (``suitekit: xdist order: ...``, which ``-v`` shows). The busiest worker's
seconds hardly depend on what else the machine runs (the tests end at wall-clock deadlines), so
they show the schedule even when the walls are noisy.
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import tempfile
from collections import Counter
from collections.abc import Sequence
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
    skewed_seconds,
    write_project,
)

from suitekit import sharding

_MODULES: Final = 10
_PASSED: Final = re.compile(r"^\[(gw\d+)\] .*PASSED (\S+)", re.MULTILINE)
_ORDER: Final = re.compile(r"^suitekit: xdist order: .*$", re.MULTILINE)
MODES: Final = (
    ("plain load", "plain", "load"),
    ("plain worksteal", "plain", "worksteal"),
    ("suitekit load", "stored", "load"),
    ("suitekit worksteal", "stored", "worksteal"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Layout:
    """A generated suite.

    Attributes:
        name: ``tail`` or ``dominant``.
        modules: Each module's tests' seconds, in collection order.
        slow: The node id prefix of the tests counted as slow per worker.
    """

    name: str
    modules: tuple[tuple[float, ...], ...]
    slow: str

    @property
    def seconds(self) -> list[float]:
        """Every test's seconds, in collection order."""
        return [value for module in self.modules for value in module]


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
    def of(cls, run: Run, slow: str, workers: int) -> Schedule:
        """Read the workers' tests from ``-v`` output and their seconds from the JUnit file."""
        ran = _PASSED.findall(run.stdout)
        counts = Counter(worker for worker, node in ran if node.startswith(slow))
        busy: dict[str, float] = {}
        for worker, node in ran:
            busy[worker] = busy.get(worker, 0.0) + run.junit[sharding.case_key(node)]
        names = [f"gw{index}" for index in range(workers)]
        return cls(
            slow=tuple(sorted((counts.get(name, 0) for name in names), reverse=True)),
            busy=tuple(sorted((busy.get(name, 0.0) for name in names), reverse=True)),
        )

    def __str__(self) -> str:
        """``slow tests per worker 3+3, busy s 6.6+6.5``."""
        slow = "+".join(str(count) for count in self.slow)
        busy = "+".join(f"{seconds:.1f}" for seconds in self.busy)
        return f"slow tests per worker {slow}, busy s {busy}"


def _chunks(seconds: Sequence[float], modules: int) -> list[tuple[float, ...]]:
    """``seconds`` cut into ``modules`` consecutive modules of (nearly) equal size."""
    size = -(-len(seconds) // modules)
    return [tuple(seconds[start : start + size]) for start in range(0, len(seconds), size)]


def tail(args: argparse.Namespace) -> Layout:
    """Quick tests, then a last module of slow ones."""
    modules = _chunks([args.fast_seconds] * args.fast, _MODULES)
    modules.append((args.slow_seconds,) * args.slow)  # collected last
    slow = module_path(len(modules) - 1, len(modules)) + "::"
    return Layout(name="tail", modules=tuple(modules), slow=slow)


def dominant(args: argparse.Namespace) -> Layout:
    """A lognormal spread of tests and one test of ``--share`` of the total, mid-suite."""
    rest = skewed_seconds(args.tests, args.total * (1 - args.share), seed=11)
    modules = _chunks(rest, _MODULES)
    where, position = 3, len(modules[3]) // 2
    big = modules[where]
    modules[where] = (*big[:position], args.total * args.share, *big[position:])
    digits = len(str(len(modules[where]) - 1))
    slow = f"{module_path(where, len(modules))}::test_t{position:0{digits}d}"
    return Layout(name="dominant", modules=tuple(modules), slow=slow)


def bench(layout: Layout, *, rounds: int, workers: int) -> None:
    """Write both projects, record one, run every mode ``rounds`` times, print medians."""
    seconds = layout.seconds
    with tempfile.TemporaryDirectory(prefix=f"bench-slow-tail-{layout.name}-") as scratch:
        roots = {
            name: write_project(Path(scratch, name), layout.modules) for name in ("plain", "stored")
        }
        print(f"\nsuite {layout.name}: {describe(seconds)}; slow: {layout.slow}; {machine()}")
        serial, stored = record(roots["stored"])
        print(f"recorded with one serial run: wall {serial.wall:.1f}s, {len(stored)} durations")
        walls: dict[str, list[float]] = {label: [] for label, _, _ in MODES}
        busiest: dict[str, list[float]] = {label: [] for label, _, _ in MODES}
        for index in range(rounds):
            for label, project, dist in MODES:
                root = roots[project]
                xdist = ("-n", str(workers), "--dist", dist)
                junit = root / "runs" / f"{dist}-{index}.xml"
                run = run_pytest(
                    root, f"--suitekit-suite={SUITE}", *xdist, junit=junit, verbose=True
                )
                schedule = Schedule.of(run, layout.slow, workers)
                walls[label].append(run.wall)
                busiest[label].append(schedule.busy[0])
                print(f"round {index + 1} {label:<19} wall {run.wall:6.2f}s  {schedule}")
                if index == 0 and (decision := _ORDER.search(run.stdout)):
                    print(f"  {decision.group(0)}")
    medians = {label: statistics.median(values) for label, values in walls.items()}
    ideal = max(math.fsum(seconds) / workers, *seconds)
    print(f"\nsuite {layout.name}, {workers} workers, medians of {rounds}; ideal {ideal:.2f}s")
    print(f"afterwards: {machine()}")
    print(f"{'mode':<19} {'median wall s':>13} {'vs plain':>9} {'busiest s':>10}")
    for label, median in medians.items():
        dist = label.split()[-1]
        ratio = median / medians[f"plain {dist}"]
        flag = "  SLOWER" if label.startswith("suitekit") and ratio > 1 else ""
        busy = statistics.median(busiest[label])
        print(f"{label:<19} {median:>13.2f} {ratio:>9.2f} {busy:>10.2f}{flag}")


def main() -> None:
    """Run the chosen suites."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suite", choices=("both", "tail", "dominant"), default="both")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fast", type=int, default=200)
    parser.add_argument("--fast-seconds", type=float, default=0.02)
    parser.add_argument("--slow", type=int, default=6)
    parser.add_argument("--slow-seconds", type=float, default=1.5)
    parser.add_argument("--tests", type=int, default=120)
    parser.add_argument("--total", type=float, default=16.0)
    parser.add_argument("--share", type=float, default=0.4)
    args = parser.parse_args()
    layouts = {"tail": tail, "dominant": dominant}
    for name, layout in layouts.items():
        if args.suite in ("both", name):
            bench(layout(args), rounds=args.rounds, workers=args.workers)


if __name__ == "__main__":
    main()
