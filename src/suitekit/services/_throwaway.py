"""Throwaway PostgreSQL and Redis servers, started from local binaries (or Docker) for one run.

A server lives in a fresh, randomly named folder under this user's data root (on a RAM disk
when there is one, see :mod:`suitekit.services._state`), is tuned for tests (no fsync, no
durability), listens on a free port of 127.0.0.1 only, and is recorded in a small JSON file under
this user's private state folder together with the pid of the process that owns it, so that
``suitekit clean`` can stop what a killed run left.

Only its owner can use it: each server gets a random password (PostgreSQL: SCRAM-SHA-256 for TCP
and for its Unix socket, whose folder is 0700; Redis: ``requirepass``), which reaches the server
through no command line (they are world-readable in ``/proc``), and is kept in the URL handed to
the run and in the record, a 0600 file. As root, both servers run as an unprivileged user
(``SUITEKIT_SERVER_USER``, default ``nobody``): PostgreSQL refuses root, and a server open to
the network has no business running as root.
"""

from __future__ import annotations

import base64
import contextlib
import glob
import hashlib
import hmac
import json
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
from typing import Final, Literal

from suitekit._files import write_text_atomic
from suitekit._signals import HELD, signals_held
from suitekit.errors import ServiceError
from suitekit.services._endpoints import PostgresServer, RedisServer
from suitekit.services._state import (
    create_private_file,
    data_root,
    is_private_folder,
    private_folder,
    read_private_file,
    state_root,
)

__all__ = [
    "ServerRecord",
    "Throwaway",
    "find_postgres_bindir",
    "find_redis_server",
    "records",
    "start_postgres",
    "start_redis",
    "state_root",
]

ENV_PG_BINDIR: Final = "SUITEKIT_POSTGRES_BINDIR"
ENV_SERVER_USER: Final = "SUITEKIT_SERVER_USER"
ENV_PG_USER: Final = "SUITEKIT_POSTGRES_USER"  # the old name of SUITEKIT_SERVER_USER, still read
ENV_REDIS_SERVER: Final = "SUITEKIT_REDIS_SERVER"
_PASSWORD_BYTES: Final = 24  # 192 random bits, hex: nothing to quote in a URL or a config file
_SCRAM_ITERATIONS: Final = 4096  # PostgreSQL's own default
_START_TIMEOUT: Final = 30.0
_STOP_TIMEOUT: Final = 10.0
_POLL_SECONDS: Final = 0.01  # a start or a stop takes tens of milliseconds: look often
_INITDB_ARGS: Final = (
    "-U",
    "postgres",
    "-A",
    "scram-sha-256",
    "-E",
    "UTF8",
    "--no-locale",
    "--no-sync",
    "--no-instructions",
)
_PG_SETTINGS: Final = (
    "listen_addresses=127.0.0.1",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=400",
    "shared_buffers=32MB",
    "max_wal_size=1GB",
    "log_min_messages=warning",
    "password_encryption=scram-sha-256",
    # Dynamic shared memory as files in the data folder, not /dev/shm/PostgreSQL.<n> segments:
    # a server that is killed (SIGKILL, out of memory) leaves its segments behind, and they go
    # now with its folder.
    "dynamic_shared_memory_type=mmap",
)
# Read from a file of the run's, not from the cluster: the cluster is a copy, and the server's
# own user could have written in it; this file it can read, not change.
_PG_HBA: Final = """\
# suitekit: a password (SCRAM-SHA-256) for every connection, over TCP and the Unix socket
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
"""
_SYSTEM_PG_DIRS: Final = (
    "/usr/lib/postgresql/*/bin",
    "/usr/local/pgsql/bin",
    "/usr/pgsql-*/bin",
    "/opt/homebrew/opt/postgresql*/bin",
    "/usr/local/opt/postgresql*/bin",
)

Kind = Literal["postgres", "redis"]


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerRecord:
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

    kind: Kind
    url: str
    owner_pid: int
    server_pid: int
    container: str
    data_dir: str
    path: Path

    def to_json(self) -> str:
        """The record as written to its file."""
        return json.dumps(
            {
                "kind": self.kind,
                "url": self.url,
                "owner_pid": self.owner_pid,
                "server_pid": self.server_pid,
                "container": self.container,
                "data_dir": self.data_dir,
            }
        )

    @classmethod
    def from_file(cls, path: Path) -> ServerRecord | None:
        """Read a record; ``None`` if it is unreadable (it is then left alone).

        Only a regular file of this user is read: a record names a process to signal and a
        folder to delete, so a link, or a file someone else could have written, is not one.
        """
        text = read_private_file(path)
        if text is None:
            return None
        try:
            data = json.loads(text)
            return cls(
                kind=data["kind"],
                url=str(data["url"]),
                owner_pid=int(data["owner_pid"]),
                server_pid=int(data["server_pid"]),
                container=str(data.get("container", "")),
                data_dir=str(data["data_dir"]),
                path=path,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


def records() -> list[ServerRecord]:
    """Every readable server record this user wrote (regular files of this user only)."""
    found = [ServerRecord.from_file(path) for path in sorted(_records_folder().glob("*.json"))]
    return [record for record in found if record is not None]


def _records_folder() -> Path:
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
        # PostgreSQL: SIGINT is its fast shutdown; Redis stops on SIGTERM without saving.
        first = signal.SIGINT if record.kind == "postgres" else signal.SIGTERM
        for signum in (first, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(record.server_pid, signum)
            deadline = time.monotonic() + _STOP_TIMEOUT
            while time.monotonic() < deadline:
                if process is not None and process.poll() is not None:
                    break
                if process is None and not pid_alive(record.server_pid):
                    break
                time.sleep(_POLL_SECONDS)
            else:
                continue
            break
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=_STOP_TIMEOUT)
    if record.data_dir and _owned_data(record):
        shutil.rmtree(record.data_dir, ignore_errors=True)
    record.path.unlink(missing_ok=True)


def find_postgres_bindir(environ: Mapping[str, str]) -> Path | None:
    """A folder holding ``initdb`` and ``postgres``, or ``None``.

    Looked for in ``SUITEKIT_POSTGRES_BINDIR`` when set (empty means nowhere), else beside
    ``initdb`` on PATH, else in ``pg_config --bindir``, else in the usual system folders.
    """
    if ENV_PG_BINDIR in environ:
        given = environ[ENV_PG_BINDIR]
        return Path(given) if given and _has_pg(Path(given)) else None
    candidates: list[Path] = []
    initdb = shutil.which("initdb", path=environ.get("PATH"))
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    pg_config = shutil.which("pg_config", path=environ.get("PATH"))
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))
    for pattern in _SYSTEM_PG_DIRS:
        # Absolute patterns with wildcards in the middle: Path.glob cannot take them.
        candidates += [Path(p) for p in sorted(glob.glob(pattern), reverse=True)]  # noqa: PTH207
    return next((folder for folder in candidates if _has_pg(folder)), None)


def _has_pg(folder: Path) -> bool:
    return (folder / "initdb").is_file() and (folder / "postgres").is_file()


def find_redis_server(environ: Mapping[str, str]) -> Path | None:
    """``redis-server``: ``SUITEKIT_REDIS_SERVER`` if set (empty means none), else on PATH."""
    if ENV_REDIS_SERVER in environ:
        given = environ[ENV_REDIS_SERVER]
        return Path(given) if given and Path(given).is_file() else None
    found = shutil.which("redis-server", path=environ.get("PATH"))
    return Path(found) if found else None


def _server_user(environ: Mapping[str, str]) -> pwd.struct_passwd | None:
    """The user servers run as when suitekit runs as root; ``None`` when it does not."""
    if os.geteuid() != 0:
        return None
    variable = ENV_SERVER_USER if environ.get(ENV_SERVER_USER) else ENV_PG_USER
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


def _record(
    kind: Kind, url: str, server_pid: int, data_dir: str, container: str = ""
) -> ServerRecord:
    record = ServerRecord(
        kind=kind,
        url=url,
        owner_pid=os.getpid(),
        server_pid=server_pid,
        container=container,
        data_dir=data_dir,
        # A random name, so a record never replaces another; the folder is this user's alone.
        path=_records_folder() / f"{kind}-{secrets.token_hex(8)}.json",
    )
    # 0600: it holds the server's password.
    write_text_atomic(record.path, record.to_json(), failure=ServiceError, mode=0o600)
    return record


def _run(
    argv: list[str], *, user: pwd.struct_passwd | None, what: str, stdin: str | None = None
) -> None:
    result = subprocess.run(  # type: ignore[call-overload]
        argv,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        **_ids(user),
    )
    if result.returncode != 0:
        message = f"{what} failed ({' '.join(argv)}):\n{result.stdout}{result.stderr}"
        raise ServiceError(message)


def _ids(user: pwd.struct_passwd | None) -> dict[str, object]:
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


def _hand_over(data_dir: Path, owned: tuple[Path, ...], user: pwd.struct_passwd | None) -> None:
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


def _scram_verifier(password: str, salt: bytes, iterations: int = _SCRAM_ITERATIONS) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802, RFC 7677).

    Given to ``ALTER ROLE ... PASSWORD`` it sets the password without the server ever seeing
    it: ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>``, base64, where
    ``SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations)``,
    ``StoredKey = SHA-256(HMAC(SaltedPassword, "Client Key"))`` and
    ``ServerKey = HMAC(SaltedPassword, "Server Key")``. (PostgreSQL normalises passwords with
    SASLprep first; the random ASCII passwords suitekit makes are their own normal form.)
    """
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _set_password(
    bindir: Path, pgdata: Path, password: str, user: pwd.struct_passwd | None
) -> None:
    """Give the copied cluster's ``postgres`` role this server's own password.

    Done in single-user mode, before the server listens to anyone: a copy of the kept cluster
    carries the password of the server it was first made for. Single-user mode costs about
    0.02 s (of a 0.16 s start here), and nothing ever listens with the old password; the other
    safe order (listen on the 0700 socket folder only, change the password, restart on TCP)
    costs a second start, 0.05 s. Only the SCRAM verifier goes to the server, on its standard
    input (a pipe, which other users cannot read).
    """
    verifier = _scram_verifier(password, secrets.token_bytes(16))
    argv = [str(bindir / "postgres"), "--single", "-D", str(pgdata)]
    # The least shared memory there can be: a third of this step's time goes to setting it up.
    quick = (
        "shared_buffers=128kB",
        "max_connections=5",
        "log_min_messages=warning",
        "dynamic_shared_memory_type=mmap",
    )
    for setting in ("fsync=off", "full_page_writes=off", *quick):
        argv += ["-c", setting]
    _run(
        [*argv, "postgres"],
        user=user,
        what="setting the throwaway PostgreSQL server's password",
        stdin=f"ALTER ROLE postgres PASSWORD '{verifier}'\n",
    )


def _ignore(_: Throwaway) -> None:
    """The default ``on_start``: nobody else needs to know of the server yet."""


def _own(
    kind: Kind,
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
        record = _record(kind, url, process.pid, str(data_dir))
    except BaseException:
        process.kill()
        process.wait()
        raise
    throwaway = Throwaway(record=record, process=process)
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


def _answering(throwaway: Throwaway, wait: Callable[[], None]) -> Throwaway:
    """The server once ``wait`` saw it answer; stopped (record and folder gone) if it does not."""
    try:
        wait()
    except BaseException:
        throwaway.stop()
        raise
    return throwaway


def start_postgres(
    bindir: Path, environ: Mapping[str, str], *, on_start: Callable[[Throwaway], None] = _ignore
) -> Throwaway:
    """Start initdb + postgres on a free port, data on the RAM disk; wait until it answers.

    The server's folder holds ``data`` (the cluster) and ``socket`` (its Unix socket, mode
    0700), both the server user's, and, the run's own, ``server.log`` and ``pg_hba.conf``.

    ``on_start`` is given the server as soon as it runs, before it answers: the caller that
    stops it then owns it even when the wait for it is interrupted.

    Raises:
        ServiceError: The server could not be created or did not come up.
    """
    user = _server_user(environ)
    _records_folder()  # a state folder that is refused stops the start before anything runs
    password = secrets.token_hex(_PASSWORD_BYTES)
    with _new_server_folder("pg-") as (data_dir, log):
        pgdata, sockets, hba = data_dir / "data", data_dir / "socket", data_dir / "pg_hba.conf"
        sockets.mkdir(mode=0o700)
        create_private_file(hba, _PG_HBA.encode())
        hba.chmod(0o644)  # the server's user reads it; the folder is root's
        cache = _cluster_cache(bindir, user)
        if cache is not None and _copy_cluster(cache, pgdata):
            _hand_over(data_dir, (pgdata, sockets), user)
            _set_password(bindir, pgdata, password, user)
        else:
            pgdata.mkdir(mode=0o700)
            pwfile = data_dir / "pwfile"
            create_private_file(pwfile, password.encode())
            _hand_over(data_dir, (pgdata, sockets, pwfile), user)
            try:
                initdb = [str(bindir / "initdb"), "-D", str(pgdata), f"--pwfile={pwfile}"]
                _run([*initdb, *_INITDB_ARGS], user=user, what="initdb")
            finally:
                pwfile.unlink()
            if cache is not None:
                _keep_cluster(pgdata, cache)
        port = free_port()
        argv = [str(bindir / "postgres"), "-D", str(pgdata), "-p", str(port), "-k", str(sockets)]
        for setting in (*_PG_SETTINGS, f"hba_file={hba}"):
            argv += ["-c", setting]
        server = PostgresServer(host="127.0.0.1", port=port, user="postgres", password=password)
        with signals_held(*HELD):  # from the spawn until the record and the owner know of it
            process = subprocess.Popen(  # type: ignore[call-overload]
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # not stopped by a Ctrl-C meant for the run; we stop it
                **_ids(user),
            )
            throwaway = _own("postgres", server.url(), process, data_dir, on_start)
    return _answering(
        throwaway, lambda: _wait_for_postgres(server, process, data_dir / "server.log")
    )


def _cluster_cache(bindir: Path, user: pwd.struct_passwd | None) -> Path | None:
    """Where a new cluster of these server binaries is kept for this user, or ``None``.

    ``initdb`` takes most of a throwaway server's start (0.6 s of about 0.7 here); a copy of the
    cluster it made takes 0.06 s. The copy is kept in the user's own cache folder
    (``$XDG_CACHE_HOME``, else ``~/.cache``), under a name that changes with the binaries (their
    path, size and modification time), the ``initdb`` options and the user the server runs as.
    """
    configured = os.environ.get("XDG_CACHE_HOME")
    try:
        base = Path(configured) if configured else Path.home() / ".cache"
    except (RuntimeError, KeyError):  # no home folder to speak of
        return None
    if not base.is_absolute():
        return None
    parts = [str(bindir.resolve()), *_INITDB_ARGS, str(user.pw_uid if user else os.geteuid())]
    try:
        for name in ("initdb", "postgres"):
            found = (bindir / name).stat()
            parts += [str(found.st_size), str(found.st_mtime_ns)]
    except OSError:
        return None
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    return base / "suitekit" / "postgres-clusters" / key


def _copy_cluster(cache: Path, pgdata: Path) -> bool:
    """Copy the kept cluster to ``pgdata``; whether there was one to copy.

    Nothing is copied unless the cache folder and the folders holding it are this user's and
    private: a cluster another user could have changed since it was kept is never used. (As
    root, ``initdb`` made it as the server's user, whose other processes could have changed it
    while it was made: the security model in docs/services.md says why that user should be a
    dedicated one.)
    """
    if not all(is_private_folder(folder) for folder in (cache.parent, cache, cache / "data")):
        return False
    try:
        shutil.copytree(cache / "data", pgdata, symlinks=True)
    except OSError:
        shutil.rmtree(pgdata, ignore_errors=True)
        return False
    return True


def _keep_cluster(pgdata: Path, cache: Path) -> None:
    """Keep a copy of a new, never started cluster at ``cache`` (best effort).

    The copy is made under a temporary name and renamed into place, so that a run starting at
    the same time sees the whole cluster or none; clusters of other binaries are removed.
    """
    with contextlib.suppress(OSError):
        cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not is_private_folder(cache.parent):
            return
        staging = Path(tempfile.mkdtemp(prefix=".new-", dir=cache.parent))
        try:
            shutil.copytree(pgdata, staging / "data", symlinks=True)
            if cache.is_symlink():
                cache.unlink()
            elif cache.exists() and not is_private_folder(cache):  # left unused: replaced
                shutil.rmtree(cache)
            staging.rename(cache)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            return
        for other in cache.parent.iterdir():
            if other != cache and not other.name.startswith(".new-"):
                shutil.rmtree(other, ignore_errors=True)


def _wait_for_postgres(server: PostgresServer, process: subprocess.Popen[bytes], log: Path) -> None:
    import psycopg  # noqa: PLC0415 - only where PostgreSQL is used

    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        if process.poll() is not None:
            message = f"the throwaway PostgreSQL server exited at start:\n{_tail(log)}"
            raise ServiceError(message)
        try:
            with psycopg.connect(**server.connect_kwargs()) as connection:  # type: ignore[arg-type]
                connection.execute("SELECT 1")
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                message = f"the throwaway PostgreSQL server did not answer:\n{_tail(log)}"
                raise ServiceError(message) from None
            time.sleep(_POLL_SECONDS)
        else:
            return


def _redis_quote(value: str) -> str:
    """A Redis configuration value in double quotes (its syntax: backslash escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def start_redis(
    executable: Path, environ: Mapping[str, str], *, on_start: Callable[[Throwaway], None] = _ignore
) -> Throwaway:
    """redis-server on a free port with no persistence and a password; waits until it answers.

    Its configuration, password included, is given on its standard input (``redis-server -``),
    not on its command line, which every user can read in ``/proc``.

    Raises:
        ServiceError: The server did not come up.
    """
    user = _server_user(environ)
    _records_folder()  # a state folder that is refused stops the start before anything runs
    password = secrets.token_hex(_PASSWORD_BYTES)
    with _new_server_folder("redis-") as (data_dir, log):
        work = data_dir / "data"
        work.mkdir(mode=0o700)
        _hand_over(data_dir, (work,), user)
        port = free_port()
        config = {
            "port": str(port),
            "bind": "127.0.0.1",
            "requirepass": password,
            "save": "",
            "appendonly": "no",
            "databases": "1024",
            "dir": str(work),
            "daemonize": "no",
        }
        text = "".join(f"{key} {_redis_quote(value)}\n" for key, value in config.items())
        server = RedisServer(host="127.0.0.1", port=port, password=password)
        with signals_held(*HELD):  # from the spawn until the record and the owner know of it
            process = subprocess.Popen(  # type: ignore[call-overload]
                [str(executable), "-"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **_ids(user),
            )
            try:
                # A few hundred bytes: the pipe takes them at once; Redis starts at their end.
                process.stdin.write(text.encode())
                process.stdin.close()
            except BaseException:
                process.kill()
                process.wait()
                raise
            throwaway = _own("redis", server.url(), process, data_dir, on_start)
    return _answering(throwaway, lambda: _wait_for_redis(server, process, data_dir / "server.log"))


def _wait_for_redis(server: RedisServer, process: subprocess.Popen[bytes], log: Path) -> None:
    import redis  # noqa: PLC0415 - only where Redis is used

    from suitekit.services._redis import client as redis_client  # noqa: PLC0415 - with redis

    deadline = time.monotonic() + _START_TIMEOUT
    client = redis_client(server, timeout=1)  # one try each: this loop polls
    try:
        while True:
            if process.poll() is not None:
                message = f"the throwaway Redis server exited at start:\n{_tail(log)}"
                raise ServiceError(message)
            try:
                client.ping()
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    message = "the throwaway Redis server did not answer PING"
                    raise ServiceError(message) from None
                time.sleep(0.02)
            else:
                return
    finally:
        client.close()


def docker_available(environ: Mapping[str, str]) -> bool:
    """Whether a Docker daemon answers (``SUITEKIT_DOCKER=0`` says not to use one)."""
    if environ.get("SUITEKIT_DOCKER", "1") == "0":
        return False
    docker = shutil.which("docker", path=environ.get("PATH"))
    if docker is None:
        return False
    try:
        result = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def start_container(kind: Kind, *, on_start: Callable[[Throwaway], None] = _ignore) -> Throwaway:
    """A PostgreSQL or Redis container with its data on tmpfs, published on 127.0.0.1.

    Each gets a random password, given in the ``docker`` command's environment (``-e NAME``
    with no value copies it from there), not on its command line. Docker keeps it in the
    container's configuration, which only who may use Docker (root's equals) can inspect. The
    Redis password reaches ``redis-server`` on its standard input, through a shell builtin, so
    it appears in no process's command line inside the container either.

    Raises:
        ServiceError: The container did not start.
    """
    _records_folder()  # a state folder that is refused stops the start before anything runs
    password = secrets.token_hex(_PASSWORD_BYTES)
    if kind == "postgres":
        variable = "POSTGRES_PASSWORD"
        argv = [
            "docker", "run", "-d", "--rm", "-p", "127.0.0.1::5432",
            "-e", variable, "--tmpfs", "/var/lib/postgresql/data",
            "postgres:16-alpine", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=400",
            "-c", "password_encryption=scram-sha-256",
        ]  # fmt: skip
        inner = "5432"
    else:
        variable = "SUITEKIT_REDIS_PASSWORD"
        script = (
            'printf "requirepass %s\\n" "$SUITEKIT_REDIS_PASSWORD" | '
            'redis-server - --save "" --appendonly no --databases 1024'
        )
        argv = [
            "docker", "run", "-d", "--rm", "-p", "127.0.0.1::6379", "-e", variable,
            "--user", "redis", "--entrypoint", "sh", "redis:7-alpine", "-c", script,
        ]  # fmt: skip
        inner = "6379"
    started = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, variable: password},
    )
    if started.returncode != 0:
        message = f"docker could not start a {kind} container: {started.stderr.strip()}"
        raise ServiceError(message)
    container = started.stdout.strip()
    port_out = subprocess.run(
        ["docker", "port", container, inner], capture_output=True, text=True, check=False
    )
    port = int(port_out.stdout.strip().rsplit(":", 1)[-1] or 0)
    url = (
        PostgresServer(host="127.0.0.1", port=port, password=password).url()
        if kind == "postgres"
        else RedisServer(host="127.0.0.1", port=port, password=password).url()
    )
    with signals_held(*HELD):
        try:
            record = _record(kind, url, 0, "", container=container)
        except BaseException:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
            raise
        throwaway = Throwaway(record=record, process=None)
        on_start(throwaway)
    return throwaway


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
