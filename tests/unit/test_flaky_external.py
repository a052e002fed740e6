"""``suitekit flaky`` on Vitest and Jest suites: their runs, their JUnit reports as run logs, the
runners it refuses, and a search through a fake nox that writes the reports."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Final

import pytest

from suitekit import ConfigError, plan
from suitekit._model import Project, Suite
from suitekit._runner import Outcome as JobOutcome
from suitekit.config import load_project
from suitekit.errors import ReportError
from suitekit.flaky import Finding, FlakyOptions, Run, RunLog, TestRun, compare, find
from suitekit.flaky._external import (
    MAX_SEED,
    WORKER,
    _Search,
    command,
    read_report,
    run_args,
    run_env,
    run_log,
    seeded_runners,
    worker_counts,
)
from suitekit.runners import runner_for

PYPROJECT = """\
[project]
name = "demo"
version = "0.1"

[tool.suitekit]
python = ["3.11", "3.12"]

[tool.suitekit.suites.unit]
paths = ["tests/unit"]

[tool.suitekit.suites.web]
runner = "vitest"
cwd = "web"
paths = ["src"]
workers = 2

[tool.suitekit.suites.jsweb]
runner = "jest"
cwd = "jsweb"

[tool.suitekit.suites.e2e]
runner = "playwright"
cwd = "browser"

[tool.suitekit.suites.rust]
runner = "cargo"
cwd = "crate"

[tool.suitekit.suites.tool]
runner = "command"
run = "python write_junit.py {junit}"
"""

# As Vitest 4.1 writes it (a <testsuite> per file, names with their describe blocks).
VITEST_JUNIT: Final = """\
<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="5" failures="1" errors="0" time="0.4">
  <testsuite name="src/order.test.js" tests="3" failures="1" errors="0" skipped="0">
    <testcase classname="src/order.test.js" name="pollutes the shared state" time="0.001"/>
    <testcase classname="src/order.test.js" name="expects a clean state" time="0.002">
      <failure message="expected true to be false // Object.is equality" type="AssertionError">
AssertionError: expected true to be false // Object.is equality
 at src/order.test.js:11:20
      </failure>
    </testcase>
    <testcase classname="src/order.test.js" name="is skipped" time="0">
      <skipped/>
    </testcase>
  </testsuite>
  <testsuite name="src/isbn.test.js" tests="2" failures="0" errors="1" skipped="0">
    <testcase classname="src/isbn.test.js" name="isbn &gt; accepts a valid ISBN-13" time="0.001"/>
    <testcase classname="src/isbn.test.js" name=" isbn &gt; loads " time="0">
      <error message="Cannot find module './gone.js'&#10;second line"/>
    </testcase>
    <testcase name="no classname" time="0">
      <flakyFailure message="first attempt failed"/>
    </testcase>
  </testsuite>
</testsuites>
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for folder in ("tests/unit", "web/src", "jsweb", "browser", "crate"):
        (tmp_path / folder).mkdir(parents=True)
    return load_project(tmp_path)


# --- the pure parts ---------------------------------------------------------------------


def test_a_runners_junit_report_is_a_run_log_in_report_order() -> None:
    log = run_log(VITEST_JUNIT, seed=7, workers=2)

    assert (log.seed, log.workers) == (7, 2)
    assert [(t.node_id, t.outcome, t.position, t.message) for t in log.tests] == [
        ("src/order.test.js::pollutes the shared state", "passed", 0, ""),
        (
            "src/order.test.js::expects a clean state",
            "failed",
            1,
            "expected true to be false // Object.is equality",
        ),
        ("src/order.test.js::is skipped", "skipped", 2, ""),
        ("src/isbn.test.js::isbn > accepts a valid ISBN-13", "passed", 3, ""),
        ("src/isbn.test.js::isbn > loads", "error", 4, "Cannot find module './gone.js'"),
        ("no classname", "flaky", 5, "first attempt failed"),
    ]
    assert {test.worker for test in log.tests} == {WORKER}
    # One worker and report order: the tests before a failure are the report's, not a replay.
    assert log.before("src/order.test.js::expects a clean state") == (
        "src/order.test.js::pollutes the shared state",
    )


def test_a_failure_without_a_message_attribute_gives_its_texts_first_line() -> None:
    report = (
        '<testsuite><testcase classname="a.test.js" name="t">'
        "<failure>\n\n  Error: boom\n  at a.test.js:1</failure></testcase></testsuite>"
    )

    (test,) = run_log(report, seed=1, workers=1).tests

    assert (test.node_id, test.outcome, test.message) == ("a.test.js::t", "failed", "Error: boom")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("<testsuites><testsuite>", r"^not a readable JUnit XML file \(no element found"),
        ("", r"^not a readable JUnit XML file"),
        ("<html><body/></html>", r"^not JUnit XML: the root element is <html>$"),
    ],
)
def test_what_is_not_junit_is_refused(data: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_log(data, seed=1, workers=1)


def test_reading_a_report_names_the_file_when_it_is_missing_or_broken(tmp_path: Path) -> None:
    missing = tmp_path / "run-1.xml"
    with pytest.raises(ReportError, match=r"run-1.xml: cannot read the JUnit report: there is no"):
        read_report(missing, seed=1, workers=1)

    missing.write_text("<nope/>", encoding="utf-8")
    with pytest.raises(ReportError, match=r"run-1.xml: cannot read the JUnit report: not JUnit"):
        read_report(missing, seed=1, workers=1)

    missing.write_text(VITEST_JUNIT, encoding="utf-8")
    assert len(read_report(missing, seed=3, workers=1).tests) == 6


def test_vitest_and_jest_shuffle_by_their_own_seed_options() -> None:
    off = "--suitekit-retries=0"  # a failure must show as one, not be retried away
    assert run_args(runner_for("vitest"), 1234) == (
        "--sequence.shuffle",
        "--sequence.seed=1234",
        off,
    )
    assert run_args(runner_for("jest"), 0) == ("--randomize", "--seed=0", off)
    for kind in ("playwright", "cargo", "command"):
        assert runner_for(kind).shuffle_args(1) is None
        with pytest.raises(ValueError, match=f"runner '{kind}' has no seeded order"):
            run_args(runner_for(kind), 1)
    assert seeded_runners() == ("pytest", "vitest", "jest")


def test_a_run_sets_its_workers_by_variable_and_its_command_repeats_it() -> None:
    args = run_args(runner_for("vitest"), 1234)

    assert run_env(3) == {"SUITEKIT_WORKERS": "3"}
    assert command("web-3.12", args, 2) == (
        "SUITEKIT_WORKERS=2 nox -s web-3.12 -- --sequence.shuffle --sequence.seed=1234 "
        "--suitekit-retries=0"
    )


@pytest.mark.parametrize(
    ("workers", "cpus", "expected"),
    [
        (2, 2, (1, 2, 3, 1, 2)),  # pytest's -n 0 is one worker
        ("auto", 16, (1, 2, 8, 1, 2)),
        (0, 8, (1, 1, 1, 1, 1)),  # a suite declared serial stays serial
    ],
)
def test_runs_alternate_one_worker_and_several(
    workers: int | str, cpus: int, expected: tuple[int, ...]
) -> None:
    suite = Suite(name="web", workers=workers)  # type: ignore[arg-type]  # Workers is a Literal

    assert worker_counts(suite, 5, cpus) == expected


# --- what find refuses, before it runs anything -------------------------------------------


@pytest.mark.parametrize(
    ("suite", "kind"), [("e2e", "playwright"), ("rust", "cargo"), ("tool", "command")]
)
def test_a_runner_without_a_seeded_order_is_refused_with_why_and_what_to_do(
    project: Project, suite: str, kind: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        find(project, FlakyOptions(suite=suite), environ={}, out=io.StringIO())

    message = str(caught.value)
    assert f"tool.suitekit.suites.{suite}.runner" in message
    assert f"suite {suite!r} runs {kind}, which has no seeded test order" in message
    assert f"{kind} cannot shuffle its tests by a seed" in message
    assert "fix: search a suite of pytest, vitest, jest (this project's: unit, web, jsweb)" in (
        message
    )
    assert f"run `nox -s {suite}` several times" in message
    assert not (project.root / project.reports / "flaky").exists()  # refused before anything ran


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (FlakyOptions(suite="nope"), r"there is no suite called 'nope'\n  fix: use one of: unit"),
        (FlakyOptions(suite="web", runs=1), r"--runs: 1 run\(s\) cannot show a test"),
        (FlakyOptions(suite="web", python="3.9"), r"suite 'web' does not run on Python 3.9"),
        (FlakyOptions(suite="web", seed=-1), r"--seed: -1 is not an order seed"),
        (
            FlakyOptions(suite="jsweb", runs=3, seed=MAX_SEED - 1),
            (
                rf"--seed: {MAX_SEED - 1} is not an order seed of jest .*\n"
                rf"  fix: pass a whole number from 0 to {MAX_SEED - 2}"
            ),
        ),
    ],
)
def test_the_usual_errors_hold_for_a_seeded_runners_suite(
    project: Project, options: FlakyOptions, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        find(project, options, environ={}, out=io.StringIO())


# --- a search through a fake nox --------------------------------------------------------

ORDER: Final = "src/order.test.js::expects a clean state"


def junit(*failing: str) -> str:
    """A report of three tests, ``failing`` among them failed."""
    names = ("pollutes the shared state", "expects a clean state", "does not care")
    cases = "".join(
        f'<testcase classname="src/order.test.js" name="{name}">'
        + ('<failure message="expected true to be false"/>' if name in failing else "")
        + "</testcase>"
        for name in names
    )
    return f"<testsuites><testsuite>{cases}</testsuite></testsuites>"


class FakeNox(_Search):
    """A search whose nox writes scripted reports: (exit code, report text or ``None``)."""

    __slots__ = ("jobs", "script")

    script: list[tuple[int | None, str | None]]
    jobs: list[plan.Job]

    def launch(self, job: plan.Job) -> JobOutcome:
        code, report = self.script[len(self.jobs)]
        self.jobs.append(job)
        job.log.write_text(f"nox said {code}\n", encoding="utf-8")
        if report is not None:
            assert job.junit is not None
            job.junit.parent.mkdir(parents=True, exist_ok=True)
            job.junit.write_text(report, encoding="utf-8")
        return JobOutcome(
            job=job, status="passed" if code == 0 else "failed", returncode=code, seconds=1.0
        )


def fake_nox(project: Project, *script: tuple[int | None, str | None]) -> FakeNox:
    suite = project.suite("web")
    folder = project.root / project.reports / "flaky" / "web"
    folder.mkdir(parents=True)
    search = FakeNox(
        project=project,
        suite=suite,
        runner=runner_for("vitest"),
        options=FlakyOptions(suite="web", runs=len(script)),
        out=io.StringIO(),
        folder=folder,
        session="web-3.12",
        report=plan.junit_path(project, suite, "3.12"),
    )
    search.script = list(script)
    search.jobs = []
    return search


def searched(search: FakeNox, base: int) -> Finding:
    schedule = zip(range(base, base + len(search.script)), (1, 2, 3), strict=False)
    runs = [search.run(number, seed, workers) for number, (seed, workers) in enumerate(schedule, 1)]
    return search.finding([run for run in runs if run is not None], interrupted=False)


def test_a_flaky_test_is_named_with_its_failing_seeds_and_the_command_that_repeats_them(
    project: Project,
) -> None:
    search = fake_nox(project, (1, junit("expects a clean state")), (0, junit()), (1, junit(ORDER)))

    finding = searched(search, base=1234)

    job = search.jobs[0]
    assert job.command == (
        "nox", "-s", "web-3.12", "--", "--sequence.shuffle", "--sequence.seed=1234",
        "--suitekit-retries=0"
    )  # fmt: skip
    assert dict(job.env) == {"SUITEKIT_WORKERS": "1"}
    assert job.junit == project.root / project.reports / "junit" / "web-3.12.xml"
    assert (search.folder / "run-1.xml").read_text(encoding="utf-8") == junit(
        "expects a clean state"
    )
    assert [test.node_id for test in finding.flaky] == [ORDER]
    assert finding.flaky[0].failed_runs == (1,)  # run 3's report named no failing test
    assert finding.complete
    assert not finding.ok
    text = finding.text()
    assert "  run 1: 1 worker, seed 1234: 2 passed, 1 failed" in text
    assert "  run 2: 2 workers, seed 1235: 3 passed" in text
    assert (
        f"  {ORDER}: expected true to be false\n"
        "    run 1: SUITEKIT_WORKERS=1 nox -s web-3.12 -- --sequence.shuffle --sequence.seed=1234 "
        "--suitekit-retries=0"
    ) in text
    assert (
        "causes: not searched (vitest cannot replay a given order of tests, only shuffle a "
        "whole run by a seed); repeat a failing run with its command above:\n"
        f"  {ORDER}: failed in run 1 (seed 1234)"
    ) in text
    assert text.endswith("suitekit flaky: 1 flaky test(s) in suite 'web'")
    assert (search.folder / "flaky.txt").read_text(encoding="utf-8") == text + "\n"


def test_runs_that_went_wrong_are_problems_not_a_stable_suite(project: Project) -> None:
    stale = plan.junit_path(project, project.suite("web"), "3.12")
    stale.parent.mkdir(parents=True)
    stale.write_text(junit(), encoding="utf-8")  # a report of an earlier run: never read
    search = fake_nox(project, (1, None), (2, junit()), (0, "<testsuites/>"))

    finding = searched(search, base=5)

    problems = [run.problem for run in finding.runs]
    assert problems[0].startswith(f"{stale}: the session wrote no JUnit report (exit code 1;")
    assert problems[1].startswith("nox exited with code 2, not 0 (passed) or 1 (tests failed)")
    assert problems[2].startswith("run-3.xml has no tests: the suite collected none")
    assert not finding.ok
    assert finding.text().endswith(
        "suitekit flaky: cannot tell; run(s) 1 left no run log; run(s) 2, 3 went wrong (see "
        "above): fix what stopped them and run again"
    )
    printed = search.out.getvalue()  # type: ignore[attr-defined]  # a StringIO, see fake_nox
    assert "run 1/3 (1 worker(s), seed 5) left no JUnit report; the end of its output:" in printed
    assert "    | nox said 1" in printed


def test_the_pytest_report_keeps_its_worker_counts_and_has_no_such_section() -> None:
    log = RunLog(seed=1, workers=0, tests=(TestRun(node_id="t.py::a", outcome="failed"),))
    again = RunLog(seed=2, workers=2, tests=(TestRun(node_id="t.py::a", outcome="passed"),))
    runs = (
        Run(number=1, seed=1, workers=0, command="nox -s unit-3.11", log=log),
        Run(number=2, seed=2, workers=2, command="nox -s unit-3.11", log=again),
    )
    flaky = compare([run.log for run in runs])

    pytest_text = Finding(suite="unit", session="unit-3.11", runs=runs, flaky=flaky).text()
    jest_text = Finding(
        suite="unit", session="unit-3.11", runs=runs, flaky=flaky, runner="jest"
    ).text()

    assert "  run 1: -n 0, seed 1: 1 failed" in pytest_text
    assert "  run 2: -n 2, seed 2: 1 passed" in pytest_text
    assert "not searched" not in pytest_text
    assert "  run 1: 0 workers, seed 1: 1 failed" in jest_text
    assert "causes: not searched (jest cannot replay" in jest_text
    assert "  t.py::a: failed in run 1 (seed 1)" in jest_text
