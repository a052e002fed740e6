"""A throwaway MariaDB server from local binaries: ``mariadb-install-db``, then ``mariadbd``.

The server is tuned for tests (no flush at commit, no binary log, no doublewrite) and its
folder, process and record are handled as every throwaway server's
(:mod:`suitekit.services._servers`): data on the RAM disk, a free port of 127.0.0.1 only, its
Unix socket in a folder of its own (mode 0700), run as the unprivileged server user when
suitekit runs as root (``mariadbd`` refuses root without ``--user``).

Only ``root`` remains of the accounts ``mariadb-install-db`` makes, as ``root@localhost`` (the
socket) and ``root@127.0.0.1``, both with the server's random password. The password is set by
an ``--init-file`` that the server runs before it accepts its first connection; the file holds
its ``mysql_native_password`` hash, not the password, is readable by the server's user alone and
is deleted once the server answers.
"""

from __future__ import annotations

import hashlib
import pwd
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from suitekit._handoff import ENV_MARIADB_BINDIR
from suitekit._kinds import MYSQL_SETTINGS
from suitekit.errors import ServiceError
from suitekit.services import _mysql, _servers
from suitekit.services._backend_base import LocalServer
from suitekit.services._endpoints import MySQLServer
from suitekit.services._mysql_backend import MYSQL
from suitekit.services._servers import Throwaway, ids
from suitekit.services._state import create_private_file

__all__ = ["LOCAL", "find_mariadbd", "install_db_of", "start_mariadb"]

_SYSTEM_DIRS: Final = (
    "/usr/sbin",
    "/usr/libexec",
    "/usr/local/sbin",
    "/usr/local/bin",
    "/opt/homebrew/opt/mariadb/bin",
    "/usr/local/opt/mariadb/bin",
)
_INSTALL_ARGS: Final = (
    "--auth-root-authentication-method=normal",
    "--skip-test-db",
    "--skip-name-resolve",
)
_SETTINGS: Final = (
    "--skip-name-resolve",
    "--skip-log-bin",
    "--innodb-doublewrite=0",
    "--innodb-buffer-pool-size=64M",
    "--max-connections=400",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
    *(f"--{name.replace('_', '-')}={value}" for name, value in MYSQL_SETTINGS),
)


def find_mariadbd(environ: Mapping[str, str]) -> Path | None:
    """``mariadbd``, when ``mariadb-install-db`` is found with it; else ``None``.

    Looked for in ``SUITEKIT_MARIADB_BINDIR`` when set (empty means nowhere), else on PATH,
    else in the usual system folders (Debian's ``/usr/sbin``, Fedora's ``/usr/libexec``,
    Homebrew's). ``mariadb-install-db`` is looked for beside it, in ``../bin``, then on PATH.
    """
    if ENV_MARIADB_BINDIR in environ:
        given = environ[ENV_MARIADB_BINDIR]
        if not given:
            return None
        server = Path(given) / "mariadbd"
        return server if server.is_file() and install_db_of(server, environ) else None
    candidates: list[Path] = []
    found = shutil.which("mariadbd", path=environ.get("PATH"))
    if found:
        candidates.append(Path(found))
    candidates += [Path(folder) / "mariadbd" for folder in _SYSTEM_DIRS]
    return next(
        (path for path in candidates if path.is_file() and install_db_of(path, environ)), None
    )


def install_db_of(mariadbd: Path, environ: Mapping[str, str]) -> Path | None:
    """The ``mariadb-install-db`` that goes with ``mariadbd``, or ``None``."""
    folder = mariadbd.parent
    for candidate in (folder / "mariadb-install-db", folder.parent / "bin" / "mariadb-install-db"):
        if candidate.is_file():
            return candidate
    found = shutil.which("mariadb-install-db", path=environ.get("PATH"))
    return Path(found) if found else None


def _native_hash(password: str) -> str:
    """What MariaDB stores for a ``mysql_native_password``: ``*`` + SHA1(SHA1(password))."""
    digest = hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest()  # noqa: S324
    return "*" + digest.upper()


def _init_sql(password: str) -> str:
    """The statements the server runs at its start, before it takes any connection."""
    verifier = _native_hash(password)
    # Only root, on the socket and on 127.0.0.1: mariadb-install-db also makes root@::1 and
    # root@<hostname>, with no password.
    keep = "User = 'root' AND Host IN ('localhost', '127.0.0.1')"
    statements = [
        f"DELETE FROM mysql.global_priv WHERE User <> 'mariadb.sys' AND NOT ({keep})",  # noqa: S608
        "FLUSH PRIVILEGES",
        # The verifier is hex digits of our own.
        *(
            f"ALTER USER 'root'@'{host}' IDENTIFIED BY PASSWORD '{verifier}'"
            for host in ("localhost", "127.0.0.1")
        ),
    ]
    return "".join(f"{statement};\n" for statement in statements)


def _install(install_db: Path, datadir: Path, user: pwd.struct_passwd | None) -> None:
    """``mariadb-install-db`` into ``datadir``, as the server's user (0.6 s here)."""
    argv = [str(install_db), "--no-defaults", f"--datadir={datadir}", *_INSTALL_ARGS]
    result = subprocess.run(  # type: ignore[call-overload]
        argv,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd="/",
        **ids(user),
    )
    if result.returncode != 0:
        message = f"mariadb-install-db failed ({' '.join(argv)}):\n{result.stdout}{result.stderr}"
        raise ServiceError(message)


def start_mariadb(
    mariadbd: Path,
    environ: Mapping[str, str],
    *,
    on_start: Callable[[Throwaway], None] = _servers.ignore,
) -> Throwaway:
    """mariadb-install-db + mariadbd on a free port, data on the RAM disk; wait until it answers.

    The server's folder holds ``data`` (the databases) and ``run`` (its Unix socket, pid file
    and temporary files, mode 0700), both the server user's, and, the run's own,
    ``server.log``.

    ``on_start`` is given the server as soon as it runs, before it answers: the caller that
    stops it then owns it even when the wait for it is interrupted.

    Raises:
        ServiceError: The server could not be created or did not come up.
    """
    install_db = install_db_of(mariadbd, environ)
    if install_db is None:
        message = f"mariadb-install-db was not found for {mariadbd}"
        raise ServiceError(message)
    with _servers.new_server(environ, "mariadb-") as new:
        user, password, data_dir = new.user, new.password, new.data_dir
        datadir, run = data_dir / "data", data_dir / "run"
        datadir.mkdir(mode=0o700)
        run.mkdir(mode=0o700)
        init = run / "init.sql"
        create_private_file(init, _init_sql(password).encode())
        _servers.hand_over(data_dir, (datadir, run), user)
        _install(install_db, datadir, user)
        port = _servers.free_port()
        argv = [
            str(mariadbd),
            "--no-defaults",  # first: no my.cnf of the machine's or the user's
            f"--datadir={datadir}",
            f"--socket={run / 'mariadbd.sock'}",
            f"--pid-file={run / 'mariadbd.pid'}",
            f"--tmpdir={run}",
            f"--secure-file-priv={run}",
            "--bind-address=127.0.0.1",
            f"--port={port}",
            f"--init-file={init}",
            *_SETTINGS,
        ]
        server = MySQLServer(host="127.0.0.1", port=port, password=password)
        launched = _servers.launch(
            argv, new, kind=MYSQL.kind.name, url=server.url("mysql"), on_start=on_start
        )

    def wait(process: subprocess.Popen[bytes], log: Path, *, timeout: float) -> None:
        _mysql.wait_started(server, process, log, timeout=timeout)
        init.unlink(missing_ok=True)  # the password's hash: no longer needed

    return launched.answering(wait)


LOCAL: Final = LocalServer(find=find_mariadbd, start=start_mariadb)
"""How the backend finds and starts this server (its ``local``)."""
