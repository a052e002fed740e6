"""The end-of-run summary: suites, failed, flaky and quarantined tests, missing reports.

:func:`summarise` turns the merged JUnit results (:class:`~suitekit.reporting._results.MergeResult`)
and the suites the run was expected to report into a :class:`Summary`: the table of suites and
the lists of tests that the renderers show, as a terminal table
(:func:`~suitekit.reporting._terminal.render_terminal`) or as Markdown for a CI job page
(:mod:`suitekit.reporting._markdown`). Everything here is a pure function of its input, so the
output is deterministic and golden-file tested.

A suite that crashed before pytest wrote its JUnit file leaves no trace in the merge. That is
why the expected suites are passed in: an expected suite with no report is listed as missing,
and a missing required suite makes the summary not :attr:`Summary.ok`, however green the rest.

Flaky tests (passed only on a retry) and quarantined tests get sections of their own and never
make the summary not OK: a flaky test is not a failure, only a warning that cannot be ignored,
and a quarantined test's failure is reported but, by design, does not fail the run. The flaky
column of the suite table and the counts at the end of the last line appear only when there are
any, so that a run without them reads exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from suitekit.reporting._figures import over_budget
from suitekit.reporting._junit import Totals

if TYPE_CHECKING:
    from suitekit._model import Quarantine
    from suitekit.reporting._results import (
        CaseResult,
        MergeResult,
        QuarantinedCase,
        QuarantineOutcome,
        SuiteResult,
    )
    from suitekit.reporting._streaks import StreakStore

__all__ = [
    "CheckResult",
    "CheckStatus",
    "CoverageFigures",
    "Expected",
    "QuarantinedRow",
    "Row",
    "Summary",
    "check_results",
    "summarise",
]

CheckStatus = Literal["success", "failure", "cancelled", "skipped"]


def check_results(text: str) -> tuple[CheckResult, ...]:
    """The checks' results in ``SUITEKIT_CHECK_RESULTS`` (``{"lint": "success"}``), in order.

    What is not such an object, and an entry whose result is none of :data:`CheckStatus`
    (an empty one: a check CI did not run), is left out: the summary lists what is known.
    """
    from suitekit._files import load_json  # noqa: PLC0415 - with checks' results only

    try:
        data = load_json(text)
    except ValueError:
        return ()
    if not isinstance(data, dict):
        return ()
    known = get_args(CheckStatus)
    return tuple(
        CheckResult(name=name, status=status)
        for name, status in data.items()
        if isinstance(name, str) and status in known
    )


"""A check job's result, in GitHub Actions' words (``needs.<job>.result``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """How one check (``[tool.suitekit.checks]``: lint, audit...) of the run ended.

    Attributes:
        name: The check.
        status: Its result.
    """

    name: str
    status: CheckStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageFigures:
    """The coverage of the run: per suite (every Python of it together) and combined.

    Attributes:
        per_suite: Each suite's own coverage, in percent, by suite name.
        percent: The combined coverage of all suites, in percent.
        fail_under: The gate (``[tool.suitekit.coverage] fail-under``).
    """

    per_suite: tuple[tuple[str, float], ...]
    percent: float
    fail_under: float

    @property
    def ok(self) -> bool:
        """Whether the combined figure reaches the gate (as ``suitekit coverage`` decides)."""
        return round(self.percent, 2) >= self.fail_under


@dataclass(frozen=True, slots=True, kw_only=True)
class Expected:
    """A suite the run should have reported.

    Attributes:
        name: The suite, per Python version as its JUnit file is named (``"unit-3.11"``), or
            the suite alone (``"unit"``), which any of its Python versions satisfies.
        target_seconds: The suite's time budget, or ``None`` for none.
        required: Whether a missing report makes the run fail.
    """

    name: str
    target_seconds: float | None
    required: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One suite's line of the summary: one JUnit file's ``<testsuite>``.

    Attributes:
        name: The report's file stem, e.g. ``unit-3.11``: unique per suite and Python version.
        tests: Test cases run.
        passed: Test cases passed.
        failed: Test cases failed.
        errors: Test cases errored.
        skipped: Test cases skipped.
        seconds: The sum of its test cases' times, as the report gives them.
        target_seconds: The budget of the expected suite it matched, if any.
        flaky: Test cases that passed only on a retry (not counted in ``passed``).
        session_seconds: pytest's own time for the suite (its ``<testsuite time>``), which the
            budget measures, as the run's table does; ``None``: not known, ``seconds`` instead.
    """

    name: str
    tests: int
    passed: int
    failed: int
    errors: int
    skipped: int
    seconds: float
    target_seconds: float | None
    flaky: int = 0
    session_seconds: float | None = None

    @classmethod
    def from_totals(
        cls,
        name: str,
        totals: Totals,
        *,
        target_seconds: float | None,
        session_seconds: float | None = None,
    ) -> Row:
        """The line named ``name`` for ``totals`` (a suite's, or the run's)."""
        return cls(
            name=name,
            tests=totals.tests,
            passed=totals.passed,
            failed=totals.failures,
            errors=totals.errors,
            skipped=totals.skipped,
            seconds=totals.seconds,
            target_seconds=target_seconds,
            flaky=totals.flaky,
            session_seconds=session_seconds,
        )

    @property
    def budget_seconds(self) -> float:
        """The time the budget measures: pytest's own for the suite, else the cases' sum.

        The one figure that the run's table (``inv test.all``, ``suitekit run``) and this
        summary both set against ``target-seconds``: under xdist the cases' sum is several
        times the suite's time, and without it the sum leaves collection and start-up out.
        """
        return self.seconds if self.session_seconds is None else self.session_seconds

    @property
    def over_budget(self) -> bool:
        """Whether the suite took longer than its budget."""
        return over_budget(self.budget_seconds, self.target_seconds)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantinedRow:
    """A quarantined test in one suite report, with its entry and its passing streak.

    Attributes:
        suite: The suite report's ``<testsuite>`` name.
        key: The test's ``classname::name``.
        outcome: Its outcome in this report: ``passed``, ``failed`` (or errored), ``flaky`` or
            ``skipped`` (it did not run; its streak stays as it was).
        message: The first line of its failure, without the ``quarantined (<reason>): `` that
            the skip message starts with, or of its skip reason; ``""`` when it passed.
        entry: The configured entry that quarantines it; ``None`` when the report names an
            entry that is no longer in the configuration.
        entry_test: The ``test`` of the entry, as the report names it.
        streak: The runs in a row it passed, this run included (0 when it failed; when it was
            skipped, the streak it had).
    """

    suite: str
    key: str
    outcome: QuarantineOutcome
    message: str
    entry: Quarantine | None
    entry_test: str
    streak: int

    @property
    def ready(self) -> bool:
        """Whether it passed the entry's ``release-after`` runs in a row."""
        return self.entry is not None and self.streak >= self.entry.release_after


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """What a run reported, ready to render.

    Attributes:
        rows: One per suite report, in the merge's order.
        totals: The counts of every report together.
        failed: The failed and errored test cases.
        slowest: The slowest test cases, slowest first.
        missing: Required suites that wrote no report: each one fails the run.
        unreadable: Report files that could not be read, with the reason.
        missing_optional: Suites not required that wrote no report: listed, but not failing.
        flaky: The test cases that passed only on a retry: listed, but not failing.
        quarantined: The quarantined tests, per suite report: listed, but never failing.
        checks: The checks' results, when the run gave them: listed; the checks' own jobs
            fail the run, not the summary.
        coverage: The coverage figures, when the run measured coverage; ``None`` otherwise.
            Listed; the gate is ``suitekit coverage``'s.
        coverage_problem: Why the coverage figures could not be computed, when there was
            coverage data (``""`` otherwise).
    """

    rows: tuple[Row, ...]
    totals: Totals
    failed: tuple[CaseResult, ...]
    slowest: tuple[CaseResult, ...]
    missing: tuple[str, ...]
    unreadable: tuple[tuple[Path, str], ...]
    missing_optional: tuple[str, ...] = ()
    flaky: tuple[CaseResult, ...] = ()
    quarantined: tuple[QuarantinedRow, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    coverage: CoverageFigures | None = None
    coverage_problem: str = ""

    @property
    def ok(self) -> bool:
        """No failures or errors, no required suite missing, no unreadable report.

        Flaky and quarantined tests do not count against it.
        """
        return (
            self.totals.failures == 0
            and self.totals.errors == 0
            and not self.failed
            and not self.missing
            and not self.unreadable
        )


def summarise(
    result: MergeResult,
    expected: Sequence[Expected],
    *,
    quarantine: Sequence[Quarantine] = (),
    streaks: StreakStore | None = None,
    checks: Sequence[CheckResult] = (),
    coverage: CoverageFigures | None = None,
    coverage_problem: str = "",
) -> Summary:
    """Line the merged reports up against the suites the run was expected to report.

    A report matches an expected suite when the report's file stem (``unit-3.11``) or its
    ``<testsuite name>`` (``unit``) equals the expected name; a stem match is preferred when
    looking up the budget. Reports that match nothing still get a row, without a budget.
    Expected suites that no report matches are missing, unless an unreadable file has the
    expected name as its stem: that suite is listed once, as unreadable (which fails the run
    too), not a second time as missing.

    A quarantined test is matched to its configured entry by the entry's ``test`` (the first
    entry with it), which gives its reason and ``release-after``; its streak comes from
    ``streaks`` (the store after this run was recorded in it; without one, every streak is 0).

    The checks' results and the coverage figures are passed through as they are.
    """
    by_name: dict[str, Expected] = {}
    for item in expected:
        known = by_name.get(item.name)
        # The same name twice: required if either says so, and the first budget given.
        by_name[item.name] = (
            item
            if known is None
            else replace(
                known,
                target_seconds=item.target_seconds
                if known.target_seconds is None
                else known.target_seconds,
                required=known.required or item.required,
            )
        )
    rows = tuple(_row(suite, by_name) for suite in result.suites)
    reported = (
        {suite.source.stem for suite in result.suites}
        | {suite.name for suite in result.suites}
        | {path.stem for path, _ in result.unreadable}
    )
    absent = [item for item in by_name.values() if item.name not in reported]
    return Summary(
        rows=rows,
        totals=result.totals,
        failed=result.failed,
        slowest=result.slowest,
        missing=tuple(item.name for item in absent if item.required),
        missing_optional=tuple(item.name for item in absent if not item.required),
        unreadable=result.unreadable,
        flaky=result.flaky,
        quarantined=_quarantined(result.quarantined, quarantine, streaks),
        checks=tuple(checks),
        coverage=coverage,
        coverage_problem=coverage_problem,
    )


def _quarantined(
    cases: Sequence[QuarantinedCase],
    quarantine: Sequence[Quarantine],
    streaks: StreakStore | None,
) -> tuple[QuarantinedRow, ...]:
    entries: dict[str, Quarantine] = {}
    for configured in quarantine:
        entries.setdefault(configured.test, configured)
    rows = []
    for case in cases:
        entry = entries.get(case.entry)
        message = case.message
        if entry is not None:
            # The plugin's skip message repeats the reason, which has a column of its own.
            message = message.removeprefix(f"quarantined ({entry.reason}): ")
        rows.append(
            QuarantinedRow(
                suite=case.suite,
                key=case.key,
                outcome=case.outcome,
                message=message,
                entry=entry,
                entry_test=case.entry,
                streak=0 if streaks is None else streaks.streak(case.entry, case.key),
            )
        )
    return tuple(rows)


def _row(suite: SuiteResult, expected: Mapping[str, Expected]) -> Row:
    stem = suite.source.stem
    match = expected.get(stem) or expected.get(suite.name)
    target_seconds = None if match is None else match.target_seconds
    return Row.from_totals(
        stem, suite.totals, target_seconds=target_seconds, session_seconds=suite.session_seconds
    )
