"""How a job ended: its status, exit code, time and the suite's JUnit totals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from suitekit.errors import ReportError
from suitekit.plan import Job
from suitekit.reporting import Totals, read_totals

__all__ = ["Outcome", "Status", "fresh_totals"]

Status = Literal["waiting", "running", "passed", "failed", "cancelled", "interrupted"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """How one job ended.

    Attributes:
        job: The job.
        status: ``passed``, ``failed``, ``cancelled`` (never started, or stopped by
            ``--fail-fast``) or ``interrupted`` (Ctrl-C or SIGTERM).
        returncode: The process's exit code, when it ran.
        seconds: Wall time.
        totals: The suite's JUnit totals, when it wrote a fresh JUnit file.
        note: Why the totals are missing or anything else the summary should say.
    """

    job: Job
    status: Status
    returncode: int | None
    seconds: float
    totals: Totals | None = None
    note: str = ""

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
