"""A Jest suite through real nox: Jest 30 and jest-junit from the npm registry, its JUnit report,
its recorded durations, its shards (Jest's own, then split by durations) and a failing test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from suitekit.reporting import read_totals
from tests.e2e.helpers import Project, make_project, npm_installed
from tests.e2e.test_runners import _cases, _need_node

FIXTURE = Path(__file__).parents[1] / "fixtures" / "jest"
JUNIT = Path(".suitekit/reports/junit")
CASES = [
    "src/fast1.test.js::adds 1",
    "src/fast2.test.js::adds 2",
    "src/isbn.test.js::isbn accepts a valid isbn",
    "src/isbn.test.js::isbn rejects a wrong check digit",
    "src/slow.test.js::waits",
]

JEST_SUITE = """\
[tool.suitekit.suites.web]
runner = "jest"
cwd = "web"
paths = ["src"]
workers = 2
shards = 2
"""


@pytest.fixture(scope="session")
def installed_jest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture with its node_modules, installed once by `npm ci` (the registry)."""
    return npm_installed(FIXTURE, tmp_path_factory.mktemp("jest") / "web", "jest")


def _project(root: Path, installed: Path | None) -> Project:
    project = make_project(root, JEST_SUITE)
    web = root / "web"
    shutil.copytree(FIXTURE, web, ignore=shutil.ignore_patterns("node_modules"))
    if installed is not None:
        # The packages `npm ci` would install, with suitekit's fingerprint of the lock file:
        # its install is skipped.
        (web / "node_modules").symlink_to(installed / "node_modules")
    return project


def test_a_jest_suite_installs_runs_and_records_its_files_durations(tmp_path: Path) -> None:
    _need_node()
    project = _project(tmp_path / "demo", installed=None)

    result = project.run("nox", "-s", "web", env={"SLOW_MS": "400"}, timeout=600)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "npm ci --no-audit --no-fund" in output
    assert "jest src --ci --maxWorkers=2 --reporters=default --reporters=jest-junit" in output
    report = project.root / JUNIT / "web-3.11.xml"
    assert _cases(report) == CASES  # classname: the file relative to cwd, names trimmed
    totals = read_totals(report)
    assert (totals.tests, totals.failures) == (5, 0)
    store = json.loads((project.root / ".suitekit" / "durations.json").read_text())
    recorded = store["suites"]["web"]
    assert sorted(recorded) == CASES
    assert recorded["src/slow.test.js::waits"]["seconds"] >= 0.4
    assert recorded["src/fast1.test.js::adds 1"]["seconds"] < 0.4


def test_jest_shards_split_by_jest_then_by_recorded_durations(
    tmp_path: Path, installed_jest: Path
) -> None:
    project = _project(tmp_path / "demo", installed_jest)

    def shards(slow_ms: str) -> tuple[list[list[str]], list[str]]:
        runs = [
            project.run("nox", "-s", "web", "--", "--shard", f"{k}/2", env={"SLOW_MS": slow_ms})
            for k in (1, 2)
        ]
        for run in runs:
            assert run.returncode == 0, run.stdout + run.stderr
        parts = [_cases(project.root / JUNIT / f"web-3.11.shard-{k}-of-2.xml") for k in (1, 2)]
        return parts, [run.stdout + run.stderr for run in runs]

    # No durations yet: Jest's own --shard splits, and the two shards are the whole suite.
    parts, outputs = shards("300")
    assert all("--shard=" in output for output in outputs)
    assert not set(parts[0]) & set(parts[1])
    assert sorted(parts[0] + parts[1]) == CASES

    # A whole run records every file's time; then the slow file gets a shard to itself.
    recorded = project.run("nox", "-s", "web", env={"SLOW_MS": "1500"})
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    parts, outputs = shards("10")
    for output in outputs:
        assert "split by recorded durations" in output
        assert "--runTestsByPath" in output
        assert "--shard=" not in output
    assert not set(parts[0]) & set(parts[1])
    assert sorted(parts[0] + parts[1]) == CASES
    assert ["src/slow.test.js::waits"] in parts


def test_a_failing_jest_test_fails_the_session_by_name(
    tmp_path: Path, installed_jest: Path
) -> None:
    project = _project(tmp_path / "demo", installed_jest)
    project.write(
        "web/src/broken.test.js",
        'test("finds the broken price", () => expect(1 + 1).toBe(3));\n',
    )

    result = project.run("nox", "-s", "web", env={"SLOW_MS": "10"})

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "finds the broken price" in output
    totals = read_totals(project.root / JUNIT / "web-3.11.xml")
    assert (totals.tests, totals.failures) == (6, 1)
