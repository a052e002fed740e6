"""Races of signals: one caught between a Python handler and "ignore" is not an error, and a
Ctrl-C as a poll takes its lock does not leave it taken."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from suitekit._signals import HELD, exit_codes, signals_as_interrupt, signals_held, signals_ignored


def racing(monkeypatch: pytest.MonkeyPatch, to: signal.Handlers) -> list[int]:
    """``signal.signal`` as CPython behaves when a signal is pending as ``to`` is set."""
    real = signal.signal
    raced: list[int] = []

    def setting(signum: int, handler: Callable[..., Any] | int | None) -> Any:
        before = real(signum, handler)
        if handler == to and not raced:
            raced.append(signum)
            message = f"Signal {signum} ignored due to race condition"
            raise OSError(message)
        return before

    monkeypatch.setattr(signal, "signal", setting)
    return raced


def test_a_ctrl_c_pending_as_shutdown_starts_ignoring_it_is_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = signal.getsignal(signal.SIGINT)
    raced = racing(monkeypatch, signal.SIG_IGN)

    with signals_as_interrupt(signal.SIGINT), signals_ignored(signal.SIGINT):
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN

    assert raced == [signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) == before  # every handler put back


class _TakenAsCtrlC:
    """A Popen's waitpid lock that a Ctrl-C hits just as it is taken, as it can in a real run."""

    def __init__(self, lock: Any) -> None:
        self.lock = lock

    def acquire(self, *args: Any) -> bool:  # as Lock.acquire: Popen passes False positionally
        taken: bool = self.lock.acquire(*args)
        signal.raise_signal(signal.SIGINT)  # its handler runs as this returns
        return taken

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@pytest.mark.parametrize("held", [True, False], ids=["exit_codes", "poll"])
def test_a_ctrl_c_as_a_poll_takes_its_lock_interrupts_after_it_and_the_child_is_reaped(
    held: bool,
) -> None:
    def plain(*processes: subprocess.Popen[bytes]) -> tuple[int | None, ...]:
        return tuple(process.poll() for process in processes)

    poll = exit_codes if held else plain
    processes = [subprocess.Popen([sys.executable, "-c", ""]) for _ in range(2)]
    locks = [process._waitpid_lock for process in processes]  # type: ignore[attr-defined]
    processes[1]._waitpid_lock = _TakenAsCtrlC(locks[1])  # type: ignore[attr-defined]
    try:
        with signals_as_interrupt(signal.SIGINT), pytest.raises(KeyboardInterrupt):
            poll(*processes)
        # The run's stop then waits for the children: only if each lock is free.
        leaked = [not lock.acquire(blocking=False) for lock in locks]
        for lock, taken in zip(locks, leaked, strict=True):
            if not taken:
                lock.release()
        assert leaked == [False, not held]
    finally:
        for process, lock in zip(processes, locks, strict=True):
            if lock.locked():
                lock.release()
            process._waitpid_lock = lock  # type: ignore[attr-defined]
            process.wait(timeout=30)


@pytest.mark.parametrize("installed", [False, True], ids=["before-setting", "after-setting"])
@pytest.mark.parametrize("at_call", [1, 2, 3, 4])
def test_a_pending_ctrl_c_raising_as_handlers_change_leaves_every_handler_as_it_was(
    monkeypatch: pytest.MonkeyPatch, at_call: int, installed: bool
) -> None:
    # signal.signal runs pending handlers: the outer Ctrl-C handler may raise out of any of the
    # four calls (SIGINT and SIGTERM set, then both put back), before or after it sets its own.
    real = signal.signal
    calls: list[int] = []

    def setting(signum: int, handler: Callable[..., Any] | int | None) -> Any:
        calls.append(signum)
        if len(calls) != at_call:
            return real(signum, handler)
        if installed:
            real(signum, handler)
        raise KeyboardInterrupt

    with handlers_kept() as before:
        monkeypatch.setattr(signal, "signal", setting)
        with pytest.raises(KeyboardInterrupt), signals_held(*HELD):
            pass
        assert {signum: signal.getsignal(signum) for signum in HELD} == before


def test_a_handler_that_cannot_be_put_back_does_not_keep_the_others_or_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = signal.signal
    calls: list[int] = []

    def setting(signum: int, handler: Callable[..., Any] | int | None) -> Any:
        calls.append(signum)
        if len(calls) > len(HELD) and signum == signal.SIGINT:
            message = "signal only works in main thread of the main interpreter"
            raise ValueError(message)  # every time: not a pending handler's error
        return real(signum, handler)

    with handlers_kept() as before:
        monkeypatch.setattr(signal, "signal", setting)
        with pytest.raises(ValueError, match="main thread"), signals_held(*HELD):
            pass
        assert signal.getsignal(signal.SIGTERM) == before[signal.SIGTERM]
        assert calls.count(signal.SIGINT) == 1 + 3  # set, then tried three times


@contextlib.contextmanager
def handlers_kept() -> Iterator[dict[signal.Signals, Any]]:
    """The handlers of ``HELD`` before the block, set again after it whatever it did."""
    real = signal.signal
    before = {signum: signal.getsignal(signum) for signum in HELD}
    try:
        yield before
    finally:
        for signum, handler in before.items():
            real(signum, handler)


def test_a_handler_set_outside_python_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    # signal.getsignal says None for a handler C code set: Python could not put it back, so a
    # hold must not replace it (its own handler would stay, and swallow every later signal).
    real_getsignal, real_signal = signal.getsignal, signal.signal
    set_for: list[int] = []

    def getsignal(signum: int) -> Any:
        return None if signum == signal.SIGTERM else real_getsignal(signum)

    def set_handler(signum: int, handler: Any) -> Any:
        set_for.append(signum)
        return real_signal(signum, handler)

    with handlers_kept(), monkeypatch.context() as patched:
        patched.setattr(signal, "getsignal", getsignal)
        patched.setattr(signal, "signal", set_handler)
        with signals_held(signal.SIGINT, signal.SIGTERM):
            pass

    assert signal.SIGTERM not in set_for
    assert set_for.count(signal.SIGINT) == 2  # held, then put back
