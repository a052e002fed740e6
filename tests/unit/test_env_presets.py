"""The named ``env`` shapes of the services: what each preset renders, and how they combine.

``[tool.suitekit.services.postgres] env = "libpq"`` (or an array of presets and tables) is read
by suitekit.config into templates, which the services render for a worker's database exactly as
they render a hand-written table (suitekit.services._postgres.render_env and the Redis
endpoint's fields).
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import pytest

from suitekit import ConfigError
from suitekit._model import POSTGRES_PRESETS, REDIS_PRESETS, PostgresConfig, RedisConfig
from suitekit.config import _POSTGRES_FIELDS, _REDIS_FIELDS
from suitekit.services._endpoints import PostgresServer, RedisServer
from suitekit.services._postgres import render_env
from tests.unit.test_config import ROOT, assert_well_formed, edited, make_folders, parse

POSTGRES: Final = (*ROOT, "services", "postgres", "env")
REDIS: Final = (*ROOT, "services", "redis", "env")
PG_KEY: Final = "tool.suitekit.services.postgres.env"
REDIS_KEY: Final = "tool.suitekit.services.redis.env"

# A password with every character a URL must quote, and an IPv6 host: what breaks hand-built URLs.
PASSWORD: Final = "p@ss/w:rd?#"
SERVER: Final = PostgresServer(host="::1", port=6543, user="app", password=PASSWORD)
DATABASE: Final = "sk_run_integration_gw0_ab12"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    make_folders(tmp_path)
    return tmp_path / "pyproject.toml"


def postgres_env(config_file: Path, value: object) -> dict[str, str]:
    """What a worker sees for ``DATABASE`` with ``env = value`` in the postgres table."""
    project = parse(edited((POSTGRES, value)), config_file)
    return render_env(project.postgres, SERVER, DATABASE)


def redis_env(config_file: Path, value: object, db: int = 3) -> dict[str, str]:
    project = parse(edited((REDIS, value)), config_file)
    fields = RedisServer(host="cache", port=6380, password="pw").fields(db)
    return {name: template.format(**fields) for name, template in project.redis.env.items()}


def test_the_url_preset_is_the_default(config_file: Path) -> None:
    assert postgres_env(config_file, "url") == render_env(PostgresConfig(), SERVER, DATABASE)
    assert postgres_env(config_file, "url") == {
        "DATABASE_URL": f"postgresql://app:p%40ss%2Fw%3Ard%3F%23@[::1]:6543/{DATABASE}"
    }


def test_the_libpq_preset_sets_the_pg_variables(config_file: Path) -> None:
    assert postgres_env(config_file, "libpq") == {
        "PGHOST": "::1",
        "PGPORT": "6543",
        "PGUSER": "app",
        "PGPASSWORD": PASSWORD,  # libpq reads it raw: no URL quoting
        "PGDATABASE": DATABASE,
    }


def test_the_django_preset_sets_the_url_and_the_split_names(config_file: Path) -> None:
    env = postgres_env(config_file, "django")

    assert env == {
        "DATABASE_URL": f"postgresql://app:p%40ss%2Fw%3Ard%3F%23@[::1]:6543/{DATABASE}",
        "DB_HOST": "::1",
        "DB_PORT": "6543",
        "DB_NAME": DATABASE,
        "DB_USER": "app",
        "DB_PASSWORD": PASSWORD,
    }


def test_the_sqlalchemy_preset_is_a_psycopg_url_that_parses_back(config_file: Path) -> None:
    url = postgres_env(config_file, "sqlalchemy")["DATABASE_URL"]
    parts = urlsplit(url)

    assert url == f"postgresql+psycopg://app:p%40ss%2Fw%3Ard%3F%23@[::1]:6543/{DATABASE}"
    # What SQLAlchemy's make_url (and any URL parser) reads back from it: the very server.
    assert (parts.scheme, parts.hostname, parts.port, parts.path) == (
        "postgresql+psycopg",
        "::1",
        6543,
        f"/{DATABASE}",
    )
    assert PostgresServer.from_url(url).password == PASSWORD


def test_presets_and_tables_combine_in_order(config_file: Path) -> None:
    env = postgres_env(config_file, ["url", "libpq", {"PGHOST": "{host}:{port}", "APP": "x"}])

    pg = ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"]
    assert list(env) == ["DATABASE_URL", *pg, "APP"]
    assert env["PGHOST"] == "::1:6543"  # the later table wins over the preset
    assert env["DATABASE_URL"].startswith("postgresql://")


def test_a_template_may_use_netloc(config_file: Path) -> None:
    env = postgres_env(config_file, {"ASYNC_URL": "postgresql+asyncpg://{netloc}/{database}"})

    assert env == {
        "ASYNC_URL": f"postgresql+asyncpg://app:p%40ss%2Fw%3Ard%3F%23@[::1]:6543/{DATABASE}"
    }


def test_the_redis_presets(config_file: Path) -> None:
    assert redis_env(config_file, "url") == {"REDIS_URL": "redis://:pw@cache:6380/3"}
    assert redis_env(config_file, "split") == {
        "REDIS_HOST": "cache",
        "REDIS_PORT": "6380",
        "REDIS_DB": "3",
        "REDIS_PASSWORD": "pw",
    }
    assert redis_env(config_file, "celery") == {
        "CELERY_BROKER_URL": "redis://:pw@cache:6380/3",
        "CELERY_RESULT_BACKEND": "redis://:pw@cache:6380/3",
    }
    assert RedisConfig().env == REDIS_PRESETS["url"]


@pytest.mark.parametrize(
    ("presets", "fields"),
    [(POSTGRES_PRESETS, _POSTGRES_FIELDS), (REDIS_PRESETS, _REDIS_FIELDS)],
    ids=["postgres", "redis"],
)
def test_every_preset_uses_only_its_services_fields(
    presets: dict[str, dict[str, str]], fields: tuple[str, ...]
) -> None:
    for name, templates in presets.items():
        used = {
            field
            for template in templates.values()
            for _, field, _, _ in string.Formatter().parse(template)
            if field is not None
        }
        assert used <= set(fields), name


@pytest.mark.parametrize(
    ("path", "value", "key", "pattern"),
    [
        (
            POSTGRES,
            "libqp",
            PG_KEY,
            (
                r"'libqp' is not a preset of this service \(did you mean 'libpq'\?\)\n"
                r"  fix: use one of: url, libpq, django, sqlalchemy \(see docs/services.md\)"
            ),
        ),
        (
            POSTGRES,
            ["url", "Django"],
            PG_KEY,
            r"'Django' is not a preset of this service \(did you mean 'django'\?\)",
        ),
        (
            REDIS,
            "celry",
            REDIS_KEY,
            (
                r"'celry' is not a preset of this service \(did you mean 'celery'\?\)\n"
                r"  fix: use one of: url, split, celery"
            ),
        ),
        (REDIS, "libpq", REDIS_KEY, r"'libpq' is not a preset of this service\n"),
        (
            POSTGRES,
            [],
            PG_KEY,
            (
                r"expected a preset's name, a table of templates or an array of them, "
                r"got an empty array"
            ),
        ),
        (POSTGRES, 5, PG_KEY, r"got an integer\n  fix: write env = \"url\""),
        (POSTGRES, ["url", 5], PG_KEY, r"5 is neither a preset's name nor a table of templates"),
        (
            POSTGRES,
            ["libpq", {"X": "{hots}"}],
            PG_KEY,
            r"X = '\{hots\}' uses an unknown field \{hots\} \(did you mean 'host'\?\)",
        ),
        (POSTGRES, ["libpq", {"1X": "{host}"}], f"{PG_KEY}.1X", r"not an environment variable"),
        (POSTGRES, ["libpq", {"X": "a\0b"}], f"{PG_KEY}.X", r"NUL byte"),
    ],
    ids=[
        "typo",
        "typo-in-array",
        "redis-typo",
        "other-services-preset",
        "empty-array",
        "integer",
        "integer-in-array",
        "bad-field-in-array-table",
        "bad-name-in-array-table",
        "nul-in-array-table",
    ],
)
def test_preset_errors(
    config_file: Path, path: tuple[str, ...], value: object, key: str, pattern: str
) -> None:
    with pytest.raises(ConfigError, match=pattern) as caught:
        parse(edited((path, value)), config_file)
    assert_well_formed(caught.value, file=config_file, key=key)
