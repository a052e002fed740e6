"""Unit tests: every independent mistake of one pyproject.toml is reported in one error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from suitekit.config import load_project
from suitekit.errors import ConfigError

THREE_MISTAKES = """\
[tool.suitekit.suites.unit]
paths = ["tests/unit"]
wokers = 2

[tool.suitekit.suites.api]
paths = ["tests/api"]
workers = "many"

[tool.suitekit.checks.lint]
run = "ruff check ."
services = ["postgress"]
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for folder in ("tests/unit", "tests/api"):
        (tmp_path / folder).mkdir(parents=True)
    return tmp_path.resolve()


def load_error(root: Path, text: str) -> ConfigError:
    (root / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_project(root)
    return caught.value


def test_three_unrelated_mistakes_are_reported_together(root: Path) -> None:
    error = load_error(root, THREE_MISTAKES)
    file = root / "pyproject.toml"

    assert [mistake.key for mistake in error.errors] == [
        "tool.suitekit.suites.unit.wokers",
        "tool.suitekit.suites.api.workers",
        "tool.suitekit.checks.lint.services",
    ]
    message = str(error)
    # The first line keeps the format of a single error: file, key, problem.
    assert message.startswith(
        f"{file}: tool.suitekit.suites.unit.wokers: unknown key 'wokers' "
        "(did you mean 'workers'?)\n  fix: use one of: "
    )
    assert re.search(
        rf"^{re.escape(str(file))}: tool\.suitekit\.suites\.api\.workers: .*'many'",
        message,
        re.MULTILINE,
    )
    assert re.search(
        rf"^{re.escape(str(file))}: tool\.suitekit\.checks\.lint\.services: unknown service "
        r"'postgress' \(did you mean 'postgres'\?\)$",
        message,
        re.MULTILINE,
    )
    assert message.count("\n  fix: ") == 3
    assert message.endswith(f"\n(3 errors in {file})")
    # The error's own attributes are the first mistake's; each mistake keeps its own.
    assert error.key == "tool.suitekit.suites.unit.wokers"
    assert [mistake.value for mistake in error.errors] == [2, "many", ["postgress"]]
    assert all(mistake.file == file and mistake.fix for mistake in error.errors)


def test_mistakes_of_one_suite_and_of_the_checks_across_keys_are_reported(root: Path) -> None:
    text = """\
[tool.suitekit]
tests = "tests"
colour = "blue"

[tool.suitekit.suites.unit]
paths = ["tests/unit", "tests/missing"]
dist = "lode"
retries = -1

[tool.suitekit.suites.all]
paths = ["tests/api"]

[tool.suitekit.coverage]
fail-under = 101
"""
    error = load_error(root, text)

    keys = [mistake.key for mistake in error.errors]
    assert keys == [
        "tool.suitekit.colour",
        "tool.suitekit.tests",
        "tool.suitekit.coverage.fail-under",
        "tool.suitekit.suites.unit.dist",
        "tool.suitekit.suites.unit.retries",
        "tool.suitekit.suites.all",
        "tool.suitekit.suites.unit.paths",
    ]
    assert "'lode' is not an xdist distribution mode (did you mean 'load'?)" in str(error)
    assert "'tests/missing' does not exist" in str(error)


def test_a_test_root_that_cannot_be_read_is_not_checked_on_disk(root: Path) -> None:
    # tests = 3 is the mistake; the stand-in ("tests") must not bring an error of its own.
    error = load_error(root, f"[tool.suitekit]\ntests = 3\n{THREE_MISTAKES}")

    assert next(mistake.key for mistake in error.errors) == "tool.suitekit.tests"
    assert "test root" not in str(error)


def test_a_quarantine_entry_of_a_suite_with_mistakes_is_not_refused_too(root: Path) -> None:
    text = """\
[tool.suitekit.suites.unit]
paths = ["tests/unit"]

[tool.suitekit.suites.web]
runner = "vitest"
cwd = "web"
shards = 0

[[tool.suitekit.quarantine]]
suite = "web"
test = "src/a.test.ts > works"
reason = "flaky"
"""
    error = load_error(root, text)

    assert [mistake.key for mistake in error.errors] == ["tool.suitekit.suites.web.shards"]


def test_a_mistake_that_stops_reading_comes_after_those_already_found(root: Path) -> None:
    text = """\
[tool.suitekit]
sources = ["src"]

[tool.suitekit.suite.unit]
paths = ["tests/unit"]
"""
    error = load_error(root, text)

    assert [mistake.key for mistake in error.errors] == [
        "tool.suitekit.sources",
        "tool.suitekit.suite",
        "tool.suitekit.suites",
    ]
    assert "unknown key 'suite' (did you mean 'suites'?)" in str(error)
    assert str(error).startswith(f"{root / 'pyproject.toml'}: tool.suitekit.sources: ")


def test_one_mistake_is_reported_as_before(root: Path) -> None:
    error = load_error(root, THREE_MISTAKES.split("[tool.suitekit.suites.api]", maxsplit=1)[0])

    assert error.errors == (error,)
    assert error.others == ()
    assert "errors in" not in str(error)
    assert str(error).count("\n") == 1


def test_together_flattens_and_keeps_order() -> None:
    def mistake(key: str) -> ConfigError:
        return ConfigError(file=None, key=key, problem="bad", fix="fix it", value=key)

    both = ConfigError.together((mistake("a"), mistake("b")))
    all_three = ConfigError.together((both, mistake("c")))

    assert [error.key for error in all_three.errors] == ["a", "b", "c"]
    assert (
        str(all_three)
        == "a: bad\n  fix: fix it\nb: bad\n  fix: fix it\nc: bad\n  fix: fix it\n(3 errors in all)"
    )
    single = mistake("x")
    assert ConfigError.together((single,)) is single
