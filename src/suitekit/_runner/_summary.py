"""The ending of a run: what failed, the table of sessions, where the reports are, the verdict.

Printed last of all, after the report's and the coverage's own output, it answers in this
order:

1. what failed: each failed test by node id, with its session and the command that runs it
   again (the first :data:`SHOWN_FAILURES`, then how many more and where they are listed);
   then each session that failed without a failed test (a check, a crash, the report or the
   coverage gate), with its log. An interrupted session is never listed as failed;
2. the table of sessions, with one time budget figure: the tests' own time (the JUnit file's
   suite time, as pytest gives it) over the suite's ``target-seconds``, the figure that the
   summary of ``suitekit report`` sets against the budget too;
3. where the run's reports are (:func:`~suitekit.reporting.report_outputs`), those this run
   wrote (relative to the current folder);
4. one line that says how the run ended: ``suitekit: 41 passed, 2 failed, 0 skipped in
   38.2s; failed: e2e-3.11``, or ``suitekit: interrupted (Ctrl-C or SIGTERM): unit-3.11; ...``;
   a run in which no session counted tests (checks only) says no counts: ``suitekit: ran in
   3.1s; failed: lint``.

:func:`format_summary` is a pure function of the outcomes (golden-file tested);
:func:`find_artifacts` looks at the reports folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from suitekit._runner._display import paint
from suitekit._runner._outcome import Outcome
from suitekit.reporting import Totals, budget_cell, over_budget, report_outputs

if TYPE_CHECKING:
    from suitekit.reporting import OutputKind

__all__ = ["SHOWN_FAILURES", "Artifact", "find_artifacts", "format_summary"]

SHOWN_FAILURES: Final = 10
"""How many failed tests the ending lists (all of them with ``-v``)."""

BUDGET_HEADER: Final = "budget (test s/target)"
"""The header of the budget column: which time is set against ``target-seconds``."""

_TABLE_HEADERS: Final = (
    "session",
    "result",
    "tests",
    "failed",
    "skipped",
    "seconds",
    "setup",
    BUDGET_HEADER,
)
_LEFT_ALIGNED: Final = frozenset({0, 1, len(_TABLE_HEADERS) - 1})  # the session, result, budget


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact:
    """A report the run wrote, as the ending lists it.

    Attributes:
        kind: Which report it is.
        label: What it is (``merged JUnit``, ``coverage HTML``...).
        path: Where it is, as shown: relative to the current folder when inside it; a folder
            ends with ``/``.
    """

    kind: OutputKind
    label: str
    path: str


def find_artifacts(reports: Path, *, since: float, cwd: Path) -> tuple[Artifact, ...]:
    """The reports in the ``reports`` folder that this run wrote, and its logs folder.

    Of :func:`~suitekit.reporting.report_outputs`, a report counts when it was written at
    ``since`` (``time.time()`` when the run started) or later: one left by an earlier run (the
    report step did not run this time: ``--fail-fast``, Ctrl-C) is not this run's and is not
    listed. Paths are shown relative to ``cwd`` when they are inside it, else whole.
    """
    found = []
    for output in report_outputs(reports):
        path = output.path
        if output.folder:
            if path.is_dir():
                found.append(
                    Artifact(kind=output.kind, label=output.label, path=_shown(path, cwd) + "/")
                )
            continue
        try:
            # A second's slack, as for the sessions' JUnit files: coarse file system clocks.
            fresh = path.is_file() and path.stat().st_mtime >= since - 1
        except OSError:
            fresh = False
        if fresh:
            found.append(Artifact(kind=output.kind, label=output.label, path=_shown(path, cwd)))
    return tuple(found)


def format_summary(
    outcomes: Sequence[Outcome],
    wall_seconds: float,
    *,
    artifacts: Sequence[Artifact] = (),
    cwd: Path | None = None,
    colour: bool = False,
    verbosity: int = 0,
) -> str:
    """The ending of a run: what failed, the sessions' table, the reports, the verdict.

    Args:
        outcomes: The jobs' outcomes, in the order they are listed.
        wall_seconds: The run's wall time.
        artifacts: The reports the run wrote (see :func:`find_artifacts`).
        cwd: Log paths are shown relative to it when inside it; ``None``: as they are.
        colour: Colour the statuses (see :func:`~suitekit._runner._display.colour_wanted`).
        verbosity: -1 (``-q``): no legend under the table; 1 (``-v``): every failed test, not
            only the first :data:`SHOWN_FAILURES`.
    """
    lines = ["", "suitekit summary"]
    lines += _failures(outcomes, artifacts, cwd=cwd, colour=colour, verbosity=verbosity)
    lines += ["", *_table(outcomes, colour=colour)]
    sum_seconds = sum(outcome.seconds for outcome in outcomes)
    lines.append(f"wall time {wall_seconds:.1f}s; sessions' own time {sum_seconds:.1f}s")
    if verbosity >= 0:
        lines += _legend(outcomes)
    listed = {outcome.job.session for outcome in _failed_sessions(outcomes)}
    notes = [
        f"  {o.job.session}: {o.note}" for o in outcomes if o.note and o.job.session not in listed
    ]
    if notes:
        lines += ["notes:", *notes]
    if artifacts:
        width = max(len(artifact.label) for artifact in artifacts)
        lines += ["", "reports:"]
        lines += [f"  {artifact.label:<{width}}  {artifact.path}" for artifact in artifacts]
    lines += ["", _verdict(outcomes, wall_seconds, colour=colour)]
    return "\n".join(lines)


def _failures(
    outcomes: Sequence[Outcome],
    artifacts: Sequence[Artifact],
    *,
    cwd: Path | None,
    colour: bool,
    verbosity: int,
) -> list[str]:
    """The failed tests (with their reruns) and the sessions that failed without one."""
    lines: list[str] = []
    tests = [
        (outcome.job.session, test)
        for outcome in outcomes
        if outcome.status == "failed"
        for test in outcome.failed_tests
    ]
    if tests:
        shown = tests if verbosity > 0 else tests[:SHOWN_FAILURES]
        lines += ["", f"failed tests ({len(tests)}):"]
        for session, test in shown:
            label = paint("ERROR" if test.error else "FAILED", "failed", colour=colour)
            lines.append(f"  {label} {test.test} ({session})")
            if test.rerun:
                lines.append(f"    rerun: {test.rerun}")
        if len(tests) > len(shown):
            where = {artifact.kind: artifact.path for artifact in artifacts}
            see = where.get("summary") or where.get("logs")
            lines.append(f"  and {len(tests) - len(shown)} more" + (f" (see {see})" if see else ""))
    sessions = _failed_sessions(outcomes)
    if sessions:
        lines += ["", f"failed sessions with no failed test ({len(sessions)}):"]
        for outcome in sessions:
            job = outcome.job
            label = paint("FAILED", "failed", colour=colour)
            kind = "" if job.kind == job.session else job.kind
            what = ", ".join(filter(None, (kind, "" if job.required else "advisory")))
            why = [outcome.note] if outcome.note else []
            if outcome.returncode is not None:
                # It ran: its exit code, and its log (the nothing-ran guard has neither).
                why = [f"exit code {outcome.returncode}", *why]
                why.append(f"log: {_shown(job.log, cwd)}")
            lines.append(
                f"  {label} {job.session}" + (f" ({what})" if what else "") + f": {'; '.join(why)}"
            )
    return lines


def _failed_sessions(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The sessions that failed without a failed test of theirs to list (not interrupted ones)."""
    return [o for o in outcomes if o.status == "failed" and not o.failed_tests]


def _table(outcomes: Sequence[Outcome], *, colour: bool) -> list[str]:
    """The sessions' table: counts from each suite's JUnit file, times, and the budget."""
    rows: list[tuple[str, ...]] = [_TABLE_HEADERS]
    statuses = [""]
    for outcome in outcomes:
        job, totals = outcome.job, outcome.totals
        result: str = outcome.status
        if outcome.status == "failed" and not job.required:
            result = "failed (advisory)"
        elif outcome.status == "interrupted" and not outcome.started:
            result = "not started"
        budget = ""
        if totals is not None:
            # The tests' own time (pytest's, from the JUnit file), not nox's set-up: the figure
            # that `suitekit report` sets against the budget too, in the same cell.
            over = over_budget(totals.seconds, job.target_seconds)
            budget = budget_cell(totals.seconds, job.target_seconds) + (" OVER" if over else "")
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
        statuses.append(outcome.status)
    if not any(row[-1] for row in rows[1:]):
        rows = [row[:-1] for row in rows]  # no budget anywhere: no column for one
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, (row, status) in enumerate(zip(rows, statuses, strict=True)):
        cells = [
            cell.ljust(width) if column in _LEFT_ALIGNED else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        if status:
            cells[1] = paint(cells[1], status, colour=colour)
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines


def _legend(outcomes: Sequence[Outcome]) -> list[str]:
    """What the ``setup`` and ``budget`` columns hold, when they hold something."""
    lines = []
    if any(outcome.totals is not None for outcome in outcomes):
        lines.append(
            "setup: a suite session's seconds outside pytest's own run (nox, install, servers, "
            "Python start-up)"
        )
    if any(o.totals is not None and o.job.target_seconds is not None for o in outcomes):
        lines.append(
            "budget: the tests' own time (pytest's, from JUnit) over target-seconds; "
            "OVER never fails the run"
        )
    return lines


def _verdict(outcomes: Sequence[Outcome], wall_seconds: float, *, colour: bool) -> str:
    """The closing line: the tests' counts and the time; what failed; or that it was stopped.

    Without a session that counted tests (a run of checks, suites that wrote no JUnit file),
    no counts: ``0 passed, 0 failed`` would say that tests ran.
    """
    counted = [outcome.totals for outcome in outcomes if outcome.totals is not None]
    total = sum(counted, Totals())
    counts = (
        f"{total.passed} passed, {total.failures + total.errors} failed, {total.skipped} skipped"
        + (f", {total.flaky} flaky" if total.flaky else "")
        + f" in {wall_seconds:.1f}s"
        if counted
        else f"ran in {wall_seconds:.1f}s"
    )
    failed = [o.job.session for o in outcomes if o.blocking and o.status == "failed"]
    stopped = [o for o in outcomes if o.status == "interrupted"]
    if stopped:
        # The sessions the stop cut short; when it came between two, the one it kept from
        # starting. What failed before it is said too.
        cut = [o.job.session for o in stopped if o.started]
        what = ", ".join(cut) if cut else f"before {stopped[0].job.session}"
        line = f"suitekit: interrupted (Ctrl-C or SIGTERM): {what}; {counts}" + (
            f"; failed: {', '.join(failed)}" if failed else ""
        )
        return paint(line, "interrupted", colour=colour)
    cancelled = [o.job.session for o in outcomes if o.blocking and o.status == "cancelled"]
    line = (
        f"suitekit: {counts}"
        + (f"; failed: {', '.join(failed)}" if failed else "")
        + (f"; cancelled: {', '.join(cancelled)}" if cancelled else "")
    )
    return paint(line, "failed" if failed or cancelled else "passed", colour=colour)


def _shown(path: Path, cwd: Path | None) -> str:
    """``path`` relative to ``cwd`` when inside it, else as it is."""
    if cwd is not None:
        try:
            return str(path.relative_to(cwd))
        except ValueError:
            pass
    return str(path)
