"""The end-of-run summary: one row per suite, failures, missing and unreadable reports.

:func:`summarise` turns the merged JUnit results (:class:`~suitekit.reporting._merge.MergeResult`)
and the suites the run was expected to report into a :class:`Summary`; the renderers turn that
into a terminal table (:func:`render_terminal`) or Markdown for a CI job page
(:func:`render_markdown`, :func:`write_markdown`). Everything here is a pure function of its
input, so the output is deterministic and golden-file tested.

A suite that crashed before pytest wrote its JUnit file leaves no trace in the merge. That is
why the expected suites are passed in: an expected suite with no report is listed as missing,
and a missing required suite makes the summary not :attr:`Summary.ok`, however green the rest.
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

if TYPE_CHECKING:
    from suitekit.reporting._merge import CaseResult, MergeResult, SuiteResult

__all__ = [
    "Expected",
    "Row",
    "Summary",
    "render_markdown",
    "render_terminal",
    "summarise",
    "write_markdown",
]

_HEADERS: Final = ("suite", "tests", "passed", "failed", "errors", "skipped", "seconds", "budget")
_LEFT_ALIGNED: Final = frozenset({0, len(_HEADERS) - 1})  # the suite and the budget
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
    """

    name: str
    tests: int
    passed: int
    failed: int
    errors: int
    skipped: int
    seconds: float
    target_seconds: float | None

    @property
    def over_budget(self) -> bool:
        """Whether the suite took longer than its budget."""
        return self.target_seconds is not None and self.seconds > self.target_seconds


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
    """

    rows: tuple[Row, ...]
    totals: Totals
    failed: tuple[CaseResult, ...]
    slowest: tuple[CaseResult, ...]
    missing: tuple[str, ...]
    unreadable: tuple[tuple[Path, str], ...]
    missing_optional: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """No failures or errors, no required suite missing, no unreadable report."""
        return (
            self.totals.failures == 0
            and self.totals.errors == 0
            and not self.failed
            and not self.missing
            and not self.unreadable
        )


def summarise(result: MergeResult, expected: Sequence[Expected]) -> Summary:
    """Line the merged reports up against the suites the run was expected to report.

    A report matches an expected suite when the report's file stem (``unit-3.11``) or its
    ``<testsuite name>`` (``unit``) equals the expected name; a stem match is preferred when
    looking up the budget. Reports that match nothing still get a row, without a budget.
    Expected suites that no report matches are missing, unless an unreadable file has the
    expected name as its stem: that suite is listed once, as unreadable (which fails the run
    too), not a second time as missing.
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
    )


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
    )


def _budget(row: Row) -> str:
    if row.target_seconds is None:
        return ""
    return f"{row.seconds:.1f}/{row.target_seconds:g}s"


def _cells(row: Row) -> tuple[str, ...]:
    return (
        str(row.tests),
        str(row.passed),
        str(row.failed),
        str(row.errors),
        str(row.skipped),
        f"{row.seconds:.1f}",
    )


def _first_line(message: str) -> str:
    for line in message.splitlines():
        if line.strip():
            return line.strip()
    return ""


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

    The table is followed by the failed tests (key and the first line of the message), the
    missing and unreadable reports and the slowest tests, each only when there are any. The
    last line is always ``suitekit: {passed} passed, {failed} failed, {skipped} skipped``,
    where failed counts errors too, so that tools can read it.
    """
    totals = summary.totals
    lines = ["suitekit test summary"]
    if summary.rows:
        total = Row(
            name="total",
            tests=totals.tests,
            passed=totals.passed,
            failed=totals.failures,
            errors=totals.errors,
            skipped=totals.skipped,
            seconds=totals.seconds,
            target_seconds=None,
        )
        table = [
            _HEADERS,
            *(
                (row.name, *_cells(row), _budget(row) + (" OVER" if row.over_budget else ""))
                for row in summary.rows
            ),
            (total.name, *_cells(total), ""),
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(_HEADERS))]
        rule = "  ".join("-" * width for width in widths)
        for index, cells in enumerate(table):
            if index in {1, len(table) - 1}:
                lines.append(rule)
            aligned = (
                cell.ljust(width) if column in _LEFT_ALIGNED else cell.rjust(width)
                for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
            )
            lines.append("  ".join(aligned).rstrip())
    else:
        lines.append("no suite reported any results")
    if summary.failed:
        lines += ["", f"failed tests ({len(summary.failed)}):"]
        for case in summary.failed:
            first = _shorten(_first_line(case.message), _TERMINAL_MESSAGE_LIMIT)
            label = "ERROR" if case.outcome == "error" else "FAILED"
            lines.append(f"  {label} {case.key} ({case.suite})" + (f" - {first}" if first else ""))
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
        f"{totals.skipped} skipped"
    )
    return "\n".join(lines) + "\n"


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
    budget flagged ``:warning:`` when over), then the failed tests, missing and unreadable
    reports and the slowest tests, each section only when it has content. Nothing in it
    depends on the time or the machine, so the same results give the same text.
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
            f"{totals.errors} errors, {totals.skipped} skipped — success rate {rate}"
        ),
    ]
    if summary.rows:
        rows = [
            (
                _code(row.name),
                *_cells(row),
                (":warning: " if row.over_budget else "") + _budget(row),
            )
            for row in summary.rows
        ]
        lines += ["", *_table(_HEADERS, "lrrrrrrl", rows)]
    if summary.failed:
        rows = [
            (
                _code(case.key),
                _code(case.suite),
                case.outcome,
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
