"""Faults of the reports folder and of the stores: one error naming the file, nothing half-done.

Issue 12, items 7 and 8. ``suitekit report`` writes what it can (the merged report, the
Markdown summary, the summary on the terminal) before it raises the problems it met; a run
checks that it can write its reports before it starts anything. The OS faults are injected at
``os.write`` / ``os.open`` here; tests/e2e/test_report_faults.py uses a real read-only mount
and a real full file system.
"""

from __future__ import annotations

import errno
import io
import os
import re
import sys
from pathlib import Path

import pytest

from suitekit._files import ensure_writable, write_text_atomic
from suitekit._model import Project, Suite
from suitekit._runner import run_jobs
from suitekit.errors import ReportError
from suitekit.plan import Job
from suitekit.reporting._report import report
from suitekit.sharding._durations import DURATIONS_FILE

JUNIT = (
    '<testsuite name="unit" tests="2">'
    '<testcase classname="tests.test_a" name="test_one" time="0.25"/>'
    '<testcase classname="tests.test_a" name="test_two" time="0.5">'
    '<failure message="assert 1 == 2"/></testcase>'
    "</testsuite>"
)
STORE_FIX = (
    "  fix: delete it (the next run measures every test afresh) or restore it from version "
    "control or the CI cache."
)


def project(root: Path) -> Project:
    return Project(
        root=root,
        config_file=root / "pyproject.toml",
        python=("3.11",),
        suites=(Suite(name="unit", python=("3.11",)),),
    )


def with_junit(root: Path) -> Project:
    path = root / "reports" / "junit" / "unit-3.11.xml"
    path.parent.mkdir(parents=True)
    path.write_text(JUNIT, encoding="utf-8")
    return project(root)


@pytest.mark.parametrize(
    ("store", "problem"),
    [
        ('{"version": 1, "suites": ', "Expecting value: line 1 column 26 (char 25)"),
        ("[" * 100_000, "it is nested too deeply to be a file suitekit wrote"),
        ('{"version": 1, "suites": {"unit": {"t": {"seconds": ' + "7" * 5000 + "}}}}", "it holds"),
    ],
    ids=["truncated", "deep", "huge-integer"],
)
def test_a_broken_durations_store_is_reported_after_the_report_is_written(
    tmp_path: Path, store: str, problem: str
) -> None:
    proj = with_junit(tmp_path)
    path = tmp_path / DURATIONS_FILE
    path.parent.mkdir()
    path.write_text(store, encoding="utf-8")
    out = io.StringIO()

    with pytest.raises(ReportError) as caught:
        report(proj, environ={}, out=out)

    message = str(caught.value)
    assert message.startswith(f"{path}: not a suitekit durations file ({problem}")
    assert message.endswith(STORE_FIX)
    assert (tmp_path / "reports" / "junit.xml").read_text(encoding="utf-8").count("<testcase") == 2
    assert "test_two" in (tmp_path / "reports" / "summary.md").read_text(encoding="utf-8")
    assert "suitekit: 1 passed, 1 failed, 0 skipped" in out.getvalue()
    assert path.read_text(encoding="utf-8") == store  # reported, never touched


def test_a_report_that_cannot_be_written_still_writes_the_summary_and_says_so(
    tmp_path: Path,
) -> None:
    proj = with_junit(tmp_path)
    (tmp_path / "reports" / "junit.xml").mkdir()  # a folder where the report goes: EISDIR
    out = io.StringIO()

    with pytest.raises(ReportError) as caught:
        report(proj, environ={}, out=out)

    assert str(caught.value) == (
        f"{tmp_path}/reports/junit.xml: cannot write the merged JUnit report (Is a directory); "
        "it is unchanged\n"
        "  fix: a file or folder of the other kind is in the way: move it, or remove it"
    )
    assert "test_two" in (tmp_path / "reports" / "summary.md").read_text(encoding="utf-8")
    assert "FAILED tests.test_a::test_two" in out.getvalue()
    assert (tmp_path / DURATIONS_FILE).exists()  # the durations were recorded all the same


def test_every_problem_is_listed_when_several_outputs_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = with_junit(tmp_path)
    real_fsync = os.fsync

    def full(descriptor: int) -> None:
        # Where a full disk shows with delayed allocation: when the data is flushed.
        if Path(f"/proc/self/fd/{descriptor}").resolve().name.startswith(".summary.md"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", full)
    store = tmp_path / DURATIONS_FILE
    store.parent.mkdir()
    store.write_text("{", encoding="utf-8")

    with pytest.raises(ReportError) as caught:
        report(proj, environ={}, out=io.StringIO())

    lines = str(caught.value).splitlines()
    assert lines[0].startswith(f"{store}: not a suitekit durations file")
    assert lines[2] == (
        f"{tmp_path}/reports/summary.md: cannot write (No space left on device); "
        "the previous file is unchanged"
    )
    assert lines[3] == (
        "  fix: free space on its file system (or raise your quota), or set `reports` in "
        "[tool.suitekit] to a folder on another one"
    )
    assert (tmp_path / "reports" / "junit.xml").exists()
    assert not list((tmp_path / "reports").glob(".summary.md.*"))  # no temporary file left


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        (errno.EROFS, "its file system is mounted read-only: remount it read-write"),
        (errno.ENOSPC, "free space on its file system (or raise your quota)"),
        (errno.EDQUOT, "free space on its file system (or raise your quota)"),
        (errno.EACCES, "give your user write access to it (chmod/chown)"),
    ],
)
def test_ensure_writable_names_the_folder_the_reason_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, fix: str
) -> None:
    folder = tmp_path / "reports" / "junit"

    def failing(descriptor: int, data: bytes) -> int:
        del descriptor, data
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "write", failing)
    with pytest.raises(ReportError) as caught:
        ensure_writable((folder,))

    assert str(caught.value).startswith(
        f"{folder}: cannot write ({os.strerror(code)})\n  fix: {fix}"
    )
    monkeypatch.undo()
    assert list(folder.iterdir()) == []  # the probe is gone


def test_write_text_atomic_leaves_nothing_half_written_on_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "summary.md"
    path.write_text("old", encoding="utf-8")

    def full(descriptor: int) -> None:
        del descriptor
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ReportError, match=r"summary\.md: cannot write \(No space left on device\)"):
        write_text_atomic(path, "new" * 10_000)

    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]
    assert path.read_text(encoding="utf-8") == "old"


def test_a_run_whose_reports_cannot_be_written_starts_nothing(tmp_path: Path) -> None:
    (tmp_path / "reports").write_text("a file where the folder goes", encoding="utf-8")
    marker = tmp_path / "started"
    job = Job(
        session="unit-3.11",
        kind="check",
        title="unit",
        command=(sys.executable, "-c", f"open({str(marker)!r}, 'w')"),
        env={},
        required=True,
        junit=None,
        log=tmp_path / "reports" / "logs" / "unit-3.11.log",
        target_seconds=None,
    )

    with pytest.raises(
        ReportError,
        match=rf"^{re.escape(str(tmp_path))}/reports/logs: cannot write \(Not a directory\)\n"
        "  fix: a file or folder of the other kind is in the way",
    ):
        run_jobs(tmp_path, [job], stream=io.StringIO())

    assert not marker.exists()
