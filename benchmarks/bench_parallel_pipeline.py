"""How much `inv test.all --parallel` saves over `inv test.all` on the example project.

Run on demand (not part of the test suites):

    .venv/bin/python benchmarks/bench_parallel_pipeline.py [--rounds 3]

The example project is copied to a temporary folder; one warm-up run creates the session
virtualenvs, then the sequential and the parallel pipeline run alternately, ``--rounds`` times
each, and the parallel one again with ``SUITEKIT_VIA_NOX=1`` (every session through nox, as
before warm sessions skipped it). It prints each run's wall time, the sum of the sessions' own
times, and the ratio of the median parallel wall time to the median sequential one (the
baseline, measured in the same run).

It also prints what the parallel pipeline costs beyond its longest session: the median of the
parallel wall time over the longest session's own time in the same run (goal: at most 1.15),
and the median parallel wall time itself (goal on an idle 2-core machine: at most 20 s).
PYTHONDONTWRITEBYTECODE is dropped from the runs' environment, as on a user's machine: with it,
every Python start compiles every module again.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "bookshop"
BIN = Path(sys.executable).parent
IGNORED = shutil.ignore_patterns(".nox", "reports", ".venv*", "__pycache__", ".*_cache")


def longest_session(stdout: str) -> float:
    """The longest session's own seconds in the summary table (the report excluded).

    The figures are right-aligned under their headings, so a row's seconds end where the
    heading ``seconds`` ends.
    """
    lines = stdout.rsplit("suitekit summary", 1)[-1].splitlines()
    header = next(line for line in lines if line.startswith("session "))
    end = header.index("seconds") + len("seconds")
    rows = lines[lines.index(header) + 2 :]
    seconds = [
        float(row[:end].split()[-1])
        for row in rows[: next(i for i, r in enumerate(rows) if r.startswith("wall time"))]
        if not row.startswith("report ")
    ]
    return max(seconds, default=float("nan"))


def run(project: Path, *args: str, via_nox: bool = False) -> tuple[float, float, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUITEKIT_", "NOX_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    if via_nox:
        env["SUITEKIT_VIA_NOX"] = "1"  # every session through nox, warm or not
    started = time.perf_counter()
    result = subprocess.run(
        [str(BIN / "inv"), "test.all", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:])
        message = f"inv test.all {' '.join(args)} failed with {result.returncode}"
        raise SystemExit(message)
    match = re.search(r"sessions' own time ([\d.]+)s", result.stdout)
    own = float(match.group(1)) if match else float("nan")
    return wall, own, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "bookshop"
        shutil.copytree(EXAMPLE, project, ignore=IGNORED)
        print(f"example copied to {project}; warming up the session virtualenvs ...")
        run(project)
        walls: dict[str, list[float]] = {"sequential": [], "parallel": [], "via nox": []}
        over_longest: list[float] = []
        modes = (
            ("sequential", (), False),
            ("parallel", ("--parallel",), False),
            ("via nox", ("--parallel",), True),
        )
        for index in range(rounds):
            for mode, args, via_nox in modes:
                wall, own, stdout = run(project, *args, via_nox=via_nox)
                walls[mode].append(wall)
                extra = ""
                if mode == "parallel":
                    longest = longest_session(stdout)
                    over_longest.append(wall / longest)
                    extra = f"  longest session {longest:5.1f}s"
                print(
                    f"round {index + 1} {mode:<10} wall {wall:6.1f}s"
                    f"  sessions' own time {own:6.1f}s{extra}"
                )
        sequential = statistics.median(walls["sequential"])
        parallel = statistics.median(walls["parallel"])
        through_nox = statistics.median(walls["via nox"])
        print(f"cpus: {os.cpu_count()}")
        print(f"median wall: sequential {sequential:.1f}s, parallel {parallel:.1f}s")
        print(
            f"parallel with every session through nox (SUITEKIT_VIA_NOX=1): {through_nox:.1f}s;"
            f" warm sessions without nox save {through_nox - parallel:.1f}s"
        )
        print(
            f"parallel / sequential = {parallel / sequential:.2f}"
            f" ({1 - parallel / sequential:.0%} less)"
        )
        ratio = statistics.median(over_longest)
        print(
            f"parallel wall / its longest session = {ratio:.2f} (goal <= 1.15: "
            f"{'ok' if ratio <= 1.15 else 'MISSED'}); parallel wall {parallel:.1f}s (goal <= 20s on"
            f" an idle 2-core machine: {'ok' if parallel <= 20 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
