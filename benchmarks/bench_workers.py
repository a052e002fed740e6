"""Whether suitekit's worker count from recorded durations beats ``-n 0`` and ``-n auto``.

Run on demand (not part of the test suites):

    .venv/bin/python benchmarks/bench_workers.py [--rounds 3] [--suites tiny slow ...]

For each of four generated suites (tests burning CPU):

- ``tiny``: 20 trivial tests;
- ``fast-many``: 5000 trivial tests in 50 modules;
- ``skewed``: 100 tests of lognormal times (a few 10 to 20 times the median), 10 s in all;
- ``slow``: 60 tests of 150 ms each;

it records the durations (one serial run and ``suitekit report``), asks
:func:`suitekit.plan.resolve_workers` for the count of ``workers = "auto"`` with real evidence
(the stored durations and this machine's cached calibration, ``cpus = os.cpu_count()``), as the
nox session does, and then runs the suite ``--rounds`` times each with ``-n 0``, ``-n auto`` and
``-n <chosen>``, alternately (always ``--suitekit-suite=unit``, so the store orders xdist runs
slow-first in all of them). It prints the choice and its reason, the median wall times, and the
ratio of suitekit's to the better of ``-n 0`` and ``-n auto`` (baselines measured in the same
run), flagging ``OVER 5 %`` where suitekit's count is more than 5 % slower. When the chosen
count is the better baseline's own (``-n 0``, or as many workers as ``-n auto`` starts here), the
two are the same command and the flag says that the difference is run-to-run noise.
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

from suitekit import plan, sharding
from suitekit.config import load_project
from suitekit.sharding._calibrate import cached_or_measured

TOLERANCE: Final = 0.05
_CREATED: Final = re.compile(r"^created: (\d+)/\d+ workers", re.MULTILINE)


def _chunks(seconds: list[float], modules: int) -> list[list[float]]:
    size = -(-len(seconds) // modules)
    return [seconds[start : start + size] for start in range(0, len(seconds), size)]


SUITES: Final[Mapping[str, Callable[[], list[list[float]]]]] = {
    "tiny": lambda: [[0.0] * 20],
    "fast-many": lambda: _chunks([0.0] * 5000, 50),
    "skewed": lambda: _chunks(skewed_seconds(100, 10.0, seed=11), 10),
    "slow": lambda: _chunks([0.15] * 60, 6),
}


def choose(root: Path, calibration: sharding.Calibration) -> tuple[int, str]:
    """The worker count ``workers = "auto"`` resolves to from the recorded durations, and why."""
    project = load_project(root)
    stored = sharding.DurationStore.load(root / sharding.DURATIONS_FILE).suites[SUITE]
    options = plan.RunOptions.from_env({}, cpu_count=os.cpu_count())
    evidence = plan.Evidence(stored=stored, calibration=calibration)
    resolved = plan.resolve_workers(project.suite(SUITE), options, evidence)
    return resolved.value, resolved.origin


def auto_workers(scratch: Path) -> int:
    """How many workers ``-n auto`` starts on this machine (xdist says so with ``-v``)."""
    probe = write_project(scratch / "probe", [[0.0, 0.0]])
    run = run_pytest(probe, "tests", "-n", "auto", verbose=True)
    match = _CREATED.search(run.stdout)
    if match is None:
        print(run.stdout[-2000:])
        message = "xdist did not say how many workers -n auto created"
        raise SystemExit(message)
    return int(match[1])


def measure(root: Path, chosen: int, rounds: int) -> dict[str, float]:
    """Median wall seconds of ``-n 0``, ``-n auto`` and ``-n <chosen>``, run alternately."""
    modes = {"-n 0": "0", "-n auto": "auto", "suitekit": str(chosen)}
    walls: dict[str, list[float]] = {label: [] for label in modes}
    for index in range(rounds):
        for label, count in modes.items():
            wall = run_pytest(root, f"--suitekit-suite={SUITE}", "-n", count).wall
            walls[label].append(wall)
            print(f"  round {index + 1} {label:<8} (-n {count:<4}) wall {wall:6.2f}s")
    return {label: statistics.median(values) for label, values in walls.items()}


def main() -> None:
    """Record each suite, resolve its worker count, time the three counts, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--suites", nargs="+", choices=list(SUITES), default=list(SUITES))
    args = parser.parse_args()
    calibration = cached_or_measured(os.environ)
    print(f"{machine()}; calibration: {calibration.to_json()}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as scratch:
        auto = auto_workers(Path(scratch))
        print(f"-n auto starts {auto} workers here")
        for name in args.suites:
            modules = SUITES[name]()
            root = write_project(Path(scratch, name), modules)
            seconds = [value for module in modules for value in module]
            print(f"\n{name}: {describe(seconds)}")
            serial, _ = record(root)
            print(f"  recorded with one serial run: wall {serial.wall:.2f}s")
            chosen, reason = choose(root, calibration)
            print(f"  suitekit chooses -n {chosen}: {reason}")
            medians = measure(root, chosen, args.rounds)
            rows.append((name, chosen, medians))
    print(f"\nmedian wall seconds of {args.rounds} rounds; afterwards: {machine()}")
    header = ("suite", 10), ("chosen", 6), ("-n 0", 7), ("-n auto", 7), ("suitekit", 8)
    print(" ".join(f"{title:>{width}}" for title, width in header) + "  suitekit/best")
    for name, chosen, medians in rows:
        best = min(("-n 0", "-n auto"), key=medians.__getitem__)
        ratio = medians["suitekit"] / medians[best]
        flag = "  OVER 5 %" if ratio > 1 + TOLERANCE else ""
        if flag and chosen == {"-n 0": 0, "-n auto": auto}[best]:
            flag += f" (the same -n as {best}: run-to-run noise)"
        print(
            f"{name:>10} {chosen:>6} {medians['-n 0']:>7.2f} {medians['-n auto']:>7.2f} "
            f"{medians['suitekit']:>8.2f}  {ratio:13.2f}{flag}"
        )


if __name__ == "__main__":
    main()
