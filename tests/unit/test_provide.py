"""Unit tests of how services are found (suitekit.services._provide); no server is started."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import pytest

from suitekit import Project
from suitekit._model import PostgresConfig, RedisConfig, Service
from suitekit.errors import ServiceError
from suitekit.services._provide import PROVIDED_URL, USER_URL, provide, server_urls

ROOT: Final = Path("/work/bookshop")
CONFIG_PG: Final = "postgresql://config@pg.config:5432/app"
USER_PG: Final = "postgresql://user@pg.user:5432/app"
OUTER_PG: Final = "postgresql://outer@127.0.0.1:41000/postgres"
CONFIG_REDIS: Final = "redis://redis.config:6379/0"
USER_REDIS: Final = "redis://redis.user:6379/0"
OUTER_REDIS: Final = "redis://127.0.0.1:41001/0"

# Nothing to find: no binaries on PATH or in the named places, Docker ruled out.
NOTHING: Final = {
    "PATH": "/nonexistent",
    "SUITEKIT_POSTGRES_BINDIR": "",
    "SUITEKIT_REDIS_SERVER": "",
    "SUITEKIT_DOCKER": "0",
}


def project(*, postgres_url: str | None = None, redis_url: str | None = None) -> Project:
    return Project(
        root=ROOT,
        config_file=ROOT / "pyproject.toml",
        python=("3.11",),
        services={
            "postgres": PostgresConfig(url=postgres_url),
            "redis": RedisConfig(url=redis_url),
        },
    )


def test_the_variable_names() -> None:
    assert dict(PROVIDED_URL) == {
        "postgres": "SUITEKIT_POSTGRES_URL",
        "redis": "SUITEKIT_REDIS_URL",
        "mysql": "SUITEKIT_MYSQL_URL",
    }
    assert dict(USER_URL) == {
        "postgres": "DATABASE_URL",
        "redis": "REDIS_URL",
        "mysql": "MYSQL_URL",
    }


# -- server_urls: precedence -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "config", "expected"),
    [
        pytest.param({}, None, None, id="nothing"),
        pytest.param({}, CONFIG_PG, CONFIG_PG, id="config"),
        pytest.param({"DATABASE_URL": USER_PG}, None, USER_PG, id="user"),
        pytest.param({"DATABASE_URL": USER_PG}, CONFIG_PG, USER_PG, id="user-over-config"),
        pytest.param({"SUITEKIT_POSTGRES_URL": OUTER_PG}, CONFIG_PG, OUTER_PG, id="outer-config"),
        pytest.param(
            {"SUITEKIT_POSTGRES_URL": OUTER_PG, "DATABASE_URL": USER_PG},
            CONFIG_PG,
            OUTER_PG,
            id="outer-over-everything",
        ),
        pytest.param({"DATABASE_URL": ""}, CONFIG_PG, CONFIG_PG, id="empty-user-is-unset"),
        pytest.param(
            {"SUITEKIT_POSTGRES_URL": "", "DATABASE_URL": USER_PG},
            None,
            USER_PG,
            id="empty-outer-is-unset",
        ),
        pytest.param({"REDIS_URL": USER_REDIS}, None, None, id="the-other-service-s-variable"),
    ],
)
def test_postgres_precedence(
    environ: dict[str, str], config: str | None, expected: str | None
) -> None:
    found = server_urls(project(postgres_url=config), environ)

    assert found.get("postgres") == expected


@pytest.mark.parametrize(
    ("environ", "config", "expected"),
    [
        pytest.param({}, None, None, id="nothing"),
        pytest.param({}, CONFIG_REDIS, CONFIG_REDIS, id="config"),
        pytest.param({"REDIS_URL": USER_REDIS}, None, USER_REDIS, id="user"),
        pytest.param({"REDIS_URL": USER_REDIS}, CONFIG_REDIS, USER_REDIS, id="user-over-config"),
        pytest.param(
            {"SUITEKIT_REDIS_URL": OUTER_REDIS, "REDIS_URL": USER_REDIS},
            CONFIG_REDIS,
            OUTER_REDIS,
            id="outer-over-everything",
        ),
        pytest.param({"REDIS_URL": ""}, CONFIG_REDIS, CONFIG_REDIS, id="empty-user-is-unset"),
        pytest.param({"DATABASE_URL": USER_PG}, None, None, id="the-other-service-s-variable"),
    ],
)
def test_redis_precedence(
    environ: dict[str, str], config: str | None, expected: str | None
) -> None:
    found = server_urls(project(redis_url=config), environ)

    assert found.get("redis") == expected


def test_server_urls_names_both_services_independently() -> None:
    environ = {"SUITEKIT_POSTGRES_URL": OUTER_PG, "REDIS_URL": USER_REDIS}

    found = server_urls(project(postgres_url=CONFIG_PG, redis_url=CONFIG_REDIS), environ)

    assert found == {"postgres": OUTER_PG, "redis": USER_REDIS}


def test_server_urls_is_empty_when_nothing_is_named() -> None:
    assert server_urls(project(), NOTHING) == {}


# -- provide: nothing to do, and nothing that works --------------------------------------------


def test_provide_nothing_yields_no_variables() -> None:
    with provide(project(), [], NOTHING) as env:
        assert env == {}


# What the message says, fragment by fragment (each a regex searched in the whole message).
POSTGRES_FAILURE: Final = [
    r"^cannot provide postgres; tried:\n",
    r"\n  1\. a URL: DATABASE_URL is not set and ",
    r"\[tool\.suitekit\.services\.postgres\] url is not given\n",
    r"\n  2\. a throwaway server from local binaries: initdb and postgres were not found ",
    r"\(SUITEKIT_POSTGRES_BINDIR, PATH, pg_config --bindir, /usr/lib/postgresql/\*/bin\)\n",
    r"\n  3\. a Docker container: not tried \(SUITEKIT_DOCKER=0\)\n",
    r"\n  fix: set DATABASE_URL=postgresql://postgres@127\.0\.0\.1:5432/postgres ",
    r"to use a server you run, or install PostgreSQL's server binaries ",
    r"Debian/Ubuntu: apt install postgresql;",
    r"Fedora: dnf install postgresql-server;",
    r"macOS: brew install postgresql@16\), or start Docker$",
]
REDIS_FAILURE: Final = [
    r"^cannot provide redis; tried:\n",
    r"\n  1\. a URL: REDIS_URL is not set and ",
    r"\[tool\.suitekit\.services\.redis\] url is not given\n",
    r"\n  2\. a throwaway server from local binaries: redis-server was not found ",
    r"\(SUITEKIT_REDIS_SERVER, PATH\)\n",
    r"\n  3\. a Docker container: not tried \(SUITEKIT_DOCKER=0\)\n",
    r"\n  fix: set REDIS_URL=redis://127\.0\.0\.1:6379/0 ",
    r"to use a server you run, or install redis-server ",
    r"Debian/Ubuntu: apt install redis-server;",
    r"Fedora: dnf install redis;",
    r"macOS: brew install redis\), or start Docker$",
]


@pytest.mark.parametrize(
    ("service", "lines"),
    [
        pytest.param("postgres", POSTGRES_FAILURE, id="postgres"),
        pytest.param("redis", REDIS_FAILURE, id="redis"),
    ],
)
def test_provide_says_what_it_tried_and_how_to_fix_it(service: Service, lines: list[str]) -> None:
    with (
        pytest.raises(ServiceError, match=rf"^cannot provide {service}; tried:") as caught,
        provide(project(), [service], NOTHING),
    ):
        pytest.fail("provide() found a server where there is none")

    message = str(caught.value)
    for line in lines:
        assert re.search(line, message), (line, message)


@pytest.mark.parametrize("service", ["postgres", "redis"])
def test_provide_fails_the_same_way_with_only_the_brief_environment(service: Service) -> None:
    """Setting only the variable of the service asked for is enough to rule out every way."""
    variable = "SUITEKIT_POSTGRES_BINDIR" if service == "postgres" else "SUITEKIT_REDIS_SERVER"
    environ = {"PATH": "/nonexistent", variable: "", "SUITEKIT_DOCKER": "0"}

    with (
        pytest.raises(
            ServiceError,
            match=rf"(?s)^cannot provide {service}; tried:.*  1\. a URL: .*"
            r"  2\. a throwaway server from local binaries: .*"
            r"  3\. a Docker container: .*  fix: set ",
        ),
        provide(project(), [service], environ),
    ):
        pytest.fail("provide() found a server where there is none")


def test_binaries_named_but_missing_count_as_not_found(tmp_path: Path) -> None:
    environ = {
        **NOTHING,
        "SUITEKIT_POSTGRES_BINDIR": str(tmp_path),
        "SUITEKIT_REDIS_SERVER": str(tmp_path / "redis-server"),
    }

    with (
        pytest.raises(ServiceError, match=r"initdb and postgres were not found"),
        provide(project(), ["postgres"], environ),
    ):
        pytest.fail("provide() found a server where there is none")
    with (
        pytest.raises(ServiceError, match=r"redis-server was not found"),
        provide(project(), ["redis"], environ),
    ):
        pytest.fail("provide() found a server where there is none")


def test_the_first_service_that_cannot_be_provided_is_named() -> None:
    with (
        pytest.raises(ServiceError, match=r"^cannot provide redis; "),
        provide(project(), ["redis", "postgres"], NOTHING),
    ):
        pytest.fail("provide() found a server where there is none")
