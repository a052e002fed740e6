"""`nox` on a project whose noxfile is `suitekit.nox.register()`."""

from __future__ import annotations

from pathlib import Path

from suitekit.reporting import read_totals
from tests.e2e.helpers import Project, make_project


def test_nox_lists_every_suite_and_check_with_descriptions(project: Project) -> None:
    result = project.run("nox", "-l")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("* unit-3.11 [suites] -> Suite 'unit': pytest tests/unit") for line in lines
    ), result.stdout
    assert any(line.startswith("* slow-3.11 [suites] -> Suite 'slow'") for line in lines)
    assert any(line.startswith("* hello [checks] -> Check 'hello'") for line in lines)
    assert any(line.startswith("* partition -> ") for line in lines)
    assert any(line.startswith("* mine -> A session of the project's own.") for line in lines)


def test_nox_tags_select_suites_and_checks(project: Project) -> None:
    suites = project.run("nox", "-l", "-t", "suites")
    checks = project.run("nox", "-l", "-t", "checks")
    selected_suites = [line for line in suites.stdout.splitlines() if line.startswith("* ")]
    selected_checks = [line for line in checks.stdout.splitlines() if line.startswith("* ")]
    assert [line.split()[1] for line in selected_suites] == ["unit-3.11", "slow-3.11"]
    assert [line.split()[1] for line in selected_checks] == ["hello"]


def test_suite_session_runs_the_suite_then_posargs_reach_pytest_in_its_reused_venv(
    project: Project,
) -> None:
    result = project.run("nox", "-s", "unit")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "pytest --suitekit-suite=unit -n 2 --dist load" in output
    assert "3 passed" in output
    assert "suitekit: suite 'unit': paths tests/unit; 2 xdist workers" in output
    totals = read_totals(project.root / ".suitekit" / "reports" / "junit" / "unit-3.11.xml")
    assert (totals.tests, totals.failures, totals.errors) == (3, 0, 0)

    # Posargs reach pytest, and the session's virtualenv is reused (not built a second time).
    second = project.run(
        "nox", "-s", "unit-3.11", "--reuse-venv=yes", "--", "-k", "test_other or test_third"
    )
    output = second.stdout + second.stderr
    assert second.returncode == 0, output
    assert "Reusing existing virtual environment" in output
    assert "2 passed" in output


def test_marker_suite_and_check_and_own_session(project: Project) -> None:
    result = project.run("nox", "-s", "slow", "hello", "mine")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 passed, 3 deselected" in output
    assert "42" in output
    assert "my own session ran" in output


def test_env_override_of_workers_is_reported(project: Project) -> None:
    result = project.run("nox", "-s", "unit", env={"SUITEKIT_WORKERS": "0"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "pytest --suitekit-suite=unit -n 0 --junitxml" in output
    assert "no xdist (SUITEKIT_WORKERS)" in output


def test_failing_suite_fails_the_session(project: Project) -> None:
    project.write("tests/unit/test_bad.py", "def test_bad():\n    assert False\n")
    result = project.run("nox", "-s", "unit")
    assert result.returncode == 1
    assert "1 failed, 3 passed" in result.stdout + result.stderr


def test_malformed_declaration_stops_nox_with_the_key(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "bad",
        extra='[tool.suitekit.suites.unit]\npaths = ["tests/unit"]\nworkers = -2\n',
    )
    result = project.run("nox", "-l")
    assert result.returncode == 2
    assert "tool.suitekit.suites.unit.workers: -2 is negative" in result.stderr
    assert "fix: use 0 to run without xdist" in result.stderr
