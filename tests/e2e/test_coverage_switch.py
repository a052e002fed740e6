"""A suite with `coverage = false`, and a run without coverage, through real nox sessions."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.helpers import SUITES, make_project

MEASURED = SUITES.replace("workers = 0\n", "workers = 0\ncoverage = false\n").replace(
    "[tool.suitekit.suites.unit]", 'source = ["src/demo"]\n\n[tool.suitekit.suites.unit]'
)


def test_a_suite_without_coverage_is_absent_from_the_combined_figure(demo_root: Path) -> None:
    project = make_project(demo_root, extra=MEASURED)
    data = project.root / ".suitekit" / "reports" / "coverage"

    sessions = project.run("nox", "-s", "unit", "slow")
    assert sessions.returncode == 0, sessions.stdout + sessions.stderr
    output = sessions.stdout + sessions.stderr
    assert "coverage run --rcfile=" in output  # unit is measured
    assert "nox > python -m pytest --suitekit-suite=slow" in output  # slow: no coverage
    assert list(data.glob(".coverage.unit@3_11.*"))
    assert not list(data.glob(".coverage.slow@*"))
    # Each session records its durations itself, without a report.
    durations = json.loads((project.root / ".suitekit" / "durations.json").read_text())
    assert set(durations["suites"]) == {"unit", "slow"}
    assert len(durations["suites"]["unit"]) == 3

    combined = project.run("suitekit", "coverage")
    assert combined.returncode == 0, combined.stdout + combined.stderr
    table = combined.stdout.split("suite ", 1)[1]
    assert "unit" in table
    assert "slow" not in table
    assert "suitekit: combined coverage 100.00% passes the gate" in combined.stdout

    # SUITEKIT_COVERAGE=0 (inv --no-coverage) measures nothing, and drops the stale data.
    plain = project.run("nox", "-s", "unit", env={"SUITEKIT_COVERAGE": "0"})
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "coverage run" not in plain.stdout + plain.stderr
    assert not list(data.glob(".coverage.*@*"))
    nothing = project.run("suitekit", "coverage")
    assert nothing.returncode == 2
    assert "no coverage data in" in nothing.stderr
