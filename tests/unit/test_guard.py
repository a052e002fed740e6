"""The partition guard decided from the suite sessions' records (suitekit._guard)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from suitekit import Project, Suite
from suitekit._guard import collections_folder, decide
from suitekit._model import Quarantine

UNIT = Suite(name="unit", paths=("tests/unit",))
SLOW = Suite(name="slow", marker="slow")
INTEGRATION = Suite(name="integration", paths=("tests/integration",))


def project_in(root: Path, *suites: Suite, quarantine: tuple[Quarantine, ...] = ()) -> Project:
    for name in ("tests/unit/test_a.py", "tests/integration/test_b.py", "tests/helpers.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    return Project(
        root=root,
        config_file=root / "pyproject.toml",
        python=("3.11",),
        tests=("tests",),
        suites=suites,
        quarantine=quarantine,
    )


def record(
    folder: Path,
    suite: str,
    owned: list[str],
    others: list[str] | None = None,
    *,
    complete: bool = True,
    name: str | None = None,
) -> None:
    data = {
        "version": 1,
        "suite": suite,
        "complete": complete,
        "owned": owned,
        "others": others or [],
        "python_files": ["test_*.py", "*_test.py"],
        "norecursedirs": [".*", "venv"],
    }
    (folder / (name or f"{suite}.1.json")).write_text(json.dumps(data))


def test_records_that_cover_every_root_settle_the_partition(tmp_path: Path) -> None:
    fast = Suite(name="unit", paths=("tests/unit",), marker="not slow")
    project = project_in(tmp_path / "p", fast, SLOW)
    with collections_folder() as folder:
        record(folder, "unit", ["tests/unit/test_a.py::t1"], ["tests/unit/test_a.py::t2"])
        record(
            folder,
            "slow",
            ["tests/unit/test_a.py::t2"],
            ["tests/unit/test_a.py::t1", "tests/integration/test_b.py::t3"],
        )
        verdict = decide(project, folder)
    assert verdict.report is not None
    assert verdict.report.counts == (("unit", 1), ("slow", 1))
    assert verdict.report.unowned == ("tests/integration/test_b.py::t3",)
    assert "tests/integration/test_b.py::t3" in verdict.problem
    assert "belong to no suite" in verdict.problem
    assert not verdict.ok


def test_a_test_two_suites_own_is_named_with_both(tmp_path: Path) -> None:
    project = project_in(tmp_path / "p", UNIT, SLOW)
    with collections_folder() as folder:
        record(folder, "unit", ["tests/unit/test_a.py::t1"])
        record(folder, "slow", ["tests/unit/test_a.py::t1"])
        verdict = decide(project, folder)
    assert "tests/unit/test_a.py::t1  (unit, slow)" in verdict.problem


def test_a_clean_partition_is_ok(tmp_path: Path) -> None:
    project = project_in(tmp_path / "p", UNIT, INTEGRATION)
    (tmp_path / "p" / "tests" / "conftest.py").write_text("")
    with collections_folder() as folder:
        record(folder, "unit", ["tests/unit/test_a.py::t1"])
        record(folder, "integration", ["tests/integration/test_b.py::t3"])
        verdict = decide(project, folder)
    assert verdict.ok, verdict.problem


def test_a_test_file_outside_every_suites_paths_leaves_the_guard_to_the_session(
    tmp_path: Path,
) -> None:
    project = project_in(tmp_path / "p", UNIT, INTEGRATION)
    (tmp_path / "p" / "tests" / "stray").mkdir()
    (tmp_path / "p" / "tests" / "stray" / "test_lost.py").write_text("")
    with collections_folder() as folder:
        record(folder, "unit", ["tests/unit/test_a.py::t1"])
        record(folder, "integration", ["tests/integration/test_b.py::t3"])
        verdict = decide(project, folder)
    assert verdict.report is None
    assert verdict.reason.startswith("tests/stray/test_lost.py lies outside every suite's paths")


def test_skipped_folders_and_symlinks_are_not_searched(tmp_path: Path) -> None:
    project = project_in(tmp_path / "p", UNIT, INTEGRATION)
    hidden = tmp_path / "p" / "tests" / ".cache"
    hidden.mkdir()
    (hidden / "test_x.py").write_text("")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "test_y.py").write_text("")
    (tmp_path / "p" / "tests" / "linked").symlink_to(elsewhere)
    with collections_folder() as folder:
        record(folder, "unit", ["tests/unit/test_a.py::t1"])
        record(folder, "integration", ["tests/integration/test_b.py::t3"])
        verdict = decide(project, folder)
    assert verdict.ok, verdict.reason or verdict.problem


def test_a_missing_or_narrowed_record_leaves_the_guard_to_the_session(tmp_path: Path) -> None:
    project = project_in(tmp_path / "p", UNIT, INTEGRATION)
    with collections_folder() as folder:
        record(folder, "unit", ["tests/unit/test_a.py::t1"])
        (folder / "integration.2.json").write_text("{not json")
        verdict = decide(project, folder)
        assert verdict.report is None
        assert verdict.reason == "suite 'integration' recorded no collection"
        record(folder, "integration", [], complete=False)
        verdict = decide(project, folder)
    assert verdict.report is None
    assert "suite 'integration' did not collect all of its tests" in verdict.reason


def test_a_quarantine_entry_that_names_no_collected_test_is_stale(tmp_path: Path) -> None:
    entry = Quarantine(test="tests/unit/test_a.py::gone", reason="flaky")
    project = project_in(tmp_path / "p", UNIT, INTEGRATION, quarantine=(entry,))
    with collections_folder() as folder:
        record(folder, "unit", ["tests/unit/test_a.py::t1"])
        record(folder, "integration", ["tests/integration/test_b.py::t3"])
        verdict = decide(project, folder)
    assert verdict.report is not None
    assert verdict.report.ok
    assert "tests/unit/test_a.py::gone" in verdict.problem


def test_the_records_folder_is_private_and_removed(tmp_path: Path) -> None:
    del tmp_path
    with collections_folder() as folder:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert folder.stat().st_uid == os.getuid()
        (folder / "x.json").write_text("{}")
    assert not folder.exists()
