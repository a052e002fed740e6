"""Whether ``workers = "auto"`` matches the better of ``-n 0`` and ``-n 2``, first run included.

Run on demand (not part of the test suites):

    .venv/bin/python benchmarks/bench_workers.py [--rounds 3] [--suites tiny slow ...]

For each generated suite (tests burning CPU):

- ``tiny``: 20 trivial tests;
- ``fast-many``: 5000 trivial tests in 50 modules;
- ``trivial-20k``: 20,000 trivial (sub-millisecond) tests in 100 modules;
- ``fast-1k``: 1,000 tests of 1 ms in 20 modules;
- ``skewed``: 100 tests of lognormal times (a few 10 to 20 times the median), 10 s in all;
- ``slow``: 60 tests of 150 ms each;

it runs the suite ``--rounds`` times each with ``-n 0``, ``-n 2`` and ``-n auto`` (suitekit's
decision, as ``nox -s unit`` runs it), alternately, in two phases: *first run* (no durations
recorded: the plugin decides from the run's first tests) and *later runs* (after one serial run
and ``suitekit report`` recorded the durations). Every run selects ``--suitekit-suite=unit``. It
prints, per case and phase, what ``-n auto`` decided, the median walls, and the ratio of
``-n auto`` to the better of ``-n 0`` and ``-n 2`` measured in the same run, flagging ``OVER 10 %``.
The calibration the decisions use is printed first (cached, measured now, or the default a busy
machine gets).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from _fixture_suites import (
    SUITE,
    describe,
    machine,
    record,
    run_pytest,
    skewed_seconds,
    write_project,
)

from suitekit.sharding._calibrate import obtain

TOLERANCE: Final = 0.10
_DECISION: Final = re.compile(r"suitekit: workers auto: -n (\d+)")
MODES: Final = ("-n 0", "-n 2", "-n auto")


def _chunks(seconds: list[float], modules: int) -> list[list[float]]:
    size = -(-len(seconds) // modules)
    return [seconds[start : start + size] for start in range(0, len(seconds), size)]


SUITES: Final[Mapping[str, Callable[[], list[list[float]]]]] = {
    "tiny": lambda: [[0.0] * 20],
    "fast-many": lambda: _chunks([0.0] * 5000, 50),
    "trivial-20k": lambda: _chunks([0.0] * 20_000, 100),
    "fast-1k": lambda: _chunks([0.001] * 1000, 20),
    "skewed": lambda: _chunks(skewed_seconds(100, 10.0, seed=11), 10),
    "slow": lambda: _chunks([0.15] * 60, 6),
}


def measure(root: Path, rounds: int) -> tuple[dict[str, float], list[str]]:
    """Median wall seconds of each mode, run alternately, and what ``-n auto`` decided."""
    walls: dict[str, list[float]] = {label: [] for label in MODES}
    decided: list[str] = []
    for index in range(rounds):
        for label in MODES:
            run = run_pytest(root, f"--suitekit-suite={SUITE}", *label.split())
            walls[label].append(run.wall)
            if label == "-n auto":
                found = _DECISION.findall(run.stdout)
                decided.append(found[-1] if found else "?")
            print(f"  round {index + 1} {label:<8} wall {run.wall:6.2f}s")
    return {label: statistics.median(values) for label, values in walls.items()}, decided


def main() -> None:
    """Time every mode in both phases of every suite; print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--suites", nargs="+", choices=list(SUITES), default=list(SUITES))
    args = parser.parse_args()
    os.environ["SUITEKIT_CPUS"] = "2"
    found = obtain(os.environ, say=print)
    calibration = found.to_json() if found is not None else "none: the default is assumed"
    print(f"{machine()}; calibration: {calibration}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as scratch:
        for name in args.suites:
            modules = SUITES[name]()
            root = write_project(Path(scratch, name), modules)
            seconds = [value for module in modules for value in module]
            print(f"\n{name}: {describe(seconds)}\n first run (no durations recorded)")
            first, first_decided = measure(root, args.rounds)
            serial, _ = record(root)
            print(f" later runs (recorded with one serial run: wall {serial.wall:.2f}s)")
            later, later_decided = measure(root, args.rounds)
            rows.append((name, "first", first, first_decided))
            rows.append((name, "later", later, later_decided))
    print(f"\nmedian wall seconds of {args.rounds} rounds; afterwards: {machine()}")
    header = ("suite", 12), ("phase", 6), ("-n 0", 7), ("-n 2", 7), ("auto", 7), ("auto chose", 10)
    print(" ".join(f"{title:>{width}}" for title, width in header) + "  auto/best")
    for name, phase, medians, decided in rows:
        best = min(medians["-n 0"], medians["-n 2"])
        ratio = medians["-n auto"] / best
        flag = "  OVER 10 %" if ratio > 1 + TOLERANCE else ""
        chose = "/".join(decided)
        print(
            f"{name:>12} {phase:>6} {medians['-n 0']:>7.2f} {medians['-n 2']:>7.2f} "
            f"{medians['-n auto']:>7.2f} {chose:>10}  {ratio:9.2f}{flag}"
        )


if __name__ == "__main__":
    main()
