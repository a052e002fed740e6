"""What :func:`~suitekit.reporting._merge.merge_junit` returns: the merged suites and cases.

Plain frozen data, shared by the merge, the summary (:mod:`suitekit.reporting._summary`) and the
quarantine streaks (:mod:`suitekit.reporting._streaks`), so that none of them has to import the
merge to name what it produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from suitekit.reporting._junit import Totals

__all__ = [
    "CaseOutcome",
    "CaseResult",
    "MergeResult",
    "QuarantineOutcome",
    "QuarantinedCase",
    "SuiteResult",
]

CaseOutcome = Literal["passed", "failed", "error", "skipped", "flaky"]
"""The outcome of one test case; ``flaky`` is a case that passed only after failed attempts."""

QuarantineOutcome = Literal["passed", "failed", "flaky", "skipped"]
"""The outcome of a quarantined test in one report (``failed`` covers errors too; ``skipped``:
it did not run, or it was an xfail that failed as expected)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseResult:
    """One test case, as merged.

    Attributes:
        suite: The name of the output suite the case belongs to.
        classname: The case's ``classname`` attribute (``""`` when it has none).
        name: The case's ``name`` attribute.
        seconds: The case's ``time`` attribute (0.0 when missing, negative or not a number).
        outcome: ``passed``, ``failed``, ``error``, ``skipped`` or ``flaky``.
        message: The first line of the failure, error or skip message (of a flaky case: of its
            first failed attempt); ``""`` when passed.
        attempts: How many times the case ran: 1, plus one per earlier failed attempt that the
            report records (``<flakyFailure>``, ``<rerunFailure>`` and their ``Error`` forms).
        report: The stem of the JUnit file the case comes from (``unit-3.11``,
            ``unit-3.11.shard-2-of-4``): its session; ``""`` when not known.
        node_id: The pytest node id, relative to the project's root, from the plugin's
            ``suitekit.location`` property; ``""`` for another runner's case.
        file: The test's file, relative to the project's root (of a pytest case, from the
            plugin's property; else from the case's own ``file`` attribute); ``""`` when not
            known.
        line: The 1-based line of the test in ``file``; ``None`` when not known.
    """

    suite: str
    classname: str
    name: str
    seconds: float
    outcome: CaseOutcome
    message: str
    attempts: int = 1
    report: str = ""
    node_id: str = ""
    file: str = ""
    line: int | None = None

    @property
    def key(self) -> str:
        """``classname::name``, or the name alone for a case without a class name."""
        return f"{self.classname}::{self.name}" if self.classname else self.name

    @property
    def test(self) -> str:
        """How to name the test to a person: its pytest node id, else :attr:`key`."""
        return self.node_id or self.key


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantinedCase:
    """A quarantined test case in one suite, as the pytest plugin marked it.

    Attributes:
        suite: The name of the output suite the case belongs to.
        key: The case's ``classname::name``, as the ``suitekit.quarantined`` property names it.
        entry: The ``test`` of the quarantine entry that matched it (``""`` for a quarantined
            failure whose suite has no property naming it).
        outcome: ``failed`` when the test failed or errored (the report shows a quarantined
            failure as skipped), ``flaky`` when it passed only on a retry, ``skipped`` when it
            was skipped (an xfail that failed as expected included), else ``passed``.
        message: The first line of the failure (of a quarantined failure, the skip message
            ``quarantined (<reason>): <failure>``) or of the skip reason; ``""`` when passed.
    """

    suite: str
    key: str
    entry: str
    outcome: QuarantineOutcome
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteResult:
    """One ``<testsuite>`` of the output.

    Attributes:
        name: The input suite's ``name``; the input file's stem when the suite is named
            ``pytest`` (pytest's default; ``-o junit_suite_name=NAME`` sets another) or not named.
        source: The input file the suite comes from.
        totals: The suite's counts and time, recomputed from its test cases.
        session_seconds: The suite's own ``time`` attribute: pytest's wall time for it,
            collection and start-up included (the sum of its cases' times when it gives none);
            ``None`` when not known. A suite's budget measures this time, not the sum.
    """

    name: str
    source: Path
    totals: Totals
    session_seconds: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeResult:
    """What :func:`~suitekit.reporting._merge.merge_junit` merged, wrote and left out.

    Attributes:
        output: The report written; ``None`` when nothing could be written (which
            :func:`~suitekit.reporting._merge.merge_junit` reports by raising
            :class:`~suitekit.errors.ReportError`, so the results it returns always name the
            file).
        suites: The output's suites, in input order.
        totals: The counts and time of all suites, recomputed from their test cases.
        failed: The failed and errored cases, in input order.
        flaky: The flaky cases (passed only after failed attempts), in input order.
        quarantined: The quarantined cases, suite by suite in input order; in a suite, in the
            order of its ``suitekit.quarantined`` properties.
        slowest: The slowest cases (any outcome), slowest first; on a tie, in input order.
        durations: Suite name to case key (:attr:`CaseResult.key`) to seconds, for every case
            that ran (passed, flaky, failed or errored; skipped cases, quarantined failures
            among them, are left out). A key that occurs more than once in a suite (the same
            suite merged from several runs) keeps its largest time. A retried case's time is
            its final attempt's: the pytest plugin leaves the failed attempts' time out of it.
        unreadable: Each input that could not be merged, with the reason. Such inputs are left
            exactly as they were.
    """

    output: Path | None
    suites: tuple[SuiteResult, ...]
    totals: Totals
    failed: tuple[CaseResult, ...]
    slowest: tuple[CaseResult, ...]
    durations: Mapping[str, Mapping[str, float]]
    unreadable: tuple[tuple[Path, str], ...]
    flaky: tuple[CaseResult, ...] = ()
    quarantined: tuple[QuarantinedCase, ...] = ()
