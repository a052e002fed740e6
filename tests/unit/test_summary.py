"""Unit tests of the run summary (suitekit.reporting._summary), golden-file tested.

To rewrite the golden files after an intended change of the output, run
``SUITEKIT_UPDATE_GOLDEN=1 pytest tests/unit/test_summary.py`` and review the diff.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Final

import pytest

from suitekit._model import Quarantine
from suitekit.errors import ReportError
from suitekit.reporting._junit import Totals
from suitekit.reporting._markdown import render_markdown, write_markdown
from suitekit.reporting._results import (
    CaseOutcome,
    CaseResult,
    MergeResult,
    QuarantinedCase,
    QuarantineOutcome,
    SuiteResult,
)
from suitekit.reporting._streaks import StreakStore
from suitekit.reporting._summary import Expected, QuarantinedRow, Row, Summary, summarise
from suitekit.reporting._terminal import render_terminal

GOLDEN: Final = Path(__file__).parent / "golden"
# Read at import: the autouse fixture in tests/conftest.py removes every SUITEKIT_* variable
# before a test runs.
UPDATE_GOLDEN: Final = os.environ.get("SUITEKIT_UPDATE_GOLDEN") == "1"
JUNIT: Final = Path("reports/junit")


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
        return
    if not path.exists():
        pytest.fail(f"{path} does not exist; create it with SUITEKIT_UPDATE_GOLDEN=1")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs; if intended, rerun with SUITEKIT_UPDATE_GOLDEN=1"


def case(
    suite: str,
    key: str,
    seconds: float,
    outcome: CaseOutcome = "passed",
    message: str = "",
    *,
    attempts: int = 1,
) -> CaseResult:
    classname, name = key.split("::", 1)
    return CaseResult(
        suite=suite,
        classname=classname,
        name=name,
        seconds=seconds,
        outcome=outcome,
        message=message,
        attempts=attempts,
    )


def report(
    stem: str,
    *,
    tests: int,
    failures: int = 0,
    errors: int = 0,
    skipped: int = 0,
    flaky: int = 0,
    seconds: float,
) -> SuiteResult:
    return SuiteResult(
        name=stem.rsplit("-", 1)[0],
        source=JUNIT / f"{stem}.xml",
        totals=Totals(
            tests=tests,
            failures=failures,
            errors=errors,
            skipped=skipped,
            flaky=flaky,
            seconds=seconds,
        ),
    )


def merge(
    *suites: SuiteResult,
    failed: tuple[CaseResult, ...] = (),
    slowest: tuple[CaseResult, ...] = (),
    unreadable: tuple[tuple[Path, str], ...] = (),
    flaky: tuple[CaseResult, ...] = (),
    quarantined: tuple[QuarantinedCase, ...] = (),
) -> MergeResult:
    totals = Totals()
    for suite in suites:
        totals += suite.totals
    return MergeResult(
        output=JUNIT / "all.xml",
        suites=suites,
        totals=totals,
        failed=failed,
        slowest=slowest,
        durations={},
        unreadable=unreadable,
        flaky=flaky,
        quarantined=quarantined,
    )


def held(
    suite: str, key: str, entry: str, outcome: QuarantineOutcome = "passed", message: str = ""
) -> QuarantinedCase:
    return QuarantinedCase(suite=suite, key=key, entry=entry, outcome=outcome, message=message)


EXPECTED: Final = (
    Expected(name="unit-3.11", target_seconds=60),
    Expected(name="plugin-3.11", target_seconds=120),
    Expected(name="e2e-3.11", target_seconds=600),
)
SLOWEST: Final = (
    case("e2e", "tests.e2e.test_project::test_full_run", 212.345),
    case("plugin", "tests.plugin.test_xdist::test_two_workers[load]", 31.2),
    case("unit", "tests.unit.test_config::test_everything", 1.5),
)


def all_green() -> Summary:
    return summarise(
        merge(
            report("unit-3.11", tests=180, skipped=2, seconds=9.43),
            report("plugin-3.11", tests=30, seconds=88.0),
            report("e2e-3.11", tests=5, seconds=402.25),
            slowest=SLOWEST,
        ),
        EXPECTED,
    )


def failures() -> Summary:
    failed = (
        case(
            "unit",
            "tests.unit.test_table::test_pipes[a|b]",
            0.01,
            "failed",
            "AssertionError: assert 'a | b' == 'a|b'\n  - a|b\n  + a | b",
        ),
        case(
            "unit",
            "tests.unit.test_md::test_markup",
            0.02,
            "failed",
            "\n\nassert `<b>*bold*</b>` & [link](x) ~~gone~~ $HOME \\n\r\nsecond line",
        ),
        case(
            "plugin",
            "tests.plugin.test_db::TestDb::test_connect",
            0.5,
            "error",
            "failed on setup with \"fixture 'postgres' not found\"",
        ),
        case("plugin", "tests.plugin.test_quiet::test_no_message", 0.1, "failed", ""),
    )
    return summarise(
        merge(
            report("unit-3.11", tests=180, failures=2, skipped=3, seconds=9.5),
            report("plugin-3.11", tests=30, failures=1, errors=1, skipped=1, seconds=50.0),
            report("e2e-3.11", tests=5, seconds=300.0),
            failed=failed,
            slowest=SLOWEST,
        ),
        EXPECTED,
    )


def missing() -> Summary:
    return summarise(
        merge(
            report("unit-3.11", tests=180, seconds=9.5),
            report("plugin-3.11", tests=30, seconds=50.0),
        ),
        (*EXPECTED, Expected(name="docs-3.11", target_seconds=None, required=False)),
    )


def unreadable() -> Summary:
    return summarise(
        merge(
            report("unit-3.11", tests=180, seconds=9.5),
            report("plugin-3.11", tests=30, seconds=50.0),
            unreadable=(
                (
                    JUNIT / "e2e-3.11.xml",
                    # The merge starts its reasons with the path; the summary drops it.
                    "reports/junit/e2e-3.11.xml: not XML (no element found:\n line 1, column 0)",
                ),
            ),
        ),
        EXPECTED,
    )


def over_budget() -> Summary:
    return summarise(
        merge(
            report("unit-3.11", tests=180, seconds=61.04),
            report("plugin-3.11", tests=30, seconds=120.0),
            report("e2e-3.11", tests=5, seconds=1234.5),
            report("extra-3.11", tests=1, seconds=1.0),
            slowest=SLOWEST[:1],
        ),
        EXPECTED,
    )


FLAKY: Final = (
    case(
        "unit",
        "tests.unit.test_api::test_timeout[a|b]",
        0.3,
        "flaky",
        "TimeoutError: read `timed` out after *2 s*\nsecond line",
        attempts=2,
    ),
    case("unit", "tests.unit.test_cache::test_warm", 0.2, "flaky", "", attempts=3),
    case(
        "plugin", "tests.plugin.test_xdist::test_ports", 4.0, "flaky", "OSError: in use", attempts=2
    ),
)
QUARANTINE: Final = (
    Quarantine(
        test="tests/unit/test_clock.py::test_expiry",
        reason="clock skew on CI runners (#41)",
        index=0,
    ),
    Quarantine(
        test="tests/plugin/test_mail.py",
        reason="SMTP mock races | see #52",
        release_after=3,
        index=1,
    ),
    Quarantine(test="tests/unit/test_retry.py::test_backoff", reason="timing", index=2),
    Quarantine(test="tests/unit/test_slow_*.py", reason="slow disk", release_after=2, index=3),
)
QUARANTINED: Final = (
    held(
        "unit",
        "tests.unit.test_clock::test_expiry",
        QUARANTINE[0].test,
        "failed",
        "quarantined (clock skew on CI runners (#41)): AssertionError: expired 2 s early",
    ),
    held("plugin", "tests.plugin.test_mail::test_send", QUARANTINE[1].test),
    held("plugin", "tests.plugin.test_mail::test_bounce", QUARANTINE[1].test),
    held(
        "unit",
        "tests.unit.test_retry::test_backoff",
        QUARANTINE[2].test,
        "flaky",
        "TimeoutError: backoff took 2.1 s",
    ),
    held("unit", "tests.unit.test_slow_a::test_1", QUARANTINE[3].test),
    held("unit", "tests.unit.test_slow_b::test_2", QUARANTINE[3].test),
    held("e2e", "tests.e2e.test_old::test_legacy", "tests/e2e/test_old.py"),
)
STREAKS: Final = StreakStore(
    entries={
        QUARANTINE[1].test: {
            "tests.plugin.test_mail::test_send": 4,
            "tests.plugin.test_mail::test_bounce": 3,
        },
        QUARANTINE[3].test: {
            "tests.unit.test_slow_a::test_1": 2,
            "tests.unit.test_slow_b::test_2": 1,
        },
    }
)


def flaky() -> Summary:
    return summarise(
        merge(
            report("unit-3.11", tests=180, skipped=2, flaky=2, seconds=9.43),
            report("plugin-3.11", tests=30, flaky=1, seconds=88.0),
            report("e2e-3.11", tests=5, seconds=402.25),
            flaky=FLAKY,
            slowest=SLOWEST,
        ),
        EXPECTED,
    )


def quarantine() -> Summary:
    return summarise(
        merge(
            # The quarantined failure is a skip in the report, and the flaky one is flaky.
            report("unit-3.11", tests=180, skipped=3, flaky=1, seconds=9.43),
            report("plugin-3.11", tests=30, seconds=88.0),
            report("e2e-3.11", tests=5, seconds=402.25),
            flaky=(
                case(
                    "unit",
                    "tests.unit.test_retry::test_backoff",
                    1.0,
                    "flaky",
                    "TimeoutError: backoff took 2.1 s",
                    attempts=2,
                ),
            ),
            quarantined=QUARANTINED,
        ),
        EXPECTED,
        quarantine=QUARANTINE,
        streaks=STREAKS,
    )


def retries() -> Summary:
    return summarise(
        merge(
            report("unit-3.11", tests=180, failures=1, skipped=3, flaky=2, seconds=9.5),
            report("plugin-3.11", tests=30, flaky=1, seconds=50.0),
            report("e2e-3.11", tests=5, seconds=300.0),
            failed=(
                case(
                    "unit",
                    "tests.unit.test_api::test_retry_budget",
                    0.4,
                    "failed",
                    "AssertionError: 3 != 4",
                    attempts=3,
                ),
            ),
            flaky=FLAKY,
            quarantined=QUARANTINED[:1],
            slowest=SLOWEST,
        ),
        EXPECTED,
        quarantine=QUARANTINE,
        streaks=STREAKS,
    )


SCENARIOS: Final[dict[str, Callable[[], Summary]]] = {
    "all_green": all_green,
    "failures": failures,
    "missing": missing,
    "unreadable": unreadable,
    "over_budget": over_budget,
    "flaky": flaky,
    "quarantine": quarantine,
    "retries": retries,
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_terminal_output_matches_the_golden_file(scenario: str) -> None:
    assert_golden(f"summary_{scenario}.txt", render_terminal(SCENARIOS[scenario]()))


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_markdown_output_matches_the_golden_file(scenario: str) -> None:
    assert_golden(f"summary_{scenario}.md", render_markdown(SCENARIOS[scenario]()))


@pytest.mark.parametrize(
    ("scenario", "ok"),
    [
        pytest.param("all_green", True, id="all-green"),
        pytest.param("failures", False, id="failures"),
        pytest.param("missing", False, id="missing"),
        pytest.param("unreadable", False, id="unreadable"),
        pytest.param("over_budget", True, id="over-budget-is-not-a-failure"),
        pytest.param("flaky", True, id="flaky-is-not-a-failure"),
        pytest.param("quarantine", True, id="a-quarantined-failure-is-not-a-failure"),
        pytest.param("retries", False, id="failed-after-retries"),
    ],
)
def test_ok(scenario: str, ok: bool) -> None:
    assert SCENARIOS[scenario]().ok is ok


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_last_terminal_line_is_the_totals(scenario: str) -> None:
    summary = SCENARIOS[scenario]()
    totals = summary.totals
    last = render_terminal(summary).splitlines()[-1]
    extra = (f", {totals.flaky} flaky" if totals.flaky else "") + (
        f", {len(summary.quarantined)} quarantined" if summary.quarantined else ""
    )
    assert last == (
        f"suitekit: {totals.passed} passed, {totals.failures + totals.errors} failed, "
        f"{totals.skipped} skipped{extra}"
    )


@pytest.mark.parametrize(
    ("scenario", "last"),
    [
        pytest.param("all_green", "suitekit: 213 passed, 0 failed, 2 skipped", id="neither"),
        pytest.param("flaky", "suitekit: 210 passed, 0 failed, 2 skipped, 3 flaky", id="flaky"),
        pytest.param(
            "quarantine",
            "suitekit: 211 passed, 0 failed, 3 skipped, 1 flaky, 7 quarantined",
            id="quarantined",
        ),
        pytest.param(
            "retries",
            "suitekit: 208 passed, 1 failed, 3 skipped, 3 flaky, 1 quarantined",
            id="both",
        ),
    ],
)
def test_flaky_and_quarantined_counts_are_appended_only_when_there_are_any(
    scenario: str, last: str
) -> None:
    assert render_terminal(SCENARIOS[scenario]()).splitlines()[-1] == last


@pytest.mark.parametrize(
    ("scenario", "column"),
    [
        pytest.param("all_green", False, id="none-flaky"),
        pytest.param("failures", False, id="failures"),
        pytest.param("flaky", True, id="flaky"),
        pytest.param("quarantine", True, id="a-quarantined-flaky-test"),
    ],
)
def test_the_table_has_a_flaky_column_only_when_a_suite_has_flaky_tests(
    scenario: str, column: bool
) -> None:
    summary = SCENARIOS[scenario]()
    terminal_header = render_terminal(summary).splitlines()[1].split()
    markdown_header = next(
        line for line in render_markdown(summary).splitlines() if line.startswith("| suite |")
    )
    assert ("flaky" in terminal_header) is column
    assert (" flaky |" in markdown_header) is column
    if column:
        assert terminal_header[2:5] == ["passed", "flaky", "failed"]
        assert markdown_header.count("|") == len(terminal_header) + 1


def test_a_quarantined_test_gets_its_entry_reason_and_streak() -> None:
    rows = quarantine().quarantined
    assert rows[0] == QuarantinedRow(
        suite="unit",
        key="tests.unit.test_clock::test_expiry",
        outcome="failed",
        # The skip message's "quarantined (<reason>): " is left out: the reason is shown apart.
        message="AssertionError: expired 2 s early",
        entry=QUARANTINE[0],
        entry_test=QUARANTINE[0].test,
        streak=0,
    )
    assert [(row.key, row.streak, row.ready) for row in rows[1:]] == [
        ("tests.plugin.test_mail::test_send", 4, True),
        ("tests.plugin.test_mail::test_bounce", 3, True),
        ("tests.unit.test_retry::test_backoff", 0, False),
        ("tests.unit.test_slow_a::test_1", 2, True),
        ("tests.unit.test_slow_b::test_2", 1, False),
        ("tests.e2e.test_old::test_legacy", 0, False),  # its entry is no longer configured
    ]
    assert rows[-1].entry is None


def test_an_entry_is_ready_to_leave_quarantine_only_when_all_its_tests_are() -> None:
    text = render_terminal(quarantine())
    assert (
        "ready to leave quarantine (1):\n"
        "  tool.suitekit.quarantine[1] (test = 'tests/plugin/test_mail.py'): its tests passed "
        "3 runs in a row\n"
        "    fix: remove the entry tool.suitekit.quarantine[1] from the configuration\n"
    ) in text
    assert "tool.suitekit.quarantine[3]" not in text  # test_slow_b is not ready yet
    assert "- `tool.suitekit.quarantine[1]` (test = `tests/plugin/test_mail.py`)" in (
        render_markdown(quarantine())
    )


def test_without_streaks_every_quarantined_test_starts_at_zero() -> None:
    summary = summarise(merge(quarantined=QUARANTINED[1:2]), [], quarantine=QUARANTINE)
    assert [(row.streak, row.ready) for row in summary.quarantined] == [(0, False)]
    assert "passing streak 0/3" in render_terminal(summary)


def test_a_skipped_quarantined_test_is_shown_as_skipped_with_the_streak_it_kept() -> None:
    summary = summarise(
        merge(
            quarantined=(
                held(
                    "plugin",
                    "tests.plugin.test_mail::test_send",
                    QUARANTINE[1].test,
                    "skipped",
                    "skipped: no SMTP relay",
                ),
            )
        ),
        [],
        quarantine=QUARANTINE,
        streaks=STREAKS,
    )

    assert [(row.outcome, row.streak) for row in summary.quarantined] == [("skipped", 4)]
    terminal = render_terminal(summary)
    assert (
        "  SKIPPED tests.plugin.test_mail::test_send (plugin) - skipped: no SMTP relay\n"
        "    reason: SMTP mock races | see #52; passing streak 4/3 (kept: skipped), "
        "ready to leave quarantine\n"
    ) in terminal
    assert terminal.splitlines()[-1] == "suitekit: 0 passed, 0 failed, 0 skipped, 1 quarantined"
    assert summary.ok
    markdown = render_markdown(summary)
    assert (
        "| `tests.plugin.test_mail::test_send` | `plugin` | skipped | SMTP mock races \\| see #52 "
        "| 4/3 (kept: skipped) :white_check_mark: ready to leave quarantine "
        "| skipped: no SMTP relay |"
    ) in markdown


def test_errors_count_as_failed_in_the_last_line() -> None:
    assert render_terminal(failures()).splitlines()[-1] == (
        "suitekit: 207 passed, 4 failed, 4 skipped"
    )


def test_the_markdown_is_deterministic() -> None:
    assert render_markdown(failures()) == render_markdown(failures())


def test_an_expected_suite_matches_a_report_by_file_stem_or_by_suite_name() -> None:
    summary = summarise(
        merge(
            report("unit-3.11", tests=1, seconds=1.0),
            report("unit-3.12", tests=1, seconds=2.0),
            report("e2e-3.11", tests=1, seconds=3.0),
        ),
        [
            Expected(name="unit", target_seconds=1.5),  # by <testsuite name>, any Python
            Expected(name="e2e-3.11", target_seconds=10),  # by file stem
            Expected(name="e2e-3.12", target_seconds=10),
            Expected(name="plugin", target_seconds=None),
        ],
    )
    assert [(row.name, row.target_seconds, row.over_budget) for row in summary.rows] == [
        ("unit-3.11", 1.5, False),
        ("unit-3.12", 1.5, True),
        ("e2e-3.11", 10, False),
    ]
    assert summary.missing == ("e2e-3.12", "plugin")
    assert summary.missing_optional == ()
    assert not summary.ok


def test_the_budget_is_the_suites_own_time_not_its_cases_sum() -> None:
    # Under xdist the cases' times add up to more than pytest's own time for the suite; the
    # budget is the latter, the figure the run's table (inv test.all) shows too.
    xdist = replace(report("unit-3.11", tests=2, seconds=15.0), session_seconds=9.7)
    slow = replace(report("e2e-3.11", tests=1, seconds=3.0), session_seconds=12.5)
    summary = summarise(
        merge(xdist, slow),
        [
            Expected(name="unit-3.11", target_seconds=10),
            Expected(name="e2e-3.11", target_seconds=10),
        ],
    )

    assert [(row.seconds, row.budget_seconds, row.over_budget) for row in summary.rows] == [
        (15.0, 9.7, False),
        (3.0, 12.5, True),
    ]
    terminal = render_terminal(summary)
    assert re.search(r"^unit-3\.11 .* 15\.0  9\.7/10s$", terminal, re.MULTILINE), terminal
    assert re.search(r"^e2e-3\.11 .* 3\.0  12\.5/10s OVER$", terminal, re.MULTILINE), terminal
    markdown = render_markdown(summary)
    assert "| 15.0 | 9.7/10s |" in markdown
    assert "| 3.0 | :warning: 12.5/10s |" in markdown


def test_a_stem_match_gives_the_budget_before_a_name_match() -> None:
    summary = summarise(
        merge(report("unit-3.11", tests=1, seconds=1.0)),
        [Expected(name="unit", target_seconds=100), Expected(name="unit-3.11", target_seconds=5)],
    )
    assert summary.rows[0].target_seconds == 5


def test_an_expected_name_given_twice_is_required_if_either_says_so() -> None:
    summary = summarise(
        merge(),
        [
            Expected(name="unit", target_seconds=None, required=False),
            Expected(name="unit", target_seconds=10),
            Expected(name="docs", target_seconds=None, required=False),
        ],
    )
    assert summary.missing == ("unit",)
    assert summary.missing_optional == ("docs",)


def test_an_unreadable_report_is_not_listed_as_missing_too() -> None:
    summary = unreadable()
    assert summary.missing == ()
    assert [path.name for path, _ in summary.unreadable] == ["e2e-3.11.xml"]


def test_an_unreadable_reason_without_the_path_is_shown_as_it_is() -> None:
    summary = summarise(merge(unreadable=((JUNIT / "x.xml", "empty file"),)), [])
    assert "  reports/junit/x.xml: empty file" in render_terminal(summary).splitlines()
    assert "- `reports/junit/x.xml`: empty file" in render_markdown(summary).splitlines()


def test_a_missing_optional_suite_does_not_fail_the_run() -> None:
    summary = summarise(
        merge(report("unit-3.11", tests=1, seconds=1.0)),
        [
            Expected(name="unit-3.11", target_seconds=None),
            Expected(name="docs", target_seconds=None, required=False),
        ],
    )
    assert summary.ok
    assert summary.missing_optional == ("docs",)


def test_a_report_nobody_expected_gets_a_row_without_a_budget() -> None:
    summary = summarise(merge(report("extra-3.11", tests=2, seconds=1.0)), [])
    assert summary.rows == (
        Row(
            name="extra-3.11",
            tests=2,
            passed=2,
            failed=0,
            errors=0,
            skipped=0,
            seconds=1.0,
            target_seconds=None,
        ),
    )
    assert not summary.rows[0].over_budget


def test_a_failed_case_fails_the_summary_even_when_totals_disagree() -> None:
    summary = summarise(
        merge(
            report("unit-3.11", tests=1, seconds=1.0),
            failed=(case("unit", "t::a", 0.1, "failed", "boom"),),
        ),
        [],
    )
    assert not summary.ok
    assert "result: FAILED (failed tests)" in render_terminal(summary)


def test_an_empty_run_renders_and_says_so() -> None:
    summary = summarise(merge(), [])
    assert summary.ok
    assert render_terminal(summary) == (
        "suitekit test summary\n"
        "no suite reported any results\n"
        "\n"
        "result: OK\n"
        "suitekit: 0 passed, 0 failed, 0 skipped\n"
    )
    assert "success rate n/a" in render_markdown(summary)
    assert "| suite |" not in render_markdown(summary)


@pytest.mark.parametrize(
    ("totals", "rate"),
    [
        pytest.param(Totals(tests=215, failures=1, skipped=1), "99.5 %", id="the-brief"),
        pytest.param(Totals(tests=2000, failures=1), "99.9 %", id="never-rounds-up-to-100"),
        pytest.param(Totals(tests=3), "100.0 %", id="all-passed"),
        pytest.param(Totals(tests=3, errors=3), "0.0 %", id="none-passed"),
        pytest.param(Totals(tests=4, skipped=4), "n/a", id="all-skipped"),
        pytest.param(Totals(), "n/a", id="nothing-ran"),
    ],
)
def test_the_success_rate_leaves_skipped_tests_out(totals: Totals, rate: str) -> None:
    summary = Summary(rows=(), totals=totals, failed=(), slowest=(), missing=(), unreadable=())
    assert f"— success rate {rate}\n" in render_markdown(summary)


def test_the_totals_line_reads_as_in_the_brief() -> None:
    summary = Summary(
        rows=(),
        totals=Totals(tests=215, failures=1, skipped=1),
        failed=(),
        slowest=(),
        missing=(),
        unreadable=(),
    )
    assert (
        "**215 tests**, 213 passed, 1 failed, 0 errors, 1 skipped — success rate 99.5 %"
        in render_markdown(summary).splitlines()
    )


@pytest.mark.parametrize(
    ("key", "cell"),
    [
        pytest.param("t::a", "`t::a`", id="plain"),
        pytest.param("t::a[x|y]", "`t::a[x\\|y]`", id="pipe"),
        pytest.param("t::a[`x`]", "``t::a[`x`]``", id="backticks"),
        pytest.param("t::a[``]", "```t::a[``]```", id="double-backticks"),
    ],
)
def test_test_names_become_code_spans_that_survive_backticks_and_pipes(key: str, cell: str) -> None:
    summary = summarise(merge(slowest=(case("unit", key, 1.0),)), [])
    assert f"| {cell} | `unit` | 1.00 |" in render_markdown(summary).splitlines()


def test_a_long_message_is_shortened_in_markdown_and_to_one_line_in_the_terminal() -> None:
    message = "x" * 2000 + "\nsecond line"
    summary = summarise(
        merge(
            report("unit-3.11", tests=1, failures=1, seconds=1.0),
            failed=(case("unit", "t::a", 0.1, "failed", message),),
        ),
        [],
    )
    markdown_row = next(line for line in render_markdown(summary).splitlines() if "`t::a`" in line)
    assert markdown_row.endswith("x… |")
    assert len(markdown_row) < 600
    terminal_row = next(line for line in render_terminal(summary).splitlines() if "t::a" in line)
    assert terminal_row.endswith("x…")
    assert "second line" not in render_terminal(summary)


def test_write_markdown_writes_the_rendered_summary(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "summary.md"
    write_markdown(failures(), path, environ={})
    assert path.read_text(encoding="utf-8") == render_markdown(failures())
    write_markdown(all_green(), path, environ={})
    assert path.read_text(encoding="utf-8") == render_markdown(all_green())  # replaced
    assert sorted(p.name for p in path.parent.iterdir()) == ["summary.md"]


def test_write_markdown_leaves_the_old_file_intact_when_the_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "summary.md"
    path.write_text("previous summary\n", encoding="utf-8")
    step_summary = tmp_path / "step_summary.md"

    def refuse(source: object, target: object) -> None:
        message = f"cannot rename {source} to {target}"
        raise OSError(13, message)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ReportError, match="the previous file is unchanged") as caught:
        write_markdown(all_green(), path, environ={"GITHUB_STEP_SUMMARY": str(step_summary)})
    assert str(caught.value).startswith(f"{path}: cannot write")
    assert path.read_text(encoding="utf-8") == "previous summary\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.md"]


def test_write_markdown_appends_to_the_github_step_summary(tmp_path: Path) -> None:
    step_summary = tmp_path / "step_summary.md"
    step_summary.write_text("## Lint\n\nall clean\n", encoding="utf-8")
    environ = {"GITHUB_STEP_SUMMARY": str(step_summary)}
    write_markdown(failures(), tmp_path / "summary.md", environ=environ)
    write_markdown(all_green(), tmp_path / "summary.md", environ=environ)
    assert step_summary.read_text(encoding="utf-8") == (
        f"## Lint\n\nall clean\n\n{render_markdown(failures())}\n{render_markdown(all_green())}"
    )


def test_write_markdown_creates_the_github_step_summary_when_absent(tmp_path: Path) -> None:
    step_summary = tmp_path / "step_summary.md"
    write_markdown(
        all_green(), tmp_path / "summary.md", environ={"GITHUB_STEP_SUMMARY": str(step_summary)}
    )
    assert step_summary.read_text(encoding="utf-8") == render_markdown(all_green())


def test_an_empty_github_step_summary_variable_is_ignored(tmp_path: Path) -> None:
    write_markdown(all_green(), tmp_path / "summary.md", environ={"GITHUB_STEP_SUMMARY": ""})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.md"]


def test_an_unwritable_github_step_summary_is_a_report_error(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(ReportError, match="cannot append the summary to GITHUB_STEP_SUMMARY"):
        write_markdown(
            all_green(), tmp_path / "summary.md", environ={"GITHUB_STEP_SUMMARY": str(folder)}
        )


# -- the reports folder's outputs, named alike everywhere ------------------------------------------


def test_the_page_links_the_reports_that_the_ending_and_the_json_name(tmp_path: Path) -> None:
    from suitekit._model import Project  # noqa: PLC0415 - this test only
    from suitekit.reporting import report_outputs  # noqa: PLC0415
    from suitekit.reporting._report import _links  # noqa: PLC0415 - the page's links

    project = Project(root=tmp_path, config_file=tmp_path / "pyproject.toml", python=("3.11",))
    reports = tmp_path / project.reports
    (reports / "logs").mkdir(parents=True)
    for name in ("junit.xml", "summary.md", "index.html", "logs/unit-3.11.log"):
        (reports / name).write_text("x", encoding="utf-8")
    outputs = {output.kind: output for output in report_outputs(reports)}

    links = _links(project, reports, ["unit-3.11"])
    measured = _links(replace(project, source=("src",)), reports, ["unit-3.11"])

    # Not the page itself; each log rather than their folder; coverage's only when measured.
    assert [(link.label, link.href, link.present) for link in links] == [
        ("merged JUnit", "junit.xml", True),
        ("summary", "summary.md", True),
        ("log: unit-3.11", "logs/unit-3.11.log", True),
    ]
    # Measured: linked before `suitekit coverage` (after the report) writes them.
    coverage = [(link.label, link.href, link.present) for link in measured[2:5]]
    assert coverage == [
        (outputs[kind].label, outputs[kind].href, False)
        for kind in ("coverage_html", "coverage_json", "coverage_xml")
    ]
    for output in outputs.values():
        assert reports / output.href == output.path
