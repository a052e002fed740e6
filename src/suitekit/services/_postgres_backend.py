"""PostgreSQL as a service: a database per worker, cloned from a template migrated once.

What it does as MariaDB does (name and build the template, a database per worker and per
check, the cleanup by suitekit's mark) is
:class:`~suitekit.services._database_backend.DatabaseBackend`'s, with
:mod:`suitekit.services._postgres`'s databases; what is PostgreSQL's own is here: a worker's
copy that waits for Django's migrate, and the databases found by their names (a worker's
interrupted mid-creation, pytest-django's). A throwaway server is
:mod:`suitekit.services._postgres_server`'s, loaded only when one is started.
"""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, final

from suitekit import _kinds, _naming
from suitekit._handoff import ENV_TEMPLATE
from suitekit._model import Suite
from suitekit.services import _postgres
from suitekit.services._backend_base import LocalServer
from suitekit.services._database_backend import DatabaseBackend
from suitekit.services._endpoints import PostgresServer

if TYPE_CHECKING:
    from suitekit.services._docker import ContainerSpec
    from suitekit.services._resources import WorkerResources

__all__ = ["POSTGRES", "PostgresBackend"]


@final
class PostgresBackend(DatabaseBackend[PostgresServer]):
    """PostgreSQL: see :class:`suitekit.services._backend.Backend`."""

    kind = _kinds.POSTGRES
    databases = _postgres
    parse = PostgresServer.from_url
    template_variable = ENV_TEMPLATE
    noun = "database"
    clones_later = True
    # Found at the run's end by its name, not its mark (see finish_run), as it always was.
    empty_role = "check"
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

    def take_or_clone(
        self,
        server: PostgresServer,
        template: str,
        name: str,
        run_id: str,
        owner: str,
        *,
        suite: str,
        schema: str = "",
        copies: str = "",
    ) -> None:
        """The copy the run's controller made while the worker started, else a new one.

        See :func:`suitekit.services._postgres.take_or_clone` and ``preclone``.
        """
        _postgres.take_or_clone(
            server, template, name, run_id, owner, suite=suite, schema=schema, copies=copies
        )

    def local(self) -> LocalServer:
        """:mod:`suitekit.services._postgres_server`'s, loaded now.

        It finds a folder with ``initdb`` and ``postgres``, and starts a cluster (a kept one's
        copy, else ``initdb``'s) served by ``postgres``.
        """
        from suitekit.services._postgres_server import LOCAL  # noqa: PLC0415

        return LOCAL

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

    def worker_database(self, resources: WorkerResources) -> str:
        """The worker's database: ``resources.database``."""
        return resources.database

    def with_database(self, resources: WorkerResources, database: str) -> WorkerResources:
        """``resources`` with the worker's ``database`` as ``resources.database``."""
        return dataclasses.replace(resources, database=database)

    def finish_run(self, suite: Suite, run_id: str, url: str) -> None:
        """Drop the run's worker databases and its template (unless kept)."""
        from suitekit.services import _django  # noqa: PLC0415 - only at a run's end

        _postgres.settle()  # no copy is half-made while the run's databases are dropped
        _postgres.let_go()  # this run no longer uses its kept template: it may be dropped
        super().finish_run(suite, run_id, url)
        server = PostgresServer.from_url(url)
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

    def drop_kept(self, url: str, project: str, say: Callable[[str], None]) -> int:
        """Drop the project's kept templates on the server at ``url`` (``clean --templates``).

        Only those with suitekit's mark for ``project`` that this role owns; one a run uses
        or builds now is left, and said.
        """
        dropped, busy = _postgres.drop_kept_templates(PostgresServer.from_url(url), project)
        for name in dropped:
            say(f"dropped kept template {name}")
        for name in busy:
            say(f"left kept template {name}: a run uses it now")
        return len(dropped)

    def clean_unmarked(self, server: PostgresServer, say: Callable[[str], None]) -> int:
        """The Django test databases named after dead runs' (see :func:`_clean_test_databases`)."""
        return _clean_test_databases(server, say)


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
