"""suitekit's split of a Vitest suite by recorded durations against Vitest's own ``--shard``.

Run on demand (not part of the test suites; needs Node.js and npm, and the npm registry):

    .venv/bin/python benchmarks/bench_frontend_shards.py [--shards 3] [--rounds 3]
        [--seconds 4,2.5,2,1.5,1] [--fast 11] [--fast-seconds 0.3]

A skewed suite, as front ends have: a few slow test files (``--seconds``, one test each) and
``--fast`` quick ones. Each test waits its time (a timer, not the CPU), so the figures hardly
depend on what else the machine does. The project is written once, its packages installed once
(``npm ci`` of tests/fixtures/frontend's lock file), and every shard runs through the real
``nox -s frontend-3.11 -- --shard K/N`` with one Vitest worker, so a shard's time is its files'
times added up:

- ``vitest``: no durations store, so suitekit passes ``--shard K/N`` to Vitest, which splits
  the files by count;
- ``suitekit``: the store holds a whole run's durations, so suitekit lists the files and deals
  them out longest first.

The two modes alternate, ``--rounds`` times. For each it prints every shard's wall time (the
nox command) and its tests' own seconds (the JUnit report), then the medians of max/mean (1.00
is a perfect split) and of the slowest shard, which is what a CI run waits for, and the ratio
of Vitest's to suitekit's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from xml.etree import ElementTree as ET

ROOT: Final = Path(__file__).resolve().parents[1]
FIXTURE: Final = ROOT / "tests" / "fixtures" / "frontend"
BIN: Final = Path(sys.executable).parent

PYPROJECT: Final = """\
[project]
name = "bench"
version = "0"

[tool.suitekit]
python = ["3.11"]
tests = ["frontend"]

[tool.suitekit.suites.frontend]
runner = "vitest"
cwd = "frontend"
paths = ["src"]
workers = 1
shards = {shards}
"""

TEST: Final = """\
import {{ expect, it }} from "vitest";

it("takes {seconds} s", async () => {{
  await new Promise((resolve) => setTimeout(resolve, {ms}));
  expect(true).toBe(true);
}});
"""


@dataclass(frozen=True, slots=True)
class Shard:
    wall: float
    tests: float
    files: int


def write_project(root: Path, seconds: list[float], shards: int) -> None:
    (root / "frontend" / "src").mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(FIXTURE / name, root / "frontend" / name)
    for index, value in enumerate(seconds):
        text = TEST.format(seconds=value, ms=round(value * 1000))
        (root / "frontend" / "src" / f"t{index:02d}.test.js").write_text(text, encoding="utf-8")
    (root / "pyproject.toml").write_text(PYPROJECT.format(shards=shards), encoding="utf-8")
    (root / "noxfile.py").write_text("import suitekit.nox\n\nsuitekit.nox.register()\n")


def nox(root: Path, *args: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUITEKIT_", "NOX_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    started = time.perf_counter()
    result = subprocess.run(
        [str(BIN / "nox"), "-s", "frontend-3.11", "--reuse-venv=yes", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"nox {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return wall


def shard_tests(root: Path, index: int, total: int) -> tuple[float, int]:
    junit = root / ".suitekit" / "reports" / "junit" / f"frontend-3.11.shard-{index}-of-{total}.xml"
    cases = ET.parse(junit).getroot().iter("testcase")  # noqa: S314 - our own report
    times = [float(case.get("time", "0")) for case in cases]
    return sum(times), len(times)


def run_shards(root: Path, total: int) -> list[Shard]:
    shards = []
    for index in range(1, total + 1):
        wall = nox(root, "--", "--shard", f"{index}/{total}")
        tests, files = shard_tests(root, index, total)
        shards.append(Shard(wall=wall, tests=tests, files=files))
    return shards


def imbalance(values: list[float]) -> float:
    mean = statistics.fmean(values)
    return max(values) / mean if mean > 0 else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", default="4,2.5,2,1.5,1")
    parser.add_argument("--fast", type=int, default=11)
    parser.add_argument("--fast-seconds", type=float, default=0.3)
    args = parser.parse_args()
    if shutil.which("npm") is None:
        sys.exit("npm is not on PATH: install Node.js 20 or newer")
    seconds = [float(s) for s in args.seconds.split(",")] + [args.fast_seconds] * args.fast
    print(f"{len(seconds)} test files, {sum(seconds):.2f} s of tests; {args.shards} shards")
    with tempfile.TemporaryDirectory(prefix="bench-frontend-") as scratch:
        modes = {"vitest": Path(scratch) / "vitest", "suitekit": Path(scratch) / "suitekit"}
        for root in modes.values():
            write_project(root, seconds, args.shards)
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"],
                cwd=root / "frontend",
                check=True,
                capture_output=True,
            )
        nox(modes["vitest"], "--install-only")
        nox(modes["suitekit"])  # a whole run: the durations store learns every file's time
        results: dict[str, list[list[Shard]]] = {mode: [] for mode in modes}
        for round_ in range(1, args.rounds + 1):
            for mode, root in modes.items():
                shards = run_shards(root, args.shards)
                results[mode].append(shards)
                walls = " ".join(f"{s.wall:5.2f}" for s in shards)
                tests = " ".join(f"{s.tests:5.2f}" for s in shards)
                files = "/".join(str(s.files) for s in shards)
                print(f"round {round_} {mode:8}  walls {walls}  tests {tests}  files {files}")
        summary = {}
        for mode, rounds in results.items():
            summary[mode] = (
                statistics.median(imbalance([s.wall for s in r]) for r in rounds),
                statistics.median(imbalance([s.tests for s in r]) for r in rounds),
                statistics.median(max(s.wall for s in r) for r in rounds),
            )
            wall_ratio, test_ratio, slowest = summary[mode]
            print(
                f"{mode:8}  max/mean of walls {wall_ratio:.2f}, of tests' seconds "
                f"{test_ratio:.2f}; slowest shard {slowest:.2f} s (medians)"
            )
        ratio = summary["vitest"][2] / summary["suitekit"][2]
        print(f"slowest shard, Vitest's split / suitekit's: {ratio:.2f}x")


if __name__ == "__main__":
    main()
