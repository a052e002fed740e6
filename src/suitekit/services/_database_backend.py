"""What the PostgreSQL and MariaDB backends share: a database per worker, from a template.

Both name the run's template and build it once (:meth:`DatabaseBackend.prepare_run`), give a
check an empty database of its own (:meth:`~DatabaseBackend.acquire_for_check`), render the
``env`` templates for a worker's database, and drop what a run or a dead run left, found by
suitekit's mark (:meth:`~DatabaseBackend.finish_run`, :meth:`~DatabaseBackend.clean`). What
differs (the server, its client module, where a worker's database is written down, how a
worker's copy is made) each backend says: :mod:`suitekit.services._postgres_backend`,
:mod:`suitekit.services._mysql_backend`.

Like every backend module, this one imports no client library at import time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

from suitekit import _naming
from suitekit._handoff import ENV_TEMPLATE_COPIES, ENV_TEMPLATE_KEPT, ENV_TEMPLATE_SCHEMA
from suitekit._model import Check, Project, ServiceConfig, Suite
from suitekit._urls import redact
from suitekit.errors import ServiceError
from suitekit.services._backend_base import BackendBase

if TYPE_CHECKING:
    from suitekit.services._databases import Kept, MarkedDatabase
    from suitekit.services._fingerprint import TemplateInputs
    from suitekit.services._resources import WorkerResources
    from suitekit.services._worker import Acquired

__all__ = ["DatabaseBackend", "Databases"]

_S = TypeVar("_S")
_S_contra = TypeVar("_S_contra", contravariant=True)


class Databases(Protocol[_S_contra]):
    """A backend's client module, as this base uses it (:mod:`suitekit.services._postgres`)."""

    def check(self, url: str) -> None:
        """Connect to the server at ``url``; raise :class:`ServiceError` if it does not answer."""

    def ensure_template(
        self,
        server: _S_contra,
        config: ServiceConfig,
        *,
        suite: str,
        name: str,
        run_id: str,
        kept: Kept | None,
        cwd: Path,
        environ: Mapping[str, str],
    ) -> bool:
        """Create the template database and run the setup steps into it, once."""

    def clone(
        self,
        server: _S_contra,
        template: str,
        name: str,
        run_id: str,
        owner: str,
        *,
        suite: str,
        schema: str = "",
    ) -> None:
        """Create a worker's database as a copy of the template."""

    def create_empty(
        self, server: _S_contra, name: str, run_id: str, role: str = ..., *, suite: str = ...
    ) -> None:
        """Create an empty database for this run (marked with ``role`` and ``suite``)."""

    def set_up(
        self,
        server: _S_contra,
        config: ServiceConfig,
        name: str,
        *,
        cwd: Path,
        environ: Mapping[str, str],
    ) -> None:
        """Run the service's setup steps into the database ``name`` (as into a template)."""

    def drop(self, server: _S_contra, name: str) -> None:
        """Drop ``name`` if it exists."""

    def drop_marked(self, server: _S_contra, database: MarkedDatabase) -> None:
        """Drop a database found by its mark."""

    def marked_databases(self, server: _S_contra) -> list[MarkedDatabase]:
        """Every database on the server that suitekit created."""

    def render_env(self, config: ServiceConfig, server: _S_contra, database: str) -> dict[str, str]:
        """The variables a worker (or the template's setup) sees for ``database``."""


def _throwaway(url: str) -> bool:
    """Whether ``url`` is a throwaway server's: one suitekit started (it has a record)."""
    from suitekit.services._servers import records  # noqa: PLC0415 - only for kept templates

    return any(record.url == url for record in records())


class DatabaseBackend(BackendBase, Generic[_S]):
    """The bodies the PostgreSQL and MariaDB backends share; each subclass sets what differs.

    Attributes:
        databases: Its client module (loaded with the backend: it imports its library lazily).
        parse: Its server, from a URL.
        template_variable: The variable that hands the template's name to the workers.
        noun: What a dropped database is called in ``suitekit clean``'s report.
        clones_later: Whether a worker's copy can wait until the template is built (Django's
            migrate fills it as the workers start: PostgreSQL's build lock makes the copy wait).
        empty_role: The mark of a worker's database made empty, when no template is named.
    """

    databases: Databases[_S]
    parse: Callable[[str], _S]
    template_variable: str
    noun: str
    clones_later = False
    empty_role = "worker"

    def worker_database(self, resources: WorkerResources) -> str:
        """The worker's database, as :meth:`with_database` wrote it (empty if it has none)."""
        return resources.given.get(self.kind.name, "")

    def with_database(self, resources: WorkerResources, database: str) -> WorkerResources:
        """``resources`` with the worker's ``database`` (in ``given``, under the service's name)."""
        return dataclasses.replace(resources, given={**resources.given, self.kind.name: database})

    def check(self, url: str) -> None:
        """Connect to the server at ``url`` and run ``SELECT 1``."""
        self.databases.check(url)

    def prepare_run(
        self,
        project: Project,
        suite: Suite,
        environ: Mapping[str, str],
        *,
        url: Callable[[], str],
        run_id: str,
        build: bool,
        inputs: TemplateInputs | None = None,
        alone: bool = False,
    ) -> dict[str, str]:
        """Name the run's template database and, with ``build``, build it (migrate once).

        The template is a kept one (:meth:`kept`) when its inputs are known (a Django suite's
        ``inputs``, or the files ``keep-template`` lists) and the server outlives the run.

        With ``alone`` and no kept template there is none: the run's only process would copy
        it once and drop it, so it sets its own database up instead (:meth:`acquire`), one
        database created and dropped rather than two (about 0.3 s of a small serial run
        against a server here). The variable is set empty: an outer run's template, inherited
        from the environment, is not this run's.
        """
        config = self.config(project)
        provided = url()
        server = self.parse(provided)
        kept, why = self.kept(project, suite, environ, url=provided, inputs=inputs)
        if alone and kept is None:
            return {self.template_variable: "", ENV_TEMPLATE_KEPT: why}
        name = _naming.template_name(run_id, suite.name, kept.key if kept else None)
        env = {self.template_variable: name, ENV_TEMPLATE_KEPT: "1" if kept else why}
        if build:
            self.databases.ensure_template(
                server,
                config,
                suite=suite.name,
                name=name,
                run_id=run_id,
                kept=kept,
                cwd=project.root,
                environ={**environ, **env},
            )
        return env

    def kept(
        self,
        project: Project,
        suite: Suite,
        environ: Mapping[str, str],
        *,
        url: str,
        inputs: TemplateInputs | None,
    ) -> tuple[Kept | None, str]:
        """The run's kept template, or ``None`` and why not ("" when nothing asked for one).

        Kept when something keys it (``inputs``, else ``keep-template``'s files), the project
        does not opt out (``keep-template = false``, ``SUITEKIT_KEEP_TEMPLATE=0``) and the
        server is not a throwaway one (its templates go with it). A symbolic link among the
        inputs keeps nothing (see :mod:`suitekit.services._fingerprint`).

        Raises:
            ServiceError: ``SUITEKIT_KEEP_TEMPLATE`` is neither 0 nor 1.
        """
        from suitekit.services._databases import (  # noqa: PLC0415
            Kept,
            keeping,
            project_mark,
            rebuilding,
        )
        from suitekit.services._fingerprint import Unkeyable, setup_inputs  # noqa: PLC0415

        config = self.config(project)
        if not keeping(config, environ):
            return None, "not kept: keep-template = false or SUITEKIT_KEEP_TEMPLATE=0"
        try:
            inputs = inputs or setup_inputs(config, project.root)
            if inputs is None:
                return None, ""
            if _throwaway(url):
                return None, "not kept: a throwaway server keeps nothing"
            key = inputs.key(project.root, role=urlsplit(url).username or "")
        except Unkeyable as error:
            return None, f"not kept: {error.reason}"
        kept = Kept(
            project=project_mark(project.root),
            suite=suite.name,
            key=key,
            rebuild=rebuilding(environ),
        )
        return kept, ""

    def acquire(
        self,
        project: Project,
        suite: Suite,
        acquired: Acquired,
        *,
        url: str,
        environ: Mapping[str, str],
        clone_later: bool,
        alone: bool = False,
    ) -> dict[str, str]:
        """Copy the template into the worker's own database (an empty one if none is named).

        With ``clone_later`` (Django's cooperation, where :attr:`clones_later`) the database is
        named now and copied when the worker needs it (:meth:`Acquired.materialize`). With
        ``alone`` and no template named (see :meth:`prepare_run`), the empty database gets the
        setup steps the template would have had.
        """
        resources = acquired.resources
        run_id = resources.run_id
        database = _naming.database_name(run_id, suite.name, resources.worker)
        acquired.resources = self.with_database(resources, database)
        server = self.parse(url)
        template = environ.get(self.template_variable)
        owner = f"{socket.gethostname()}:{os.getpid()}"
        later = bool(template) and clone_later and self.clones_later
        if not later:
            # A crashed predecessor with the same worker id left it (the client module's drop
            # says what else it refuses to drop: another live run's, a database of the user's).
            # A copy made later looks for one itself (see take_or_clone).
            self.databases.drop(server, database)
        # Given back even if creating it is interrupted: the database may exist, half-made,
        # when a Ctrl-C lands while the server creates it.
        acquired.on_release(lambda: self.databases.drop(server, database))
        if template:
            # A Django run's clones check the kept template was migrated for its settings.
            schema = environ.get(ENV_TEMPLATE_SCHEMA, "")

            def make() -> None:
                if later:
                    copies = environ.get(ENV_TEMPLATE_COPIES, "")
                    self.take_or_clone(
                        server, template, database, run_id, owner,
                        suite=suite.name, schema=schema, copies=copies,
                    )  # fmt: skip
                else:
                    self.databases.clone(
                        server, template, database, run_id, owner, suite=suite.name, schema=schema
                    )

            if later:
                acquired.defer(make)
            else:
                make()
        else:
            self.databases.create_empty(
                server, database, run_id, role=self.empty_role, suite=suite.name
            )
            if alone:
                self.databases.set_up(
                    server, self.config(project), database, cwd=project.root, environ=environ
                )
        return self.render_env(project, url, acquired.resources)

    def take_or_clone(
        self,
        server: _S,
        template: str,
        name: str,
        run_id: str,
        owner: str,
        *,
        suite: str,
        schema: str = "",
        copies: str = "",  # noqa: ARG002 - this default takes no controller's copies
    ) -> None:
        """A copy made later (:attr:`clones_later`): the one its controller made, else a new one.

        This default drops any database of that name and copies the template; a backend whose
        controller copies for its workers while they start takes that copy instead (one marked
        with ``copies``, the token the controller handed its workers).
        """
        self.databases.drop(server, name)
        self.databases.clone(server, template, name, run_id, owner, suite=suite, schema=schema)

    def acquire_for_check(
        self, project: Project, check: Check, *, run_id: str, url: str, stack: contextlib.ExitStack
    ) -> dict[str, str]:
        """A fresh empty database, dropped after."""
        server = self.parse(url)
        database = _naming.database_name(run_id, f"check-{check.name}", "main")
        self.databases.create_empty(server, database, run_id)
        stack.callback(self.databases.drop, server, database)
        return self.databases.render_env(self.config(project), server, database)

    def render_env(self, project: Project, url: str, resources: WorkerResources) -> dict[str, str]:
        """The service's ``env`` templates for the worker's database."""
        server = self.parse(url)
        return self.databases.render_env(
            self.config(project), server, self.worker_database(resources)
        )

    def finish_run(self, suite: Suite, run_id: str, url: str) -> None:
        """Drop the run's worker databases and its template (unless kept), found by their mark."""
        server = self.parse(url)
        for database in self.databases.marked_databases(server):
            info = database.info
            if info.get("run") != run_id or info.get("kept") == "true":
                continue
            if info.get("role") in ("worker", "template") and info.get("suite") == suite.name:
                self.databases.drop_marked(server, database)

    def clean(self, url: str, say: Callable[[str], None]) -> int:
        """Drop the databases of dead runs (never a kept template), then :meth:`clean_unmarked`."""
        from suitekit.services._servers import owner_gone  # noqa: PLC0415 - clean only

        server = self.parse(url)
        try:
            marked = self.databases.marked_databases(server)
        except ServiceError as error:
            say(f"skipped {redact(url)}: {error}")  # its password stays out of the log
            return 0
        dropped = 0
        for database in marked:
            info = database.info
            if info.get("kept") == "true" or not owner_gone(info.get("host"), info.get("pid")):
                continue
            self.databases.drop_marked(server, database)
            dropped += 1
            say(f"dropped {self.noun} {database.name} (run {info.get('run')})")
        return dropped + self.clean_unmarked(server, say)

    def clean_unmarked(self, server: _S, say: Callable[[str], None]) -> int:
        """What else dead runs left on the server, once their marked databases are dropped.

        Nothing by default: a database of suitekit's carries its mark from its creation.
        """
        del server, say
        return 0
