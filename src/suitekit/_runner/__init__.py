"""Run a plan's jobs (nox sessions) one after another or all at once, and summarise them.

This is the process-running half shared by the invoke adapter and the CLI; what to run comes
from :func:`suitekit.plan.jobs`. Each job runs in its own process group so that Ctrl-C, SIGTERM
or ``--fail-fast`` can stop a whole session tree (nox, pytest, xdist workers) and nothing else.
Each job's output goes to its log file under ``reports/logs/``; in a sequential run it is also
echoed live, in a parallel run it is printed for failed jobs only.

The modules, from the bottom up: ``_options`` (:class:`RunnerOptions`, declared once),
``_outcome`` (how a job ended), ``_process`` (one job's process group: start, tee, stop),
``_display`` (the event lines and the live status block), ``_inline`` (the report and coverage
jobs, run in this process), ``_summary`` (the run's ending: what failed, the sessions' table,
the reports, the verdict), ``_jobs`` (:class:`Runner`, the loop over the jobs) and ``_compose``
(a whole run: guard, jobs, finish, ending).
"""

from __future__ import annotations

from suitekit._runner._compose import execute as execute
from suitekit._runner._compose import run_jobs as run_jobs
from suitekit._runner._jobs import Runner as Runner
from suitekit._runner._options import RunnerOptions as RunnerOptions
from suitekit._runner._outcome import Outcome as Outcome
from suitekit._runner._outcome import Status as Status
from suitekit._runner._process import resolve_command as resolve_command
from suitekit._runner._summary import format_summary as format_summary

__all__ = [
    "Outcome",
    "Runner",
    "RunnerOptions",
    "Status",
    "execute",
    "format_summary",
    "resolve_command",
    "run_jobs",
]
