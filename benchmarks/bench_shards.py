"""How evenly ``--shard K/N`` splits a skewed suite, against pytest-split on the same durations.

Run on demand (not part of the test suites):

    .venv/bin/python benchmarks/bench_shards.py [--tests 400] [--modules 20] [--seconds 40]
                                                [--counts 2 4] [--seed 7]

It writes a suite of ``--tests`` tests over ``--modules`` modules that burn CPU for lognormal
times (seeded; a few tests take 10 to 20 times the median) totalling ``--seconds``, records
their durations with one serial run and ``suitekit report``, then, for each shard count N, runs
every shard for real, one after another, without xdist:

- suitekit: ``pytest --suitekit-suite=unit --shard K/N -n 0``;
- pytest-split, the baseline, from a ``.test_durations`` file holding the same recorded figures:
  ``pytest tests --splits N --group K --splitting-algorithm least_duration``.

Per shard it prints the predicted seconds (suitekit's header line, pytest-split's estimate), the
sum of the tests' own seconds in the shard's JUnit file and the wall time; then max/mean of each,
with suitekit's predicted max/mean as ``suitekit shards`` prints it. The issue's goal: predicted
max/mean <= 1.05 once durations are known, measured max/mean next to pytest-split's.

It also checks that suitekit's shards partition the suite: every test in exactly one shard. That
is a correctness check, not a timing: the script exits with 1 after printing everything when
it fails (pytest-split's groups are checked too, and only reported).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from _fixture_suites import (
    SUITE,
    Run,
    collect,
    describe,
    imbalance,
    machine,
    record,
    run_pytest,
    skewed_seconds,
    suitekit_cli,
    write_project,
    write_split_durations,
)

GOAL: Final = 1.05
_SUITEKIT_PREDICTED: Final = re.compile(r"suitekit: shard \d+/\d+: .*predicted ([\d.]+)s")
_SPLIT_ESTIMATE: Final = re.compile(r"\[pytest-split\] Running group .*duration: ([\d.]+)s\)")
_PLAN_IMBALANCE: Final = re.compile(r"max/mean ([\d.]+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Shards:
    """Every shard of one split, run for real.

    Attributes:
        tool: Who split the suite.
        predicted: Per shard, the seconds its splitter predicted.
        runs: Per shard, its run.
    """

    tool: str
    predicted: tuple[float, ...]
    runs: tuple[Run, ...]

    def partition_errors(self, everything: frozenset[str]) -> list[str]:
        """What keeps the shards from partitioning ``everything`` (case keys); empty if none."""
        seen = Counter(key for run in self.runs for key in run.junit)
        twice = sorted(key for key, times in seen.items() if times > 1)
        missing = sorted(everything - seen.keys())
        extra = sorted(seen.keys() - everything)
        errors = []
        for problem, keys in (
            ("in more than one shard", twice),
            ("in no shard", missing),
            ("not in the suite", extra),
        ):
            if keys:
                errors.append(f"{self.tool}: {len(keys)} tests {problem}, e.g. {keys[:3]}")
        return errors


def _number(pattern: re.Pattern[str], text: str, what: str) -> float:
    match = pattern.search(text)
    if match is None:
        print(text[-2000:])
        message = f"no {what} in the output above"
        raise SystemExit(message)
    return float(match[1])


def run_suitekit(root: Path, count: int) -> Shards:
    """Run each of suitekit's ``count`` shards serially."""
    runs = []
    for index in range(1, count + 1):
        junit = root / "runs" / f"suitekit-{index}-of-{count}.xml"
        shard = ("--shard", f"{index}/{count}")
        runs.append(run_pytest(root, f"--suitekit-suite={SUITE}", *shard, "-n", "0", junit=junit))
    predicted = tuple(_number(_SUITEKIT_PREDICTED, r.stdout, "shard line") for r in runs)
    return Shards(tool="suitekit", predicted=predicted, runs=tuple(runs))


def run_pytest_split(root: Path, count: int, durations: Path) -> Shards:
    """Run each of pytest-split's ``count`` groups serially."""
    runs = []
    for index in range(1, count + 1):
        junit = root / "runs" / f"split-{index}-of-{count}.xml"
        split = ("--splits", str(count), "--group", str(index))
        algorithm = ("--splitting-algorithm", "least_duration", f"--durations-path={durations}")
        runs.append(run_pytest(root, "tests", "-n", "0", *split, *algorithm, junit=junit))
    predicted = tuple(_number(_SPLIT_ESTIMATE, r.stdout, "pytest-split estimate") for r in runs)
    return Shards(tool="pytest-split", predicted=predicted, runs=tuple(runs))


def planned_imbalance(root: Path, count: int) -> float:
    """Predicted max/mean of ``count`` shards, as ``suitekit shards`` prints it."""
    table = suitekit_cli(root, "shards", SUITE, "--count", str(count))
    return _number(_PLAN_IMBALANCE, table, "max/mean in the shard plan")


def print_shards(count: int, splits: Sequence[Shards]) -> None:
    """One row per shard of each split, then each split's max/mean."""
    print(f"\n{count} shards")
    columns = ("shard", 5), ("tests", 6), ("predicted s", 11), ("junit s", 8), ("wall s", 7)
    print(f"{'splitter':<13} " + " ".join(f"{name:>{width}}" for name, width in columns))
    for split in splits:
        for index, (predicted, run) in enumerate(zip(split.predicted, split.runs, strict=True)):
            print(
                f"{split.tool:<13} {f'{index + 1}/{count}':>5} {len(run.junit):>6} "
                f"{predicted:>11.2f} {run.test_seconds:>8.2f} {run.wall:>7.2f}"
            )
    print(f"{'max/mean':<13} {'':>5} {'':>6} {'predicted':>11} {'junit':>8} {'wall':>7}")
    for split in splits:
        junit = imbalance([run.test_seconds for run in split.runs])
        wall = imbalance([run.wall for run in split.runs])
        print(
            f"{split.tool:<13} {'':>5} {'':>6} {imbalance(split.predicted):>11.3f} "
            f"{junit:>8.3f} {wall:>7.3f}"
        )


def main() -> None:
    """Write the suite, record it, run every split, print the tables and check partitions."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tests", type=int, default=400)
    parser.add_argument("--modules", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=40.0, help="CPU seconds of the suite")
    parser.add_argument("--counts", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    seconds = skewed_seconds(args.tests, args.seconds, seed=args.seed)
    per_module = -(-args.tests // args.modules)
    modules = [seconds[start : start + per_module] for start in range(0, args.tests, per_module)]
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-shards-") as scratch:
        root = write_project(Path(scratch), modules)
        print(f"suite: {describe(seconds)}, {len(modules)} modules; {machine()}")
        serial, stored = record(root)
        print(
            f"recorded with one serial run: wall {serial.wall:.1f}s, "
            f"tests' own {serial.test_seconds:.1f}s, {len(stored)} durations stored"
        )
        node_ids = collect(root)
        everything = frozenset(serial.junit)
        durations = root / ".test_durations"
        write_split_durations(durations, node_ids, {key: m.seconds for key, m in stored.items()})
        summary: list[str] = []
        for count in args.counts:
            planned = planned_imbalance(root, count)
            splits = (run_suitekit(root, count), run_pytest_split(root, count, durations))
            print_shards(count, splits)
            for split in splits:
                found = split.partition_errors(everything)
                (errors if split.tool == "suitekit" else summary).extend(found)
            suitekit, baseline = splits
            measured = imbalance([run.test_seconds for run in suitekit.runs])
            theirs = imbalance([run.test_seconds for run in baseline.runs])
            verdict = "ok" if planned <= GOAL else f"ABOVE {GOAL}"
            summary.append(
                f"{count} shards: suitekit shards predicts max/mean {planned:.3f} ({verdict}); "
                f"measured (JUnit) suitekit {measured:.3f} vs pytest-split {theirs:.3f}"
            )
    print(f"\nafterwards: {machine()}")
    for line in summary:
        print(line)
    if errors:
        for line in errors:
            print(f"PARTITION ERROR {line}")
        sys.exit(1)
    print("partition: every suitekit shard split covers the suite once, with no overlap")


if __name__ == "__main__":
    main()
