"""Unit tests of ``[tool.suitekit.ci]`` (suitekit.config): the CI files' paths and settings."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from suitekit import ConfigError
from suitekit._model import CiConfig
from tests.unit.test_config import ROOT, assert_well_formed, edited, make_folders, parse

CI: Final = (*ROOT, "ci")
CI_KEY: Final = "tool.suitekit.ci"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    make_folders(tmp_path)
    return tmp_path / "pyproject.toml"


def test_without_the_table_the_defaults_apply_and_no_provider_is_configured(
    config_file: Path,
) -> None:
    project = parse(edited(), config_file)

    assert project.ci == CiConfig()
    assert project.ci.configured == ()
    assert project.ci.github == ".github/workflows/suitekit.yml"
    assert project.ci.gitlab == ".gitlab-ci.yml"


def test_every_key_is_read_and_given_paths_count_as_configured(config_file: Path) -> None:
    table = {
        "gitlab": "ci/gitlab-ci.yml",
        "runner": "ubuntu-24.04",
        "branches": ["main", "release/**"],
        "suitekit": ".",
        "pin": "tag",
    }

    project = parse(edited((CI, table)), config_file)

    assert project.ci == CiConfig(
        gitlab="ci/gitlab-ci.yml",
        runner="ubuntu-24.04",
        branches=("main", "release/**"),
        suitekit=".",
        pin="tag",
        configured=("gitlab",),
    )


def test_both_paths_given(config_file: Path) -> None:
    table = {"github": ".github/workflows/tests.yaml", "gitlab": ".gitlab-ci.yml"}

    assert parse(edited((CI, table)), config_file).ci.configured == ("github", "gitlab")


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("github", "/etc/workflow.yml", "is not a YAML file path inside the project"),
        ("github", "../outside/ci.yml", "is not a YAML file path inside the project"),
        ("gitlab", "ci/gitlab-ci.json", "is not a YAML file path inside the project"),
        ("gitlab", "", "expected a non-empty string"),
        ("runner", 3, "expected a non-empty string, got an integer"),
        ("branches", [], "empty"),
        ("suitekit", "", "expected a non-empty string"),
        ("pin", "hash", r"'hash' is not a way to pin actions"),
        ("pin", 1, "expected a string, got an integer"),
        # Written into the YAML as they are: no expression GitHub would expand, no line break.
        ("runner", "${{ github.event.issue.title }}", "an expression GitHub would expand"),
        ("suitekit", "suitekit==1.0 ${{ secrets.TOKEN }}", "an expression GitHub would expand"),
        ("branches", ["main", "x${{ 1 }}"], "an expression GitHub would expand"),
        ("runner", "ubuntu-latest\n    - run: curl evil", r"line-break character '\\n'"),
        ("suitekit", ".\ttab", r"line-break character '\\t'"),
        ("branches", ["main\r"], r"line-break character '\\r'"),
        ("github", ".github/workflows/a\x7f.yml", r"line-break character '\\x7f'"),
        ("runner", "ubuntu\x85latest", r"line-break character '\\x85'"),
        ("runner", "ubuntu\u2028latest", r"line-break character '\\u2028'"),
    ],
)
def test_bad_values_name_the_key_and_the_fix(
    config_file: Path, key: str, value: object, problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        parse(edited(((*CI, key), value)), config_file)

    assert_well_formed(caught.value, file=config_file, key=f"{CI_KEY}.{key}")


def test_the_two_files_may_not_share_a_path(config_file: Path) -> None:
    table = {"github": "ci.yml", "gitlab": "./ci.yml"}

    with pytest.raises(ConfigError, match=r"'./ci.yml' is also the GitHub workflow's path"):
        parse(edited((CI, table)), config_file)


def test_an_unknown_key_gets_a_did_you_mean(config_file: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'brnaches' \(did you mean 'branches'\?\)"):
        parse(edited(((*CI, "brnaches"), ["main"])), config_file)
