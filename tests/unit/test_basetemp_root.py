"""The root of a suite session's temporary folders: one per project, suite, Python and shard."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from suitekit.errors import ServiceError
from suitekit.pytest_plugin._basetemp import session_root
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
