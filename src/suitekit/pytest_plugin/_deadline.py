"""A suite run's time limits: pytest-timeout's per-test timeout and the session's deadline.

The deadline is kept by :class:`Guard` (under :data:`GUARD_KEY`), which also stops the
processes the tests left running (:mod:`suitekit._processes`); the watchdog itself is
:mod:`suitekit._watchdog`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

import pytest

from suitekit import _processes, plan
from suitekit._model import DEADLINE_FACTOR, DEADLINE_FLOOR, Source, Sourced, Suite
from suitekit._watchdog import ENV_DEADLINE_AT, Watchdog
from suitekit.config import ROOT_KEY
from suitekit.pytest_plugin._shared import restore

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter

    from suitekit.pytest_plugin._isolation import Isolation

__all__ = ["GUARD_KEY", "Guard", "apply_timeout", "give_back", "guard_lines", "limits_line"]

GUARD_KEY: Final = pytest.StashKey["Guard"]()


class Guard:
    """One suite-run process's deadline and, in the controller, its mark on the tests' processes.

    The controller arms the deadline (see :mod:`suitekit._watchdog`) before its servers start,
    so a hang in the template's setup is caught too; it tells its xdist workers the deadline's
    time, so that each writes its stacks at that moment. After its servers started it marks its
    environment (see :mod:`suitekit._processes`), and at the session's end, once xdist's workers
    are gone and before its databases are dropped, it stops every marked process still running.
    """

    def __init__(self, *, suite: Suite, watchdog: Watchdog | None, controller: bool) -> None:
        """Keep the suite and the watchdog; nothing is marked yet."""
        self.suite = suite
        self.watchdog = watchdog
        self.controller = controller
        self.token: str | None = None
        self.stopped: list[_processes.LeftProcess] = []
        self._restore: dict[str, str | None] = {}

    @classmethod
    def create(
        cls, early_config: pytest.Config, suite: Suite, isolation: Isolation | None
    ) -> Guard:
        """The guard of a suite run's process, armed."""
        controller = "PYTEST_XDIST_WORKER" not in os.environ
        guard = cls(suite=suite, watchdog=None, controller=controller)
        if controller:
            deadline = plan.session_deadline(suite)
            if deadline.value > 0:
                guard.watchdog = Watchdog(
                    deadline.value,
                    message=_deadline_message(suite, deadline),
                    cleanup=lambda: _last_resort(guard, isolation),
                )
                guard._export({ENV_DEADLINE_AT: repr(guard.watchdog.at)})
        elif at := os.environ.get(ENV_DEADLINE_AT):
            with contextlib.suppress(ValueError):
                worker = os.environ["PYTEST_XDIST_WORKER"]
                guard.watchdog = Watchdog(
                    float(at) - time.time(),
                    message=f"suitekit: xdist worker {worker} at the deadline; its threads:",
                    interrupt=False,
                    stop_test=True,
                )
        if guard.watchdog is not None:
            guard.watchdog.start()
        early_config.stash[GUARD_KEY] = guard
        return guard

    def _export(self, variables: Mapping[str, str]) -> None:
        for name, value in variables.items():
            self._restore.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def mark(self) -> None:
        """Mark this process's environment: every process started from now on inherits it."""
        if self.controller:
            self.token = _processes.new_mark()
            self._export({_processes.MARK_VARIABLE: self.token})

    def finishing(self) -> None:
        """Cleanup begins: the deadline no longer interrupts."""
        if self.watchdog is not None:
            self.watchdog.finishing()

    @property
    def expired(self) -> bool:
        """Whether the session passed its deadline."""
        return self.watchdog is not None and self.watchdog.expired

    def stop_strays(self) -> list[_processes.LeftProcess]:
        """Stop the marked processes still running (the controller, at the session's end)."""
        if self.token is None:
            return []
        left = _processes.marked(self.token)
        if left:
            _processes.stop(left)
            self.stopped += left
        return left

    def end(self) -> None:
        """The process is done with the session: disarm the deadline, restore the environment."""
        if self.watchdog is not None:
            self.watchdog.cancel()
        restore(self._restore)
        self._restore = {}


def give_back(isolation: Isolation | None, guard: Guard | None) -> None:
    """Give back the process's isolation, then disarm its guard."""
    try:
        if isolation is not None:
            isolation.stop()
    finally:
        if guard is not None:
            guard.end()


def _last_resort(guard: Guard, isolation: Isolation | None) -> None:
    """What the watchdog gives back before it ends a session that would not end: all of it."""
    try:
        guard.stop_strays()  # the tests' processes first: they may hold the databases
    finally:
        if isolation is not None:
            isolation.stop()


def _deadline_message(suite: Suite, deadline: Sourced[float]) -> str:
    """What the controller writes when its session passes the deadline."""
    key = f"{ROOT_KEY}.{deadline.origin}"
    why = (
        key
        if deadline.source is Source.CONFIG
        else f"the default: {DEADLINE_FACTOR} x target-seconds, at least {DEADLINE_FLOOR:g}s"
    )
    return (
        f"suitekit: suite {suite.name!r} is still running at its deadline of "
        f"{deadline.value:g}s ({why}); stopping it (its tests' cleanup runs)\n"
        f"  fix: find the hang in the stacks below, or set {key} to more seconds (0: no deadline)"
    )


def apply_timeout(config: pytest.Config, suite: Suite) -> Sourced[float] | None:
    """Give pytest-timeout the suite's per-test timeout, unless the user set their own.

    Set before pytest-timeout's own ``pytest_configure`` reads its options (suitekit's runs
    first); xdist passes the options on to its workers.
    """
    if not config.pluginmanager.has_plugin("timeout"):
        return None  # pytest-timeout turned off (-p no:timeout): the user's choice
    timeout = plan.test_timeout(
        suite,
        option=config.option.timeout,
        environ=os.environ,
        ini=str(config.getini("timeout") or ""),
    )
    if timeout is not None:
        config.option.timeout = timeout.value
    return timeout


def limits_line(config: pytest.Config, suite: Suite, timeout: Sourced[float] | None) -> str:
    """The per-test timeout and the session deadline, and where each came from."""
    if not config.pluginmanager.has_plugin("timeout"):
        per_test = "no per-test timeout (pytest-timeout is not loaded)"
    elif timeout is None:
        per_test = "timeout: pytest-timeout's own settings"
    elif timeout.value:
        per_test = f"timeout {timeout.value:g}s per test ({timeout.source.describe()})"
    else:
        per_test = "no per-test timeout"
    deadline = plan.session_deadline(suite)
    limit = f"deadline {deadline.value:g}s" if deadline.value else "no deadline"
    return f"suitekit: {per_test}; {limit} ({deadline.source.describe()})"


def guard_lines(terminalreporter: TerminalReporter, guard: Guard | None, suite: Suite) -> None:
    """The processes the tests left running, and a session stopped at its deadline."""
    if guard is None:
        return
    if guard.stopped:
        terminalreporter.write_line(_processes.describe(guard.stopped), yellow=True)
    if guard.expired:
        deadline = plan.session_deadline(suite)
        terminalreporter.write_line(
            f"suitekit: suite {suite.name!r} was stopped at its deadline of "
            f"{deadline.value:g}s (the stacks of what ran are above): it fails",
            red=True,
            bold=True,
        )
