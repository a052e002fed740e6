"""A run as data: its jobs (one per nox session), the CPU shares of a parallel run, its plan."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

from suitekit._model import Project, Service, Suite
from suitekit.config import ENV_COVERAGE, ENV_CPUS, ENV_WORKERS, RunOptions, run_options
from suitekit.errors import ConfigError
from suitekit.plan._options import ENV_REINSTALL
from suitekit.plan._sessions import (
    COVERAGE_SESSION,
    PARTITION_SESSION,
    REPORT_SESSION,
    JobKind,
    collection_suite,
    junit_path,
    log_path,
    nox_command,
    session_name,
)
from suitekit.plan._workers import recorded_work, share_cpus

__all__ = [
    "YIELDING_NICE",
    "Job",
    "RunPlan",
    "jobs",
    "nox_job",
    "partition_job",
    "report_jobs",
    "run_plan",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """One session to run as part of a larger run (``inv test.all``).

    Attributes:
        session: The nox session's full name, e.g. ``unit-3.11`` or ``lint``.
        kind: What the session runs.
        title: The suite's or check's name.
        command: The command line (see :func:`nox_command`).
        env: Variables to add to the command's environment.
        required: Whether its failure fails the run (advisory checks are not required).
        junit: The suite's JUnit file, or ``None`` for a check.
        log: Where the run keeps the session's output.
        target_seconds: The suite's time budget.
        services: The services the session needs.
        suite: The suite a suite session runs (``None`` for other jobs).
        nice: How much lower than the run's own the session's CPU priority is (a Unix nice
            increment): in a parallel run, the sessions beside the one expected to run longest
            yield the CPU to it.
    """

    session: str
    kind: JobKind
    title: str
    command: tuple[str, ...]
    env: Mapping[str, str]
    required: bool
    junit: Path | None
    log: Path
    target_seconds: float | None
    services: tuple[Service, ...] = ()
    suite: str | None = None
    nice: int = 0


YIELDING_NICE: Final = 5
"""The nice increment of the sessions beside a parallel run's longest one."""


def nox_job(project: Project, session: str, *, kind: JobKind, posargs: Sequence[str] = ()) -> Job:
    """A job that runs one nox session: every :class:`Job` is built here.

    The command is :func:`nox_command` (``posargs`` go after ``--``) and the output goes to the
    run's log of the session (:func:`log_path`); the job is required, titled by its session,
    and has no extra variables, JUnit file, time budget or services. Jobs that differ are this
    one with :func:`dataclasses.replace`.
    """
    command = nox_command(session) + (("--", *posargs) if posargs else ())
    return Job(
        session=session,
        kind=kind,
        title=session,
        command=command,
        env={},
        required=True,
        junit=None,
        log=log_path(project, session),
        target_seconds=None,
    )


def _machine_options() -> RunOptions:
    """The options of a run that overrides nothing: the defaults layer alone."""
    return run_options({})


def _leading_target(
    suite_runs: Sequence[tuple[Suite, str]], wanting: Collection[str]
) -> str | None:
    """The session that wants CPUs whose suite declares the strictly longest ``target-seconds``.

    Only when every session that wants CPUs declares one (a target is a wall-time budget, so
    it names the session the project expects to set the run's length; it says nothing of how
    that time would scale with CPUs). Ties (a suite of several Pythons, equal targets) name
    none; a suite that wants no CPUs (``workers = 0``) is never the one.
    """
    targets = {
        session_name(suite.name, python): suite.target_seconds
        for suite, python in suite_runs
        if suite.target_seconds is not None and session_name(suite.name, python) in wanting
    }
    if not wanting or any(name not in targets for name in wanting):
        return None
    ranked = sorted(targets.items(), key=lambda item: item[1], reverse=True)
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def jobs(
    project: Project,
    *,
    suites: Sequence[str] | None = None,
    checks: Sequence[str] | None = None,
    parallel: bool = False,
    options: RunOptions | None = None,
    work: Mapping[str, float] | None = None,
    posargs: Sequence[str] = (),
) -> tuple[Job, ...]:
    """The jobs of a run: the chosen suites (per Python version) and checks.

    Args:
        project: The project.
        suites: Names of the suites to run; all by default.
        checks: Names of the checks to run; all by default.
        parallel: Whether the jobs run at the same time; then the CPU budget is shared between
            the suites (see :func:`share_cpus`) and passed to each through ``SUITEKIT_WORKERS``,
            unless the run's options already fix the worker count.
        options: The run's overrides (CPU budget, worker count); none by default.
        work: Each suite's recorded test time (see :func:`recorded_work`), which decides who
            gets the CPUs of a parallel run when every suite that wants CPUs has one (else the
            strictly longest ``target-seconds``, when each such suite declares one, gets its
            CPUs first: :func:`_leading_target`).
        posargs: Arguments for the suites' runners (after ``--`` in each suite session's
            command: ``nox -s unit-3.11 -- -k isbn``); the checks get none.

    Raises:
        ConfigError: A name is neither a suite nor a check.
    """
    chosen_suites = _pick(project, "suite", suites, [s.name for s in project.suites])
    chosen_checks = _pick(project, "check", checks, [c.name for c in project.checks])
    options = options or _machine_options()
    suite_runs = [
        (project.suite(name), python)
        for name in chosen_suites
        for python in project.suite(name).python
    ]
    demands = [(session_name(suite.name, python), suite.workers) for suite, python in suite_runs]
    share = parallel and options.workers is None  # an explicit worker count wins
    by_session = {
        session_name(suite.name, python): work[suite.name]
        for suite, python in suite_runs
        if work is not None and suite.name in work
    }
    wanting = [name for name, workers in demands if workers != 0]
    recorded = all(name in by_session for name in wanting)
    # Without recorded work for every suite that wants CPUs (a first run, a new suite), the
    # suite whose target-seconds is the longest gets its CPUs first and the others share the
    # rest; it is then the run's longest session, as below.
    leader = None if not share or recorded else _leading_target(suite_runs, wanting)
    shares = (
        share_cpus(demands, options.cpus.value, by_session if recorded else None, first=leader)
        if share
        else {}
    )
    # The session expected to run longest sets the run's wall time: the others yield the CPU
    # to it (known when every suite has recorded work, or from the targets as above).
    position = {name: index for index, (name, _) in enumerate(demands)}
    longest = (
        max(
            by_session,
            key=lambda name: (by_session[name] / max(shares[name], 1), -position[name]),
        )
        if share and demands and all(name in by_session for name, _ in demands)
        else leader
    )
    result: list[Job] = []
    for suite, python in suite_runs:
        session = session_name(suite.name, python)
        env: dict[str, str] = {}
        if share:
            # An "auto" suite gets a CPU budget and may take fewer (its durations may show
            # that xdist does not pay); a declared count gets its share as a worker count.
            variable = ENV_CPUS if suite.workers == "auto" else ENV_WORKERS
            env = {
                variable: str(max(shares[session], 1) if variable == ENV_CPUS else shares[session])
            }
        result.append(
            replace(
                nox_job(project, session, kind="suite", posargs=posargs),
                title=suite.name if len(suite.python) == 1 else session,
                env=env,
                junit=junit_path(project, suite, python),
                target_seconds=suite.target_seconds,
                services=suite.services,
                suite=suite.name,
                nice=YIELDING_NICE if longest not in (None, session) else 0,
            )
        )
    for name in chosen_checks:
        check = project.check(name)
        result.append(
            replace(
                nox_job(project, check.name, kind="check"),
                required=not check.allow_failure,
                services=check.services,
                nice=0 if longest is None else YIELDING_NICE,
            )
        )
    return tuple(result)


def report_jobs(project: Project, *, coverage: bool = True) -> tuple[Job, ...]:
    """The jobs that end a run: the merged report, then the coverage gate (with a source).

    Args:
        project: The project.
        coverage: ``False`` when the run measured no coverage: then there is no gate to apply.
    """
    names = [REPORT_SESSION] + ([COVERAGE_SESSION] if project.source and coverage else [])
    return tuple(
        nox_job(project, name, kind="report" if name == REPORT_SESSION else "coverage")
        for name in names
    )


def partition_job(project: Project) -> Job:
    """The job that runs the partition guard."""
    return replace(
        nox_job(project, PARTITION_SESSION, kind="partition"),
        services=collection_suite(project).services,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunPlan:
    """Everything one run executes, built once here and only carried out by the adapters.

    Attributes:
        guard: The partition guard, or ``None``. In a sequential run it runs before everything
            else; in a parallel run beside the sessions, which it stops if it fails.
        jobs: The suite and check sessions.
        finish: What ends the run when every session has ended: the merged report, then the
            coverage gate. The runner carries these out in its own process.
        parallel: Whether the sessions run at the same time.
        fail_fast: Whether the first required failure stops the rest.
        env: Variables every session gets (``SUITEKIT_COVERAGE=0``, ``SUITEKIT_REINSTALL=1``).
    """

    guard: Job | None
    jobs: tuple[Job, ...]
    finish: tuple[Job, ...] = ()
    parallel: bool = False
    fail_fast: bool = False
    env: Mapping[str, str] = field(default_factory=dict)


def run_plan(
    project: Project,
    *,
    suites: Sequence[str] | None = None,
    checks: Sequence[str] | None = None,
    whole: bool,
    guard: bool = True,
    parallel: bool = False,
    fail_fast: bool = False,
    options: RunOptions | None = None,
    reinstall: bool = False,
    posargs: Sequence[str] = (),
) -> RunPlan:
    """The run ``inv test.all``, ``inv test.<suite>`` or ``suitekit run`` executes.

    Args:
        project: The project.
        suites: The suites to run (all by default).
        checks: The checks to run (all by default).
        whole: Whether this is the project's whole pipeline: then the partition guard (unless
            ``guard`` is false), the merged report and, when coverage is measured, the gate.
        guard: Whether a whole run checks the partition.
        parallel: Run the sessions at once, sharing the CPUs (see :func:`jobs`).
        fail_fast: Stop at the first required failure.
        options: The run's overrides; a false ``options.coverage`` measures no coverage.
        reinstall: Install every session's virtualenv again, whatever its fingerprint.
        posargs: Arguments for the suites' runners (``inv test.unit -- -k isbn``).

    Raises:
        ConfigError: A name is neither a suite nor a check.
    """
    options = options or _machine_options()
    env: dict[str, str] = {}
    if not options.coverage.value:
        env[ENV_COVERAGE] = "0"
    if reinstall:
        env[ENV_REINSTALL] = "1"
    return RunPlan(
        guard=partition_job(project) if whole and guard else None,
        jobs=jobs(
            project,
            suites=suites,
            checks=checks,
            parallel=parallel,
            options=options,
            work=recorded_work(project) if parallel else None,
            posargs=posargs,
        ),
        finish=report_jobs(project, coverage=options.coverage.value) if whole else (),
        parallel=parallel,
        fail_fast=fail_fast,
        env=env,
    )


def _pick(project: Project, kind: str, names: Sequence[str] | None, known: list[str]) -> list[str]:
    if names is None:
        return known
    for name in names:
        if name not in known:
            import difflib  # noqa: PLC0415 - only on this error path

            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                file=project.config_file,
                key=f"tool.suitekit.{kind}s",
                value=name,
                problem=f"there is no {kind} called {name!r}{hint}",
                fix=f"use one of: {', '.join(known) or '(none declared)'}",
            )
    return list(dict.fromkeys(names))  # a name given twice runs once
