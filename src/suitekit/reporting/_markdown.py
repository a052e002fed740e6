"""The summary as GitHub-flavoured Markdown, for ``$GITHUB_STEP_SUMMARY`` or a PR comment.

:func:`render_markdown` is a pure function of the summary (nothing in it depends on the time or
the machine); :func:`write_markdown` writes it atomically and appends it to the job's page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from suitekit._files import write_text_atomic
from suitekit.errors import ReportError
from suitekit.reporting._figures import (
    budget_cell,
    extra_counts,
    ready_to_release,
    reason_line,
    rerun_command,
    shorten,
    streak_cell,
    success_rate,
    suite_table,
    verdict,
)
from suitekit.reporting._summary import CheckStatus, Summary

__all__ = ["render_markdown", "write_markdown"]

_MESSAGE_LIMIT: Final = 500  # characters of a failure message in Markdown; tracebacks are long
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
_RERUN_EXPLAINED: Final = "Run each again, alone, in the session it failed in:"
_CHECK_MARKS: Final[Mapping[CheckStatus, str]] = {
    "success": ":white_check_mark:",
    "failure": ":x:",
    "cancelled": ":no_entry_sign:",
    "skipped": ":fast_forward:",
}
_READY_EXPLAINED: Final = (
    "Every test of these quarantine entries passed enough runs in a row: remove the entries "
    "from the configuration, so that the tests can fail the run again."
)


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
    then the checks' results, the failed tests (by pytest node id where the plugin located
    them) with a command to run each again, the flaky and quarantined tests, the quarantine
    entries ready to be removed, missing and unreadable reports, the coverage per suite and
    combined, and the slowest tests, each section only when it has content. Nothing in it
    depends on the time or the machine, so the same results give the same text.
    """
    totals = summary.totals
    ok, problems = verdict(summary)
    rate = success_rate(totals)
    lines = [
        "## Test summary",
        "",
        ":white_check_mark: **OK**" if ok else f":x: **Failed**: {problems}",
        "",
        (
            f"**{totals.tests} tests**, {totals.passed} passed, {totals.failures} failed, "
            f"{totals.errors} errors, {totals.skipped} skipped{extra_counts(summary)}"
            f" — success rate {rate}"
        ),
    ]
    if summary.rows:
        headers, rows = suite_table(
            summary.rows,
            name=_code,
            budget=lambda row: (
                (":warning: " if row.over_budget else "")
                + budget_cell(row.budget_seconds, row.target_seconds)
            ),
        )
        lines += ["", *_table(headers, "l" + "r" * (len(headers) - 2) + "l", rows)]
    lines += _markdown_checks(summary)
    if summary.failed:
        rows = [
            (
                _code(case.test),
                _code(case.suite),
                case.outcome + (f" ({case.attempts} attempts)" if case.attempts > 1 else ""),
                _text(shorten(case.message.strip(), _MESSAGE_LIMIT)),
            )
            for case in summary.failed
        ]
        lines += [
            "",
            "### Failed tests",
            "",
            *_table(("test", "suite", "outcome", "message"), "llll", rows),
        ]
        lines += _markdown_reruns(summary)
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
                f"- {_code(path.as_posix())}: {_text(reason_line(path, reason))}"
                for path, reason in summary.unreadable
            ),
        ]
    lines += _markdown_coverage(summary)
    if summary.slowest:
        rows = [
            (_code(case.key), _code(case.suite), f"{case.seconds:.2f}") for case in summary.slowest
        ]
        lines += ["", "### Slowest tests", "", *_table(("test", "suite", "seconds"), "llr", rows)]
    return "\n".join(lines) + "\n"


def _markdown_checks(summary: Summary) -> list[str]:
    if not summary.checks:
        return []
    rows = [
        (_code(check.name), f"{_CHECK_MARKS[check.status]} {check.status}")
        for check in summary.checks
    ]
    return ["", "### Checks", "", *_table(("check", "result"), "ll", rows)]


def _markdown_reruns(summary: Summary) -> list[str]:
    commands = list(dict.fromkeys(filter(None, map(rerun_command, summary.failed))))
    if not commands:
        return []
    block = "\n".join(commands)
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(block)), default=0)
    fence = "`" * max(3, longest + 1)
    return ["", _RERUN_EXPLAINED, "", f"{fence}sh", *commands, fence]


def _markdown_coverage(summary: Summary) -> list[str]:
    coverage = summary.coverage
    if coverage is None:
        if not summary.coverage_problem:
            return []
        return ["", "### Coverage", "", _text(f"Not computed: {summary.coverage_problem}")]
    rows = [(_code(name), f"{percent:.2f} %") for name, percent in coverage.per_suite]
    rows.append(("**combined**", f"**{coverage.percent:.2f} %**"))
    gate = (
        f":white_check_mark: {coverage.percent:.2f} % reaches the gate of {coverage.fail_under:g} %"
        if coverage.ok
        else f":x: {coverage.percent:.2f} % is below the gate of {coverage.fail_under:g} %"
    )
    return ["", "### Coverage", "", *_table(("suite", "coverage"), "lr", rows), "", gate]


def _markdown_flaky(summary: Summary) -> list[str]:
    if not summary.flaky:
        return []
    rows = [
        (
            _code(case.test),
            _code(case.suite),
            str(case.attempts),
            _text(shorten(case.message.strip(), _MESSAGE_LIMIT)),
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
            reason = _text(shorten(row.entry.reason.strip(), _MESSAGE_LIMIT))
        streak = streak_cell(row) + (" :white_check_mark: ready to leave quarantine" * row.ready)
        rows.append(
            (
                _code(row.key),
                _code(row.suite),
                row.outcome,
                reason,
                streak,
                _text(shorten(row.message.strip(), _MESSAGE_LIMIT)),
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
    ready_entries = ready_to_release(summary)
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
