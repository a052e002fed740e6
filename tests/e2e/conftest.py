"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.helpers import Project, make_project

# The demo projects' suite and check sessions whose virtualenvs a worker keeps from one test to
# the next. A new virtualenv costs a nested run about two CPU-seconds (uv, the editable builds,
# compiling every module it imports), which most of these tests paid for nothing: the install
# never changes, and a warm session skips it. The tests of creating and installing virtualenvs
# (test_install.py, and every run of the bookshop and of a project that a test copies) start
# from none.
WARM_VENVS = frozenset({"unit-3-11", "slow-3-11", "stable-3-11", "hello", "audit"})


def clear_except_warm_venvs(root: Path) -> None:
    """Remove every file of a demo project but its sessions' warm virtualenvs."""
    if not root.exists():
        return
    for entry in root.iterdir():
        if entry.name == ".nox":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for venv in (root / ".nox").glob("*"):
        if venv.is_dir() and venv.name not in WARM_VENVS:
            shutil.rmtree(venv)


@pytest.fixture(scope="session")
def _warm_demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One folder per xdist worker (each has its own base temp), used by one test at a time.
    return tmp_path_factory.mktemp("warm") / "demo"


@pytest.fixture
def demo_root(_warm_demo_root: Path) -> Path:
    """An empty folder for a demo project, where its sessions' virtualenvs are already warm.

    The same folder for every test of this worker, so that the editable install of the demo
    project is the same install; everything the last test left there, but the virtualenvs of
    WARM_VENVS, is gone (reports, durations, test files, other sessions' virtualenvs).
    """
    clear_except_warm_venvs(_warm_demo_root)
    return _warm_demo_root


@pytest.fixture
def project(demo_root: Path) -> Project:
    """The demo project, its files fresh, its suite and check sessions warm."""
    return make_project(demo_root)
