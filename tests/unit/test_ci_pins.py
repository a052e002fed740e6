"""The pins of generated CI files (suitekit.ci._pins), and the files' security checks.

Every action is pinned by a 40-hex commit with its version in a comment, service images and
uv's images by full version tags, nox and uv by version. ``suitekit ci check`` keeps a pin a
bot moved forward in the committed file. zizmor (offline, default persona) must report nothing
on any generated workflow: the fixtures', the bookshop's and this repository's own.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Final

import pytest

from suitekit import ConfigError, Project, load_project
from suitekit._kinds import KINDS
from suitekit.ci import check, output_path, render, render_comment
from suitekit.ci._github import ACTIONS_USED
from suitekit.ci._gitlab import COVERAGE_REGEX
from suitekit.ci._pins import ACTIONS, IMAGES, NOX, UV, Pins, bumped, default_pins, version_key
from suitekit.reporting._coverage import CoverageResult
from tests.unit.test_ci import (
    COMMENTED,
    FIXTURES,
    FULL,
    MINIMAL,
    VERSION,
    cli,
    loaded,
    tool,
    write_project,
)
from tests.unit.test_mysql_ci import SHOP as MYSQL_SHOP
from tests.unit.test_runners_ci import SHOP as RUNNERS_SHOP

REPO: Final = Path(__file__).parents[2]
BOOKSHOP: Final = REPO / "examples" / "bookshop"
SHA: Final = re.compile(r"^[0-9a-f]{40}$")
USES: Final = re.compile(r"^\s*(?:- )?uses: (\S+)@(\S+)(?: # (\S+))?$", re.MULTILINE)

# A checkout a bot moved on: a newer release than the table's, at some other commit.
BUMPED_SHA: Final = "0123456789abcdef0123456789abcdef01234567"


# -- the table -----------------------------------------------------------------------------


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_pin_is_a_full_commit_with_its_version(action: str) -> None:
    pin = ACTIONS[action]

    assert pin.action == action
    assert SHA.fullmatch(pin.sha), pin.sha
    assert re.fullmatch(r"v\d+\.\d+\.\d+", pin.version), pin.version
    reference, comment = Pins().uses(action)
    assert reference == f"{action}@{pin.sha}"
    assert comment == pin.version


def test_every_action_the_workflows_use_has_a_pin() -> None:
    assert set(ACTIONS_USED) == set(ACTIONS)


@pytest.mark.parametrize("fixture_name", sorted(FIXTURES))
def test_every_generated_uses_line_is_pinned_by_commit_with_a_version_comment(
    tmp_path: Path, fixture_name: str
) -> None:
    text = render(write_project(tmp_path, FIXTURES[fixture_name]), "github", version=VERSION)

    found = USES.findall(text)
    assert found
    for action, ref, comment in found:
        assert SHA.fullmatch(ref), (action, ref)
        assert comment == ACTIONS[action].version
        assert ref == ACTIONS[action].sha


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_service_images_are_pinned_in_the_major_of_the_local_servers(kind: str) -> None:
    declared = KINDS[kind].ci.image  # e.g. postgres:16
    repository, _, major = declared.partition(":")

    pinned = Pins().image(declared)

    assert pinned == f"{repository}:{IMAGES[repository]}"
    assert pinned.startswith(f"{repository}:{major}.")
    assert len(version_key(pinned)) >= 2  # a full version, not a floating major


def test_an_image_of_another_major_or_repository_is_left_alone() -> None:
    assert Pins().image("postgres:15") == "postgres:15"
    assert Pins().image("ghcr.io/acme/db:1") == "ghcr.io/acme/db:1"


def test_nox_and_uv_are_pinned_in_both_files(tmp_path: Path) -> None:
    project = write_project(tmp_path, FULL)
    github = loaded(render(project, "github", version=VERSION))
    gitlab = loaded(render(project, "gitlab", version=VERSION))

    setup_uv = next(
        step
        for step in github["jobs"]["lint"]["steps"]
        if step.get("uses", "").startswith("astral-sh/setup-uv@")
    )
    assert setup_uv["with"]["version"] == UV
    install = next(step for step in github["jobs"]["lint"]["steps"] if step.get("id") == "install")
    assert install["run"].startswith(f"uv tool install nox=={NOX} ")
    assert gitlab["default"]["image"] == f"ghcr.io/astral-sh/uv:{UV}-python3.11-trixie-slim"
    assert gitlab[".suitekit-nox"]["before_script"][0].startswith(f"uv tool install nox=={NOX} ")


LOCK: Final = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "nox"
version = "2025.5.1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "uv"
version = "0.9.2"
source = { registry = "https://pypi.org/simple" }
"""


def test_a_projects_lock_gives_nox_and_uv_and_keys_the_caches(tmp_path: Path) -> None:
    project = write_project(tmp_path, FULL)
    (tmp_path / "uv.lock").write_text(LOCK, encoding="utf-8")

    assert default_pins(tmp_path) == Pins(nox="2025.5.1", uv="0.9.2", locked=("nox", "uv"))
    github = render(project, "github", version=VERSION)
    gitlab = loaded(render(project, "gitlab", version=VERSION))
    assert "uv tool install nox==2025.5.1 " in github
    assert 'version: "0.9.2"' in github
    assert "cache-dependency-glob: uv.lock\n" in github
    assert gitlab[".suitekit-nox"]["cache"] == [
        {"key": {"files": ["uv.lock"], "prefix": "suitekit-uv"}, "paths": [".uv-cache/"]}
    ]


def test_without_a_lock_the_caches_are_keyed_on_pyproject(tmp_path: Path) -> None:
    project = write_project(tmp_path, MINIMAL)

    github = render(project, "github", version=VERSION)
    gitlab = loaded(render(project, "gitlab", version=VERSION))

    assert "cache-dependency-glob: pyproject.toml\n" in github
    assert gitlab["report"]["cache"][0]["key"] == {
        "files": ["pyproject.toml"],
        "prefix": "suitekit-uv",
    }


# -- pins a bot bumped are kept ------------------------------------------------------------


def _bumped(text: str) -> str:
    """``text`` as Dependabot leaves it after moving actions/checkout to v99.1.0."""
    checkout = ACTIONS["actions/checkout"]
    return text.replace(
        f"actions/checkout@{checkout.sha} # {checkout.version}",
        f"actions/checkout@{BUMPED_SHA} # v99.1.0",
    )


def test_a_newer_pin_read_back_is_kept_and_an_older_one_is_not() -> None:
    checkout = ACTIONS["actions/checkout"]
    older = f"uses: actions/checkout@{'f' * 40} # v1.0.0\n"
    newer = f"      - uses: actions/checkout@{BUMPED_SHA} # v99.1.0\n"

    assert Pins().kept(older).actions["actions/checkout"] == checkout
    kept = Pins().kept(newer).actions["actions/checkout"]
    assert (kept.sha, kept.version) == (BUMPED_SHA, "v99.1.0")
    # Another action, or a tag where a commit is required, is no pin to keep.
    assert Pins().kept("uses: acme/checkout@" + BUMPED_SHA + " # v99.1.0\n") == Pins()
    assert Pins().kept("uses: actions/checkout@v99.1.0\n") == Pins()
    # What was kept is listed, for someone to check that the commit is the release it says.
    assert bumped(Pins(), Pins().kept(newer)) == [
        f"actions/checkout@{BUMPED_SHA} (v99.1.0; suitekit's table: {checkout.version})"
    ]
    assert bumped(Pins(), Pins().kept(older)) == []


def test_newer_images_and_tools_read_back_are_kept() -> None:
    committed = (
        "        image: postgres:16.99\n"
        "    - name: redis:7.1.0\n"
        "  image: ghcr.io/astral-sh/uv:0.99.0-python3.12-trixie-slim\n"
        "    - uv tool install nox==2099.1.1 --with-executables-from suitekit==1.0\n"
    )

    kept = Pins().kept(committed)

    assert kept.images["postgres"] == "16.99"
    assert kept.images["redis"] == IMAGES["redis"]  # 7.1.0 is older than the table's
    assert kept.image("postgres:16") == "postgres:16.99"
    # A bot may move an image to the next major; the table alone never does.
    assert Pins().kept("image: postgres:17.2\n").image("postgres:16") == "postgres:17.2"
    assert (kept.uv, kept.nox) == ("0.99.0", "2099.1.1")
    # A version the project's lock pins is the lock's, whatever the file says.
    assert Pins(nox="2025.5.1", locked=("nox",)).kept(committed).nox == "2025.5.1"


def test_ci_check_does_not_fight_a_bot_that_bumped_a_pin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path, FULL)
    assert cli(tmp_path, "github") == 0
    path = output_path(project, "github")
    bumped = _bumped(path.read_text(encoding="utf-8"))
    assert BUMPED_SHA in bumped
    path.write_text(bumped, encoding="utf-8")
    capsys.readouterr()

    assert [state.state for state in check(project)] == ["current"]
    # Regenerating after a change of [tool.suitekit] keeps the bot's pin too.
    assert cli(tmp_path, "github") == 0
    assert path.read_text(encoding="utf-8") == bumped

    older = bumped.replace(f"{BUMPED_SHA} # v99.1.0", f"{'e' * 40} # v1.0.0")
    path.write_text(older, encoding="utf-8")
    (state,) = check(project)
    assert state.state == "stale"
    assert f"+        uses: actions/checkout@{ACTIONS['actions/checkout'].sha}" in state.diff


# -- pin = "tag" -----------------------------------------------------------------------------


def test_pin_tag_names_actions_by_their_version_tag(tmp_path: Path) -> None:
    project = write_project(tmp_path, MINIMAL + '\n[tool.suitekit.ci]\npin = "tag"\n')

    text = render(project, "github", version=VERSION)

    found = USES.findall(text)
    assert found
    assert {(action, ref, comment) for action, ref, comment in found} == {
        (action, ACTIONS[action].version, "") for action in {action for action, _, _ in found}
    }


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("sah", r"'sah' is not a way to pin actions \(did you mean 'sha'\?\)"),
        ("branch", r"'branch' is not a way to pin actions"),
        (True, "expected a string, got a boolean"),
    ],
)
def test_a_bad_pin_names_the_file_key_value_and_fix(
    tmp_path: Path, value: object, problem: str
) -> None:
    written = f'"{value}"' if isinstance(value, str) else str(value).lower()
    (tmp_path / "tests").mkdir()
    config = tmp_path / "pyproject.toml"
    config.write_text(MINIMAL + f"\n[tool.suitekit.ci]\npin = {written}\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=problem) as caught:
        load_project(tmp_path)

    message = str(caught.value)
    assert str(config) in message
    assert "tool.suitekit.ci.pin" in message
    assert 'pin = "sha"' in message
    assert 'pin = "tag"' in message


# -- GitLab: coverage and test reports in merge requests -----------------------------------


def test_the_gitlab_coverage_regex_reads_the_coverage_sessions_verdict(tmp_path: Path) -> None:
    report = loaded(render(write_project(tmp_path, FULL), "gitlab", version=VERSION))["report"]
    line = CoverageResult(
        percent=96.0512,
        per_suite=(("unit", 90.0),),
        fail_under=80,
        report="",
        outputs=(),
    ).summary()

    assert report["coverage"] == COVERAGE_REGEX
    # GitLab takes the last match in the log and the first number in it.
    matches = re.findall(COVERAGE_REGEX.strip("/"), line)
    assert matches == ["suitekit: combined coverage 96.05%"]
    assert report["artifacts"]["reports"] == {
        "coverage_report": {
            "coverage_format": "cobertura",
            "path": ".suitekit/reports/coverage.xml",
        }
    }


def test_without_coverage_gitlab_reads_no_figure(tmp_path: Path) -> None:
    report = loaded(render(write_project(tmp_path, MINIMAL), "gitlab", version=VERSION))["report"]

    assert "coverage" not in report
    assert "reports" not in report["artifacts"]


def test_every_gitlab_suite_job_hands_its_junit_to_gitlab(tmp_path: Path) -> None:
    document = loaded(render(write_project(tmp_path, FULL), "gitlab", version=VERSION))

    for name in ("unit", "integration"):
        assert document[name]["artifacts"]["reports"] == {"junit": ".suitekit/reports/junit/*.xml"}


# -- zizmor on every generated workflow ----------------------------------------------------


def _projects(tmp_path: Path) -> dict[str, Project]:
    projects = {name: write_project(tmp_path / name, text) for name, text in FIXTURES.items()}
    (tmp_path / "frontend" / "frontend" / "src").mkdir(parents=True)
    (tmp_path / "frontend" / "crate").mkdir()
    projects["frontend"] = write_project(tmp_path / "frontend", RUNNERS_SHOP)
    projects["mysql"] = write_project(tmp_path / "mysql", MYSQL_SHOP)
    projects["bookshop"] = load_project(BOOKSHOP)
    return projects


def _zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "plain", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_zizmor_finds_nothing_in_any_generated_workflow(tmp_path: Path) -> None:
    paths = []
    for name, project in _projects(tmp_path).items():
        path = tmp_path / f"{name}.yml"
        path.write_text(render(project, "github", version=VERSION), encoding="utf-8")
        paths.append(path)
    # This repository's own workflow, as committed (the drift check keeps it current).
    paths.append(output_path(load_project(REPO), "github"))

    result = _zizmor(*paths)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_zizmor_on_the_comment_workflows_finds_only_the_workflow_run_trigger(
    tmp_path: Path,
) -> None:
    """zizmor flags every ``workflow_run`` trigger, whatever the workflow does with it.

    Its dangerous-triggers audit (zizmor 1.33) reports ``workflow_run`` unconditionally, at high
    severity and medium confidence (only ``pull_request_target`` with ``actions/labeler`` alone is
    exempt). The comment workflow is the pattern GitHub recommends for fork pull requests: it
    never checks out or runs their code, and treats the downloaded report as data. So that one
    finding is expected, and it is not silenced in the generated file: the test pins it down to
    exactly that finding, and to zero findings in the main workflow that feeds it.
    """
    project = write_project(tmp_path / "project", COMMENTED)
    main = tmp_path / "main.yml"
    main.write_text(render(project, "github", version=VERSION), encoding="utf-8")
    comment = tmp_path / "comment.yml"
    comment.write_text(render_comment(project, version=VERSION), encoding="utf-8")

    assert _zizmor(main).returncode == 0
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "json", str(comment)],
        capture_output=True,
        text=True,
        check=False,
    )

    findings = json.loads(result.stdout)
    assert [finding["ident"] for finding in findings] == ["dangerous-triggers"], result.stdout
    annotations = [location["symbolic"]["annotation"] for location in findings[0]["locations"]]
    assert "workflow_run is almost always used insecurely" in annotations


def test_the_comment_workflow_is_pinned_by_commit(tmp_path: Path) -> None:
    text = render_comment(write_project(tmp_path, COMMENTED), version=VERSION)

    found = USES.findall(text)
    assert [action for action, _, _ in found] == ["actions/download-artifact"]
    for action, ref, comment in found:
        assert ref == ACTIONS[action].sha
        assert comment == ACTIONS[action].version


def test_zizmor_is_really_checking(tmp_path: Path) -> None:
    text = render(write_project(tmp_path, FULL), "github", version=VERSION)
    path = tmp_path / "bad.yml"
    # A tag instead of a commit, and a pull request's branch name pasted into a script.
    bad = re.sub(r"actions/checkout@[0-9a-f]{40} # (\S+)", r"actions/checkout@\1", text)
    bad = bad.replace("run: nox -s lint", "run: nox -s lint -- ${{ github.head_ref }}")
    path.write_text(bad, encoding="utf-8")

    result = _zizmor(path)

    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout
    assert "template-injection" in result.stdout


def test_no_github_script_pastes_an_expression(tmp_path: Path) -> None:
    for name, project in _projects(tmp_path).items():
        workflow = loaded(render(project, "github", version=VERSION))
        for job_id, job in workflow["jobs"].items():
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), (name, job_id, step["name"])
