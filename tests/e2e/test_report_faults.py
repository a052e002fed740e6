"""Real runs against a read-only or full ``reports`` folder, a FIFO and a corrupt store.

Issue 12, items 7 and 8. The read-only folder is a read-only bind mount and the full one a
tiny tmpfs, filled: the file system itself refuses, as it would on a user's machine (we run as
root, so file modes would not). Every command has a timeout, so a FIFO that blocks fails the
test instead of hanging it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import Project

READ_ONLY_FIX = (
    "  fix: its file system is mounted read-only: remount it read-write, or set `reports` in "
    "[tool.suitekit] to a folder on a writable one"
)
FULL_FIX = (
    "  fix: free space on its file system (or raise your quota), or set `reports` in "
    "[tool.suitekit] to a folder on another one"
)


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = f"cannot mount here ({done.stderr.strip()}); needs root and mount rights"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the full and read-only reports tests: {reason}")
        pytest.skip(reason)


@pytest.fixture
def reports(project: Project) -> Iterator[Path]:
    folder = project.root / ".suitekit" / "reports"
    folder.mkdir(parents=True)
    yield folder
    while subprocess.run(["umount", str(folder)], capture_output=True, check=False).returncode == 0:
        pass  # a test may stack mounts; the fixture's next use needs the plain folder


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr


def test_suitekit_run_against_a_read_only_reports_folder_exits_2_naming_it(
    project: Project, reports: Path
) -> None:
    _mount("--bind", "-o", "ro", str(reports), str(reports))

    done = project.run("suitekit", "run", "unit", timeout=120)

    no_traceback(done)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        f"suitekit: {reports}/junit: cannot write (Read-only file system)\n{READ_ONLY_FIX}\n"
    )
    assert "running" not in done.stdout  # nothing was started


def test_inv_test_suite_against_a_full_reports_folder_exits_2_naming_it(
    project: Project, reports: Path
) -> None:
    _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(reports))
    filler = os.open(reports / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(filler, b"\0" * 4096):
            pass
    except OSError:
        pass  # full now
    finally:
        os.close(filler)

    done = project.run("inv", "test.unit", timeout=120)

    no_traceback(done)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"suitekit: {reports}/junit: cannot write (No space left on device)\n{FULL_FIX}" in (
        done.stderr
    )


def test_report_skips_a_fifo_writes_everything_then_reports_a_corrupt_store(
    project: Project, reports: Path
) -> None:
    junit = reports / "junit"
    junit.mkdir()
    (junit / "unit-3.11.xml").write_text(
        '<testsuite name="unit" tests="1">'
        '<testcase classname="tests.unit.test_answer" name="test_answer" time="0.1"/>'
        "</testsuite>",
        encoding="utf-8",
    )
    os.mkfifo(junit / "slow-3.11.xml")
    store = project.root / ".suitekit" / "durations.json"  # beside the reports folder
    store.write_text("[" * 100_000, encoding="utf-8")

    done = project.run("suitekit", "report", timeout=60)

    no_traceback(done)
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        f"{junit}/slow-3.11.xml: cannot be read (it is a named pipe (FIFO), not a regular file; "
        "fix: replace it with a regular file (or remove it)" in done.stdout
    )
    assert done.stderr.startswith(
        f"suitekit: {store}: not a suitekit durations file (it is nested too deeply to be a file "
        "suitekit wrote)\n  fix: delete it"
    )
    assert "test_answer" in (reports / "junit.xml").read_text(encoding="utf-8")
    assert "slow-3.11" in (reports / "summary.md").read_text(encoding="utf-8")
    assert store.read_text(encoding="utf-8") == "[" * 100_000
