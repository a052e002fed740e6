"""A CI job's command, copied from the generated workflow, selects the same tests locally."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from suitekit.sharding import DURATIONS_FILE, DurationStore
from tests.e2e.helpers import clean_env, make_project

SHARDED = """\
[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = 2
shards = 2

[tool.suitekit.suites.slow]
marker = "slow"
workers = 0
"""


def _command(workflow: Path, job: str, python: str, shard: int) -> str:
    """The job's nox step, as its shell runs it with the matrix values a runner would set.

    The matrix reaches the script through the step's ``env``; the shell expands it, and a
    stand-in ``nox`` prints the command line it was given.
    """
    document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    steps = document["jobs"][job]["steps"]
    step = next(step for step in steps if str(step.get("run", "")).startswith("nox -s"))
    values = {"python": python, "shard": str(shard)}
    env = {
        name: re.sub(r"\$\{\{ matrix\.(\w+) \}\}", lambda m: values[m[1]], value)
        for name, value in step.get("env", {}).items()
    }
    shown = subprocess.run(
        ["bash", "-c", 'nox() { echo "nox $*"; }\n' + step["run"]],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return shown.stdout.strip()


def _selected(root: Path, shard: int) -> list[str]:
    junit = root / ".suitekit" / "reports" / "junit" / f"unit-3.11.shard-{shard}-of-2.xml"
    cases = ET.parse(junit).iter("testcase")  # noqa: S314 - our own run's report
    return sorted(f"{case.get('classname')}::{case.get('name')}" for case in cases)


def test_a_ci_job_command_selects_the_same_tests_locally(tmp_path: Path, demo_root: Path) -> None:
    local = make_project(demo_root, SHARDED)  # the developer's checkout, its sessions warm
    for n in range(6):
        local.write(
            f"tests/unit/test_more_{n}.py",
            f"def test_a():\n    pass\n\ndef test_b():\n    assert {n} >= 0\n",
        )
    store = DurationStore().record(
        {"unit": {f"tests.unit.test_more_{n}::test_a": 0.1 * (n + 1) for n in range(6)}},
        workers=1,
        cpus=2,
        measured_at=time.time(),
    )
    store.save(local.root / DURATIONS_FILE)
    generated = local.run("suitekit", "ci", "github")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    workflow = local.root / ".github" / "workflows" / "suitekit.yml"
    # The runner's checkout: another folder, another environment, the same files and store.
    runner = tmp_path / "runner"
    shutil.copytree(local.root, runner, ignore=shutil.ignore_patterns(".nox", "reports"))

    seen: list[str] = []
    for shard in (1, 2):
        command = _command(workflow, "unit", "3.11", shard)
        assert command == f"nox -s unit-3.11 -- --shard {shard}/2"
        ci = subprocess.run(
            ["bash", "-c", command],
            cwd=runner,
            env=clean_env({"CI": "true", "GITHUB_ACTIONS": "true"}),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert ci.returncode == 0, ci.stdout + ci.stderr
        mine = subprocess.run(
            ["bash", "-c", command],
            cwd=local.root,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert mine.returncode == 0, mine.stdout + mine.stderr
        assert _selected(local.root, shard) == _selected(runner, shard)
        assert _selected(local.root, shard)
        seen += _selected(local.root, shard)

    assert len(seen) == len(set(seen)) == 3 + 6 * 2  # every unit test, each in one shard
