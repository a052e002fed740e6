"""Unit tests of service endpoints (suitekit.services._endpoints): URLs in, URLs out."""

from __future__ import annotations

import re
from typing import Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suitekit.config import _POSTGRES_FIELDS, _REDIS_FIELDS
from suitekit.errors import ServiceError
from suitekit.services._endpoints import PostgresServer, RedisServer

# Host names as urlsplit gives them back: lower-case labels, or IPv4 addresses.
hosts = st.one_of(
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){0,3}", fullmatch=True),
    st.tuples(*[st.integers(min_value=0, max_value=255)] * 4).map(
        lambda octets: ".".join(map(str, octets))
    ),
)
ports = st.integers(min_value=1, max_value=65535)
# Anything at all in credentials: '@', ':', '/', '%', spaces, unicode; not a lone surrogate,
# which neither TOML nor an environment variable decoded as UTF-8 can hold.
secrets = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=40)
tricky_secrets = st.text(st.sampled_from("@:/%?#[] a\u00e9"), max_size=20)
credentials = st.one_of(secrets, tricky_secrets)
# Database names as suitekit and most users write them.
databases = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True)


# Passwords the examples use (named, so that no literal looks like a leaked credential).
PLAIN: Final = "s3cret"
TRICKY: Final = "p@:/%x"  # '@', ':', '/' and '%' must all be quoted in a URL
WITH_AT: Final = "p@ss"


# -- PostgreSQL --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "postgresql://alice:s3cret@db.example:6543/app",
            PostgresServer(
                host="db.example", port=6543, user="alice", password=PLAIN, admin_database="app"
            ),
            id="everything",
        ),
        pytest.param(
            "postgresql+psycopg://alice@db.example/app",
            PostgresServer(host="db.example", user="alice", admin_database="app"),
            id="driver-suffix",
        ),
        pytest.param(
            "postgresql+psycopg2://h", PostgresServer(host="h"), id="another-driver-suffix"
        ),
        pytest.param("postgres://h", PostgresServer(host="h"), id="short-scheme"),
        pytest.param(
            "postgresql://h",
            PostgresServer(
                host="h", port=5432, user="postgres", password="", admin_database="postgres"
            ),
            id="defaults",
        ),
        pytest.param("postgresql://h/", PostgresServer(host="h"), id="empty-path"),
        pytest.param("postgresql://h:5433", PostgresServer(host="h", port=5433), id="port-only"),
        pytest.param(
            "postgresql://u:p%40%3A%2F%25x@h/app",
            PostgresServer(host="h", user="u", password=TRICKY, admin_database="app"),
            id="encoded-password",
        ),
        pytest.param(
            "postgresql://a%40b%3Ac@h/app",
            PostgresServer(host="h", user="a@b:c", admin_database="app"),
            id="encoded-user",
        ),
        pytest.param(
            "postgresql://u:p@ss@h/app",
            PostgresServer(host="h", user="u", password=WITH_AT, admin_database="app"),
            id="unencoded-at-in-password",
        ),
        pytest.param(
            "postgresql://u:@h/app",
            PostgresServer(host="h", user="u", admin_database="app"),
            id="empty-password",
        ),
        pytest.param(
            "postgresql://127.0.0.1:5432/postgres",
            PostgresServer(host="127.0.0.1"),
            id="ipv4",
        ),
        pytest.param(
            "postgresql://u@[::1]:5433/app",
            PostgresServer(host="::1", port=5433, user="u", admin_database="app"),
            id="ipv6",
        ),
    ],
)
def test_postgres_from_url(url: str, expected: PostgresServer) -> None:
    assert PostgresServer.from_url(url) == expected


@pytest.mark.parametrize(
    ("server", "url"),
    [
        pytest.param(PostgresServer(host="h"), "postgresql://postgres@h:5432/postgres", id="bare"),
        pytest.param(
            PostgresServer(host="h", port=1, user="a@b", password=TRICKY, admin_database="x"),
            "postgresql://a%40b:p%40%3A%2F%25x@h:1/x",
            id="encoded",
        ),
    ],
)
def test_postgres_url(server: PostgresServer, url: str) -> None:
    assert server.url() == url


def test_postgres_url_of_another_database_and_driver() -> None:
    server = PostgresServer(host="h", user="u", password=PLAIN)

    assert server.url("sk_db") == "postgresql://u:s3cret@h:5432/sk_db"
    assert server.url("sk_db", scheme="postgresql+psycopg") == (
        "postgresql+psycopg://u:s3cret@h:5432/sk_db"
    )
    assert PostgresServer.from_url(server.url("sk_db", scheme="postgresql+psycopg")) == (
        PostgresServer(host="h", user="u", password=PLAIN, admin_database="sk_db")
    )


@settings(database=None, max_examples=300)
@given(
    host=hosts,
    port=ports,
    user=credentials.filter(bool),
    password=credentials,
    database=databases,
)
def test_postgres_round_trip(host: str, port: int, user: str, password: str, database: str) -> None:
    server = PostgresServer(
        host=host, port=port, user=user, password=password, admin_database=database
    )

    assert PostgresServer.from_url(server.url()) == server
    assert PostgresServer.from_url(server.url(scheme="postgresql+psycopg")) == server
    assert PostgresServer.from_url(server.url()).url() == server.url()


@pytest.mark.parametrize("database", ["my db", "a%b", "x/y", "caf\u00e9"])
def test_postgres_round_trip_of_a_database_name_that_needs_quoting(database: str) -> None:
    server = PostgresServer(host="h", admin_database=database)

    assert PostgresServer.from_url(server.url()) == server


def test_postgres_round_trip_of_an_ipv6_host() -> None:
    url = "postgresql://u@[::1]:5433/app"

    assert PostgresServer.from_url(url).url() == url


def test_postgres_fields() -> None:
    server = PostgresServer(host="h", port=6543, user="u", password=WITH_AT)

    assert server.fields("sk_db") == {
        "url": "postgresql://u:p%40ss@h:6543/sk_db",
        "host": "h",
        "port": "6543",
        "user": "u",
        "password": WITH_AT,
        "database": "sk_db",
        "netloc": "u:p%40ss@h:6543",
    }


def test_postgres_fields_are_the_ones_the_config_allows() -> None:
    assert tuple(PostgresServer(host="h").fields("d")) == _POSTGRES_FIELDS


def test_postgres_connect_kwargs() -> None:
    with_password = PostgresServer(host="h", port=6543, user="u", password=PLAIN)
    without = PostgresServer(host="h")

    assert with_password.connect_kwargs("sk_db") == {
        "host": "h",
        "port": 6543,
        "user": "u",
        "dbname": "sk_db",
        "connect_timeout": 10,
        "password": PLAIN,
    }
    assert without.connect_kwargs() == {
        "host": "h",
        "port": 5432,
        "user": "postgres",
        "dbname": "postgres",
        "connect_timeout": 10,
    }


INVALID_POSTGRES: Final = [
    pytest.param(
        "mysql://u@h/app", "is not a postgresql:// URL of a PostgreSQL server", id="mysql"
    ),
    pytest.param(
        "redis://h:6379/0", "is not a postgresql:// URL of a PostgreSQL server", id="redis"
    ),
    pytest.param("localhost:5432", "is not a postgresql:// URL of a PostgreSQL server", id="bare"),
    pytest.param("not a url", "is not a postgresql:// URL of a PostgreSQL server", id="words"),
    pytest.param("", "is not a postgresql:// URL of a PostgreSQL server", id="empty"),
    pytest.param(
        "postgresql:///app", "is not a postgresql:// URL of a PostgreSQL server", id="no-host"
    ),
    pytest.param("postgresqlx://h/app", "is not a postgresql:// URL", id="scheme-prefix"),
    pytest.param("postgresql://h:99999/app", "has an invalid port", id="port-too-big"),
    pytest.param("postgresql://h:abc/app", "has an invalid port", id="port-not-a-number"),
    pytest.param("postgresql://u:p/w@h/app", "has an invalid port", id="unencoded-slash"),
]


@pytest.mark.parametrize(("url", "problem"), INVALID_POSTGRES)
def test_postgres_invalid_urls(url: str, problem: str) -> None:
    with pytest.raises(ServiceError, match=rf"^{re.escape(repr(url))} {problem}"):
        PostgresServer.from_url(url)


@pytest.mark.parametrize("url", ["postgresql://[::1/app", "postgresql://u@h]/app"])
def test_postgres_malformed_brackets_are_a_service_error(url: str) -> None:
    with pytest.raises(ServiceError, match=re.escape(repr(url))):
        PostgresServer.from_url(url)


# -- Redis -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "redis://:s3cret@cache.example:6380/4",
            RedisServer(host="cache.example", port=6380, password=PLAIN),
            id="everything",
        ),
        pytest.param("redis://h", RedisServer(host="h", port=6379, password=""), id="defaults"),
        pytest.param("redis://h/7", RedisServer(host="h"), id="db-ignored"),
        pytest.param(
            "redis://:p%40%3A%2F%25x@h:1/0",
            RedisServer(host="h", port=1, password=TRICKY),
            id="encoded-password",
        ),
        pytest.param(
            "redis://user:s3cret@h",
            RedisServer(host="h", password=PLAIN, username="user"),
            id="acl-user-is-kept",
        ),
        pytest.param("redis://[::1]:6380", RedisServer(host="::1", port=6380), id="ipv6"),
    ],
)
def test_redis_from_url(url: str, expected: RedisServer) -> None:
    assert RedisServer.from_url(url) == expected


def test_redis_url() -> None:
    assert RedisServer(host="h").url() == "redis://h:6379/0"
    assert RedisServer(host="h", port=1, password=TRICKY).url(5) == "redis://:p%40%3A%2F%25x@h:1/5"


@settings(database=None, max_examples=300)
@given(host=hosts, port=ports, password=credentials, db=st.integers(0, 15))
def test_redis_round_trip(host: str, port: int, password: str, db: int) -> None:
    server = RedisServer(host=host, port=port, password=password)

    assert RedisServer.from_url(server.url(db)) == server
    assert RedisServer.from_url(server.url(db)).url(db) == server.url(db)


def test_redis_round_trip_of_an_ipv6_host() -> None:
    url = "redis://[::1]:6380/0"

    assert RedisServer.from_url(url).url() == url


def test_redis_fields() -> None:
    server = RedisServer(host="h", port=6380, password=WITH_AT)

    assert server.fields(3) == {
        "url": "redis://:p%40ss@h:6380/3",
        "host": "h",
        "port": "6380",
        "db": "3",
        "password": WITH_AT,
    }


def test_redis_fields_are_the_ones_the_config_allows() -> None:
    assert tuple(RedisServer(host="h").fields(0)) == _REDIS_FIELDS


INVALID_REDIS: Final = [
    pytest.param("postgresql://h/app", "is not a redis:// URL of a Redis server", id="postgres"),
    pytest.param("http://h", "is not a redis:// URL of a Redis server", id="http"),
    pytest.param("h:6379", "is not a redis:// URL of a Redis server", id="bare"),
    pytest.param("redis:///0", "is not a redis:// URL of a Redis server", id="no-host"),
    pytest.param("redis://h:70000/0", "has an invalid port", id="port-too-big"),
    pytest.param("redis://h:port/0", "has an invalid port", id="port-not-a-number"),
]


@pytest.mark.parametrize(("url", "problem"), INVALID_REDIS)
def test_redis_invalid_urls(url: str, problem: str) -> None:
    with pytest.raises(ServiceError, match=rf"^{re.escape(repr(url))} {problem}"):
        RedisServer.from_url(url)


def test_redis_malformed_brackets_are_a_service_error() -> None:
    url = "redis://[::1:6379/0"

    with pytest.raises(ServiceError, match=re.escape(repr(url))):
        RedisServer.from_url(url)


def test_a_redis_acl_user_survives_the_round_trip() -> None:
    server = RedisServer.from_url("redis://app:s3cret@h:6379/0")
    assert server.url(3) == "redis://app:s3cret@h:6379/3"
    assert RedisServer.from_url(server.url(3)) == server
