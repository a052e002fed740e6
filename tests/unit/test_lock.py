"""Installs from uv.lock (suitekit.plan._lock, suitekit._install) and the suitekit CI installs."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Final

import pytest

from suitekit import ConfigError, _install, plan
from suitekit._model import InstallSpec
from suitekit.config import load_project
from tests.unit.test_config import ROOT, SUITES, assert_well_formed, edited, parse

BASE: Final = ("uv", "sync", "--locked", "--inexact", "--no-default-groups")

PYPROJECT: Final = """\
[project]
name = "Demo_App"
version = "0.1"
dependencies = ["attrs"]

[project.optional-dependencies]
db = ["psycopg"]

[dependency-groups]
test = ["pytest"]
ci = ["suitekit>=0.1; python_version >= '3.11'"]

[tool.suitekit]
python = ["3.11"]

[tool.suitekit.suites.unit]
paths = ["tests"]
"""

# A lock as uv writes it (uv.lock revision 3), cut down to the fields suitekit reads.
LOCK: Final = """\
version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "attrs"
version = "25.1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "demo-app"
version = "0.1"
source = { editable = "." }
dependencies = [{ name = "attrs" }]

[package.optional-dependencies]
db = [{ name = "psycopg", extra = ["binary"] }]

[package.dev-dependencies]
ci = [{ name = "suitekit" }]
test = [{ name = "pytest" }]

[[package]]
name = "psycopg"
version = "3.2.0"
source = { registry = "https://pypi.org/simple" }

[package.optional-dependencies]
binary = [{ name = "psycopg-binary" }]

[[package]]
name = "psycopg-binary"
version = "3.2.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "8.3.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "suitekit"
version = "0.4.2"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "pytest" }]
"""


def parsed(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


def replaced(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (InstallSpec(), BASE),
        (
            InstallSpec(groups=("test", "lint"), extras=("db",)),
            (*BASE, "--extra=db", "--group=test", "--group=lint"),
        ),
        (InstallSpec(editable=False, groups=("test",)), (*BASE, "--group=test", "--no-editable")),
        (InstallSpec(project=False, groups=("lint",)), (*BASE, "--only-group=lint")),
        (InstallSpec(project=False, packages=("ruff",)), None),  # nothing comes from the lock
    ],
)
def test_the_sync_command_of_a_spec(spec: InstallSpec, expected: tuple[str, ...] | None) -> None:
    assert plan.sync_command(spec) == expected


@pytest.mark.parametrize(
    ("spec", "suitekit"),
    [
        (InstallSpec(groups=("ci",)), "0.4.2"),  # the group that declares it
        (InstallSpec(project=False, groups=("ci",)), "0.4.2"),
        (InstallSpec(groups=("test",), extras=("db",)), None),  # a selection without it
        (InstallSpec(), None),
    ],
)
def test_the_sync_installs_suitekit_only_where_its_selection_reaches_it(
    spec: InstallSpec, suitekit: str | None
) -> None:
    sync = plan.locked_sync(spec, pyproject=parsed(PYPROJECT), lock=parsed(LOCK))
    assert sync is not None
    assert sync.command == plan.sync_command(spec)
    assert sync.suitekit == suitekit


def test_the_walk_follows_transitive_dependencies_and_the_extras_an_edge_asks_for() -> None:
    # suitekit two steps away, behind psycopg's "binary" extra, reached by the project's "db".
    binary = 'name = "psycopg-binary"\nversion = "3.2.0"\n'
    lock = replaced(LOCK, binary, binary + 'dependencies = [{ name = "suitekit" }]\n')
    with_db = plan.locked_sync(
        InstallSpec(extras=("db",)), pyproject=parsed(PYPROJECT), lock=parsed(lock)
    )
    without = plan.locked_sync(InstallSpec(), pyproject=parsed(PYPROJECT), lock=parsed(lock))
    assert with_db is not None
    assert with_db.suitekit == "0.4.2"
    assert without is not None
    assert without.suitekit is None


def test_no_lock_or_lock_false_is_no_sync() -> None:
    pyproject = parsed(PYPROJECT)
    assert plan.locked_sync(InstallSpec(), pyproject=pyproject, lock=None) is None
    assert plan.locked_sync(InstallSpec(lock=False), pyproject=pyproject, lock=parsed(LOCK)) is None
    spec = InstallSpec(project=False, packages=("ruff",))
    assert plan.locked_sync(spec, pyproject=pyproject, lock=parsed(LOCK)) is None


def test_an_unreadable_lock_still_syncs_and_suitekit_is_installed_after() -> None:
    # uv, not suitekit, names the lock's fault when the sync runs.
    sync = plan.locked_sync(InstallSpec(groups=("ci",)), pyproject=parsed(PYPROJECT), lock={})
    assert sync == plan.LockedSync(command=(*BASE, "--group=ci"), suitekit=None)


def test_uvs_refusal_of_an_out_of_date_lock_is_recognised_and_names_the_fix() -> None:
    refused = (
        "Resolved 9 packages in 295ms\n"
        "error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided. "
        "To update the lockfile, run `uv lock`.\n"
    )
    assert plan.lock_outdated(refused)
    # As uv prints it where it cannot tell the terminal's width (a CI log): wrapped anywhere.
    wrapped = (
        "error: Failed to sync\n"
        "  The lockfile at `uv.lock` needs to be updated, but `--locked` was\n"
        "       provided.\n"
    )
    assert plan.lock_outdated(wrapped)
    assert not plan.lock_outdated("error: Failed to fetch: `https://pypi.org/simple/attrs/`")
    message = plan.outdated_lock_message(Path("/p/pyproject.toml"), "tool.suitekit.install")
    assert message == (
        "/p/pyproject.toml: tool.suitekit.install: uv.lock is out of date with pyproject.toml "
        "(`uv sync --locked` refused it); fix: run `uv lock` and commit uv.lock"
    )


# The suitekit CI installs.


def ci(
    pyproject: str = PYPROJECT, lock: str | None = None, configured: str = ""
) -> tuple[str, str | None]:
    return plan.ci_suitekit_requirement(
        pyproject=parsed(pyproject),
        lock=parsed(lock) if lock is not None else None,
        configured=configured,
        installed="9.9.9",
    )


NO_DECLARATION: Final = PYPROJECT.replace(
    "ci = [\"suitekit>=0.1; python_version >= '3.11'\"]\n", ""
)


def test_ci_takes_the_version_the_lock_pins() -> None:
    assert ci(lock=LOCK) == ("suitekit==0.4.2", None)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{ editable = "." }', "."),
        ('{ directory = "../suitekit" }', "../suitekit"),
        (
            '{ path = "vendor/suitekit-0.4.2-py3-none-any.whl" }',
            "./vendor/suitekit-0.4.2-py3-none-any.whl",
        ),
        (
            '{ git = "https://github.com/o/suitekit?rev=main#0123abcd" }',
            "suitekit @ git+https://github.com/o/suitekit@0123abcd",
        ),
        (
            '{ url = "https://example.org/suitekit-0.4.2.tar.gz" }',
            "suitekit @ https://example.org/suitekit-0.4.2.tar.gz",
        ),
    ],
)
def test_ci_installs_a_suitekit_locked_from_elsewhere_from_there(
    source: str, expected: str
) -> None:
    lock = LOCK.replace(
        'name = "suitekit"\nversion = "0.4.2"\nsource = { registry = "https://pypi.org/simple" }',
        f'name = "suitekit"\nversion = "0.4.2"\nsource = {source}',
    )
    assert lock != LOCK
    assert ci(lock=lock) == (expected, None)


def test_ci_takes_the_declared_requirement_without_its_marker_when_nothing_is_locked() -> None:
    assert ci() == ("suitekit>=0.1", None)
    in_extra = NO_DECLARATION.replace('db = ["psycopg"]', 'db = ["psycopg", "SuiteKit[x]==0.3"]')
    assert ci(in_extra) == ("SuiteKit[x]==0.3", None)
    # A package whose name only starts with suitekit's is not suitekit.
    other = NO_DECLARATION.replace('test = ["pytest"]', 'test = ["pytest", "suitekit-extras"]')
    assert ci(other)[0] == "suitekit==9.9.9"


def test_ci_falls_back_to_the_setting_then_to_the_installed_version_with_a_warning() -> None:
    assert ci(NO_DECLARATION, configured="suitekit>=0.2,<0.3") == ("suitekit>=0.2,<0.3", None)
    requirement, warning = ci(NO_DECLARATION)
    assert requirement == "suitekit==9.9.9"
    assert warning is not None
    assert "must be able to install from its package index" in warning
    assert "fix: declare suitekit in a dependency group" in warning


def test_a_declaration_wins_over_the_setting_and_the_warning_says_so() -> None:
    requirement, warning = ci(configured=".")
    assert requirement == "suitekit>=0.1"
    assert warning is not None
    assert "[tool.suitekit.ci] suitekit = '.' is not used" in warning
    assert ci(configured="suitekit>=0.1") == ("suitekit>=0.1", None)  # the same: no warning


def test_ci_reads_the_projects_files(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text(NO_DECLARATION, encoding="utf-8")
    project = load_project(tmp_path)
    assert _install.suitekit_for_ci(project, installed="1.0")[0] == "suitekit==1.0"
    (tmp_path / "uv.lock").write_text(LOCK, encoding="utf-8")
    assert _install.suitekit_for_ci(project, installed="1.0") == ("suitekit==0.4.2", None)


# The files, as sessions read them.


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return tmp_path


def test_a_session_syncs_only_where_the_project_has_a_lock_and_the_spec_allows(root: Path) -> None:
    project = load_project(root)
    spec = InstallSpec(groups=("test",))
    assert _install.locked(project, spec) is None
    (root / "uv.lock").write_text(LOCK, encoding="utf-8")
    sync = _install.locked(project, spec)
    assert sync is not None
    assert sync.command == (*BASE, "--group=test")
    assert _install.locked(project, InstallSpec(groups=("test",), lock=False)) is None
    pinned = _install.locked(project, InstallSpec(groups=("ci",)))
    assert pinned is not None
    assert pinned.suitekit == "0.4.2"  # read from the lock, where it is pinned


def test_the_fingerprint_of_a_locked_install_follows_the_lock(root: Path) -> None:
    (root / "uv.lock").write_text(LOCK, encoding="utf-8")
    project = load_project(root)
    spec = InstallSpec(groups=("test",))
    sync = _install.locked(project, spec)
    assert sync is not None
    before = _install.fingerprint(project, spec, sync.command)
    assert before == _install.fingerprint(project, spec, sync.command)
    (root / "uv.lock").write_text(LOCK.replace('"8.3.0"', '"8.3.1"'), encoding="utf-8")
    assert _install.fingerprint(project, spec, sync.command) != before


def test_forget_removes_the_record_of_the_last_install(tmp_path: Path) -> None:
    _install.record(tmp_path, "abc")
    assert _install.is_current(tmp_path, "abc")
    _install.forget(tmp_path)
    assert not _install.is_current(tmp_path, "abc")
    _install.forget(tmp_path)  # nothing to remove: no error


# The `lock` key.


def test_lock_is_on_by_default_and_false_turns_it_off(tmp_path: Path) -> None:
    config_file = tmp_path / "pyproject.toml"
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "integration").mkdir(parents=True)
    assert parse(edited(), config_file).install.lock is True
    document = edited(((*SUITES, "unit", "install"), {"groups": ["test"], "lock": False}))
    project = parse(document, config_file)
    assert project.suite("unit").install == InstallSpec(groups=("test",), lock=False)
    assert project.install.lock is True


@pytest.mark.parametrize(
    ("install", "key", "pattern"),
    [
        ({"lock": "no"}, "tool.suitekit.install.lock", r"expected true or false, got 'no'"),
        (
            {"locked": False},
            "tool.suitekit.install.locked",
            r"unknown key 'locked' \(did you mean 'lock'\?\)",
        ),
    ],
)
def test_a_bad_lock_key_is_a_config_error(
    tmp_path: Path, install: dict[str, object], key: str, pattern: str
) -> None:
    config_file = tmp_path / "pyproject.toml"
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "integration").mkdir(parents=True)
    with pytest.raises(ConfigError, match=pattern) as caught:
        parse(edited(((*ROOT, "install"), install)), config_file)
    assert_well_formed(caught.value, file=config_file, key=key)
