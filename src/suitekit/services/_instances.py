"""Instances of the project's services once started: their records, how they are stopped.

Each instance is recorded, with its owner's pid and host and its first process's start time,
in a 0600 file under ``<state>/instances/``. Its owner stops it with the :class:`Popen` it
holds; the run's controller (for a worker that died) and ``suitekit clean`` (for a run that
was killed) stop an instance whose owner is gone, from its record alone, and only when the
process the record names is provably still the instance: its start time, read from ``/proc``,
is the recorded one. Where there is no ``/proc`` (macOS) no start time is recorded, so such an
instance is never signalled from its record: a pid may have been given to another process since.
``suitekit clean`` names it instead, with how to stop it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from suitekit._signals import HELD, signals_held
from suitekit.services import _processes, _state
from suitekit.services._ports import LOOPBACK
from suitekit.services._state import PrivateRecord, data_root, private_folder, state_root

__all__ = [
    "InstanceRecord",
    "finish_run",
    "left_behind",
    "records",
    "records_folder",
    "remove",
    "start_time",
    "terminate",
]

_POLL_SECONDS: Final = 0.02  # how often a stop looks whether the session is gone
_STOP_GRACE: Final = 5.0  # seconds from SIGTERM to SIGKILL


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceRecord(PrivateRecord):
    """What suitekit remembers of a running instance (JSON under ``<state>/instances/``).

    Attributes:
        service: The service's name.
        host: The host the owner runs on.
        owner_pid: The process that started the instance and stops it.
        pid: The instance's first process, which leads its process session.
        started: That process's start time (``/proc/<pid>/stat``), which tells it from a
            later process given the same pid; empty where there is no ``/proc``.
        folder: The instance's folder (its ``{dir}`` and log), removed once it stopped.
        run: The run's id.
        suite: The suite.
        worker: The worker (``gw0``, ``main``) or ``run`` for a service of the whole run.
        port: Its port.
        path: The record's own file.
    """

    service: str
    host: str
    owner_pid: int
    pid: int
    started: str
    folder: str
    run: str
    suite: str
    worker: str
    port: int
    path: Path

    @property
    def owner_gone(self) -> bool:
        """Whether the owner is a process of this host that has ended."""
        from suitekit.services._servers import owner_gone  # noqa: PLC0415 - clean only

        return owner_gone(self.host, self.owner_pid)


def records_folder() -> Path:
    """Where the records live (``<state>/instances``)."""
    return private_folder(state_root() / "instances")


def records() -> list[InstanceRecord]:
    """Every readable instance record of this user."""
    return _state.records_in(records_folder(), InstanceRecord)


def start_time(pid: int) -> str:
    """A process's start time in clock ticks since boot (``""`` without ``/proc``)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return ""
    # Field 22; the command name (field 2) is in parentheses and may hold anything.
    return raw[raw.rindex(b")") + 2 :].split()[19].decode()


def _session(sid: int) -> list[int]:
    """The running processes of the process session ``sid`` (Linux; elsewhere none)."""
    found = []
    try:
        names = os.listdir("/proc")  # noqa: PTH208 - names only, as _processes reads them
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{name}/stat").read_bytes()
        except OSError:
            continue
        fields = raw[raw.rindex(b")") + 2 :].split()
        if fields[0] != b"Z" and int(fields[3]) == sid:
            found.append(int(name))
    return found


def _is_instance(record: InstanceRecord) -> bool:
    """Whether the record's session is provably still the instance's (a pid may be reused).

    While any process of the session lives, its id is not given to another process; once the
    first process is gone, only its session's other processes can carry its id. Without a
    recorded start time (no ``/proc``) nothing tells the instance from a later process given
    the same pid, so it is not taken for the instance: safety first, it is never signalled.
    """
    if not record.started:
        return False
    now = start_time(record.pid)
    return now in ("", record.started)


def terminate(record: InstanceRecord, process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM to the instance's session and process group, SIGKILL after a grace."""
    if process is None and not _is_instance(record):
        return

    def gone() -> bool:
        return (process is None or process.poll() is not None) and not _session(record.pid)

    _processes.stop(
        lambda signum: _signal(record.pid, signum),
        (signal.SIGTERM, signal.SIGKILL),
        gone=gone,
        process=process,
        grace=_STOP_GRACE,
        poll=_POLL_SECONDS,
    )


def ask_to_stop(record: InstanceRecord, process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM to the instance's session and process group, without waiting (see terminate).

    Several instances asked first and then terminated one by one end in one grace, not one
    grace each.
    """
    if process is not None or _is_instance(record):
        _signal(record.pid, signal.SIGTERM)


def _signal(sid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(sid, signum)
    for pid in _session(sid):  # those that left the group but not the session
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def remove(record: InstanceRecord) -> None:
    """Remove the instance's folder (only one of suitekit's) and its record."""
    folder = Path(record.folder)
    with contextlib.suppress(OSError):
        if folder.parent.resolve() == data_root().resolve() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)
    record.path.unlink(missing_ok=True)


def left_behind(say: Callable[[str], None]) -> int:
    """Stop the instances whose owner is gone (``suitekit clean``); how many were.

    One that cannot be told from a later process with its pid (no ``/proc``) is not signalled:
    it is named, with how to stop it, and its record and folder are removed (so it is named
    once).
    """
    stopped = 0
    for record in records():
        if not record.owner_gone:
            continue
        where = f"{LOOPBACK}:{record.port}, run {record.run}, worker {record.worker}"
        if _stop_left(record):
            stopped += 1
            say(f"stopped a left-behind {record.service} instance ({where})")
            continue
        remove(record)
        say(
            f"left a {record.service} instance alone ({where}, pid {record.pid}): without /proc "
            "suitekit cannot tell it from a later process given the same pid, so it signals "
            f"neither\n  fix: if `ps -p {record.pid}` shows it is still your {record.service}, "
            f"stop it: kill -TERM -- -{record.pid}"
        )
    return stopped


def finish_run(run_id: str, suite: str) -> None:
    """The controller's end: stop this run's instances whose worker died without stopping them.

    One that cannot be told from a later process (no ``/proc``) keeps its record, for
    ``suitekit clean`` to name it.
    """
    for record in records():
        if record.run == run_id and record.suite == suite and record.owner_gone:
            _stop_left(record)


def _stop_left(record: InstanceRecord) -> bool:
    """Stop an instance whose owner is gone and remove it; ``False`` if it is left alone.

    Left alone: one without a start time (no ``/proc``). With one, an instance whose pid now
    names another process is already gone: only its folder and record are removed.
    """
    if not record.started:
        return False
    with signals_held(*HELD):
        terminate(record, None)
        remove(record)
    return True
