"""Comparing the run logs of one suite run several times: which tests are flaky, and why.

A test is flaky when its outcome differs between runs of the same code: it passed in one run
and failed (or errored) in another, or it passed only after failed attempts within a run
(outcome ``flaky``, with retries). Skips and tests missing from a run do not count either way.

A file that fails to collect is in the run log as an ``error`` whose node id is the file's (no
``::``): a *collection error*. It is compared like a test, except that a run in which the file
has no such entry collected it (shown ``collected``): a collection error in some runs only is
flaky, one in every run is broken, and its tests were searched in no run, so the search cannot
tell whether they are flaky.

A run whose nox exit code is not 0 (passed) or 1 (failed), or whose run log holds no test at
all, went wrong (:attr:`Run.problem`): it is left out of the comparison, like a run without a
log, and the search is incomplete.

A suite of another runner (Vitest, Jest) is compared the same way, from logs made of its JUnit
reports; its flaky tests get no cause (:attr:`Finding.runner`): the runner shuffles a whole run
by a seed but cannot replay a given order.

Pure functions and plain data: ``suitekit flaky`` runs the suite and the replays, then hands
the results to :func:`compare` and :meth:`Finding.text`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from suitekit.reporting import OUTCOMES, Outcome, RunLog

__all__ = [
    "Cause",
    "CauseKind",
    "Finding",
    "FlakyTest",
    "Run",
    "collection_error",
    "compare",
    "consistent_failures",
    "failing",
]

_FAILURES: Final = frozenset({"failed", "error", "flaky"})
_CELL: Final[dict[str | None, str]] = {
    "passed": "passed",
    "failed": "FAILED",
    "error": "ERROR",
    "flaky": "FLAKY",
    "skipped": "skipped",
    None: "-",
}

CauseKind = Literal["order", "random", "unknown"]
"""What the replays showed: ``order``: the test fails after certain others and passes alone;
``random``: the failure did not come back in serial replays of the same order (chance, time, or
tests running at the same time on other workers); ``unknown``: the replays could not run."""


def failing(outcome: Outcome | None) -> bool:
    """Whether an outcome shows a failure (``flaky`` does: an attempt failed)."""
    return outcome in _FAILURES


def collection_error(node_id: str) -> bool:
    """Whether a run log entry of this node id is a file's collection error, not a test's.

    The pytest plugin records a failed collection as an ``error`` of the collector's node id:
    a file or folder, never ``path::test``.
    """
    return "::" not in node_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One of the runs being compared.

    Attributes:
        number: Its place among the runs, from 1.
        seed: Its ``--suitekit-order-seed``, or the seed of another runner's own shuffle.
        workers: Its xdist worker count (0: serial), or another runner's (1: serial).
        command: The command that repeats it (same order, same worker count).
        log: What it did, or ``None`` when it left no run log.
        problem: What went wrong, when something did: why there is no log, or why the log
            cannot be trusted (nox's exit code was neither 0 nor 1, or no test ran).
    """

    number: int
    seed: int
    workers: int
    command: str
    log: RunLog | None
    problem: str = ""

    @property
    def compared(self) -> RunLog | None:
        """The log to compare: ``None`` when the run left none or went wrong."""
        return None if self.problem else self.log

    def counts(self) -> str:
        """``6 passed, 1 failed`` for this run (or what went wrong)."""
        if self.log is None:
            return f"no run log: {self.problem}" if self.problem else "no run log"
        tests = [test for test in self.log.tests if not collection_error(test.node_id)]
        counted: Counter[str] = Counter(test.outcome for test in tests)
        shown = [f"{counted[outcome]} {outcome}" for outcome in OUTCOMES if counted[outcome]]
        uncollected = len(self.log.tests) - len(tests)
        if uncollected:
            shown.append(f"{uncollected} collection error{'s' * (uncollected > 1)}")
        counts = ", ".join(shown) or "no tests"
        return f"{counts}: {self.problem}" if self.problem else counts


@dataclass(frozen=True, slots=True, kw_only=True)
class FlakyTest:
    """A test whose outcome differed between runs.

    Attributes:
        node_id: The test.
        outcomes: Its outcome in each run, in run order; ``None`` where it did not run (or the
            run left no log).
        message: The first line of its first failure.
    """

    node_id: str
    outcomes: tuple[Outcome | None, ...]
    message: str = ""

    @property
    def failed_runs(self) -> tuple[int, ...]:
        """The numbers (from 1) of the runs in which it failed."""
        return tuple(index + 1 for index, outcome in enumerate(self.outcomes) if failing(outcome))


@dataclass(frozen=True, slots=True, kw_only=True)
class Cause:
    """What the serial replays found out about one flaky test.

    Attributes:
        node_id: The test.
        kind: See :data:`CauseKind`.
        run: The run whose order was replayed (from 1), if any.
        prefix: For ``order``: the fewest earlier tests after which it fails, in order.
        replays: How many replays it took.
        capped: Whether the replay budget ran out (``prefix`` may not be minimal).
        detail: What the replays showed, in words.
        order_file: For ``order``: the file that holds ``prefix`` and the test, for replays.
        command: For ``order``: the command that replays that order.
    """

    node_id: str
    kind: CauseKind
    run: int | None = None
    prefix: tuple[str, ...] = ()
    replays: int = 0
    capped: bool = False
    detail: str = ""
    order_file: str = ""
    command: str = ""


def compare(logs: Sequence[RunLog | None]) -> tuple[FlakyTest, ...]:
    """The flaky tests of these runs, in the order they first appear in the logs.

    A collection error counts as a failure, and a run that has a log but no collection error
    of that file collected it: it counts as a pass there.

    Args:
        logs: Each run's log, ``None`` for a run that left none (or went wrong).
    """
    outcomes: dict[str, list[Outcome | None]] = {}
    messages: dict[str, str] = {}
    for index, log in enumerate(logs):
        for test in log.tests if log is not None else ():
            outcomes.setdefault(test.node_id, [None] * len(logs))[index] = test.outcome
            if failing(test.outcome) and test.message and test.node_id not in messages:
                messages[test.node_id] = test.message
    for node_id, seen in outcomes.items():
        if collection_error(node_id):
            for index, log in enumerate(logs):
                if log is not None and seen[index] is None:
                    seen[index] = "passed"  # the file was collected in that run
    return tuple(
        FlakyTest(node_id=node_id, outcomes=tuple(seen), message=messages.get(node_id, ""))
        for node_id, seen in outcomes.items()
        if "flaky" in seen or ("passed" in seen and any(failing(o) for o in seen))
    )


def consistent_failures(logs: Sequence[RunLog | None]) -> tuple[str, ...]:
    """The tests that failed in every run that ran them: broken, not flaky."""
    seen: dict[str, list[bool]] = {}
    for log in logs:
        for test in log.tests if log is not None else ():
            if test.outcome != "skipped":
                seen.setdefault(test.node_id, []).append(test.outcome in ("failed", "error"))
    return tuple(node_id for node_id, failures in seen.items() if all(failures))


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """The result of ``suitekit flaky``: the runs, the flaky tests and their causes.

    Attributes:
        suite: The suite's name.
        session: The nox session that ran it (``unit-3.11``).
        runs: The runs, in order.
        flaky: The flaky tests.
        causes: What the replays found, one per flaky test that failed at least once.
        interrupted: Whether Ctrl-C (or SIGTERM) cut the search short.
        runner: The suite's runner. Only pytest's runs are replayed: another runner shuffles a
            whole run by a seed but cannot run a given order, so its flaky tests get no cause.
    """

    suite: str
    session: str
    runs: tuple[Run, ...]
    flaky: tuple[FlakyTest, ...]
    causes: tuple[Cause, ...] = ()
    interrupted: bool = False
    runner: str = "pytest"

    @property
    def complete(self) -> bool:
        """Whether every run left a log and went right (else a flaky test may have gone unseen)."""
        return all(run.compared is not None for run in self.runs)

    @property
    def uncollected(self) -> tuple[str, ...]:
        """The files that failed to collect in every run: their tests were never searched."""
        broken = consistent_failures([run.compared for run in self.runs])
        return tuple(node_id for node_id in broken if collection_error(node_id))

    @property
    def ok(self) -> bool:
        """Whether every run went right, collected every file, and no test is flaky."""
        return self.complete and not self.flaky and not self.interrupted and not self.uncollected

    def text(self) -> str:
        """The report: the table of flaky tests, the runs, and how to reproduce each failure."""
        logs = [run.compared for run in self.runs]
        total = len(
            {
                test.node_id
                for log in logs
                if log is not None
                for test in log.tests
                if not collection_error(test.node_id)
            }
        )
        head = f"suitekit flaky: suite {self.suite!r} ({self.session}), {len(self.runs)} runs"
        if self.flaky:
            total += sum(collection_error(test.node_id) for test in self.flaky)  # files too
            lines = [f"{head}: {len(self.flaky)} of {total} tests are flaky", ""]
            lines += _table(self.flaky, len(self.runs))
        else:
            lines = [f"{head}: no flaky test among {total}"]
        lines += ["", "runs:"]
        lines += [
            f"  run {run.number}: {self._workers(run)}, seed {run.seed}: {run.counts()}"
            for run in self.runs
        ]
        lines += _section(
            "reproduce a failure (the same order and worker count):", self._reproduce()
        )
        lines += _section(
            "causes (serial replays of the tests that ran before it):",
            [line for cause in self.causes for line in _cause(cause)],
        )
        if self.runner != "pytest":
            lines += _section(
                f"causes: not searched ({self.runner} cannot replay a given order of tests, "
                "only shuffle a whole run by a seed); repeat a failing run with its command "
                "above:",
                [
                    f"  {test.node_id}: failed in "
                    + ", ".join(f"run {n} (seed {self.runs[n - 1].seed})" for n in failed)
                    for test in self.flaky
                    if (failed := test.failed_runs)
                ],
            )
        lines += _section(
            "failed in every run (broken, not flaky):",
            [
                f"  {node_id}" + (" (collection error)" if collection_error(node_id) else "")
                for node_id in consistent_failures(logs)
            ],
        )
        lines += ["", self.verdict()]
        return "\n".join(lines)

    def _workers(self, run: Run) -> str:
        """``-n 2`` for pytest's xdist, ``2 workers`` for another runner's."""
        if self.runner == "pytest":
            return f"-n {run.workers}"
        return f"{run.workers} worker{'s' * (run.workers != 1)}"

    def _reproduce(self) -> list[str]:
        """Each flaky test, and the command of each run it failed in."""
        lines = []
        for test in self.flaky:
            what = [
                *(["collection error"] if collection_error(test.node_id) else []),
                *([test.message] if test.message else []),
            ]
            lines.append(f"  {test.node_id}" + "".join(f": {part}" for part in what))
            lines += [
                f"    run {number}: {self.runs[number - 1].command}" for number in test.failed_runs
            ]
        return lines

    def verdict(self) -> str:
        """The closing line."""
        if self.interrupted:
            return "suitekit flaky: interrupted; the result above is incomplete"
        missing = [str(run.number) for run in self.runs if run.log is None]
        wrong = [str(run.number) for run in self.runs if run.log is not None and run.problem]
        gap = f"; run(s) {', '.join(missing)} left no run log" if missing else ""
        gap += f"; run(s) {', '.join(wrong)} went wrong (see above)" if wrong else ""
        if self.flaky:
            return f"suitekit flaky: {len(self.flaky)} flaky test(s) in suite {self.suite!r}{gap}"
        uncollected = self.uncollected
        if uncollected:
            gap += (
                f"; {len(uncollected)} file(s) failed to collect in every run, so their tests "
                f"were not searched ({', '.join(uncollected)})"
            )
        if gap:
            return f"suitekit flaky: cannot tell{gap}: fix what stopped them and run again"
        return f"suitekit flaky: suite {self.suite!r} gave the same outcomes in all runs"


def _table(flaky: Sequence[FlakyTest], runs: int) -> list[str]:
    header = ["test", *(f"run {number}" for number in range(1, runs + 1))]
    rows = [header] + [[t.node_id, *(_cell(t.node_id, o) for o in t.outcomes)] for t in flaky]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines


def _cell(node_id: str, outcome: Outcome | None) -> str:
    if collection_error(node_id) and outcome in {"passed", "error"}:
        return "collected" if outcome == "passed" else "COLLECTION ERROR"
    return _CELL[outcome]


def _section(heading: str, body: list[str]) -> list[str]:
    """A section of the report: a blank line, ``heading`` and ``body``; nothing without a body."""
    return ["", heading, *body] if body else []


def _cause(cause: Cause) -> list[str]:
    where = f" (run {cause.run}'s order, {cause.replays} replays)" if cause.run else ""
    if cause.kind != "order":
        label = (
            "fails randomly (not reproduced by order)"
            if cause.kind == "random"
            else "could not be replayed"
        )
        return [f"  {cause.node_id}: {label}{where}: {cause.detail}"]
    lines = [f"  {cause.node_id}: order-dependent{where}: fails after"]
    lines += [f"      {node_id}" for node_id in cause.prefix]
    if cause.capped:
        lines.append("    (replay budget spent: a smaller set of tests may suffice)")
    if cause.detail:
        lines.append(f"    {cause.detail}")
    if cause.order_file:
        lines.append(f"    order: {cause.order_file}")
    if cause.command:
        lines.append(f"    replay: {cause.command}")
    return lines
