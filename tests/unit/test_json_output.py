"""`suitekit config --json` and `suitekit plan --json`: versioned documents, valid by schema."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final

import jsonschema
import pytest

from suitekit import _json, plan
from suitekit._cli import main
from suitekit.config import load_project, run_options

BOOKSHOP: Final = Path(__file__).parents[2] / "examples" / "bookshop"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code = main(["--project", str(BOOKSHOP), *argv])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


@pytest.mark.parametrize("schema", [_json.CONFIG_SCHEMA, _json.PLAN_SCHEMA])
def test_the_schemas_are_valid_json_schemas(schema: str) -> None:
    jsonschema.Draft202012Validator.check_schema(_json.schema(schema))


def test_config_json_is_the_resolved_declaration(capsys: pytest.CaptureFixture[str]) -> None:
    document = _run(capsys, "config", "--json")

    jsonschema.validate(document, _json.schema(_json.CONFIG_SCHEMA))
    assert (document["schema"], document["version"]) == ("suitekit-config", 1)
    suites = {suite["name"]: suite for suite in document["suites"]}
    assert suites["unit"]["paths"] == ["tests/unit"]
    assert suites["processing"]["marker"] == "processing"
    assert suites["frontend"]["runner"] == {**suites["frontend"]["runner"], "kind": "vitest"}
    assert document["root"] == str(BOOKSHOP.resolve())


def test_plan_json_lists_each_job_with_its_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("SUITEKIT_CPUS", "SUITEKIT_WORKERS", "SUITEKIT_COVERAGE"):
        monkeypatch.delenv(variable, raising=False)  # a run of these tests may set them
    document = _run(capsys, "plan", "--json", "--parallel", "--cpus", "4")

    jsonschema.validate(document, _json.schema(_json.PLAN_SCHEMA))
    assert document["parallel"] is True
    jobs = {job["session"]: job for job in document["jobs"]}
    assert jobs["integration-3.11"]["services"] == ["postgres", "redis"]
    assert jobs["frontend-3.11"]["shards"] == 2
    assert jobs["lint"]["python"] is None
    assert [job["kind"] for job in document["finish"]] == ["report", "coverage"]
    # The same jobs, variables and commands as the plain `suitekit plan` prints, line by line.
    assert main(["--project", str(BOOKSHOP), "plan", "--parallel", "--cpus", "4"]) == 0
    plain = capsys.readouterr().out.splitlines()
    assert plain == [
        " ".join([*(f"{key}={value}" for key, value in job["env"].items()), *job["command"]])
        for job in document["jobs"]
    ]
    # Each suite's share of the 4 CPUs reaches it by variable (which share: the recorded work).
    assert {name for job in document["jobs"] for name in job["env"]} <= {
        "SUITEKIT_WORKERS",
        "SUITEKIT_CPUS",
    }
    assert jobs["processing-3.11"]["env"]


def matrix(document: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """A GitHub Actions matrix from a plan document, as a workflow's `fromJSON` would take it."""
    legs = []
    for job in document["jobs"]:
        total = job["shards"]
        for index in range(1, total + 1):
            shard = ["--", "--shard", f"{index}/{total}"] if total > 1 else []
            legs.append({"name": job["session"], "run": " ".join([*job["command"], *shard])})
    return {"include": legs}


def test_a_ci_matrix_is_built_from_the_plan_alone() -> None:
    project = load_project(BOOKSHOP)
    document = _json.plan_document(
        project, plan.run_plan(project, whole=True, options=run_options(os.environ))
    )

    legs = matrix(json.loads(json.dumps(document)))["include"]

    runs = [leg["run"] for leg in legs]
    assert "nox -s unit-3.11" in runs
    assert "nox -s frontend-3.11 -- --shard 1/2" in runs
    assert "nox -s frontend-3.11 -- --shard 2/2" in runs
    expected = sum(suite.shards * len(suite.python) for suite in project.suites)
    assert len(legs) == expected + len(project.checks)


def test_version_is_printed_without_a_project(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--version"])

    assert ended.value.code == 0
    assert capsys.readouterr().out.startswith("suitekit ")


def test_a_password_in_a_url_is_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        """
[tool.suitekit.suites.unit]
paths = ["tests"]
services = ["postgres"]
env = { LEGACY_URL = "postgresql://app:hunter2@db.example/app" }

[tool.suitekit.services.postgres]
url = "postgresql://alice:s3cret@db.example/postgres"
"""
    )

    assert main(["--project", str(tmp_path), "config", "--json"]) == 0

    out = capsys.readouterr().out
    assert "s3cret" not in out
    assert "hunter2" not in out
    assert "postgresql://alice:***@db.example/postgres" in out
