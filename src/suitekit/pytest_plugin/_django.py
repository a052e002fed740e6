"""The pytest side of suitekit's cooperation with pytest-django (part of the pytest adapter).

:mod:`suitekit.services._django` holds the Django work; this module decides, from what
pytest-django does in the run, whether the two cooperate, and provides the ``django_db_setup``
fixture that uses each worker's clone as Django's database. Three moments of a suite run:

1. :func:`before_conftests` (the controller, or the only process without xdist, after the
   template is named, before Django's settings are read): when suitekit is to migrate the
   template, the controller's own ``env`` variables name the template, so that the settings
   module, read next by pytest-django, builds its ``DATABASES`` alias on it; the only
   process's keep naming its own database (its conftests read them). With no ``setup``
   (:func:`builds_template`), the template does not exist yet: under xdist nothing connects to
   the server before the workers start. On a server that outlives the run the template is a
   kept one, named after its inputs (:func:`template_inputs`).
2. :func:`after_conftests` (the same process, pytest-django has set Django up): it tells the
   workers through ``SUITEKIT_DJANGO`` (and, for a kept template, the settings' digest it must
   have been migrated for, :func:`suitekit.services._django.schema_digest`); once xdist has
   started the workers
   (:meth:`DjangoHeader.pytest_collection`), the controller takes the template's build lock,
   creates the template and runs Django's ``migrate`` into it, in this process, once, while
   the workers start; their clones wait until it exists and the lock is free. A complete kept
   template of the same inputs and digest is used as it is: nothing is migrated. Without xdist
   the template is built at once, the same way, through the process's aliases pointed at it
   for the migration only; its tests use its own copy of it (made before the first test).
   Workers that ``workers = "auto"`` starts later copy the same template.
3. :func:`register` (every process, ``pytest_configure``): suitekit's ``django_db_setup``.

**Which ``django_db_setup`` wins.** pytest resolves a fixture name to its most specific
definition: a conftest's beats any plugin's, and between plugins the one registered later wins.
pytest-django is registered while pytest starts (its ``pytest11`` entry point); suitekit
registers :class:`DjangoDatabases` in its ``pytest_configure``, later, so suitekit's fixture
replaces pytest-django's whatever the order the entry points load in, and a project's own
``django_db_setup`` in a conftest still replaces suitekit's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import time
from collections.abc import Collection, Generator, Mapping
from typing import TYPE_CHECKING, Any, Final

import pytest

from suitekit._handoff import ENV_TEMPLATE, ENV_TEMPLATE_COPIES

if TYPE_CHECKING:
    from suitekit._model import Project, Suite
    from suitekit.services import EarlyCopies, Kept, TemplateInputs

__all__ = [
    "DjangoDatabases",
    "DjangoHeader",
    "after_conftests",
    "before_conftests",
    "register",
    "template_inputs",
]

_PLUGIN_MODULE: Final = "pytest_django.plugin"
_MIGRATED: Final = "migrated"
_BY_SETUP: Final = "setup"


class _Cooperation:
    """Django's migrate into the run's template, once.

    In a run's controller the template is built once xdist has started the workers (see
    :meth:`DjangoHeader.pytest_collection`): the workers start meanwhile, and their clones
    wait until it exists and its build lock is free. The controller also creates the template
    then, so that the run's first connection to the server, and psycopg's import, are no
    longer on the way to the workers' start either. Without xdist the process builds it as
    soon as Django is set up, then uses its own copy (:attr:`own`). Either way in the main
    thread, with pytest-django's own switch for database access; a complete kept template is
    used as it is.
    """

    def __init__(
        self,
        *,
        database: str,
        stack: contextlib.ExitStack,
        server_url: str,
        create: tuple[str, str],
        kept: Kept | None = None,
        own: str | None = None,
    ) -> None:
        self.database = database
        self.stack = stack  # closed when the run gives its resources back
        self.server_url = server_url  # the template's server (built here, see build)
        self.create = create  # (run id, suite): the template's run and suite
        self.kept = kept  # a kept template: used as it is when complete
        self.own = own  # without xdist: this process's own database, a copy of the template
        self.alias = ""  # the alias migrated ("": none names the database; created only)
        self.seconds: float | None = None
        self.built = False
        self.reused = False  # a complete kept template was found: nothing migrated
        self.dropped: list[str] = []  # older kept templates dropped after building this one
        self.copied: list[str] = []  # the workers' databases copied here (preclone)
        self.token = secrets.token_hex(8)  # marks those copies (SUITEKIT_TEMPLATE_COPIES)
        self.early: EarlyCopies | None = None  # copies of a kept template begun at once

    def copy_early(self, workers: Collection[str]) -> None:
        """Begin copying a complete kept template for ``workers`` now, in a thread.

        Django's set-up in this process, and the workers' start, then overlap the copies,
        which would otherwise begin only once Django could say whether the template fits its
        settings; :meth:`build` keeps them if it reuses the template as it is, and drops them
        if it rebuilds it. Not for a ``--reinstall`` (rebuild) run.
        """
        from suitekit.services import PostgresServer, copy_kept_early  # noqa: PLC0415

        server = PostgresServer.from_url(self.server_url)
        names = self._databases(workers)
        self.early = copy_kept_early(
            server, self.database, names, create=self.create, copies=self.token
        )

    def _databases(self, workers: Collection[str]) -> list[str]:
        """The databases of ``workers`` in this run's suite (named by run id, suite, worker)."""
        from suitekit import _naming  # noqa: PLC0415

        run_id, suite = self.create
        return [_naming.database_name(run_id, suite, worker) for worker in workers]

    @property
    def copied_early(self) -> bool:
        """Copies begun at once were kept: the template they were made of was reused."""
        return self.reused and self.early is not None and bool(self.early.copied)

    @property
    def pending(self) -> bool:
        """The template waits for the workers to be started, to be built."""
        return not self.built

    def build(self, blocker: Any) -> None:  # noqa: ANN401 - pytest-django's
        """Build the template under its build lock (the clones wait for it).

        It is created first, then migrated when an alias names it; a failure drops what was
        created.

        Raises:
            ServiceError: The server does not answer, or the migration failed.
        """
        from suitekit.services import (  # noqa: PLC0415
            PostgresServer,
            building,
            hold,
        )

        started = time.perf_counter()
        try:
            server = PostgresServer.from_url(self.server_url)
            early = self.early.result() if self.early is not None else []
            held = self.early is not None and self.early.held  # the run's one use lock
            if self.kept is not None and not held:
                hold(server, self.database)  # before looking: see _postgres.hold
            with building(server, self.database, create=self.create, kept=self.kept) as build:
                if build.fill and self.alias:
                    self._migrate(blocker, self.alias)
                elif build.fill:
                    build.keep = False  # nothing migrated it: this run's own, dropped at its end
            self.reused = not build.fill
            self.dropped = build.dropped
            if self.early is not None and self.reused:
                self.copied = early  # copies of the very template reused
            elif self.early is not None:
                # Copies of the template rebuilt since: every name, even with none reported
                # (a failed copy hides those made before it).
                self.early.discard()
        finally:
            self.built = True
            self.seconds = time.perf_counter() - started

    def preclone(self, workers: Collection[str]) -> None:
        """Copy the built template into the databases of ``workers``, side by side.

        The workers are starting meanwhile (Python, Django, collection); each then finds its
        database made, instead of copying it before its first test. Only for a template this
        process created (``create``), whose run id and suite name the databases, and with the
        token it gave its workers (``SUITEKIT_TEMPLATE_COPIES``), which marks the copies.

        Raises:
            ServiceError: The server refused a copy.
        """
        if not workers:
            return
        from suitekit.services import PostgresServer, preclone  # noqa: PLC0415

        run_id, suite = self.create
        names = self._databases(workers)
        # The early copies are kept as they are (the run's end drops any made for a worker
        # that did not start); only the others are copied, with connections of their own.
        early = [name for name in self.copied if name in names]
        missing = [name for name in names if name not in early]
        copies = os.environ.get(ENV_TEMPLATE_COPIES, "")
        if copies and missing:
            server = PostgresServer.from_url(self.server_url)
            made = preclone(server, self.database, missing, run_id, suite=suite, copies=copies)
            self.copied = [*early, *made]
        else:
            self.copied = early

    def build_own(self, blocker: Any) -> None:  # noqa: ANN401 - pytest-django's
        """Without xdist: build the template through the aliases that name :attr:`own`.

        The process's settings and variables name its own database throughout (its conftests
        and settings module read them); only for the migration are those aliases pointed at
        the template, as Django's own ``create_test_db`` points an alias at its test database,
        and then back. The copy itself is made before the first test (``take_or_clone``).

        Raises:
            ServiceError: The server does not answer, or the migration failed.
        """
        from suitekit.services import repoint  # noqa: PLC0415

        assert self.own is not None  # noqa: S101 - only the only process has one
        repoint(self.own, self.database)
        try:
            self.build(blocker)
        finally:
            repoint(self.database, self.own)

    def _migrate(self, blocker: Any, alias: str) -> None:  # noqa: ANN401 - pytest-django's
        from suitekit.errors import ServiceError  # noqa: PLC0415
        from suitekit.services import migrate  # noqa: PLC0415

        try:
            with blocker.unblock():
                migrate(alias)
        except Exception as error:
            message = (
                f"Django's migrate failed in the database {self.database}: "
                f"{type(error).__name__}: {error}"
                "\n  fix: run `python manage.py migrate` against an empty database to see it "
                "fail the same way, or give your own setup in [tool.suitekit.services.postgres]"
            )
            raise ServiceError(message) from error


_KEY: Final = pytest.StashKey[_Cooperation]()


def _active(config: pytest.Config) -> bool:
    """pytest-django's plugin is loaded (not disabled with ``-p no:django``)."""
    plugins = config.pluginmanager.get_plugins()
    return any(getattr(p, "__name__", None) == _PLUGIN_MODULE for p in plugins)


def _export(stack: contextlib.ExitStack, variables: Mapping[str, str]) -> None:
    """Set ``variables`` in this process; the old values come back when ``stack`` closes."""
    previous = {name: os.environ.get(name) for name in variables}

    def restore() -> None:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    stack.callback(restore)
    os.environ.update(variables)


def builds_template(early_config: pytest.Config, project: Project, suite: Suite) -> bool:
    """Whether Django's migrate builds this run's template, in this process, once Django is set up.

    So in a Django suite whose template nothing but Django's migrate fills (no ``setup``), in
    the run's controller or its only process. Under xdist the workers then start right after
    pytest does, and the controller connects, creates (or finds a kept one) and migrates while
    they start (:class:`_Cooperation`); without xdist the process builds it before collecting,
    and its tests use a copy of it, as workers would (``workers = "auto"`` may start some).
    """
    return (
        not os.environ.get("PYTEST_XDIST_WORKER")
        and "postgres" in suite.services
        and not project.postgres.setup
        and _active(early_config)
    )


def _settings_module(early_config: pytest.Config) -> str:
    """Django's settings module as pytest-django picks it: ``--ds``, the environment, the ini."""
    option = getattr(early_config.known_args_namespace, "ds", None)
    if option:
        return str(option)
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return os.environ["DJANGO_SETTINGS_MODULE"]
    try:
        return str(early_config.getini("DJANGO_SETTINGS_MODULE") or "")
    except ValueError:  # pytest-django not loaded: no such ini key
        return ""


def template_inputs(
    early_config: pytest.Config, project: Project, suite: Suite
) -> TemplateInputs | None:
    """What keys a Django suite's kept template, in the run's controller or only process.

    So when Django's migrate fills the template (:func:`builds_template`; a project's own
    ``setup`` is keyed by the backend on ``keep-template``'s files alone), and neither
    ``keep-template = false`` nor ``SUITEKIT_KEEP_TEMPLATE=0`` says no; ``None``: none kept.
    Whether the server keeps it (not a throwaway one) the backend decides. A symbolic link
    among the inputs keeps nothing: the reason is in the header.
    """
    config = project.postgres
    # With the project's own setup, what fills it (settings, apps installed outside the
    # project) is not known here: kept only when keep-template lists the files, keyed on those
    # alone (the backend's rule for any setup).
    if (
        os.environ.get("PYTEST_XDIST_WORKER")
        or "postgres" not in suite.services
        or config.setup
        or not _active(early_config)
    ):
        return None
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    from suitekit.errors import ServiceError  # noqa: PLC0415
    from suitekit.services import (  # noqa: PLC0415
        Unkeyable,
        django_inputs,
        keeping,
    )

    try:
        if not keeping(config, os.environ):
            return None
    except ServiceError:
        return None  # the backend raises it, as a usage error
    try:
        django = version("django")
    except PackageNotFoundError:
        django = ""
    try:
        return django_inputs(
            config, project.root, django=django, settings=_settings_module(early_config)
        )
    except Unkeyable:
        return None  # the backend, keyed by keep-template's files alone, says why


def before_conftests(
    early_config: pytest.Config,
    project: Project,
    suite: Suite,
    *,
    stack: contextlib.ExitStack,
    controller_only: bool,
) -> None:
    """In a run's controller or only process: prepare to migrate the template with Django.

    Args:
        early_config: The run's config.
        project: The project.
        suite: The suite of this run.
        stack: Closed when the run gives its resources back (the variables set here go back).
        controller_only: xdist workers run the tests; this process holds no database of its
            own. Otherwise its own (a copy of the template) is named already.

    Past the checks here, :func:`builds_template` holds: the template is only named so far,
    and this process creates it once Django is set up.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") or "postgres" not in suite.services:
        return
    if not _active(early_config):
        return
    from suitekit import services  # noqa: PLC0415 - only for Django runs with services
    from suitekit.services import (  # noqa: PLC0415 - as above
        ENV_COOPERATION,
        ENV_RUN_ID,
        PostgresServer,
        render_env,
    )

    if project.postgres.setup:
        # The project's own setup migrated the template: the workers only use their clones.
        _export(stack, {ENV_COOPERATION: _BY_SETUP})
        return
    own: str | None = None
    if not controller_only:
        resources = services.current()
        own = resources.database if resources is not None else ""
        if not own:
            return
    database = os.environ.get(ENV_TEMPLATE, "")
    url = os.environ.get(services.PROVIDED_URL["postgres"], "")
    if not database or not url:
        return
    create = (os.environ.get(ENV_RUN_ID, ""), suite.name)
    kept = _kept(project, suite, database)
    if own is None:
        # Django's settings, read next, name the template in the controller. The only
        # process's name its own database: its conftests may keep what they read.
        server = PostgresServer.from_url(url)
        _export(stack, render_env(project.postgres, server, database))
    else:
        # A token a controller of an outer run handed down is not this run's.
        _export(stack, {ENV_TEMPLATE_COPIES: ""})
    cooperation = _Cooperation(
        database=database, stack=stack, server_url=url, create=create, kept=kept, own=own
    )
    early_config.stash[_KEY] = cooperation
    workers = _fixed_workers(early_config)
    if own is None and kept is not None and not kept.rebuild and workers:
        cooperation.copy_early([f"gw{number}" for number in range(workers)])


def _fixed_workers(early_config: pytest.Config) -> int:
    """How many workers xdist will start (``gw0``, ``gw1``, ...), if known before it does.

    ``-n N`` (capped by ``--maxprocesses``); 0 for ``-n auto`` or ``logical`` (decided later)
    and for ``--collect-only`` (no worker starts).
    """
    options = early_config.known_args_namespace
    workers = getattr(options, "numprocesses", None)
    if not isinstance(workers, int) or getattr(options, "collectonly", False):
        return 0
    cap = getattr(options, "maxprocesses", None)
    return min(workers, cap) if isinstance(cap, int) and cap > 0 else workers


def _kept(project: Project, suite: Suite, database: str) -> Kept | None:
    """The kept template the backend named (``sk_tpl_<key>``), if it named one."""
    from suitekit import _naming  # noqa: PLC0415
    from suitekit.services import (  # noqa: PLC0415
        ENV_TEMPLATE_KEPT,
        Kept,
        project_mark,
        rebuilding,
    )

    if os.environ.get(ENV_TEMPLATE_KEPT) != "1":
        return None
    return Kept(
        project=project_mark(project.root),
        suite=suite.name,
        key=database.removeprefix(f"{_naming.PREFIX}tpl_"),
        rebuild=rebuilding(os.environ),
    )


def after_conftests(early_config: pytest.Config) -> None:
    """Django is set up: migrate the template :func:`before_conftests` named, once.

    In a controller under xdist that happens once the workers start (the template is built
    then even when no alias names it, for their clones); without xdist, now, and the process
    then uses its own copy of it (:meth:`_Cooperation.build_own`).

    Raises:
        ServiceError: Without xdist, the migration failed (with xdist, that is said when the
            session builds the template, see :meth:`DjangoHeader.pytest_collection`).
    """
    cooperation = early_config.stash.get(_KEY, None)
    if cooperation is None:
        return
    from django.conf import settings  # noqa: PLC0415 - pytest-django imported it

    from suitekit.services import ENV_COOPERATION, aliases_of  # noqa: PLC0415

    # Settings configured later (in a conftest's pytest_configure), or naming another
    # database: Django's way, pytest-django makes its own test databases.
    named = cooperation.own if cooperation.own is not None else cooperation.database
    aliases = aliases_of(named) if settings.configured else ()
    if aliases:
        # Said before the workers start: they read it at their configure. The token marks the
        # copies the controller makes for them (see _Cooperation.preclone).
        told = {ENV_COOPERATION: _MIGRATED}
        if cooperation.own is None:
            told[ENV_TEMPLATE_COPIES] = cooperation.token
        _export(cooperation.stack, told)
    if cooperation.kept is not None and aliases:
        from suitekit.services import ENV_TEMPLATE_SCHEMA, schema_digest  # noqa: PLC0415

        # The workers' clones wait for a kept template migrated for these settings.
        schema = schema_digest()
        cooperation.kept = dataclasses.replace(cooperation.kept, schema=schema)
        _export(cooperation.stack, {ENV_TEMPLATE_SCHEMA: schema})
    cooperation.alias = aliases[0] if aliases else ""
    if cooperation.own is not None:
        from pytest_django.plugin import blocking_manager_key  # noqa: PLC0415

        # Without xdist: the template now (a kept one reused); the tests use a copy of it.
        cooperation.build_own(early_config.stash[blocking_manager_key])


def clones_later() -> bool:
    """Whether an xdist worker makes its clone only before its first test.

    So when its controller migrates the template (told through ``SUITEKIT_DJANGO``): the
    worker's start-up (conftests, Django's set-up, collection) is then not held up by the
    template's migration; the plugin's ``pytest_runtest_setup`` makes the clone before any
    fixture of the first test can reach it.
    """
    from suitekit.services import ENV_COOPERATION  # noqa: PLC0415

    return os.environ.get(ENV_COOPERATION) == _MIGRATED


def register(config: pytest.Config, suite: Suite) -> None:
    """Register suitekit's ``django_db_setup`` (or only the header) in a Django suite run."""
    if "postgres" not in suite.services or not _active(config):
        return
    from suitekit.services import ENV_COOPERATION  # noqa: PLC0415

    cooperation = config.stash.get(_KEY, None)
    how = os.environ.get(ENV_COOPERATION, "")
    kind = DjangoDatabases if how in (_MIGRATED, _BY_SETUP) else DjangoHeader
    config.pluginmanager.register(kind(how=how, cooperation=cooperation), "suitekit-django")


class DjangoHeader:
    """The header line saying how Django gets its databases in this run."""

    def __init__(self, *, how: str, cooperation: _Cooperation | None) -> None:
        self.how = how
        self.cooperation = cooperation

    def pytest_report_header(self) -> list[str]:
        """One line: who migrated the template, and which database the tests use."""
        from suitekit.services import ENV_TEMPLATE_KEPT  # noqa: PLC0415

        database = os.environ.get(ENV_TEMPLATE, "-")
        kept = os.environ.get(ENV_TEMPLATE_KEPT, "")
        unkept = [f"suitekit: django: template {kept}"] if kept.startswith("not kept") else []
        if self.how == _MIGRATED and self.cooperation is not None:
            if self.cooperation.pending and self.cooperation.kept is not None:
                return [
                    (
                        f"suitekit: django: the kept template {database}, migrated once if "
                        "it is not complete yet, while the workers start; each worker's "
                        "tests use its own clone as Django's database"
                    )
                ]
            if self.cooperation.pending:  # said when it ends (pytest_collection)
                return [
                    (
                        f"suitekit: django: migrating {database} once, while the workers "
                        "start; each worker's tests use its own clone as Django's database"
                    ),
                    *unkept,
                ]
            return [_own_line(self.cooperation), *unkept]
        if self.how == _BY_SETUP:
            if not database:  # a run without xdist: no template (see services.prepare_run)
                return [
                    (
                        "suitekit: django: this process's own database, prepared by the setup "
                        "steps (a run without xdist copies no template), is Django's database"
                    )
                ]
            kept_by = " (kept between runs)" if kept == "1" else ""
            return [
                (
                    f"suitekit: django: {database} prepared by the setup steps{kept_by}; each "
                    "worker's tests use its own clone as Django's database"
                ),
                *unkept,
            ]
        return [
            (
                "suitekit: django: Django's settings name none of suitekit's databases, so "
                "pytest-django creates and migrates a test database per worker"
            )
        ]

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        """The controller builds the template, now that xdist has started the workers.

        They start in their own processes meanwhile; their clones wait until it exists and
        its build lock is free.
        """
        cooperation = self.cooperation
        if cooperation is None or not cooperation.pending:
            return
        from pytest_django.plugin import blocking_manager_key  # noqa: PLC0415

        from suitekit.errors import SuitekitError  # noqa: PLC0415

        try:
            cooperation.build(session.config.stash[blocking_manager_key])
            if cooperation.alias:
                cooperation.preclone(_workers(session.config))
        except SuitekitError as error:
            pytest.exit(f"suitekit: {error}", returncode=pytest.ExitCode.USAGE_ERROR)
        if not cooperation.alias:
            return
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(_built_line(cooperation))


def _built_line(cooperation: _Cooperation) -> str:
    """The line of a run under xdist: the template migrated or reused, and the copies made."""
    line = (
        f"suitekit: django: migrated {cooperation.database} once in "
        f"{cooperation.seconds or 0.0:.1f}s, while the workers started"
    )
    if cooperation.reused:
        line = (
            f"suitekit: django: reused the kept template {cooperation.database} (its "
            "migrations, settings and Django are unchanged): nothing migrated"
        )
    elif cooperation.kept is not None:
        line += "; kept for the next runs"
        if cooperation.dropped:
            line += f" (dropped the older {', '.join(cooperation.dropped)})"
    if cooperation.copied:
        count = len(cooperation.copied)
        line += f"; copied for {count} worker{'s' if count != 1 else ''}"
        if cooperation.copied_early:
            line += " while Django was set up"
    return line


def _own_line(cooperation: _Cooperation) -> str:
    """The header line of a run without xdist: the template built or reused, and the copy."""
    template, own = cooperation.database, cooperation.own
    if cooperation.reused:
        done = (
            f"reused the kept template {template} (its migrations, settings and Django are "
            "unchanged): nothing migrated"
        )
    else:
        done = f"migrated {template} once in {cooperation.seconds or 0.0:.1f}s"
        if cooperation.kept is not None:
            done += "; kept for the next runs"
            if cooperation.dropped:
                done += f" (dropped the older {', '.join(cooperation.dropped)})"
    return f"suitekit: django: {done}; the tests use its copy {own} as Django's database"


class DjangoDatabases(DjangoHeader):
    """suitekit's ``django_db_setup``: registered when the template is migrated."""

    # A static method: pytest deprecates session fixtures bound to an instance.
    @pytest.fixture(scope="session")
    @staticmethod
    def django_db_setup(  # noqa: PLR0917 - pytest-django's fixtures, by name
        request: pytest.FixtureRequest,
        django_test_environment: None,  # noqa: ARG004 - ordering: Django's test setup first
        django_db_blocker: Any,  # noqa: ANN401 - pytest-django's DjangoDbBlocker
        django_db_modify_db_settings: None,  # noqa: ARG004 - the other aliases' suffixes
        django_db_use_migrations: bool,  # noqa: FBT001 - a fixture, requested by name
        django_db_keepdb: bool,  # noqa: FBT001 - a fixture, requested by name
        django_db_createdb: bool,  # noqa: FBT001 - a fixture, requested by name
    ) -> Generator[None]:
        """Django's test databases: this worker's clone as is, Django's creation for the rest.

        Replaces pytest-django's fixture of the same name, which would create and migrate
        ``test_<NAME>_gwN`` in every worker.
        """
        from suitekit import services  # noqa: PLC0415
        from suitekit.errors import SuitekitError  # noqa: PLC0415
        from suitekit.services import WorkerDatabases  # noqa: PLC0415

        resources = services.current()
        database = resources.database if resources is not None else ""
        aliases, serialized = _aliases(request.session.items)
        verbosity = int(request.config.option.verbose)
        with django_db_blocker.unblock():
            try:
                databases = WorkerDatabases.setup(
                    database,
                    aliases=aliases,
                    serialized=serialized,
                    verbosity=verbosity,
                    keepdb=django_db_keepdb and not django_db_createdb,  # as pytest-django
                    migrations=django_db_use_migrations,
                )
            except SuitekitError as error:
                pytest.fail(f"suitekit: {error}", pytrace=False)
        yield
        with django_db_blocker.unblock():
            databases.teardown(verbosity)


def _workers(config: pytest.Config) -> list[str]:
    """The ids of the xdist workers this controller started (``gw0``, ...), once it has."""
    dsession = config.pluginmanager.get_plugin("dsession")
    manager = getattr(dsession, "nodemanager", None)
    specs = getattr(manager, "specs", None) or ()
    return [str(spec.id) for spec in specs if getattr(spec, "id", None)]


def _aliases(items: list[pytest.Item]) -> tuple[Collection[str] | None, Collection[str] | None]:
    """The aliases the collected tests need, and those needing ``serialized_rollback``.

    pytest-django's own reading of the tests' markers and classes; ``None`` (all aliases, all
    serialized, as Django's test runner did before it) with a pytest-django without it.
    """
    try:
        from pytest_django.fixtures import _get_databases_for_setup  # noqa: PLC0415
    except ImportError:
        return None, None
    aliases, serialized = _get_databases_for_setup(items)
    return set(aliases), set(serialized)
