"""Unit tests of the generated CI files (suitekit.ci) and ``suitekit ci github|gitlab|check``.

The files are golden-file tested, and validated by the providers' own tools: ``actionlint``
(with shellcheck for the ``run`` scripts) and the JSON schemas of GitHub workflows and GitLab
CI that ``check-jsonschema`` ships. The tools come with the ``test`` dependency group; a
missing tool fails these tests rather than skipping them.

To rewrite the golden files after an intended change of the output, run
``SUITEKIT_UPDATE_GOLDEN=1 pytest tests/unit/test_ci.py`` and review the diff.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from suitekit import ConfigError, Project, load_project
from suitekit._cli import main
from suitekit.ci import (
    PROVIDERS,
    Provider,
    check,
    comment_output_path,
    output_path,
    render,
    render_comment,
)
from suitekit.ci._github import COMMENT_MARKER, PR_NUMBER_FILE, REPORT_ARTIFACT
from suitekit.ci._pins import UV
from suitekit.ci._pipeline import EMPTY_STORE, CiJob, Pipeline, build, install_command
from suitekit.services._endpoints import PostgresServer, RedisServer
from suitekit.sharding import DurationStore
from tests.unit.test_config import assert_well_formed
from tests.unit.test_summary import assert_golden

VERSION: Final = "1.2.3"
TOOLS: Final = Path(sys.executable).parent

FULL: Final = """\
[project]
name = "bookshop"
version = "1.0"

[dependency-groups]
test = ["pytest"]
lint = ["ruff"]

[tool.suitekit]
python = ["3.11", "3.12"]
install = { groups = ["test"] }
source = ["src/bookshop"]

[tool.suitekit.suites.unit]
paths = ["tests/unit"]
shards = 2
target-seconds = 120

[tool.suitekit.suites.integration]
paths = ["tests/integration"]
services = ["postgres", "redis"]
python = ["3.12"]
shards = 3
target-seconds = 300

[tool.suitekit.checks]
lint = { run = ["ruff check .", "ruff format --check ."], install = { groups = ["lint"] } }
migrations = { run = "alembic upgrade head", services = ["postgres"] }
audit = { run = "pip-audit", allow-failure = true, python = "3.12" }

[tool.suitekit.ci]
branches = ["main", "release/**"]
runner = "ubuntu-24.04"
"""

MINIMAL: Final = """\
[project]
name = "tiny"
version = "0.1"

[tool.suitekit]
python = ["3.12"]

[tool.suitekit.suites.tests]
paths = ["tests"]
"""

# Names that collide with suitekit's own jobs and GitLab's keywords, an advisory lint, Python
# builds without a uv image, an editable suitekit and custom paths.
ODD: Final = """\
[project]
name = "odd"
version = "0.1"

[tool.suitekit]
python = ["3.13", "pypy3.10"]
source = ["src/odd"]

[tool.suitekit.suites.guard]
paths = ["tests"]
shards = 2

[tool.suitekit.checks]
lint = { run = "ruff check .", allow-failure = true }
pages = { run = "mkdocs build --strict", python = "3.13t" }

[tool.suitekit.ci]
suitekit = "."
github = ".github/workflows/tests.yaml"
gitlab = "ci/gitlab-ci.yml"
"""

FIXTURES: Final = {"full": FULL, "minimal": MINIMAL, "odd": ODD}


def write_project(root: Path, text: str) -> Project:
    for folder in ("tests/unit", "tests/integration"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    return load_project(root)


@pytest.fixture(params=sorted(FIXTURES))
def fixture_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def full(tmp_path: Path) -> Project:
    return write_project(tmp_path, FULL)


def pipeline_of(tmp_path: Path, text: str) -> Pipeline:
    return build(write_project(tmp_path, text), version=VERSION)


def loaded(text: str) -> Any:
    return yaml.safe_load(text)


def tool(name: str) -> Path:
    path = TOOLS / name
    if not path.is_file():
        pytest.fail(f"{name} is not installed next to {sys.executable}: install the test group")
    return path


# -- golden files and the providers' validators ------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_golden_files(tmp_path: Path, fixture_name: str, provider: Provider) -> None:
    project = write_project(tmp_path, FIXTURES[fixture_name])

    assert_golden(f"ci/{fixture_name}.{provider}.yml", render(project, provider, version=VERSION))


def test_actionlint_accepts_every_generated_workflow(tmp_path: Path) -> None:
    files = []
    for name, text in FIXTURES.items():
        project = write_project(tmp_path / name, text)
        path = tmp_path / f"{name}.yml"
        path.write_text(render(project, "github", version=VERSION), encoding="utf-8")
        files.append(str(path))

    result = subprocess.run(
        [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), *files],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_is_really_checking(tmp_path: Path, full: Project) -> None:
    bad = render(full, "github", version=VERSION).replace(
        'uv tool dir --bin >> "$GITHUB_PATH"', "echo $(uv tool dir --bin) >> $GITHUB_PATH"
    )
    path = tmp_path / "bad.yml"
    path.write_text(bad.replace("needs.lint.result", "needs.nothing.result"), encoding="utf-8")

    result = subprocess.run(
        [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert "SC2086" in result.stdout
    assert 'property "nothing" is not defined' in result.stdout


@pytest.mark.parametrize(
    ("provider", "schema"),
    [("github", "vendor.github-workflows"), ("gitlab", "vendor.gitlab-ci")],
)
def test_the_providers_schemas_accept_every_generated_file(
    tmp_path: Path, provider: Provider, schema: str
) -> None:
    files = []
    for name, text in FIXTURES.items():
        project = write_project(tmp_path / name, text)
        path = tmp_path / f"{name}.{provider}.yml"
        path.write_text(render(project, provider, version=VERSION), encoding="utf-8")
        files.append(str(path))

    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", schema, *files],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_gitlab_schema_is_really_checking(tmp_path: Path, full: Project) -> None:
    path = tmp_path / "bad.yml"
    text = render(full, "gitlab", version=VERSION).replace("when: always", "when: sometimes", 1)
    path.write_text(text, encoding="utf-8")

    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1, result.stdout


# -- the job model -----------------------------------------------------------------------------


def ids(pipeline: Pipeline) -> list[str]:
    return [job.id for job in pipeline.jobs]


def runs(job: CiJob) -> list[str]:
    return [step.run for step in job.steps]


def test_the_jobs_of_a_full_project(tmp_path: Path) -> None:
    pipeline = pipeline_of(tmp_path, FULL)

    assert ids(pipeline) == [
        "durations",
        "lint",
        "migrations",
        "audit",
        "guard",
        "unit",
        "integration",
        "report",
    ]
    assert runs(pipeline.job("unit")) == ["nox -s unit-{python} -- --shard {shard}/2"]
    assert runs(pipeline.job("integration")) == ["nox -s integration-{python} -- --shard {shard}/3"]
    assert pipeline.job("unit").python == ("3.11", "3.12")
    assert pipeline.job("unit").needs == ("durations",)
    assert runs(pipeline.job("lint")) == ["nox -s lint"]
    assert not pipeline.job("lint").keep_going
    assert runs(pipeline.job("guard")) == ["nox -s partition", "suitekit ci check"]
    assert pipeline.job("guard").keep_going
    assert runs(pipeline.job("report")) == ["nox -s report", "nox -s coverage"]
    assert pipeline.job("report").needs == tuple(ids(pipeline)[:-1])
    assert [job.id for job in pipeline.jobs if not job.required] == ["audit"]


def test_services_go_only_to_the_jobs_that_need_them(tmp_path: Path) -> None:
    pipeline = pipeline_of(tmp_path, FULL)

    services = {job.id: job.services for job in pipeline.jobs}
    assert services == {
        "durations": (),
        # The lint job starts no container: it finishes in seconds.
        "lint": (),
        "migrations": ("postgres",),
        "audit": (),
        # Collecting the tests imports the conftests, which need the suites' services.
        "guard": ("postgres", "redis"),
        "unit": (),
        "integration": ("postgres", "redis"),
        "report": (),
    }


def test_a_minimal_project_gets_a_guard_and_no_durations_job(tmp_path: Path) -> None:
    pipeline = pipeline_of(tmp_path, MINIMAL)

    assert ids(pipeline) == ["guard", "tests", "report"]
    assert runs(pipeline.job("guard")) == ["nox -s partition", "suitekit ci check"]
    assert runs(pipeline.job("tests")) == ["nox -s tests-{python}"]
    assert pipeline.job("tests").needs == ()
    assert runs(pipeline.job("report")) == ["nox -s report"]  # no source: no coverage gate
    assert pipeline.durations_job is None


def test_names_that_collide_are_renamed_and_an_advisory_lint_does_not_guard(
    tmp_path: Path,
) -> None:
    pipeline = pipeline_of(tmp_path, ODD)

    assert ids(pipeline) == [
        "durations",
        "lint",
        "pages-check",
        "suitekit-guard",
        "guard",
        "report",
    ]
    assert runs(pipeline.job("lint")) == ["nox -s lint"]
    assert not pipeline.job("lint").required
    assert pipeline.job("guard").needs == ("durations",)
    assert pipeline.job("suitekit-guard").kind == "guard"


def test_job_ids_clash_case_insensitively_as_on_github(tmp_path: Path) -> None:
    text = MINIMAL.replace("suites.tests]", "suites.Guard]") + (
        '[tool.suitekit.checks]\nvariables = "true"\nvariables-check = "true"\n'
    )

    pipeline = pipeline_of(tmp_path, text)

    assert ids(pipeline) == [
        "suitekit-check-variables",
        "variables-check",
        "suitekit-guard",
        "Guard",
        "report",
    ]


def test_the_guard_runs_on_the_projects_python_and_lint_on_its_own(tmp_path: Path) -> None:
    text = FULL.replace(
        'install = { groups = ["lint"]', 'python = "3.12", install = { groups = ["lint"]'
    )

    pipeline = pipeline_of(tmp_path, text)

    assert pipeline.job("lint").python == ("3.12",)
    assert pipeline.job("guard").python == ("3.11",)


def test_the_guard_gets_no_service_when_collection_needs_none(tmp_path: Path) -> None:
    text = FULL.replace('services = ["postgres", "redis"]\n', "")

    pipeline = pipeline_of(tmp_path, text)

    assert pipeline.job("guard").services == ()
    assert pipeline.job("migrations").services == ("postgres",)


@pytest.mark.parametrize(
    ("target", "shards", "minutes"),
    [(None, 1, 60), (None, 4, 60), (60, 1, 15), (600, 1, 40), (600, 2, 25), (3600, 4, 55)],
)
def test_suite_timeouts_follow_the_budget_per_shard(
    tmp_path: Path, target: int | None, shards: int, minutes: int
) -> None:
    budget = f"target-seconds = {target}\n" if target is not None else ""
    text = MINIMAL + f"shards = {shards}\n" + budget

    assert pipeline_of(tmp_path, text).job("tests").timeout_minutes == minutes


@pytest.mark.parametrize(
    ("source", "command"),
    [
        ("", "uv tool install nox==2026.1.2 --with-executables-from suitekit==1.2.3"),
        (
            "suitekit>=1.2,<2",
            "uv tool install nox==2026.1.2 --with-executables-from 'suitekit>=1.2,<2'",
        ),
        (".", "uv tool install nox==2026.1.2 --with-editable . --with-executables-from suitekit"),
        (
            "./tools/suite kit",
            (
                "uv tool install nox==2026.1.2 --with-editable './tools/suite kit' "
                "--with-executables-from suitekit"
            ),
        ),
    ],
)
def test_install_commands(source: str, command: str) -> None:
    assert install_command(source, version=VERSION, nox="2026.1.2") == command


def test_the_version_defaults_to_the_running_suitekits(full: Project) -> None:
    version = importlib.metadata.version("suitekit")

    assert f"--with-executables-from suitekit=={version}\n" in render(full, "github")


def test_the_empty_store_is_an_empty_durations_store(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    path.write_text(EMPTY_STORE + "\n", encoding="utf-8")

    assert DurationStore.load(path) == DurationStore()


# -- what the rendered files say ---------------------------------------------------------------


def test_github_workflow_essentials(full: Project) -> None:
    workflow = loaded(render(full, "github", version=VERSION))
    jobs = workflow["jobs"]

    assert workflow["on"] == {
        "push": {"branches": ["main", "release/**"]},
        "pull_request": None,
        "workflow_dispatch": None,
    }
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"]
    for job in jobs.values():
        assert job["runs-on"] == "ubuntu-24.04"
        assert job["timeout-minutes"] > 0
        checkout = [step for step in job["steps"] if step.get("uses", "").startswith("actions/ch")]
        assert all(step["with"] == {"persist-credentials": False} for step in checkout)

    unit = jobs["unit"]
    assert unit["strategy"] == {
        "fail-fast": False,
        "matrix": {"python": ["3.11", "3.12"], "shard": [1, 2]},
    }
    assert unit["needs"] == ["durations"]
    assert "services" not in unit
    nox = [step for step in unit["steps"] if "run" in step][-1]
    assert nox["run"] == 'nox -s unit-"${MATRIX_PYTHON}" -- --shard "${MATRIX_SHARD}"/2'
    assert nox["env"] == {
        "MATRIX_PYTHON": "${{ matrix.python }}",
        "MATRIX_SHARD": "${{ matrix.shard }}",
    }
    upload = unit["steps"][-1]
    assert upload["with"]["include-hidden-files"] is True
    assert upload["with"]["name"] == (
        "suitekit-reports-unit-${{ matrix.python }}-shard-${{ matrix.shard }}"
    )

    assert jobs["audit"]["continue-on-error"] is True
    assert "continue-on-error" not in jobs["lint"]


def test_github_service_containers_and_their_urls(full: Project) -> None:
    job = loaded(render(full, "github", version=VERSION))["jobs"]["integration"]

    postgres, redis = job["services"]["postgres"], job["services"]["redis"]
    assert postgres["image"].startswith("postgres:")
    assert postgres["env"] == {"POSTGRES_HOST_AUTH_METHOD": "trust"}
    assert "--tmpfs /var/lib/postgresql/data" in postgres["options"]
    assert '--health-cmd "pg_isready -U postgres"' in postgres["options"]
    assert '--health-cmd "redis-cli ping"' in redis["options"]
    assert PostgresServer.from_url(job["env"]["SUITEKIT_POSTGRES_URL"]) == PostgresServer(
        host="127.0.0.1"
    )
    assert RedisServer.from_url(job["env"]["SUITEKIT_REDIS_URL"]).port == 6379
    tune = next(step for step in job["steps"] if step["name"].startswith("Tune PostgreSQL"))
    assert tune["env"] == {"POSTGRES_CONTAINER": "${{ job.services.postgres.id }}"}
    for statement in (
        "ALTER SYSTEM SET fsync = off",
        "ALTER SYSTEM SET synchronous_commit = off",
        "ALTER SYSTEM SET full_page_writes = off",
        "SELECT pg_reload_conf()",
    ):
        assert f'-c "{statement}"' in tune["run"]


def test_github_durations_flow(full: Project) -> None:
    jobs = loaded(render(full, "github", version=VERSION))["jobs"]

    durations = jobs["durations"]["steps"]
    assert durations[0]["uses"].startswith("actions/cache/restore@")
    assert durations[0]["with"]["restore-keys"] == "suitekit-durations-"
    assert EMPTY_STORE in durations[1]["run"]
    assert durations[2]["with"] == {
        "name": "suitekit-durations",
        "path": ".suitekit/durations.json",
        "include-hidden-files": True,
        "retention-days": 1,
    }
    download = next(step for step in jobs["unit"]["steps"] if "download" in step.get("uses", ""))
    assert download["with"] == {"name": "suitekit-durations", "path": ".suitekit"}

    report = jobs["report"]
    assert report["if"] == "${{ !cancelled() }}"
    steps = {step["name"]: step for step in report["steps"]}
    merged = steps["Download every suite job's reports"]["with"]
    assert merged == {
        "pattern": "suitekit-reports-*",
        "merge-multiple": True,
        "path": ".suitekit/reports",
    }
    assert steps["Save the merged durations store"]["with"] == {
        "path": ".suitekit/durations.json",
        "key": "suitekit-durations-${{ github.run_id }}-${{ github.run_attempt }}",
    }
    assert [name for name in steps if name.startswith("nox")] == [
        "nox -s report",
        "nox -s coverage",
    ]


def test_github_report_fails_on_required_jobs_only(full: Project) -> None:
    report = loaded(render(full, "github", version=VERSION))["jobs"]["report"]

    final = report["steps"][-1]
    assert final["env"] == {
        f"RESULT_{name.upper()}": f"${{{{ needs.{name}.result }}}}"
        for name in ("durations", "lint", "migrations", "guard", "unit", "integration")
    }
    assert "audit" not in final["run"]


def run_result_check(script: str, results: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        env={"PATH": "/usr/bin:/bin", **results},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_github_result_check_script(full: Project) -> None:
    final = loaded(render(full, "github", version=VERSION))["jobs"]["report"]["steps"][-1]
    green = dict.fromkeys(final["env"], "success")

    assert run_result_check(final["run"], green).returncode == 0
    failed = run_result_check(final["run"], {**green, "RESULT_INTEGRATION": "skipped"})
    assert failed.returncode == 1
    assert failed.stdout == "::error::integration did not succeed: skipped\n"


def test_gitlab_pipeline_essentials(full: Project) -> None:
    document = loaded(render(full, "gitlab", version=VERSION))

    assert document["default"]["interruptible"] is True
    assert document["workflow"]["auto_cancel"] == {"on_new_commit": "interruptible"}
    assert {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'} in document["workflow"]["rules"]
    assert document["audit"]["allow_failure"] is True
    assert "allow_failure" not in document["lint"]
    unit = document["unit"]
    assert unit["image"] == f"ghcr.io/astral-sh/uv:{UV}-python${{PYTHON}}-trixie-slim"
    assert unit["parallel"] == {"matrix": [{"PYTHON": ["3.11", "3.12"], "SHARD": ["1", "2"]}]}
    assert unit["script"] == ["nox -s unit-${PYTHON} -- --shard ${SHARD}/2"]
    assert unit["needs"] == ["durations"]
    assert unit["artifacts"]["when"] == "always"
    report = document["report"]
    assert report["when"] == "always"
    assert report["cache"][1] == {
        "key": "suitekit-durations",
        "paths": [".suitekit/durations.json"],
        "policy": "push",
        "when": "always",
    }
    assert document["durations"]["cache"][0]["policy"] == "pull"
    assert document["durations"]["artifacts"]["paths"] == [".suitekit/durations.json"]


def test_gitlab_services_take_a_command_and_are_reached_by_alias(full: Project) -> None:
    job = loaded(render(full, "gitlab", version=VERSION))["integration"]

    postgres = job["services"][0]
    assert postgres["alias"] == "postgres"
    assert postgres["command"] == [
        "postgres",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
    ]
    assert PostgresServer.from_url(job["variables"]["SUITEKIT_POSTGRES_URL"]).host == "postgres"
    assert RedisServer.from_url(job["variables"]["SUITEKIT_REDIS_URL"]).host == "redis"


def test_gitlab_keep_going_script_runs_every_command_and_fails_at_the_end(full: Project) -> None:
    script = loaded(render(full, "gitlab", version=VERSION))["guard"]["script"]

    failing = [
        line.replace("nox -s partition", "false").replace("suitekit ci check", "echo ran")
        for line in script
    ]
    result = subprocess.run(
        ["bash", "-e", "-c", "\n".join(failing)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 1
    assert result.stdout == "ran\n"


# -- suitekit ci github | gitlab | check -------------------------------------------------------


def cli(root: Path, *args: str) -> int:
    return main(["--project", str(root), "ci", *args])


def test_ci_github_writes_the_file_creating_folders(
    tmp_path: Path, full: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(tmp_path, "github") == 0

    path = tmp_path / ".github" / "workflows" / "suitekit.yml"
    assert path.read_text(encoding="utf-8") == render(full, "github")
    assert capsys.readouterr().out.startswith("suitekit: wrote .github/workflows/suitekit.yml (")
    assert cli(tmp_path, "github") == 0
    assert "already up to date" in capsys.readouterr().out
    assert [p.name for p in path.parent.iterdir()] == ["suitekit.yml"]  # no temporary left


def test_ci_stdout_prints_and_writes_nothing(
    tmp_path: Path, full: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(tmp_path, "gitlab", "--stdout") == 0

    assert capsys.readouterr().out == render(full, "gitlab")
    assert not (tmp_path / ".gitlab-ci.yml").exists()


def test_ci_check_passes_on_fresh_files(
    tmp_path: Path, full: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    del full
    cli(tmp_path, "github")
    cli(tmp_path, "gitlab")
    capsys.readouterr()

    assert cli(tmp_path, "check") == 0

    assert capsys.readouterr().out == (
        "suitekit: CI files are up to date: .github/workflows/suitekit.yml, .gitlab-ci.yml\n"
    )


def test_ci_check_fails_on_a_hand_edit_with_a_diff(
    tmp_path: Path, full: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    del full
    cli(tmp_path, "github")
    path = tmp_path / ".github" / "workflows" / "suitekit.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("timeout-minutes: 30", "timeout-minutes: 90", 1),
        encoding="utf-8",
    )
    capsys.readouterr()

    assert cli(tmp_path, "check") == 1

    out = capsys.readouterr().out
    assert out.startswith(
        "--- a/.github/workflows/suitekit.yml\n+++ b/.github/workflows/suitekit.yml\n@@ "
    )
    assert "\n-    timeout-minutes: 90\n+    timeout-minutes: 30\n" in out
    assert out.endswith(
        "suitekit: .github/workflows/suitekit.yml is out of date with [tool.suitekit]: "
        "run `suitekit ci github` and commit the result (do not edit it by hand)\n"
    )


def test_ci_check_fails_after_a_suite_change_until_regenerated(
    tmp_path: Path, full: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    del full
    cli(tmp_path, "github")
    cli(tmp_path, "gitlab")
    config = tmp_path / "pyproject.toml"
    config.write_text(FULL.replace("shards = 2", "shards = 4"), encoding="utf-8")
    capsys.readouterr()

    assert cli(tmp_path, "check") == 1
    out = capsys.readouterr().out
    assert '+        run: nox -s unit-"${MATRIX_PYTHON}" -- --shard "${MATRIX_SHARD}"/4\n' in out
    assert "+    - nox -s unit-${PYTHON} -- --shard ${SHARD}/4\n" in out
    assert "run `suitekit ci github`" in out
    assert "run `suitekit ci gitlab`" in out

    assert cli(tmp_path, "github") == 0
    assert cli(tmp_path, "check") == 1  # the GitLab file is still stale
    assert cli(tmp_path, "gitlab") == 0
    assert cli(tmp_path, "check") == 0


def test_ci_check_requires_configured_files_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(tmp_path, FULL + 'gitlab = "ci/gitlab-ci.yml"\n')
    cli(tmp_path, "github")
    capsys.readouterr()

    assert cli(tmp_path, "check") == 1

    assert capsys.readouterr().out == (
        "suitekit: ci/gitlab-ci.yml is missing: run `suitekit ci gitlab` to write it, "
        "and commit it\n"
    )
    assert cli(tmp_path, "gitlab") == 0
    assert (tmp_path / "ci" / "gitlab-ci.yml").is_file()
    assert cli(tmp_path, "check") == 0


def test_ci_check_without_any_file_fails(
    tmp_path: Path, full: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    del full

    assert cli(tmp_path, "check") == 1

    out = capsys.readouterr().out
    assert "suitekit: .github/workflows/suitekit.yml is missing: run `suitekit ci github`" in out
    assert "suitekit: .gitlab-ci.yml is missing: run `suitekit ci gitlab`" in out


def test_ci_check_marks_a_missing_final_line_break(tmp_path: Path, full: Project) -> None:
    cli(tmp_path, "gitlab")
    path = output_path(full, "gitlab")
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n"), encoding="utf-8")

    (state,) = check(full)

    assert state.state == "stale"
    assert state.diff.endswith(
        "\n\\ No newline at end of file\n+        path: .suitekit/reports/coverage.xml\n"
    )


def test_ci_errors_exit_2(
    tmp_path: Path, full: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    output_path(full, "gitlab").write_bytes(b"\xff\xfe not utf-8")
    assert cli(tmp_path, "check") == 2
    assert "cannot read the CI file" in capsys.readouterr().err

    output_path(full, "gitlab").unlink()
    output_path(full, "github").mkdir(parents=True)  # a folder where the file should go
    assert cli(tmp_path, "github") == 2
    assert "suitekit.yml: cannot write" in capsys.readouterr().err


# -- the pull request comment workflow ([tool.suitekit.ci] comment = true) ----------------------

COMMENTED: Final = FULL + "comment = true\n"


def test_the_comment_workflow_golden_file(tmp_path: Path) -> None:
    project = write_project(tmp_path, COMMENTED)

    assert_golden("ci/comment.github.yml", render_comment(project, version=VERSION))


def test_comment_is_off_by_default_and_writes_no_second_file(tmp_path: Path, full: Project) -> None:
    assert not full.ci.comment
    assert comment_output_path(full) is None
    assert PR_NUMBER_FILE not in render(full, "github", version=VERSION)

    assert cli(tmp_path, "github") == 0
    assert [p.name for p in output_path(full, "github").parent.iterdir()] == ["suitekit.yml"]


def test_the_comment_workflow_is_fork_safe_and_least_privileged(tmp_path: Path) -> None:
    project = write_project(tmp_path, COMMENTED)
    document = loaded(render_comment(project, version=VERSION))
    main_workflow = loaded(render(project, "github", version=VERSION))

    assert document["on"] == {
        "workflow_run": {"workflows": [main_workflow["name"]], "types": ["completed"]}
    }
    assert document["permissions"] == {}
    (job,) = document["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert "github.event.workflow_run.event == 'pull_request'" in job["if"]
    download, post = job["steps"]
    assert download["uses"].startswith("actions/download-artifact@")
    assert download["with"]["name"] == REPORT_ARTIFACT
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert download["with"]["github-token"] == "${{ github.token }}"
    # It never checks out or runs the pull request's code, and no expression is in a script.
    assert all("checkout" not in step.get("uses", "") for step in job["steps"])
    assert "${{" not in post["run"]
    assert post["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert COMMENT_MARKER in post["run"]
    assert "--argjson limit 65536" in post["run"]
    # The number is checked to be digits before any use.
    assert post["run"].index("*[!0-9]*") < post["run"].index("gh api")


def test_the_report_job_names_the_pull_request_only_for_pull_requests(tmp_path: Path) -> None:
    project = write_project(tmp_path, COMMENTED)
    steps = loaded(render(project, "github", version=VERSION))["jobs"]["report"]["steps"]
    names = [step["name"] for step in steps]

    step = steps[names.index("Name the pull request in the report")]

    assert names.index("Name the pull request in the report") < names.index(
        "Upload the merged report"
    )
    assert "github.event_name == 'pull_request'" in step["if"]
    assert step["env"] == {"PR_NUMBER": "${{ github.event.pull_request.number }}"}
    assert step["run"].endswith(f"> .suitekit/reports/{PR_NUMBER_FILE}\n")
    assert "${{" not in step["run"]


def test_the_comment_script_validates_the_number_and_caps_the_body(tmp_path: Path) -> None:
    """Run the script with a recording ``gh`` in place of GitHub's."""
    project = write_project(tmp_path / "project", COMMENTED)
    (job,) = loaded(render_comment(project, version=VERSION))["jobs"].values()
    script = tmp_path / "comment.sh"
    script.write_text(job["steps"][1]["run"], encoding="utf-8")
    fake = tmp_path / "bin"
    fake.mkdir()
    log = tmp_path / "gh.log"
    (fake / "gh").write_text(
        f'#!/bin/sh\necho "$*" >> {log}\n'
        'case "$*" in *pulls/*) echo abc ;; *--paginate*) echo "$EXISTING" ;; esac\n',
        encoding="utf-8",
    )
    (fake / "gh").chmod(0o755)
    report = tmp_path / "report"
    report.mkdir()
    (report / "summary.md").write_text("# suitekit\n" + "é" * 70_000, encoding="utf-8")

    def run(number: str, existing: str = "") -> subprocess.CompletedProcess[str]:
        (report / PR_NUMBER_FILE).write_text(number, encoding="utf-8")
        log.unlink(missing_ok=True)
        env = {
            "PATH": f"{fake}:/usr/bin:/bin",
            "REPORT": str(report),
            "HEAD_SHA": "abc",
            "RUNNER_TEMP": str(tmp_path),
            "GITHUB_REPOSITORY": "o/r",
            "EXISTING": existing,
        }
        return subprocess.run(
            ["bash", "-e", str(script)], env=env, capture_output=True, text=True, check=False
        )

    bad = run("42; curl evil\n")
    assert bad.returncode == 1
    assert "not a number" in bad.stdout
    assert not log.exists()

    posted = run("42\n")
    assert posted.returncode == 0, posted.stderr
    assert log.read_text(encoding="utf-8").splitlines()[-1] == (
        f"api --method POST repos/o/r/issues/42/comments --input {tmp_path}/comment.json"
    )
    body = json.loads((tmp_path / "comment.json").read_text(encoding="utf-8"))["body"]
    assert body.startswith(f"{COMMENT_MARKER}\n# suitekit\n")
    assert len(body) <= 65536

    updated = run("42\n", existing="777")
    assert updated.returncode == 0, updated.stderr
    assert (
        log.read_text(encoding="utf-8")
        .splitlines()[-1]
        .startswith("api --method PATCH repos/o/r/issues/comments/777 ")
    )


def test_actionlint_accepts_the_comment_workflows(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", COMMENTED)
    files = {
        "main.yml": render(project, "github", version=VERSION),
        "comment.yml": render_comment(project, version=VERSION),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")

    result = subprocess.run(
        [
            tool("actionlint"),
            "-no-color",
            "-shellcheck",
            tool("shellcheck"),
            *(tmp_path / name for name in files),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ('comment = "yes"', "comment", "expected true or false, got 'yes'"),
        ("comment = 1", "comment", "expected true or false, got 1"),
        (
            'comment = true\ngithub = ".github/workflows/suitekit-comment.yml"',
            "github",
            "is where comment = true writes the pull request comment workflow",
        ),
        (
            'comment = true\ngitlab = ".github/workflows/suitekit-comment.yml"',
            "gitlab",
            "is where comment = true writes the pull request comment workflow",
        ),
    ],
)
def test_bad_comment_settings_name_the_key_and_the_fix(
    tmp_path: Path, table: str, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        write_project(tmp_path, MINIMAL + f"\n[tool.suitekit.ci]\n{table}\n")

    assert_well_formed(
        caught.value, file=tmp_path / "pyproject.toml", key=f"tool.suitekit.ci.{key}"
    )


def test_the_comment_workflow_goes_beside_the_main_one(tmp_path: Path) -> None:
    project = write_project(tmp_path, ODD + "comment = true\n")

    assert comment_output_path(project) == tmp_path / ".github/workflows/suitekit-comment.yml"


def test_ci_github_writes_both_files_and_check_covers_the_comment_workflow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path, COMMENTED)
    comment = tmp_path / ".github" / "workflows" / "suitekit-comment.yml"

    assert cli(tmp_path, "github") == 0
    assert cli(tmp_path, "gitlab") == 0
    out = capsys.readouterr().out
    assert "suitekit: wrote .github/workflows/suitekit-comment.yml (" in out
    assert comment.read_text(encoding="utf-8") == render_comment(project)
    assert cli(tmp_path, "check") == 0
    assert capsys.readouterr().out == (
        "suitekit: CI files are up to date: .github/workflows/suitekit.yml, .gitlab-ci.yml, "
        ".github/workflows/suitekit-comment.yml\n"
    )

    comment.write_text(
        comment.read_text(encoding="utf-8").replace("pull-requests: write", "contents: write"),
        encoding="utf-8",
    )
    assert cli(tmp_path, "check") == 1
    out = capsys.readouterr().out
    assert "\n-      contents: write\n+      pull-requests: write\n" in out
    assert out.endswith(
        "suitekit: .github/workflows/suitekit-comment.yml is out of date with [tool.suitekit]: "
        "run `suitekit ci github` and commit the result (do not edit it by hand)\n"
    )

    comment.unlink()
    assert cli(tmp_path, "check") == 1
    assert capsys.readouterr().out == (
        "suitekit: .github/workflows/suitekit-comment.yml is missing: run `suitekit ci github` "
        "to write it, and commit it\n"
    )
    assert cli(tmp_path, "github") == 0
    assert cli(tmp_path, "check") == 0
