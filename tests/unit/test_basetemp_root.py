"""The root of a suite session's temporary folders: one per project, suite, Python and shard."""

from __future__ import annotations

import hashlib
import math
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from suitekit.errors import ServiceError
from suitekit.pytest_plugin._basetemp import _last_used, prune_gone, session_root
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
    names = ("kept", "gone", "running", "recent", "forged")
    paths = {name: projects / name for name in names}
    for project in paths.values():
        project.mkdir(parents=True)
    temp = tmp_path / "tmp"
    temp.mkdir()
    roots = {name: session_root(path, "unit", None, temp=temp) for name, path in paths.items()}
    for root in roots.values():
        (root / "pytest-of-someone").mkdir()
    top = temp / f"suitekit-{os.geteuid()}-pytest"
    # A folder a session of another project is making right now: not named yet.
    unnamed = top / "new-0123456789ab"
    unnamed.mkdir()
    # A folder whose file names another path than its name was made from (a truncated write).
    (roots["forged"].parent / "project").write_text(str(projects / "nowhere"))
    # A link among the folders is not followed.
    target = tmp_path / "target"
    target.mkdir()
    (top / f"link-{hashlib.sha256(bytes(projects / 'gone')).hexdigest()[:12]}").symlink_to(target)
    for name in ("gone", "running", "recent"):
        paths[name].rmdir()
    later = time.time() + 7200
    # "recent" was used a minute ago; the others two hours before ``later``.
    (roots["recent"] / "pytest-of-someone").touch()
    os.utime(roots["recent"] / "pytest-of-someone", (later - 60, later - 60))

    prune_gone(roots["running"], now=later)  # its own session: it never removes its own

    assert not roots["gone"].parent.exists()
    for name in ("kept", "running", "recent", "forged"):
        assert roots[name].is_dir(), name
    assert unnamed.is_dir()
    assert target.is_dir()
    # An hour after its last session, the recent one goes too.
    prune_gone(roots["running"], now=later + 3600)
    assert not roots["recent"].parent.exists()
    # The project's folder names it, for that check.
    named = roots["kept"].parent / "project"
    assert named.read_bytes() == os.fsencode(paths["kept"])
    assert stat.S_IMODE(named.stat().st_mode) == 0o600


def test_nothing_is_removed_soon_after_its_last_session(tmp_path: Path) -> None:
    project = tmp_path / "gone"
    project.mkdir()
    root = session_root(project, "unit", None, temp=tmp_path)
    mine = session_root(tmp_path, "unit", None, temp=tmp_path)
    project.rmdir()
    prune_gone(mine)
    assert root.is_dir()


def test_a_wrong_project_file_is_written_again_whole(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    root = session_root(project, "unit", None, temp=tmp_path)
    named = root.parent / "project"
    named.write_bytes(os.fsencode(project)[:5])  # cut short
    session_root(project, "unit", None, temp=tmp_path)
    assert named.read_bytes() == os.fsencode(project)
    assert sorted(path.name for path in root.parent.iterdir()) == ["project", "unit-" + PYTHON]


def test_a_folder_removed_while_it_is_looked_at_counts_as_in_use(tmp_path: Path) -> None:
    assert _last_used(tmp_path / "removed-just-now") == math.inf
