"""Unit tests of the run's ending (suitekit._runner.format_summary) and JUnit totals.

The ending of a passing, a failing and an interrupted run is golden-file tested; to rewrite the
golden files after an intended change, run
``SUITEKIT_UPDATE_GOLDEN=1 pytest tests/unit/test_runner_summary.py`` and review the diff.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

from suitekit import ReportError
from suitekit._runner import Outcome, Status, format_summary
from suitekit._runner._outcome import FailedTest, failed_tests
from suitekit._runner._summary import SHOWN_FAILURES, Artifact, find_artifacts
from suitekit.plan import Job, JobKind, nox_command
from suitekit.reporting import (
    CaseResult,
    Totals,
    budget_cell,
    merge_junit,
    over_budget,
    read_totals,
    rerun_command,
    summarise,
)
from suitekit.reporting._summary import Expected
from suitekit.reporting._surefire import LOCATION_PROPERTY, location_value
from tests.unit.test_summary import assert_golden

ROOT: Final = Path("/work/bookshop")
REPORTS: Final = ROOT / ".suitekit/reports"
LOGS: Final = REPORTS / "logs"
ARTIFACTS: Final = (
    Artifact(kind="junit", label="merged JUnit", path=".suitekit/reports/junit.xml"),
    Artifact(kind="summary", label="summary", path=".suitekit/reports/summary.md"),
    Artifact(kind="html", label="HTML report", path=".suitekit/reports/index.html"),
    Artifact(
        kind="coverage_html", label="coverage HTML", path=".suitekit/reports/htmlcov/index.html"
    ),
    Artifact(kind="coverage_json", label="coverage JSON", path=".suitekit/reports/coverage.json"),
    Artifact(kind="logs", label="session logs", path=".suitekit/reports/logs/"),
)
ESCAPE: Final = "\x1b["


def job(
    session: str,
    *,
    kind: JobKind = "suite",
    required: bool = True,
    target_seconds: float | None = None,
) -> Job:
    return Job(
        session=session,
        kind=kind,
        title=session,
        command=nox_command(session),
        env={},
        required=required,
        junit=None,
        log=LOGS / f"{session}.log",
        target_seconds=target_seconds,
    )


def outcome(
    planned: Job,
    status: Status,
    seconds: float,
    totals: Totals | None = None,
    note: str = "",
    *,
    failed: tuple[FailedTest, ...] = (),
    started: bool = True,
) -> Outcome:
    return Outcome(
        job=planned,
        status=status,
        returncode=None if status == "cancelled" or not started else int(status != "passed"),
        seconds=seconds,
        totals=totals,
        note=note,
        failed_tests=failed,
        started=started,
    )


def broken(session: str, node_id: str, *, error: bool = False) -> FailedTest:
    """A failed test as the runner reads it from its session's JUnit file, rerun and all."""
    case = CaseResult(
        suite=session.partition("-")[0],
        classname="",
        name=node_id.rpartition("::")[2],
        seconds=0.1,
        outcome="error" if error else "failed",
        message="",
        report=session,
        node_id=node_id,
    )
    return FailedTest(test=case.test, error=error, rerun=rerun_command(case))


def ending(
    outcomes: list[Outcome],
    wall: float,
    *,
    artifacts: tuple[Artifact, ...] = ARTIFACTS,
    colour: bool = False,
    verbosity: int = 0,
) -> str:
    """The ending as a run in the project's root shows it, with every report written."""
    return format_summary(
        outcomes, wall, artifacts=artifacts, cwd=ROOT, colour=colour, verbosity=verbosity
    )


def passing_run() -> list[Outcome]:
    return [
        outcome(
            job("unit-3.11", target_seconds=10.0),
            "passed",
            4.0,
            Totals(tests=120, skipped=2, seconds=3.5),
        ),
        outcome(
            job("integration-3.11", target_seconds=60.0),
            "passed",
            41.2,
            Totals(tests=38, seconds=33.0),
        ),
        outcome(job("lint", kind="check"), "passed", 1.0),
        outcome(job("security", kind="check", required=False), "failed", 2.0),
        outcome(job("report", kind="report"), "passed", 0.4),
        outcome(job("coverage", kind="coverage"), "passed", 0.6),
    ]


def failing_run() -> list[Outcome]:
    unit = [
        broken("unit-3.11", f"tests/unit/test_isbn.py::test_checksum[{n}]")
        for n in range(SHOWN_FAILURES)
    ]
    return [
        outcome(
            job("unit-3.11", target_seconds=10.0),
            "failed",
            14.0,
            Totals(tests=120, failures=11, errors=1, seconds=12.5),
            failed=(
                *unit,
                broken("unit-3.11", "tests/unit/test_cache.py::test_keys", error=True),
                broken("unit-3.11", "tests/unit/test_cache.py::test_expiry"),
            ),
        ),
        outcome(
            job("integration-3.11", target_seconds=60.0),
            "failed",
            3.0,
            note="no JUnit file at .suitekit/reports/junit/integration-3.11.xml",
        ),
        outcome(job("lint", kind="check"), "failed", 1.0),
        outcome(job("security", kind="check", required=False), "failed", 2.0),
        outcome(job("report", kind="report"), "failed", 0.4),
        outcome(job("coverage", kind="coverage"), "passed", 0.6),
    ]


def interrupted_run() -> list[Outcome]:
    return [
        outcome(job("lint", kind="check"), "failed", 1.0),
        outcome(
            job("unit-3.11", target_seconds=10.0),
            "passed",
            4.0,
            Totals(tests=120, skipped=2, seconds=3.5),
        ),
        outcome(
            job("integration-3.11", target_seconds=60.0),
            "interrupted",
            12.0,
            Totals(tests=9, failures=1, seconds=8.0),
            failed=(broken("integration-3.11", "tests/integration/test_orders.py::test_pay"),),
        ),
        outcome(job("e2e-3.11"), "interrupted", 0.0, started=False),
    ]


# -- the golden endings ---------------------------------------------------------------------------


def test_the_ending_of_a_passing_run() -> None:
    assert_golden("ending_passed.txt", ending(passing_run(), 45.3) + "\n")


def test_the_ending_of_a_failing_run() -> None:
    assert_golden("ending_failed.txt", ending(failing_run(), 21.0) + "\n")


def test_the_ending_of_an_interrupted_run() -> None:
    logs_only = (ARTIFACTS[-1],)
    assert_golden(
        "ending_interrupted.txt", ending(interrupted_run(), 17.0, artifacts=logs_only) + "\n"
    )


# -- the order and what each part says -----------------------------------------------------------


def test_the_ending_answers_in_order_with_the_verdict_last() -> None:
    lines = ending(failing_run(), 21.0).split("\n")

    failed = lines.index("failed tests (12):")
    sessions = lines.index("failed sessions with no failed test (4):")
    table = next(i for i, line in enumerate(lines) if line.startswith("session "))
    reports = lines.index("reports:")
    assert failed < sessions < table < reports < len(lines) - 1
    assert lines[-1] == (
        "suitekit: 108 passed, 12 failed, 0 skipped in 21.0s; "
        "failed: unit-3.11, integration-3.11, lint, report"
    )


def test_each_failed_test_has_its_session_and_its_rerun() -> None:
    text = ending(failing_run(), 21.0, verbosity=1)

    assert (
        "  FAILED tests/unit/test_isbn.py::test_checksum[0] (unit-3.11)\n"
        "    rerun: nox -s unit-3.11 -- 'tests/unit/test_isbn.py::test_checksum[0]'\n"
    ) in text
    assert "    rerun: nox -s unit-3.11 -- tests/unit/test_cache.py::test_expiry\n" in text
    # An error is said as one; another runner's test may have no command of its own.
    assert "  ERROR tests/unit/test_cache.py::test_keys (unit-3.11)\n" in text
    run = [
        outcome(
            job("frontend"),
            "failed",
            2.0,
            Totals(tests=3, failures=1),
            failed=(FailedTest(test="src/cart.test.js::adds"),),
        )
    ]
    assert "  FAILED src/cart.test.js::adds (frontend)\n\nsession" in ending(run, 2.0)


def test_the_failed_tests_are_capped_and_the_rest_found_in_the_summary() -> None:
    text = ending(failing_run(), 21.0)

    assert text.count("    rerun: ") == SHOWN_FAILURES
    assert "tests/unit/test_cache.py::test_expiry" not in text
    assert "\n  and 2 more (see .suitekit/reports/summary.md)\n" in text


def test_verbose_lists_every_failed_test() -> None:
    text = ending(failing_run(), 21.0, verbosity=1)

    assert text.count("    rerun: ") == SHOWN_FAILURES + 2
    assert "more (see" not in text


def test_without_a_summary_the_rest_are_in_the_logs() -> None:
    logs_only = (ARTIFACTS[-1],)

    text = ending(failing_run(), 21.0, artifacts=logs_only)

    assert "\n  and 2 more (see .suitekit/reports/logs/)\n" in text
    assert "\n  and 2 more\n" in ending(failing_run(), 21.0, artifacts=())


def test_sessions_that_failed_without_a_failed_test_name_their_logs() -> None:
    text = ending(failing_run(), 21.0)

    assert (
        "  FAILED integration-3.11 (suite): exit code 1; no JUnit file at "
        ".suitekit/reports/junit/integration-3.11.xml; log: .suitekit/reports/logs/integration-3.11.log\n"  # noqa: E501 - one line of the ending
    ) in text
    assert "  FAILED lint (check): exit code 1; log: .suitekit/reports/logs/lint.log\n" in text
    assert "  FAILED security (check, advisory): exit code 1;" in text
    assert "  FAILED report: exit code 1; log: .suitekit/reports/logs/report.log\n" in text
    # A note said there is not said again under the table.
    assert "notes:" not in text


def test_a_guard_decided_without_a_session_has_no_log_to_name() -> None:
    guard = Outcome(
        job=job("partition", kind="partition"),
        status="failed",
        returncode=None,
        seconds=0.1,
        note="the suites do not partition the tests (said above)",
    )

    text = ending([guard], 1.0)

    assert "  FAILED partition: the suites do not partition the tests (said above)\n" in text
    assert "partition.log" not in text


def test_a_log_outside_the_current_folder_is_named_whole() -> None:
    text = format_summary(failing_run(), 21.0, cwd=Path("/elsewhere"))

    assert f"; log: {LOGS / 'lint.log'}\n" in text


def test_an_advisory_failure_does_not_fail_the_run() -> None:
    lines = ending(passing_run(), 45.3).split("\n")

    assert re.search(r"^security\s+failed \(advisory\)\s", "\n".join(lines), re.MULTILINE)
    assert lines[-1] == "suitekit: 156 passed, 0 failed, 2 skipped in 45.3s"


def test_cancelled_sessions_are_named_in_the_verdict() -> None:
    run = [
        outcome(job("unit-3.11"), "failed", 1.0, Totals(tests=3, failures=3)),
        outcome(job("integration-3.11"), "cancelled", 0.0, started=False),
        outcome(job("typecheck", kind="check"), "passed", 0.5),
    ]

    text = ending(run, 2.0)

    assert text.endswith(
        "suitekit: 0 passed, 3 failed, 0 skipped in 2.0s; failed: unit-3.11; "
        "cancelled: integration-3.11"
    )
    assert re.search(r"^integration-3\.11\s+cancelled\s", text, re.MULTILINE)


def test_a_run_without_tests_says_no_counts() -> None:
    # Checks only: "0 passed, 0 failed, 0 skipped" would say that tests ran.
    checks = [
        outcome(job("lint", kind="check"), "failed", 1.0),
        outcome(job("typecheck", kind="check"), "passed", 2.0),
    ]
    crashed = [outcome(job("unit-3.11"), "failed", 1.0, note="no JUnit file at x.xml")]
    stopped = [outcome(job("lint", kind="check"), "interrupted", 0.5)]

    assert ending(checks, 3.1).split("\n")[-1] == "suitekit: ran in 3.1s; failed: lint"
    assert ending(checks[1:], 2.0).split("\n")[-1] == "suitekit: ran in 2.0s"
    assert ending(crashed, 1.0).split("\n")[-1] == "suitekit: ran in 1.0s; failed: unit-3.11"
    assert ending(stopped, 0.5).split("\n")[-1] == (
        "suitekit: interrupted (Ctrl-C or SIGTERM): lint; ran in 0.5s"
    )
    # A suite that counted no test still counts: it ran.
    empty = [*checks, outcome(job("unit-3.11"), "passed", 1.0, Totals())]
    assert ending(empty, 3.1).split("\n")[-1] == (
        "suitekit: 0 passed, 0 failed, 0 skipped in 3.1s; failed: lint"
    )


# -- interrupted runs ----------------------------------------------------------------------------


def test_interrupted_sessions_are_never_listed_as_failed() -> None:
    text = ending(interrupted_run(), 17.0)
    lines = text.split("\n")

    assert lines[-1] == (
        "suitekit: interrupted (Ctrl-C or SIGTERM): integration-3.11; "
        "126 passed, 1 failed, 2 skipped in 17.0s; failed: lint"
    )
    assert "test_orders.py::test_pay" not in text  # its session was cut short, not failed
    assert "failed tests" not in text
    assert "  FAILED lint (check): exit code 1;" in text
    assert re.search(r"^integration-3\.11\s+interrupted\s", text, re.MULTILINE)
    assert re.search(r"^e2e-3\.11\s+not started\s", text, re.MULTILINE)


def test_an_interrupt_between_two_sessions_names_the_one_it_kept_from_starting() -> None:
    run = [
        outcome(job("unit-3.11"), "passed", 4.0, Totals(tests=3, seconds=1.0)),
        outcome(job("integration-3.11"), "interrupted", 0.0, started=False),
        outcome(job("e2e-3.11"), "interrupted", 0.0, started=False),
    ]

    last = ending(run, 4.1).split("\n")[-1]

    assert last == (
        "suitekit: interrupted (Ctrl-C or SIGTERM): before integration-3.11; "
        "3 passed, 0 failed, 0 skipped in 4.1s"
    )


# -- the table and its one budget figure ---------------------------------------------------------


def test_the_table_columns_name_the_budget_figure() -> None:
    header = next(
        line for line in ending(passing_run(), 45.3).split("\n") if line.startswith("session ")
    )

    assert re.split(r"\s{2,}", header) == [
        "session",
        "result",
        "tests",
        "failed",
        "skipped",
        "seconds",
        "setup",
        "budget (test s/target)",
    ]


def test_over_budget_is_marked() -> None:
    run = [
        outcome(job("a", target_seconds=10.0), "passed", 12.0, Totals(tests=1, seconds=10.5)),
        outcome(job("b", target_seconds=10.0), "passed", 12.0, Totals(tests=1, seconds=10.0)),
        outcome(job("c", target_seconds=10.0), "passed", 12.0, Totals(tests=1, seconds=9.0)),
    ]

    lines = ending(run, 20.0).split("\n")
    rows = {line.split()[0]: line for line in lines if line[:2] in {"a ", "b ", "c "}}

    assert rows["a"].endswith("10.5/10s OVER")
    # The budget holds the tests' own time: exactly on budget is not over, nor is nox's set-up.
    assert rows["b"].endswith("10.0/10s")
    assert rows["c"].endswith("9.0/10s")
    assert sum(line.endswith(" OVER") for line in lines) == 1


def test_no_budget_cell_without_totals_or_target() -> None:
    run = [
        outcome(job("a", target_seconds=10.0), "failed", 3.0, note="no JUnit file at x.xml"),
        outcome(job("b", target_seconds=10.0), "passed", 3.0, Totals(tests=4, seconds=1.0)),
        outcome(job("c"), "passed", 3.0, Totals(tests=4, seconds=1.0)),
    ]

    lines = ending(run, 5.0).split("\n")

    assert "a        failed      -       -        -      3.0      -" in lines
    assert "c        passed      4       0        0      3.0    2.0" in lines


def test_no_budget_column_when_no_suite_has_a_budget() -> None:
    run = [outcome(job("b"), "passed", 3.0, Totals(tests=4, seconds=1.0))]

    text = ending(run, 5.0)

    assert "budget" not in text
    assert "\nb        passed      4       0        0      3.0    2.0\n" in text


def test_quiet_leaves_the_legend_out() -> None:
    quiet = ending(passing_run(), 45.3, verbosity=-1)

    assert "setup: " not in quiet
    assert "budget: " not in quiet
    assert "setup: " in ending(passing_run(), 45.3)


def test_the_runner_and_the_report_set_the_same_time_against_the_budget(tmp_path: Path) -> None:
    # Under xdist the cases' times add up to more than the suite's own (pytest's wall time):
    # both summaries take the suite's, so one run never shows two budget figures.
    path = write(tmp_path, "unit-3.11.xml", XDIST)

    runner = read_totals(path).seconds
    merged = merge_junit([path], tmp_path / "junit.xml")
    (row,) = summarise(merged, [Expected(name="unit-3.11", target_seconds=10)]).rows

    assert runner == pytest.approx(9.7)
    assert row.seconds == pytest.approx(15.0)  # the seconds column: the cases' sum
    assert budget_cell(row.budget_seconds, row.target_seconds) == "9.7/10s"
    assert not row.over_budget
    # The runner's table shows that same cell.
    planned = outcome(job("unit-3.11", target_seconds=10.0), "passed", 12.0, read_totals(path))
    assert _row(ending([planned], 12.0), "unit-3.11").endswith("  9.7/10s")


def test_the_runner_and_the_report_flag_the_same_suite_over_budget(tmp_path: Path) -> None:
    path = write(tmp_path, "unit-3.11.xml", XDIST)
    merged = merge_junit([path], tmp_path / "junit.xml")
    (row,) = summarise(merged, [Expected(name="unit-3.11", target_seconds=9.5)]).rows

    planned = outcome(job("unit-3.11", target_seconds=9.5), "passed", 12.0, read_totals(path))

    assert row.over_budget
    assert over_budget(row.budget_seconds, 9.5)
    assert _row(ending([planned], 12.0), "unit-3.11").endswith(
        "  " + budget_cell(row.budget_seconds, row.target_seconds) + " OVER"
    )


def _row(text: str, session: str) -> str:
    return next(line for line in text.split("\n") if line.startswith(session + " "))


# -- colour ---------------------------------------------------------------------------------------


def test_no_colour_unless_asked() -> None:
    for run in (passing_run(), failing_run(), interrupted_run()):
        assert ESCAPE not in ending(run, 1.0)


@pytest.mark.parametrize(
    ("run", "sgr"),
    [(passing_run, "32"), (failing_run, "31"), (interrupted_run, "35")],
)
def test_the_verdict_is_coloured_by_how_the_run_ended(
    run: Callable[[], list[Outcome]], sgr: str
) -> None:
    last = ending(run(), 1.0, colour=True).split("\n")[-1]

    assert last.startswith(f"\x1b[{sgr}msuitekit: ")
    assert last.endswith("\x1b[0m")


def test_colour_keeps_the_table_aligned() -> None:
    plain = ending(failing_run(), 21.0).split("\n")
    coloured = ending(failing_run(), 21.0, colour=True).split("\n")

    assert [re.sub(r"\x1b\[\d+m", "", line) for line in coloured] == plain


# -- the reports and the failed tests, read from files ------------------------------------------


def test_find_artifacts_lists_this_runs_reports_relative_to_the_current_folder(
    tmp_path: Path,
) -> None:
    reports = tmp_path / ".suitekit/reports"
    (reports / "logs").mkdir(parents=True)
    (reports / "htmlcov").mkdir()
    for name in ("junit.xml", "summary.md", "htmlcov/index.html", "coverage.json"):
        (reports / name).write_text("x", encoding="utf-8")
    stale = reports / "index.html"  # an earlier run's: not listed
    stale.write_text("x", encoding="utf-8")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))

    found = find_artifacts(reports, since=time.time() - 60, cwd=tmp_path)

    assert found == (ARTIFACTS[0], ARTIFACTS[1], *ARTIFACTS[3:])
    elsewhere = find_artifacts(reports, since=time.time() - 60, cwd=tmp_path / "src")
    assert elsewhere[0].path == str(reports / "junit.xml")


def test_find_artifacts_of_a_run_that_wrote_nothing(tmp_path: Path) -> None:
    assert find_artifacts(tmp_path / "reports", since=time.time(), cwd=tmp_path) == ()


def test_failed_tests_are_read_with_their_node_ids_and_reruns(tmp_path: Path) -> None:
    junit = write(tmp_path, "unit-3.11.xml", LOCATED)
    planned = Job(
        session="unit-3.11",
        kind="suite",
        title="unit",
        command=nox_command("unit-3.11"),
        env={},
        required=True,
        junit=junit,
        log=tmp_path / "unit-3.11.log",
        target_seconds=None,
    )

    found = failed_tests(planned, read_totals(junit))

    assert found == (
        FailedTest(
            test="tests/unit/test_a.py::test_two",
            rerun="nox -s unit-3.11 -- tests/unit/test_a.py::test_two",
        ),
        FailedTest(test="tests.unit.test_a::test_three", error=True, rerun="nox -s unit-3.11"),
    )
    # Totals without failures: the file is not read again.
    assert failed_tests(planned, Totals(tests=3)) == ()


XDIST: Final = """\
<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests">
  <testsuite name="unit" errors="0" failures="0" skipped="0" tests="2" time="9.7">
    <testcase classname="tests.unit.test_a" name="test_one" time="7.5"/>
    <testcase classname="tests.unit.test_a" name="test_two" time="7.5"/>
  </testsuite>
</testsuites>
"""

LOCATED: Final = f"""\
<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests">
  <testsuite name="unit" errors="1" failures="1" skipped="0" tests="3" time="1.0">
    <properties>
      <property name="{LOCATION_PROPERTY}" value='{
    location_value(
        test="tests.unit.test_a::test_two",
        node_id="tests/unit/test_a.py::test_two",
        file="tests/unit/test_a.py",
        line=4,
    )
}'/>
    </properties>
    <testcase classname="tests.unit.test_a" name="test_one" time="0.1"/>
    <testcase classname="tests.unit.test_a" name="test_two" time="0.1"><failure message="x"/>
    </testcase>
    <testcase classname="tests.unit.test_a" name="test_three" time="0.1"><error message="e"/>
    </testcase>
  </testsuite>
</testsuites>
"""


# -- Totals and read_totals ---------------------------------------------------------------------


def test_totals_add_up() -> None:
    total = Totals(tests=4, failures=1, skipped=1, seconds=1.5) + Totals(
        tests=6, errors=2, seconds=2.0
    )

    assert total == Totals(tests=10, failures=1, errors=2, skipped=1, seconds=3.5)
    assert total.passed == 6


TESTSUITES: Final = """\
<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests">
  <testsuite name="unit" errors="1" failures="2" skipped="3" tests="10" time="1.5">
    <testcase classname="tests.unit.test_a" name="test_one" time="0.1"/>
    <testcase classname="tests.unit.test_a" name="test_two" time="0.1"><failure message="x"/>
    </testcase>
    <testcase classname="tests.unit.test_a" name="test_three" time="0.1"><skipped/></testcase>
  </testsuite>
  <testsuite name="more" errors="0" failures="1" skipped="0" tests="4" time="0.5">
    <testcase classname="tests.unit.test_b" name="test_four" time="0.2"><error message="e"/>
    </testcase>
  </testsuite>
</testsuites>
"""

TESTSUITE: Final = """\
<?xml version="1.0" encoding="utf-8"?>
<testsuite name="pytest" errors="0" failures="1" skipped="2" tests="7" time="2.25">
  <testcase classname="tests.unit.test_a" name="test_one" time="0.1"/>
</testsuite>
"""

# What pytest writes for a test with three passing subtests, one with a failing subtest (the
# subtest's failure and the test's own "contains 1 failed subtest"), and a plain test: its
# attributes count every subtest report (tests="8", failures="2") for three test cases.
SUBTESTS: Final = """\
<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" \
errors="0" failures="2" skipped="0" tests="8" time="0.076"><testcase classname="test_s" \
name="test_a" time="0.014" /><testcase classname="test_s" name="test_b" time="0.027"><failure \
message="assert 1 == 0">assert 1 == 0</failure><failure message="contains 1 failed subtest">\
contains 1 failed subtest</failure></testcase><testcase classname="test_s" name="test_c" \
time="0.000" /></testsuite></testsuites>
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_totals_counts_the_cases_of_every_suite_not_their_attributes(tmp_path: Path) -> None:
    totals = read_totals(write(tmp_path, "unit-3.11.xml", TESTSUITES))

    assert totals == Totals(tests=4, failures=1, errors=1, skipped=1, seconds=2.0)
    assert totals.passed == 1


def test_read_totals_of_a_bare_testsuite_root(tmp_path: Path) -> None:
    totals = read_totals(write(tmp_path, "unit-3.11.xml", TESTSUITE))

    assert totals == Totals(tests=1, seconds=2.25)


def test_read_totals_counts_a_test_with_subtests_once_as_the_report_does(tmp_path: Path) -> None:
    path = write(tmp_path, "unit-3.11.xml", SUBTESTS)

    totals = read_totals(path)
    merged = merge_junit([path], tmp_path / "junit.xml").totals

    assert totals == Totals(tests=3, failures=1, seconds=0.076)
    assert (totals.tests, totals.passed, totals.failures) == (
        merged.tests,
        merged.passed,
        merged.failures,
    )


def test_read_totals_of_an_empty_testsuites_root(tmp_path: Path) -> None:
    path = write(tmp_path, "none.xml", '<?xml version="1.0"?><testsuites/>')

    assert read_totals(path) == Totals()


def test_read_totals_of_a_truncated_file_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "unit-3.11.xml", TESTSUITES[: len(TESTSUITES) // 2])

    with pytest.raises(
        ReportError, match=rf"^{re.escape(str(path))}: not a readable JUnit XML file \("
    ):
        read_totals(path)


def test_read_totals_of_an_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.xml", "")

    with pytest.raises(ReportError, match=r"empty.xml: not a readable JUnit XML file"):
        read_totals(path)


def test_read_totals_of_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.xml"

    with pytest.raises(ReportError, match=r"missing.xml: not a readable JUnit XML file"):
        read_totals(path)


def test_read_totals_of_xml_that_is_not_junit(tmp_path: Path) -> None:
    path = write(tmp_path, "other.xml", '<?xml version="1.0"?><coverage version="7"/>')

    with pytest.raises(ReportError, match=r"other.xml: not a readable JUnit XML file"):
        read_totals(path)
