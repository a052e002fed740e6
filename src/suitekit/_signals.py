"""Signals that end a run the way Ctrl-C does, so that cleanup code runs."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import subprocess

HELD: Final = (signal.SIGINT, signal.SIGTERM)
"""The signals that end a run, which :func:`signals_held` holds back."""

__all__ = ["HELD", "exit_codes", "signals_as_interrupt", "signals_held", "signals_ignored"]


@contextlib.contextmanager
def signals_as_interrupt(*signums: signal.Signals) -> Iterator[None]:
    """Within the block, the first of ``signums`` raises ``KeyboardInterrupt`` in the main thread.

    Servers, databases and child process groups are then released by the same ``finally``
    blocks as after Ctrl-C, instead of being orphaned by the default action (which for SIGTERM
    ends the process on the spot). Only the first signal raises: a second Ctrl-C (people press
    it twice) would otherwise cut short the cleanup the first one started, and leave a server
    running or a database behind; later signals are dropped until the block ends (the cleanup
    itself is bounded: stopping waits a few seconds at most before it kills). A handler also
    replaces an inherited "ignore" (a background job, an xdist worker), and since handled
    signals are reset to their default on exec, children started meanwhile can be interrupted
    too. Outside the main thread it does nothing (Python only lets the main thread set
    handlers).
    """
    fired: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        del frame
        if fired:
            return
        fired.append(signum)
        raise KeyboardInterrupt

    with _handled(signums, handler):
        yield


@contextlib.contextmanager
def signals_ignored(*signums: signal.Signals) -> Iterator[None]:
    """Within the block, ``signums`` are ignored (in the main thread; elsewhere a no-op).

    For shutdown code that must run to its end: a second Ctrl-C while child process groups
    are being stopped would otherwise leave them running.
    """
    with _handled(signums, signal.SIG_IGN):
        yield


@contextlib.contextmanager
def signals_held(*signums: signal.Signals) -> Iterator[None]:
    """Within the block, ``signums`` are held back, and the first one is delivered at its end.

    For the few steps between starting something and recording it (a server spawned, then its
    record written and its owner told), and for the steps that stop it: a Ctrl-C there, once or
    twice, would otherwise leave a running server that nothing knows of, or half of one
    stopped. The steps are short (milliseconds; a stop waits at most for the server to go), so
    the user's Ctrl-C still takes effect at once, as a ``KeyboardInterrupt`` (or whatever the
    handler outside the block does) right after them. Nested blocks hold until the outermost
    ends. Outside the main thread it does nothing.
    """
    arrived: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        del frame
        arrived.append(signum)

    try:
        with _handled(signums, handler):
            yield
    finally:
        if arrived:
            # Delivered again with the handler outside the block: KeyboardInterrupt for Ctrl-C,
            # an outer block's hold, or nothing where the signal is ignored.
            signal.raise_signal(arrived[0])


def exit_codes(*processes: subprocess.Popen[Any]) -> tuple[int | None, ...]:
    """``poll()`` of each of ``processes``, where a Ctrl-C cannot land inside one.

    ``Popen.poll`` takes a private lock before its ``try``: a ``KeyboardInterrupt`` that
    :func:`signals_as_interrupt` raises just as the lock is taken leaves it taken for good. Every
    later ``poll`` then says "running" and ``wait()`` blocks forever, on a child long dead (a
    zombie): a Ctrl-C that hung the run instead of stopping it. Polls made while Ctrl-C may
    raise go through here; the signal is held for them all (one hold, about 30 us) and comes
    right after.
    """
    with signals_held(*HELD):
        return tuple(process.poll() for process in processes)


_TRIES: Final = 3
"""How many times in a row setting one handler may fail before it is left (see _put_back)."""

_Handler = Callable[[int, FrameType | None], None] | signal.Handlers
_Previous = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None
"""A handler as ``signal.getsignal`` gives it back (``None``: one set outside Python)."""


@contextlib.contextmanager
def _handled(signums: tuple[signal.Signals, ...], handler: _Handler) -> Iterator[None]:
    """``handler`` for ``signums`` within the block, the previous ones after it.

    ``signal.signal`` first runs the handlers of signals already pending, and one of them may
    raise (:func:`signals_as_interrupt`'s ``KeyboardInterrupt``) as a handler is set or put
    back: every handler is still put back, or a Ctrl-C would stay with a block long gone (held
    and never delivered, say). The first error is raised once they all are. Only the main
    thread may set handlers: elsewhere the block runs with the process's own. A signal whose
    handler was set outside Python (``getsignal`` says ``None``) keeps it: it could not be put
    back, so such a signal is neither held nor turned into ``KeyboardInterrupt``.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, _Previous] = {}
    try:
        for signum in dict.fromkeys(signums):
            current = signal.getsignal(signum)  # before: setting it may raise
            if current is None:
                continue  # set outside Python: it could not be put back, so it stays
            previous[signum] = current
            _set(signum, handler)
        yield
    finally:
        _put_back(previous)


def _put_back(previous: Mapping[signal.Signals, _Previous]) -> None:
    """Set each of ``previous`` again, past errors that pending handlers raise meanwhile.

    A pending handler runs once: the next try sets the handler. An error that comes back
    :data:`_TRIES` times in a row is not a handler's, and that signal is left for the next.
    The first error is raised once every handler is back (or tried).
    """
    pending = list(previous.items())
    raised: BaseException | None = None
    failures = 0
    while pending:
        try:
            while pending:  # within the ``try``: a handler may raise at the loop's every turn
                _set(*pending[0])
                del pending[0]
                failures = 0
        except BaseException as error:  # noqa: BLE001 - raised once every handler is back
            raised = raised or error
            failures += 1
            if failures == _TRIES:
                del pending[0]
                failures = 0
    if raised is not None:
        raise raised


def _set(signum: signal.Signals, handler: _Previous) -> None:
    """``signal.signal(signum, handler)``, where a signal caught in the race is not lost.

    A signal that arrived while a Python handler was in place, and is still pending when the
    handler becomes "ignore" or the default, makes CPython raise ``OSError: Signal 2 ignored
    due to race condition`` out of ``signal.signal`` (the new handler is set all the same). A
    second Ctrl-C arriving just as shutdown starts ignoring it is that race: it was meant to be
    ignored, and it is; one pending as the default comes back is delivered with the default.
    ``None`` (a handler set outside Python) is left as it is: Python cannot put it back.
    """
    if handler is None:
        return
    try:
        signal.signal(signum, handler)
    except OSError:
        if handler == signal.SIG_DFL:
            signal.raise_signal(signum)
