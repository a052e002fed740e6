"""A warm session's pytest (or check), started by the runner itself instead of through nox.

A suite session whose virtualenv is current (see :mod:`suitekit._warm`) would only start pytest,
and nox's own start costs about half a second of CPU per session. The runner then does what
the session would do, in the same order and with the same inputs: the folders checked, the stale
reports removed, the coverage configuration written, the same pytest command line run in the
session's virtualenv with the variables nox would give it (its ``PATH``, ``VIRTUAL_ENV``,
``NOX_CURRENT_SESSION``; the suite's variables; the run's servers), and afterwards the
durations recorded. A check without services runs its commands the same way, one after
another. The session's log says it ran so. Whatever is in doubt (no record, an
install to do, a noxfile changed since, a bad variable) leaves the job to nox.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from suitekit import _warm, plan
from suitekit._files import ensure_writable
from suitekit._handoff import ENV_RUN_ID, ENV_VIA_NOX
from suitekit._model import Check, Project, Suite
from suitekit._naming import new_run_id
from suitekit.errors import SuitekitError
from suitekit.plan import Job

__all__ = ["Direct", "direct", "record_durations"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Direct:
    """How the runner starts a warm suite session's pytest.

    Attributes:
        argv: The command, its program resolved in the session's virtualenv.
        env: Its whole environment.
        junit: The JUnit file it writes (a suite's), or ``None``.
        records_durations: Whether the durations store learns from it afterwards.
        header: The lines its log starts with (what nox would have logged).
    """

    argv: tuple[str, ...]
    env: Mapping[str, str]
    junit: Path | None
    records_durations: bool
    header: str


def direct(job: Job, project: Project | None, environ: Mapping[str, str]) -> Direct | None:
    """How to start ``job`` without nox, or ``None``: it runs through nox.

    ``environ`` is what the job's process would get (the session's nox would read it). Preparing
    removes the session's stale reports and writes its coverage configuration, as the session
    does right before its pytest.
    """
    if project is None:
        return None
    try:
        if job.kind == "check":
            return _check(job, project, project.check(job.session), environ)
        if job.kind == "suite" and job.suite is not None:
            return _suite(job, project, project.suite(job.suite), environ)
    except KeyError:
        return None  # a job of another project's: its nox session knows it
    return None


def _suite(job: Job, project: Project, suite: Suite, environ: Mapping[str, str]) -> Direct | None:
    """A warm pytest suite: its pytest, as its session prepares and runs it."""
    if suite.runner.kind != "pytest":
        return None
    warm = _warm.load(project, job.session)
    if warm is None or not _warm.usable(project, warm, suite.install, environ):
        return None
    if plan.session_name(suite.name, warm.python) != job.session:
        return None  # e.g. recorded by `nox --force-python`: another Python than this job's
    posargs = job.command[job.command.index("--") + 1 :] if "--" in job.command else ()
    from suitekit.reporting import write_rcfile  # noqa: PLC0415 - a warm suite job only

    try:
        run = plan.suite_session(
            project, suite, python=warm.python, posargs=posargs, environ=environ
        )
        ensure_writable(plan.suite_folders(project, suite, warm.python))
        for sweep in run.sweeps:
            for path in sweep.stale(sweep.folder.glob(sweep.pattern)):
                path.unlink(missing_ok=True)
        rcfile = write_rcfile(project, suite.name, warm.python) if run.coverage else None
    except (OSError, SuitekitError):
        return None  # the session says what is wrong
    command = run.command(rcfile)
    # Python's, or coverage's under coverage: the virtualenv's, else nox judges (what was
    # prepared above is what the session prepares too).
    program = _resolve(command[0], warm)
    if program is None:
        return None
    env = _session_env(warm, environ, run.env)
    return Direct(
        argv=(program, *command[1:]),
        env=env,
        junit=run.junit,
        records_durations=run.records_durations,
        header=_header(job, warm, f"suitekit: {shlex.join(command)}"),
    )


def _check(job: Job, project: Project, check: Check, environ: Mapping[str, str]) -> Direct | None:
    """A warm check without services: its commands, one after another, as its session runs them.

    A check with services gets fresh resources from its session (a database for migrations),
    so it runs through nox.
    """
    if check.services or not check.run or "--" in job.command:
        return None
    warm = _warm.load(project, job.session)
    if warm is None or not _warm.usable(project, warm, check.install, environ):
        return None
    # The variable the session's check_resources gives a check without services.
    run_id = {ENV_RUN_ID: environ.get(ENV_RUN_ID) or new_run_id()}
    env = _session_env(warm, environ, {**plan.check_env(project, check), **run_id})
    commands: list[list[str]] = []
    for command in check.run:
        words = shlex.split(command)
        # Only programs of the virtualenv: nox would run others with its own rules (its uv,
        # external-run errors), and a shell would read builtins and assignments otherwise.
        program = _resolve(words[0], warm) if words else None
        if program is None:
            return None
        commands.append([program, *words[1:]])
    shown = "\n".join(f"suitekit: {shlex.join(command)}" for command in commands)
    if len(commands) == 1:
        argv: tuple[str, ...] = tuple(commands[0])
    else:
        # One after another, stopping at the first failure, as session.run does.
        argv = ("/bin/sh", "-c", " && ".join(shlex.join(command) for command in commands))
    return Direct(
        argv=argv, env=env, junit=None, records_durations=False, header=_header(job, warm, shown)
    )


def _header(job: Job, warm: _warm.Warm, shown: str) -> str:
    return (
        f"suitekit: {job.session}: its virtualenv {warm.venv} is current, so this run starts "
        f"its commands without nox (as `nox -s {job.session}` would; {ENV_VIA_NOX}=1: "
        f"through nox)\n{shown}\n"
    )


def _session_env(
    warm: _warm.Warm, environ: Mapping[str, str], suite_env: Mapping[str, str]
) -> dict[str, str]:
    """The variables nox gives a command of the session: its virtualenv's over the outer ones."""
    merged: dict[str, str | None] = {
        **environ,
        **warm.venv_env,
        "NOX_CURRENT_SESSION": warm.session,
        **suite_env,
    }
    prior = merged.get("PATH")
    merged["PATH"] = os.pathsep.join([*warm.bin, *([prior] if prior else [])])
    return {name: value for name, value in merged.items() if value is not None}


def _resolve(program: str, warm: _warm.Warm) -> str | None:
    """``program`` in the session's virtualenv, as its ``PATH`` finds it first; ``None``: not there.

    A program found elsewhere (or a link to an interpreter since removed) is nox's to judge.
    """
    if "/" in program:
        return None
    for folder in warm.bin:
        candidate = Path(folder) / program
        if os.access(candidate, os.X_OK) and candidate.is_file():
            return str(candidate)
    return None


def record_durations(project: Project, found: Direct, since: float) -> str | None:
    """Fold the run's JUnit file into the durations store, as the session does; a warning line.

    A file the run did not write (pytest crashed) is left out, as the session leaves it.
    """
    from suitekit.reporting import record_session  # noqa: PLC0415 - at a job's end only

    if not found.records_durations or found.junit is None:
        return None
    try:
        if found.junit.stat().st_mtime < since - 1:
            return None
        record_session(project, found.junit)
    except FileNotFoundError:
        return None
    except (OSError, SuitekitError) as error:
        return f"suitekit: durations not recorded: {error}"
    return None
