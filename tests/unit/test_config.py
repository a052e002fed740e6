"""Unit tests of ``[tool.suitekit]`` parsing and validation (suitekit.config)."""

from __future__ import annotations

import copy
import dataclasses
import re
import sys
import tomllib
from pathlib import Path
from typing import Any, Final, cast

import pytest

from suitekit import Check, ConfigError, InstallSpec, Project, Suite
from suitekit.config import RESERVED_NAMES, find_config, load_project, parse_project

EXAMPLE: Final = """\
[project]
name = "bookshop"
version = "1.0"

[project.optional-dependencies]
postgres = ["psycopg"]

[dependency-groups]
test = ["pytest"]

[tool.suitekit]
python = ["3.11"]
install = { groups = ["test"] }
source = ["src/bookshop"]

[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = "auto"
dist = "load"
target-seconds = 10

[tool.suitekit.suites.processing]
marker = "processing"
workers = 2
target-seconds = 60

[tool.suitekit.suites.integration]
paths = ["tests/integration"]
workers = 4
dist = "loadscope"
services = ["postgres", "redis"]

[tool.suitekit.checks]
lint = "ruff check ."
typecheck = "mypy src"
migrations = { run = ["alembic upgrade head", "alembic check"], services = ["postgres"] }
security = { run = "pip-audit", allow-failure = true }
"""

ROOT: Final = ("tool", "suitekit")
SUITES: Final = (*ROOT, "suites")
CHECKS: Final = (*ROOT, "checks")


class _Delete:
    """Marks a key an edit removes."""


DELETE: Final = _Delete()

Edit = tuple[tuple[str, ...], object]


def example_document() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE)


def edited(*edits: Edit) -> dict[str, Any]:
    """The example document with each ``(key path, value)`` edit applied."""
    document = example_document()
    for path, value in edits:
        table: Any = document
        for part in path[:-1]:
            table = table.setdefault(part, {})
        if isinstance(value, _Delete):
            del table[path[-1]]
        else:
            table[path[-1]] = copy.deepcopy(value)
    return document


def make_folders(root: Path) -> None:
    """The folders the example's ``paths`` name (missing paths are a configuration error)."""
    (root / "tests" / "unit").mkdir(parents=True, exist_ok=True)
    (root / "tests" / "integration").mkdir(parents=True, exist_ok=True)


def write_project(root: Path, text: str = EXAMPLE) -> Path:
    make_folders(root)
    config_file = root / "pyproject.toml"
    config_file.write_text(text, encoding="utf-8")
    return config_file


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """Where the parsed documents claim to come from; the example's folders exist beside it."""
    make_folders(tmp_path)
    return tmp_path / "pyproject.toml"


def parse(document: dict[str, Any], config_file: Path) -> Project:
    return parse_project(document, config_file=config_file)


def assert_well_formed(error: ConfigError, *, file: Path | None, key: str) -> None:
    """Every configuration error names the file and the key path and says how to fix it."""
    message = str(error)
    where = f"{file}: " if file is not None else ""
    assert message.startswith(f"{where}{key}: "), message
    assert re.search(r"\n  fix: \S", message), message
    assert error.file == file
    assert error.key == key
    assert error.fix
    assert error.fix in message


# -- the happy path ---------------------------------------------------------------------------


def expected_example(root: Path) -> Project:
    install = InstallSpec(groups=("test",))
    python = ("3.11",)
    return Project(
        root=root,
        config_file=root / "pyproject.toml",
        python=python,
        install=install,
        source=("src/bookshop",),
        tests=("tests",),
        reports=".suitekit/reports",
        suites=(
            Suite(
                name="unit",
                paths=("tests/unit",),
                workers="auto",
                dist="load",
                target_seconds=10.0,
                python=python,
                install=install,
            ),
            Suite(
                name="processing",
                marker="processing",
                workers=2,
                target_seconds=60.0,
                python=python,
                install=install,
            ),
            Suite(
                name="integration",
                paths=("tests/integration",),
                workers=4,
                dist="loadscope",
                services=("postgres", "redis"),
                python=python,
                install=install,
            ),
        ),
        checks=(
            Check(name="lint", run=("ruff check .",), python="3.11", install=install),
            Check(name="typecheck", run=("mypy src",), python="3.11", install=install),
            Check(
                name="migrations",
                run=("alembic upgrade head", "alembic check"),
                services=("postgres",),
                python="3.11",
                install=install,
            ),
            Check(
                name="security",
                run=("pip-audit",),
                allow_failure=True,
                python="3.11",
                install=install,
            ),
        ),
    )


def test_the_example_parses_into_the_expected_project(config_file: Path) -> None:
    project = parse(example_document(), config_file)

    assert project == expected_example(config_file.parent)


def test_the_example_keeps_declaration_order_and_types(config_file: Path) -> None:
    project = parse(example_document(), config_file)

    assert [s.name for s in project.suites] == ["unit", "processing", "integration"]
    assert [c.name for c in project.checks] == ["lint", "typecheck", "migrations", "security"]
    assert isinstance(project.suite("unit").target_seconds, float)
    assert project.suite("processing").paths == ()
    assert project.suite("integration").marker is None
    assert dict(project.suite("unit").env) == {}


def test_a_check_given_as_a_string_is_one_command(config_file: Path) -> None:
    check = parse(example_document(), config_file).check("lint")

    assert check.run == ("ruff check .",)
    assert check.allow_failure is False
    assert check.services == ()


def test_a_check_given_as_a_list_runs_each_command_in_order(config_file: Path) -> None:
    document = edited((CHECKS, {"lint": ["ruff check .", "ruff format --check ."]}))

    check = parse(document, config_file).check("lint")

    assert check.run == ("ruff check .", "ruff format --check .")


def test_a_check_given_as_a_table(config_file: Path) -> None:
    project = parse(example_document(), config_file)

    assert project.check("migrations").run == ("alembic upgrade head", "alembic check")
    assert project.check("migrations").services == ("postgres",)
    assert project.check("security").run == ("pip-audit",)
    assert project.check("security").allow_failure is True


def test_defaults_apply_to_a_minimal_declaration(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    document = {"tool": {"suitekit": {"suites": {"everything": {"paths": ["."]}}}}}

    project = parse(document, tmp_path / "pyproject.toml")

    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert project == Project(
        root=tmp_path,
        config_file=tmp_path / "pyproject.toml",
        python=(running,),
        suites=(Suite(name="everything", paths=(".",), python=(running,)),),
    )
    suite = project.suites[0]
    assert suite.workers == "auto"
    assert suite.dist == "load"
    assert suite.target_seconds is None
    assert suite.install == InstallSpec()
    assert project.tests == ("tests",)
    assert project.reports == ".suitekit/reports"
    assert project.checks == ()


def test_suite_settings_override_the_project_defaults(config_file: Path) -> None:
    document = edited(
        ((*SUITES, "unit", "python"), "3.12"),
        ((*SUITES, "unit", "install"), {"project": False, "packages": ["pytest>=8"]}),
        ((*SUITES, "unit", "pytest-args"), "-x --tb=short"),
        ((*SUITES, "unit", "env"), {"DJANGO_SETTINGS": "tests.settings"}),
        ((*CHECKS, "lint"), {"run": "ruff check .", "python": "3.13"}),
    )

    project = parse(document, config_file)

    unit = project.suite("unit")
    assert unit.python == ("3.12",)
    assert unit.install == InstallSpec(project=False, packages=("pytest>=8",))
    assert unit.pytest_args == ("-x", "--tb=short")
    assert dict(unit.env) == {"DJANGO_SETTINGS": "tests.settings"}
    assert project.suite("processing").python == ("3.11",)
    assert project.check("lint").python == "3.13"
    assert project.check("typecheck").python == "3.11"


def test_python_versions_accept_free_threaded_and_pypy(config_file: Path) -> None:
    document = edited(((*ROOT, "python"), ["3.11", "3.13t", "pypy3.10"]))

    project = parse(document, config_file)

    assert project.python == ("3.11", "3.13t", "pypy3.10")
    assert project.suite("unit").python == ("3.11", "3.13t", "pypy3.10")
    assert project.check("lint").python == "3.11"


def test_extras_need_the_project_to_be_installed(config_file: Path) -> None:
    declared = edited(((*ROOT, "install", "extras"), ["postgres"]))
    not_installed = edited(
        ((*CHECKS, "lint"), {"run": "ruff", "install": {"project": False, "extras": ["x"]}})
    )

    assert parse(declared, config_file).install.extras == ("postgres",)
    with pytest.raises(ConfigError, match=r"checks.lint.install.extras: extras are the project's"):
        parse(not_installed, config_file)


def test_an_existing_requirements_file_is_accepted(config_file: Path) -> None:
    (config_file.parent / "requirements-test.txt").write_text("pytest\n", encoding="utf-8")
    document = edited(((*ROOT, "install", "requirements"), ["requirements-test.txt"]))

    assert parse(document, config_file).install.requirements == ("requirements-test.txt",)


def test_models_are_frozen(config_file: Path) -> None:
    project = parse(example_document(), config_file)

    with pytest.raises(dataclasses.FrozenInstanceError):
        project.suites[0].workers = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        project.checks[0].run = ("other",)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        project.install.groups = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        project.python = ("3.12",)  # type: ignore[misc]
    assert isinstance(project.suites, tuple)
    assert isinstance(project.suites[0].paths, tuple)


def test_a_default_env_mapping_is_read_only() -> None:
    suite = Suite(name="unit", paths=("tests",))
    check = Check(name="lint", run=("ruff",))

    with pytest.raises(TypeError):
        cast("dict[str, str]", suite.env)["X"] = "1"
    with pytest.raises(TypeError):
        cast("dict[str, str]", check.env)["X"] = "1"


def test_a_configured_env_mapping_is_read_only(config_file: Path) -> None:
    document = edited(
        ((*SUITES, "unit", "env"), {"A": "1"}),
        ((*CHECKS, "lint"), {"run": "ruff", "env": {"B": "2"}}),
    )
    project = parse(document, config_file)

    with pytest.raises(TypeError):
        cast("dict[str, str]", project.suite("unit").env)["A"] = "changed"
    with pytest.raises(TypeError):
        cast("dict[str, str]", project.check("lint").env)["B"] = "changed"


# -- every error, with its text ---------------------------------------------------------------

ERRORS: Final = [
    # unknown keys, with a did-you-mean
    pytest.param(
        [((*ROOT, "sorce"), ["src"])],
        "tool.suitekit.sorce",
        r"unknown key 'sorce' \(did you mean 'source'\?\)",
        id="unknown-top-level-key",
    ),
    pytest.param(
        [((*SUITES, "unit", "wokers"), 2)],
        "tool.suitekit.suites.unit.wokers",
        r"unknown key 'wokers' \(did you mean 'workers'\?\)",
        id="unknown-suite-key",
    ),
    pytest.param(
        [((*CHECKS, "security", "allow_failure"), True)],
        "tool.suitekit.checks.security.allow_failure",
        r"unknown key 'allow_failure' \(did you mean 'allow-failure'\?\)",
        id="unknown-check-key",
    ),
    pytest.param(
        [((*ROOT, "install", "group"), ["test"])],
        "tool.suitekit.install.group",
        r"unknown key 'group' \(did you mean 'groups'\?\)",
        id="unknown-install-key",
    ),
    pytest.param(
        [((*SUITES, "unit", "install"), {"extra": ["x"]})],
        "tool.suitekit.suites.unit.install.extra",
        r"unknown key 'extra' \(did you mean 'extras'\?\)",
        id="unknown-suite-install-key",
    ),
    pytest.param(
        [((*SUITES, "unit", "colour"), "red")],
        "tool.suitekit.suites.unit.colour",
        r"unknown key 'colour'\n  fix: use one of: paths, marker, workers",
        id="unknown-key-without-a-close-match",
    ),
    # wrong types
    pytest.param(
        [((*SUITES, "unit", "paths"), "tests/unit")],
        "tool.suitekit.suites.unit.paths",
        r"expected an array of strings, got a string 'tests/unit'",
        id="paths-as-a-string",
    ),
    pytest.param(
        [((*SUITES, "unit", "paths"), ["tests/unit", 3])],
        "tool.suitekit.suites.unit.paths",
        r"expected an array of strings, got an array \['tests/unit', 3\]",
        id="paths-with-a-number",
    ),
    pytest.param(
        [((*SUITES, "unit", "workers"), 2.5)],
        "tool.suitekit.suites.unit.workers",
        r'expected "auto", "logical" or an integer, got a number',
        id="workers-float",
    ),
    pytest.param(
        [((*SUITES, "unit", "workers"), True)],
        "tool.suitekit.suites.unit.workers",
        r'expected "auto", "logical" or an integer, got a boolean',
        id="workers-bool",
    ),
    pytest.param(
        [((*SUITES, "unit", "workers"), -1)],
        "tool.suitekit.suites.unit.workers",
        r"-1 is negative\n  fix: use 0 to run without xdist",
        id="workers-negative",
    ),
    pytest.param(
        [((*SUITES, "unit", "workers"), 1_000_000)],
        "tool.suitekit.suites.unit.workers",
        r"1000000 workers is more than suitekit starts \(at most 1024\)\n  fix: write a count",
        id="workers-huge",
    ),
    pytest.param(
        [((*SUITES, "unit", "workers"), "many")],
        "tool.suitekit.suites.unit.workers",
        r"'many' is not a worker count\n  fix: write workers = \"auto\", workers = 4",
        id="workers-many",
    ),
    pytest.param(
        [((*SUITES, "unit", "workers"), "Auto")],
        "tool.suitekit.suites.unit.workers",
        r"'Auto' is not a worker count \(did you mean 'auto'\?\)",
        id="workers-misspelt",
    ),
    pytest.param(
        [((*SUITES, "unit", "target-seconds"), -5)],
        "tool.suitekit.suites.unit.target-seconds",
        r"expected a positive number of seconds, got -5",
        id="target-seconds-negative",
    ),
    pytest.param(
        [((*SUITES, "unit", "target-seconds"), 0)],
        "tool.suitekit.suites.unit.target-seconds",
        r"expected a positive number of seconds, got 0",
        id="target-seconds-zero",
    ),
    pytest.param(
        [((*SUITES, "unit", "target-seconds"), "10")],
        "tool.suitekit.suites.unit.target-seconds",
        r"expected a positive number of seconds, got '10'",
        id="target-seconds-string",
    ),
    pytest.param(
        [((*SUITES, "unit", "env"), {"DEBUG": 1})],
        "tool.suitekit.suites.unit.env.DEBUG",
        r"expected a string, got an integer 1\n  fix: quote it: DEBUG = \"1\"",
        id="env-value-not-a-string",
    ),
    pytest.param(
        [((*CHECKS, "lint"), {"run": "ruff", "env": {"1BAD": "x"}})],
        "tool.suitekit.checks.lint.env.1BAD",
        r"'1BAD' is not an environment variable name",
        id="env-name-invalid",
    ),
    pytest.param(
        [((*SUITES, "unit", "env"), "DEBUG=1")],
        "tool.suitekit.suites.unit.env",
        r"expected a table, got a string",
        id="env-not-a-table",
    ),
    pytest.param(
        [((*ROOT, "python"), ["3"])],
        "tool.suitekit.python",
        r"'3' is not a Python version\n  fix: write versions as \"3.12\"",
        id="python-not-a-version",
    ),
    pytest.param(
        [((*ROOT, "python"), "three")],
        "tool.suitekit.python",
        r"'three' is not a Python version",
        id="python-a-word",
    ),
    pytest.param(
        [((*SUITES, "unit", "python"), ["2.7"])],
        "tool.suitekit.suites.unit.python",
        r"'2.7' is not a Python version",
        id="python-2",
    ),
    pytest.param(
        [((*ROOT, "python"), [3.11])],
        "tool.suitekit.python",
        r"expected an array of strings, got an array \[3.11\]",
        id="python-a-number",
    ),
    pytest.param(
        [((*ROOT, "python"), [])],
        "tool.suitekit.python",
        r"the array is empty",
        id="python-empty",
    ),
    pytest.param(
        [((*ROOT, "python"), ["3.11", "3.11"])],
        "tool.suitekit.python",
        r"a version is listed twice",
        id="python-twice",
    ),
    pytest.param(
        [((*CHECKS, "security", "python"), ["3.11", "3.12"])],
        "tool.suitekit.checks.security.python",
        r"a check runs on one Python version\n  fix: give one version",
        id="check-python-two-versions",
    ),
    pytest.param(
        [((*ROOT, "tests"), [])],
        "tool.suitekit.tests",
        r"the array is empty",
        id="tests-empty",
    ),
    pytest.param(
        [((*ROOT, "reports"), "")],
        "tool.suitekit.reports",
        r"expected a non-empty string, got an empty string",
        id="reports-empty",
    ),
    pytest.param(
        [((*ROOT, "install"), ["test"])],
        "tool.suitekit.install",
        r"expected a table, got an array",
        id="install-not-a-table",
    ),
    pytest.param(
        [((*ROOT, "install", "project"), "yes")],
        "tool.suitekit.install.project",
        r"expected true or false, got 'yes'",
        id="install-project-not-a-boolean",
    ),
    pytest.param(
        [((*CHECKS, "security", "allow-failure"), "yes")],
        "tool.suitekit.checks.security.allow-failure",
        r"expected true or false, got 'yes'",
        id="allow-failure-not-a-boolean",
    ),
    pytest.param(
        [((*SUITES, "unit", "pytest-args"), ["-x", 1])],
        "tool.suitekit.suites.unit.pytest-args",
        r"expected an array of strings",
        id="pytest-args-with-a-number",
    ),
    pytest.param(
        [((*SUITES, "unit", "pytest-args"), '-k "not slow')],
        "tool.suitekit.suites.unit.pytest-args",
        r"'-k \"not slow' cannot be split into arguments \(no closing quotation\)\n"
        r"  fix: close the quote, or escape the character with a backslash",
        id="pytest-args-unclosed-quote",
    ),
    # xdist distribution modes
    pytest.param(
        [((*SUITES, "integration", "dist"), "loadscop")],
        "tool.suitekit.suites.integration.dist",
        r"'loadscop' is not an xdist distribution mode \(did you mean 'loadscope'\?\)\n"
        r"  fix: use one of: load, loadscope, loadfile, loadgroup, worksteal",
        id="dist-misspelt",
    ),
    pytest.param(
        [((*SUITES, "integration", "dist"), "each")],
        "tool.suitekit.suites.integration.dist",
        r"'each' is not an xdist distribution mode",
        id="dist-each",
    ),
    # what a suite selects
    pytest.param(
        [((*SUITES, "unit", "paths"), DELETE)],
        "tool.suitekit.suites.unit",
        r"the suite selects nothing: it has neither `paths` nor `marker`",
        id="selects-nothing",
    ),
    pytest.param(
        [((*SUITES, "unit", "paths"), [])],
        "tool.suitekit.suites.unit",
        r"the suite selects nothing",
        id="selects-nothing-empty-paths",
    ),
    pytest.param(
        [((*SUITES, "unit", "paths"), ["tests/unit", "tests/missing"])],
        "tool.suitekit.suites.unit.paths",
        r"'tests/missing' does not exist under .*, so the suite would select nothing there\n"
        r"  fix: correct the path \(it is relative to the pyproject.toml's folder\)",
        id="path-does-not-exist",
    ),
    pytest.param(
        [((*SUITES, "processing", "marker"), "processing and")],
        "tool.suitekit.suites.processing.marker",
        r"the expression ends too early in marker expression 'processing and'\n"
        r"  fix: write a pytest marker expression",
        id="marker-does-not-parse",
    ),
    pytest.param(
        [((*SUITES, "processing", "marker"), "")],
        "tool.suitekit.suites.processing.marker",
        r"expected a non-empty string, got an empty string",
        id="marker-empty",
    ),
    pytest.param(
        [((*SUITES, "processing", "marker"), ["processing"])],
        "tool.suitekit.suites.processing.marker",
        r"expected a non-empty string, got an array",
        id="marker-not-a-string",
    ),
    # names
    pytest.param(
        [((*CHECKS, "unit"), "echo")],
        "tool.suitekit.checks.unit",
        r"the name 'unit' is already used by tool.suitekit.suites.unit",
        id="duplicate-suite-and-check",
    ),
    pytest.param(
        [((*SUITES, "unit_fast"), {"paths": ["tests/unit"]}), ((*CHECKS, "unit-fast"), "echo")],
        "tool.suitekit.checks.unit-fast",
        r"the name 'unit-fast' is already used by tool.suitekit.suites.unit_fast "
        r"\(names are compared case-insensitively, with '_' read as '-'",
        id="duplicate-after-normalising",
    ),
    pytest.param(
        [((*SUITES, "Lint"), {"paths": ["tests/unit"]})],
        "tool.suitekit.checks.lint",
        r"the name 'lint' is already used by tool.suitekit.suites.Lint .*\n"
        r"  fix: rename one of them",
        id="duplicate-differing-in-case",
    ),
    pytest.param(
        [((*SUITES, "all"), {"paths": ["tests/unit"]})],
        "tool.suitekit.suites.all",
        r"'all' is reserved for suitekit's own sessions and tasks\n"
        r"  fix: pick another name \(reserved: all, clean, coverage, flaky, partition, report\)",
        id="reserved-suite-name",
    ),
    pytest.param(
        [((*CHECKS, "partition"), "echo")],
        "tool.suitekit.checks.partition",
        r"'partition' is reserved",
        id="reserved-check-name",
    ),
    pytest.param(
        [((*SUITES, "my suite"), {"paths": ["tests/unit"]})],
        "tool.suitekit.suites.my suite",
        r"'my suite' is not a usable name: it becomes a nox session and an invoke task",
        id="name-with-a-space",
    ),
    pytest.param(
        [((*SUITES, 'say"hi'), {"paths": ["tests/unit"]})],
        'tool.suitekit.suites.say"hi',
        r"""'say"hi' is not a usable name""",
        id="name-with-a-quote",
    ),
    pytest.param(
        [((*SUITES, "it's"), {"paths": ["tests/unit"]})],
        "tool.suitekit.suites.it's",
        r"is not a usable name",
        id="name-with-an-apostrophe",
    ),
    pytest.param(
        [((*SUITES, "ünit"), {"paths": ["tests/unit"]})],
        "tool.suitekit.suites.ünit",
        r"'ünit' is not a usable name: .* only ASCII letters, digits, '_' and '-'",
        id="name-with-unicode",
    ),
    pytest.param(
        [((*SUITES, "u" * 80), {"paths": ["tests/unit"]})],
        f"tool.suitekit.suites.{'u' * 80}",
        r"is not a usable name: .*\(48 characters at most\)",
        id="name-80-characters",
    ),
    pytest.param(
        [((*CHECKS, "1lint"), "ruff")],
        "tool.suitekit.checks.1lint",
        r"'1lint' is not a usable name: .* must start with a letter",
        id="name-starting-with-a-digit",
    ),
    # services
    pytest.param(
        [((*SUITES, "integration", "services"), ["postgress"])],
        "tool.suitekit.suites.integration.services",
        r"unknown service 'postgress' \(did you mean 'postgres'\?\)\n"
        r"  fix: use the services suitekit provides: postgres, redis",
        id="unknown-service",
    ),
    pytest.param(
        [((*SUITES, "integration", "services"), ["redis", "redis"])],
        "tool.suitekit.suites.integration.services",
        r"a service is listed twice",
        id="service-twice",
    ),
    pytest.param(
        [((*SUITES, "integration", "services"), "postgres")],
        "tool.suitekit.suites.integration.services",
        r"expected an array of strings, got a string 'postgres'",
        id="services-as-a-string",
    ),
    # checks without a command
    pytest.param(
        [((*CHECKS, "lint"), {"services": ["postgres"]})],
        "tool.suitekit.checks.lint.run",
        r"the check has no command to run\n"
        r"  fix: give it one, e\.g\. lint = \"ruff check \.\" or lint = \{ run = ",
        id="check-without-run",
    ),
    pytest.param(
        [((*CHECKS, "lint"), "")],
        "tool.suitekit.checks.lint.run",
        r"the check has no command to run",
        id="check-empty-string",
    ),
    pytest.param(
        [((*CHECKS, "lint"), [])],
        "tool.suitekit.checks.lint.run",
        r"the check has no command to run",
        id="check-empty-list",
    ),
    pytest.param(
        [((*CHECKS, "lint"), ["ruff check .", "  "])],
        "tool.suitekit.checks.lint.run",
        r"the check has no command to run",
        id="check-blank-command",
    ),
    pytest.param(
        [((*CHECKS, "lint"), ["ruff check .", "echo done\\"])],
        "tool.suitekit.checks.lint.run",
        r"'echo done\\\\' cannot be split into arguments \(no escaped character\)",
        id="check-trailing-backslash",
    ),
    pytest.param(
        [((*CHECKS, "lint"), True)],
        "tool.suitekit.checks.lint",
        r"expected a table, got a boolean",
        id="check-a-boolean",
    ),
    # what the install names must be declared
    pytest.param(
        [((*ROOT, "install", "groups"), ["tests"])],
        "tool.suitekit.install.groups",
        r"'tests' is not declared in \[dependency-groups\] \(did you mean 'test'\?\)\n"
        r"  fix: declare it in \[dependency-groups\] or remove it here",
        id="group-not-declared",
    ),
    pytest.param(
        [((*CHECKS, "lint"), {"run": "ruff check .", "install": {"groups": ["lint"]}})],
        "tool.suitekit.checks.lint.install.groups",
        r"'lint' is not declared in \[dependency-groups\]",
        id="check-group-not-declared",
    ),
    pytest.param(
        [(("dependency-groups",), DELETE)],
        "tool.suitekit.install.groups",
        r"'test' is not declared in \[dependency-groups\]",
        id="no-dependency-groups-table",
    ),
    pytest.param(
        [((*ROOT, "install", "extras"), ["postgress"])],
        "tool.suitekit.install.extras",
        r"'postgress' is not declared in \[project.optional-dependencies\] "
        r"\(did you mean 'postgres'\?\)",
        id="extra-not-declared",
    ),
    pytest.param(
        [((*SUITES, "integration", "install"), {"requirements": ["requirements/test.txt"]})],
        "tool.suitekit.suites.integration.install.requirements",
        r"the requirements file 'requirements/test.txt' does not exist\n"
        r"  fix: correct the path",
        id="requirements-file-missing",
    ),
    # the shape of the declaration
    pytest.param(
        [(SUITES, DELETE)],
        "tool.suitekit.suites",
        r"the table is missing\n  fix: add \[tool.suitekit.suites\]",
        id="no-suites-table",
    ),
    pytest.param(
        [(SUITES, {})],
        "tool.suitekit.suites",
        r"no suite is declared\n  fix: declare one, e\.g\. \[tool.suitekit.suites.unit\]",
        id="no-suites",
    ),
    pytest.param(
        [(SUITES, ["unit"])],
        "tool.suitekit.suites",
        r"expected a table, got an array\n  fix: write it as \[tool.suitekit.suites\]",
        id="suites-not-a-table",
    ),
    pytest.param(
        [((*SUITES, "unit"), "tests/unit")],
        "tool.suitekit.suites.unit",
        r"expected a table, got a string",
        id="suite-not-a-table",
    ),
    pytest.param(
        [(CHECKS, "ruff")],
        "tool.suitekit.checks",
        r"expected a table, got a string",
        id="checks-not-a-table",
    ),
    # retries
    pytest.param(
        [((*SUITES, "unit", "retries"), 11)],
        "tool.suitekit.suites.unit.retries",
        r"expected a whole number from 0 to 10, got 11\n"
        r"  fix: write retries = 2 \(or leave it out for 0\)",
        id="retries-too-many",
    ),
    pytest.param(
        [((*SUITES, "unit", "retries"), -1)],
        "tool.suitekit.suites.unit.retries",
        r"expected a whole number from 0 to 10, got -1",
        id="retries-negative",
    ),
    pytest.param(
        [((*SUITES, "unit", "retries"), True)],
        "tool.suitekit.suites.unit.retries",
        r"expected a whole number from 0 to 10, got True",
        id="retries-boolean",
    ),
    # quarantine
    pytest.param(
        [((*ROOT, "quarantine"), {"test": "tests/unit/test_x.py", "reason": "r"})],
        "tool.suitekit.quarantine",
        r"expected an array of tables, got a table\n"
        r"  fix: write each entry as \[\[tool.suitekit.quarantine\]\] with test = ",
        id="quarantine-not-an-array",
    ),
    pytest.param(
        [((*ROOT, "quarantine"), ["tests/unit/test_x.py"])],
        "tool.suitekit.quarantine[0]",
        r"expected a table, got a string",
        id="quarantine-entry-not-a-table",
    ),
    pytest.param(
        [((*ROOT, "quarantine"), [{"test": "tests/unit/test_x.py"}])],
        "tool.suitekit.quarantine[0].reason",
        r"expected a non-empty string, got an empty string",
        id="quarantine-without-reason",
    ),
    pytest.param(
        [((*ROOT, "quarantine"), [{"reason": "flaky"}])],
        "tool.suitekit.quarantine[0].test",
        r"expected a non-empty string",
        id="quarantine-without-test",
    ),
    pytest.param(
        [((*ROOT, "quarantine"), [{"test": "tests/x.py", "reason": "r", "until": "May"}])],
        "tool.suitekit.quarantine[0].until",
        r"unknown key 'until'\n  fix: use one of: test, reason, release-after",
        id="quarantine-unknown-key",
    ),
    pytest.param(
        [((*ROOT, "quarantine"), [{"test": "../other/test_x.py", "reason": "r"}])],
        "tool.suitekit.quarantine[0].test",
        r"'../other/test_x.py' is not a node id or pattern relative to the project root",
        id="quarantine-outside-the-project",
    ),
    pytest.param(
        [((*ROOT, "quarantine"), [{"test": " tests/x.py", "reason": "r"}])],
        "tool.suitekit.quarantine[0].test",
        r"is not a node id or pattern relative to the project root",
        id="quarantine-padded",
    ),
    pytest.param(
        [
            (
                (*ROOT, "quarantine"),
                [{"test": "tests/x.py", "reason": "a"}, {"test": "tests/x.py", "reason": "b"}],
            )
        ],
        "tool.suitekit.quarantine[1].test",
        r"'tests/x.py' is already quarantined by tool.suitekit.quarantine\[0\]\n"
        r"  fix: keep one entry per test or pattern",
        id="quarantine-twice",
    ),
    pytest.param(
        [((*ROOT, "quarantine"), [{"test": "tests/x.py", "reason": "r", "release-after": 0}])],
        "tool.suitekit.quarantine[0].release-after",
        r"expected a whole number from 1 to 1000, got 0",
        id="quarantine-release-after-zero",
    ),
]


def test_retries_and_quarantine_are_read(config_file: Path) -> None:
    document = edited(
        ((*SUITES, "unit", "retries"), 2),
        (
            (*ROOT, "quarantine"),
            [
                {"test": "tests/unit/test_x.py::test_*", "reason": "issue 12"},
                {"test": "tests/unit/test_y.py", "reason": "clock", "release-after": 3},
            ],
        ),
    )

    project = parse(document, config_file)

    assert project.suite("unit").retries == 2
    assert project.suite("integration").retries == 0
    assert [(q.test, q.reason, q.release_after, q.key) for q in project.quarantine] == [
        ("tests/unit/test_x.py::test_*", "issue 12", 5, "tool.suitekit.quarantine[0]"),
        ("tests/unit/test_y.py", "clock", 3, "tool.suitekit.quarantine[1]"),
    ]


@pytest.mark.parametrize(("edits", "key", "pattern"), ERRORS)
def test_configuration_errors(config_file: Path, edits: list[Edit], key: str, pattern: str) -> None:
    document = edited(*edits)

    with pytest.raises(ConfigError, match=pattern) as caught:
        parse(document, config_file)

    assert_well_formed(caught.value, file=config_file, key=key)


def test_an_error_keeps_the_offending_value(config_file: Path) -> None:
    document = edited(((*SUITES, "unit", "workers"), "many"))

    with pytest.raises(ConfigError) as caught:
        parse(document, config_file)

    assert caught.value.value == "many"


def test_every_reserved_name_is_rejected(config_file: Path) -> None:
    for name in sorted(RESERVED_NAMES):
        document = edited(((*SUITES, name), {"paths": ["tests/unit"]}))
        with pytest.raises(ConfigError, match=rf"'{name}' is reserved"):
            parse(document, config_file)


def test_no_tool_suitekit_table(config_file: Path) -> None:
    document = {"project": {"name": "bookshop"}, "tool": {"ruff": {}}}

    with pytest.raises(ConfigError, match=r"the table is missing") as caught:
        parse(document, config_file)

    assert_well_formed(caught.value, file=config_file, key="tool.suitekit")
    assert "add a [tool.suitekit] table with at least one suite" in str(caught.value)


def test_tool_suitekit_not_a_table(config_file: Path) -> None:
    document = {"tool": {"suitekit": ["unit"]}}

    with pytest.raises(ConfigError, match=r"expected a table, got an array") as caught:
        parse(document, config_file)

    assert_well_formed(caught.value, file=config_file, key="tool.suitekit")


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(((*SUITES, "unit\n"), {"paths": ["tests/unit"]}), id="suite-name"),
        pytest.param(((*CHECKS, "lint\n"), "ruff check ."), id="check-name"),
    ],
)
def test_a_name_with_a_trailing_newline_is_rejected(config_file: Path, edit: Edit) -> None:
    document = edited(edit)

    with pytest.raises(ConfigError, match=r"is not a usable name"):
        parse(document, config_file)


def test_a_python_version_with_a_trailing_newline_is_rejected(config_file: Path) -> None:
    document = edited(((*ROOT, "python"), ["3.11\n"]))

    with pytest.raises(ConfigError, match=r"is not a Python version"):
        parse(document, config_file)


def test_an_env_name_with_a_trailing_newline_is_rejected(config_file: Path) -> None:
    document = edited(((*SUITES, "unit", "env"), {"DEBUG\n": "1"}))

    with pytest.raises(ConfigError, match=r"is not an environment variable name"):
        parse(document, config_file)


def test_target_seconds_nan_is_rejected(config_file: Path) -> None:
    document = edited(((*SUITES, "unit", "target-seconds"), float("nan")))

    with pytest.raises(ConfigError, match=r"expected a positive number of seconds, got nan"):
        parse(document, config_file)


MISSPELT_REQUIRED_KEYS: Final = [
    pytest.param(
        [((*SUITES, "unit", "paths"), DELETE), ((*SUITES, "unit", "path"), ["tests/unit"])],
        "tool.suitekit.suites.unit.path",
        r"unknown key 'path' \(did you mean 'paths'\?\)",
        id="suite-path",
    ),
    pytest.param(
        [((*CHECKS, "lint"), {"rn": "ruff check ."})],
        "tool.suitekit.checks.lint.rn",
        r"unknown key 'rn' \(did you mean 'run'\?\)",
        id="check-rn",
    ),
    pytest.param(
        [(SUITES, DELETE), ((*ROOT, "suite"), {"unit": {"paths": ["tests/unit"]}})],
        "tool.suitekit.suite",
        r"unknown key 'suite' \(did you mean 'suites'\?\)",
        id="top-suite",
    ),
]


@pytest.mark.parametrize(("edits", "key", "pattern"), MISSPELT_REQUIRED_KEYS)
def test_a_misspelt_required_key_gets_a_did_you_mean(
    config_file: Path, edits: list[Edit], key: str, pattern: str
) -> None:
    document = edited(*edits)

    with pytest.raises(ConfigError, match=pattern) as caught:
        parse(document, config_file)

    assert_well_formed(caught.value, file=config_file, key=key)


# -- files: load_project and find_config ------------------------------------------------------


def test_load_project_from_the_project_folder(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    write_project(root)

    assert load_project(root) == expected_example(root)


def test_load_project_from_the_file_itself(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    config_file = write_project(root)

    assert load_project(config_file) == expected_example(root)


def test_load_project_walks_up_from_a_subfolder(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    write_project(root)

    project = load_project(root / "tests" / "unit")

    assert project.root == root
    assert project.config_file == root / "pyproject.toml"


def test_load_project_defaults_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path.resolve()
    write_project(root)
    monkeypatch.chdir(root / "tests" / "integration")

    assert load_project().config_file == root / "pyproject.toml"


def test_load_project_validates_what_it_reads(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    config_file = write_project(root, EXAMPLE.replace('workers = "auto"', 'wokers = "auto"'))

    with pytest.raises(ConfigError, match=r"did you mean 'workers'\?") as caught:
        load_project(root)

    assert_well_formed(caught.value, file=config_file, key="tool.suitekit.suites.unit.wokers")


def test_load_project_on_a_broken_file_names_the_file(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    config_file = write_project(root, EXAMPLE.replace("workers = 4", "workers = = 4"))

    with pytest.raises(ConfigError, match=r": \(file\): not valid TOML: .*line") as caught:
        load_project(config_file)

    assert_well_formed(caught.value, file=config_file, key="(file)")
    assert "fix: repair the TOML syntax at the line and column given" in str(caught.value)


def test_load_project_finds_a_broken_file_and_names_it(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    config_file = write_project(root, '[tool.suitekit]\npython = ["3.11"\n')

    with pytest.raises(ConfigError, match=r"not valid TOML") as caught:
        load_project(root / "tests")

    assert_well_formed(caught.value, file=config_file, key="(file)")


def test_find_config_walks_up_from_a_subfolder(tmp_path: Path) -> None:
    config_file = write_project(tmp_path)

    assert find_config(tmp_path / "tests" / "unit") == config_file
    assert find_config(tmp_path) == config_file


def test_find_config_stops_at_the_nearest_pyproject(tmp_path: Path) -> None:
    """A project nested in a suitekit project does not inherit the outer one's suites."""
    write_project(tmp_path)
    nested = tmp_path / "packages" / "helper"
    nested.mkdir(parents=True)
    (nested / "pyproject.toml").write_text('[project]\nname = "helper"\n', encoding="utf-8")

    with pytest.raises(ConfigError, match=r"does not declare \[tool.suitekit\]") as caught:
        find_config(nested / "src")
    assert caught.value.file == nested / "pyproject.toml"


def test_find_config_recognises_a_suite_header_alone(tmp_path: Path) -> None:
    config_file = tmp_path / "pyproject.toml"
    config_file.write_text('[tool.suitekit.suites.unit]\npaths = ["."]\n', encoding="utf-8")

    assert find_config(tmp_path) == config_file


def test_find_config_ignores_a_similar_table_name(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.suitekitten]\nx = 1\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"does not declare \[tool.suitekit\]"):
        find_config(tmp_path)


def test_find_config_fails_clearly_when_nothing_declares_suitekit(tmp_path: Path) -> None:
    config_file = tmp_path / "pyproject.toml"
    config_file.write_text('[project]\nname = "bookshop"\n', encoding="utf-8")
    start = tmp_path / "src" / "bookshop"

    with pytest.raises(
        ConfigError,
        match=r"the project's pyproject.toml does not declare \[tool.suitekit\]",
    ) as caught:
        find_config(start)

    # The nearest pyproject.toml is named: that is where the table is probably missing.
    assert_well_formed(caught.value, file=config_file, key="tool.suitekit")
    assert "fix: add a [tool.suitekit] table with at least one suite" in str(caught.value)


def test_load_project_fails_clearly_when_nothing_declares_suitekit(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "pyproject.toml").write_text('[project]\nname = "bookshop"\n', encoding="utf-8")

    with pytest.raises(ConfigError, match=r"does not declare \[tool.suitekit\]\n  fix: "):
        load_project(root)


def test_find_config_fails_clearly_without_any_pyproject(tmp_path: Path) -> None:
    start = tmp_path / "nowhere"
    start.mkdir()
    with pytest.raises(ConfigError, match=r"there is no pyproject.toml at or above") as caught:
        find_config(start)
    assert caught.value.file is None
