"""PostgreSQL as a service: a database per worker, cloned from a template migrated once.

The databases themselves are :mod:`suitekit.services._postgres`'s; a throwaway server is
:mod:`suitekit.services._postgres_server`'s, loaded only when one is started.
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
from suitekit._handoff import ENV_TEMPLATE
from suitekit._model import Check, Project, Suite
from suitekit.errors import ServiceError
from suitekit.services import _postgres
from suitekit.services._endpoints import PostgresServer

if TYPE_CHECKING:
    from suitekit.services._docker import ContainerSpec
    from suitekit.services._resources import WorkerResources
    from suitekit.services._servers import Throwaway
    from suitekit.services._worker import Acquired

__all__ = ["POSTGRES", "PostgresBackend"]


@final
class PostgresBackend:
    """PostgreSQL: see :class:`suitekit.services._backend.Backend`."""

    kind = _kinds.POSTGRES
    install_hint = (
        "install PostgreSQL's server binaries (Debian/Ubuntu: apt install postgresql; "
        "Fedora: dnf install postgresql-server; macOS: brew install postgresql@16)"
    )
    binaries_not_found = (
        "initdb and postgres were not found "
        "(SUITEKIT_POSTGRES_BINDIR, PATH, pg_config --bindir, /usr/lib/postgresql/*/bin)"
    )
    left_behind = "database(s)"
    stop_signal = signal.SIGINT  # PostgreSQL's fast shutdown

    def check(self, url: str) -> None:
        """See :func:`suitekit.services._postgres.check`."""
        _postgres.check(url)

    def find_local(self, environ: Mapping[str, str]) -> Path | None:
        """A folder with ``initdb`` and ``postgres``."""
        from suitekit.services._postgres_server import find_postgres_bindir  # noqa: PLC0415

        return find_postgres_bindir(environ)

    def start_local(
        self, found: Path, environ: Mapping[str, str], *, on_start: Callable[[Throwaway], None]
    ) -> Throwaway:
        """A cluster (a kept one's copy, else ``initdb``'s) served by ``postgres``."""
        from suitekit.services._postgres_server import start_postgres  # noqa: PLC0415

        return start_postgres(found, environ, on_start=on_start)

    def container(self) -> ContainerSpec:
        """``postgres:16-alpine``, tuned as a throwaway server is."""
        from suitekit.services._docker import ContainerSpec  # noqa: PLC0415

        variable = "POSTGRES_PASSWORD"
        argv = (
            "docker", "run", "-d", "--rm", "-p", "127.0.0.1::5432",
            "-e", variable, "--tmpfs", "/var/lib/postgresql/data",
            "postgres:16-alpine", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=400",
            "-c", "password_encryption=scram-sha-256",
        )  # fmt: skip
        return ContainerSpec(argv=argv, password_variable=variable, port="5432")

    def local_url(self, port: int, password: str) -> str:
        """``postgresql://postgres:<password>@127.0.0.1:<port>/postgres``."""
        return PostgresServer(host="127.0.0.1", port=port, password=password).url()

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
        server = PostgresServer.from_url(url())
        key = _postgres.template_key(project.postgres, project.root)
        name = _naming.template_name(run_id, suite.name, key)
        env = {ENV_TEMPLATE: name}
        if build:
            _postgres.ensure_template(
                server,
                project.postgres,
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
        """Clone (or name, see ``clone_later``) the worker's database."""
        resources = acquired.resources
        run_id = resources.run_id
        database = _naming.database_name(run_id, suite.name, resources.worker)
        acquired.resources = dataclasses.replace(resources, database=database)
        server = PostgresServer.from_url(url)
        template = environ.get(ENV_TEMPLATE)
        owner = f"{socket.gethostname()}:{os.getpid()}"
        _postgres.drop(server, database)  # a crashed predecessor with the same worker id
        # Given back even if creating it is interrupted: the database may exist, unmarked,
        # when a Ctrl-C lands while the server creates it.
        acquired.on_release(lambda: _postgres.drop(server, database))
        if template and clone_later:
            source = template

            def make() -> None:
                _postgres.clone(server, source, database, run_id, owner, suite=suite.name)

            acquired.defer(make)
        elif template:
            _postgres.clone(server, template, database, run_id, owner, suite=suite.name)
        else:
            _postgres.create_empty(server, database, run_id)
        return self.render_env(project, url, acquired.resources)

    def acquire_for_check(
        self, project: Project, check: Check, *, run_id: str, url: str, stack: contextlib.ExitStack
    ) -> dict[str, str]:
        """A fresh empty database, dropped after."""
        server = PostgresServer.from_url(url)
        database = _naming.database_name(run_id, f"check-{check.name}", "main")
        _postgres.create_empty(server, database, run_id)
        stack.callback(_postgres.drop, server, database)
        return _postgres.render_env(project.postgres, server, database)

    def render_env(self, project: Project, url: str, resources: WorkerResources) -> dict[str, str]:
        """The ``env`` templates of ``[tool.suitekit.services.postgres]`` for its database."""
        server = PostgresServer.from_url(url)
        return _postgres.render_env(project.postgres, server, resources.database)

    def finish_run(self, suite: Suite, run_id: str, url: str) -> None:
        """Drop the run's worker databases and its template (unless kept)."""
        from suitekit.services import _django  # noqa: PLC0415 - only at a run's end

        server = PostgresServer.from_url(url)
        for database in _postgres.marked_databases(server):
            info = database.info
            if info.get("run") != run_id or info.get("kept") == "true":
                continue
            if info.get("role") in ("worker", "template") and info.get("suite") == suite.name:
                _postgres.drop(server, database.name)
        # A worker killed (or interrupted twice) while the server created its database leaves
        # it without suitekit's comment: this run's worker databases are also known by their
        # names.
        prefix = _naming.database_prefix(run_id, suite.name)
        for name, _ in _postgres.databases_with_prefix(server, prefix):
            if _naming.worker_of(name, run_id, suite.name) is not None:
                _postgres.drop(server, name)
        # Django test databases named after this run's clones (pytest-django's, left when its
        # teardown failed or never ran): see suitekit.services._django.
        _django.drop_run_test_databases(server, run_id, suite.name)

    def clean(self, url: str, say: Callable[[str], None]) -> int:
        """Drop the databases of dead runs, and the Django test databases named after them."""
        from suitekit.services._servers import owner_gone  # noqa: PLC0415 - clean only

        server = PostgresServer.from_url(url)
        try:
            marked = _postgres.marked_databases(server)
        except ServiceError as error:
            say(f"skipped {url}: {error}")
            return 0
        dropped = 0
        for database in marked:
            info = database.info
            if info.get("kept") == "true" or not owner_gone(info.get("host"), info.get("pid")):
                continue
            _postgres.drop(server, database.name)
            dropped += 1
            say(f"dropped database {database.name} (run {info.get('run')})")
        return dropped + _clean_test_databases(server, say)


def _clean_test_databases(server: PostgresServer, say: Callable[[str], None]) -> int:
    """Drop Django test databases that dead runs' workers left (``test_sk_...``).

    Django creates them, so they carry no comment of suitekit's: one counts as a dead run's
    when its name is Django's test name of a suitekit worker database (the name's hash of run,
    suite and worker checks out), no session uses it, and no database of its run is left that
    a live process of this host, or any process of another host, owns. A live run always holds
    its template until its workers are gone, so its test databases are never taken for dead.
    Called after the dead runs' own databases are dropped; kept templates say nothing of a run.
    """
    from suitekit.services import _django  # noqa: PLC0415 - clean only

    leaked = _django.leaked_test_databases(server)
    if not leaked:
        return 0
    live = {
        _naming.slug(database.info.get("run", ""), 20)
        for database in _postgres.marked_databases(server)
        if database.info.get("kept") != "true"
    }
    dropped = 0
    for database in leaked:
        if database.run_id in live or database.sessions:
            continue
        _postgres.drop(server, database.name)
        dropped += 1
        say(f"dropped database {database.name} (pytest-django's, of run {database.run_id})")
    return dropped


POSTGRES: Final = PostgresBackend()
"""The PostgreSQL backend, as registered in :data:`suitekit.services._backend.BACKENDS`."""
