"""The runner: start jobs one after another or all at once, stop them, collect their outcomes.

The run's loop starts what may start (everything at once in a parallel run, else one job at a
time), polls the running process groups, and on Ctrl-C, SIGTERM or a ``--fail-fast`` failure
stops them all before it returns. The report and coverage jobs run in this process instead
(see :mod:`suitekit._runner._inline`).
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from suitekit._runner._direct import record_durations
from suitekit._runner._display import Display
from suitekit._runner._inline import inline, run_inline
from suitekit._runner._options import RunnerOptions
from suitekit._runner._outcome import Outcome, Status, failed_tests, fresh_totals
from suitekit._runner._process import (
    POLL_SECONDS,
    Running,
    close,
    signal_groups,
    spawn,
    stop_leftovers,
)
from suitekit._signals import HELD, exit_codes, signals_as_interrupt, signals_held, signals_ignored
from suitekit.errors import SuitekitError
from suitekit.plan import Job

__all__ = ["Runner"]

_REAPED_SECONDS: Final = 1.0
"""How long a job's process is waited for once :func:`signal_groups` gave it its SIGKILL's grace."""


class Runner(RunnerOptions):
    """Runs jobs and reports their progress on a stream.

    A runner is its options (see :class:`RunnerOptions`, whose fields it takes): built as
    ``Runner(root=..., parallel=True)``, varied with :func:`dataclasses.replace`; each
    :meth:`run` keeps its own state.
    """

    __slots__ = ()

    def run(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Run ``jobs`` and return their outcomes in the jobs' order.

        Ctrl-C (or SIGTERM) stops every running job's process group, waits for them, marks them
        ``interrupted`` and returns; the caller decides the exit code.
        """
        return _Run(options=self, start=self._start, display=Display(options=self)).run(jobs)

    def _start(self, job: Job, served: Mapping[str, str]) -> Running:
        """Start a job's process, with ``served`` in its environment (see :func:`spawn`)."""
        return spawn(job, served, self)


@dataclass(slots=True, kw_only=True)
class _Run:
    """One run of a runner: its jobs running and ended, and its display."""

    options: RunnerOptions
    start: Callable[[Job, Mapping[str, str]], Running]
    display: Display
    running: dict[str, Running] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def run(self, jobs: Sequence[Job]) -> list[Outcome]:
        self.display.status = {job.session: "waiting" for job in jobs}
        pending = list(jobs)
        stop_reason: Status | None = None
        with signals_as_interrupt(signal.SIGINT, signal.SIGTERM):
            try:
                while pending or self.running:
                    while pending and stop_reason is None and self._may_start():
                        self._launch(self._next(pending))
                    if stop_reason is not None and not self.running:
                        break
                    if not self.running:
                        continue  # only jobs run in this process so far: start the next
                    self.display.poll()
                    self.display.draw()
                    time.sleep(POLL_SECONDS)
                    if self._reap() and stop_reason is None:
                        stop_reason = "cancelled"
                        self._stop_all("cancelled")
            except KeyboardInterrupt:
                stop_reason = "interrupted"
                self._stop_all("interrupted")
            except SuitekitError:
                # A job could not be started (its log cannot be written): the others must not
                # run on unseen, so they stop before the error reaches the edge.
                self._stop_all("cancelled")
                raise
        for job in pending:
            self.outcomes[job.session] = Outcome(
                job=job,
                status=stop_reason or "cancelled",
                returncode=None,
                seconds=0.0,
                started=False,
            )
        self.display.draw(final=True)
        return [self.outcomes[job.session] for job in jobs]

    def _may_start(self) -> bool:
        return self.options.parallel or not self.running

    def _next(self, pending: list[Job]) -> Job:
        """The next job to start: in a parallel run, those needing no services come first.

        They start while the servers do (see :attr:`RunnerOptions.served`), instead of after.
        """
        if self.options.parallel and pending[0].services:
            for index, job in enumerate(pending):
                if not job.services:
                    return pending.pop(index)
        return pending.pop(0)

    def _launch(self, job: Job) -> None:
        """Start a job's process, or run it here (see :attr:`RunnerOptions.project`) to its end."""
        if not inline(job, self.options.project):
            # Before the spawn's held signals: starting a server may take a while, and a
            # Ctrl-C meanwhile stops it (see suitekit.services.provide).
            served = self.options.served() if job.services else {}
            # Held from the spawn until the group is in ``running``: a Ctrl-C in between would
            # leave a session that nothing stops. It takes effect right after.
            with signals_held(*HELD):
                state = self.start(job, served)
                how = " (warm: its commands without nox)" if state.direct is not None else ""
                line = f"suitekit: {job.session}: running {shlex.join(job.command)}{how}"
                self.display.running(job, state.started, line)
                self.running[job.session] = state
            return
        project = self.options.project
        assert project is not None  # noqa: S101 - inline() checked it
        started = time.monotonic()
        line = f"suitekit: {job.session}: running suitekit {job.kind} (in this process)"
        self.display.running(job, started, line)
        echo = None if self.options.parallel else self.options.stream
        outcome = run_inline(job, project, echo, started)
        self.display.status[job.session] = outcome.status
        self.outcomes[job.session] = outcome
        self.display.announce(outcome)
        if outcome.status == "interrupted":
            raise KeyboardInterrupt

    def _reap(self) -> bool:
        """Collect the jobs that ended; whether one of them must stop the rest.

        With ``fail_fast``, the rest stop when a required job fails.
        """
        stop = False
        running = list(self.running.items())
        codes = exit_codes(*(state.process for _, state in running))
        for (name, state), code in zip(running, codes, strict=True):
            if code is None:
                continue
            # Still running until its outcome is kept: a Ctrl-C while it is finished (its
            # durations recorded, say) finishes it again, as stopped, rather than losing it.
            outcome = self._finish(state)
            self.outcomes[name] = outcome
            del self.running[name]
            self.display.announce(outcome)
            stop = stop or (self.options.fail_fast and outcome.blocking)
        return stop

    def _finish(self, state: Running, forced: Status | None = None) -> Outcome:
        line = stop_leftovers(state)
        if line is not None:
            self.display.say(line)
        code = state.process.returncode
        trailer = None
        if state.direct is not None and code not in (0, None):
            # As its nox session would end: its log says the command's code, the job fails 1.
            trailer = f"suitekit: the command failed with exit code {code}\n"
            code = 1
        if (held := close(state, trailer)) is not None:
            self.display.say(held)
        project = self.options.project
        if state.direct is not None and project is not None:
            # What the session does once its pytest ended (see suitekit._runner._direct).
            warning = record_durations(project, state.direct, state.wall_started)
            if warning is not None:
                self.display.say(warning)
        seconds = time.monotonic() - state.started
        status: Status = forced or ("passed" if code == 0 else "failed")
        totals, note = fresh_totals(state.job, state.wall_started)
        if status == "passed" and state.job.kind == "suite" and totals is None:
            # A suite that wrote no JUnit file did not run its tests: never read as green.
            status = "failed"
        self.display.status[state.job.session] = status
        return Outcome(
            job=state.job,
            status=status,
            returncode=code,
            seconds=seconds,
            totals=totals,
            note=note,
            failed_tests=failed_tests(state.job, totals),
        )

    def _stop_all(self, status: Status) -> None:
        """Stop every running job's process group: SIGINT, then SIGTERM, then SIGKILL.

        A second Ctrl-C meanwhile must not cut this short (the groups would live on), so the
        signals are ignored until every group is gone. Each process is then waited for, but
        not forever: one still there after its SIGKILL's grace (stuck in the kernel, or a wait
        that cannot see it end) is said and left to the system, and the run goes on to stop
        its servers.
        """
        with signals_ignored(signal.SIGINT, signal.SIGTERM):
            signal_groups(list(self.running.values()))
            for name, state in list(self.running.items()):
                try:
                    state.process.wait(timeout=_REAPED_SECONDS)
                except subprocess.TimeoutExpired:
                    self.display.say(
                        f"suitekit: {name}: its process {state.process.pid} was still there "
                        "after SIGKILL; not waited for any longer"
                    )
                self.outcomes[name] = self._finish(state, forced=status)
                self.display.announce(self.outcomes[name])
            self.running.clear()
