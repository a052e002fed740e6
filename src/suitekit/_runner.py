"""Run a plan's jobs (nox sessions) one after another or all at once, and summarise them.

This is the process-running half shared by the invoke adapter and the CLI; what to run comes
from :func:`suitekit.plan.jobs`. Each job runs in its own process group so that Ctrl-C, SIGTERM
or ``--fail-fast`` can stop a whole session tree (nox, pytest, xdist workers) and nothing else.
Each job's output goes to its log file under ``reports/logs/``; in a sequential run it is also
echoed live, in a parallel run it is printed for failed jobs only.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final, Literal

from suitekit import _guard, _processes, plan, services
from suitekit._files import ensure_writable, write_problem
from suitekit._model import Project
from suitekit._signals import HELD, signals_as_interrupt, signals_held, signals_ignored
from suitekit.errors import ReportError, RunError, SuitekitError
from suitekit.plan import Job, RunPlan
from suitekit.reporting import Totals, read_totals

__all__ = ["Outcome", "Runner", "execute", "format_summary", "resolve_command", "run_jobs"]

Status = Literal["waiting", "running", "passed", "failed", "cancelled", "interrupted"]

_GRACE_SECONDS: Final = 10.0
_POLL_SECONDS: Final = 0.02  # how late a run sees a session end, at most
_LOG_TAIL_LINES: Final = 200
_TEXT_COLUMNS: Final = 2  # session and result are left-aligned, the figures right-aligned


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
class _Running:
    job: Job
    process: subprocess.Popen[bytes]
    started: float
    log: IO[bytes]
    wall_started: float
    echo: threading.Thread | None = None


@dataclass(slots=True)
class Runner:
    """Runs jobs and reports their progress on a stream.

    Attributes:
        root: The folder the commands run in (the project root).
        parallel: Start every job at once instead of one after another.
        fail_fast: Stop the other jobs as soon as a required job fails.
        stream: Where progress and the summary go.
        extra_env: Variables every job's process gets.
        project: The project; with it, the report and coverage jobs run in this process
            (suitekit is installed here, so they need no virtualenv of their own).
        served: The variables naming the servers that jobs with services get; called, in the
            main thread, when the first such job is about to start (it may start servers and
            take a moment, so a parallel run first starts the jobs that need none).
    """

    root: Path
    parallel: bool = False
    fail_fast: bool = False
    stream: IO[str] = field(default_factory=lambda: sys.stdout)
    extra_env: Mapping[str, str] = field(default_factory=dict)
    project: Project | None = None
    served: Callable[[], Mapping[str, str]] = dict
    _status: dict[str, Status] = field(default_factory=dict)
    _started: dict[str, float] = field(default_factory=dict)
    _drawn: int = 0

    def run(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Run ``jobs`` and return their outcomes in the jobs' order.

        Ctrl-C (or SIGTERM) stops every running job's process group, waits for them, marks them
        ``interrupted`` and returns; the caller decides the exit code.
        """
        self._status = {job.session: "waiting" for job in jobs}
        outcomes: dict[str, Outcome] = {}
        running: dict[str, _Running] = {}
        pending = list(jobs)
        stop_reason: Status | None = None
        with signals_as_interrupt(signal.SIGINT, signal.SIGTERM):
            try:
                while pending or running:
                    while pending and stop_reason is None and (self.parallel or not running):
                        self._launch(self._next(pending), running, outcomes)
                    if stop_reason is not None and not running:
                        break
                    if not running:
                        continue  # only jobs run in this process so far: start the next
                    self._draw()
                    time.sleep(_POLL_SECONDS)
                    if self._reap(running, outcomes) and stop_reason is None:
                        stop_reason = "cancelled"
                        self._stop_all(running, outcomes, "cancelled")
            except KeyboardInterrupt:
                stop_reason = "interrupted"
                self._stop_all(running, outcomes, "interrupted")
            except SuitekitError:
                # A job could not be started (its log cannot be written): the others must not
                # run on unseen, so they stop before the error reaches the edge.
                self._stop_all(running, outcomes, "cancelled")
                raise
        for job in pending:
            outcomes[job.session] = Outcome(
                job=job, status=stop_reason or "cancelled", returncode=None, seconds=0.0
            )
        self._draw(final=True)
        return [outcomes[job.session] for job in jobs]

    def _next(self, pending: list[Job]) -> Job:
        """The next job to start: in a parallel run, those needing no services come first.

        They start while the servers do (see :attr:`served`), instead of after them.
        """
        if self.parallel and pending[0].services:
            for index, job in enumerate(pending):
                if not job.services:
                    return pending.pop(index)
        return pending.pop(0)

    def _launch(self, job: Job, running: dict[str, _Running], outcomes: dict[str, Outcome]) -> None:
        """Start a job's process, or run it here (see :attr:`project`) to its end."""
        if not self._inline(job):
            # Before the spawn's held signals: starting a server may take a while, and a
            # Ctrl-C meanwhile stops it (see suitekit.services.provide).
            served = self.served() if job.services else {}
            # Held from the spawn until the group is in ``running``: a Ctrl-C in between would
            # leave a session that nothing stops. It takes effect right after.
            with signals_held(*HELD):
                running[job.session] = self._start(job, served)
            return
        outcomes[job.session] = self._run_inline(job)
        self._announce(outcomes[job.session])
        if outcomes[job.session].status == "interrupted":
            raise KeyboardInterrupt

    def _reap(self, running: dict[str, _Running], outcomes: dict[str, Outcome]) -> bool:
        """Collect the jobs that ended; whether one of them must stop the rest.

        With ``fail_fast``, the rest stop when a required job fails.
        """
        stop = False
        for name, state in list(running.items()):
            if state.process.poll() is None:
                continue
            del running[name]
            outcome = self._finish(state)
            outcomes[name] = outcome
            self._announce(outcome)
            stop = stop or (self.fail_fast and outcome.blocking)
        return stop

    def _inline(self, job: Job) -> bool:
        return self.project is not None and job.kind in _INLINE

    def _run_inline(self, job: Job) -> Outcome:
        """Run a report or coverage job in this process, its output logged like a session's."""
        assert self.project is not None  # noqa: S101 - _inline checked it
        self._status[job.session] = "running"
        started = time.monotonic()
        self._started[job.session] = started
        if not self.parallel or not self._tty:
            self._say(f"suitekit: {job.session}: running suitekit {job.kind} (in this process)")
        try:
            job.log.parent.mkdir(parents=True, exist_ok=True)
            opened = job.log.open("w", encoding="utf-8", errors="replace")
        except OSError as error:
            raise ReportError(write_problem(job.log, error, what="the session's log")) from None
        status: Status = "failed"
        code: int | None = None
        tee = _Tee(opened, None if self.parallel else self.stream)
        try:
            code = _INLINE[job.kind](self.project, tee)
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
        self._status[job.session] = status
        return Outcome(job=job, status=status, returncode=code, seconds=time.monotonic() - started)

    def _start(self, job: Job, served: Mapping[str, str]) -> _Running:
        try:
            job.log.parent.mkdir(parents=True, exist_ok=True)
            log = job.log.open("wb")
        except OSError as error:
            raise ReportError(write_problem(job.log, error, what="the session's log")) from None
        env = {**os.environ, **self.extra_env, **served, **job.env}
        argv = resolve_command(job.command)
        echo = not self.parallel
        try:
            process = subprocess.Popen(
                argv,
                cwd=self.root,
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
        state = _Running(
            job=job, process=process, started=time.monotonic(), log=log, wall_started=time.time()
        )
        if echo:
            state.echo = threading.Thread(target=self._tee, args=(process, log), daemon=True)
            state.echo.start()
        self._status[job.session] = "running"
        self._started[job.session] = state.started
        if not self.parallel or not self._tty:
            self._say(f"suitekit: {job.session}: running {' '.join(job.command)}")
        return state

    def _tee(self, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
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
                    self.stream.write(f"suitekit: {problem}\n")
            self.stream.write(line.decode(errors="replace"))
            self.stream.flush()

    def _stop_leftovers(self, state: _Running) -> None:
        """Stop what is still running in an ended session's process group, and say so.

        The session's own process has ended, so whatever is left in its group was started by
        it (a test's child that the pytest plugin did not find by its mark) and would keep
        running, and keep the session's output pipe open (the echo would never end).
        """
        try:
            os.killpg(state.process.pid, 0)
        except (ProcessLookupError, PermissionError):
            return  # the usual case: nothing left, known without reading /proc
        left = _processes.in_group(state.process.pid)
        if not left:
            return
        _processes.stop(left)
        line = _processes.describe(left, what=f"session {state.job.session}")
        with contextlib.suppress(OSError, ValueError):
            state.log.write(f"{line}\n".encode())
        self._say(line)

    def _finish(self, state: _Running, forced: Status | None = None) -> Outcome:
        self._stop_leftovers(state)
        if state.echo is not None:
            state.echo.join()
        if state.process.stdout is not None:
            state.process.stdout.close()
        with contextlib.suppress(OSError):  # a full disk: _tee has said so already
            state.log.close()
        seconds = time.monotonic() - state.started
        code = state.process.returncode
        status: Status = forced or ("passed" if code == 0 else "failed")
        self._status[state.job.session] = status
        totals, note = _fresh_totals(state.job, state.wall_started)
        if status == "passed" and state.job.kind == "suite" and totals is None:
            # A suite that wrote no JUnit file did not run its tests: never read as green.
            status = "failed"
            self._status[state.job.session] = status
        return Outcome(
            job=state.job,
            status=status,
            returncode=code,
            seconds=seconds,
            totals=totals,
            note=note,
        )

    def _stop_all(
        self, running: dict[str, _Running], outcomes: dict[str, Outcome], status: Status
    ) -> None:
        """Stop every running job's process group: SIGINT, then SIGTERM, then SIGKILL.

        A second Ctrl-C meanwhile must not cut this short (the groups would live on), so the
        signals are ignored until every group is gone.
        """
        with signals_ignored(signal.SIGINT, signal.SIGTERM):
            self._escalate(running, outcomes, status)

    def _escalate(
        self, running: dict[str, _Running], outcomes: dict[str, Outcome], status: Status
    ) -> None:
        for signum, grace in (
            (signal.SIGINT, _GRACE_SECONDS),
            (signal.SIGTERM, _GRACE_SECONDS / 2),
            (signal.SIGKILL, _GRACE_SECONDS),
        ):
            alive = [s for s in running.values() if s.process.poll() is None]
            if not alive:
                break
            for state in alive:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(state.process.pid, signum)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and any(s.process.poll() is None for s in alive):
                time.sleep(_POLL_SECONDS)
        for name, state in list(running.items()):
            state.process.wait()
            outcomes[name] = self._finish(state, forced=status)
            self._announce(outcomes[name])
        running.clear()

    @property
    def _tty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"

    def _say(self, line: str) -> None:
        self._clear()
        self.stream.write(line + "\n")
        self.stream.flush()

    def _announce(self, outcome: Outcome) -> None:
        job = outcome.job
        advisory = " (advisory)" if not job.required and outcome.status == "failed" else ""
        self._say(
            f"suitekit: {job.session}: {outcome.status}{advisory} in {outcome.seconds:.1f}s"
            f" (log: {_relative(job.log, self.root)})"
        )
        if self.parallel and outcome.status == "failed":
            self._say(_log_excerpt(job.log))

    def _clear(self) -> None:
        if self._drawn and self._tty:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
        self._drawn = 0

    def _draw(self, *, final: bool = False) -> None:
        """The live status block: one line per job (on a terminal, in a parallel run)."""
        if not self.parallel or not self._tty:
            return
        self._clear()
        if final:
            return
        now = time.monotonic()
        lines = []
        for name, status in self._status.items():
            elapsed = now - self._started[name] if name in self._started else 0.0
            shown = f"{elapsed:6.1f}s" if status == "running" else ""
            lines.append(f"  {name:<24} {status:<11} {shown}")
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self._drawn = len(lines)


def _fresh_totals(job: Job, wall_started: float) -> tuple[Totals | None, str]:
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


def _written_folders(jobs: Sequence[Job]) -> tuple[Path, ...]:
    """The folders the jobs write their logs and JUnit files to, each once, parents first."""
    folders = {job.log.parent for job in jobs}
    folders |= {job.junit.parent for job in jobs if job.junit is not None}
    return tuple(sorted(folders))


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _log_excerpt(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError as error:
        return f"(cannot read {log}: {error.strerror})"
    cut = len(lines) - _LOG_TAIL_LINES
    head = (
        [f"----- {log} (last {_LOG_TAIL_LINES} of {len(lines)} lines) -----"]
        if cut > 0
        else [f"----- {log} -----"]
    )
    return "\n".join([*head, *lines[max(cut, 0) :], "-" * 40])


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


def _report(project: Project, out: IO[str]) -> int:
    """``suitekit report``: the merged JUnit report, the summary, the durations store."""
    from suitekit.reporting._report import report  # noqa: PLC0415 - only where a run ends

    return report(project, environ=os.environ, out=out)


def _coverage(project: Project, out: IO[str]) -> int:
    """``suitekit coverage``: the combined figure and the gate."""
    from suitekit.reporting._coverage import combine  # noqa: PLC0415 - only where a run ends

    result = combine(project)
    out.write(f"{result.report}\n{result.summary()}\n")
    out.flush()
    return 0 if result.ok else 1


_INLINE: Final[Mapping[str, Callable[[Project, IO[str]], int]]] = {
    "report": _report,
    "coverage": _coverage,
}


def format_summary(outcomes: Sequence[Outcome], wall_seconds: float) -> str:
    """The final table and the closing ``N passed, N failed`` line."""
    rows = [("session", "result", "tests", "failed", "skipped", "seconds", "setup", "budget")]
    total = Totals()
    for outcome in outcomes:
        job, totals = outcome.job, outcome.totals
        result: str = outcome.status
        if outcome.status == "failed" and not job.required:
            result = "failed (advisory)"
        budget = ""
        if job.target_seconds is not None and totals is not None:
            # The budget is the tests' own time, as pytest reports it, not nox's set-up.
            over = totals.seconds > job.target_seconds
            budget = f"{totals.seconds:.1f}/{job.target_seconds:g}s" + (" OVER" if over else "")
        if totals is not None:
            total += totals
        rows.append(
            (
                job.session,
                result,
                str(totals.tests) if totals else "-",
                str(totals.failures + totals.errors) if totals else "-",
                str(totals.skipped) if totals else "-",
                f"{outcome.seconds:.1f}",
                f"{max(outcome.seconds - totals.seconds, 0.0):.1f}" if totals else "-",
                budget,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["", "suitekit summary"]
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(width) if i < _TEXT_COLUMNS else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    sum_seconds = sum(outcome.seconds for outcome in outcomes)
    lines.append(f"wall time {wall_seconds:.1f}s; sessions' own time {sum_seconds:.1f}s")
    if any(outcome.totals is not None for outcome in outcomes):
        lines.append(
            "setup: a suite session's seconds outside pytest's own run (nox, install, servers, "
            "Python start-up)"
        )
    notes = [f"  {o.job.session}: {o.note}" for o in outcomes if o.note]
    if notes:
        lines += ["notes:", *notes]
    failing = [o.job.session for o in outcomes if o.blocking]
    lines.append(f"failed: {', '.join(failing)}" if failing else "all required sessions passed")
    lines.append(
        f"suitekit: {total.passed} passed, {total.failures + total.errors} failed, "
        f"{total.skipped} skipped"
    )
    return "\n".join(lines)


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
    out = stream or sys.stdout

    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    every = (*(() if guard is None else (guard,)), *jobs)
    # Before anything starts: a full or read-only reports folder is one clear error (exit 2),
    # not a traceback halfway through or sessions failing for no visible reason.
    ensure_writable(_written_folders((*every, *finish)))
    needed = tuple(dict.fromkeys(service for job in every for service in job.services))
    started = time.monotonic()
    with contextlib.ExitStack() as servers, _guard.collections_folder() as records:
        shared = dict(env or {})
        if guard is not None:
            # The suites' records decide the guard; the guard session's says what crashed.
            shared[plan.ENV_COLLECTIONS] = str(records)
        provided: list[Mapping[str, str]] = []

        def served() -> Mapping[str, str]:
            # Started once, when the first job that needs a server starts; stopped when the
            # run ends, however it ends.
            if not provided:
                provided.append(
                    servers.enter_context(services.provide(project, needed, os.environ, say=say))
                    if project is not None
                    else {}
                )
            return provided[0]

        def runner(*, parallel: bool = False) -> Runner:
            return Runner(
                root=root,
                parallel=parallel,
                fail_fast=fail_fast,
                stream=out,
                extra_env=shared,
                project=project,
                served=served,
            )

        outcomes, code = _execute(
            runner,
            jobs,
            guard=guard,
            finish=finish,
            parallel=parallel,
            fail_fast=fail_fast,
            out=out,
            check=(lambda: _guard.decide(project, records)) if project is not None else None,
            crashed=lambda: _guard.crash(project, records),
        )
    return _summarise(outcomes, code, time.monotonic() - started, out)


def _execute(
    runner: Callable[..., Runner],
    jobs: Sequence[Job],
    *,
    guard: Job | None,
    finish: Sequence[Job],
    parallel: bool,
    fail_fast: bool,
    out: IO[str],
    check: Callable[[], _guard.Verdict] | None,
    crashed: Callable[[], str | None] = lambda: None,
) -> tuple[list[Outcome], int]:
    """Run the jobs, the guard and the finish; the outcomes to summarise and the exit code.

    Without ``check`` (the records' verdict) the guard runs first, and a failed guard returns
    no outcomes: the run's results would be of a broken partition. ``crashed`` says what the
    guard session failed to collect, if that is why it failed.
    """
    if guard is not None and check is None:
        (checked,) = runner().run([guard])
        if checked.status != "passed":
            return [], _guard_failed(checked, out, "nothing else was run", crashed())
    if not jobs:
        return [], 0
    outcomes = runner(parallel=parallel).run(jobs)
    if any(o.status == "interrupted" for o in outcomes):
        return outcomes, 130
    if guard is not None and check is not None:
        checked = _check_partition(runner, guard, outcomes, check, out, crashed=crashed)
        if checked.status == "interrupted":
            return outcomes, 130
        if checked.status == "failed":
            outcomes = [checked, *outcomes]
    if finish and not (fail_fast and any(o.blocking for o in outcomes)):
        # The merged report and the coverage gate, one after the other, over what just ran.
        outcomes += runner().run(finish)
        if any(o.status == "interrupted" for o in outcomes):
            return outcomes, 130
    return outcomes, 1 if any(o.blocking for o in outcomes) else 0


def _check_partition(
    runner: Callable[..., Runner],
    guard: Job,
    outcomes: Sequence[Outcome],
    check: Callable[[], _guard.Verdict],
    out: IO[str],
    *,
    crashed: Callable[[], str | None],
) -> Outcome:
    """The guard's outcome, from the suite sessions' records or else from the guard session.

    The session runs only when the records cannot settle the partition and every suite
    session finished; after a suite session failed, an unsettled guard is left out (the run
    fails already) rather than paying for a collection that would likely fail the same way.
    """
    started = time.monotonic()
    verdict = check()
    seconds = time.monotonic() - started
    if verdict.report is not None:
        if verdict.problem:
            why = (
                "the suites do not partition the tests"
                if not verdict.report.ok
                else "a quarantine entry names none of the collected tests"
            )
            out.write(f"{verdict.problem}\nsuitekit: {guard.session} failed: {why}\n")
            out.flush()
            return Outcome(job=guard, status="failed", returncode=1, seconds=seconds)
        counts = ", ".join(f"{name} {count}" for name, count in verdict.report.counts)
        out.write(
            f"suitekit: {guard.session}: passed, from the suites' own collections "
            f"({counts}) in {seconds:.2f}s\n"
        )
        out.flush()
        return Outcome(job=guard, status="passed", returncode=0, seconds=seconds)
    suites = [o for o in outcomes if o.job.kind == "suite"]
    if any(o.status != "passed" for o in suites):
        out.write(f"suitekit: {guard.session}: not checked ({verdict.reason})\n")
        out.flush()
        return Outcome(job=guard, status="cancelled", returncode=None, seconds=seconds)
    out.write(f"suitekit: {guard.session}: {verdict.reason}; collecting every test root\n")
    out.flush()
    (checked,) = runner().run([guard])
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


def _summarise(outcomes: list[Outcome], code: int, wall: float, out: IO[str]) -> int:
    """Print the summary (its closing line last of all) and pass the exit code on."""
    if outcomes:
        out.write(format_summary(outcomes, wall) + "\n")
        out.flush()
    return code


def execute(project: Project, run: RunPlan, *, stream: IO[str] | None = None) -> int:
    """Carry out a :class:`~suitekit.plan.RunPlan` in the project's root.

    The services its sessions need are shared by all of them, and the report and coverage
    jobs run in this process.
    """
    return run_jobs(
        project.root,
        run.jobs,
        guard=run.guard,
        finish=run.finish,
        parallel=run.parallel,
        fail_fast=run.fail_fast,
        stream=stream,
        project=project,
        env=run.env,
    )
