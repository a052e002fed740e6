"""MariaDB/MySQL as a service: a database per worker, copied from a template migrated once.

The databases themselves are :mod:`suitekit.services._mysql`'s; a throwaway server is
:mod:`suitekit.services._mysql_server`'s, loaded only when one is started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final, final

from suitekit import _kinds, _naming
from suitekit._handoff import ENV_MYSQL_TEMPLATE
from suitekit._model import Check, Project, Suite
from suitekit._urls import redact
from suitekit.errors import ServiceError
from suitekit.services import _mysql
from suitekit.services._endpoints import MySQLServer

if TYPE_CHECKING:
    from suitekit._model import ServiceConfig
    from suitekit.services._docker import ContainerSpec
    from suitekit.services._resources import WorkerResources
    from suitekit.services._servers import Throwaway
    from suitekit.services._worker import Acquired

__all__ = ["MYSQL", "MySQLBackend"]


def _config(project: Project) -> ServiceConfig:
    return project.services[_kinds.MYSQL.name]


@final
class MySQLBackend:
    """MariaDB/MySQL: see :class:`suitekit.services._backend.Backend`."""

    kind = _kinds.MYSQL
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

    def check(self, url: str) -> None:
        """See :func:`suitekit.services._mysql.check`."""
        _mysql.check(url)

    def find_local(self, environ: Mapping[str, str]) -> Path | None:
        """``mariadbd`` (with ``mariadb-install-db`` beside it or in ``../bin``)."""
        from suitekit.services._mysql_server import find_mariadbd  # noqa: PLC0415

        return find_mariadbd(environ)

    def start_local(
        self, found: Path, environ: Mapping[str, str], *, on_start: Callable[[Throwaway], None]
    ) -> Throwaway:
        """``mariadb-install-db``, then ``mariadbd`` on a free port of 127.0.0.1."""
        from suitekit.services._mysql_server import start_mariadb  # noqa: PLC0415

        return start_mariadb(found, environ, on_start=on_start)

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

    def prepare_run(
        self,
        project: Project,
        suite: Suite,
        environ: Mapping[str, str],
        *,
        url: Callable[[], str],
        run_id: str,
        build: bool,
    ) -> dict[str, str]:
        """Name the run's template database and, with ``build``, build it (migrate once)."""
        from suitekit.services._postgres import template_key  # noqa: PLC0415 - pure, shared

        config = _config(project)
        server = MySQLServer.from_url(url())
        key = template_key(config, project.root)
        name = _naming.template_name(run_id, suite.name, key)
        env = {ENV_MYSQL_TEMPLATE: name}
        if build:
            _mysql.ensure_template(
                server,
                config,
                suite=suite.name,
                name=name,
                run_id=run_id,
                kept=key is not None,
                cwd=project.root,
                environ={**environ, **env},
            )
        return env

    def acquire(
        self,
        project: Project,
        suite: Suite,
        acquired: Acquired,
        *,
        url: str,
        environ: Mapping[str, str],
        clone_later: bool,
    ) -> dict[str, str]:
        """Copy the template into the worker's own database.

        ``clone_later`` is Django's cooperation with PostgreSQL: the copy here is made at once.
        """
        del clone_later
        resources = acquired.resources
        run_id = resources.run_id
        database = _naming.database_name(run_id, suite.name, resources.worker)
        given = {**resources.given, self.kind.name: database}
        acquired.resources = dataclasses.replace(resources, given=given)
        server = MySQLServer.from_url(url)
        template = environ.get(ENV_MYSQL_TEMPLATE)
        owner = f"{socket.gethostname()}:{os.getpid()}"
        # A crashed predecessor with the same worker id left it; never another live run's (one
        # given the same run id) nor a database of the user's that is named alike.
        _mysql.drop(server, database)
        # Given back even if creating it is interrupted half-way.
        acquired.on_release(lambda: _mysql.drop(server, database))
        if template:
            _mysql.clone(server, template, database, run_id, owner, suite=suite.name)
        else:
            _mysql.create_empty(server, database, run_id, role="worker")
        return self.render_env(project, url, acquired.resources)

    def acquire_for_check(
        self, project: Project, check: Check, *, run_id: str, url: str, stack: contextlib.ExitStack
    ) -> dict[str, str]:
        """A fresh empty database, dropped after."""
        server = MySQLServer.from_url(url)
        database = _naming.database_name(run_id, f"check-{check.name}", "main")
        _mysql.create_empty(server, database, run_id)
        stack.callback(_mysql.drop, server, database)
        return _mysql.render_env(_config(project), server, database)

    def render_env(self, project: Project, url: str, resources: WorkerResources) -> dict[str, str]:
        """The ``env`` templates of ``[tool.suitekit.services.mysql]`` for its database."""
        server = MySQLServer.from_url(url)
        database = resources.given.get(self.kind.name, "")
        return _mysql.render_env(_config(project), server, database)

    def finish_run(self, suite: Suite, run_id: str, url: str) -> None:
        """Drop the run's worker databases and its template (unless kept), found by their mark.

        Created with its comment in one statement, a database of suitekit's is never unmarked:
        one named like this run's but without the comment is not suitekit's, and is left.
        """
        server = MySQLServer.from_url(url)
        for database in _mysql.marked_databases(server):
            info = database.info
            if info.get("run") != run_id or info.get("kept") == "true":
                continue
            if info.get("role") in ("worker", "template") and info.get("suite") == suite.name:
                _mysql.drop_marked(server, database)

    def clean(self, url: str, say: Callable[[str], None]) -> int:
        """Drop the databases of dead runs (never a kept template)."""
        from suitekit.services._servers import owner_gone  # noqa: PLC0415 - clean only

        server = MySQLServer.from_url(url)
        try:
            marked = _mysql.marked_databases(server)
        except ServiceError as error:
            say(f"skipped {redact(url)}: {error}")
            return 0
        dropped = 0
        for database in marked:
            info = database.info
            if info.get("kept") == "true" or not owner_gone(info.get("host"), info.get("pid")):
                continue
            _mysql.drop_marked(server, database)
            dropped += 1
            say(f"dropped MariaDB database {database.name} (run {info.get('run')})")
        return dropped


MYSQL: Final = MySQLBackend()
"""The MariaDB/MySQL backend, as registered in :data:`suitekit.services._backend.BACKENDS`."""
