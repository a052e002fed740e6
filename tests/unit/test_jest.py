"""``runner = "jest"``: its config, command lines, jest-junit's settings and the split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final
from xml.etree import ElementTree as ET

import pytest

from suitekit._model import RunnerConfig
from suitekit.plan import external_session
from suitekit.reporting import retitle_junit
from suitekit.runners import Invocation, runner_for
from suitekit.sharding import ShardSpec
from tests.unit.test_runners import JUNIT, measured, project_with

LAUNCHER: Final = ("npx", "--no-install", "jest")
REPORTERS: Final = ("--reporters=default", "--reporters=jest-junit")


def test_a_jest_suite_is_read_with_its_folder_and_paths(tmp_path: Path) -> None:
    project = project_with({"runner": "jest", "cwd": "frontend", "paths": ["src"]}, tmp_path)
    suite = project.suite("web")
    assert suite.runner == RunnerConfig(kind="jest", cwd="frontend")
    assert (suite.paths, suite.coverage) == (("src",), False)


def test_jest_runs_its_paths_with_junit_workers_and_its_own_shard() -> None:
    jest = runner_for("jest")
    config = RunnerConfig(kind="jest", cwd="frontend")
    call = Invocation(
        paths=("src",),
        junit=JUNIT,
        workers=3,
        shard=ShardSpec(index=2, total=4),
        posargs=("--bail",),
    )
    # Jest fails a run that finds no test: its own shard of few files may get none.
    assert jest.command(config, call) == (
        *LAUNCHER, "src", "--ci", "--maxWorkers=3", *REPORTERS, "--shard=2/4",
        "--passWithNoTests", "--bail",
    )  # fmt: skip
    whole = Invocation(paths=("src",), junit=JUNIT, workers=3)
    assert "--passWithNoTests" not in jest.command(config, whole)


def test_jest_runs_exactly_the_files_of_a_split_and_not_its_own_shard() -> None:
    jest = runner_for("jest")
    config = RunnerConfig(kind="jest", run="pnpm exec jest")
    files = ("/w/src/a.test.js", "/w/src/b.test.js")
    call = Invocation(
        paths=("src",), junit=JUNIT, workers=0, shard=ShardSpec(index=1, total=2), files=files
    )
    assert jest.command(config, call) == (
        "pnpm", "exec", "jest", *files, "--runTestsByPath", "--ci", "--maxWorkers=1", *REPORTERS,
    )  # fmt: skip


def test_jest_junit_writes_the_suites_report_with_the_test_file_as_classname() -> None:
    jest = runner_for("jest")
    call = Invocation(paths=(), junit=JUNIT, workers=1)
    assert jest.env(call) == {
        "JEST_JUNIT_OUTPUT_FILE": str(JUNIT),
        "JEST_JUNIT_CLASSNAME": "{filepath}",
        "JEST_JUNIT_REPORT_TEST_SUITE_ERRORS": "true",
    }
    assert jest.files(call) == {}
    assert jest.unit_of("src/a.test.js") == "src/a.test.js"
    assert jest.units_root("[]", Path("/w")) == Path("/w")


def test_jest_installs_as_vitest_does_and_needs_node_in_ci() -> None:
    jest, vitest = runner_for("jest"), runner_for("vitest")
    assert (jest.lock_files, jest.install_marker) == (vitest.lock_files, vitest.install_marker)
    assert jest.install_command(["package-lock.json", "package.json"]) == (
        "npm", "ci", "--no-audit", "--no-fund",
    )  # fmt: skip
    assert jest.install_command([]) is None
    assert (jest.tools, jest.packages, jest.file_seconds) == (("node",), (), 0.05)


def test_jest_lists_its_test_files_on_its_standard_output() -> None:
    jest = runner_for("jest")
    config = RunnerConfig(kind="jest", cwd="frontend")
    assert jest.list_command(config, ("src", "lib"), JUNIT) == (
        *LAUNCHER, "--listTests", "--json", "src", "lib",
    )  # fmt: skip
    assert jest.lists_to_stdout
    assert jest.read_list('["/w/b.test.js", "/w/a.test.js", "/w/a.test.js"]') == (
        "/w/a.test.js",
        "/w/b.test.js",
    )
    for bad in ('{"file": "/w/a.test.js"}', '[{"file": "/w/a.test.js"}]'):
        with pytest.raises(ValueError, match="expected a JSON array of test file paths"):
            jest.read_list(bad)


def test_a_jest_split_is_used_where_a_filter_would_select_another_shards_file(
    tmp_path: Path,
) -> None:
    # As a pattern, src/a.test.js would also select src/a.test.jsx (Jest searches a
    # case-insensitive regular expression in the path); --runTestsByPath runs just the file.
    project = project_with({"runner": "jest", "cwd": "frontend"}, tmp_path)
    run = external_session(
        project, project.suite("web"), python="3.11", posargs=["--shard", "1/2"], environ={}
    )
    root = tmp_path / "frontend"
    names = ("src/a.test.js", "src/a.test.jsx", "src/A.test.js")
    listed = json.dumps([str(root / name) for name in names])
    stored = {
        "src/a.test.js::slow": measured(5.0),
        "src/a.test.jsx::one": measured(1.0),
        "src/A.test.js::one": measured(1.0),
    }
    split = run.split(listed, stored)
    assert split.why == "split by recorded durations"
    assert split.files == (str(root / "src/a.test.js"),)
    argv = run.command(split.files)
    assert argv[3:5] == (str(root / "src/a.test.js"), "--runTestsByPath")
    assert not any(arg.startswith("--shard") for arg in argv)
    assert run.env["JEST_JUNIT_OUTPUT_FILE"] == str(run.junit)


def test_a_reports_case_names_lose_jest_junits_leading_space(tmp_path: Path) -> None:
    report = tmp_path / "web.xml"
    report.write_text(
        '<testsuites><testsuite name="undefined" tests="2">'
        '<testcase classname="src/a.test.js" name=" adds" time="0.1"/>'
        '<testcase classname="src/b.test.js" name="isbn accepts" time="0.1"/>'
        "</testsuite></testsuites>"
    )
    retitle_junit(report, "web")
    text = report.read_text()
    assert '<testsuite name="web" ' in text
    assert 'name="adds"' in text
    assert 'name="isbn accepts"' in text


def test_a_runners_test_suites_become_one_named_after_the_suite(tmp_path: Path) -> None:
    # One <testsuite> per file, as Vitest, Playwright and nextest write them: the summary and
    # the durations store must see the suitekit suite once, with every case and its counts.
    report = tmp_path / "web.xml"
    report.write_text(
        '<testsuites name="vitest tests">'
        '<testsuite name="src/a.test.js" tests="2" time="0.5"><system-out>a</system-out>'
        '<testcase classname="src/a.test.js" name="ok" time="0.2"/>'
        '<testcase classname="src/a.test.js" name="bad" time="0.3"><failure message="no"/>'
        "</testcase></testsuite>"
        '<testsuite name="src/b.test.js" tests="2" time="0.25">'
        '<testcase classname="src/b.test.js" name="later" time="0.05"><skipped/></testcase>'
        '<testcase classname="src/b.test.js" name="broke" time="0.2"><error message="x"/>'
        "</testcase></testsuite></testsuites>"
    )
    retitle_junit(report, "web")
    root = ET.parse(report).getroot()  # noqa: S314 - the test's own file
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["web"]
    merged = suites[0]
    counts = {key: merged.get(key) for key in ("tests", "failures", "errors", "skipped", "time")}
    assert counts == {"tests": "4", "failures": "1", "errors": "1", "skipped": "1", "time": "0.750"}
    names = [(case.get("classname"), case.get("name")) for case in merged.iter("testcase")]
    assert names == [
        ("src/a.test.js", "ok"), ("src/a.test.js", "bad"),
        ("src/b.test.js", "later"), ("src/b.test.js", "broke"),
    ]  # fmt: skip
    assert merged.findtext("system-out") == "a"
