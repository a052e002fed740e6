"""The end-of-run summary: suites, failed, flaky and quarantined tests, missing reports.

:func:`summarise` turns the merged JUnit results (:class:`~suitekit.reporting._merge.MergeResult`)
and the suites the run was expected to report into a :class:`Summary`; the renderers turn that
into a terminal table (:func:`render_terminal`) or Markdown for a CI job page
(:func:`render_markdown`, :func:`write_markdown`). Everything here is a pure function of its
input, so the output is deterministic and golden-file tested.

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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

from suitekit._files import write_text_atomic
from suitekit.errors import ReportError
from suitekit.reporting._junit import Totals
from suitekit.reporting._surefire import first_line

if TYPE_CHECKING:
    from suitekit._model import Quarantine
    from suitekit.reporting._merge import (
        CaseResult,
        MergeResult,
        QuarantinedCase,
        QuarantineOutcome,
        SuiteResult,
    )
    from suitekit.reporting._streaks import StreakStore

__all__ = [
    "Expected",
    "QuarantinedRow",
    "Row",
    "Summary",
    "render_markdown",
    "render_terminal",
    "summarise",
    "write_markdown",
]

_HEADERS: Final = ("suite", "tests", "passed", "failed", "errors", "skipped", "seconds", "budget")
# With a flaky column, after "passed": only when some suite has flaky tests.
_FLAKY_HEADERS: Final = (*_HEADERS[:3], "flaky", *_HEADERS[3:])
_MESSAGE_LIMIT: Final = 500  # characters of a failure message in Markdown; tracebacks are long
_TERMINAL_MESSAGE_LIMIT: Final = 160
# Backslash-escaped in Markdown text: emphasis, links, HTML, tables, strikethrough, entities,
# and GitHub's math delimiter.
_MARKDOWN_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|~&$])")
_BACKTICK_RUNS: Final = re.compile(r"`+")
_MISSING_EXPLAINED: Final = (
    "These suites were expected but wrote no JUnit report: they crashed before the end, "
    "or never ran."
)
_FLAKY_EXPLAINED: Final = (
    "These tests failed, then passed on a retry. They do not fail the run, but a test that "
    "needs a retry to pass hides a bug in the test or in the code."
)
_QUARANTINED_EXPLAINED: Final = (
    "These tests are quarantined: they ran, but their failures do not fail the run. The "
    "streak counts the runs in a row they passed."
)
_READY_EXPLAINED: Final = (
    "Every test of these quarantine entries passed enough runs in a row: remove the entries "
    "from the configuration, so that the tests can fail the run again."
)


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
        seconds: The tests' own time, as the report gives it.
        target_seconds: The budget of the expected suite it matched, if any.
        flaky: Test cases that passed only on a retry (not counted in ``passed``).
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

    @property
    def over_budget(self) -> bool:
        """Whether the suite took longer than its budget."""
        return self.target_seconds is not None and self.seconds > self.target_seconds


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
    totals = suite.totals
    return Row(
        name=stem,
        tests=totals.tests,
        passed=totals.passed,
        failed=totals.failures,
        errors=totals.errors,
        skipped=totals.skipped,
        seconds=totals.seconds,
        target_seconds=None if match is None else match.target_seconds,
        flaky=totals.flaky,
    )


def _budget(row: Row) -> str:
    if row.target_seconds is None:
        return ""
    return f"{row.seconds:.1f}/{row.target_seconds:g}s"


def _cells(row: Row, *, flaky: bool) -> tuple[str, ...]:
    return (
        str(row.tests),
        str(row.passed),
        *((str(row.flaky),) if flaky else ()),
        str(row.failed),
        str(row.errors),
        str(row.skipped),
        f"{row.seconds:.1f}",
    )


def _has_flaky(summary: Summary) -> bool:
    """Whether the suite table gets a flaky column."""
    return any(row.flaky for row in summary.rows)


def _attempts(case: CaseResult) -> str:
    return f", {case.attempts} attempts" if case.attempts > 1 else ""


def _ready(summary: Summary) -> list[tuple[Quarantine, int]]:
    """The entries whose every test in this run is ready to leave quarantine, in config order.

    Each with the smallest streak of its tests. An entry with a test not ready yet is left out:
    removing it would release that test too.
    """
    streaks: dict[Quarantine, list[int]] = {}
    waiting: set[Quarantine] = set()
    for row in summary.quarantined:
        if row.entry is None:
            continue
        streaks.setdefault(row.entry, []).append(row.streak)
        if not row.ready:
            waiting.add(row.entry)
    ready = [(entry, min(values)) for entry, values in streaks.items() if entry not in waiting]
    return sorted(ready, key=lambda item: item[0].index)


def _streak(row: QuarantinedRow) -> str:
    if row.entry is None:
        return ""
    # A skipped test did not run: its streak is the one it had, neither grown nor reset.
    kept = " (kept: skipped)" if row.outcome == "skipped" else ""
    return f"{row.streak}/{row.entry.release_after}{kept}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _reason(path: Path, reason: str) -> str:
    """Why a report is unreadable, on one line and without the path the line starts with."""
    flat = " ".join(reason.split())
    for prefix in (f"{path}: ", f"{path.as_posix()}: "):
        flat = flat.removeprefix(prefix)
    return flat


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def _verdict(summary: Summary) -> tuple[bool, str]:
    """Whether the run is OK, and the reasons it is not, counted."""
    problems = []
    failed = summary.totals.failures + summary.totals.errors
    if failed:
        problems.append(_count(failed, "failed test"))
    if summary.missing:
        problems.append(_count(len(summary.missing), "required report") + " missing")
    if summary.unreadable:
        problems.append(_count(len(summary.unreadable), "unreadable report"))
    if not problems and not summary.ok:
        problems.append("failed tests")  # listed below, though the totals count none
    return summary.ok, ", ".join(problems)


def render_terminal(summary: Summary) -> str:
    """The summary as aligned plain text; the last line is pytest-like totals.

    The table (with a flaky column when some suite has flaky tests) is followed by the failed,
    flaky and quarantined tests (key and the first line of the message), the quarantine entries
    ready to be removed, the missing and unreadable reports and the slowest tests, each only
    when there are any. The last line is always
    ``suitekit: {passed} passed, {failed} failed, {skipped} skipped``, where failed counts errors
    too, followed by ``, {n} flaky`` and ``, {n} quarantined`` when there are any, so that tools
    can read it.
    """
    totals = summary.totals
    lines = ["suitekit test summary"]
    if summary.rows:
        lines += _terminal_table(summary)
    else:
        lines.append("no suite reported any results")
    if summary.failed:
        lines += ["", f"failed tests ({len(summary.failed)}):"]
        for case in summary.failed:
            first = _shorten(first_line(case.message), _TERMINAL_MESSAGE_LIMIT)
            label = "ERROR" if case.outcome == "error" else "FAILED"
            lines.append(
                f"  {label} {case.key} ({case.suite}{_attempts(case)})"
                + (f" - {first}" if first else "")
            )
    lines += _terminal_flaky(summary)
    lines += _terminal_quarantined(summary)
    if summary.missing or summary.missing_optional:
        count = len(summary.missing) + len(summary.missing_optional)
        lines += [
            "",
            f"missing reports ({count}): expected, but no JUnit file (crashed or never ran)",
        ]
        lines += [f"  {name}" for name in summary.missing]
        lines += [f"  {name} (optional)" for name in summary.missing_optional]
    if summary.unreadable:
        lines += ["", f"unreadable reports ({len(summary.unreadable)}):"]
        lines += [
            f"  {path.as_posix()}: {_reason(path, reason)}" for path, reason in summary.unreadable
        ]
    if summary.slowest:
        lines += ["", f"slowest {_count(len(summary.slowest), 'test')}:"]
        width = max(len(f"{case.seconds:.2f}") for case in summary.slowest)
        lines += [
            f"  {case.seconds:{width}.2f}s  {case.key} ({case.suite})" for case in summary.slowest
        ]
    ok, problems = _verdict(summary)
    lines += ["", "result: OK" if ok else f"result: FAILED ({problems})"]
    lines.append(
        f"suitekit: {totals.passed} passed, {totals.failures + totals.errors} failed, "
        f"{totals.skipped} skipped{_extra_counts(summary)}"
    )
    return "\n".join(lines) + "\n"


def _extra_counts(summary: Summary) -> str:
    """``, N flaky`` and ``, N quarantined`` for the counts that are not zero."""
    flaky = summary.totals.flaky
    quarantined = len(summary.quarantined)
    return (f", {flaky} flaky" if flaky else "") + (
        f", {quarantined} quarantined" if quarantined else ""
    )


def _terminal_table(summary: Summary) -> list[str]:
    totals = summary.totals
    flaky = _has_flaky(summary)
    headers = _FLAKY_HEADERS if flaky else _HEADERS
    left_aligned = {0, len(headers) - 1}  # the suite and the budget
    total = Row(
        name="total",
        tests=totals.tests,
        passed=totals.passed,
        failed=totals.failures,
        errors=totals.errors,
        skipped=totals.skipped,
        seconds=totals.seconds,
        target_seconds=None,
        flaky=totals.flaky,
    )
    table = [
        headers,
        *(
            (
                row.name,
                *_cells(row, flaky=flaky),
                _budget(row) + (" OVER" if row.over_budget else ""),
            )
            for row in summary.rows
        ),
        (total.name, *_cells(total, flaky=flaky), ""),
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    rule = "  ".join("-" * width for width in widths)
    lines = []
    for index, cells in enumerate(table):
        if index in {1, len(table) - 1}:
            lines.append(rule)
        aligned = (
            cell.ljust(width) if column in left_aligned else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        lines.append("  ".join(aligned).rstrip())
    return lines


def _terminal_flaky(summary: Summary) -> list[str]:
    if not summary.flaky:
        return []
    lines = ["", f"flaky tests ({len(summary.flaky)}): failed, then passed on a retry"]
    for case in summary.flaky:
        first = _shorten(first_line(case.message), _TERMINAL_MESSAGE_LIMIT)
        lines.append(
            f"  FLAKY {case.key} ({case.suite}{_attempts(case)})"
            + (f" - first failure: {first}" if first else "")
        )
    return lines


def _terminal_quarantined(summary: Summary) -> list[str]:
    if not summary.quarantined:
        return []
    lines = [
        "",
        (
            f"quarantined tests ({len(summary.quarantined)}): they ran, "
            "but their failures do not fail the run"
        ),
    ]
    for row in summary.quarantined:
        first = _shorten(first_line(row.message), _TERMINAL_MESSAGE_LIMIT)
        lines.append(
            f"  {row.outcome.upper()} {row.key} ({row.suite})" + (f" - {first}" if first else "")
        )
        if row.entry is None:
            lines.append(f"    entry {row.entry_test!r} is no longer in the configuration")
            continue
        ready = ", ready to leave quarantine" if row.ready else ""
        reason = _shorten(" ".join(row.entry.reason.split()), _TERMINAL_MESSAGE_LIMIT)
        lines.append(f"    reason: {reason}; passing streak {_streak(row)}{ready}")
    ready_entries = _ready(summary)
    if ready_entries:
        lines += ["", f"ready to leave quarantine ({len(ready_entries)}):"]
        for entry, streak in ready_entries:
            lines += [
                f"  {entry.key} (test = {entry.test!r}): its tests passed {streak} runs in a row",
                f"    fix: remove the entry {entry.key} from the configuration",
            ]
    return lines


def _success_rate(totals: Totals) -> str:
    """Passed out of the tests that ran (skipped ones left out), as ``"99.5 %"`` or ``"n/a"``.

    The figure is rounded down, so that a run with a failure never shows 100.0 %.
    """
    ran = totals.tests - totals.skipped
    if ran <= 0:
        return "n/a"
    tenths = totals.passed * 1000 // ran
    return f"{tenths // 10}.{tenths % 10} %"


def _text(text: str) -> str:
    """Plain text for a Markdown table cell: special characters escaped, lines as ``<br>``."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "<br>".join(_MARKDOWN_SPECIAL.sub(r"\\\1", line) for line in lines)


def _code(text: str) -> str:
    """Text as a Markdown code span that survives any backticks and pipes in it."""
    flat = " ".join(text.splitlines())
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {flat} " if flat.startswith("`") or flat.endswith("`") else flat
    # GitHub splits table cells at a pipe even inside a code span, unless it is escaped.
    return fence + padded.replace("|", "\\|") + fence


def _table(headers: Sequence[str], align: str, rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table; ``align`` holds ``l`` or ``r`` per column."""
    rule = ["---:" if side == "r" else ":---" for side in align]
    return [f"| {' | '.join(cells)} |" for cells in (headers, rule, *rows)]


def render_markdown(summary: Summary) -> str:
    """The summary as GitHub-flavoured Markdown, for ``$GITHUB_STEP_SUMMARY`` or a PR comment.

    A heading, the verdict, a line of totals with the success rate, a table of suites (the
    budget flagged ``:warning:`` when over, a flaky column when some suite has flaky tests),
    then the failed, flaky and quarantined tests, the quarantine entries ready to be removed,
    missing and unreadable reports and the slowest tests, each section only when it has
    content. Nothing in it depends on the time or the machine, so the same results give the
    same text.
    """
    totals = summary.totals
    ok, problems = _verdict(summary)
    rate = _success_rate(totals)
    lines = [
        "## Test summary",
        "",
        ":white_check_mark: **OK**" if ok else f":x: **Failed**: {problems}",
        "",
        (
            f"**{totals.tests} tests**, {totals.passed} passed, {totals.failures} failed, "
            f"{totals.errors} errors, {totals.skipped} skipped{_extra_counts(summary)}"
            f" — success rate {rate}"
        ),
    ]
    if summary.rows:
        flaky = _has_flaky(summary)
        rows = [
            (
                _code(row.name),
                *_cells(row, flaky=flaky),
                (":warning: " if row.over_budget else "") + _budget(row),
            )
            for row in summary.rows
        ]
        headers = _FLAKY_HEADERS if flaky else _HEADERS
        lines += ["", *_table(headers, "l" + "r" * (len(headers) - 2) + "l", rows)]
    if summary.failed:
        rows = [
            (
                _code(case.key),
                _code(case.suite),
                case.outcome + (f" ({case.attempts} attempts)" if case.attempts > 1 else ""),
                _text(_shorten(case.message.strip(), _MESSAGE_LIMIT)),
            )
            for case in summary.failed
        ]
        lines += [
            "",
            "### Failed tests",
            "",
            *_table(("test", "suite", "outcome", "message"), "llll", rows),
        ]
    lines += _markdown_flaky(summary)
    lines += _markdown_quarantined(summary)
    if summary.missing or summary.missing_optional:
        lines += [
            "",
            "### Missing reports",
            "",
            _MISSING_EXPLAINED,
            "",
            *(f"- {_code(name)}" for name in summary.missing),
            *(f"- {_code(name)} (optional)" for name in summary.missing_optional),
        ]
    if summary.unreadable:
        lines += [
            "",
            "### Unreadable reports",
            "",
            *(
                f"- {_code(path.as_posix())}: {_text(_reason(path, reason))}"
                for path, reason in summary.unreadable
            ),
        ]
    if summary.slowest:
        rows = [
            (_code(case.key), _code(case.suite), f"{case.seconds:.2f}") for case in summary.slowest
        ]
        lines += ["", "### Slowest tests", "", *_table(("test", "suite", "seconds"), "llr", rows)]
    return "\n".join(lines) + "\n"


def _markdown_flaky(summary: Summary) -> list[str]:
    if not summary.flaky:
        return []
    rows = [
        (
            _code(case.key),
            _code(case.suite),
            str(case.attempts),
            _text(_shorten(case.message.strip(), _MESSAGE_LIMIT)),
        )
        for case in summary.flaky
    ]
    return [
        "",
        "### Flaky tests",
        "",
        _FLAKY_EXPLAINED,
        "",
        *_table(("test", "suite", "attempts", "first failure"), "llrl", rows),
    ]


def _markdown_quarantined(summary: Summary) -> list[str]:
    if not summary.quarantined:
        return []
    rows = []
    for row in summary.quarantined:
        if row.entry is None:
            reason = f"entry {_code(row.entry_test)} is no longer in the configuration"
        else:
            reason = _text(_shorten(row.entry.reason.strip(), _MESSAGE_LIMIT))
        streak = _streak(row) + (" :white_check_mark: ready to leave quarantine" * row.ready)
        rows.append(
            (
                _code(row.key),
                _code(row.suite),
                row.outcome,
                reason,
                streak,
                _text(_shorten(row.message.strip(), _MESSAGE_LIMIT)),
            )
        )
    lines = [
        "",
        "### Quarantined tests",
        "",
        _QUARANTINED_EXPLAINED,
        "",
        *_table(("test", "suite", "outcome", "reason", "streak", "message"), "llllll", rows),
    ]
    ready_entries = _ready(summary)
    if ready_entries:
        lines += [
            "",
            "### Ready to leave quarantine",
            "",
            _READY_EXPLAINED,
            "",
            *(
                f"- {_code(entry.key)} (test = {_code(entry.test)}): its tests passed "
                f"{streak} runs in a row"
                for entry, streak in ready_entries
            ),
        ]
    return lines


def write_markdown(summary: Summary, path: Path, *, environ: Mapping[str, str]) -> None:
    """Write the Markdown summary to ``path`` atomically, and append it to the job's page on CI.

    Args:
        summary: What to write.
        path: The Markdown file, replaced as a whole (a temporary file, then a rename).
        environ: The environment; when ``GITHUB_STEP_SUMMARY`` names a file, the same
            Markdown is appended to it (GitHub Actions shows that file on the job's page).

    Raises:
        ReportError: Either file cannot be written.
    """
    text = render_markdown(summary)
    write_text_atomic(path, text)
    step_summary = environ.get("GITHUB_STEP_SUMMARY", "")
    if not step_summary:
        return
    target = Path(step_summary)
    try:
        with target.open("a", encoding="utf-8", newline="\n") as handle:
            # Earlier steps may have written to it: keep our heading a block of its own.
            handle.write(("\n" if handle.tell() else "") + text)
    except OSError as error:
        message = f"{target}: cannot append the summary to GITHUB_STEP_SUMMARY ({error})"
        raise ReportError(message) from None
