"""Quarantine of suites of other runners through real nox: nextest's, and Vitest's refused.

nextest says "tests failed, and nothing else" by its own exit code (100), so its suites take
quarantined tests. Vitest exits with 1 for a failed test and for an error outside any test
alike (an unhandled error after a test ended), which its JUnit report does not record, so
config refuses a quarantine entry for its suites.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from suitekit.reporting import read_totals
from tests.e2e.helpers import clean_env, make_project, npm_installed
from tests.e2e.test_runners import CRATE, FIXTURE, JUNIT, _need_cargo, _project

RUST_SUITE = """\
[tool.suitekit.suites.rust]
runner = "cargo"
cwd = "crate"
workers = 2
"""

BROKEN = "isbn::checksum::the_broken_price"
ENTRY = f"""
[[tool.suitekit.quarantine]]
test = "{BROKEN}"
suite = "rust"
reason = "issue 12: the price is wrong one run in ten"
"""
OTHER_ENTRY = """
[[tool.suitekit.quarantine]]
test = "isbn::checksum::letters_*"
suite = "rust"
reason = "issue 13"
"""


def _skips(path: Path) -> dict[str, tuple[str, str]]:
    """``classname::name`` -> (type, message) of each skipped case of a JUnit file."""
    root = ET.parse(path).getroot()  # noqa: S314 - the test's own report
    found = {}
    for case in root.iter("testcase"):
        skipped = case.find("skipped")
        if skipped is not None:
            key = f"{case.get('classname')}::{case.get('name')}"
            found[key] = (skipped.get("type", ""), skipped.get("message", ""))
    return found


def _set_quarantine(root: Path, entries: str) -> None:
    config = root / "pyproject.toml"
    text = config.read_text(encoding="utf-8").split("\n[[tool.suitekit.quarantine]]")[0]
    config.write_text(text.rstrip("\n") + "\n" + entries, encoding="utf-8")


def test_a_nextest_suite_passes_when_only_quarantined_tests_fail(tmp_path: Path) -> None:
    _need_cargo()
    project = make_project(tmp_path / "demo", RUST_SUITE + ENTRY)
    shutil.copytree(CRATE, project.root / "crate", ignore=shutil.ignore_patterns("target"))
    checksum = project.root / "crate" / "tests" / "checksum.rs"
    clean = checksum.read_text(encoding="utf-8")
    checksum.write_text(
        clean + "\n#[test]\nfn the_broken_price() {\n    assert_eq!(1 + 1, 3);\n}\n",
        encoding="utf-8",
    )
    report = project.root / JUNIT / "rust-3.11.xml"

    # The quarantined test fails and the session passes; the report says why.
    quarantined = project.run("nox", "-s", "rust", env={"SLOW_MS": "10"}, timeout=900)
    output = quarantined.stdout + quarantined.stderr
    assert quarantined.returncode == 0, output
    assert f"only quarantined tests failed ({BROKEN})" in output
    kind, message = _skips(report)[BROKEN]
    assert kind == "suitekit.quarantined"
    assert message.startswith("quarantined (issue 12: the price is wrong one run in ten): ")
    assert "the_broken_price" in message

    # Stopped at its first failure, the run may have left tests unrun: no quarantine passes it.
    stopped = project.run("nox", "-s", "rust", "--", "--fail-fast", env={"SLOW_MS": "10"})
    output = stopped.stdout + stopped.stderr
    assert stopped.returncode != 0, output
    assert "--fail-fast may have stopped the run early: no quarantine passes it" in output
    project.run("nox", "-s", "rust", env={"SLOW_MS": "10"}, timeout=900)  # the report again

    # `suitekit report` lists it, and its passing streak starts at 0.
    summary = project.run("suitekit", "report")
    assert summary.returncode == 0, summary.stdout + summary.stderr
    assert "quarantined tests (1)" in summary.stdout
    assert BROKEN in summary.stdout
    streaks = json.loads((project.root / ".suitekit" / "quarantine.json").read_text())
    assert streaks["entries"] == {BROKEN: {BROKEN: 0}}

    # A failure no entry names still fails the session, by name.
    checksum.write_text(
        checksum.read_text(encoding="utf-8")
        + "\n#[test]\nfn the_other_price() {\n    assert_eq!(2 + 2, 5);\n}\n",
        encoding="utf-8",
    )
    other = project.run("nox", "-s", "rust", env={"SLOW_MS": "10"}, timeout=900)
    output = other.stdout + other.stderr
    assert other.returncode != 0, output
    assert "1 failed test(s) that no quarantine entry names:" in output
    assert "isbn::checksum::the_other_price" in output
    assert BROKEN in _skips(report)  # the quarantined one is still a skip in the report

    # Without the entry, the broken test fails the session as before.
    _set_quarantine(project.root, "")
    checksum.write_text(
        clean + "\n#[test]\nfn the_broken_price() {\n    assert_eq!(1 + 1, 3);\n}\n",
        encoding="utf-8",
    )
    plain = project.run("nox", "-s", "rust", env={"SLOW_MS": "10"}, timeout=900)
    output = plain.stdout + plain.stderr
    assert plain.returncode != 0, output
    assert "the_broken_price" in output
    assert _skips(report) == {}

    # An entry that names none of a whole run's tests is stale, with the usual error.
    checksum.write_text(clean, encoding="utf-8")
    _set_quarantine(project.root, ENTRY + OTHER_ENTRY)
    stale = project.run("nox", "-s", "rust", env={"SLOW_MS": "10"}, timeout=900)
    output = stale.stdout + stale.stderr
    assert stale.returncode != 0, output
    assert (
        f"tool.suitekit.quarantine[0].test: {BROKEN!r} matches none of the tests in the report "
        "of suite 'rust' (a stale quarantine hides nothing and protects nothing)"
    ) in output
    assert "letters_" not in output.split("stale quarantine")[1]  # that one matched a test


def test_a_quarantine_entry_for_a_vitest_suite_is_refused_with_the_reason(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path / "demo", installed=None)
    _set_quarantine(
        project.root,
        '\n[[tool.suitekit.quarantine]]\ntest = "src/isbn.test.js::isbn > rejects letters"\n'
        'suite = "frontend"\nreason = "flaky"\n',
    )

    listed = project.run("nox", "-l")

    output = listed.stdout + listed.stderr
    assert listed.returncode != 0, output
    assert "tool.suitekit.quarantine[0].suite: suite 'frontend' runs vitest, which cannot " in (
        output
    )
    assert "an unhandled error after a test ended" in output


@pytest.fixture(scope="session")
def installed_frontend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Vitest fixture with its node_modules, installed once by `npm ci`."""
    return npm_installed(FIXTURE, tmp_path_factory.mktemp("vq") / "frontend", "vitest")


def test_vitest_exits_1_for_an_unhandled_error_its_junit_report_does_not_record(
    tmp_path: Path, installed_frontend: Path
) -> None:
    # Why config refuses quarantine for Vitest: were the failed test quarantined, nothing in
    # the report nor the exit code would tell this run from one where only that test failed.
    # Should a later Vitest record the error, this fails, and the refusal can be revisited.
    project = _project(tmp_path / "demo", installed_frontend)
    project.write(
        "frontend/src/late.test.js",
        """\
        import { expect, it } from "vitest";

        it("breaks", () => expect(1 + 1).toBe(3));
        it("leaves a timer", () => {
          setTimeout(() => { throw new Error("late boom"); }, 5);
        });
        it("waits", async () => { await new Promise((done) => setTimeout(done, 50)); });
        """,
    )
    junit = tmp_path / "late.xml"
    ran = subprocess.run(
        ["npx", "--no-install", "vitest", "run", "src/late.test.js", "--reporter=default",
         "--reporter=junit", f"--outputFile.junit={junit}"],
        cwd=project.root / "frontend",
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "Vitest caught 1 unhandled error" in ran.stdout + ran.stderr
    totals = read_totals(junit)
    assert (totals.tests, totals.failures, totals.errors) == (3, 1, 0)
    assert "late boom" not in junit.read_text(encoding="utf-8")
