"""Signals that end a run the way Ctrl-C does, so that cleanup code runs."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["signals_as_interrupt", "signals_ignored"]


@contextlib.contextmanager
def signals_as_interrupt(*signums: signal.Signals) -> Iterator[None]:
    """Within the block, ``signums`` raise ``KeyboardInterrupt`` in the main thread.

    Servers, databases and child process groups are then released by the same ``finally``
    blocks as after Ctrl-C, instead of being orphaned by the default action (which for SIGTERM
    ends the process on the spot). A handler also replaces an inherited "ignore" (a background
    job, an xdist worker), and since handled signals are reset to their default on exec,
    children started meanwhile can be interrupted too. Outside the main thread it does nothing
    (Python only lets the main thread set handlers).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def signals_ignored(*signums: signal.Signals) -> Iterator[None]:
    """Within the block, ``signums`` are ignored (in the main thread; elsewhere a no-op).

    For shutdown code that must run to its end: a second Ctrl-C while child process groups
    are being stopped would otherwise leave them running.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in signums}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
