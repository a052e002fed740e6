"""The table that closes a run, and its closing ``N passed, N failed`` line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from suitekit._runner._outcome import Outcome
from suitekit.reporting import Totals

__all__ = ["format_summary"]

_TEXT_COLUMNS: Final = 2  # session and result are left-aligned, the figures right-aligned


def format_summary(outcomes: Sequence[Outcome], wall_seconds: float) -> str:
    """The final table and the closing ``N passed, N failed`` line."""
    rows = [("session", "result", "tests", "failed", "skipped", "seconds", "setup", "budget")]
    total = Totals()
    for outcome in outcomes:
        job, totals = outcome.job, outcome.totals
        result: str = outcome.status
        if outcome.status == "failed" and not job.required:
            result = "failed (advisory)"
        budget = ""
        if job.target_seconds is not None and totals is not None:
            # The budget is the tests' own time, as pytest reports it, not nox's set-up.
            over = totals.seconds > job.target_seconds
            budget = f"{totals.seconds:.1f}/{job.target_seconds:g}s" + (" OVER" if over else "")
        if totals is not None:
            total += totals
        rows.append(
            (
                job.session,
                result,
                str(totals.tests) if totals else "-",
                str(totals.failures + totals.errors) if totals else "-",
                str(totals.skipped) if totals else "-",
                f"{outcome.seconds:.1f}",
                f"{max(outcome.seconds - totals.seconds, 0.0):.1f}" if totals else "-",
                budget,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["", "suitekit summary"]
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(width) if i < _TEXT_COLUMNS else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    sum_seconds = sum(outcome.seconds for outcome in outcomes)
    lines.append(f"wall time {wall_seconds:.1f}s; sessions' own time {sum_seconds:.1f}s")
    if any(outcome.totals is not None for outcome in outcomes):
        lines.append(
            "setup: a suite session's seconds outside pytest's own run (nox, install, servers, "
            "Python start-up)"
        )
    notes = [f"  {o.job.session}: {o.note}" for o in outcomes if o.note]
    if notes:
        lines += ["notes:", *notes]
    failing = [o.job.session for o in outcomes if o.blocking]
    lines.append(f"failed: {', '.join(failing)}" if failing else "all required sessions passed")
    lines.append(
        f"suitekit: {total.passed} passed, {total.failures + total.errors} failed, "
        f"{total.skipped} skipped"
    )
    return "\n".join(lines)
