"""Where a service runs: parsed from and written back to URLs (data that crosses processes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True, kw_only=True)
class PostgresServer:
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
        host, port, user, password, database = _split(url, "PostgreSQL", ("postgresql", "postgres"))
        return cls(
            host=host,
            port=port or 5432,
            user=user or "postgres",
            password=password,
            admin_database=database or "postgres",
        )

    def url(self, database: str | None = None, *, scheme: str = "postgresql") -> str:
        """The URL of ``database`` on this server (the admin database by default)."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        name = quote(database or self.admin_database, safe="")
        return f"{scheme}://{auth}@{_netloc_host(self.host)}:{self.port}/{name}"

    def fields(self, database: str) -> dict[str, str]:
        """The values the ``env`` templates of ``[tool.suitekit.services.postgres]`` can use.

        ``netloc`` is ``user[:password]@host:port`` as it stands in ``url`` (quoted, an IPv6
        host in brackets), so that a template can put another scheme in front
        (``postgresql+psycopg://{netloc}/{database}``) without breaking on a password that
        holds ``@`` or ``/``.
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

    def connect_kwargs(self, database: str | None = None) -> dict[str, str | int]:
        """Keyword arguments for ``psycopg.connect``."""
        kwargs: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": database or self.admin_database,
            "connect_timeout": 10,
        }
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
class MySQLServer:
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
        host, port, user, password, database = _split(url, "MariaDB/MySQL", ("mysql", "mariadb"))
        return cls(
            host=host,
            port=port or 3306,
            user=user or "root",
            password=password,
            admin_database=database,
        )

    def url(self, database: str | None = None, *, scheme: str = "mysql") -> str:
        """The URL of ``database`` on this server (the admin database by default)."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        name = quote(database if database is not None else self.admin_database, safe="")
        return f"{scheme}://{auth}@{_netloc_host(self.host)}:{self.port}/{name}"

    def fields(self, database: str) -> dict[str, str]:
        """The values the ``env`` templates of ``[tool.suitekit.services.mysql]`` can use.

        ``netloc`` is ``user[:password]@host:port`` as it stands in ``url`` (see
        :meth:`PostgresServer.fields`): ``mysql+pymysql://{netloc}/{database}``.
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

    def connect_kwargs(self, database: str | None = None) -> dict[str, str | int]:
        """Keyword arguments for ``pymysql.connect``."""
        kwargs: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "connect_timeout": 10,
            "charset": "utf8mb4",
        }
        name = database if database is not None else self.admin_database
        if name:
            kwargs["database"] = name
        return kwargs
