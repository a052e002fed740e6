"""Suites of other runners through real nox: Vitest (installed from the npm registry) and a
command that writes JUnit, beside a pytest suite, in one report."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from suitekit.reporting import read_totals
from tests.e2e.helpers import PYPROJECT, Project, make_project, need, npm_installed

FIXTURE = Path(__file__).parents[1] / "fixtures" / "frontend"
CRATE = Path(__file__).parents[1] / "fixtures" / "crate"
JUNIT = Path(".suitekit/reports/junit")

RUNNER_SUITES = """\
[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = 0

[tool.suitekit.suites.frontend]
runner = "vitest"
cwd = "frontend"
paths = ["src"]
workers = 2
shards = 2

[tool.suitekit.suites.tool]
runner = "command"
run = "python write_junit.py {junit} {shard}"
"""

WRITE_JUNIT = """\
import sys
from pathlib import Path

junit, shard = Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else ""
junit.parent.mkdir(parents=True, exist_ok=True)
junit.write_text(
    '<testsuites><testsuite name="tool" tests="2" failures="0">'
    f'<testcase classname="tool" name="first {shard}" time="0.1"/>'
    f'<testcase classname="tool" name="second {shard}" time="0.2"/>'
    "</testsuite></testsuites>"
)
"""


def _need_node() -> None:
    need(shutil.which("npm") is not None, "Node.js and npm are not installed")


@pytest.fixture(scope="session")
def installed_frontend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture's frontend with its node_modules, installed once by `npm ci` (the registry)."""
    return npm_installed(FIXTURE, tmp_path_factory.mktemp("frontend") / "frontend", "vitest")


def _project(root: Path, installed: Path | None) -> Project:
    project = make_project(root, RUNNER_SUITES)
    project.write("write_junit.py", WRITE_JUNIT)
    frontend = root / "frontend"
    shutil.copytree(FIXTURE, frontend, ignore=shutil.ignore_patterns("node_modules"))
    if installed is not None:
        # The same packages as `npm ci` would install; suitekit's fingerprint of the lock file
        # (kept in node_modules) says so, and its install is skipped.
        (frontend / "node_modules").symlink_to(installed / "node_modules")
    return project


def _cases(path: Path) -> list[str]:
    """``classname::name`` of every test case of a JUnit file."""
    root = ET.parse(path).getroot()  # noqa: S314 - the test's own report
    return sorted(f"{case.get('classname')}::{case.get('name')}" for case in root.iter("testcase"))


def test_a_vitest_suite_runs_in_its_folder_installs_once_and_lands_in_the_report(
    tmp_path: Path,
) -> None:
    _need_node()
    project = _project(tmp_path / "demo", installed=None)

    first = project.run("nox", "-s", "frontend", env={"SLOW_MS": "10"}, timeout=600)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output
    assert "npm ci --no-audit --no-fund" in output
    assert "--maxWorkers=2" in output
    totals = read_totals(project.root / JUNIT / "frontend-3.11.xml")
    assert (totals.tests, totals.failures) == (7, 0)
    store = json.loads((project.root / ".suitekit" / "durations.json").read_text())
    recorded = store["suites"]["frontend"]
    assert "src/slow.test.js::waits" in recorded

    again = project.run("nox", "-s", "frontend", env={"SLOW_MS": "10"})
    assert again.returncode == 0, again.stdout + again.stderr
    assert "npm ci" not in again.stdout + again.stderr
    assert "are as at their last install" in again.stdout + again.stderr

    # The whole run: one report has them all; the guard checks Vitest's files too.
    shutil.rmtree(project.root / "tests" / "slow")  # a pytest folder no suite of this one runs
    whole = project.run("inv", "test.all", "--parallel", env={"SLOW_MS": "10"})
    output = whole.stdout + whole.stderr
    assert whole.returncode == 0, output
    assert "from the suites' own collections (unit 3, frontend 5 files)" in output
    rows = {line.split()[0]: line.split()[1:4] for line in output.splitlines() if "-3.11 " in line}
    assert rows["frontend-3.11"] == ["passed", "7", "0"]
    assert rows["tool-3.11"] == ["passed", "2", "0"]
    assert rows["unit-3.11"] == ["passed", "3", "0"]
    merged = read_totals(project.root / ".suitekit" / "reports" / "junit.xml")
    assert (merged.tests, merged.failures) == (3 + 7 + 2, 0)


def test_vitest_shards_split_by_recorded_durations_else_by_vitest(
    tmp_path: Path, installed_frontend: Path
) -> None:
    project = _project(tmp_path / "demo", installed_frontend)

    # No durations yet: Vitest's own --shard splits, and the two shards are the whole suite.
    native = [
        project.run("nox", "-s", "frontend", "--", "--shard", f"{k}/2", env={"SLOW_MS": "300"})
        for k in (1, 2)
    ]
    for run in native:
        assert run.returncode == 0, run.stdout + run.stderr
        assert "--shard=" in run.stdout + run.stderr
    parts = [_cases(project.root / JUNIT / f"frontend-3.11.shard-{k}-of-2.xml") for k in (1, 2)]
    assert not set(parts[0]) & set(parts[1])
    whole = sorted(parts[0] + parts[1])
    assert len(whole) == 7

    # A whole run records every file's time; then the slow file gets a shard to itself.
    recorded = project.run("nox", "-s", "frontend", env={"SLOW_MS": "1500"})
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    balanced = [
        project.run("nox", "-s", "frontend", "--", "--shard", f"{k}/2", env={"SLOW_MS": "10"})
        for k in (1, 2)
    ]
    for run in balanced:
        output = run.stdout + run.stderr
        assert run.returncode == 0, output
        assert "split by recorded durations" in output
        assert "--shard=" not in output
    parts = [_cases(project.root / JUNIT / f"frontend-3.11.shard-{k}-of-2.xml") for k in (1, 2)]
    assert not set(parts[0]) & set(parts[1])
    assert sorted(parts[0] + parts[1]) == whole
    slow_shard = next(part for part in parts if "src/slow.test.js::waits" in part)
    assert slow_shard == ["src/slow.test.js::waits"]


def test_a_failing_vitest_test_fails_the_session_by_name(
    tmp_path: Path, installed_frontend: Path
) -> None:
    project = _project(tmp_path / "demo", installed_frontend)
    project.write(
        "frontend/src/broken.test.js",
        """\
        import { expect, it } from "vitest";

        it("finds the broken price", () => expect(1 + 1).toBe(3));
        """,
    )

    result = project.run("nox", "-s", "frontend", env={"SLOW_MS": "10"})

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "finds the broken price" in output
    totals = read_totals(project.root / JUNIT / "frontend-3.11.xml")
    assert (totals.tests, totals.failures) == (8, 1)


TWO_VITEST_SUITES = """\
[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = 0

[tool.suitekit.suites.quick]
runner = "vitest"
cwd = "frontend"
paths = ["src/fast1.test.js", "src/fast2.test.js", "src/fast3.test.js", "src/slow.test.js"]

[tool.suitekit.suites.careful]
runner = "vitest"
cwd = "frontend"
paths = ["src/slow.test.js"]
"""


def test_the_guard_checks_that_the_suites_of_one_folder_share_its_test_files(
    tmp_path: Path, installed_frontend: Path
) -> None:
    project = _project(tmp_path / "demo", installed_frontend)
    pyproject = project.write("pyproject.toml", PYPROJECT.format(extra=TWO_VITEST_SUITES))
    shutil.rmtree(project.root / "tests" / "slow")

    broken = project.run("inv", "test.all", env={"SLOW_MS": "10"})

    output = broken.stdout + broken.stderr
    assert broken.returncode == 1, output
    assert "1 test file(s) belong to no suite:\n  frontend/src/isbn.test.js" in (output)
    assert "frontend/src/slow.test.js  (quick, careful)" in output
    assert "partition failed: the suites of other runners do not partition" in output
    assert "quick-3.11" in output  # the suites ran, and then the guard failed the run

    text = pyproject.read_text(encoding="utf-8")
    text = text.replace(', "src/slow.test.js"]', "]")
    text = text.replace('["src/slow.test.js"]', '["src/slow.test.js", "src/isbn.test.js"]')
    pyproject.write_text(text, encoding="utf-8")
    fixed = project.run("inv", "test.all", env={"SLOW_MS": "10"})

    output = fixed.stdout + fixed.stderr
    assert fixed.returncode == 0, output
    assert "(unit 3, quick 3 files, careful 2 files)" in output


def test_the_pytest_only_commands_say_they_do_not_run_another_runners_suite(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path / "demo", installed=None)

    shards = project.run("suitekit", "shards", "frontend")
    flaky = project.run("suitekit", "flaky", "tool")  # Vitest's are searched: test_flaky_runners
    plugin = project.run("nox", "-s", "unit", "--", "--suitekit-suite=frontend")

    assert shards.returncode != 0
    assert "suite 'frontend' runs vitest; `suitekit shards` plans pytest's suites" in shards.stderr
    assert flaky.returncode != 0
    assert "suite 'tool' runs command, which has no seeded test order" in flaky.stderr
    assert "suite 'frontend' runs vitest, not pytest; run it with nox -s frontend" in (
        plugin.stdout + plugin.stderr
    )


CRATE_SUITES = """\
[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = 0

[tool.suitekit.suites.rust]
runner = "cargo"
cwd = "crate"
workers = 2
shards = 2
"""


def _need_cargo() -> None:
    need(shutil.which("cargo") is not None, "Rust's cargo is not installed (rustup)")


def test_a_cargo_suite_runs_through_nextest_and_splits_by_test_binary(tmp_path: Path) -> None:
    _need_cargo()
    project = make_project(tmp_path / "demo", CRATE_SUITES)
    shutil.copytree(CRATE, project.root / "crate", ignore=shutil.ignore_patterns("target"))

    whole = project.run("nox", "-s", "rust", env={"SLOW_MS": "1500"}, timeout=900)
    output = whole.stdout + whole.stderr
    assert whole.returncode == 0, output
    assert "--test-threads 2" in output
    cases = _cases(project.root / JUNIT / "rust-3.11.xml")
    assert cases == [
        "isbn::checksum::a_hyphenless_isbn_is_valid_too",
        "isbn::checksum::letters_are_refused",
        "isbn::slow::waits",
        "isbn::tests::accepts_a_valid_isbn",
        "isbn::tests::rejects_a_wrong_check_digit",
    ]
    store = json.loads((project.root / ".suitekit" / "durations.json").read_text())
    assert "isbn::slow::waits" in store["suites"]["rust"]
    assert not list((project.root / JUNIT).glob("*.nextest.toml"))  # its config is removed

    # With the durations recorded, the slow binary gets a shard of its own.
    parts = []
    for k in (1, 2):
        shard = project.run("nox", "-s", "rust", "--", "--shard", f"{k}/2", env={"SLOW_MS": "10"})
        output = shard.stdout + shard.stderr
        assert shard.returncode == 0, output
        assert "split by recorded durations" in output
        parts.append(_cases(project.root / JUNIT / f"rust-3.11.shard-{k}-of-2.xml"))
    assert not set(parts[0]) & set(parts[1])
    assert sorted(parts[0] + parts[1]) == cases
    assert ["isbn::slow::waits"] in parts

    # A failing test fails the session by name.
    with (project.root / "crate" / "tests" / "checksum.rs").open("a") as source:
        source.write("\n#[test]\nfn the_broken_price() {\n    assert_eq!(1 + 1, 3);\n}\n")
    broken = project.run("nox", "-s", "rust", env={"SLOW_MS": "10"}, timeout=900)
    assert broken.returncode != 0
    assert "the_broken_price" in broken.stdout + broken.stderr
    totals = read_totals(project.root / JUNIT / "rust-3.11.xml")
    assert (totals.tests, totals.failures) == (6, 1)


def test_a_vitest_suite_runs_a_failed_test_again_as_its_retries_say(
    tmp_path: Path, installed_frontend: Path
) -> None:
    project = _project(tmp_path / "demo", installed_frontend)
    # Fails on its first attempt (which leaves a marker file behind) and passes on the next.
    project.write(
        "frontend/src/flaky.test.js",
        """\
        import { existsSync, writeFileSync } from "node:fs";
        import { expect, it } from "vitest";

        it("passes on its second attempt", () => {
          const marker = new URL("../.first-attempt", import.meta.url);
          const first = !existsSync(marker);
          if (first) writeFileSync(marker, "");
          expect(first).toBe(false);
        });
        """,
    )
    pyproject = project.root / "pyproject.toml"
    config = pyproject.read_text(encoding="utf-8")
    marker = project.root / "frontend" / ".first-attempt"

    def run_with(retries: int) -> subprocess.CompletedProcess[str]:
        marker.unlink(missing_ok=True)
        pyproject.write_text(
            config.replace("shards = 2\n", f"shards = 2\nretries = {retries}\n", 1),
            encoding="utf-8",
        )
        return project.run("nox", "-s", "frontend", env={"SLOW_MS": "10"})

    retried = run_with(1)
    output = retried.stdout + retried.stderr
    assert retried.returncode == 0, output
    assert "--retry=1" in output
    totals = read_totals(project.root / JUNIT / "frontend-3.11.xml")
    # Vitest's JUnit writes the retried test as passed, without its failed attempt: the report
    # cannot count it as flaky (docs/runners.md says so).
    assert (totals.tests, totals.failures, totals.flaky) == (8, 0, 0)

    once = run_with(0)
    output = once.stdout + once.stderr
    assert once.returncode != 0, output
    assert "--retry" not in output
    assert "passes on its second attempt" in output
