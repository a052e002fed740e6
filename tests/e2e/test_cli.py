"""The `suitekit` command."""

from __future__ import annotations

from pathlib import Path

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
