"""The `suitekit` command."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from suitekit import _json
from suitekit.reporting import read_totals
from tests.e2e.helpers import Project, make_project


def test_config_shows_the_sessions(project: Project) -> None:
    result = project.run("suitekit", "config")
    assert result.returncode == 0, result.stderr
    assert "unit: Suite 'unit': pytest tests/unit (workers=2, dist=load" in result.stdout


def test_plan_prints_the_commands_with_cpu_shares(project: Project) -> None:
    result = project.run("suitekit", "plan", "--parallel", "--cpus", "4")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "SUITEKIT_WORKERS=2 nox -s unit-3.11",
        "SUITEKIT_WORKERS=0 nox -s slow-3.11",
        "nox -s hello",
    ]


def test_suites_counts_each_suites_tests(project: Project) -> None:
    result = project.run("suitekit", "suites")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unit       3" in result.stdout
    assert "slow       1" in result.stdout

    # --json: the same partition, written by the session's pytest; its output on stderr.
    document = project.run("suitekit", "suites", "--json")
    assert document.returncode == 0, document.stdout + document.stderr
    partition = json.loads(document.stdout)
    jsonschema.validate(partition, _json.schema(_json.SUITES_SCHEMA))
    assert partition["suites"] == [{"name": "unit", "tests": 3}, {"name": "slow", "tests": 1}]
    assert "unit       3" in document.stderr


def test_bad_declaration_exits_2_with_the_key(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "bad",
        extra='[tool.suitekit.suites.unit]\npaths = ["tests/unit"]\ndist = "loadscop"\n',
    )
    result = project.run("suitekit", "plan")
    assert result.returncode == 2
    assert (
        "tool.suitekit.suites.unit.dist: 'loadscop' is not an xdist distribution mode"
        in result.stderr
    )
    assert "did you mean 'loadscope'?" in result.stderr


def test_report_names_a_missing_or_corrupt_file_merges_the_rest_and_fails(
    project: Project,
) -> None:
    ran = project.run("nox", "-s", "unit")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    # A suite that wrote no report fails the report.
    missing = project.run("suitekit", "report")
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert "slow-3.11" in missing.stdout

    ran = project.run("nox", "-s", "slow")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    corrupt = project.root / ".suitekit" / "reports" / "junit" / "broken-3.11.xml"
    corrupt.write_text('<testsuites><testsuite name="broken" tests="1"><testcase name="x"')
    before = corrupt.read_bytes()

    result = project.run("inv", "report")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "broken-3.11.xml" in out
    assert corrupt.read_bytes() == before  # never rewritten, never deleted
    merged = read_totals(project.root / ".suitekit" / "reports" / "junit.xml")
    assert (merged.tests, merged.failures, merged.errors) == (4, 0, 0)
    summary = (project.root / ".suitekit" / "reports" / "summary.md").read_text()
    assert "broken-3.11.xml" in summary
    durations = json.loads((project.root / ".suitekit" / "durations.json").read_text())
    assert set(durations["suites"]) == {"unit", "slow"}
