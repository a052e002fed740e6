"""The report and coverage jobs, run in the runner's own process, logged like a session.

suitekit is installed where the runner runs, so these need no virtualenv (nor nox) of their
own; their output goes to their log file and, in a sequential run, to the run's stream.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Final

from suitekit._files import write_problem
from suitekit._model import Project
from suitekit._runner._outcome import Outcome, Status
from suitekit.errors import ReportError, SuitekitError
from suitekit.plan import Job

__all__ = ["inline", "run_inline"]


def inline(job: Job, project: Project | None) -> bool:
    """Whether ``job`` runs in this process (a report or coverage job, given the project)."""
    return project is not None and job.kind in _INLINE


def run_inline(job: Job, project: Project, echo: IO[str] | None, started: float) -> Outcome:
    """Run a report or coverage job in this process, its output logged like a session's.

    The job's own variables (the checks' results for the report) are read as its environment.

    Raises:
        ReportError: Its log cannot be written.
    """
    try:
        job.log.parent.mkdir(parents=True, exist_ok=True)
        opened = job.log.open("w", encoding="utf-8", errors="replace")
    except OSError as error:
        raise ReportError(write_problem(job.log, error, what="the session's log")) from None
    status: Status = "failed"
    code: int | None = None
    tee = _Tee(opened, echo)
    try:
        code = _INLINE[job.kind](project, tee, {**os.environ, **job.env})
        status = "passed" if code == 0 else "failed"
    except SuitekitError as error:
        tee.write(f"suitekit: {error}\n")
        code = 2
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        tee.flush()  # a log that cannot take the rest is said by the tee, not raised
        with contextlib.suppress(OSError):
            opened.close()
    return Outcome(job=job, status=status, returncode=code, seconds=time.monotonic() - started)


class _Tee(io.StringIO):
    """A text stream that writes to a job's log and, in a sequential run, to the output."""

    def __init__(self, log: IO[str], echo: IO[str] | None) -> None:
        super().__init__()
        self._log: IO[str] | None = log
        self._echo = echo

    def write(self, text: str) -> int:
        if self._log is not None:
            try:
                self._log.write(text)
            except OSError as error:
                self._lost(error)
        if self._echo is not None:
            self._echo.write(text)
        return len(text)

    def flush(self) -> None:
        if self._log is not None:
            try:
                self._log.flush()
            except OSError as error:
                self._lost(error)
        if self._echo is not None:
            self._echo.flush()

    def _lost(self, error: OSError) -> None:
        """Stop logging (the file system is full, say) and say so; the output goes on."""
        name = getattr(self._log, "name", "the log")
        self._log = None
        problem = write_problem(Path(str(name)), error, what="the rest of the log")
        if self._echo is not None:
            self._echo.write(f"suitekit: {problem}\n")


def _report(project: Project, out: IO[str], environ: Mapping[str, str]) -> int:
    """``suitekit report``: the merged JUnit report, the summary, the durations store."""
    from suitekit.reporting import report  # noqa: PLC0415 - only where a run ends

    return report(project, environ=environ, out=out)


def _coverage(project: Project, out: IO[str], environ: Mapping[str, str]) -> int:
    """``suitekit coverage``: the combined figure and the gate."""
    del environ
    from suitekit.reporting import combine  # noqa: PLC0415 - only where a run ends

    result = combine(project)
    out.write(f"{result.report}\n{result.summary()}\n")
    out.flush()
    return 0 if result.ok else 1


_INLINE: Final[Mapping[str, Callable[[Project, IO[str], Mapping[str, str]], int]]] = {
    "report": _report,
    "coverage": _coverage,
}
