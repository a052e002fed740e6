"""How fast suitekit merges JUnit XML reports, and in how much memory, against junitparser.

Run on demand (not part of the test suites):

    .venv/bin/python benchmarks/bench_junit_merge.py [--rounds 3] [--files 8] [--cases 100000]

It writes ``--files`` JUnit XML files with ``--cases`` test cases in all to a temporary folder,
shaped like pytest's (class names, parametrized names, times; about 5% failures with a message
and a traceback, 0.5% errors, 3% skipped or xfailed, 5% with captured output), then merges them
``--rounds`` times each way, alternately, in this process:

- (a) suitekit: :func:`suitekit.reporting._merge.merge_junit`;
- (b) junitparser, the baseline: ``JUnitXml.fromfile`` for each file, ``+=`` into one
  ``JUnitXml``, then ``write``.

It prints each run's time, the median of each and their ratio. Peak memory is measured in a
fresh subprocess per approach (the child's own ``ru_maxrss`` once it has merged, and the same
figure after its imports, before it read anything). The goal: the merge takes at most 1.0 s and
its process peaks under 100 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape, quoteattr

from junitparser import JUnitXml

from suitekit.reporting._merge import merge_junit

GOAL_SECONDS: Final = 1.0
GOAL_MB: Final = 100.0
TRACEBACK: Final = "\n".join(
    f"src/shop/module_{index}.py:{10 + index}: in step_{index}\n"
    f"    result = compute(order, attempt={index})"
    for index in range(8)
)


def write_inputs(folder: Path, *, files: int, cases: int, seed: int = 20250101) -> list[Path]:
    """Write ``files`` pytest-like JUnit XML files with ``cases`` test cases in all."""
    rng = random.Random(seed)  # noqa: S311 - test data, reproducible on purpose
    paths = []
    for number in range(files):
        suite = f"shard-{number + 1}"
        counts = {"failures": 0, "errors": 0, "skipped": 0}
        total = 0.0
        parts = []
        for index in range(cases // files + (number < cases % files)):
            classname = f"tests.{suite}.test_orders_{index // 250:03d}.TestCheckout{index % 9}"
            name = f"test_checkout_total_{index}[eur-{index % 13}]"
            seconds = rng.expovariate(1 / 0.004)
            total += seconds
            body = ""
            draw = rng.random()
            if draw < 0.05:
                counts["failures"] += 1
                message = f"AssertionError: assert {index} == {index + 1}\n +  where {index} = f()"
                body = (
                    f"<failure message={quoteattr(message)}>{escape(TRACEBACK)}\n"
                    f"E   AssertionError: assert {index} == {index + 1}</failure>"
                )
            elif draw < 0.055:
                counts["errors"] += 1
                body = (
                    '<error message="failed on setup with &quot;RuntimeError: no database&quot;">'
                    f"{escape(TRACEBACK)}\nE   RuntimeError: no database</error>"
                )
            elif draw < 0.07:
                counts["skipped"] += 1
                body = '<skipped type="pytest.xfail" message="known rounding bug" />'
            elif draw < 0.085:
                counts["skipped"] += 1
                body = (
                    '<skipped type="pytest.skip" message="needs the payment sandbox">'
                    "tests/conftest.py:40: needs the payment sandbox</skipped>"
                )
            if rng.random() < 0.05:
                body += (
                    "<system-out>--------------------------------- Captured Log -----------------"
                    f"----------------\nINFO     shop.checkout:checkout.py:88 order {index} &lt;"
                    f"ok&gt;\n</system-out><system-err>retrying {index}\n</system-err>"
                )
            head = f'<testcase classname="{classname}" name="{name}" time="{seconds:.3f}"'
            parts.append(f"{head}>{body}</testcase>" if body else f"{head} />")
        path = folder / f"{suite}.xml"
        path.write_text(
            '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
            f'<testsuite name="{suite}" errors="{counts["errors"]}" '
            f'failures="{counts["failures"]}" skipped="{counts["skipped"]}" tests="{len(parts)}" '
            f'time="{total:.3f}" timestamp="2025-01-01T12:00:00.000000+00:00" hostname="ci-7">'
            f"{''.join(parts)}</testsuite></testsuites>",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def merge_with_suitekit(inputs: list[Path], output: Path) -> int:
    result = merge_junit(inputs, output)
    if result.unreadable:
        raise SystemExit(str(result.unreadable))
    return result.totals.tests


def merge_with_junitparser(inputs: list[Path], output: Path) -> int:
    merged = JUnitXml()
    for path in inputs:
        merged += JUnitXml.fromfile(str(path))
    merged.write(str(output))
    return int(merged.tests)


APPROACHES: Final = {"suitekit": merge_with_suitekit, "junitparser": merge_with_junitparser}


def peak_bytes() -> int:
    """This process's peak resident memory, in bytes.

    On Linux the figure is ``VmHWM`` from ``/proc/self/status``: ``ru_maxrss`` would not do
    there, as a process keeps the ``ru_maxrss`` of the process it was forked from across
    ``exec``, so every child would report at least this benchmark's own peak.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def child(approach: str, inputs: list[Path], output: Path) -> None:
    """Run one approach in this fresh process and print its figures as JSON.

    ``baseline`` is the peak after the imports of this module (both approaches'), before any
    input is read; ``peak`` the peak once the approach has written its report.
    """
    baseline = peak_bytes()
    started = time.perf_counter()
    tests = APPROACHES[approach](inputs, output)
    seconds = time.perf_counter() - started
    print(
        json.dumps({"baseline": baseline, "peak": peak_bytes(), "seconds": seconds, "tests": tests})
    )


def measure_memory(approach: str, inputs: list[Path], output: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", approach, "--output", str(output)]
    done = subprocess.run(
        [*command, *map(str, inputs)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        message = f"{approach} child failed:\n{done.stdout}\n{done.stderr}"
        raise SystemExit(message)
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--child", choices=sorted(APPROACHES), help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("inputs", nargs="*", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child, options.inputs, options.output)
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "in").mkdir()
        inputs = write_inputs(folder / "in", files=options.files, cases=options.cases)
        size = sum(path.stat().st_size for path in inputs) / 1e6
        print(f"{len(inputs)} input files, {options.cases:,} test cases, {size:.1f} MB")
        times: dict[str, list[float]] = {name: [] for name in APPROACHES}
        for index in range(options.rounds):
            for name, merge in APPROACHES.items():
                output = folder / f"{name}.xml"
                started = time.perf_counter()
                tests = merge(inputs, output)
                seconds = time.perf_counter() - started
                times[name].append(seconds)
                if tests != options.cases:
                    message = f"{name} merged {tests} test cases, not {options.cases}"
                    raise SystemExit(message)
                print(f"round {index + 1} {name:<11} {seconds:6.3f}s")
        memory = {
            name: measure_memory(name, inputs, folder / f"{name}-child.xml") for name in APPROACHES
        }
        median = {name: statistics.median(values) for name, values in times.items()}
        for name in APPROACHES:
            peak = memory[name]["peak"] / 1e6
            grown = (memory[name]["peak"] - memory[name]["baseline"]) / 1e6
            print(
                f"{name:<11} median {median[name]:6.3f}s  peak RSS {peak:6.1f} MB"
                f" ({grown:+.1f} MB over the process after its imports)"
            )
        ours, theirs = median["suitekit"], median["junitparser"]
        print(f"suitekit / junitparser time = {ours / theirs:.3f} ({theirs / ours:.1f}x faster)")
        peak_ours, peak_theirs = memory["suitekit"]["peak"], memory["junitparser"]["peak"]
        print(f"suitekit / junitparser peak RSS = {peak_ours / peak_theirs:.2f}")
        holds = ours <= GOAL_SECONDS and peak_ours / 1e6 < GOAL_MB
        print(
            f"goal (merge <= {GOAL_SECONDS:.1f}s and peak < {GOAL_MB:.0f} MB): "
            f"{'holds' if holds else 'does NOT hold'}"
            f" ({ours:.3f}s, {peak_ours / 1e6:.1f} MB)"
        )


if __name__ == "__main__":
    main()
