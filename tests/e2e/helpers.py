"""Real runs of nox, invoke and the suitekit command on small projects written to tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "demo"
version = "0.1"

[dependency-groups]
test = ["pytest"]

[tool.hatch.build.targets.wheel]
packages = ["src/demo"]

[tool.pytest.ini_options]
addopts = ["--strict-markers"]

[tool.suitekit]
install = {{ groups = ["test"] }}
{extra}
"""

SUITES = """\
[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = 2
target-seconds = 30

[tool.suitekit.suites.slow]
marker = "slow"
workers = 0

[tool.suitekit.checks]
hello = "python -c 'print(42)'"
"""

# Variables of the run that is testing us that must not leak into the runs under test.
_LEAKY_PREFIXES = ("SUITEKIT_", "NOX_", "PYTEST_", "COV_", "COVERAGE_")
# DATABASE_URL and REDIS_URL too: a contributor's shell may name servers of their own, which a
# run under test would take for its user's; a test that means a server names it itself.
_LEAKY = (
    "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHASHSEED", "DATABASE_URL", "REDIS_URL",
)  # fmt: skip


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a nested run: ours, less what belongs to the run testing us."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_LEAKY_PREFIXES) and key not in _LEAKY
    }
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    # A demo project lives in a temporary folder, and a kept template is named after its
    # project's folder: kept on a server shared by every run (CI's), it would outlive the
    # folder, and no later run would ever reuse or drop it. The tests of keeping say "1".
    env["SUITEKIT_KEEP_TEMPLATE"] = "0"
    env.update(extra or {})
    return env


@dataclass
class Project:
    """A small suitekit project in a temporary folder, and ways to run tools in it."""

    root: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def run(
        self,
        tool: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``nox``, ``inv`` or ``suitekit`` of the interpreter running the tests."""
        return subprocess.run(
            [str(BIN / tool), *args],
            cwd=self.root,
            env=clean_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def make_project(root: Path, extra: str = SUITES) -> Project:
    project = Project(root)
    project.write("pyproject.toml", PYPROJECT.format(extra=extra))
    project.write("src/demo/__init__.py", "def answer() -> int:\n    return 42\n")
    project.write(
        "tests/unit/test_answer.py",
        """\
        import demo

        def test_answer():
            assert demo.answer() == 42

        def test_other():
            assert True

        def test_third():
            assert 1 + 1 == 2
        """,
    )
    project.write(
        "tests/slow/test_slow.py",
        """\
        import time
        import pytest

        pytestmark = pytest.mark.slow

        def test_slow():
            time.sleep(0.5)
        """,
    )
    project.write(
        "noxfile.py",
        """\
        import nox
        import suitekit.nox

        suitekit.nox.register()


        @nox.session(python=False)
        def mine(session):
            \"\"\"A session of the project's own.\"\"\"
            session.log("my own session ran")
        """,
    )
    project.write("tasks.py", "from suitekit.invoke import ns as ns\n")
    return project


def need(available: bool, reason: str) -> None:
    """Skip a test whose tool (Node.js, Chromium, cargo, a server) is missing, but never in CI.

    CI here has them all: a test that cannot run there fails, naming what is missing.
    """
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run this test")
    pytest.skip(reason)


def npm_installed(fixture: Path, folder: Path, runner: str) -> Path:
    """``fixture`` copied to ``folder`` with its node_modules, installed by `npm ci` once.

    Its install marker is the one suitekit writes after the same install, so the sessions of a
    project whose node_modules is linked to these skip theirs (and never run `npm ci` through
    the link into the shared folder).
    """
    from suitekit.plan import install_fingerprint  # noqa: PLC0415
    from suitekit.runners import runner_for  # noqa: PLC0415

    need(shutil.which("npm") is not None, "Node.js and npm are not installed")
    skip = shutil.ignore_patterns("node_modules", "test-results")
    shutil.copytree(fixture, folder, ignore=skip)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, check=True, capture_output=True
    )
    kind = runner_for(runner)
    locks = {
        name: (folder / name).read_bytes() for name in kind.lock_files if (folder / name).is_file()
    }
    command = kind.install_command(sorted(locks))
    assert command is not None
    (folder / kind.install_marker).write_text(install_fingerprint(command, locks) + "\n")
    return folder
