"""The example project's whole pipeline, as the README's first quick-start command runs it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from suitekit.reporting import read_totals
from tests.e2e.helpers import Project, clean_env
from tests.e2e.html_report import outer_reports, render_report
from tests.e2e.isolation import require_local_binaries

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bookshop"
IGNORED = shutil.ignore_patterns(
    ".nox", "reports", ".venv*", "__pycache__", ".*_cache", "node_modules", "target", "test-results"
)
PYTEST_SUITES = ("unit", "processing", "integration")
OTHER_SUITES = ("frontend", "browser", "rust")  # Vitest, Playwright, cargo-nextest
# What the suites of other runners need besides Python: Vitest and Playwright (Node.js and npm,
# with Debian's Chromium for Playwright) and cargo-nextest (cargo; nextest itself comes from PyPI).
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _need_other_runners() -> None:
    missing = [
        tool
        for tool, found in (
            ("node", shutil.which("node")),
            ("npm", shutil.which("npm")),
            ("cargo", shutil.which("cargo")),
            (CHROMIUM, Path(CHROMIUM).is_file()),
        )
        if not found
    ]
    if missing:
        reason = f"the bookshop's frontend, browser and rust suites need {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run them (install Node.js, Chromium and Rust)")
        pytest.skip(f"{reason}, which this machine does not have")


def test_bookshop_pipeline_runs_every_suite_and_check_at_once(
    tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    """The pipeline passes, and its combined coverage is the figure of one plain run.

    One copy of the example serves three checks: the pipeline (a virtualenv per session, built
    from none, throwaway servers), then a flaky search of the integration suite and the plain
    run, both in the integration session's virtualenv.
    """
    require_local_binaries()  # no URL is set: the run starts its own servers
    _need_other_runners()
    root = tmp_path / "bookshop"
    shutil.copytree(EXAMPLE, root, ignore=IGNORED)
    project = Project(root)

    listed = project.run("nox", "-l")
    assert listed.returncode == 0, listed.stderr
    suites = (*PYTEST_SUITES, *OTHER_SUITES)
    sessions = (*(f"{suite}-3.11" for suite in suites), "lint", "typecheck")
    for session in (*sessions, "migrations", "partition"):
        assert f"* {session} " in listed.stdout

    # Eight CPUs to share: six suites get one each, then unit and processing a second, so that
    # processing runs on two xdist workers (the HTML report's timeline shows them) on any machine.
    result = project.run("inv", "test.all", "--parallel", "--cpus", "8", timeout=900)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for session in (*sessions, "migrations"):
        assert re.search(rf"^{re.escape(session)}\s+passed\b", out, re.MULTILINE), out
    # One pair of throwaway servers for the whole run, shared by every session.
    assert out.count("suitekit: started a throwaway postgres server") == 1

    _every_runners_tests_are_counted_once(root / ".suitekit" / "reports", out)
    _the_html_report_shows_every_session(root / ".suitekit" / "reports", pytestconfig)

    # The combined figure of the suites run at once is the figure of one plain run.
    combined = json.loads((root / ".suitekit" / "reports" / "coverage.json").read_text())["totals"]
    assert "suitekit: combined coverage" in out

    # The suite whose tests share state (rows, keys, files) through the services suitekit
    # isolates per worker: five random orders, serial and parallel, must agree. (The unit and
    # processing suites' pure functions and tmp_path files prove nothing more of suitekit.)
    flaky = project.run("inv", "test.flaky", "integration", "--runs", "5", timeout=600)
    found = flaky.stdout
    assert flaky.returncode == 0, found + flaky.stderr
    assert found.rstrip().endswith(
        "suitekit flaky: suite 'integration' gave the same outcomes in all runs"
    )
    for number in range(1, 6):
        line = rf"^  run {number}: -n \d, seed \d+: \d+ passed"
        assert re.search(line, found, re.MULTILINE), found

    # One sequential run of every test, under plain `coverage run -m pytest`, in the same
    # virtualenv; a suite over all test roots gives it the databases the integration tests need.
    config = root / "pyproject.toml"
    config.write_text(
        config.read_text()
        + '\n[tool.suitekit.suites.everything]\npaths = ["tests"]\nworkers = 0\n'
        + 'services = ["postgres", "redis"]\n'
    )
    python = root / ".nox" / "integration-3-11" / "bin" / "python"
    env = {"COVERAGE_FILE": str(tmp_path / "sequential.coverage")}
    run = [str(python), "-m", "coverage"]
    sequential = subprocess.run(
        [*run, "run", "--branch", "--source=src/bookshop", "-m", "pytest",
         "--suitekit-suite=everything", "-n", "0", "-q", "-p", "no:cacheprovider"],
        cwd=root, env=clean_env(env), capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    assert sequential.returncode == 0, sequential.stdout + sequential.stderr
    figures = tmp_path / "sequential.json"
    subprocess.run(
        [*run, "json", "-o", str(figures)], cwd=root, env=clean_env(env), check=True, timeout=300
    )
    alone = json.loads(figures.read_text())["totals"]
    assert alone["num_statements"] == combined["num_statements"]
    assert abs(alone["percent_covered"] - combined["percent_covered"]) <= 0.1


def _every_runners_tests_are_counted_once(reports: Path, out: str) -> None:
    """Each suite's JUnit file, the summary's closing line and the merged report agree."""
    suites = (*PYTEST_SUITES, *OTHER_SUITES)
    totals = {name: read_totals(reports / "junit" / f"{name}-3.11.xml") for name in suites}
    assert totals["unit"].tests >= 45
    assert totals["processing"].tests >= 15
    assert totals["integration"].tests >= 16
    assert totals["frontend"].tests >= 30  # web/src/*.test.js
    assert totals["browser"].tests >= 4  # web/e2e/*.spec.js, in Chromium, two backends
    assert totals["rust"].tests >= 8  # isbn/: the crate's own tests and tests/
    assert sum(t.failures + t.errors for t in totals.values()) == 0
    passed = sum(t.passed for t in totals.values())
    skipped = sum(t.skipped for t in totals.values())
    closing = out.rstrip().splitlines()[-1]
    verdict = rf"suitekit: {passed} passed, 0 failed, {skipped} skipped in [\d.]+s"
    assert re.fullmatch(verdict, closing), closing
    # One merged report holds every runner's tests, each under its suite's name.
    merged = read_totals(reports / "junit.xml")
    assert merged.tests == sum(t.tests for t in totals.values())
    for suite in OTHER_SUITES:
        assert re.search(rf"^{suite}-3\.11\s+\d+\s+\d+\s+0\s+0\s+0\b", out, re.MULTILINE), out


def _the_html_report_shows_every_session(reports: Path, config: pytest.Config) -> None:
    """The run's HTML report in Chromium: a lane per session, xdist workers in pytest's.

    The screenshot is kept in the reports folder of the run running this test (a CI artifact).
    """
    shot = outer_reports(config) / "screenshots" / "bookshop-report.png"
    rendered = render_report(reports / "index.html", shot)
    assert rendered.requests == ()
    suites = (*PYTEST_SUITES, *OTHER_SUITES)
    assert {f"{suite}-3.11" for suite in suites} <= set(rendered.sessions), rendered.sessions
    for suite in PYTEST_SUITES:  # a bar per test, on the worker that ran it
        session = f"{suite}-3.11"
        assert rendered.bars[session] == read_totals(reports / "junit" / f"{session}.xml").tests
    # The run's eight CPUs gave processing two xdist workers (loadfile: a file each at least).
    assert rendered.sessions["processing-3.11"] == ("gw0", "gw1"), rendered.sessions
    for suite in OTHER_SUITES:  # their runners give no per-test times: a bar per session
        assert f"{suite}-3.11" in rendered.session_bars
