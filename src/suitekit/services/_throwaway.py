"""Throwaway PostgreSQL and Redis servers, started from local binaries (or Docker) for one run.

A server lives in a fresh folder on a RAM disk when there is one (``/dev/shm``), is tuned for
tests (no fsync, no durability), listens on a free port of 127.0.0.1 only, and is recorded in a
small JSON file under suitekit's state folder together with the pid of the process that owns it,
so that ``suitekit clean`` can stop what a killed run left. PostgreSQL refuses to run as root:
as root, it runs as the unprivileged user ``nobody`` (``SUITEKIT_POSTGRES_USER`` names another).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from suitekit._files import write_text_atomic
from suitekit.errors import ServiceError
from suitekit.services._endpoints import PostgresServer, RedisServer

__all__ = [
    "ServerRecord",
    "Throwaway",
    "find_postgres_bindir",
    "find_redis_server",
    "records",
    "shared_folder",
    "start_postgres",
    "start_redis",
    "state_root",
]

ENV_PG_BINDIR: Final = "SUITEKIT_POSTGRES_BINDIR"
ENV_PG_USER: Final = "SUITEKIT_POSTGRES_USER"
ENV_REDIS_SERVER: Final = "SUITEKIT_REDIS_SERVER"
_SHARED_MODE: Final = 0o1777  # everyone may write, only owners may delete: like /tmp
_START_TIMEOUT: Final = 30.0
_STOP_TIMEOUT: Final = 10.0
_POLL_SECONDS: Final = 0.01  # a start or a stop takes tens of milliseconds: look often
_INITDB_ARGS: Final = (
    "-U",
    "postgres",
    "-A",
    "trust",
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
)
_SYSTEM_PG_DIRS: Final = (
    "/usr/lib/postgresql/*/bin",
    "/usr/local/pgsql/bin",
    "/usr/pgsql-*/bin",
    "/opt/homebrew/opt/postgresql*/bin",
    "/usr/local/opt/postgresql*/bin",
)

Kind = Literal["postgres", "redis"]


def state_root() -> Path:
    """The folder for run state: server records, per-worker folders, port locks."""
    return shared_folder(Path(tempfile.gettempdir()) / "suitekit")


def shared_folder(path: Path) -> Path:
    """``path`` as a folder every user of the machine can use, like /tmp (mode 1777).

    mkdir's mode is cut by the umask, so the creator sets it again; a folder another user
    made is taken as it is.
    """
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid() and (path.stat().st_mode & 0o7777) != _SHARED_MODE:
        path.chmod(_SHARED_MODE)
    return path


def _data_root() -> Path:
    """Where servers keep their data: on the RAM disk when there is one."""
    shm = Path("/dev/shm")  # noqa: S108 - the RAM disk is the point
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())
    # Like /tmp: the unprivileged server user must reach its folder.
    return shared_folder(base / "suitekit-servers")


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
        """Read a record; ``None`` if it is unreadable (it is then left alone)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
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
    """Every readable server record this user wrote.

    The folder is shared by every user of the machine, so a record another user could have
    written is not trusted: it names a process to signal and a folder to delete.
    """
    folder = shared_folder(state_root() / "servers")
    found = [
        ServerRecord.from_file(path)
        for path in sorted(folder.glob("*.json"))
        if path.stat().st_uid == os.geteuid()
    ]
    return [record for record in found if record is not None]


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
        return Path(record.data_dir).resolve().parent == _data_root().resolve()
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
    """Stop the server a record describes, remove its data folder and the record."""
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


def _unprivileged(environ: Mapping[str, str]) -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    name = environ.get(ENV_PG_USER, "nobody")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        message = (
            f"PostgreSQL refuses to run as root, and the user {name!r} to run it as does not "
            f"exist; set {ENV_PG_USER} to an unprivileged user"
        )
        raise ServiceError(message) from None


def _record(
    kind: Kind, url: str, server_pid: int, data_dir: str, container: str = ""
) -> ServerRecord:
    folder = shared_folder(state_root() / "servers")
    fd, name = tempfile.mkstemp(prefix=f"{kind}-", suffix=".json", dir=folder)
    os.close(fd)
    record = ServerRecord(
        kind=kind,
        url=url,
        owner_pid=os.getpid(),
        server_pid=server_pid,
        container=container,
        data_dir=data_dir,
        path=Path(name),
    )
    write_text_atomic(record.path, record.to_json(), failure=ServiceError)
    return record


def _run(argv: list[str], *, user: pwd.struct_passwd | None, what: str) -> None:
    ids = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        **ids,  # type: ignore[call-overload]
    )
    if result.returncode != 0:
        message = f"{what} failed ({' '.join(argv)}):\n{result.stdout}{result.stderr}"
        raise ServiceError(message)


def start_postgres(bindir: Path, environ: Mapping[str, str]) -> Throwaway:
    """Start initdb + postgres on a free port, data on the RAM disk; wait until it answers.

    Raises:
        ServiceError: The server could not be created or did not come up.
    """
    user = _unprivileged(environ)
    data_dir = Path(tempfile.mkdtemp(prefix="pg-", dir=_data_root()))
    try:
        if user is not None:
            os.chown(data_dir, user.pw_uid, user.pw_gid)
        pgdata = data_dir / "data"
        cache = _cluster_cache(bindir, user)
        if cache is None or not _copy_cluster(cache, pgdata, user):
            _run(
                [str(bindir / "initdb"), "-D", str(pgdata), *_INITDB_ARGS], user=user, what="initdb"
            )
            if cache is not None:
                _keep_cluster(pgdata, cache)
        port = free_port()
        argv = [str(bindir / "postgres"), "-D", str(pgdata), "-p", str(port), "-k", str(data_dir)]
        for setting in _PG_SETTINGS:
            argv += ["-c", setting]
        ids = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
        log = (data_dir / "server.log").open("wb")
        if user is not None:
            os.chown(data_dir / "server.log", user.pw_uid, user.pw_gid)
        process = subprocess.Popen(  # type: ignore[call-overload]
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not stopped by a Ctrl-C meant for the run; we stop it
            **ids,
        )
        log.close()
    except BaseException:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise
    server = PostgresServer(host="127.0.0.1", port=port, user="postgres")
    record = _record("postgres", server.url(), process.pid, str(data_dir))
    throwaway = Throwaway(record=record, process=process)
    try:
        _wait_for_postgres(server, process, data_dir / "server.log")
    except BaseException:
        throwaway.stop()
        raise
    return throwaway


def _cluster_cache(bindir: Path, user: pwd.struct_passwd | None) -> Path | None:
    """Where a new cluster of these server binaries is kept for this user, or ``None``.

    ``initdb`` takes most of a throwaway server's start (0.6 s of about 0.7 here); a copy of the
    cluster it made takes 0.05 s. The copy is kept in the user's own cache folder
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


def _private(path: Path) -> bool:
    """A real folder (not a link) of this user that no other user may enter."""
    try:
        found = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(found.st_mode)
        and found.st_uid == os.geteuid()
        and not found.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    )


def _copy_cluster(cache: Path, pgdata: Path, user: pwd.struct_passwd | None) -> bool:
    """Copy the kept cluster to ``pgdata`` (owned by ``user``); whether there was one to copy.

    Nothing is copied unless the cache folder and the folders holding it are this user's and
    private: a cluster another user could have changed is never used.
    """
    if not all(_private(folder) for folder in (cache.parent, cache, cache / "data")):
        return False
    try:
        shutil.copytree(cache / "data", pgdata, symlinks=True)
        if user is not None:
            for folder, dirs, files in os.walk(pgdata):
                for name in (Path(folder), *(Path(folder, n) for n in (*dirs, *files))):
                    os.chown(name, user.pw_uid, user.pw_gid, follow_symlinks=False)
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
        if not _private(cache.parent):
            return
        staging = Path(tempfile.mkdtemp(prefix=".new-", dir=cache.parent))
        try:
            shutil.copytree(pgdata, staging / "data", symlinks=True)
            if cache.is_symlink():
                cache.unlink()
            elif cache.exists() and not _private(cache):  # left unused: replaced
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


def start_redis(executable: Path) -> Throwaway:
    """redis-server on a free port with no persistence; waits until it answers PING.

    Raises:
        ServiceError: The server did not come up.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="redis-", dir=_data_root()))
    port = free_port()
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [
            str(executable),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--databases",
            "1024",
            "--dir",
            str(data_dir),
            "--daemonize",
            "no",
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    server = RedisServer(host="127.0.0.1", port=port)
    record = _record("redis", server.url(), process.pid, str(data_dir))
    throwaway = Throwaway(record=record, process=process)
    try:
        _wait_for_redis(server, process, data_dir / "server.log")
    except BaseException:
        throwaway.stop()
        raise
    return throwaway


def _wait_for_redis(server: RedisServer, process: subprocess.Popen[bytes], log: Path) -> None:
    import redis  # noqa: PLC0415 - only where Redis is used

    deadline = time.monotonic() + _START_TIMEOUT
    client = redis.Redis(host=server.host, port=server.port, socket_connect_timeout=1)
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


def start_container(kind: Kind) -> Throwaway:
    """A PostgreSQL or Redis container with its data on tmpfs, published on 127.0.0.1.

    Raises:
        ServiceError: The container did not start.
    """
    if kind == "postgres":
        argv = [
            "docker", "run", "-d", "--rm", "-p", "127.0.0.1::5432",
            "-e", "POSTGRES_HOST_AUTH_METHOD=trust", "--tmpfs", "/var/lib/postgresql/data",
            "postgres:16-alpine", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=400",
        ]  # fmt: skip
        inner = "5432"
    else:
        argv = ["docker", "run", "-d", "--rm", "-p", "127.0.0.1::6379", "redis:7-alpine",
                "--save", "", "--appendonly", "no", "--databases", "1024"]  # fmt: skip
        inner = "6379"
    started = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    if started.returncode != 0:
        message = f"docker could not start a {kind} container: {started.stderr.strip()}"
        raise ServiceError(message)
    container = started.stdout.strip()
    port_out = subprocess.run(
        ["docker", "port", container, inner], capture_output=True, text=True, check=False
    )
    port = int(port_out.stdout.strip().rsplit(":", 1)[-1] or 0)
    url = (
        PostgresServer(host="127.0.0.1", port=port).url()
        if kind == "postgres"
        else RedisServer(host="127.0.0.1", port=port).url()
    )
    record = _record(kind, url, 0, "", container=container)
    return Throwaway(record=record, process=None)


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
