"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Final

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


# The longest tests, with their seconds in a warm two-worker run on a 2-core machine. They are
# collected first, longest first (the rest keep their order after them), and xdist hands out
# one test at a time (--maxschedchunk=1 in pyproject.toml): each worker starts a long test, and
# the short ones fill in around them. In file order with xdist's default chunks, the first
# chunk a worker got could hold several of them and the run waited on that worker at the end.
# With recorded durations (.suitekit/durations.json) suitekit's own order replaces this one.
# The two interrupt tests go first, one per worker, so that each measures its start-up and runs
# its trials under the same load as the other (the trials' delays span the measured start-up).
LONGEST_FIRST: Final = (
    # The start of each one's node id (after tests/e2e/), and its seconds.
    "test_interrupts.py::test_ctrl_c_twice_at_any_moment_of_start_up_leaves_nothing[inv]",  # 49
    "test_bookshop.py::test_bookshop_pipeline_runs_every_suite_and_check_at_once",  # 75
    "test_gitlab_local.py::test_generated_gitlab_pipeline_passes_in_gitlab_ci_local",  # 70
    "test_interrupts.py::test_ctrl_c_twice_at_any_moment_of_start_up_leaves_nothing[nox]",  # 37
    "test_django.py::test_django_project_migrates_once_uses_a_clone_per_worker",  # 34
    "test_isolation.py::test_isolated_runs_pass_five_times",  # 16
    "test_dead_server.py::test_a_server_that_dies_mid_run_is_named_and_fails_the_run[pytest -n 2]",
    "test_flaky.py::test_flaky_finds_the_coin_and_the_victim",  # 9.5
    "test_dead_server.py::test_a_server_that_dies_mid_run_is_named_and_fails_the_run[inv]",  # 8.5
    "test_hang.py::test_a_session_past_its_deadline",  # 8
    "test_ci_command.py::test_a_ci_job_command_selects_the_same_tests_locally",  # 8
    "test_install.py::test_a_session_installs_only_when_what_it_installs_changed",  # 7.5
    "test_isolation.py::test_clean_removes_what_a_killed_run_left",  # 7
)


def _rank(item: pytest.Item) -> int:
    name = item.nodeid.rsplit("/", 1)[-1]
    return next(
        (number for number, start in enumerate(LONGEST_FIRST) if name.startswith(start)),
        len(LONGEST_FIRST),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Collect the longest end-to-end tests first (see LONGEST_FIRST); a stable sort."""
    items.sort(key=_rank)


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
