"""Unit tests of the services and isolation keys of ``[tool.suitekit]``, and the plan's use of them.

Covers ``[tool.suitekit.services.postgres]``, ``[tool.suitekit.services.redis]`` and
``[tool.suitekit.isolation]`` (suitekit.config), and ``hashseed``, ``collection_suite``,
``partition_job`` and ``jobs`` (suitekit.plan).
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Final, cast

import pytest

from suitekit import Check, ConfigError, Project, Suite
from suitekit._model import Isolation, PostgresConfig, RedisConfig, SetupStep
from suitekit.plan import collection_suite, hashseed, jobs, partition_job
from suitekit.services._endpoints import PostgresServer, RedisServer
from tests.unit.test_config import (
    EXAMPLE,
    ROOT,
    Edit,
    assert_well_formed,
    edited,
    make_folders,
    parse,
)

SERVICES: Final = (*ROOT, "services")
POSTGRES: Final = (*SERVICES, "postgres")
REDIS: Final = (*SERVICES, "redis")
ISOLATION: Final = (*ROOT, "isolation")

PG_KEY: Final = "tool.suitekit.services.postgres"
REDIS_KEY: Final = "tool.suitekit.services.redis"
ISOLATION_KEY: Final = "tool.suitekit.isolation"

FULL: Final = (
    EXAMPLE
    + """
[tool.suitekit.services.postgres]
url = "postgresql+psycopg://app:secret@db.internal:5433/app"
setup = ["alembic upgrade head", { sql = "CREATE EXTENSION IF NOT EXISTS hstore" }]
keep-template = ["migrations/**/*.py", "alembic.ini"]

[tool.suitekit.services.postgres.env]
DATABASE_URL = "{url}"
PGHOST = "{host}"
PGPORT = "{port}"
PGUSER = "{user}"
PGPASSWORD = "{password}"
PGDATABASE = "{database}"
DSN = "host={host} port={port} dbname={database} options={{-c search_path=app}}"

[tool.suitekit.services.redis]
url = "redis://:pw@cache.internal:6380/0"

[tool.suitekit.services.redis.env]
REDIS_URL = "{url}"
CELERY_BROKER_URL = "redis://{host}:{port}/{db}"
REDIS_PASSWORD = "{password}"

[tool.suitekit.isolation]
dirs = ["MEDIA_ROOT", "CACHE_DIR"]
ports = 10
hashseed = 1234
"""
)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """Where the parsed documents claim to come from; the example's folders exist beside it."""
    make_folders(tmp_path)
    return tmp_path / "pyproject.toml"


def full_project(config_file: Path) -> Project:
    return parse(tomllib.loads(FULL), config_file)


# -- the happy path ----------------------------------------------------------------------------


def test_the_defaults_without_services_or_isolation(config_file: Path) -> None:
    project = parse(edited(), config_file)

    assert project.postgres == PostgresConfig()
    assert project.redis == RedisConfig()
    assert project.isolation == Isolation()
    assert dict(project.postgres.env) == {"DATABASE_URL": "{url}"}
    assert dict(project.redis.env) == {"REDIS_URL": "{url}"}
    assert project.postgres.url is None
    assert project.redis.url is None
    assert project.isolation.hashseed is None


def test_empty_tables_keep_the_defaults(config_file: Path) -> None:
    document = edited((POSTGRES, {}), (REDIS, {}), (ISOLATION, {}))

    project = parse(document, config_file)

    assert (project.postgres, project.redis, project.isolation) == (
        PostgresConfig(),
        RedisConfig(),
        Isolation(),
    )


def test_every_key_is_read(config_file: Path) -> None:
    project = full_project(config_file)

    assert project.postgres == PostgresConfig(
        url="postgresql+psycopg://app:secret@db.internal:5433/app",
        env={
            "DATABASE_URL": "{url}",
            "PGHOST": "{host}",
            "PGPORT": "{port}",
            "PGUSER": "{user}",
            "PGPASSWORD": "{password}",
            "PGDATABASE": "{database}",
            "DSN": "host={host} port={port} dbname={database} options={{-c search_path=app}}",
        },
        setup=(
            SetupStep(command="alembic upgrade head"),
            SetupStep(sql="CREATE EXTENSION IF NOT EXISTS hstore"),
        ),
        keep_template=("migrations/**/*.py", "alembic.ini"),
    )
    assert project.redis == RedisConfig(
        url="redis://:pw@cache.internal:6380/0",
        env={
            "REDIS_URL": "{url}",
            "CELERY_BROKER_URL": "redis://{host}:{port}/{db}",
            "REDIS_PASSWORD": "{password}",
        },
    )
    assert project.isolation == Isolation(dirs=("MEDIA_ROOT", "CACHE_DIR"), ports=10, hashseed=1234)


def test_the_templates_render_with_the_endpoints_fields(config_file: Path) -> None:
    project = full_project(config_file)
    assert project.postgres.url is not None
    assert project.redis.url is not None
    postgres = PostgresServer.from_url(project.postgres.url)
    redis = RedisServer.from_url(project.redis.url)

    rendered = {k: t.format(**postgres.fields("sk_db")) for k, t in project.postgres.env.items()}
    rendered |= {k: t.format(**redis.fields(3)) for k, t in project.redis.env.items()}

    assert rendered == {
        "DATABASE_URL": "postgresql://app:secret@db.internal:5433/sk_db",
        "PGHOST": "db.internal",
        "PGPORT": "5433",
        "PGUSER": "app",
        "PGPASSWORD": "secret",
        "PGDATABASE": "sk_db",
        "DSN": "host=db.internal port=5433 dbname=sk_db options={-c search_path=app}",
        "REDIS_URL": "redis://:pw@cache.internal:6380/3",
        "CELERY_BROKER_URL": "redis://cache.internal:6380/3",
        "REDIS_PASSWORD": "pw",
    }


def test_given_env_templates_replace_the_default(config_file: Path) -> None:
    document = edited(
        ((*POSTGRES, "env"), {"PG_DSN": "{url}"}), ((*REDIS, "env"), {"CACHE": "{url}"})
    )

    project = parse(document, config_file)

    assert dict(project.postgres.env) == {"PG_DSN": "{url}"}
    assert dict(project.redis.env) == {"CACHE": "{url}"}


def test_an_empty_env_table_sets_no_variable(config_file: Path) -> None:
    project = parse(edited(((*POSTGRES, "env"), {})), config_file)

    assert dict(project.postgres.env) == {}


def test_templates_may_use_format_specs_and_literal_braces(config_file: Path) -> None:
    templates = {"PORT": "{port:>6}", "JSON": '{{"db": "{database}"}}', "PLAIN": "no fields"}

    project = parse(edited(((*POSTGRES, "env"), templates)), config_file)

    assert dict(project.postgres.env) == templates


def test_the_env_mappings_are_read_only(config_file: Path) -> None:
    project = full_project(config_file)

    with pytest.raises(TypeError, match=r"does not support item assignment"):
        cast("dict[str, str]", project.postgres.env)["X"] = "{url}"
    with pytest.raises(TypeError, match=r"does not support item assignment"):
        cast("dict[str, str]", project.redis.env)["X"] = "{url}"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/postgres",
        "postgres://h/app",
        "postgresql+psycopg://h/app",
        "postgresql+asyncpg://u:p@h:1/app",
    ],
)
def test_postgres_url_schemes(config_file: Path, url: str) -> None:
    project = parse(edited(((*POSTGRES, "url"), url)), config_file)

    assert project.postgres.url == url


def test_setup_as_a_single_command(config_file: Path) -> None:
    project = parse(edited(((*POSTGRES, "setup"), "alembic upgrade head")), config_file)

    assert project.postgres.setup == (SetupStep(command="alembic upgrade head"),)


def test_setup_keeps_its_order(config_file: Path) -> None:
    steps = [{"sql": "CREATE SCHEMA app"}, "alembic upgrade head", {"sql": "ANALYZE"}]

    project = parse(edited(((*POSTGRES, "setup"), steps)), config_file)

    assert project.postgres.setup == (
        SetupStep(sql="CREATE SCHEMA app"),
        SetupStep(command="alembic upgrade head"),
        SetupStep(sql="ANALYZE"),
    )


@pytest.mark.parametrize(
    ("isolation", "expected"),
    [
        pytest.param({"ports": 0}, Isolation(ports=0), id="ports-0"),
        pytest.param({"ports": 1000}, Isolation(ports=1000), id="ports-1000"),
        pytest.param({"hashseed": 0}, Isolation(hashseed=0), id="hashseed-0"),
        pytest.param({"hashseed": 4294967295}, Isolation(hashseed=4294967295), id="hashseed-max"),
        pytest.param({"dirs": []}, Isolation(), id="no-dirs"),
        pytest.param({"dirs": ["_tmp", "x1"]}, Isolation(dirs=("_tmp", "x1")), id="dir-names"),
    ],
)
def test_isolation_bounds(
    config_file: Path, isolation: dict[str, object], expected: Isolation
) -> None:
    project = parse(edited((ISOLATION, isolation)), config_file)

    assert project.isolation == expected


# -- every error, with its text ----------------------------------------------------------------

ERRORS: Final = [
    # the tables themselves
    pytest.param(
        [(SERVICES, ["postgres"])],
        "tool.suitekit.services",
        r"expected a table, got an array\n  fix: write it as \[tool.suitekit.services\]",
        id="services-not-a-table",
    ),
    pytest.param(
        [(POSTGRES, "postgresql://h/app")],
        PG_KEY,
        r"expected a table, got a string\n  fix: write it as \[tool.suitekit.services.postgres\]",
        id="postgres-not-a-table",
    ),
    pytest.param(
        [(REDIS, True)],
        REDIS_KEY,
        r"expected a table, got a boolean",
        id="redis-not-a-table",
    ),
    pytest.param(
        [(ISOLATION, ["MEDIA_ROOT"])],
        ISOLATION_KEY,
        r"expected a table, got an array\n  fix: write it as \[tool.suitekit.isolation\]",
        id="isolation-not-a-table",
    ),
    # unknown keys, with a did-you-mean
    pytest.param(
        [((*SERVICES, "postgresql"), {})],
        "tool.suitekit.services.postgresql",
        r"unknown service 'postgresql' \(did you mean 'postgres'\?\): it is none of suitekit's "
        r"services, and has no run command to be one of your own\n"
        r"  fix: use one of suitekit's services: postgres, redis.*; or give a service of your own "
        r"its command",
        id="unknown-service",
    ),
    pytest.param(
        [((*SERVICES, "oracle"), {})],
        "tool.suitekit.services.oracle",
        r"unknown service 'oracle': it is none of suitekit's services.*\n"
        r"  fix: use one of suitekit's services: postgres, redis.*; or give",
        id="unknown-service-without-a-close-match",
    ),
    pytest.param(
        [((*POSTGRES, "setpu"), ["alembic upgrade head"])],
        f"{PG_KEY}.setpu",
        r"unknown key 'setpu' \(did you mean 'setup'\?\)\n"
        r"  fix: use one of: url, env, setup, keep-template",
        id="postgres-setpu",
    ),
    pytest.param(
        [((*POSTGRES, "keep_template"), ["migrations/*"])],
        f"{PG_KEY}.keep_template",
        r"unknown key 'keep_template' \(did you mean 'keep-template'\?\)",
        id="postgres-keep_template",
    ),
    pytest.param(
        [((*REDIS, "uri"), "redis://h")],
        f"{REDIS_KEY}.uri",
        r"unknown key 'uri' \(did you mean 'url'\?\)\n  fix: use one of: url, env",
        id="redis-uri",
    ),
    pytest.param(
        [((*REDIS, "setup"), ["x"])],
        f"{REDIS_KEY}.setup",
        r"unknown key 'setup'\n  fix: use one of: url, env",
        id="redis-has-no-setup",
    ),
    pytest.param(
        [((*ISOLATION, "hashsed"), 1)],
        f"{ISOLATION_KEY}.hashsed",
        r"unknown key 'hashsed' \(did you mean 'hashseed'\?\)\n"
        r"  fix: use one of: dirs, ports, hashseed",
        id="isolation-hashsed",
    ),
    pytest.param(
        [((*ISOLATION, "port"), 10)],
        f"{ISOLATION_KEY}.port",
        r"unknown key 'port' \(did you mean 'ports'\?\)",
        id="isolation-port",
    ),
    # urls
    pytest.param(
        [((*POSTGRES, "url"), "mysql://u@h/app")],
        f"{PG_KEY}.url",
        r"'mysql://u@h/app' is not a postgresql:// URL\n"
        r'  fix: write url = "postgresql://user@host:port/\.\.\."',
        id="postgres-url-mysql",
    ),
    pytest.param(
        [((*POSTGRES, "url"), "redis://h:6379/0")],
        f"{PG_KEY}.url",
        r"'redis://h:6379/0' is not a postgresql:// URL",
        id="postgres-url-redis",
    ),
    pytest.param(
        [((*POSTGRES, "url"), "localhost:5432")],
        f"{PG_KEY}.url",
        r"'localhost:5432' is not a postgresql:// URL",
        id="postgres-url-no-scheme",
    ),
    pytest.param(
        [((*POSTGRES, "url"), "")],
        f"{PG_KEY}.url",
        r'expected a non-empty string, got an empty string\n  fix: write url = "\.\.\."',
        id="postgres-url-empty",
    ),
    pytest.param(
        [((*POSTGRES, "url"), 5432)],
        f"{PG_KEY}.url",
        r"expected a non-empty string, got an integer",
        id="postgres-url-integer",
    ),
    pytest.param(
        [((*REDIS, "url"), "postgresql://h/app")],
        f"{REDIS_KEY}.url",
        r"'postgresql://h/app' is not a redis:// URL\n"
        r'  fix: write url = "redis://user@host:port/\.\.\."',
        id="redis-url-postgres",
    ),
    # env templates
    pytest.param(
        [((*POSTGRES, "env"), {"PGDATABASE": "{databse}"})],
        f"{PG_KEY}.env",
        r"PGDATABASE = '\{databse\}' uses an unknown field \{databse\} "
        r"\(did you mean 'database'\?\)\n"
        r"  fix: use \{url\}, \{host\}, \{port\}, \{user\}, \{password\}, \{database\}",
        id="postgres-unknown-field",
    ),
    pytest.param(
        [((*POSTGRES, "env"), {"DATABASE_URL": "{url}", "DB": "{db}"})],
        f"{PG_KEY}.env",
        r"DB = '\{db\}' uses an unknown field \{db\}\n  fix: use \{url\}",
        id="postgres-redis-field",
    ),
    pytest.param(
        [((*POSTGRES, "env"), {"X": "{}"})],
        f"{PG_KEY}.env",
        r"X = '\{\}' uses an unknown field \{\}",
        id="postgres-positional-field",
    ),
    pytest.param(
        [((*POSTGRES, "env"), {"X": "{url.scheme}"})],
        f"{PG_KEY}.env",
        r"X = '\{url.scheme\}' uses an unknown field \{url.scheme\}",
        id="postgres-attribute-field",
    ),
    pytest.param(
        [((*POSTGRES, "env"), {"DATABASE_URL": "{url"})],
        f"{PG_KEY}.env",
        r"DATABASE_URL = '\{url' is not a template: expected '\}' before end of string\n"
        r"  fix: write \{\{ and \}\} for literal braces",
        id="postgres-unclosed-brace",
    ),
    pytest.param(
        [((*POSTGRES, "env"), {"DATABASE_URL": "url}"})],
        f"{PG_KEY}.env",
        r"DATABASE_URL = 'url\}' is not a template: Single '\}' encountered in format string",
        id="postgres-lone-closing-brace",
    ),
    pytest.param(
        [((*POSTGRES, "env"), {"1DB": "{url}"})],
        f"{PG_KEY}.env.1DB",
        r"'1DB' is not an environment variable name",
        id="postgres-env-bad-name",
    ),
    pytest.param(
        [((*POSTGRES, "env"), {"PGPORT": 5432})],
        f"{PG_KEY}.env.PGPORT",
        r'expected a string, got an integer 5432\n  fix: quote it: PGPORT = "5432"',
        id="postgres-env-not-a-string",
    ),
    pytest.param(
        [((*POSTGRES, "env"), "{url}")],
        f"{PG_KEY}.env",
        r"'\{url\}' is not a preset of this service \(did you mean 'url'\?\)\n"
        r"  fix: use one of: url, libpq, django, sqlalchemy \(see docs/services.md\), "
        r"or a table of templates",
        id="postgres-env-not-a-preset",
    ),
    pytest.param(
        [((*REDIS, "env"), {"REDIS_URL": "redis://{host}:{prot}/0"})],
        f"{REDIS_KEY}.env",
        r"REDIS_URL = 'redis://\{host\}:\{prot\}/0' uses an unknown field \{prot\} "
        r"\(did you mean 'port'\?\)\n"
        r"  fix: use \{url\}, \{host\}, \{port\}, \{db\}, \{password\}",
        id="redis-unknown-field",
    ),
    pytest.param(
        [((*REDIS, "env"), {"DB": "{database}"})],
        f"{REDIS_KEY}.env",
        r"DB = '\{database\}' uses an unknown field \{database\}\n  fix: use \{url\}",
        id="redis-postgres-field",
    ),
    pytest.param(
        [((*REDIS, "env"), {"REDIS_URL": "{url"})],
        f"{REDIS_KEY}.env",
        r"REDIS_URL = '\{url' is not a template: expected '\}' before end of string",
        id="redis-unclosed-brace",
    ),
    # setup
    pytest.param(
        [((*POSTGRES, "setup"), [3])],
        f"{PG_KEY}.setup",
        r'3 is neither a command nor a \{ sql = "\.\.\." \} table\n'
        r'  fix: write setup = \["alembic upgrade head", \{ sql = "CREATE EXTENSION hstore" \}\]',
        id="setup-integer-item",
    ),
    pytest.param(
        [((*POSTGRES, "setup"), ["alembic upgrade 'head"])],
        f"{PG_KEY}.setup",
        r"\"alembic upgrade 'head\" cannot be split into arguments \(no closing quotation\)\n"
        r"  fix: close the quote",
        id="setup-unclosed-quote",
    ),
    pytest.param(
        [((*POSTGRES, "setup"), [{"sq": "CREATE SCHEMA app"}])],
        f"{PG_KEY}.setup",
        r"\{'sq': 'CREATE SCHEMA app'\} is neither a command nor a \{ sql = \"\.\.\.\" \} table",
        id="setup-sq",
    ),
    pytest.param(
        [((*POSTGRES, "setup"), [{"sql": ""}])],
        f"{PG_KEY}.setup",
        r"\{'sql': ''\} is neither a command nor a \{ sql = \"\.\.\.\" \} table",
        id="setup-empty-sql",
    ),
    pytest.param(
        [((*POSTGRES, "setup"), [{"sql": "   "}])],
        f"{PG_KEY}.setup",
        r"\{'sql': '   '\} is neither a command",
        id="setup-blank-sql",
    ),
    pytest.param(
        [((*POSTGRES, "setup"), [{"sql": 3}])],
        f"{PG_KEY}.setup",
        r"\{'sql': 3\} is neither a command",
        id="setup-sql-not-a-string",
    ),
    pytest.param(
        [((*POSTGRES, "setup"), [{"sql": "ANALYZE", "run": "x"}])],
        f"{PG_KEY}.setup",
        r"\{'sql': 'ANALYZE', 'run': 'x'\} is neither a command",
        id="setup-sql-with-another-key",
    ),
    pytest.param(
        [((*POSTGRES, "setup"), ["alembic upgrade head", ""])],
        f"{PG_KEY}.setup",
        r"'' is neither a command",
        id="setup-empty-command",
    ),
    pytest.param(
        [((*POSTGRES, "setup"), "  ")],
        f"{PG_KEY}.setup",
        r"'  ' is neither a command",
        id="setup-blank-single-command",
    ),
    pytest.param(
        [((*POSTGRES, "setup"), [["alembic", "upgrade"]])],
        f"{PG_KEY}.setup",
        r"\['alembic', 'upgrade'\] is neither a command",
        id="setup-nested-array",
    ),
    pytest.param(
        [((*POSTGRES, "setup"), 3)],
        f"{PG_KEY}.setup",
        r"expected an array of commands and \{ sql = \.\.\. \}, got an integer\n"
        r"  fix: write setup = \[",
        id="setup-integer",
    ),
    pytest.param(
        [((*POSTGRES, "setup"), {"sql": "ANALYZE"})],
        f"{PG_KEY}.setup",
        r"expected an array of commands and \{ sql = \.\.\. \}, got a table",
        id="setup-table",
    ),
    # keep-template
    pytest.param(
        [((*POSTGRES, "keep-template"), "migrations/*.py")],
        f"{PG_KEY}.keep-template",
        r"expected an array of strings, got a string 'migrations/\*\.py'",
        id="keep-template-string",
    ),
    # isolation
    pytest.param(
        [((*ISOLATION, "dirs"), ["MEDIA-ROOT"])],
        f"{ISOLATION_KEY}.dirs",
        r"'MEDIA-ROOT' is not an environment variable name\n"
        r'  fix: name variables, e.g. dirs = \["MEDIA_ROOT"\]',
        id="dirs-dash",
    ),
    pytest.param(
        [((*ISOLATION, "dirs"), ["MEDIA_ROOT", "1CACHE"])],
        f"{ISOLATION_KEY}.dirs",
        r"'1CACHE' is not an environment variable name",
        id="dirs-leading-digit",
    ),
    pytest.param(
        [((*ISOLATION, "dirs"), ["MEDIA_ROOT\n"])],
        f"{ISOLATION_KEY}.dirs",
        r"'MEDIA_ROOT\\n' is not an environment variable name",
        id="dirs-trailing-newline",
    ),
    pytest.param(
        [((*ISOLATION, "dirs"), [""])],
        f"{ISOLATION_KEY}.dirs",
        r"'' is not an environment variable name",
        id="dirs-empty-name",
    ),
    pytest.param(
        [((*ISOLATION, "dirs"), "MEDIA_ROOT")],
        f"{ISOLATION_KEY}.dirs",
        r"expected an array of strings, got a string 'MEDIA_ROOT'",
        id="dirs-string",
    ),
    pytest.param(
        [((*ISOLATION, "ports"), -1)],
        f"{ISOLATION_KEY}.ports",
        r"expected a block size from 0 to 1000, got -1\n"
        r"  fix: write ports = 10 \(or 0 for no port block\)",
        id="ports-negative",
    ),
    pytest.param(
        [((*ISOLATION, "ports"), 1001)],
        f"{ISOLATION_KEY}.ports",
        r"expected a block size from 0 to 1000, got 1001",
        id="ports-too-many",
    ),
    pytest.param(
        [((*ISOLATION, "ports"), True)],
        f"{ISOLATION_KEY}.ports",
        r"expected a block size from 0 to 1000, got True",
        id="ports-boolean",
    ),
    pytest.param(
        [((*ISOLATION, "ports"), 2.5)],
        f"{ISOLATION_KEY}.ports",
        r"expected a block size from 0 to 1000, got 2\.5",
        id="ports-float",
    ),
    pytest.param(
        [((*ISOLATION, "ports"), "10")],
        f"{ISOLATION_KEY}.ports",
        r"expected a block size from 0 to 1000, got '10'",
        id="ports-string",
    ),
    pytest.param(
        [((*ISOLATION, "hashseed"), -1)],
        f"{ISOLATION_KEY}.hashseed",
        r"expected an integer from 0 to 4294967295, got -1\n"
        r"  fix: write hashseed = 1234, or leave it out for a random seed per run",
        id="hashseed-negative",
    ),
    pytest.param(
        [((*ISOLATION, "hashseed"), "x")],
        f"{ISOLATION_KEY}.hashseed",
        r"expected an integer from 0 to 4294967295, got 'x'",
        id="hashseed-string",
    ),
    pytest.param(
        [((*ISOLATION, "hashseed"), "random")],
        f"{ISOLATION_KEY}.hashseed",
        r"expected an integer from 0 to 4294967295, got 'random'",
        id="hashseed-random",
    ),
    pytest.param(
        [((*ISOLATION, "hashseed"), 4294967296)],
        f"{ISOLATION_KEY}.hashseed",
        r"expected an integer from 0 to 4294967295, got 4294967296",
        id="hashseed-too-big",
    ),
    pytest.param(
        [((*ISOLATION, "hashseed"), False)],
        f"{ISOLATION_KEY}.hashseed",
        r"expected an integer from 0 to 4294967295, got False",
        id="hashseed-boolean",
    ),
    pytest.param(
        [((*ISOLATION, "hashseed"), 1.0)],
        f"{ISOLATION_KEY}.hashseed",
        r"expected an integer from 0 to 4294967295, got 1\.0",
        id="hashseed-float",
    ),
]


@pytest.mark.parametrize(("edits", "key", "pattern"), ERRORS)
def test_configuration_errors(config_file: Path, edits: list[Edit], key: str, pattern: str) -> None:
    document = edited(*edits)

    with pytest.raises(ConfigError, match=pattern) as caught:
        parse(document, config_file)

    assert_well_formed(caught.value, file=config_file, key=key)


def test_an_error_keeps_the_offending_value(config_file: Path) -> None:
    document = edited(((*ISOLATION, "ports"), 1001))

    with pytest.raises(ConfigError, match=r"got 1001") as caught:
        parse(document, config_file)

    assert caught.value.value == 1001


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("{port:{width}}", id="field-in-format-spec"),
        pytest.param("{url!x}", id="unknown-conversion"),
        pytest.param("{url:d}", id="format-spec-not-for-a-string"),
    ],
)
def test_a_template_that_cannot_render_is_rejected(config_file: Path, template: str) -> None:
    document = edited(((*POSTGRES, "env"), {"DATABASE_URL": template}))

    with pytest.raises(ConfigError, match=r"DATABASE_URL = ") as caught:
        parse(document, config_file)

    assert_well_formed(caught.value, file=config_file, key=f"{PG_KEY}.env")


@pytest.mark.parametrize(
    "dirs",
    [
        pytest.param(["MEDIA_ROOT", "MEDIA_ROOT"], id="same"),
        pytest.param(["MEDIA_ROOT", "media_root"], id="same-up-to-case"),
    ],
)
def test_dirs_listed_twice_are_rejected(config_file: Path, dirs: list[str]) -> None:
    document = edited(((*ISOLATION, "dirs"), dirs))

    with pytest.raises(ConfigError, match=r"listed twice") as caught:
        parse(document, config_file)

    assert_well_formed(caught.value, file=config_file, key=f"{ISOLATION_KEY}.dirs")


# -- plan: the hash seed -----------------------------------------------------------------------


def project_with_seed(config_file: Path, seed: int | None) -> Project:
    project = parse(edited(), config_file)
    return dataclasses.replace(project, isolation=Isolation(hashseed=seed))


@pytest.mark.parametrize(
    ("environ", "seed", "expected"),
    [
        pytest.param({"PYTHONHASHSEED": "42"}, 7, "42", id="environment-wins"),
        pytest.param({"PYTHONHASHSEED": "0"}, 7, "0", id="environment-zero-wins"),
        pytest.param({"PYTHONHASHSEED": "42"}, None, "42", id="environment-alone"),
        pytest.param({"PYTHONHASHSEED": "random"}, 7, "7", id="random-defers-to-config"),
        pytest.param({"PYTHONHASHSEED": ""}, 7, "7", id="empty-defers-to-config"),
        pytest.param({}, 7, "7", id="config"),
        pytest.param({}, 0, "0", id="config-zero"),
        pytest.param({}, 4294967295, "4294967295", id="config-max"),
    ],
)
def test_hashseed_precedence(
    config_file: Path, environ: dict[str, str], seed: int | None, expected: str
) -> None:
    assert hashseed(project_with_seed(config_file, seed), environ) == expected


@pytest.mark.parametrize(
    "environ",
    [
        pytest.param({}, id="unset"),
        pytest.param({"PYTHONHASHSEED": "random"}, id="random"),
        pytest.param({"PYTHONHASHSEED": ""}, id="empty"),
    ],
)
def test_hashseed_without_environment_or_config_is_random(
    config_file: Path, environ: dict[str, str]
) -> None:
    project = project_with_seed(config_file, None)

    seeds = [hashseed(project, environ) for _ in range(50)]

    for seed in seeds:
        assert seed.isascii()
        assert seed.isdigit()
        assert str(int(seed)) == seed
        assert 0 <= int(seed) <= 4294967295
    assert len(set(seeds)) > 1


# -- plan: services of the partition guard and of jobs -----------------------------------------

PLAN_ROOT: Final = Path("/work/bookshop")


def services_project() -> Project:
    python = ("3.11",)
    return Project(
        root=PLAN_ROOT,
        config_file=PLAN_ROOT / "pyproject.toml",
        python=python,
        tests=("tests", "src/bookshop"),
        suites=(
            Suite(name="unit", paths=("tests/unit",), python=python),
            Suite(name="cache", paths=("tests/cache",), services=("redis",), python=python),
            Suite(
                name="integration",
                paths=("tests/integration",),
                services=("postgres", "redis"),
                python=("3.11", "3.12"),
            ),
        ),
        checks=(
            Check(name="lint", run=("ruff check .",), python="3.11"),
            Check(name="migrations", run=("alembic check",), services=("postgres",), python="3.11"),
        ),
    )


def test_the_collection_suite() -> None:
    suite = collection_suite(services_project())

    assert suite.name == "partition"
    assert suite.paths == ("tests", "src/bookshop")
    assert suite.marker is None
    assert suite.workers == 0
    assert suite.services == ("redis", "postgres")


def test_the_collection_suite_without_services() -> None:
    project = dataclasses.replace(services_project(), suites=services_project().suites[:1])

    assert collection_suite(project).services == ()


def test_the_collection_suite_ignores_the_checks_services() -> None:
    """A check collects no tests; the guard needs no server for it."""
    project = dataclasses.replace(services_project(), suites=services_project().suites[:1])

    assert project.check("migrations").services == ("postgres",)
    assert collection_suite(project).services == ()


def test_the_partition_job_needs_the_union_of_the_suites_services() -> None:
    project = services_project()

    assert partition_job(project).services == ("redis", "postgres")
    assert partition_job(project).services == collection_suite(project).services


def test_jobs_carry_their_services() -> None:
    planned = jobs(services_project())

    assert [(job.session, job.services) for job in planned] == [
        ("unit-3.11", ()),
        ("cache-3.11", ("redis",)),
        ("integration-3.11", ("postgres", "redis")),
        ("integration-3.12", ("postgres", "redis")),
        ("lint", ()),
        ("migrations", ("postgres",)),
    ]


def test_parsed_services_reach_the_plan(config_file: Path) -> None:
    project = parse(edited(), config_file)

    assert {job.session: job.services for job in jobs(project)}["integration-3.11"] == (
        "postgres",
        "redis",
    )
    assert {job.session: job.services for job in jobs(project)}["migrations"] == ("postgres",)
    assert partition_job(project).services == ("postgres", "redis")
