"""The example project's whole pipeline, as the README's first quick-start command runs it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from suitekit.reporting import read_totals
from tests.e2e.helpers import Project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bookshop"
IGNORED = shutil.ignore_patterns(".nox", "reports", ".venv*", "__pycache__", ".*_cache")


def test_bookshop_pipeline_runs_every_suite_and_check_at_once(tmp_path: Path) -> None:
    root = tmp_path / "bookshop"
    shutil.copytree(EXAMPLE, root, ignore=IGNORED)
    project = Project(root)

    listed = project.run("nox", "-l")
    assert listed.returncode == 0, listed.stderr
    for session in ("unit-3.11", "processing-3.11", "lint", "typecheck", "partition"):
        assert f"* {session} " in listed.stdout

    result = project.run("inv", "test.all", "--parallel", timeout=900)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for session in ("unit-3.11", "processing-3.11", "lint", "typecheck"):
        assert re.search(rf"^{re.escape(session)}\s+passed\b", out, re.MULTILINE), out

    unit = read_totals(root / "reports" / "junit" / "unit-3.11.xml")
    processing = read_totals(root / "reports" / "junit" / "processing-3.11.xml")
    assert unit.tests >= 45
    assert processing.tests >= 15
    assert unit.failures + unit.errors + processing.failures + processing.errors == 0
    passed, skipped = unit.passed + processing.passed, unit.skipped + processing.skipped
    closing = out.rstrip().splitlines()[-1]
    assert closing == f"suitekit: {passed} passed, 0 failed, {skipped} skipped"
