"""The repository keeps its promises: two quick-start commands, CI runs them, it dogfoods."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from suitekit import load_project, plan
from suitekit._cli import main

ROOT = Path(__file__).resolve().parents[2]


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)]


def test_quick_start_has_exactly_two_single_line_commands() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    assert commands[0].endswith("cd examples/bookshop && ../../.venv/bin/inv test.all --parallel")


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in ci.splitlines()]
    assert _quick_start_commands()[1] in lines


def test_the_repo_runs_its_own_suites_and_checks_through_suitekit() -> None:
    assert "suitekit.nox.register()" in (ROOT / "noxfile.py").read_text(encoding="utf-8")
    assert "from suitekit.invoke import ns" in (ROOT / "tasks.py").read_text(encoding="utf-8")
    project = load_project(ROOT)
    names = [spec.name for spec in plan.sessions(project)]
    assert {"unit", "plugin", "e2e", "lint", "typecheck", "partition"} <= set(names)
    typecheck = project.check("typecheck")
    assert typecheck.run == ("mypy",)  # strict, over src and tests, as [tool.mypy] says


def test_the_committed_ci_files_are_what_suitekit_generates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The drift check the generated workflows run in their lint job, run here in-process.
    assert main(["--project", str(ROOT), "ci", "check"]) == 0, capsys.readouterr().out
    assert (ROOT / ".github" / "workflows" / "suitekit.yml").is_file()
    assert (ROOT / "ci" / "gitlab-ci.yml").is_file()
