"""A project with a uv.lock installs from it: `uv sync --locked`, an out-of-date lock named."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.e2e.helpers import BIN, Project, clean_env, make_project
from tests.e2e.test_bookshop import EXAMPLE, IGNORED

SYNC = "uv sync --locked --inexact --no-default-groups --group=test"
SKIPPED = "suitekit: install unchanged since this virtualenv's last install; skipped"
OUTDATED = (
    "tool.suitekit.install: uv.lock is out of date with pyproject.toml (`uv sync --locked` "
    "refused it); fix: run `uv lock` and commit uv.lock"
)


def uv_lock(project: Project) -> None:
    subprocess.run(
        [str(BIN / "uv"), "lock"],
        cwd=project.root,
        env=clean_env(),
        check=True,
        capture_output=True,
        timeout=300,
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_locked_project_syncs_from_its_lock_and_names_the_fix_when_it_is_stale(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "demo")
    pyproject = project.root / "pyproject.toml"
    # A lower bound for the lock's universal resolution: the sessions run Python 3.11.
    edit(pyproject, 'version = "0.1"\n', 'version = "0.1"\nrequires-python = ">=3.11"\n')
    uv_lock(project)
    venv = project.root / ".nox" / "unit-3-11"

    def session() -> subprocess.CompletedProcess[str]:
        # Installs are the point, not workers: no xdist worker to start.
        return project.run("nox", "-s", "unit", env={"SUITEKIT_WORKERS": "0"})

    first = session()
    output = first.stdout + first.stderr
    assert first.returncode == 0, output
    assert SYNC in output
    # suitekit, which the lock does not pin, is installed after the sync.
    assert output.index("pip install") > output.index(SYNC)
    assert "3 passed" in output
    warm = session()
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert SKIPPED in warm.stdout + warm.stderr
    assert "uv sync" not in warm.stdout + warm.stderr

    # A new dependency without `uv lock`: the session fails, naming the fix, and the
    # virtualenv is not recorded as installed (so it fails again, rather than skipping).
    edit(
        pyproject,
        'requires-python = ">=3.11"\n',
        'requires-python = ">=3.11"\ndependencies = ["iniconfig"]\n',
    )
    for _ in range(2):
        stale = session()
        output = stale.stdout + stale.stderr
        assert stale.returncode != 0, output
        assert OUTDATED in output
        assert "needs to be updated" in output  # uv's own words are shown too
        assert "passed" not in output
        assert not (venv / ".suitekit-install").exists()

    uv_lock(project)
    fixed = session()
    output = fixed.stdout + fixed.stderr
    assert fixed.returncode == 0, output
    assert SYNC in output
    assert "3 passed" in output
    imported = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import iniconfig"], check=False, timeout=60
    )
    assert imported.returncode == 0

    # `lock = false`: back to one `uv pip install` of the project, its group and suitekit.
    edit(
        pyproject,
        'install = { groups = ["test"] }',
        'install = { groups = ["test"], lock = false }',
    )
    unlocked = session()
    output = unlocked.stdout + unlocked.stderr
    assert unlocked.returncode == 0, output
    assert "uv sync" not in output
    assert "pytest" in output.split("pip install", 1)[1].splitlines()[0]  # the group's
    assert "3 passed" in output


def test_the_bookshops_lock_installs_its_lint_group_and_a_stale_lock_names_the_fix(
    tmp_path: Path,
) -> None:
    """bookshop commits its uv.lock: its sessions install from it (lint: the group alone)."""
    assert (EXAMPLE / "uv.lock").is_file()
    root = tmp_path / "bookshop"
    shutil.copytree(EXAMPLE, root, ignore=IGNORED)
    project = Project(root)

    result = project.run("nox", "-s", "lint")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "uv sync --locked --inexact --no-default-groups --only-group=lint" in output
    assert "pip install" not in output  # a check installs no suitekit, and ruff is locked

    # The unit suite's session: the project and its test group from the lock, then suitekit.
    unit = project.run("nox", "--install-only", "-s", "unit")
    output = unit.stdout + unit.stderr
    assert unit.returncode == 0, output
    assert "uv sync --locked --inexact --no-default-groups --group=test" in output

    edit(root / "pyproject.toml", '"redis>=5",', '"redis>=5",\n    "iniconfig",')
    stale = project.run("nox", "-s", "lint")
    output = stale.stdout + stale.stderr
    assert stale.returncode != 0, output
    assert OUTDATED.replace("tool.suitekit.install", "tool.suitekit.checks.lint.install") in output
    stale_unit = project.run("nox", "--install-only", "-s", "unit")
    output = stale_unit.stdout + stale_unit.stderr
    assert stale_unit.returncode != 0, output
    assert OUTDATED in output  # the suite takes the project's install: its key is named
