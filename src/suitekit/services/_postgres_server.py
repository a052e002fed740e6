"""A throwaway PostgreSQL server from local binaries: a kept cluster copied, or initdb.

The server is tuned for tests (no fsync, no durability) and its folder, process and record are
handled as every throwaway server's (:mod:`suitekit.services._servers`). Its password is
SCRAM-SHA-256 for TCP and for its Unix socket, whose folder is 0700.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import glob
import hashlib
import hmac
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from suitekit._handoff import ENV_POSTGRES_BINDIR
from suitekit.errors import ServiceError
from suitekit.services import _postgres, _servers
from suitekit.services._backend_base import LocalServer
from suitekit.services._endpoints import PostgresServer
from suitekit.services._postgres_backend import POSTGRES
from suitekit.services._servers import Throwaway, ids
from suitekit.services._state import create_private_file, is_private_folder

__all__ = ["LOCAL", "find_postgres_bindir", "start_postgres"]

_SCRAM_ITERATIONS: Final = 4096  # PostgreSQL's own default
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


def find_postgres_bindir(environ: Mapping[str, str]) -> Path | None:
    """A folder holding ``initdb`` and ``postgres``, or ``None``.

    Looked for in ``SUITEKIT_POSTGRES_BINDIR`` when set (empty means nowhere), else beside
    ``initdb`` on PATH, else in ``pg_config --bindir``, else in the usual system folders.
    """
    if ENV_POSTGRES_BINDIR in environ:
        given = environ[ENV_POSTGRES_BINDIR]
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
        **ids(user),
    )
    if result.returncode != 0:
        message = f"{what} failed ({' '.join(argv)}):\n{result.stdout}{result.stderr}"
        raise ServiceError(message)


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


def start_postgres(
    bindir: Path,
    environ: Mapping[str, str],
    *,
    on_start: Callable[[Throwaway], None] = _servers.ignore,
) -> Throwaway:
    """Start initdb + postgres on a free port, data on the RAM disk; wait until it answers.

    The server's folder holds ``data`` (the cluster) and ``socket`` (its Unix socket, mode
    0700), both the server user's, and, the run's own, ``server.log`` and ``pg_hba.conf``.

    ``on_start`` is given the server as soon as it runs, before it answers: the caller that
    stops it then owns it even when the wait for it is interrupted.

    Raises:
        ServiceError: The server could not be created or did not come up.
    """
    with _servers.new_server(environ, "pg-") as new:
        user, password, data_dir = new.user, new.password, new.data_dir
        pgdata, sockets, hba = data_dir / "data", data_dir / "socket", data_dir / "pg_hba.conf"
        sockets.mkdir(mode=0o700)
        create_private_file(hba, _PG_HBA.encode())
        hba.chmod(0o644)  # the server's user reads it; the folder is root's
        cache = _cluster_cache(bindir, user)
        if cache is not None and _copy_cluster(cache, pgdata):
            _servers.hand_over(data_dir, (pgdata, sockets), user)
            _set_password(bindir, pgdata, password, user)
        else:
            pgdata.mkdir(mode=0o700)
            pwfile = data_dir / "pwfile"
            create_private_file(pwfile, password.encode())
            _servers.hand_over(data_dir, (pgdata, sockets, pwfile), user)
            try:
                initdb = [str(bindir / "initdb"), "-D", str(pgdata), f"--pwfile={pwfile}"]
                _run([*initdb, *_INITDB_ARGS], user=user, what="initdb")
            finally:
                pwfile.unlink()
            if cache is not None:
                _keep_cluster(pgdata, cache)
        port = _servers.free_port()
        argv = [str(bindir / "postgres"), "-D", str(pgdata), "-p", str(port), "-k", str(sockets)]
        for setting in (*_PG_SETTINGS, f"hba_file={hba}"):
            argv += ["-c", setting]
        server = PostgresServer(host="127.0.0.1", port=port, user="postgres", password=password)
        launched = _servers.launch(
            argv, new, kind=POSTGRES.kind.name, url=server.url(), on_start=on_start
        )
    return launched.answering(functools.partial(_postgres.wait_started, server, pgdata=pgdata))


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


LOCAL: Final = LocalServer(find=find_postgres_bindir, start=start_postgres)
"""How the backend finds and starts this server (its ``local``)."""
