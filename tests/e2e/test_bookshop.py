"""The example project's whole pipeline, as the README's first quick-start command runs it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from suitekit.reporting import read_totals
from tests.e2e.helpers import Project
from tests.e2e.isolation import require_local_binaries

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bookshop"
IGNORED = shutil.ignore_patterns(".nox", "reports", ".venv*", "__pycache__", ".*_cache")


def test_bookshop_pipeline_runs_every_suite_and_check_at_once(tmp_path: Path) -> None:
    require_local_binaries()  # no URL is set: the run starts its own servers
    root = tmp_path / "bookshop"
    shutil.copytree(EXAMPLE, root, ignore=IGNORED)
    project = Project(root)

    listed = project.run("nox", "-l")
    assert listed.returncode == 0, listed.stderr
    sessions = ("unit-3.11", "processing-3.11", "integration-3.11", "lint", "typecheck")
    for session in (*sessions, "migrations", "partition"):
        assert f"* {session} " in listed.stdout

    result = project.run("inv", "test.all", "--parallel", timeout=900)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for session in (*sessions, "migrations"):
        assert re.search(rf"^{re.escape(session)}\s+passed\b", out, re.MULTILINE), out
    # One pair of throwaway servers for the whole run, shared by every session.
    assert out.count("suitekit: started a throwaway postgres server") == 1

    totals = {
        name: read_totals(root / "reports" / "junit" / f"{name}-3.11.xml")
        for name in ("unit", "processing", "integration")
    }
    assert totals["unit"].tests >= 45
    assert totals["processing"].tests >= 15
    assert totals["integration"].tests >= 16
    assert sum(t.failures + t.errors for t in totals.values()) == 0
    passed = sum(t.passed for t in totals.values())
    skipped = sum(t.skipped for t in totals.values())
    closing = out.rstrip().splitlines()[-1]
    assert closing == f"suitekit: {passed} passed, 0 failed, {skipped} skipped"
