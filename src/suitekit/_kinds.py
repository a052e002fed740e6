"""The services suitekit knows, as data: one :class:`ServiceKind` each, in :data:`KINDS`.

A kind says everything about a service that is not behaviour: its name in ``services = [...]``
and in ``[tool.suitekit.services.<name>]``, the URL schemes and port of its servers, the fields
its ``env`` templates may use and its named presets, the keys of its table beyond ``url`` and
``env``, the variables that name a server, and the container CI runs it in. The config reader,
the hand-off, the CI generators, the servers' provider (``services._provide``), ``suitekit
clean`` and the report read it from here; what a
service *does* (start a server, give each worker its part, clean up) is its backend's, one module
in :mod:`suitekit.services` registered in ``services._backend.BACKENDS`` under the same name.

So a new service is one :class:`ServiceKind` here and one backend module with its registry line
(``tests/unit/test_service_kinds.py`` checks that the two registries name the same services).

Pure data: this module imports only :mod:`suitekit._handoff`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from suitekit._handoff import provided_url

__all__ = [
    "DATABASE_FIELDS",
    "KINDS",
    "MYSQL",
    "MYSQL_PRESETS",
    "MYSQL_SETTINGS",
    "NAMES",
    "POSTGRES",
    "POSTGRES_PRESETS",
    "POSTGRES_SETTINGS",
    "REDIS",
    "REDIS_PRESETS",
    "CiContainer",
    "CiTuning",
    "ServiceKind",
]


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True, kw_only=True)
class CiTuning:
    """A step that tunes a service container once it answers, on GitHub.

    GitLab passes :attr:`CiContainer.command` instead.

    Attributes:
        name: The step's name in the CI log.
        script: A POSIX shell script; ``$<NAME>_CONTAINER`` (``$POSTGRES_CONTAINER``) holds the
            container's id.
    """

    name: str
    script: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CiContainer:
    """How CI runs a service: an image, its port, and the URL the sessions are given.

    Attributes:
        image: The container image.
        port: The port the server listens on.
        url_template: The server's URL, with ``{host}`` where the CI's host name goes.
        variables: The container's environment.
        command: The container's command on GitLab (its server's settings).
        options: ``docker create`` options on GitHub: a tmpfs for its data, a health check.
        tuning: A step run once the container answers, on GitHub.
    """

    image: str
    port: int
    url_template: str
    variables: Mapping[str, str] = field(default_factory=_frozen)
    command: tuple[str, ...] = ()
    options: str = ""
    tuning: CiTuning | None = None

    def __post_init__(self) -> None:
        """Freeze ``variables`` whatever mapping the caller passed."""
        object.__setattr__(self, "variables", _frozen(self.variables))

    def url(self, host: str) -> str:
        """The server's URL when the job reaches it at ``host``."""
        return self.url_template.format(host=host)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceKind:
    """One service suitekit can provide (see the module's docstring).

    Attributes:
        name: Its name in ``services = [...]``; lower case.
        aliases: Other names ``services = [...]`` accepts for it (``mariadb`` for ``mysql``).
        display_name: Its name in messages (``PostgreSQL``).
        schemes: The URL schemes of its servers; the first is the one examples use.
        default_port: Its servers' usual port.
        user_url: The conventional variable a user sets to name a server of their own.
        fields: The fields its ``env`` templates may use.
        presets: Its named ``env`` shapes; ``url`` is the default.
        keys: The keys its ``[tool.suitekit.services.<name>]`` table takes.
        template: Whether it takes ``setup`` and ``keep-template``: a template migrated once
            and copied for each worker.
        ci: Its CI container.
    """

    name: str
    aliases: tuple[str, ...] = ()
    display_name: str
    schemes: tuple[str, ...]
    default_port: int
    user_url: str
    fields: tuple[str, ...]
    presets: Mapping[str, Mapping[str, str]]
    template: bool = False
    ci: CiContainer

    @property
    def provided_url(self) -> str:
        """The variable a layer that provides a server sets for the layers below it."""
        return provided_url(self.name)

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of its table."""
        return ("url", "env", "setup", "keep-template") if self.template else ("url", "env")

    @property
    def default_env(self) -> Mapping[str, str]:
        """The variables each worker gets unless ``env`` says otherwise: the ``url`` preset."""
        return self.presets["url"]

    @property
    def example_url(self) -> str:
        """A URL of a server on this host, for the fix of a message."""
        return self.ci.url("127.0.0.1")


def _presets(**shapes: dict[str, str]) -> Mapping[str, Mapping[str, str]]:
    """A service's named ``env`` shapes, frozen, in the order given (``url`` first)."""
    return MappingProxyType({name: MappingProxyType(dict(env)) for name, env in shapes.items()})


DATABASE_FIELDS: Final = ("url", "host", "port", "user", "password", "database", "netloc")
"""The fields of a SQL database server's ``env`` templates (PostgreSQL's, MariaDB's)."""

_DJANGO_ENV: Final = {
    "DATABASE_URL": "{url}",
    "DB_HOST": "{host}",
    "DB_PORT": "{port}",
    "DB_NAME": "{database}",
    "DB_USER": "{user}",
    "DB_PASSWORD": "{password}",
}
"""dj-database-url's and django-environ's ``DATABASE_URL``, and the split ``DB_*`` names
settings modules commonly build ``DATABASES`` from: the same for every SQL database."""

POSTGRES_PRESETS: Final = _presets(
    url={"DATABASE_URL": "{url}"},
    libpq={
        "PGHOST": "{host}",
        "PGPORT": "{port}",
        "PGUSER": "{user}",
        "PGPASSWORD": "{password}",
        "PGDATABASE": "{database}",
    },
    django=_DJANGO_ENV,
    sqlalchemy={"DATABASE_URL": "postgresql+psycopg://{netloc}/{database}"},
)
"""The named ``env`` shapes of ``[tool.suitekit.services.postgres]``: one word for a mapping.

``url`` is the default. ``libpq`` sets the variables every libpq client (psql, psycopg,
asyncpg) reads with no code at all; ``django`` the ``DATABASE_URL`` that dj-database-url and
django-environ read plus the split ``DB_*`` names settings modules commonly build ``DATABASES``
from; ``sqlalchemy`` a ``postgresql+psycopg://`` URL (psycopg 3, SQLAlchemy 2's name for it).
"""

REDIS_PRESETS: Final = _presets(
    url={"REDIS_URL": "{url}"},
    split={
        "REDIS_HOST": "{host}",
        "REDIS_PORT": "{port}",
        "REDIS_DB": "{db}",
        "REDIS_PASSWORD": "{password}",
    },
    celery={"CELERY_BROKER_URL": "{url}", "CELERY_RESULT_BACKEND": "{url}"},
)
"""The named ``env`` shapes of ``[tool.suitekit.services.redis]``: ``url`` is the default;
``celery`` sets the two variables Celery itself reads for its broker and result backend."""

POSTGRES_SETTINGS: Final = (
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
)
"""Server settings for a throwaway test database: durability buys nothing there, time does."""

_HEALTH: Final = "--health-interval 2s --health-timeout 5s --health-retries 30"


def _alter_system(settings: tuple[tuple[str, str], ...]) -> str:
    """A script that sets ``settings`` in the PostgreSQL container."""
    commands = [f'-c "ALTER SYSTEM SET {name} = {value}"' for name, value in settings]
    commands.append('-c "SELECT pg_reload_conf()"')
    lines = " \\\n".join(f"  {command}" for command in commands)
    return f'docker exec "$POSTGRES_CONTAINER" psql -U postgres \\\n{lines}\n'


POSTGRES: Final = ServiceKind(
    name="postgres",
    display_name="PostgreSQL",
    schemes=("postgresql", "postgres"),
    default_port=5432,
    user_url="DATABASE_URL",
    fields=DATABASE_FIELDS,
    presets=POSTGRES_PRESETS,
    template=True,
    ci=CiContainer(
        # Trust authentication: the container lives for one job and listens on its network only.
        image="postgres:16",
        port=5432,
        url_template="postgresql://postgres@{host}:5432/postgres",
        variables={"POSTGRES_HOST_AUTH_METHOD": "trust"},
        command=(
            "postgres",
            *(arg for name, value in POSTGRES_SETTINGS for arg in ("-c", f"{name}={value}")),
        ),
        options=f'--tmpfs /var/lib/postgresql/data --health-cmd "pg_isready -U postgres" {_HEALTH}',
        tuning=CiTuning(
            name="Tune PostgreSQL for tests (data on tmpfs, no fsync)",
            script=_alter_system(POSTGRES_SETTINGS),
        ),
    ),
)

REDIS: Final = ServiceKind(
    name="redis",
    display_name="Redis",
    schemes=("redis",),
    default_port=6379,
    user_url="REDIS_URL",
    fields=("url", "host", "port", "db", "password"),
    presets=REDIS_PRESETS,
    ci=CiContainer(
        image="redis:7",
        port=6379,
        url_template="redis://{host}:6379/0",
        command=("redis-server", "--save", "", "--appendonly", "no"),
        options=f'--tmpfs /data --health-cmd "redis-cli ping" {_HEALTH}',
    ),
)

MYSQL_PRESETS: Final = _presets(
    url={"MYSQL_URL": "{url}"},
    split={
        "MYSQL_HOST": "{host}",
        "MYSQL_PORT": "{port}",
        "MYSQL_USER": "{user}",
        "MYSQL_PASSWORD": "{password}",
        "MYSQL_DATABASE": "{database}",
    },
    django=_DJANGO_ENV,
    sqlalchemy={"MYSQL_URL": "mysql+pymysql://{netloc}/{database}"},
)
"""The named ``env`` shapes of ``[tool.suitekit.services.mysql]``: ``url`` is the default.

The default is ``MYSQL_URL``, not ``DATABASE_URL``: a suite that lists both ``postgres`` and
``mysql`` would otherwise have two databases under one name. ``split`` sets the ``MYSQL_*``
names settings modules commonly read; ``django`` the ``DATABASE_URL`` of dj-database-url and
django-environ plus the split ``DB_*`` names (a project with MariaDB alone); ``sqlalchemy`` a
``mysql+pymysql://`` URL.
"""

MYSQL_SETTINGS: Final = (
    ("innodb_flush_log_at_trx_commit", "0"),
    ("sync_binlog", "0"),
)
"""Server settings for a throwaway test database: durability buys nothing there, time does."""

MYSQL: Final = ServiceKind(
    name="mysql",
    aliases=("mariadb",),
    display_name="MariaDB/MySQL",
    schemes=("mysql", "mariadb"),
    default_port=3306,
    user_url="MYSQL_URL",
    fields=DATABASE_FIELDS,
    presets=MYSQL_PRESETS,
    template=True,
    ci=CiContainer(
        # An empty root password: the container lives for one job and listens on its network
        # only, as PostgreSQL's trusts every connection.
        image="mariadb:11",
        port=3306,
        url_template="mysql://root@{host}:3306/mysql",
        variables={"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD": "1"},
        command=(
            "mariadbd",
            "--skip-log-bin",
            *(f"--{name.replace('_', '-')}={value}" for name, value in MYSQL_SETTINGS),
        ),
        options=(
            "--tmpfs /var/lib/mysql "
            f'--health-cmd "healthcheck.sh --connect --innodb_initialized" {_HEALTH}'
        ),
        tuning=CiTuning(
            name="Tune MariaDB for tests (data on tmpfs, no flush at commit)",
            script=(
                'docker exec "$MYSQL_CONTAINER" mariadb -uroot -e "'
                + " ".join(f"SET GLOBAL {name} = {value};" for name, value in MYSQL_SETTINGS)
                + '"\n'
            ),
        ),
    ),
)

KINDS: Final[Mapping[str, ServiceKind]] = MappingProxyType(
    {kind.name: kind for kind in (POSTGRES, REDIS, MYSQL)}
)
"""Every service suitekit knows, by name; the order is the order of work and of messages."""

NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {name: kind.name for kind in KINDS.values() for name in (kind.name, *kind.aliases)}
)
"""Every name ``services = [...]`` accepts, with the service it names."""
