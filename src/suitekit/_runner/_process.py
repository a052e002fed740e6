"""One job's process: started in its own process group, its output teed to its log, stopped.

Each job runs in its own process group so that Ctrl-C, SIGTERM or ``--fail-fast`` can stop a
whole session tree (nox, pytest, xdist workers) and nothing else. In a sequential run its
output is echoed live beside its log; in a parallel run it goes to the log only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from suitekit import _processes
from suitekit._files import write_problem
from suitekit._handoff import ENV_PROGRESS
from suitekit._runner._direct import Direct, direct
from suitekit._runner._options import RunnerOptions
from suitekit.errors import ReportError, RunError
from suitekit.plan import Job

__all__ = [
    "POLL_SECONDS",
    "Running",
    "close",
    "resolve_command",
    "signal_groups",
    "spawn",
    "stop_leftovers",
]

_GRACE_SECONDS: Final = 10.0
POLL_SECONDS: Final = 0.02  # how late a run sees a session end, at most
ECHO_GRACE_SECONDS: Final = 10.0
"""How long an ended session's output may stay open before the run goes on without it."""


def resolve_command(command: Sequence[str]) -> list[str]:
    """The argv to execute for a planned command.

    A planned ``nox ...`` runs with the nox of the interpreter that runs suitekit (its script
    beside ``sys.executable``, else ``python -m nox``), so an unactivated virtualenv works too.
    """
    head, *rest = command
    if head == "nox":
        beside = Path(sys.executable).parent / "nox"
        if beside.exists():
            return [str(beside), *rest]
        return [sys.executable, "-m", "nox", *rest]
    found = shutil.which(head)
    if found is None:
        message = f"cannot run {head!r}: it is not on PATH"
        raise RunError(message)
    return [found, *rest]


@dataclass(slots=True)
class Running:
    """A job's process that was started, and what it writes to.

    Attributes:
        job: The job.
        process: Its process, the leader of its own process group.
        started: When it started (``time.monotonic``).
        log: Its log file.
        wall_started: When it started (``time.time``), to tell its JUnit file from an older one.
        echo: The thread copying its output to the log and the stream (a sequential run).
        direct: How its pytest was started without nox (a warm suite session), or ``None``.
        stream: Where its output is echoed (a sequential run), or ``None``.
    """

    job: Job
    process: subprocess.Popen[bytes]
    started: float
    log: IO[bytes]
    wall_started: float
    echo: threading.Thread | None = None
    direct: Direct | None = None
    stream: IO[str] | None = None


def progress_file(folder: Path, job: Job) -> Path:
    """Where a suite job's pytest writes its progress, in the run's private ``folder``."""
    return folder / f"{job.session}.json"


def spawn(job: Job, served: Mapping[str, str], options: RunnerOptions) -> Running:
    """Start ``job``'s command in its own process group, with ``served`` in its environment.

    Raises:
        ReportError: Its log cannot be written.
        RunError: Its command cannot be started.
    """
    try:
        job.log.parent.mkdir(parents=True, exist_ok=True)
        log = job.log.open("wb")
    except OSError as error:
        raise ReportError(write_problem(job.log, error, what="the session's log")) from None
    env = {**os.environ, **options.extra_env, **served, **job.env}
    if options.progress is not None and job.kind == "suite":
        env[ENV_PROGRESS] = str(progress_file(options.progress, job))
    echo = not options.parallel and options.verbosity >= 0  # -q: logs only, as in parallel
    found = direct(job, options.project, env)
    if found is not None:
        argv, env = list(found.argv), dict(found.env)
        _header(log, found.header, options.stream if echo else None)
    else:
        argv = resolve_command(job.command)
    try:
        process = subprocess.Popen(
            argv,
            cwd=options.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if echo else log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
    except OSError as error:
        log.close()
        message = f"cannot start {' '.join(argv)}: {error.strerror}"
        raise RunError(message) from None
    if job.nice and hasattr(os, "setpriority"):
        # The whole process group, before it starts its own children (they inherit it).
        with contextlib.suppress(OSError):
            lower = min(os.getpriority(os.PRIO_PROCESS, 0) + job.nice, 19)
            os.setpriority(os.PRIO_PGRP, process.pid, lower)
    state = Running(
        job=job,
        process=process,
        started=time.monotonic(),
        log=log,
        wall_started=time.time(),
        direct=found,
    )
    if echo:
        state.stream = options.stream
        state.echo = threading.Thread(target=_tee, args=(process, log, options.stream), daemon=True)
        state.echo.start()
    return state


def _header(log: IO[bytes], text: str, stream: IO[str] | None) -> None:
    """Start a session's log (and, echoed, the output) with ``text``, as nox logs its command."""
    with contextlib.suppress(OSError):
        log.write(text.encode(errors="replace"))
        log.flush()
    if stream is not None:
        stream.write(text)
        stream.flush()


def _tee(process: subprocess.Popen[bytes], log: IO[bytes], stream: IO[str]) -> None:
    assert process.stdout is not None  # noqa: S101 - set by Popen(stdout=PIPE)
    logging = True
    for line in iter(process.stdout.readline, b""):
        if logging:
            try:
                log.write(line)
                log.flush()
            except OSError as error:
                # The pipe must still be drained (or the session blocks on a full pipe), so
                # the output goes on to the terminal; the log keeps what it could hold.
                logging = False
                problem = write_problem(Path(log.name), error, what="the rest of the log")
                stream.write(f"suitekit: {problem}\n")
        stream.write(line.decode(errors="replace"))
        stream.flush()


def stop_leftovers(state: Running) -> str | None:
    """Stop what is still running in an ended session's process group; the line saying so.

    The session's own process has ended, so whatever is left in its group was started by
    it (a test's child that the pytest plugin did not find by its mark) and would keep
    running, and keep the session's output pipe open (the echo would never end). The line
    goes to the session's log too.
    """
    try:
        os.killpg(state.process.pid, 0)
    except (ProcessLookupError, PermissionError):
        return None  # the usual case: nothing left, known without reading /proc
    left = _processes.in_group(state.process.pid)
    if not left:
        return None
    _processes.stop(left)
    line = _processes.describe(left, what=f"session {state.job.session}")
    with contextlib.suppress(OSError, ValueError):
        state.log.write(f"{line}\n".encode())
    return line


def close(state: Running, trailer: str | None = None) -> str | None:
    """Wait for the echo of an ended session to end, and close its pipe and its log.

    The echo ends when nothing writes to the pipe any more. A process the session started
    outside its group (stopped by nothing of the session's) may hold it open: the run does not
    wait for it past :data:`ECHO_GRACE_SECONDS`, and leaves the pipe and the log to the echo
    (a daemon thread); the line saying so is returned. ``trailer`` ends the log (and the echoed
    output), after everything the session wrote.
    """
    if state.echo is not None:
        state.echo.join(ECHO_GRACE_SECONDS)
        if state.echo.is_alive():
            return (
                f"suitekit: {state.job.session}: a process it started outside its process group "
                "still holds its output open; not waiting for it"
            )
    if state.process.stdout is not None:
        state.process.stdout.close()
    if trailer is not None:
        _header(state.log, trailer, state.stream)
    with contextlib.suppress(OSError):  # a full disk: _tee has said so already
        state.log.close()
    return None


def signal_groups(states: Sequence[Running]) -> None:
    """Stop the process groups of ``states``: SIGINT, then SIGTERM, then SIGKILL.

    Each signal goes to the groups whose leader is still alive, which then get a grace time
    to end before the next, harder signal. It does not wait for (reap) the processes.
    """
    for signum, grace in (
        (signal.SIGINT, _GRACE_SECONDS),
        (signal.SIGTERM, _GRACE_SECONDS / 2),
        (signal.SIGKILL, _GRACE_SECONDS),
    ):
        alive = [s for s in states if s.process.poll() is None]
        if not alive:
            break
        for state in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(state.process.pid, signum)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(s.process.poll() is None for s in alive):
            time.sleep(POLL_SECONDS)
