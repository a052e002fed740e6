"""What crosses from one suitekit process to another: the one place each name is spelled.

A run is a tree of processes: the runner (``inv``, ``suitekit run``), a nox session per suite,
pytest's controller and its xdist workers, and the throwaway servers. They talk through
environment variables (``SUITEKIT_*``) and pytest options (``--suitekit-*``); both are declared
here, and every other module takes the names from here, so that renaming one is one edit and a
misspelling is a type error rather than a silent miss.

- :class:`SessionEnv`: the variables a layer hands down (run id, hash seed, CPU budget and
  worker count with where it came from, shard, template, ...), frozen, with
  :meth:`SessionEnv.to_env` and :meth:`SessionEnv.from_env`.
- :data:`OPTIONS` and :class:`PluginArgs`: the pytest plugin's options, declared once (the
  plugin's ``pytest_addoption`` is generated from the table), and the argv a session passes
  (:meth:`PluginArgs.to_argv`, parsed back by :meth:`PluginArgs.from_argv`).
- The settings a user (or a test) may give in the environment: :data:`USER_VARIABLES`.

Pure data: this module imports nothing of suitekit's and no third-party library.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "ENV_BACKEND_URL",
    "ENV_CALIBRATION",
    "ENV_CALIBRATION_OUT",
    "ENV_CHECK_RESULTS",
    "ENV_COLLECTIONS",
    "ENV_COVERAGE",
    "ENV_CPUS",
    "ENV_DEADLINE_AT",
    "ENV_DJANGO",
    "ENV_DOCKER",
    "ENV_KEEP_TEMPLATE",
    "ENV_MARIADB_BINDIR",
    "ENV_MYSQL_TEMPLATE",
    "ENV_MYSQL_URL",
    "ENV_PORTS",
    "ENV_POSTGRES_BINDIR",
    "ENV_POSTGRES_URL",
    "ENV_POSTGRES_USER",
    "ENV_PROGRESS",
    "ENV_REDIS_PASSWORD",
    "ENV_REDIS_SERVER",
    "ENV_REDIS_URL",
    "ENV_REINSTALL",
    "ENV_RUN_ID",
    "ENV_SCRIPTS",
    "ENV_SERVER_USER",
    "ENV_SESSION_MARK",
    "ENV_SHARD",
    "ENV_TEMPLATE",
    "ENV_TEMPLATE_COPIES",
    "ENV_TEMPLATE_KEPT",
    "ENV_TEMPLATE_SCHEMA",
    "ENV_VIA_NOX",
    "ENV_WORKER",
    "ENV_WORKERS",
    "ENV_WORKERS_ORIGIN",
    "OPTIONS",
    "OPT_JSON_OUT",
    "OPT_ORDER_FILE",
    "OPT_ORDER_SEED",
    "OPT_PARTITION",
    "OPT_PLAN_SHARDS",
    "OPT_PROJECT",
    "OPT_RETRIES",
    "OPT_RUN_LOG",
    "OPT_SHARD",
    "OPT_SUITE",
    "USER_VARIABLES",
    "Option",
    "PluginArgs",
    "SessionEnv",
    "provided_url",
]

# --- environment variables --------------------------------------------------------------------
# Handed down from one layer to the next (SessionEnv carries them):
ENV_RUN_ID: Final = "SUITEKIT_RUN_ID"
"""The run's id: names its databases, leases and folders, so cleanup finds them."""
ENV_WORKERS: Final = "SUITEKIT_WORKERS"
"""The worker count for the suite (the runner's CPU share, or a user's override)."""
ENV_WORKERS_ORIGIN: Final = "SUITEKIT_WORKERS_ORIGIN"
"""Where ``SUITEKIT_WORKERS`` came from, said in the session's header."""
ENV_CPUS: Final = "SUITEKIT_CPUS"
"""The CPU budget the suites of a run share (default: the machine's CPU count)."""
ENV_SHARD: Final = "SUITEKIT_SHARD"
"""``K/N``: run only the K-th of N parts of the suite (as ``--shard``)."""
ENV_TEMPLATE: Final = "SUITEKIT_PG_TEMPLATE"
"""The run's template database, which each worker clones."""


def provided_url(service: str) -> str:
    """The variable naming the ``service`` server an outer layer provides: ``SUITEKIT_<NAME>_URL``.

    The layers below it start none of their own.
    """
    return f"SUITEKIT_{service.upper()}_URL"


# The built-in services' names, spelled out where the others are (equal to provided_url's):
ENV_POSTGRES_URL: Final = "SUITEKIT_POSTGRES_URL"
ENV_REDIS_URL: Final = "SUITEKIT_REDIS_URL"
ENV_MYSQL_URL: Final = "SUITEKIT_MYSQL_URL"
ENV_MYSQL_TEMPLATE: Final = "SUITEKIT_MYSQL_TEMPLATE"
"""The run's MariaDB/MySQL template database, which each worker copies."""
ENV_CHECK_RESULTS: Final = "SUITEKIT_CHECK_RESULTS"
"""JSON ``{"<check>": "<result>"}`` (``success``, ``failure``, ``cancelled``, ``skipped``): how
the run's checks ended, for the report's summary (the runner's outcomes; in CI, the jobs')."""
ENV_PROGRESS: Final = "SUITEKIT_PROGRESS"
"""The file where a suite session's pytest writes how far it is, for the runner's live status."""
ENV_COLLECTIONS: Final = "SUITEKIT_COLLECTIONS"
"""The folder where a whole run's sessions record what they collected (the guard's input)."""
ENV_DEADLINE_AT: Final = "SUITEKIT_DEADLINE_AT"
"""The wall-clock time (epoch seconds) a session must have ended by."""
ENV_COVERAGE: Final = "SUITEKIT_COVERAGE"
"""``0``: the run measures no coverage."""
ENV_REINSTALL: Final = "SUITEKIT_REINSTALL"
"""``1``: sessions install again even when nothing changed."""
ENV_VIA_NOX: Final = "SUITEKIT_VIA_NOX"
"""``1``: the runner starts every session through nox, even a warm one it would start itself."""
ENV_KEEP_TEMPLATE: Final = "SUITEKIT_KEEP_TEMPLATE"
"""``0`` keeps no template in this run (as ``keep-template = false``); ``1``, the default."""
ENV_TEMPLATE_KEPT: Final = "SUITEKIT_TEMPLATE_KEPT"
"""Set by a run's controller: ``1`` when its template is a kept one; else why it is not."""
ENV_TEMPLATE_SCHEMA: Final = "SUITEKIT_TEMPLATE_SCHEMA"
"""Set by a Django run's controller for its workers: the digest of the settings and apps the
kept template must have been migrated for (see :mod:`suitekit.services._django`)."""
ENV_TEMPLATE_COPIES: Final = "SUITEKIT_TEMPLATE_COPIES"
"""Set by a Django run's controller for its workers: the token that marks the copies of the
template it made for them while they started (see :func:`suitekit.services._postgres.preclone`)."""
ENV_DJANGO: Final = "SUITEKIT_DJANGO"
"""Set by a Django suite's controller for its workers: how their databases are prepared."""
ENV_WORKER: Final = "SUITEKIT_WORKER"
"""A worker's resources (JSON), for the fixture ``suitekit_worker``."""
ENV_PORTS: Final = "SUITEKIT_PORTS"
"""A worker's block of ports (``first-last``)."""
ENV_BACKEND_URL: Final = "SUITEKIT_BACKEND_URL"
"""With ``_<i>``, a Playwright worker's parallel index: the URL of that worker's own backend."""
ENV_SCRIPTS: Final = "SUITEKIT_SCRIPTS"
"""The folder whose programs a service's setup commands run with (default: the folder of the
interpreter that prepares the run); a session of another runner names its virtualenv's."""
ENV_SESSION_MARK: Final = "SUITEKIT_SESSION_MARK"
"""The mark on every process of a session, by which its strays are found."""
ENV_CALIBRATION: Final = "SUITEKIT_CALIBRATION"
"""The file of this machine's measured xdist costs (default: in the user's cache)."""
ENV_CALIBRATION_OUT: Final = "SUITEKIT_CALIBRATION_OUT"
"""Where a calibration probe writes what it measured."""
# Read from the user's environment only (where to find or how to run servers):
ENV_DOCKER: Final = "SUITEKIT_DOCKER"
"""``0``: never start a Docker container for a service."""
ENV_POSTGRES_BINDIR: Final = "SUITEKIT_POSTGRES_BINDIR"
"""Where PostgreSQL's server binaries are (empty: nowhere)."""
ENV_REDIS_SERVER: Final = "SUITEKIT_REDIS_SERVER"
"""The ``redis-server`` to run (empty: none)."""
ENV_MARIADB_BINDIR: Final = "SUITEKIT_MARIADB_BINDIR"
"""A folder holding ``mariadbd`` (and ``mariadb-install-db``, or in ``../bin``); empty: none."""
ENV_SERVER_USER: Final = "SUITEKIT_SERVER_USER"
"""The unprivileged user throwaway servers run as when suitekit runs as root."""
ENV_POSTGRES_USER: Final = "SUITEKIT_POSTGRES_USER"
"""The former name of ``SUITEKIT_SERVER_USER``, still read."""
ENV_REDIS_PASSWORD: Final = "SUITEKIT_REDIS_PASSWORD"  # noqa: S105 - a name, not a password
"""A throwaway Redis's password, in the environment of the one shell that starts it."""

USER_VARIABLES: Final = (
    ENV_WORKERS,
    ENV_CPUS,
    ENV_SHARD,
    ENV_RUN_ID,
    ENV_COVERAGE,
    ENV_REINSTALL,
    ENV_CALIBRATION,
    ENV_DOCKER,
    ENV_POSTGRES_BINDIR,
    ENV_REDIS_SERVER,
    ENV_MARIADB_BINDIR,
    ENV_SERVER_USER,
    ENV_POSTGRES_USER,
)
"""The variables a user may set to change what a run does (documented in configuration.md)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEnv:
    """The variables one layer of a run hands down to the next; ``None``: not handed down.

    Attributes:
        run_id: The run's id.
        workers: The suite's worker count (a number or ``auto``).
        workers_origin: Where that count came from (for the header).
        cpus: The CPU budget of the run.
        shard: ``K/N``.
        template: The run's template database.
        collections: The guard's records folder.
        deadline_at: The session's deadline, epoch seconds.
        hashseed: ``PYTHONHASHSEED`` for the workers.
    """

    run_id: str | None = None
    workers: str | None = None
    workers_origin: str | None = None
    cpus: str | None = None
    shard: str | None = None
    template: str | None = None
    collections: str | None = None
    deadline_at: str | None = None
    hashseed: str | None = None

    def to_env(self) -> dict[str, str]:
        """The variables to set (only those given)."""
        return {
            variable: value
            for variable, value in (
                (_SESSION_VARIABLES[f.name], getattr(self, f.name))
                for f in dataclasses.fields(self)
            )
            if value is not None
        }

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SessionEnv:
        """What ``environ`` hands down (empty values count as not given)."""
        given = {
            field: environ[variable]
            for field, variable in _SESSION_VARIABLES.items()
            if environ.get(variable)
        }
        return cls(**given)


_SESSION_VARIABLES: Final[Mapping[str, str]] = {
    "run_id": ENV_RUN_ID,
    "workers": ENV_WORKERS,
    "workers_origin": ENV_WORKERS_ORIGIN,
    "cpus": ENV_CPUS,
    "shard": ENV_SHARD,
    "template": ENV_TEMPLATE,
    "collections": ENV_COLLECTIONS,
    "deadline_at": ENV_DEADLINE_AT,
    "hashseed": "PYTHONHASHSEED",
}


# --- the pytest plugin's options --------------------------------------------------------------

OPT_SUITE: Final = "--suitekit-suite"
OPT_PARTITION: Final = "--suitekit-partition"
OPT_SHARD: Final = "--suitekit-shard"
OPT_PLAN_SHARDS: Final = "--suitekit-plan-shards"
OPT_RETRIES: Final = "--suitekit-retries"
OPT_ORDER_SEED: Final = "--suitekit-order-seed"
OPT_ORDER_FILE: Final = "--suitekit-order-file"
OPT_RUN_LOG: Final = "--suitekit-run-log"
OPT_PROJECT: Final = "--suitekit-project"
OPT_JSON_OUT: Final = "--suitekit-json-out"


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    """One option of the pytest plugin.

    Attributes:
        flag: The long flag, e.g. ``--suitekit-suite``.
        field: The :class:`PluginArgs` field (and pytest's ``dest`` without ``suitekit_``).
        kind: ``text``, ``int`` or ``flag`` (a switch).
        help: The help text.
        metavar: The value's name in the help.
        aliases: Other flags for it (``--shard``).
    """

    flag: str
    field: str
    kind: Literal["text", "int", "flag"]
    help: str
    metavar: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def dest(self) -> str:
        """The attribute pytest keeps the value in: ``suitekit_`` + the field."""
        return f"suitekit_{self.field}"


OPTIONS: Final[tuple[Option, ...]] = (
    Option(
        flag=OPT_SUITE,
        field="suite",
        kind="text",
        metavar="NAME",
        help="Run only suite NAME's tests (its paths unless paths are given, then its marker).",
    ),
    Option(
        flag=OPT_PARTITION,
        field="partition",
        kind="flag",
        help="Run nothing; check that every test belongs to exactly one suite and count them.",
    ),
    Option(
        flag=OPT_SHARD,
        field="shard",
        kind="text",
        metavar="K/N",
        aliases=("--shard",),
        help=(
            "With --suitekit-suite: run only the K-th of N parts of the suite, balanced by "
            f"recorded durations (default: ${ENV_SHARD})"
        ),
    ),
    Option(
        flag=OPT_PLAN_SHARDS,
        field="plan_shards",
        kind="int",
        metavar="N",
        help="With --suitekit-suite: run nothing; print how N shards would split the suite",
    ),
    Option(
        flag=OPT_RETRIES,
        field="retries",
        kind="int",
        metavar="N",
        help="With --suitekit-suite: run a failed test up to N more times (default: the suite's "
        "retries); a test that passes after failing is reported as FLAKY",
    ),
    Option(
        flag=OPT_ORDER_SEED,
        field="order_seed",
        kind="int",
        metavar="SEED",
        help="With --suitekit-suite: run the suite's tests in the random order SEED gives",
    ),
    Option(
        flag=OPT_ORDER_FILE,
        field="order_file",
        kind="text",
        metavar="PATH",
        help="With --suitekit-suite: run exactly the node ids in PATH (one a line), in its order",
    ),
    Option(
        flag=OPT_RUN_LOG,
        field="run_log",
        kind="text",
        metavar="PATH",
        help="With --suitekit-suite: write what each worker ran, in order, to PATH (JSON; "
        "read by suitekit flaky)",
    ),
    Option(
        flag=OPT_PROJECT,
        field="project",
        kind="text",
        metavar="PATH",
        help="The folder or pyproject.toml holding [tool.suitekit] (default: found from rootdir)",
    ),
    Option(
        flag=OPT_JSON_OUT,
        field="json_out",
        kind="text",
        metavar="PATH",
        help="With --suitekit-partition or --suitekit-plan-shards: also write what it prints to "
        "PATH as a JSON document (read by suitekit suites --json and suitekit shards --json)",
    ),
)
"""Every option, in the order ``pytest --help`` shows them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginArgs:
    """The plugin's options a session passes to pytest; ``None``/``False``: not passed.

    Attributes mirror :data:`OPTIONS` (see each option's help).
    """

    suite: str | None = None
    partition: bool = False
    shard: str | None = None
    plan_shards: int | None = None
    retries: int | None = None
    order_seed: int | None = None
    order_file: str | None = None
    run_log: str | None = None
    project: str | None = None
    json_out: str | None = None

    def to_argv(self) -> tuple[str, ...]:
        """The arguments for pytest, ``--flag=value`` each, in :data:`OPTIONS` order."""
        argv: list[str] = []
        for option in OPTIONS:
            value = getattr(self, option.field)
            if option.kind == "flag":
                if value:
                    argv.append(option.flag)
            elif value is not None:
                argv.append(f"{option.flag}={value}")
        return tuple(argv)

    @classmethod
    def from_argv(cls, argv: Sequence[str]) -> PluginArgs:
        """The plugin's options among ``argv`` (``--flag=value`` or ``--flag value``).

        Raises:
            ValueError: An option lacks its value, or an ``int`` option's is not a number.
        """
        by_flag = {flag: o for o in OPTIONS for flag in (o.flag, *o.aliases)}
        values: dict[str, object] = {}
        items = iter(argv)
        for item in items:
            flag, has_value, value = item.partition("=")
            option = by_flag.get(flag)
            if option is None:
                continue
            if option.kind == "flag":
                values[option.field] = True
                continue
            if not has_value:
                value = next(items, "")
                if not value:
                    message = f"{flag} needs a value"
                    raise ValueError(message)
            values[option.field] = int(value) if option.kind == "int" else value
        return cls(**values)  # type: ignore[arg-type]
