"""The install fingerprint: what makes a session install again, and the marker it keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from suitekit import _install
from suitekit._model import InstallSpec
from suitekit.config import load_project

PYPROJECT = """\
[project]
name = "demo"
version = "0.1"
dependencies = ["attrs"]

[dependency-groups]
test = ["pytest"]

[tool.suitekit]
python = ["3.11"]

[tool.suitekit.suites.unit]
paths = ["tests"]
target-seconds = 30
"""

SPEC = InstallSpec(groups=("test",), requirements=("requirements.txt",))
ARGS = ("-e", ".", "pytest")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("requests\n", encoding="utf-8")
    return tmp_path


def fingerprint(root: Path, spec: InstallSpec = SPEC, args: tuple[str, ...] = ARGS) -> str | None:
    return _install.fingerprint(load_project(root), spec, args)


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_the_fingerprint_is_stable_and_ignores_suitekits_own_table(root: Path) -> None:
    before = fingerprint(root)
    assert before is not None
    assert fingerprint(root) == before
    edit(root / "pyproject.toml", "target-seconds = 30", "target-seconds = 31")
    assert fingerprint(root) == before


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("pyproject.toml", 'dependencies = ["attrs"]', 'dependencies = ["attrs>=23"]'),
        ("pyproject.toml", 'test = ["pytest"]', 'test = ["pytest", "hypothesis"]'),
        ("requirements.txt", "requests", "requests==2.32"),
    ],
)
def test_a_dependency_change_changes_the_fingerprint(
    root: Path, file: str, old: str, new: str
) -> None:
    before = fingerprint(root)
    edit(root / file, old, new)
    assert fingerprint(root) != before


def test_a_lock_file_and_the_install_arguments_count(root: Path) -> None:
    before = fingerprint(root)
    (root / "uv.lock").write_text("version = 1\n", encoding="utf-8")
    locked = fingerprint(root)
    assert locked != before
    (root / "uv.lock").write_text("version = 2\n", encoding="utf-8")
    assert fingerprint(root) not in {before, locked}
    assert fingerprint(root, args=(*ARGS, "ruff")) != fingerprint(root)


def test_a_non_editable_project_install_is_never_skipped(root: Path) -> None:
    assert fingerprint(root, InstallSpec(editable=False)) is None
    assert fingerprint(root, InstallSpec(project=False, editable=False)) is not None


def test_the_marker_round_trips_and_only_an_equal_fingerprint_is_current(tmp_path: Path) -> None:
    assert not _install.is_current(tmp_path, "abc")  # no marker yet
    _install.record(tmp_path, "abc")
    assert _install.is_current(tmp_path, "abc")
    assert not _install.is_current(tmp_path, "abd")
    assert not _install.is_current(tmp_path, None)
    assert [p.name for p in tmp_path.iterdir()] == [_install.MARKER]
    assert (tmp_path / _install.MARKER).stat().st_mode & 0o777 == 0o600


def test_a_planted_marker_symlink_is_neither_followed_nor_written_through(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("abc\n", encoding="utf-8")
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / _install.MARKER).symlink_to(target)
    assert not _install.is_current(venv, "abc")  # a link is not this virtualenv's marker
    _install.record(venv, "new")
    assert target.read_text(encoding="utf-8") == "abc\n"  # untouched
    assert not (venv / _install.MARKER).is_symlink()  # replaced by a file of our own
    assert _install.is_current(venv, "new")


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("yes", True), ("0", False), ("", False)]
)
def test_suitekit_reinstall_forces_an_install(value: str, expected: bool) -> None:
    assert _install.forced({"SUITEKIT_REINSTALL": value}) is expected
