"""The figures and cells that both renderings of a summary show, computed once.

The terminal table (:mod:`suitekit.reporting._terminal`) and the Markdown page
(:mod:`suitekit.reporting._markdown`) lay a :class:`~suitekit.reporting._summary.Summary` out
differently, but must agree on every figure in it: the columns, the budget, the verdict and
its reasons, the counts, the streaks and the entries ready to leave quarantine.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from suitekit._model import Quarantine
    from suitekit.reporting._junit import Totals
    from suitekit.reporting._results import CaseResult
    from suitekit.reporting._summary import QuarantinedRow, Row, Summary

__all__ = [
    "FLAKY_HEADERS",
    "HEADERS",
    "attempts_note",
    "budget_cell",
    "count_cells",
    "counted",
    "extra_counts",
    "over_budget",
    "ready_to_release",
    "reason_line",
    "rerun_command",
    "shorten",
    "streak_cell",
    "success_rate",
    "suite_table",
    "verdict",
]

# What a shard adds to its session's report stem: of unit-3.11.shard-2-of-4, the session is
# unit-3.11.
_SHARD_SUFFIX: Final = re.compile(r"\.shard-\d+-of-\d+$")

HEADERS: Final = ("suite", "tests", "passed", "failed", "errors", "skipped", "seconds", "budget")
# With a flaky column, after "passed": only when some suite has flaky tests.
FLAKY_HEADERS: Final = (*HEADERS[:3], "flaky", *HEADERS[3:])


def budget_cell(seconds: float, target: float | None) -> str:
    """The budget figure, ``9.7/10s``: ``seconds`` over the ``target``; ``""`` without one.

    The one cell of every table that sets a suite's time against its ``target-seconds``: the
    run's ending (``suitekit run``, ``inv test.all``) and the report's summaries. ``seconds``
    is the suite's own time (pytest's, from its JUnit file: see
    :attr:`~suitekit.reporting._summary.Row.budget_seconds`).
    """
    if target is None:
        return ""
    return f"{seconds:.1f}/{target:g}s"


def over_budget(seconds: float, target: float | None) -> bool:
    """Whether ``seconds`` is over the ``target`` (exactly on it is not); never without one."""
    return target is not None and seconds > target


def count_cells(row: Row, *, flaky: bool) -> tuple[str, ...]:
    return (
        str(row.tests),
        str(row.passed),
        *((str(row.flaky),) if flaky else ()),
        str(row.failed),
        str(row.errors),
        str(row.skipped),
        f"{row.seconds:.1f}",
    )


def suite_table(
    rows: Sequence[Row], *, name: Callable[[str], str], budget: Callable[[Row], str]
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The suite table's headers and a line of cells per row, the same in both renderings.

    The table gets a flaky column (after ``passed``) only when some row has flaky tests. A
    line is ``name`` of the row's name, its counts, and ``budget`` of the row: each rendering
    quotes names and flags a suite over its budget in its own way.
    """
    flaky = any(row.flaky for row in rows)
    lines = [(name(row.name), *count_cells(row, flaky=flaky), budget(row)) for row in rows]
    return (FLAKY_HEADERS if flaky else HEADERS), lines


def rerun_command(case: CaseResult) -> str:
    """The command that runs a failed test again in the session it failed in; ``""``: none.

    ``nox -s unit-3.11 -- tests/unit/test_isbn.py::test_bad``: the session is the stem of the
    JUnit file the case came from, less a shard's part (a shard job's test is run again in the
    suite's session, alone). A pytest case is named by its node id; another runner's case
    (no node id) has no filter that every runner reads alike, so its whole session is named.
    Every part is quoted for a POSIX shell.
    """
    if not case.report:
        return ""
    session = _SHARD_SUFFIX.sub("", case.report)
    command = f"nox -s {shlex.quote(session)}"
    return f"{command} -- {shlex.quote(case.node_id)}" if case.node_id else command


def attempts_note(case: CaseResult) -> str:
    return f", {case.attempts} attempts" if case.attempts > 1 else ""


def ready_to_release(summary: Summary) -> list[tuple[Quarantine, int]]:
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


def streak_cell(row: QuarantinedRow) -> str:
    if row.entry is None:
        return ""
    # A skipped test did not run: its streak is the one it had, neither grown nor reset.
    kept = " (kept: skipped)" if row.outcome == "skipped" else ""
    return f"{row.streak}/{row.entry.release_after}{kept}"


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def reason_line(path: Path, reason: str) -> str:
    """Why a report is unreadable, on one line and without the path the line starts with."""
    flat = " ".join(reason.split())
    for prefix in (f"{path}: ", f"{path.as_posix()}: "):
        flat = flat.removeprefix(prefix)
    return flat


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def verdict(summary: Summary) -> tuple[bool, str]:
    """Whether the run is OK, and the reasons it is not, counted."""
    problems = []
    failed = summary.totals.failures + summary.totals.errors
    if failed:
        problems.append(counted(failed, "failed test"))
    if summary.missing:
        problems.append(counted(len(summary.missing), "required report") + " missing")
    if summary.unreadable:
        problems.append(counted(len(summary.unreadable), "unreadable report"))
    if not problems and not summary.ok:
        problems.append("failed tests")  # listed below, though the totals count none
    return summary.ok, ", ".join(problems)


def extra_counts(summary: Summary) -> str:
    """``, N flaky`` and ``, N quarantined`` for the counts that are not zero."""
    flaky = summary.totals.flaky
    quarantined = len(summary.quarantined)
    return (f", {flaky} flaky" if flaky else "") + (
        f", {quarantined} quarantined" if quarantined else ""
    )


def success_rate(totals: Totals) -> str:
    """Passed out of the tests that ran (skipped ones left out), as ``"99.5 %"`` or ``"n/a"``.

    The figure is rounded down, so that a run with a failure never shows 100.0 %.
    """
    ran = totals.tests - totals.skipped
    if ran <= 0:
        return "n/a"
    tenths = totals.passed * 1000 // ran
    return f"{tenths // 10}.{tenths % 10} %"
