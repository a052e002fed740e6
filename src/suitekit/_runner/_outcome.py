"""How a job ended: its status, exit code, time, the suite's JUnit totals and failed tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from suitekit.errors import ReportError
from suitekit.plan import Job
from suitekit.reporting import Totals, failed_cases, read_totals, rerun_command

__all__ = ["FailedTest", "Outcome", "Status", "failed_tests", "fresh_totals"]

Status = Literal["waiting", "running", "passed", "failed", "cancelled", "interrupted"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedTest:
    """A test that failed (or errored) in a suite session, and how to run it again.

    Attributes:
        test: Its pytest node id; ``classname::name`` for another runner's test.
        error: Whether it errored (in setup or teardown) rather than failed.
        rerun: The command that runs it again in its session (``nox -s unit-3.11 -- <node
            id>``); ``""`` when none is known.
    """

    test: str
    error: bool = False
    rerun: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """How one job ended.

    Attributes:
        job: The job.
        status: ``passed``, ``failed``, ``cancelled`` (never started, or stopped by
            ``--fail-fast``) or ``interrupted`` (Ctrl-C or SIGTERM).
        returncode: The process's exit code, when it ran (``None``: nothing ran, so there is
            no log: a job never started, or a guard decided from the suites' records).
        seconds: Wall time.
        totals: The suite's JUnit totals, when it wrote a fresh JUnit file.
        note: Why the totals are missing or anything else the summary should say.
        failed_tests: The tests that failed or errored in it, from its fresh JUnit file.
        started: Whether it started; ``False`` for the jobs still waiting when the run was
            stopped (their status is the stop's: ``interrupted`` or ``cancelled``).
    """

    job: Job
    status: Status
    returncode: int | None
    seconds: float
    totals: Totals | None = None
    note: str = ""
    failed_tests: tuple[FailedTest, ...] = ()
    started: bool = True

    @property
    def blocking(self) -> bool:
        """Whether this outcome fails the run."""
        return self.job.required and self.status != "passed"


def fresh_totals(job: Job, wall_started: float) -> tuple[Totals | None, str]:
    """The suite's JUnit totals, if the job wrote its JUnit file (an older one does not count)."""
    if job.junit is None:
        return None, ""
    try:
        if job.junit.stat().st_mtime < wall_started - 1:
            return None, f"no JUnit file written by this run at {job.junit}"
        return read_totals(job.junit), ""
    except FileNotFoundError:
        return None, f"no JUnit file at {job.junit}"
    except ReportError as error:
        return None, str(error)


def failed_tests(job: Job, totals: Totals | None) -> tuple[FailedTest, ...]:
    """The tests that failed or errored in the suite's fresh JUnit file, with their reruns.

    Read only when ``totals`` (of that file) count some; a file that cannot be read a second
    time gives none (its totals said what they could).
    """
    if job.junit is None or totals is None or not totals.failures + totals.errors:
        return ()
    try:
        cases = failed_cases(job.junit)
    except ReportError:
        return ()
    return tuple(
        FailedTest(test=case.test, error=case.outcome == "error", rerun=rerun_command(case))
        for case in cases
    )
