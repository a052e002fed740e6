"""Find and stop the processes a suite's tests left running.

A test that starts a server or a helper and forgets it (or a hung test whose children outlive
it) would keep running after the run, holding ports, files and database connections. Two ways
find them:

- **a mark in the environment**: the controller of a suite run puts a fresh random token in its
  environment (``SUITEKIT_SESSION_MARK``), after its own servers are up and before any test or
  xdist worker starts, so every process the tests start inherits it, even one that left the
  process group (``start_new_session=True``, a daemon). At the end the controller reads
  ``/proc/<pid>/environ`` of this user's processes: whoever still carries the token is left over.
  A process that was given a fresh environment escapes the mark;
- **the process group**: the runner starts every session in a group of its own; what is still in
  it when the session's process has ended was left behind.

Both are Linux (``/proc``) only; elsewhere nothing is found. A scan reads a few hundred small
files (about a millisecond for a hundred processes), once per session.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from suitekit._handoff import ENV_SESSION_MARK

__all__ = [
    "MARK_VARIABLE",
    "LeftProcess",
    "describe",
    "in_group",
    "marked",
    "new_mark",
    "orphaned",
    "stop",
]

MARK_VARIABLE: Final = ENV_SESSION_MARK
"""The variable whose value marks every process a suite session's tests start."""

_PROC: Final = Path("/proc")
_GRACE_SECONDS: Final = 2.0  # how long a process gets to end on SIGTERM before SIGKILL
_POLL_SECONDS: Final = 0.02
_COMMAND_CHARS: Final = 120  # enough to tell commands apart in a warning line


@dataclass(frozen=True, slots=True, kw_only=True)
class LeftProcess:
    """A process a session left running.

    Attributes:
        pid: Its process id.
        command: Its command line, shortened for a warning line.
    """

    pid: int
    command: str


def new_mark() -> str:
    """A fresh token for a session's mark.

    It holds the controller's pid (so ``suitekit clean`` can tell a dead run's processes) and
    random bits (so that no other session's processes carry it).
    """
    # os.urandom, not secrets: that imports hmac and OpenSSL into every pytest process.
    return f"{os.getpid()}-{os.urandom(8).hex()}"


def _pids() -> list[int]:
    try:
        # os.listdir: names only, no Path per entry (a scan runs at every session's end).
        return [int(name) for name in os.listdir(_PROC) if name.isdigit()]  # noqa: PTH208
    except OSError:
        return []  # no /proc: not Linux


def _ancestors() -> frozenset[int]:
    """This process and its ancestors: they may carry the mark too, and are never stray."""
    found = {os.getpid()}
    pid = os.getppid()
    while pid > 1 and pid not in found:
        found.add(pid)
        try:
            pid = int(_stat_fields(pid)[1])
        except (OSError, ValueError, IndexError):
            break
    return frozenset(found)


def _stat_fields(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name: state, ppid, pgrp, ..."""
    raw = (_PROC / str(pid) / "stat").read_bytes()
    # The command name is in parentheses and may itself hold spaces and parentheses.
    return raw[raw.rindex(b")") + 2 :].decode().split()


def _command(pid: int) -> str:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    command = raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace") or "?"
    return command if len(command) <= _COMMAND_CHARS else command[: _COMMAND_CHARS - 3] + "..."


def _own(pid: int, uid: int) -> bool:
    try:
        return (_PROC / str(pid)).stat().st_uid == uid
    except OSError:
        return False


def _environ(pid: int) -> bytes | None:
    """A process's environment, each variable ended by NUL (``None``: gone, or not ours)."""
    try:
        return (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return None


def _carries(pid: int, needle: bytes) -> bool:
    environ = _environ(pid)
    # Each variable ends with NUL; one before the first lets the needle match it too.
    return environ is not None and needle in b"\0" + environ


def _value(pid: int, prefix: bytes) -> str | None:
    """The value of the variable ``prefix`` names (``NAME=``) in a process's environment."""
    environ = _environ(pid)
    if environ is None:
        return None
    for entry in environ.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode(errors="replace")
    return None


def _others_of_this_user() -> Iterator[int]:
    """This user's processes, but this one and its ancestors (which carry the mark too)."""
    uid = os.getuid()
    skip = _ancestors()
    return (pid for pid in _pids() if pid not in skip and _own(pid, uid))


def marked(mark: str) -> list[LeftProcess]:
    """This user's processes, but this one and its ancestors, whose environment holds ``mark``.

    Zombies (ended, not yet reaped) are left out: they hold nothing.
    """
    needle = f"\0{MARK_VARIABLE}={mark}\0".encode()
    found = [pid for pid in _others_of_this_user() if _carries(pid, needle)]
    return [LeftProcess(pid=pid, command=_command(pid)) for pid in found if _running(pid)]


def in_group(pgid: int) -> list[LeftProcess]:
    """The running processes of process group ``pgid`` (but this one and its ancestors)."""
    skip = _ancestors()
    found = []
    for pid in _pids():
        if pid in skip:
            continue
        try:
            fields = _stat_fields(pid)
        except (OSError, ValueError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(LeftProcess(pid=pid, command=_command(pid)))
    return found


def orphaned() -> list[LeftProcess]:
    """This user's marked processes whose session's controller has ended (``suitekit clean``).

    A process whose marking session is still running is that session's business.
    """
    prefix = f"{MARK_VARIABLE}=".encode()
    found = []
    for pid in _others_of_this_user():
        mark = _value(pid, prefix)
        if mark is None:
            continue
        owner, _, _ = mark.partition("-")
        if owner.isdigit() and not _running(int(owner)) and _running(pid):
            found.append(LeftProcess(pid=pid, command=_command(pid)))
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has)."""
    try:
        return _stat_fields(pid)[0] != "Z"
    except (OSError, ValueError, IndexError):
        return False


def stop(processes: Sequence[LeftProcess], *, grace: float = _GRACE_SECONDS) -> None:
    """End ``processes``: SIGTERM, up to ``grace`` seconds to exit, then SIGKILL.

    SIGTERM first lets a server a test started shut down cleanly (flush, remove its socket);
    SIGKILL ends what ignores it.
    """
    _signal(processes, signal.SIGTERM)
    deadline = time.monotonic() + grace
    alive = list(processes)
    while alive and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        alive = [process for process in alive if _running(process.pid)]
    _signal(alive, signal.SIGKILL)


def _signal(processes: Iterable[LeftProcess], signum: signal.Signals) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(process.pid, signum)


def describe(processes: Sequence[LeftProcess], *, what: str = "the tests") -> str:
    """The warning line, e.g. ``stopped 1 process the tests left running: 12345 sleep 1000``."""
    noun = "process" if len(processes) == 1 else "processes"
    listed = "; ".join(f"{process.pid} {process.command}" for process in processes)
    return f"suitekit: stopped {len(processes)} {noun} {what} left running: {listed}"
