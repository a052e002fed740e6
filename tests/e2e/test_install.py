"""A warm session skips its install; a change to what it installs (or --reinstall) does not."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.helpers import make_project

INSTALL = "pip install"
SKIPPED = "suitekit: install unchanged since this virtualenv's last install; skipped"


def test_a_session_installs_only_when_what_it_installs_changed(tmp_path: Path) -> None:
    project = make_project(tmp_path / "demo")

    def session(env: dict[str, str] | None = None) -> str:
        # Installs are the point, not workers: no xdist worker to start in any of five runs.
        result = project.run("nox", "-s", "unit", env={"SUITEKIT_WORKERS": "0", **(env or {})})
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "3 passed" in output
        return output

    assert INSTALL in session()  # a new virtualenv
    warm = session()
    assert SKIPPED in warm
    assert INSTALL not in warm

    # Editing suitekit's own table is not a dependency change.
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("target-seconds = 30", "target-seconds = 31"),
        encoding="utf-8",
    )
    assert SKIPPED in session()

    # A new dependency in the group the suite installs is.
    pyproject.write_text(
        pyproject.read_text().replace('test = ["pytest"]', 'test = ["pytest", "iniconfig"]'),
        encoding="utf-8",
    )
    changed = session()
    assert INSTALL in changed
    assert "iniconfig" in changed

    # SUITEKIT_REINSTALL=1 (inv --reinstall) forces an install.
    forced = session({"SUITEKIT_REINSTALL": "1"})
    assert INSTALL in forced
    assert SKIPPED not in forced
