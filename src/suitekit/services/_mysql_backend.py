"""MariaDB/MySQL as a service: a database per worker, copied from a template migrated once.

What it does as PostgreSQL does (name and build the template, a database per worker and per
check, the cleanup) is :class:`~suitekit.services._database_backend.DatabaseBackend`'s, with
:mod:`suitekit.services._mysql`'s databases; a throwaway server is
:mod:`suitekit.services._mysql_server`'s, loaded only when one is started.

Created with its comment in one statement, a database of suitekit's is never unmarked: the run's
end and ``suitekit clean`` find them by their mark alone, and one named like a run's but
without the comment is not suitekit's, and is left.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Final, final

from suitekit import _kinds
from suitekit._handoff import ENV_MYSQL_TEMPLATE
from suitekit.services import _mysql
from suitekit.services._backend_base import LocalServer
from suitekit.services._database_backend import DatabaseBackend
from suitekit.services._endpoints import MySQLServer

if TYPE_CHECKING:
    from suitekit.services._docker import ContainerSpec

__all__ = ["MYSQL", "MySQLBackend"]


@final
class MySQLBackend(DatabaseBackend[MySQLServer]):
    """MariaDB/MySQL: see :class:`suitekit.services._backend.Backend`."""

    kind = _kinds.MYSQL
    databases = _mysql
    parse = MySQLServer.from_url
    template_variable = ENV_MYSQL_TEMPLATE
    noun = "MariaDB database"
    install_hint = (
        "install MariaDB's server (Debian/Ubuntu: apt install mariadb-server; "
        "Fedora: dnf install mariadb-server; macOS: brew install mariadb)"
    )
    binaries_not_found = (
        "mariadbd and mariadb-install-db were not found "
        "(SUITEKIT_MARIADB_BINDIR, PATH, /usr/sbin, /usr/libexec)"
    )
    left_behind = "MariaDB database(s)"
    stop_signal = signal.SIGTERM  # mariadbd's normal shutdown

    def local(self) -> LocalServer:
        """:mod:`suitekit.services._mysql_server`'s, loaded now.

        It finds ``mariadbd`` (with ``mariadb-install-db`` beside it or in ``../bin``), and
        starts ``mariadb-install-db``, then ``mariadbd`` on a free port of 127.0.0.1.
        """
        from suitekit.services._mysql_server import LOCAL  # noqa: PLC0415

        return LOCAL

    def container(self) -> ContainerSpec:
        """``mariadb:11`` with its data on tmpfs, tuned as a throwaway server is."""
        from suitekit.services._docker import ContainerSpec  # noqa: PLC0415

        variable = "MARIADB_ROOT_PASSWORD"
        settings = [f"--{name.replace('_', '-')}={value}" for name, value in _kinds.MYSQL_SETTINGS]
        argv = (
            "docker", "run", "-d", "--rm", "-p", "127.0.0.1::3306", "-e", variable,
            "--tmpfs", "/var/lib/mysql", "mariadb:11", "--skip-log-bin", *settings,
            "--max-connections=400",
        )  # fmt: skip
        return ContainerSpec(argv=argv, password_variable=variable, port="3306")

    def local_url(self, port: int, password: str) -> str:
        """``mysql://root:<password>@127.0.0.1:<port>/mysql``."""
        server = MySQLServer(host="127.0.0.1", port=port, password=password)
        return server.url("mysql")


MYSQL: Final = MySQLBackend()
"""The MariaDB/MySQL backend, as registered in :data:`suitekit.services._backend.BACKENDS`."""
