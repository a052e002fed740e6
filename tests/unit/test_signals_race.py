"""A signal caught in the race between a Python handler and "ignore" is not an error."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import pytest

from suitekit._signals import signals_as_interrupt, signals_ignored


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
