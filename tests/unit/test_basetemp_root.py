"""The root of a suite session's temporary folders: one per project, suite, Python and shard."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from suitekit.errors import ServiceError
from suitekit.pytest_plugin._basetemp import prune_gone, session_root
from suitekit.sharding import ShardSpec

PYTHON = f"py{sys.version_info.major}.{sys.version_info.minor}"


def test_sessions_that_may_run_at_once_get_different_roots(tmp_path: Path) -> None:
    project = tmp_path / "projects" / "shop"
    twin = tmp_path / "elsewhere" / "shop"  # the same folder name, another project
    roots = {
        session_root(project, "unit", None, temp=tmp_path),
        session_root(project, "integration", None, temp=tmp_path),
        session_root(project, "unit", ShardSpec(index=1, total=2), temp=tmp_path),
        session_root(project, "unit", ShardSpec(index=2, total=2), temp=tmp_path),
        session_root(twin, "unit", None, temp=tmp_path),
    }
    assert len(roots) == 5
    base = tmp_path / f"suitekit-{os.geteuid()}-pytest"
    assert {root.parent.parent for root in roots} == {base}
    assert {root.name for root in roots} == {
        f"unit-{PYTHON}",
        f"integration-{PYTHON}",
        f"unit-{PYTHON}-shard-1-of-2",
        f"unit-{PYTHON}-shard-2-of-2",
    }
    assert all(root.parent.name.startswith("shop-") for root in roots)
    # The same session finds the same root again: pytest keeps its last sessions there.
    assert session_root(project, "unit", None, temp=tmp_path) in roots
    for root in roots:
        for folder in (root, root.parent, base):
            assert stat.S_IMODE(folder.lstat().st_mode) == 0o700


def test_a_long_project_folder_name_is_cut(tmp_path: Path) -> None:
    root = session_root(tmp_path / ("x" * 200), "unit", None, temp=tmp_path)
    assert root.parent.name == "x" * 40 + "-" + root.parent.name[-12:]


def test_a_planted_link_inside_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    first = session_root(project, "unit", None, temp=tmp_path)
    target = tmp_path / "target"
    target.mkdir()
    planted = first.parent / f"integration-{PYTHON}"
    planted.symlink_to(target)
    with pytest.raises(ServiceError, match="symbolic link") as raised:
        session_root(project, "integration", None, temp=tmp_path)
    assert str(planted) in str(raised.value)
    assert list(target.iterdir()) == []


def test_the_folders_of_projects_that_are_gone_are_removed(tmp_path: Path) -> None:
    projects = tmp_path / "projects"
    kept, gone, running = (projects / name for name in ("kept", "gone", "running"))
    for project in (kept, gone, running):
        project.mkdir(parents=True)
    temp = tmp_path / "tmp"
    temp.mkdir()
    roots = {
        project.name: session_root(project, "unit", None, temp=temp)
        for project in (kept, gone, running)
    }
    for root in roots.values():
        (root / "pytest-of-someone").mkdir()
    # A folder a session of another project is making right now: not named yet.
    unnamed = temp / f"suitekit-{os.geteuid()}-pytest" / "new-0123456789ab"
    unnamed.mkdir()
    gone.rmdir()
    running.rmdir()  # its own session prunes: it never removes its own folder

    prune_gone(roots["running"])

    assert not roots["gone"].parent.exists()
    assert roots["kept"].is_dir()
    assert roots["running"].is_dir()
    assert unnamed.is_dir()
    # The project's folder names it, for that check.
    named = roots["kept"].parent / "project"
    assert named.read_bytes() == os.fsencode(kept)
    assert stat.S_IMODE(named.stat().st_mode) == 0o600
