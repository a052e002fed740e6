"""Stopping a process suitekit started: a signal, a grace, then the next signal.

Throwaway servers (:mod:`suitekit.services._servers`) and instances of the project's own
services (:mod:`suitekit.services._instances`) are stopped the same way; what differs is what
is signalled (a process, a process group) and how its end is seen (its :class:`Popen`, its pid,
its session).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Callable

__all__ = ["stop"]


def stop(
    send: Callable[[signal.Signals], None],
    signals: tuple[signal.Signals, ...],
    *,
    gone: Callable[[], bool],
    process: subprocess.Popen[bytes] | None,
    grace: float,
    poll: float,
) -> None:
    """Send each of ``signals`` in turn, until ``gone`` says it ended, then reap ``process``.

    After each signal ``gone`` is asked every ``poll`` seconds, for up to ``grace`` seconds,
    before the next signal is sent. ``process`` (this process's child, when it is one) is then
    waited for, up to ``grace`` seconds, so that it leaves no zombie.
    """
    for signum in signals:
        send(signum)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if gone():
                break
            time.sleep(poll)
        else:
            continue
        break
    if process is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
