"""A setuptools flat-layout project under suitekit: its tests import it from the root, and it
still installs after a run (the reports folder is not a package to setuptools' discovery)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from suitekit.reporting import read_totals
from tests.e2e.helpers import Project, clean_env

# No packages configured: setuptools discovers them in the flat layout, where any top-level
# folder that is an identifier and not on its exclusion list is one: "reports" is.
PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "flatpkg"
version = "0.1"

[dependency-groups]
test = ["pytest"]

[tool.suitekit]
install = { project = false, groups = ["test"] }

[tool.suitekit.suites.unit]
paths = ["tests"]
workers = 0
"""


def flat_project(root: Path) -> Project:
    project = Project(root)
    project.write("pyproject.toml", PYPROJECT)
    project.write("flatpkg/__init__.py", "def answer() -> int:\n    return 42\n")
    # No conftest.py and no tests/__init__.py: plain `pytest` puts tests/ on sys.path, never
    # the root, so `import flatpkg` (not installed) works only as `python -m pytest` runs it.
    project.write(
        "tests/test_answer.py",
        "import flatpkg\n\ndef test_answer():\n    assert flatpkg.answer() == 42\n",
    )
    project.write("noxfile.py", "import suitekit.nox\n\nsuitekit.nox.register()\n")
    return project


def first_install_hook(root: Path) -> subprocess.CompletedProcess[str]:
    """Run the first build hook ``pip install .`` calls: ``get_requires_for_build_wheel``.

    setuptools discovers the packages there, so this is where a flat layout with a second
    top-level folder stops every install. This interpreter's setuptools, no index needed.
    """
    hook = "from setuptools import build_meta; print(build_meta.get_requires_for_build_wheel())"
    return subprocess.run(
        [sys.executable, "-c", hook],
        cwd=root, env=clean_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_flat_layout_project_runs_from_its_root_and_installs_after_a_run(tmp_path: Path) -> None:
    project = flat_project(tmp_path / "flat")

    run = project.run("nox", "-s", "unit")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "python -m pytest --suitekit-suite=unit" in output
    assert "1 passed" in output
    totals = read_totals(project.root / ".suitekit" / "reports" / "junit" / "unit-3.11.xml")
    assert (totals.tests, totals.passed) == (1, 1)
    assert not (project.root / "reports").exists()

    built = first_install_hook(project.root)
    assert built.returncode == 0, built.stdout + built.stderr
    top_level = project.root / "flatpkg.egg-info" / "top_level.txt"
    assert top_level.read_text().split() == ["flatpkg"]


def test_the_old_reports_folder_breaks_that_install_and_is_still_read(tmp_path: Path) -> None:
    """What the default folder avoids, and what ``suitekit report`` still reads."""
    project = flat_project(tmp_path / "flat")
    legacy = project.write(
        "reports/junit/unit-3.11.xml",
        '<testsuites><testsuite name="unit" tests="1" failures="0" errors="0" skipped="0" '
        'time="0.1"><testcase classname="tests.test_answer" name="test_answer" time="0.1"/>'
        "</testsuite></testsuites>",
    )

    built = first_install_hook(project.root)
    assert built.returncode != 0
    assert "Multiple top-level packages discovered in a flat-layout" in built.stderr

    report = project.run("suitekit", "report")
    assert report.returncode == 0, report.stdout + report.stderr
    assert f"suitekit: reading {legacy.parent.parent}/, the reports folder's former default" in (
        report.stdout
    )
    assert (project.root / "reports" / "junit.xml").is_file()
    assert not (project.root / ".suitekit" / "reports").exists()
