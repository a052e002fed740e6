"""examples/guestbook through real nox: its integration suite on MariaDB, and its check."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from suitekit.services import _mysql
from suitekit.services._endpoints import MySQLServer
from suitekit.services._mysql_backend import MYSQL
from suitekit.services._mysql_server import find_mariadbd
from tests.e2e.helpers import Project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "guestbook"
IGNORED = shutil.ignore_patterns(".nox", ".suitekit", ".venv*", "__pycache__", ".*_cache")
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
GIVEN = os.environ.get("SUITEKIT_TEST_MYSQL_URL", "")


def _copy(tmp_path: Path) -> Project:
    root = tmp_path / "guestbook"
    shutil.copytree(EXAMPLE, root, ignore=IGNORED)
    return Project(root)


def _require_binaries() -> None:
    if find_mariadbd(os.environ) is None:
        reason = f"no MariaDB binaries for a throwaway server: {MYSQL.install_hint}"
        if CI:
            pytest.fail(reason)
        pytest.skip(reason)


def test_the_guestbook_passes_on_a_throwaway_mariadb_and_its_check_too(tmp_path: Path) -> None:
    _require_binaries()
    project = _copy(tmp_path)

    result = project.run("nox", "-s", "integration-3.11", "migrations", timeout=600)

    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert re.search(r"\b8 passed\b", out), out
    assert "suitekit: started a throwaway mysql server at mysql://root:***@127.0.0.1:" in out
    assert out.count("suitekit: stopped the throwaway mysql server") == 2


def test_the_guestbook_passes_on_a_named_mariadb_and_leaves_nothing(tmp_path: Path) -> None:
    if not GIVEN:
        reason = "SUITEKIT_TEST_MYSQL_URL names no MariaDB for this test"
        if CI:
            pytest.fail(reason)
        pytest.skip(reason)
    project = _copy(tmp_path)
    run_id = f"guestbook{os.getpid()}"

    result = project.run(
        "nox", "-s", "integration-3.11",
        env={"MYSQL_URL": GIVEN, "SUITEKIT_RUN_ID": run_id}, timeout=600,
    )  # fmt: skip

    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert re.search(r"\b8 passed\b", out), out
    assert "throwaway" not in out
    marked = _mysql.marked_databases(MySQLServer.from_url(GIVEN))
    assert [d.name for d in marked if d.info.get("run", "").startswith(run_id)] == []
