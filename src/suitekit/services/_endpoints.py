"""Where a service runs: parsed from and written back to URLs (data that crosses processes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self
from urllib.parse import quote, unquote, urlsplit

from suitekit.errors import ServiceError

__all__ = ["MySQLServer", "PostgresServer", "RedisServer", "render_env"]


def _split(url: str, what: str, schemes: tuple[str, ...]) -> tuple[str, int | None, str, str, str]:
    try:
        parts = urlsplit(url)
    except ValueError as error:
        message = f"{url!r} is not a {schemes[0]}:// URL of a {what} server: {error}"
        raise ServiceError(message) from None
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in schemes or not parts.hostname:
        message = f"{url!r} is not a {schemes[0]}:// URL of a {what} server"
        raise ServiceError(message)
    try:
        port = parts.port
    except ValueError:
        message = f"{url!r} has an invalid port"
        raise ServiceError(message) from None
    return (
        parts.hostname,
        port,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        unquote(parts.path.lstrip("/")),
    )


def render_env(templates: Mapping[str, str], fields: Mapping[str, str]) -> dict[str, str]:
    """A service's ``env`` templates filled in with the ``fields`` of its server's part."""
    return {name: template.format(**fields) for name, template in templates.items()}


def _netloc_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class _DatabaseAccount:
    """What PostgreSQL's and MariaDB's servers share: an account on a host, a URL per database.

    The dataclasses below declare the fields (with each server's defaults) and how their client
    library connects; their URLs, parsing and ``env`` fields are the same and written here.
    """

    __slots__ = ()

    host: str
    port: int
    user: str
    password: str
    admin_database: str

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            host: str,
            port: int = ...,
            user: str = ...,
            password: str = ...,
            admin_database: str = ...,
        ) -> None: ...

        def url(self, database: str | None = None) -> str:
            """The URL of ``database`` on this server (the admin database by default)."""

    @classmethod
    def _parse(cls, url: str, what: str, schemes: tuple[str, ...]) -> Self:
        """Parse ``url``; what it leaves out (port, user, database) is the server's default.

        Raises:
            ServiceError: The URL is not one of ``schemes``.
        """
        host, port, user, password, database = _split(url, what, schemes)
        default = cls(host=host)
        return cls(
            host=host,
            port=port or default.port,
            user=user or default.user,
            password=password,
            admin_database=database or default.admin_database,
        )

    def _url(self, scheme: str, database: str) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        name = quote(database, safe="")
        return f"{scheme}://{auth}@{_netloc_host(self.host)}:{self.port}/{name}"

    def fields(self, database: str) -> dict[str, str]:
        """The values a service's ``env`` templates can use for ``database``.

        ``netloc`` is ``user[:password]@host:port`` as it stands in ``url`` (quoted, an IPv6
        host in brackets), so that a template can put another scheme in front
        (``postgresql+psycopg://{netloc}/{database}``, ``mysql+pymysql://{netloc}/{database}``)
        without breaking on a password that holds ``@`` or ``/``.
        """
        url = self.url(database)
        return {
            "url": url,
            "host": self.host,
            "port": str(self.port),
            "user": self.user,
            "password": self.password,
            "database": database,
            "netloc": urlsplit(url).netloc,
        }

    def _connect_kwargs(self, **extra: str | int) -> dict[str, str | int]:
        """Keyword arguments every client library's ``connect`` takes, and ``extra``."""
        return {"host": self.host, "port": self.port, "user": self.user, **extra}


@dataclass(frozen=True, slots=True, kw_only=True)
class PostgresServer(_DatabaseAccount):
    """A PostgreSQL server and the account suitekit administers databases with.

    Attributes:
        host: Host name or address.
        port: TCP port.
        user: The role (it must be allowed to create databases).
        password: Its password, or empty.
        admin_database: A database to connect to for administration.
    """

    host: str
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    admin_database: str = "postgres"

    @classmethod
    def from_url(cls, url: str) -> PostgresServer:
        """Parse ``postgresql://user:password@host:port/database`` (any driver suffix).

        Raises:
            ServiceError: The URL is not a PostgreSQL URL.
        """
        return cls._parse(url, "PostgreSQL", ("postgresql", "postgres"))

    def url(self, database: str | None = None, *, scheme: str = "postgresql") -> str:
        """The URL of ``database`` on this server (the admin database by default)."""
        return self._url(scheme, database or self.admin_database)

    def connect_kwargs(self, database: str | None = None) -> dict[str, str | int]:
        """Keyword arguments for suitekit's PostgreSQL client (and ``psycopg.connect``)."""
        kwargs = self._connect_kwargs(dbname=database or self.admin_database, connect_timeout=10)
        if self.password:
            kwargs["password"] = self.password
        return kwargs


@dataclass(frozen=True, slots=True, kw_only=True)
class RedisServer:
    """A Redis server.

    Attributes:
        host: Host name or address.
        port: TCP port.
        password: Its password, or empty.
        username: An ACL user (Redis 6+), or empty for the default user.
    """

    host: str
    port: int = 6379
    password: str = ""
    username: str = ""

    @classmethod
    def from_url(cls, url: str) -> RedisServer:
        """Parse ``redis://:password@host:port/db`` (the database number is ignored).

        Raises:
            ServiceError: The URL is not a Redis URL.
        """
        host, port, username, password, _ = _split(url, "Redis", ("redis",))
        return cls(host=host, port=port or 6379, password=password, username=username)

    def url(self, db: int = 0) -> str:
        """The URL of logical database ``db`` on this server."""
        auth = ""
        if self.username or self.password:
            password = f":{quote(self.password, safe='')}" if self.password else ""
            auth = f"{quote(self.username, safe='')}{password}@"
        return f"redis://{auth}{_netloc_host(self.host)}:{self.port}/{db}"

    def fields(self, db: int) -> dict[str, str]:
        """The values the ``env`` templates of ``[tool.suitekit.services.redis]`` can use."""
        return {
            "url": self.url(db),
            "host": self.host,
            "port": str(self.port),
            "db": str(db),
            "password": self.password,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MySQLServer(_DatabaseAccount):
    """A MariaDB (or MySQL) server and the account suitekit administers databases with.

    Attributes:
        host: Host name or address.
        port: TCP port.
        user: The account (it must be allowed to create and drop databases).
        password: Its password, or empty.
        admin_database: A database to connect to for administration, or empty for none.
    """

    host: str
    port: int = 3306
    user: str = "root"
    password: str = ""
    admin_database: str = ""

    @classmethod
    def from_url(cls, url: str) -> MySQLServer:
        """Parse ``mysql://user:password@host:port/database`` (or ``mariadb://``, any driver).

        Raises:
            ServiceError: The URL is not a MariaDB/MySQL URL.
        """
        return cls._parse(url, "MariaDB/MySQL", ("mysql", "mariadb"))

    def url(self, database: str | None = None, *, scheme: str = "mysql") -> str:
        """The URL of ``database`` on this server (the admin database by default)."""
        return self._url(scheme, database if database is not None else self.admin_database)

    def connect_kwargs(self, database: str | None = None) -> dict[str, str | int]:
        """Keyword arguments for ``pymysql.connect``."""
        kwargs = self._connect_kwargs(password=self.password, connect_timeout=10, charset="utf8mb4")
        name = database if database is not None else self.admin_database
        if name:
            kwargs["database"] = name
        return kwargs
