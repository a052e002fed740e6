"""Unit tests of the run summary (suitekit._runner.format_summary) and JUnit totals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import pytest

from suitekit import ReportError
from suitekit._runner import Outcome, Status, format_summary
from suitekit.plan import Job, JobKind, nox_command
from suitekit.reporting import Totals, merge_junit, read_totals

LOGS: Final = Path("/work/bookshop/reports/logs")


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
) -> Outcome:
    return Outcome(
        job=planned,
        status=status,
        returncode=None if status == "cancelled" else int(status != "passed"),
        seconds=seconds,
        totals=totals,
        note=note,
    )


def mixed_run() -> list[Outcome]:
    return [
        outcome(
            job("unit-3.11", target_seconds=10.0),
            "passed",
            4.0,
            Totals(tests=10, skipped=2, seconds=3.5),
        ),
        outcome(
            job("integration-3.11", target_seconds=60.0),
            "failed",
            80.0,
            Totals(tests=5, failures=1, errors=1, seconds=70.0),
        ),
        outcome(job("lint", kind="check"), "passed", 1.0),
        outcome(job("security", kind="check", required=False), "failed", 2.0),
    ]


def test_the_whole_summary() -> None:
    summary = format_summary(mixed_run(), 90.0)

    # Session and result are left-aligned; the figures right-aligned; no trailing blanks.
    header = "session           result             tests  failed  skipped  seconds  setup  "
    assert summary.split("\n") == [
        "",
        "suitekit summary",
        header + "       budget",
        "----------------  -----------------  -----  ------  -------  -------  -----  -------------",  # noqa: E501 - a row kept whole
        "unit-3.11         passed                10       0        2      4.0    0.5        3.5/10s",  # noqa: E501 - a row kept whole
        "integration-3.11  failed                 5       2        0     80.0   10.0  70.0/60s OVER",  # noqa: E501 - a row kept whole
        "lint              passed                 -       -        -      1.0      -",
        "security          failed (advisory)      -       -        -      2.0      -",
        "wall time 90.0s; sessions' own time 87.0s",
        (
            "setup: a suite session's seconds outside pytest's own run (nox, install, servers, "
            "Python start-up)"
        ),
        "failed: integration-3.11",
        "suitekit: 11 passed, 2 failed, 2 skipped",
    ]


def test_the_table_columns() -> None:
    header = format_summary(mixed_run(), 90.0).split("\n")[2]

    assert header.split() == [
        "session",
        "result",
        "tests",
        "failed",
        "skipped",
        "seconds",
        "setup",
        "budget",
    ]


def test_over_budget_is_marked() -> None:
    run = [
        outcome(job("a", target_seconds=10.0), "passed", 12.0, Totals(tests=1, seconds=10.5)),
        outcome(job("b", target_seconds=10.0), "passed", 12.0, Totals(tests=1, seconds=10.0)),
        outcome(job("c", target_seconds=10.0), "passed", 12.0, Totals(tests=1, seconds=9.0)),
    ]

    lines = format_summary(run, 20.0).split("\n")

    assert lines[4].endswith("10.5/10s OVER")
    # The budget holds the tests' own time: exactly on budget is not over, nor is nox's set-up.
    assert lines[5].endswith("10.0/10s")
    assert lines[6].endswith("9.0/10s")
    assert sum("OVER" in line for line in lines) == 1


def test_no_budget_column_value_without_totals_or_target() -> None:
    run = [
        outcome(job("a", target_seconds=10.0), "failed", 3.0, note="no JUnit file at x.xml"),
        outcome(job("b"), "passed", 3.0, Totals(tests=4, seconds=1.0)),
    ]

    lines = format_summary(run, 5.0).split("\n")

    assert lines[4] == "a        failed      -       -        -      3.0      -"
    assert lines[5] == "b        passed      4       0        0      3.0    2.0"


def test_an_advisory_failure_does_not_fail_the_run() -> None:
    run = [
        outcome(job("lint", kind="check"), "passed", 1.0),
        outcome(job("security", kind="check", required=False), "failed", 2.0),
    ]

    summary = format_summary(run, 3.0)

    assert re.search(r"^security\s+failed \(advisory\)\s", summary, re.MULTILINE)
    assert "all required sessions passed" in summary
    assert "\nfailed:" not in summary


def test_an_advisory_check_that_passes_is_just_passed() -> None:
    run = [outcome(job("security", kind="check", required=False), "passed", 2.0)]

    assert "advisory" not in format_summary(run, 2.0)


def test_required_sessions_that_did_not_pass_are_listed() -> None:
    run = [
        outcome(job("unit-3.11"), "failed", 1.0, Totals(tests=3, failures=3)),
        outcome(job("integration-3.11"), "cancelled", 0.0),
        outcome(job("lint", kind="check"), "interrupted", 0.5),
        outcome(job("typecheck", kind="check"), "passed", 0.5),
    ]

    summary = format_summary(run, 2.0)

    assert "failed: unit-3.11, integration-3.11, lint" in summary
    assert re.search(r"^integration-3\.11\s+cancelled\s", summary, re.MULTILINE)


def test_notes_are_listed_by_session() -> None:
    run = [
        outcome(job("unit-3.11"), "failed", 1.0, note="no JUnit file at reports/junit/u.xml"),
        outcome(job("lint", kind="check"), "passed", 1.0),
    ]

    summary = format_summary(run, 2.0)

    assert "\nnotes:\n  unit-3.11: no JUnit file at reports/junit/u.xml\n" in summary


def test_the_final_line() -> None:
    last = format_summary(mixed_run(), 90.0).split("\n")[-1]

    # errors count as failed; skipped (xfail included) are not passed.
    assert last == "suitekit: 11 passed, 2 failed, 2 skipped"


def test_the_final_line_of_an_empty_run() -> None:
    summary = format_summary([], 0.0)

    assert summary.endswith("all required sessions passed\nsuitekit: 0 passed, 0 failed, 0 skipped")


def test_the_final_line_counts_only_suites_with_totals() -> None:
    run = [
        outcome(job("a"), "passed", 1.0, Totals(tests=7, skipped=1)),
        outcome(job("b"), "passed", 1.0, Totals(tests=3, errors=2)),
        outcome(job("lint", kind="check"), "failed", 1.0),
    ]

    assert format_summary(run, 3.0).endswith("\nsuitekit: 7 passed, 2 failed, 1 skipped")


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
