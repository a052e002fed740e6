"""Django under suitekit: one template migrated once, each worker's clone as Django's database.

pytest-django, left alone, makes its own test database in every xdist worker
(``test_<NAME>_gw0``, ...) and migrates each one, so a suite that also has suitekit's
``services = ["postgres"]`` would migrate once per worker and leave suitekit's clone unused.
When pytest-django is active in such a suite, the two cooperate instead:

- **the template is migrated once per run**: when the project gives no ``setup`` of its own,
  the run's controller points its own ``DATABASE_URL`` (the ``env`` templates) at the template
  before Django's settings are read, and runs Django's ``migrate`` there, in its own process
  (:func:`migrate`), once xdist has started the workers: no second Python and Django
  start-up, the settings, ``sys.path`` and apps are pytest-django's own, and the workers' clones
  wait for the template's build lock. A project's own ``setup`` (``python manage.py migrate``,
  SQL steps) is used as it is instead;
- **each worker's clone is the test database**: the worker's ``DATABASE_URL`` names its clone
  before the settings are imported, so the ``DATABASES`` alias built from it already points
  there. suitekit's ``django_db_setup`` (pytest-django documents overriding that fixture to use
  an existing database) then creates nothing for such an alias: it checks that the clone is
  migrated, creates the cache tables and, for tests that ask for ``serialized_rollback``,
  serializes its contents, as ``create_test_db`` would (:class:`WorkerDatabases`). Every other
  alias (sqlite, a second server) goes through Django's ``setup_databases`` unchanged;
- **nothing is left behind**: suitekit drops its clones as for any suite. A Django test
  database named after a clone (``test_sk_<run>_<suite>_<worker>_<hash>[_gwN]``: a project whose
  own ``django_db_setup`` lets Django create databases, or a run of an older suitekit) is
  dropped by the run's controller at its end, and by ``suitekit clean`` once the run that made
  it is provably gone. Its name is checked against suitekit's naming (the hash of run, suite and
  worker), so a user's own ``test_...`` database is never touched.

Django is imported only inside the functions that run in a test process with Django set up.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any, Final

from suitekit import _naming
from suitekit._handoff import ENV_DJANGO
from suitekit.errors import ServiceError
from suitekit.services import _postgres
from suitekit.services._endpoints import PostgresServer

__all__ = [
    "ENV_COOPERATION",
    "TEST_PREFIX",
    "LeakedTestDatabase",
    "WorkerDatabases",
    "aliases_of",
    "drop_run_test_databases",
    "leaked_test_databases",
    "migrate",
    "parse_test_database",
    "repoint",
    "schema_digest",
]

ENV_COOPERATION: Final = ENV_DJANGO
"""Set by a run's controller for its workers: ``migrated`` (suitekit migrated the template) or
``setup`` (the project's setup did); unset, pytest-django makes its own test databases."""

TEST_PREFIX: Final = "test_"
"""Django's prefix for test database names (``TEST["NAME"]`` unset)."""

_HASH_LENGTH: Final = 8


def aliases_of(database: str) -> tuple[str, ...]:
    """The ``DATABASES`` aliases whose ``NAME`` is ``database`` (Django is set up)."""
    from django.db import connections  # noqa: PLC0415

    return tuple(a for a in connections if connections[a].settings_dict.get("NAME") == database)


def repoint(old: str, new: str) -> tuple[str, ...]:
    """Point the ``DATABASES`` aliases that name ``old`` at ``new``; the aliases moved.

    As Django's own ``create_test_db`` points an alias at its test database: the alias's
    connection is closed first, then ``NAME`` changes in its settings and in ``DATABASES``.
    """
    from django.conf import settings  # noqa: PLC0415
    from django.db import connections  # noqa: PLC0415

    moved = aliases_of(old)
    for alias in moved:
        connections[alias].close()
        connections[alias].settings_dict["NAME"] = new
        if alias in settings.DATABASES:
            settings.DATABASES[alias]["NAME"] = new
    return moved


def migrate(alias: str) -> None:
    """Run Django's ``migrate`` for ``alias``, in this process (any thread); close it after.

    ``migrate`` runs as Django's ``create_test_db`` runs it: ``run_syncdb`` (tables of apps
    without migrations), no system checks, then the ``post_migrate`` signal (content types,
    permissions). An alias with ``TEST: {"MIGRATE": False}`` gets its tables without
    migrations, as there.
    """
    from django.conf import settings  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connections  # noqa: PLC0415

    previous = settings.MIGRATION_MODULES
    try:
        if connections[alias].settings_dict.get("TEST", {}).get("MIGRATE") is False:
            from django.apps import apps  # noqa: PLC0415

            settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
        call_command("migrate", database=alias, interactive=False, run_syncdb=True, verbosity=0)
    finally:
        settings.MIGRATION_MODULES = previous
        # Nothing may stay connected to a template: PostgreSQL copies it only when unused.
        # (Django's connections are per thread: this closes the ones migrate used.)
        connections.close_all()


def schema_digest() -> str:
    """What a kept template must have been migrated for, as Django sees it once set up.

    Its name keys the project's own ``migrations`` folders, Django's version and the settings
    module's path (known before the settings are read, see
    :mod:`suitekit.services._fingerprint`); this covers what only the settings say: the
    installed apps in their order, ``MIGRATION_MODULES``, ``AUTH_USER_MODEL``, each alias's
    ``TEST["MIGRATE"]``, and for every app the files of its migrations package wherever it is
    installed (a third-party app's too), or its models module when it has none (its tables
    come from ``run_syncdb``). A kept template marked with another digest is rebuilt.
    """
    import hashlib  # noqa: PLC0415

    from django.apps import apps  # noqa: PLC0415
    from django.conf import settings  # noqa: PLC0415
    from django.db import connections  # noqa: PLC0415

    digest = hashlib.sha256(b"suitekit-django-schema-1")

    def part(data: bytes) -> None:
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)

    part(repr(list(settings.INSTALLED_APPS)).encode())
    part(repr(sorted(getattr(settings, "MIGRATION_MODULES", {}).items())).encode())
    part(str(getattr(settings, "AUTH_USER_MODEL", "")).encode())
    migrate = [
        (a, connections[a].settings_dict.get("TEST", {}).get("MIGRATE")) for a in connections
    ]
    part(repr(migrate).encode())
    for app in apps.get_app_configs():
        part(app.label.encode())
        for data in _schema_files(app):
            part(data)
    return digest.hexdigest()[:16]


def _schema_files(app: Any) -> Iterator[bytes]:  # noqa: ANN401 - Django's AppConfig
    """The paths and contents of ``app``'s migrations package, else of its models module."""
    import importlib.util  # noqa: PLC0415
    import os  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from django.db.migrations.loader import MigrationLoader  # noqa: PLC0415

    module, _ = MigrationLoader.migrations_module(app.label)
    try:
        spec = importlib.util.find_spec(module) if module else None
    except (ImportError, ValueError):  # Django's migrate treats it as having none too
        spec = None
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    for location in map(Path, locations):
        for current, folders, names in os.walk(location, followlinks=False):
            folders[:] = sorted(f for f in folders if f != "__pycache__")
            for name in sorted(names):
                if not name.endswith((".pyc", ".pyo")):
                    path = Path(current) / name
                    yield path.relative_to(location).as_posix().encode()
                    yield path.read_bytes()
    models = getattr(app.models_module, "__file__", None)
    if not locations and models:
        yield Path(models).read_bytes()


# --- in a test process, with Django set up ---------------------------------------------------


@dataclass(slots=True)
class WorkerDatabases:
    """The databases of one test process: its clone used as is, the other aliases set up.

    Attributes:
        ours: The aliases whose database is this worker's clone.
        others: What Django's ``setup_databases`` returned for the other aliases.
        keep: Whether the other aliases' test databases are kept (``--reuse-db``).
    """

    ours: tuple[str, ...]
    others: list[Any]
    keep: bool

    @classmethod
    def setup(
        cls,
        database: str,
        *,
        aliases: Collection[str] | None,
        serialized: Collection[str] | None,
        verbosity: int,
        keepdb: bool,
        migrations: bool,
    ) -> WorkerDatabases:
        """Use ``database`` for the aliases that name it; let Django create the others.

        Args:
            database: This worker's clone (``suitekit_worker.database``).
            aliases: The aliases the collected tests need (``None``: all).
            serialized: Those of them whose contents ``serialized_rollback`` restores
                (``None``: all).
            verbosity: Django's verbosity for the other aliases' creation.
            keepdb: Keep (reuse) the other aliases' test databases (``--reuse-db``).
            migrations: Create the other aliases' databases with migrations (not with
                ``--no-migrations``).

        Raises:
            ServiceError: The clone is not migrated (the project's own setup did not migrate).
        """
        from django.core.management import call_command  # noqa: PLC0415
        from django.db import connections  # noqa: PLC0415
        from django.test.utils import setup_databases  # noqa: PLC0415

        wanted = list(connections) if aliases is None else [a for a in connections if a in aliases]
        ours = tuple(a for a in wanted if connections[a].settings_dict.get("NAME") == database)
        others = [a for a in wanted if a not in ours]
        for alias in ours:
            _check_migrated(alias, database)
            # create_test_db makes the database cache tables too; a no-op without them.
            call_command("createcachetable", database=alias)
        if not migrations:
            for alias in others:
                connections[alias].settings_dict.setdefault("TEST", {})["MIGRATE"] = False
        made = (
            setup_databases(
                verbosity,
                interactive=False,
                keepdb=keepdb,
                aliases=others,
                serialized_aliases=None if serialized is None else set(serialized) & set(others),
            )
            if others
            else []
        )
        for alias in ours:
            if serialized is None or alias in serialized:
                connection = connections[alias]
                connection._test_serialized_contents = connection.creation.serialize_db_to_string()  # noqa: SLF001 - where TransactionTestCase reads it
        return cls(ours=ours, others=made, keep=keepdb)

    def teardown(self, verbosity: int) -> None:
        """Drop the other aliases' test databases (unless kept); close every connection.

        The clone itself is suitekit's to drop, when the worker ends.
        """
        from django.db import connections  # noqa: PLC0415
        from django.test.utils import teardown_databases  # noqa: PLC0415

        try:
            if self.others and not self.keep:
                teardown_databases(self.others, verbosity=verbosity)
        finally:
            connections.close_all()


def _check_migrated(alias: str, database: str) -> None:
    from django.db import connections  # noqa: PLC0415
    from django.db.migrations.recorder import MigrationRecorder  # noqa: PLC0415

    connection = connections[alias]
    if MigrationRecorder(connection).has_table():
        return
    message = (
        f"Django's database {alias!r} is this worker's clone {database}, but it has no "
        "django_migrations table: the template's setup did not migrate it"
        '\n  fix: add "python manage.py migrate --noinput" to setup in '
        "[tool.suitekit.services.postgres] in pyproject.toml (or remove setup: suitekit then "
        "migrates the template itself)"
    )
    raise ServiceError(message)


# --- Django's test databases named after suitekit's clones ------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LeakedTestDatabase:
    """A Django test database named after one of suitekit's worker databases.

    Attributes:
        name: Its name, e.g. ``test_sk_2026..._integration_gw0_1a2b3c4d_gw0``.
        run_id: The run whose worker database it is named after.
        suite: That worker's suite.
        sessions: Sessions connected to it when it was listed.
    """

    name: str
    run_id: str
    suite: str
    sessions: int


def _splits(inner: str) -> Iterator[tuple[str, str, str]]:
    """Every way of reading ``run_suite_worker`` as three ``_``-joined, non-empty parts."""
    cuts = [i for i, char in enumerate(inner) if char == "_"]
    for first, second in ((a, b) for a in cuts for b in cuts if a < b):
        parts = (inner[:first], inner[first + 1 : second], inner[second + 1 :])
        if all(parts):
            yield parts


def parse_test_database(name: str) -> tuple[str, str, str] | None:
    """The (run, suite, worker) whose clone ``name`` is Django's test database of, if any.

    ``name`` must be ``test_`` + a name :func:`suitekit._naming.database_name` makes, with an
    optional suffix (pytest-django's ``_gw0``, tox's ``_py311``). The name's hash of run, suite
    and worker is checked, so a database someone named ``test_sk_...`` by hand is not
    suitekit's (short of a one in four billion coincidence).
    """
    if not name.startswith(TEST_PREFIX + _naming.PREFIX):
        return None
    body = name.removeprefix(TEST_PREFIX)
    for end in range(len(body), len(_naming.PREFIX) + _HASH_LENGTH, -1):
        if end < len(body) and body[end] != "_":
            continue
        start = end - _HASH_LENGTH
        if body[start - 1] != "_":
            continue
        inner = body[len(_naming.PREFIX) : start - 1]
        for run_id, suite, worker in _splits(inner):
            if _naming.database_name(run_id, suite, worker) == body[:end]:
                return run_id, suite, worker
    return None


def leaked_test_databases(server: PostgresServer) -> list[LeakedTestDatabase]:
    """Django test databases on ``server`` named after suitekit's worker databases."""
    found = []
    for name, sessions in _postgres.databases_with_prefix(server, TEST_PREFIX + _naming.PREFIX):
        parsed = parse_test_database(name)
        if parsed is not None:
            run_id, suite, _ = parsed
            found.append(
                LeakedTestDatabase(name=name, run_id=run_id, suite=suite, sessions=sessions)
            )
    return found


def drop_run_test_databases(server: PostgresServer, run_id: str, suite: str) -> list[str]:
    """Drop the Django test databases named after this run's and suite's worker databases.

    The run's controller calls it at the end, after its workers are gone: pytest-django's
    teardown fails (and leaves its database) when a test's thread still holds a connection,
    and a worker stopped by Ctrl-C or a crash never tears down. The names are matched
    against the run id and suite as given (not only their slugs).

    Returns:
        The names dropped.
    """
    stem = f"{_naming.PREFIX}{_naming.slug(run_id, 20)}_{_naming.slug(suite, 16)}_"
    dropped = []
    for name, _ in _postgres.databases_with_prefix(server, TEST_PREFIX + stem):
        rest = name.removeprefix(TEST_PREFIX + stem)
        for cut in (i for i, char in enumerate(rest) if char == "_"):
            # The worker id ends where the rest reads as its clone's exact name.
            clone = TEST_PREFIX + _naming.database_name(run_id, suite, rest[:cut])
            if name == clone or name.startswith(clone + "_"):
                _postgres.drop(server, name)
                dropped.append(name)
                break
    return dropped
