"""The repository keeps its promises: two quick-start commands, CI runs them, it dogfoods."""

from __future__ import annotations

import os
import re
import subprocess
import sys
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


def _servers_seen_by_the_e2e_tests(env: dict[str, str]) -> list[str]:
    probe = (
        "import tests.e2e.isolation as i; print(repr(i.MACHINE_POSTGRES)); "
        "print(repr(i.MACHINE_REDIS))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True, timeout=60,
    )  # fmt: skip
    return result.stdout.splitlines()


def test_the_e2e_tests_use_no_server_that_nobody_named_for_them() -> None:
    # A contributor's own PostgreSQL and Redis listen on 5432/6379, and their shell may name
    # them in DATABASE_URL / REDIS_URL for their own work: none of it is the tests' to use.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SUITEKIT_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    mine = {
        "DATABASE_URL": "postgresql://me@127.0.0.1:5432/mine",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    assert _servers_seen_by_the_e2e_tests({**env, **mine}) == ["''", "''"]
    # Named for them: by the variables meant for it, or by suitekit's services for the suite.
    named = {
        "SUITEKIT_TEST_POSTGRES_URL": "postgresql://postgres@db.test:5433/postgres",
        "SUITEKIT_TEST_REDIS_URL": "redis://cache.test:6380/0",
    }
    assert _servers_seen_by_the_e2e_tests({**env, **named}) == [
        "'postgresql://postgres@db.test:5433/postgres'",
        "'redis://cache.test:6380/0'",
    ]
    provided = {
        "SUITEKIT_TEST_WORKER_POSTGRES_URL": "postgresql://postgres:pw@127.0.0.1:41234/sk_run_gw0",
        "SUITEKIT_TEST_WORKER_REDIS_URL": "redis://:pw@127.0.0.1:41235/7",
    }
    assert _servers_seen_by_the_e2e_tests({**env, **provided}) == [
        "'postgresql://postgres:pw@127.0.0.1:41234/postgres'",
        "'redis://:pw@127.0.0.1:41235/0'",
    ]
    # What the suite was provided may be the contributor's own servers, taken from their shell.
    assert _servers_seen_by_the_e2e_tests({**env, **provided, **mine}) == ["''", "''"]


@pytest.mark.parametrize("entry", ["noxfile.py", "tasks.py"])
def test_the_repos_own_runs_drop_a_contributors_server_variables(entry: str) -> None:
    # So the e2e suite's services start throwaway servers rather than take those.
    probe = (
        f"import os, runpy; runpy.run_path({entry!r}); "
        "print(os.environ.get('DATABASE_URL'), os.environ.get('REDIS_URL'))"
    )
    env = {**os.environ, "DATABASE_URL": "postgresql://me@h/mine", "REDIS_URL": "redis://h/0"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True, timeout=60,
    )  # fmt: skip
    assert result.stdout.split() == ["None", "None"]


def test_runs_under_test_never_inherit_a_contributors_server_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.e2e.helpers import clean_env  # noqa: PLC0415 - the e2e helpers, on demand

    monkeypatch.setenv("DATABASE_URL", "postgresql://me@127.0.0.1:5432/mine")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("SUITEKIT_TEST_WORKER_POSTGRES_URL", "postgresql://x@h/sk_db")
    env = clean_env()
    assert not {"DATABASE_URL", "REDIS_URL", "SUITEKIT_TEST_WORKER_POSTGRES_URL"} & set(env)
    assert clean_env({"DATABASE_URL": "postgresql://named@h/db"})["DATABASE_URL"] == (
        "postgresql://named@h/db"
    )
