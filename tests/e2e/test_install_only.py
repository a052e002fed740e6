"""``nox --install-only`` installs a suite's virtualenv and starts none of its services."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.helpers import make_project

SUITES = """\
[tool.suitekit.suites.unit]
paths = ["tests"]
workers = 0
services = ["redis"]
"""


def test_install_only_starts_no_server_and_records_none(tmp_path: Path) -> None:
    project = make_project(tmp_path / "demo", SUITES)
    runtime = tmp_path / "runtime"  # the state folder: where a throwaway server is recorded
    runtime.mkdir(mode=0o700)
    env = {"XDG_RUNTIME_DIR": str(runtime)}

    result = project.run("nox", "--install-only", "-s", "unit", env=env)
    output = result.stdout + result.stderr

    assert result.returncode == 0, output
    assert "pip install" in output  # the virtualenv was made and installed all the same
    assert "started a throwaway" not in output
    assert list(runtime.rglob("*.json")) == []
    assert list((project.root / ".nox").iterdir())
