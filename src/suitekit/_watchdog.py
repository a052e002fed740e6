"""A session deadline: stop a stuck pytest session the way Ctrl-C would, so cleanup runs.

Why a thread in the session's own process rather than a signal from outside (nox, the runner):
only this process knows when its tests are over and its cleanup has begun, and the cleanup
(dropping databases, releasing Redis leases, removing folders, stopping throwaway servers) is
the ``finally`` code that a ``KeyboardInterrupt`` in the main thread runs anyway. So, at the
deadline, the watchdog:

1. writes the message (what passed its deadline, and how to raise it) and the stacks of every
   thread (faulthandler) to the terminal it saved at the start, since pytest captures fd 2
   while a test runs;
2. sends SIGINT to the main thread (``pthread_kill``: a signal sent to the process could land
   in another thread and leave the main one asleep), which raises ``KeyboardInterrupt`` there:
   pytest stops, reports the interrupted test with its stack, and tears down; xdist stops its
   workers, and the controller cleans up what they held. It does not interrupt once cleanup
   has begun (:meth:`Watchdog.finishing`): an interrupt there would cut the cleanup short;
3. if the process is still alive :data:`HARD_GRACE` seconds later (the main thread ignores
   ``KeyboardInterrupt``, or a C call never returns; twice that when its cleanup began
   meanwhile), dumps the stacks again, runs the emergency cleanup it was given (the tests'
   left processes, then the databases, leases, folders and servers) and ends the process with
   exit status 1. A session whose cleanup had begun before the deadline is left to finish it.

xdist workers get a watchdog that writes their stacks at the same moment (they inherit the
deadline's time through :data:`ENV_DEADLINE_AT`): that is where a hung test runs. A moment after
the controller's interrupt, a worker's watchdog interrupts its own main thread once: its hung
test ends through its cleanup (its fixtures' teardown, the worker's database given back), and
the worker ends at once, instead of being killed after xdist has waited for it in vain.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Final

from suitekit import _handoff

__all__ = ["ENV_DEADLINE_AT", "HARD_GRACE", "Watchdog"]

ENV_DEADLINE_AT: Final = _handoff.ENV_DEADLINE_AT
"""The deadline as a Unix time, for xdist workers (set by the controller, inherited)."""

HARD_GRACE: Final = 60.0
"""Seconds the interrupted session has to end (its teardown, xdist stopping its workers) before
the watchdog ends the process itself."""

_WORKERS_FIRST: Final = 0.5  # let workers write their stacks before the controller's own


class Watchdog:
    """One session's deadline (see the module's docstring)."""

    def __init__(
        self,
        seconds: float,
        *,
        message: str,
        interrupt: bool = True,
        stop_test: bool = False,
        cleanup: Callable[[], object] | None = None,
        hard_grace: float = HARD_GRACE,
    ) -> None:
        """Prepare a watchdog; :meth:`start` arms it.

        Args:
            seconds: From now, when the session passes its deadline.
            message: What to write at the deadline (names the suite, the deadline, the fix).
            interrupt: Whether to interrupt the main thread (the controller); else only write
                the stacks (an xdist worker).
            stop_test: Without ``interrupt``: after the stacks, interrupt the main thread
                once, with no second dump and no hard end (an xdist worker: its hung test
                ends with its cleanup, and the worker with it, instead of being killed once
                xdist has waited for it; the controller does the rest).
            cleanup: What to give back before ending the process the hard way.
            hard_grace: Seconds between the interrupt and the hard way.
        """
        self.at = time.time() + seconds
        self.message = message
        self.interrupt = interrupt
        self.stop_test = stop_test
        self.cleanup = cleanup
        self.hard_grace = hard_grace
        self.expired = False
        self._done = threading.Event()
        self._lock = threading.Lock()
        # Held while the saved terminal is written or closed: a closed descriptor's number may
        # be reused by another file at once, which a late write would then corrupt.
        self._fd_lock = threading.Lock()
        self._finishing = False
        self._main = threading.main_thread().ident
        # pytest names the test this process runs, and the phase, in PYTEST_CURRENT_TEST; a
        # value this process inherited (a pytest started by another's test) names none of its
        # own, and must neither be reported nor stop a test that has not started.
        self._inherited = os.environ.get("PYTEST_CURRENT_TEST")
        # The terminal, saved now: pytest points fd 2 at a capture file while a test runs.
        self._fd = os.dup(2)
        # Named: pytest-timeout lists every thread's stack when a test times out.
        name = "suitekit deadline watchdog (waiting)"
        self._thread = threading.Thread(target=self._watch, name=name, daemon=True)

    def start(self) -> None:
        """Arm the deadline."""
        self._thread.start()

    def finishing(self) -> None:
        """The session's cleanup begins: from now on the deadline interrupts nothing."""
        with self._lock:
            self._finishing = True

    def _cleaning(self) -> bool:
        """Whether the session's cleanup has begun (another thread says so)."""
        with self._lock:
            return self._finishing

    def cancel(self) -> None:
        """The session ended: the watchdog does nothing more."""
        self._done.set()
        with self._fd_lock, contextlib.suppress(OSError):
            if self._fd >= 0:
                os.close(self._fd)
            self._fd = -1

    def _write(self, text: str) -> None:
        with self._fd_lock, contextlib.suppress(OSError):
            if self._fd >= 0:
                os.write(self._fd, text.encode(errors="replace"))

    def _stacks(self) -> None:
        with self._fd_lock, contextlib.suppress(OSError, ValueError):
            if self._fd >= 0:
                faulthandler.dump_traceback(file=self._fd, all_threads=True)

    def _interrupt_main(self) -> bool:
        """SIGINT to the main thread, unless the session's cleanup began; whether it was sent."""
        with self._lock:
            if self._finishing:
                return False
            if self._main is not None:
                with contextlib.suppress(ProcessLookupError, OSError):
                    signal.pthread_kill(self._main, signal.SIGINT)
            return True

    def _current_test(self) -> str:
        """The test this process runs and its phase (pytest's variable), or ``""``."""
        current = os.environ.get("PYTEST_CURRENT_TEST", "")
        return "" if current == self._inherited else current

    def _watch(self) -> None:
        if self._done.wait(max(self.at - time.time(), 0.0)):
            return
        self.expired = True
        current = self._current_test()
        running = f"\n  running: {current}" if current else ""
        self._write(f"\n{self.message}{running}\n")
        if not self.interrupt:
            self._stacks()
            # After the controller's own interrupt (it waits _WORKERS_FIRST): its xdist is
            # then stopping the workers, rather than seeing this one crash.
            if self.stop_test and not self._done.wait(2 * _WORKERS_FIRST):
                # Only a test's setup or call: a teardown is cleanup, never cut short.
                current = self._current_test()
                if current.endswith(("(setup)", "(call)")):
                    self._interrupt_main()
            return
        if self._done.wait(_WORKERS_FIRST):
            return
        self._write("suitekit: the stacks of this process's threads:\n")
        self._stacks()
        if not self._interrupt_main():
            return  # past its tests already: its cleanup runs, and is not cut short
        if self._done.wait(self.hard_grace):
            return
        if self._cleaning() and self._done.wait(self.hard_grace):
            return  # the interrupt got the session to its cleanup: it gets another grace
        self._write(
            f"suitekit: the session did not end within {self.hard_grace:g}s of being "
            "interrupted; ending it now. Its threads:\n"
        )
        self._stacks()
        if self.cleanup is not None:
            with contextlib.suppress(Exception):
                self.cleanup()
        os._exit(1)
