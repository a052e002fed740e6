"""The project-wide ``env`` of ``[tool.suitekit]``: read, validated, and layered under the suites'.

suitekit.config reads it like a suite's ``env``; suitekit.plan gives it to every suite
(:func:`~suitekit.plan.suite_env`), every check (:func:`~suitekit.plan.check_env`) and the
partition guard (:func:`~suitekit.plan.collection_suite`), each one's own ``env`` winning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from suitekit import Check, ConfigError, Project, Suite
from suitekit.plan import check_env, collection_suite, env_conflicts, suite_env
from tests.unit.test_config import ROOT, assert_well_formed, edited, make_folders, parse

ENV: Final = (*ROOT, "env")
KEY: Final = "tool.suitekit.env"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    make_folders(tmp_path)
    return tmp_path / "pyproject.toml"


def project(
    *suites: Suite, env: dict[str, str] | None = None, checks: tuple[Check, ...] = ()
) -> Project:
    return Project(
        root=Path("/p"),
        config_file=Path("/p/pyproject.toml"),
        python=("3.11",),
        suites=suites,
        checks=checks,
        env=env or {},
    )


def test_the_project_env_is_read(config_file: Path) -> None:
    env = {"PYTHONPATH": ".", "DJANGO_SETTINGS_MODULE": "shop.settings.test", "EMPTY": ""}

    parsed = parse(edited((ENV, env)), config_file)

    assert dict(parsed.env) == env
    with pytest.raises(TypeError):
        parsed.env["X"] = "1"  # type: ignore[index]  # frozen, as every model's env


def test_without_the_key_the_project_env_is_empty(config_file: Path) -> None:
    assert dict(parse(edited(), config_file).env) == {}


def test_a_suites_and_a_checks_own_env_win_over_the_projects() -> None:
    unit = Suite(name="unit", paths=("tests/unit",), env={"MODE": "unit", "ONLY_UNIT": "1"})
    lint = Check(name="lint", run=("ruff check .",), env={"MODE": "lint"})
    plain = Check(name="audit", run=("pip-audit",))
    declared = project(unit, env={"MODE": "project", "PYTHONPATH": "."}, checks=(lint, plain))

    assert suite_env(declared, unit) == {"MODE": "unit", "PYTHONPATH": ".", "ONLY_UNIT": "1"}
    assert check_env(declared, lint) == {"MODE": "lint", "PYTHONPATH": "."}
    assert check_env(declared, plain) == {"MODE": "project", "PYTHONPATH": "."}


def test_the_guard_collects_with_the_project_env_and_every_suites() -> None:
    unit = Suite(name="unit", paths=("tests/unit",), env={"DJANGO_SETTINGS_MODULE": "s.unit"})
    api = Suite(name="api", paths=("tests/api",), env={"API_KEY": "k", "PYTHONPATH": "src"})
    declared = project(unit, api, env={"PYTHONPATH": ".", "TZ": "UTC"})
    guard = collection_suite(declared)

    assert suite_env(declared, guard) == {
        "PYTHONPATH": "src",  # a suite's own wins over the project's, as in its session
        "TZ": "UTC",
        "DJANGO_SETTINGS_MODULE": "s.unit",
        "API_KEY": "k",
    }
    assert env_conflicts(declared) == ()


def test_suites_that_disagree_give_the_guard_the_first_value_and_say_so() -> None:
    unit = Suite(name="unit", paths=("tests/unit",), env={"SETTINGS": "unit", "X": "1"})
    pg = Suite(name="pg", paths=("tests/pg",), env={"SETTINGS": "pg", "X": "1"})
    other = Suite(name="other", paths=("tests/other",), env={"SETTINGS": "other"})

    declared = project(unit, pg, other)

    assert collection_suite(declared).env == {"SETTINGS": "unit", "X": "1"}
    assert env_conflicts(declared) == (
        (
            "SETTINGS: suite 'pg' sets 'pg', suite 'unit' 'unit'; "
            "the partition guard collects with 'unit'"
        ),
    )


@pytest.mark.parametrize(
    ("value", "key", "pattern"),
    [
        ("PYTHONPATH=.", KEY, r"expected a table, got a string"),
        ({"1X": "a"}, f"{KEY}.1X", r"'1X' is not an environment variable name"),
        ({"A-B": "a"}, f"{KEY}.A-B", r"'A-B' is not an environment variable name"),
        ({"PORT": 8000}, f"{KEY}.PORT", r"expected a string, got an integer 8000\n  fix: quote"),
        ({"X": "a\0b"}, f"{KEY}.X", r"holds a NUL byte"),
        ({"X": "\udc80"}, f"{KEY}.X", r"is not Unicode text"),
        ({"X": ["a"]}, f"{KEY}.X", r"expected a string, got an array"),
    ],
    ids=["string", "digit-first", "dash", "integer", "nul", "surrogate", "array"],
)
def test_project_env_errors(config_file: Path, value: object, key: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern) as caught:
        parse(edited((ENV, value)), config_file)
    assert_well_formed(caught.value, file=config_file, key=key)


def test_a_misspelt_top_level_env_gets_a_did_you_mean(config_file: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'envs' \(did you mean 'env'\?\)"):
        parse(edited(((*ROOT, "envs"), {"X": "1"})), config_file)
