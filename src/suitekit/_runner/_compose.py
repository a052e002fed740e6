"""A whole run: the partition guard, the jobs, the finish (report, coverage), the ending.

It starts the services the jobs need when the first job needing one starts, decides the
guard from what the suite sessions collected (or runs the guard session), and closes with
the run's ending (see :mod:`suitekit._runner._summary`): what failed, the sessions' table,
where the reports are and the verdict, last.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from suitekit import _guard, plan, services
from suitekit._files import ensure_writable
from suitekit._handoff import ENV_CHECK_RESULTS
from suitekit._model import Project
from suitekit._runner._display import colour_wanted
from suitekit._runner._jobs import Runner
from suitekit._runner._outcome import Outcome
from suitekit._runner._summary import find_artifacts, format_summary
from suitekit._signals import signals_as_interrupt
from suitekit.plan import Job, RunPlan

__all__ = ["execute", "run_jobs"]


def run_jobs(
    root: Path,
    jobs: Sequence[Job],
    *,
    guard: Job | None = None,
    finish: Sequence[Job] = (),
    parallel: bool = False,
    fail_fast: bool = False,
    stream: IO[str] | None = None,
    project: Project | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run ``jobs``, check the partition (when a ``guard`` is given), run ``finish``; summarise.

    With a ``project``, the guard is decided from what the suite sessions collected (see
    :mod:`suitekit._guard`) once they have ended, and the guard session runs only when those
    records cannot settle it; the services the jobs need are started when the first job that
    needs one starts (a parallel run starts the others first, so they overlap), shared by all
    of them (see :func:`suitekit.services.provide`), and stopped before the summary, so that its
    closing line is the run's last; the report and coverage jobs run in this process. Without
    a project the guard session runs first, and nothing else runs if it fails.

    Returns:
        0 when every required job passed, 1 when one failed, 130 when interrupted.

    Raises:
        ReportError: A folder the jobs write to (``reports/logs``, ``reports/junit``) cannot
            be written; nothing was started.
        ServiceError: A needed service can be neither found nor started.
    """
    runner = Runner(
        root=root,
        parallel=parallel,
        fail_fast=fail_fast,
        stream=stream or sys.stdout,
        extra_env=env or {},
        project=project,
    )
    return _run(runner, guard=guard, jobs=jobs, finish=finish)


def execute(
    project: Project, run: RunPlan, *, stream: IO[str] | None = None, verbosity: int = 0
) -> int:
    """Carry out a :class:`~suitekit.plan.RunPlan` in the project's root.

    The services its sessions need are shared by all of them, and the report and coverage
    jobs run in this process. ``verbosity``: -1 quiet (``-q``), 0, 1 verbose (``-v``).
    """
    runner = Runner(
        root=project.root,
        parallel=run.parallel,
        fail_fast=run.fail_fast,
        stream=stream or sys.stdout,
        extra_env=run.env,
        project=project,
        verbosity=verbosity,
    )
    return _run(runner, guard=run.guard, jobs=run.jobs, finish=run.finish)


def _run(runner: Runner, *, guard: Job | None, jobs: Sequence[Job], finish: Sequence[Job]) -> int:
    """:func:`run_jobs` with its options in ``runner``; its ``served`` is set here."""
    out, project = runner.stream, runner.project

    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    every = (*(() if guard is None else (guard,)), *jobs)
    since = time.time()  # the reports written from now on are this run's
    # Before anything starts: a full or read-only reports folder is one clear error (exit 2),
    # not a traceback halfway through or sessions failing for no visible reason.
    ensure_writable(_written_folders((*every, *finish)))
    needed = tuple(dict.fromkeys(service for job in every for service in job.services))
    started = time.monotonic()
    # Outside the servers' block: SIGTERM (and a Ctrl-C after the runner's loop) ends the run
    # through the servers' stop, however late it lands.
    with (
        signals_as_interrupt(signal.SIGINT, signal.SIGTERM),
        contextlib.ExitStack() as servers,
        _guard.collections_folder() as records,
        tempfile.TemporaryDirectory(prefix="suitekit-progress-") as progress,
    ):
        # The suite sessions' live counts, in a folder of the run's own (mode 0700).
        runner = dataclasses.replace(runner, progress=Path(progress))
        shared = dict(runner.extra_env)
        if guard is not None:
            # The suites' records decide the guard; the guard session's says what crashed.
            shared[plan.ENV_COLLECTIONS] = str(records)
        provided: list[Mapping[str, str]] = []

        def served() -> Mapping[str, str]:
            # Started once: in a parallel run when the first job that needs a server starts
            # (the others start first, and overlap with it); stopped when the run ends.
            if not provided:
                # The run's loop handles Ctrl-C while it starts them; after the loop, Ctrl-C
                # raises where it lands and the servers' stop still runs (held).
                provided.append(
                    servers.enter_context(
                        services.provide(project, needed, os.environ, say=say, own_signals=False)
                    )
                    if project is not None
                    else {}
                )
            return provided[0]

        if needed and not runner.parallel:
            # One session at a time: the servers start first, as a server that cannot be had
            # must stop the run before its first session, not after sessions that passed.
            served()
        outcomes, code = _execute(
            dataclasses.replace(runner, extra_env=shared, served=served),
            jobs,
            guard=guard,
            finish=finish,
            check=(lambda: _guard.decide(project, records)) if project is not None else None,
            crashed=lambda: _guard.crash(project, records),
        )
    ending = _Ending(
        wall=time.monotonic() - started,
        since=since,
        reports=_reports_folder(project, (*every, *finish)),
        colour=colour_wanted(out, os.environ),
        verbosity=runner.verbosity,
    )
    return _summarise(outcomes, code, ending, out)


def _execute(
    runner: Runner,
    jobs: Sequence[Job],
    *,
    guard: Job | None,
    finish: Sequence[Job],
    check: Callable[[], _guard.Verdict] | None,
    crashed: Callable[[], str | None] = lambda: None,
) -> tuple[list[Outcome], int]:
    """Run the jobs, the guard and the finish; the outcomes to summarise and the exit code.

    The jobs run as ``runner`` says (in parallel or not); the guard and the finish one after
    another. Without ``check`` (the records' verdict) the guard runs first, and a failed guard
    returns no outcomes: the run's results would be of a broken partition. ``crashed`` says
    what the guard session failed to collect, if that is why it failed.
    """
    out = runner.stream
    sequential = dataclasses.replace(runner, parallel=False)
    if guard is not None and check is None:
        (checked,) = sequential.run([guard])
        if checked.status != "passed":
            return [], _guard_failed(checked, out, "nothing else was run", crashed())
    if not jobs:
        return [], 0
    outcomes = runner.run(jobs)
    if any(o.status == "interrupted" for o in outcomes):
        return outcomes, 130
    if guard is not None and check is not None:
        checked = _check_partition(sequential, guard, outcomes, check, crashed=crashed)
        if checked.status == "interrupted":
            return outcomes, 130
        if checked.status == "failed":
            outcomes = [checked, *outcomes]
    if finish and not (runner.fail_fast and any(o.blocking for o in outcomes)):
        # The merged report and the coverage gate, one after the other, over what just ran.
        outcomes += sequential.run(_with_check_results(finish, outcomes))
        if any(o.status == "interrupted" for o in outcomes):
            return outcomes, 130
    return outcomes, 1 if any(o.blocking for o in outcomes) else 0


_CHECK_RESULTS: Final[Mapping[str, str]] = {
    "passed": "success",
    "failed": "failure",
    "interrupted": "cancelled",
    "cancelled": "cancelled",
}


def _with_check_results(finish: Sequence[Job], outcomes: Sequence[Outcome]) -> list[Job]:
    """``finish`` with the checks' results in each job's variables, for the report's summary."""
    results = {
        o.job.title: _CHECK_RESULTS.get(o.status, "skipped")
        for o in outcomes
        if o.job.kind == "check"
    }
    if not results:
        return list(finish)
    value = json.dumps(results)
    return [dataclasses.replace(job, env={**job.env, ENV_CHECK_RESULTS: value}) for job in finish]


def _check_partition(
    runner: Runner,
    guard: Job,
    outcomes: Sequence[Outcome],
    check: Callable[[], _guard.Verdict],
    *,
    crashed: Callable[[], str | None],
) -> Outcome:
    """The guard's outcome, from the suite sessions' records or else from the guard session.

    The session runs (with ``runner``) only when the records cannot settle the partition and
    every suite session finished; after a suite session failed, an unsettled guard is left
    out (the run fails already) rather than paying for a collection that would likely fail
    the same way.
    """
    out = runner.stream
    started = time.monotonic()
    verdict = check()
    seconds = time.monotonic() - started
    if verdict.runners.problem:
        out.write(
            f"{verdict.runners.problem}\nsuitekit: {guard.session} failed: the suites of other "
            "runners do not partition their test files\n"
        )
        out.flush()
        # No session ran (returncode None: no log to name); the problem is said above.
        return Outcome(
            job=guard,
            status="failed",
            returncode=None,
            seconds=seconds,
            note="the suites of other runners do not partition their test files (said above)",
        )
    if verdict.runners.unchecked:
        out.write(
            f"suitekit: {guard.session}: the test files of other runners not checked "
            f"({verdict.runners.unchecked})\n"
        )
        out.flush()
    if verdict.report is not None:
        if verdict.problem:
            why = (
                "the suites do not partition the tests"
                if not verdict.report.ok
                else "a quarantine entry names none of the collected tests"
            )
            out.write(f"{verdict.problem}\nsuitekit: {guard.session} failed: {why}\n")
            out.flush()
            return Outcome(
                job=guard,
                status="failed",
                returncode=None,
                seconds=seconds,
                note=f"{why} (said above)",
            )
        counts = ", ".join(
            [f"{name} {count}" for name, count in verdict.report.counts]
            + [f"{name} {count} {unit}" for name, count, unit in verdict.runners.counts]
        )
        out.write(
            f"suitekit: {guard.session}: passed, from the suites' own collections "
            f"({counts}) in {seconds:.2f}s\n"
        )
        out.flush()
        return Outcome(job=guard, status="passed", returncode=None, seconds=seconds)
    suites = [o for o in outcomes if o.job.kind == "suite"]
    if any(o.status != "passed" for o in suites):
        out.write(f"suitekit: {guard.session}: not checked ({verdict.reason})\n")
        out.flush()
        return Outcome(job=guard, status="cancelled", returncode=None, seconds=seconds)
    out.write(f"suitekit: {guard.session}: {verdict.reason}; collecting every test root\n")
    out.flush()
    (checked,) = runner.run([guard])
    if checked.status == "failed":
        _guard_failed(checked, out, "see its log above", crashed())
    return checked


def _guard_failed(checked: Outcome, out: IO[str], then: str, crash: str | None) -> int:
    """Say that the partition guard failed (not when interrupted); the run's exit code.

    A guard session that could not collect says so, with the real error first (``crash``):
    it has not found that the suites fail to partition the tests.
    """
    if checked.status == "interrupted":
        return 130
    why = crash or "the suites do not partition the tests"
    out.write(f"suitekit: {checked.job.session} failed: {why}; {then}\n")
    out.flush()
    return 1


@dataclass(frozen=True, slots=True, kw_only=True)
class _Ending:
    """What the ending of a run needs besides the outcomes.

    Attributes:
        wall: The run's wall time, in seconds.
        since: When the run started (``time.time()``): the reports written since are its own.
        reports: The reports folder; ``None`` when there is no job to tell it.
        colour: Whether to colour it.
        verbosity: -1 (``-q``), 0 or 1 (``-v``).
    """

    wall: float
    since: float
    reports: Path | None
    colour: bool
    verbosity: int


def _summarise(outcomes: list[Outcome], code: int, ending: _Ending, out: IO[str]) -> int:
    """Print the ending (its verdict last of all) and pass the exit code on."""
    if outcomes:
        cwd = Path.cwd()
        artifacts = (
            find_artifacts(ending.reports, since=ending.since, cwd=cwd)
            if ending.reports is not None
            else ()
        )
        text = format_summary(
            outcomes,
            ending.wall,
            artifacts=artifacts,
            cwd=cwd,
            colour=ending.colour,
            verbosity=ending.verbosity,
        )
        out.write(text + "\n")
        out.flush()
    return code


def _reports_folder(project: Project | None, jobs: Sequence[Job]) -> Path | None:
    """The run's reports folder: the project's, else the one the jobs' logs are in."""
    if project is not None:
        return project.root / project.reports
    # Each log is <reports>/logs/<session>.log (see suitekit._layout.log_file).
    return jobs[0].log.parent.parent if jobs else None


def _written_folders(jobs: Sequence[Job]) -> tuple[Path, ...]:
    """The folders the jobs write their logs and JUnit files to, each once, parents first."""
    folders = {job.log.parent for job in jobs}
    folders |= {job.junit.parent for job in jobs if job.junit is not None}
    return tuple(sorted(folders))
