"""Throwaway servers, whatever they serve: their folders, processes, records and stops.

A server lives in a fresh, randomly named folder under this user's data root (on a RAM disk
when there is one, see :mod:`suitekit.services._state`), listens on a free port of 127.0.0.1
only, and is recorded in a small JSON file under this user's private state folder together with
the pid of the process that owns it, so that ``suitekit clean`` can stop what a killed run left.

Only its owner can use it: each server gets a random password, which reaches the server through
no command line (they are world-readable in ``/proc``), and is kept in the URL handed to the run
and in the record, a 0600 file. As root, servers run as an unprivileged user
(``SUITEKIT_SERVER_USER``, default ``nobody``): PostgreSQL refuses root, and a server open to
the network has no business running as root.

Every backend starts its server the same way: :func:`new_server` (its user, password, folder
and log), then :func:`launch` (spawned and recorded, Ctrl-C held in between), then
:meth:`Launched.answering` (waited for with :func:`wait_answering`, stopped if it never
answers). What a server of each service is (its binaries, settings, how it is told its
password, how it is seen to answer) is its backend's: :mod:`suitekit.services._postgres_server`,
:mod:`suitekit.services._redis_server`, or a container, :mod:`suitekit.services._docker`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from suitekit._handoff import ENV_POSTGRES_USER, ENV_SERVER_USER
from suitekit._model import Service
from suitekit._signals import HELD, exit_codes, signals_held
from suitekit.errors import ServiceError
from suitekit.services import _processes
from suitekit.services._backend import BACKENDS
from suitekit.services._state import (
    PrivateRecord,
    data_root,
    private_folder,
    records_in,
    state_root,
)

__all__ = [
    "START_TIMEOUT",
    "Launched",
    "NewServer",
    "ServerRecord",
    "Throwaway",
    "Wait",
    "answering",
    "free_port",
    "hand_over",
    "ids",
    "ignore",
    "launch",
    "new_password",
    "new_server",
    "own",
    "owner_gone",
    "pid_alive",
    "record",
    "records",
    "records_folder",
    "spawn",
    "state_root",
    "stop_record",
    "tail",
    "wait_answering",
]

_PASSWORD_BYTES: Final = 24  # 192 random bits, hex: nothing to quote in a URL or a config file
START_TIMEOUT: Final = 30.0
_STOP_TIMEOUT: Final = 10.0
_POLL_SECONDS: Final = 0.01  # a start or a stop takes tens of milliseconds: look often


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerRecord(PrivateRecord):
    """What suitekit remembers of a throwaway server (JSON under the state folder).

    Attributes:
        kind: ``postgres`` or ``redis``.
        url: Where it listens.
        owner_pid: The process that started it and stops it.
        server_pid: The server's own process (0 for a container).
        container: The Docker container's id, when it runs in one.
        data_dir: The folder to remove once it stopped.
        path: The record's own file.
    """

    kind: Service
    url: str
    owner_pid: int
    server_pid: int
    container: str = ""  # records written before containers were have none
    data_dir: str
    path: Path


def records() -> list[ServerRecord]:
    """Every readable server record this user wrote (regular files of this user only)."""
    return records_in(records_folder(), ServerRecord)


def records_folder() -> Path:
    """The private folder of server records (refused, with the fix, if it is not private)."""
    return private_folder(state_root() / "servers")


def _is_server(record: ServerRecord) -> bool:
    """Whether ``server_pid`` is still the server the record describes (pids get reused)."""
    try:
        command = Path(f"/proc/{record.server_pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    port = record.url.rsplit(":", 1)[-1].split("/", 1)[0]
    # PostgreSQL shows its data folder; Redis rewrites its title to "redis-server host:port".
    return record.data_dir.encode() in command or f":{port}".encode() in command


def _owned_data(record: ServerRecord) -> bool:
    """Whether the record's data folder is one of suitekit's server folders."""
    try:
        return Path(record.data_dir).resolve().parent == data_root().resolve()
    except OSError:
        return False


def owner_gone(host: object, pid: object) -> bool:
    """Whether the owner a mark names (its host and pid) is a process of this host that is gone.

    Another machine's owner is never taken for gone: we cannot tell, so what it owns is left.
    """
    if host != socket.gethostname():
        return False
    try:
        return not pid_alive(int(str(pid)))
    except ValueError:
        return False


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (zombies count as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" not in status


@dataclass(slots=True)
class Throwaway:
    """A running throwaway server, owned by this process."""

    record: ServerRecord
    process: subprocess.Popen[bytes] | None

    def stop(self) -> None:
        """Stop the server, remove its data and its record; safe to call twice."""
        stop_record(self.record, self.process)


def stop_record(record: ServerRecord, process: subprocess.Popen[bytes] | None = None) -> None:
    """Stop the server a record describes, remove its data folder and the record.

    Ctrl-C and SIGTERM are held until it is done (:func:`~suitekit._signals.signals_held`): a
    second Ctrl-C while the first one's cleanup stops the server would leave it running, or its
    folder or record behind.
    """
    with signals_held(*HELD):
        _stop_record(record, process)


def _stop_record(record: ServerRecord, process: subprocess.Popen[bytes] | None) -> None:
    if record.container:
        subprocess.run(
            ["docker", "rm", "-f", record.container], capture_output=True, check=False, timeout=60
        )
    elif record.server_pid > 0 and (process is not None or _is_server(record)):
        backend = BACKENDS.get(record.kind)
        first = backend.stop_signal if backend is not None else signal.SIGTERM

        def send(signum: signal.Signals) -> None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(record.server_pid, signum)

        def gone() -> bool:
            if process is not None:
                return process.poll() is not None
            return not pid_alive(record.server_pid)

        _processes.stop(
            send,
            (first, signal.SIGKILL),
            gone=gone,
            process=process,
            grace=_STOP_TIMEOUT,
            poll=_POLL_SECONDS,
        )
    if record.data_dir and _owned_data(record):
        shutil.rmtree(record.data_dir, ignore_errors=True)
    record.path.unlink(missing_ok=True)


def _server_user(environ: Mapping[str, str]) -> pwd.struct_passwd | None:
    """The user servers run as when suitekit runs as root; ``None`` when it does not."""
    if os.geteuid() != 0:
        return None
    variable = ENV_SERVER_USER if environ.get(ENV_SERVER_USER) else ENV_POSTGRES_USER
    name = environ.get(variable) or "nobody"
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        message = (
            f"suitekit runs as root, so it runs its throwaway servers as an unprivileged user, "
            f"but the user {name!r} ({variable}) does not exist\n"
            f"  fix: set {ENV_SERVER_USER} to an unprivileged user that exists"
        )
        raise ServiceError(message) from None
    if user.pw_uid == 0:
        message = (
            f"{variable}={name!r} is root; suitekit runs its throwaway servers as an "
            f"unprivileged user\n  fix: set {ENV_SERVER_USER} to an unprivileged user that exists"
        )
        raise ServiceError(message)
    return user


def record(
    kind: Service, url: str, server_pid: int, data_dir: str, container: str = ""
) -> ServerRecord:
    """Record a server (its password too: the file is 0600, in this user's private folder)."""
    written = ServerRecord(
        kind=kind,
        url=url,
        owner_pid=os.getpid(),
        server_pid=server_pid,
        container=container,
        data_dir=data_dir,
        path=ServerRecord.new_path(records_folder(), kind),
    )
    written.write()
    return written


def ids(user: pwd.struct_passwd | None) -> dict[str, object]:
    """The user and groups a server runs as, and the environment it gets, for subprocess."""
    ids: dict[str, object] = {"env": _server_env()}
    if user:
        ids.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    return ids


def _server_env() -> dict[str, str]:
    """What a server process gets of the run's environment: nothing it does not need.

    A process's environment can be read in ``/proc`` by its own user: as root the servers run
    as an unprivileged user that other programs may share, and the run's environment holds
    URLs with passwords (``DATABASE_URL``, the layers' ``SUITEKIT_*_URL``) and CI tokens.
    """
    env = {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C"}
    if "TZ" in os.environ:
        env["TZ"] = os.environ["TZ"]
    return env


def _new_log(data_dir: Path) -> int:
    """A new, private log file in the server's folder; the server writes to its descriptor."""
    path = data_dir / "server.log"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.open(path, flags, 0o600)


def hand_over(data_dir: Path, owned: tuple[Path, ...], user: pwd.struct_passwd | None) -> None:
    """Give ``owned`` (inside ``data_dir``) to the server's user and let it pass ``data_dir``.

    Everything is prepared while ``data_dir`` is root's and closed (mode 0700), and handed over
    deepest first, ``data_dir`` being opened to the user (0711: pass, not list) last: until
    then no process of that user can reach anything in it, so none can swap a folder for a
    link under the ``chown`` walk. ``data_dir`` itself stays root's: the user cannot rename,
    replace or add anything next to its folders, the log and the client authentication file.
    """
    if user is None:
        return
    for top in owned:
        for folder, dirs, files in os.walk(top, topdown=False):
            for name in (*files, *dirs):
                os.chown(Path(folder, name), user.pw_uid, user.pw_gid, follow_symlinks=False)
        os.chown(top, user.pw_uid, user.pw_gid, follow_symlinks=False)
    data_dir.chmod(0o711)


def ignore(_: Throwaway) -> None:
    """The default ``on_start``: nobody else needs to know of the server yet."""


def own(
    kind: Service,
    url: str,
    process: subprocess.Popen[bytes],
    data_dir: Path,
    on_start: Callable[[Throwaway], None],
) -> Throwaway:
    """Record a server just spawned and hand it to its owner; a server that cannot be is killed.

    The caller holds Ctrl-C from the spawn to the end of this: from then on, whatever happens,
    the record names the server for ``suitekit clean`` and the owner (``on_start``) stops it.
    """
    try:
        written = record(kind, url, process.pid, str(data_dir))
    except BaseException:
        process.kill()
        process.wait()
        raise
    throwaway = Throwaway(record=written, process=process)
    on_start(throwaway)
    return throwaway


@contextlib.contextmanager
def _new_server_folder(prefix: str) -> Iterator[tuple[Path, int]]:
    """A new server's folder on the RAM disk and its log's descriptor (closed at the end).

    If the block fails (or is interrupted) before the server is owned, the folder is removed,
    with Ctrl-C held so that a second one cannot leave half of it.
    """
    data_dir = Path(tempfile.mkdtemp(prefix=prefix, dir=data_root()))
    log = -1
    try:
        log = _new_log(data_dir)
        yield data_dir, log
    except BaseException:
        with signals_held(*HELD):
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
    finally:
        if log >= 0:
            os.close(log)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewServer:
    """A server about to be spawned: who it runs as, its password, folder and log.

    Attributes:
        user: The user it runs as (``None``: this process's own).
        password: Its new random password.
        data_dir: Its folder on the RAM disk (the run's, 0700, until handed over).
        log: The descriptor of its log, ``server.log`` in ``data_dir``.
    """

    user: pwd.struct_passwd | None
    password: str
    data_dir: Path
    log: int


def new_password() -> str:
    """A new server's random password."""
    return secrets.token_hex(_PASSWORD_BYTES)


@contextlib.contextmanager
def new_server(environ: Mapping[str, str], prefix: str) -> Iterator[NewServer]:
    """What a throwaway server needs before it is spawned (see :class:`NewServer`).

    Raises:
        ServiceError: The server's user or the state folder is refused (before anything runs).
    """
    user = _server_user(environ)
    records_folder()  # a state folder that is refused stops the start before anything runs
    password = new_password()
    with _new_server_folder(prefix) as (data_dir, log):
        yield NewServer(user=user, password=password, data_dir=data_dir, log=log)


def spawn(argv: list[str], new: NewServer, *, stdin: int) -> subprocess.Popen[bytes]:
    """Start the server's process as its user, its output to its log, in a session of its own.

    The caller holds Ctrl-C from here until :func:`own` has recorded it.
    """
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        argv,
        stdin=stdin,
        stdout=new.log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # not stopped by a Ctrl-C meant for the run; we stop it
        **ids(new.user),
    )


def answering(throwaway: Throwaway, wait: Callable[[], None]) -> Throwaway:
    """The server once ``wait`` saw it answer; stopped (record and folder gone) if it does not."""
    try:
        wait()
    except BaseException:
        throwaway.stop()
        raise
    return throwaway


class Wait(Protocol):
    """How a backend waits for its throwaway server to answer (its ``wait_started``)."""

    def __call__(self, process: subprocess.Popen[bytes], log: Path, *, timeout: float) -> None:
        """Return once the server answers; raise :class:`ServiceError` if it does not."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Launched:
    """A throwaway server just spawned and owned (:func:`launch`), not yet seen to answer.

    Attributes:
        throwaway: The server, recorded and handed to its owner.
        process: Its process.
        log: Its log, ``server.log`` in its folder.
    """

    throwaway: Throwaway
    process: subprocess.Popen[bytes]
    log: Path

    def answering(self, wait: Wait) -> Throwaway:
        """The server once ``wait(process, log, timeout=START_TIMEOUT)`` saw it answer.

        Stopped (record and folder gone) if it does not: see :func:`answering`.
        """
        return answering(
            self.throwaway, lambda: wait(self.process, self.log, timeout=START_TIMEOUT)
        )


def launch(
    argv: list[str],
    new: NewServer,
    *,
    kind: Service,
    url: str,
    on_start: Callable[[Throwaway], None],
    config: bytes | None = None,
) -> Launched:
    """Spawn a new server (:func:`spawn`) and own it (:func:`own`), Ctrl-C held in between.

    From the spawn until the record and the owner know of it, no Ctrl-C can leave a server
    that nothing stops. ``config``, when given, is written to the server's standard input
    (a few hundred bytes: the pipe takes them at once), which is then closed.
    """
    stdin = subprocess.DEVNULL if config is None else subprocess.PIPE
    with signals_held(*HELD):
        process = spawn(argv, new, stdin=stdin)
        if config is not None:
            try:
                process.stdin.write(config)  # type: ignore[union-attr]
                process.stdin.close()  # type: ignore[union-attr]
            except BaseException:
                process.kill()
                process.wait()
                raise
        throwaway = own(kind, url, process, new.data_dir, on_start)
    return Launched(throwaway=throwaway, process=process, log=new.data_dir / "server.log")


def wait_answering(
    process: subprocess.Popen[bytes],
    log: Path,
    *,
    what: str,
    probe: Callable[[], object],
    refused: type[Exception],
    timeout: float,
    poll: float,
    probe_name: str | None = None,
) -> None:
    """Wait until a throwaway ``what`` server just spawned answers ``probe``.

    ``probe`` raising ``refused`` means: not yet. The message when it never answers names
    ``probe_name`` if given, else ends with the server's log.

    Raises:
        ServiceError: It exited (with its log), or did not answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        if exit_codes(process)[0] is not None:
            message = f"the throwaway {what} server exited at start:\n{tail(log)}"
            raise ServiceError(message)
        try:
            probe()
        except refused:
            if time.monotonic() > deadline:
                message = f"the throwaway {what} server did not answer" + (
                    f" {probe_name}" if probe_name else f":\n{tail(log)}"
                )
                raise ServiceError(message) from None
            time.sleep(poll)
        else:
            return


def tail(log: Path, lines: int = 20) -> str:
    """The last ``lines`` of a server's log, for the message that says it did not start."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
