"""The summary as aligned plain text, for the terminal (``suitekit report``, a nox session).

Its last line reads like pytest's, so that tools can read it.
"""

from __future__ import annotations

from typing import Final

from suitekit.reporting._figures import (
    attempts_note,
    budget_cell,
    counted,
    extra_counts,
    ready_to_release,
    reason_line,
    rerun_command,
    shorten,
    streak_cell,
    suite_table,
    verdict,
)
from suitekit.reporting._summary import Row, Summary
from suitekit.reporting._surefire import first_line

__all__ = ["render_terminal"]

_TERMINAL_MESSAGE_LIMIT: Final = 160


def render_terminal(summary: Summary) -> str:
    """The summary as aligned plain text; the last line is pytest-like totals.

    The table (with a flaky column when some suite has flaky tests) is followed by the failed
    tests (node id, or key, the first line of the message and the command that runs each
    again), the flaky and quarantined tests, the quarantine entries ready to be removed, the
    missing and unreadable reports, the checks, the coverage and the slowest tests, each only
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
            first = shorten(first_line(case.message), _TERMINAL_MESSAGE_LIMIT)
            label = "ERROR" if case.outcome == "error" else "FAILED"
            lines.append(
                f"  {label} {case.test} ({case.suite}{attempts_note(case)})"
                + (f" - {first}" if first else "")
            )
            if rerun := rerun_command(case):
                lines.append(f"    rerun: {rerun}")
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
            f"  {path.as_posix()}: {reason_line(path, reason)}"
            for path, reason in summary.unreadable
        ]
    lines += _terminal_checks_and_coverage(summary)
    if summary.slowest:
        lines += ["", f"slowest {counted(len(summary.slowest), 'test')}:"]
        width = max(len(f"{case.seconds:.2f}") for case in summary.slowest)
        lines += [
            f"  {case.seconds:{width}.2f}s  {case.key} ({case.suite})" for case in summary.slowest
        ]
    ok, problems = verdict(summary)
    lines += ["", "result: OK" if ok else f"result: FAILED ({problems})"]
    lines.append(
        f"suitekit: {totals.passed} passed, {totals.failures + totals.errors} failed, "
        f"{totals.skipped} skipped{extra_counts(summary)}"
    )
    return "\n".join(lines) + "\n"


def _terminal_table(summary: Summary) -> list[str]:
    # The total has no budget, so its budget cell is empty.
    total = Row.from_totals("total", summary.totals, target_seconds=None)
    headers, rows = suite_table(
        (*summary.rows, total),
        name=str,
        budget=lambda row: (
            budget_cell(row.budget_seconds, row.target_seconds)
            + (" OVER" if row.over_budget else "")
        ),
    )
    left_aligned = {0, len(headers) - 1}  # the suite and the budget
    table = [headers, *rows]
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


def _terminal_checks_and_coverage(summary: Summary) -> list[str]:
    lines = []
    if summary.checks:
        lines += ["", f"checks ({len(summary.checks)}):"]
        lines += [f"  {check.status.upper()} {check.name}" for check in summary.checks]
    coverage = summary.coverage
    if coverage is not None:
        width = max((len(name) for name, _ in coverage.per_suite), default=0)
        width = max(width, len("combined"))
        lines += ["", "coverage:"]
        lines += [f"  {name:<{width}}  {percent:6.2f}%" for name, percent in coverage.per_suite]
        gate = "reaches" if coverage.ok else "is below"
        lines.append(
            f"  {'combined':<{width}}  {coverage.percent:6.2f}% ({gate} the gate of "
            f"{coverage.fail_under:g}%)"
        )
    elif summary.coverage_problem:
        lines += ["", f"coverage: not computed: {' '.join(summary.coverage_problem.split())}"]
    return lines


def _terminal_flaky(summary: Summary) -> list[str]:
    if not summary.flaky:
        return []
    lines = ["", f"flaky tests ({len(summary.flaky)}): failed, then passed on a retry"]
    for case in summary.flaky:
        first = shorten(first_line(case.message), _TERMINAL_MESSAGE_LIMIT)
        lines.append(
            f"  FLAKY {case.test} ({case.suite}{attempts_note(case)})"
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
        first = shorten(first_line(row.message), _TERMINAL_MESSAGE_LIMIT)
        lines.append(
            f"  {row.outcome.upper()} {row.key} ({row.suite})" + (f" - {first}" if first else "")
        )
        if row.entry is None:
            lines.append(f"    entry {row.entry_test!r} is no longer in the configuration")
            continue
        ready = ", ready to leave quarantine" if row.ready else ""
        reason = shorten(" ".join(row.entry.reason.split()), _TERMINAL_MESSAGE_LIMIT)
        lines.append(f"    reason: {reason}; passing streak {streak_cell(row)}{ready}")
    ready_entries = ready_to_release(summary)
    if ready_entries:
        lines += ["", f"ready to leave quarantine ({len(ready_entries)}):"]
        for entry, streak in ready_entries:
            lines += [
                f"  {entry.key} (test = {entry.test!r}): its tests passed {streak} runs in a row",
                f"    fix: remove the entry {entry.key} from the configuration",
            ]
    return lines
