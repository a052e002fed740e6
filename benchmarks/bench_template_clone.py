"""How much faster a worker's database is ready by cloning a template than by migrating it.

Run on demand (not part of the test suites):

    .venv/bin/python benchmarks/bench_template_clone.py [--workers 4] [--rounds 3]
        [--server throwaway|url] [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--service postgres|mysql]

``--server throwaway`` (the default) starts suitekit's own throwaway PostgreSQL (data on the RAM
disk, fsync off) and stops it at the end; ``--server url`` uses the server ``--url`` names (for
example the machine's own PostgreSQL, whose data is on disk).

The schema is generated into a temporary folder as a small project would have it: 50 migration
files (each one table with a serial primary key, 5-8 columns of mixed types, foreign keys to
earlier tables, 2-3 indexes and a few seed rows) and a ``migrate.py`` that applies them with
psycopg to ``DATABASE_URL``, one transaction per migration, recording each in
``schema_migrations``. Running it costs what real migrations cost: a process start, the import
of a driver, and the DDL.

Each round measures, for ``--workers`` workers one after the other:

(a) migrate per worker: an empty database (``_postgres.create_empty``) and the migration
    subprocess run into it, as every worker would do without templates;
(b) template clone: the migration run once into a template (``_postgres.ensure_template`` with a
    ``PostgresConfig`` whose setup step is the migration command), then one
    ``_postgres.clone`` per worker (what ``suitekit`` does on each worker's start);
(c) the bare ``CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY`` and ``... WAL_LOG``
    statements on an open connection (PostgreSQL 15+; suitekit uses FILE_COPY there);
(d) all workers at once, as pytest-xdist workers start together: the wall time until every
    worker's database is ready, by migration and by clone.

It prints each round's figures and the medians over ``--rounds`` rounds, the ratio of the
per-worker ready time by migration to that by clone (both measured in the same run), and a final
check of the goal: clone at least 5x faster than migration, and under 0.5 s for every worker.
Every database it creates is named ``sk_bench_<random>_...`` and dropped at the end, also on
Ctrl-C; the throwaway server is stopped then too.

``--service mysql`` measures MariaDB the same way (``--url mysql://root@127.0.0.1:3306/test``
for a given server, else a throwaway ``mariadbd``), with the same 50 tables in MariaDB's
dialect and ``migrate.py`` on pymysql. MariaDB has no ``CREATE DATABASE ... TEMPLATE``, so (b)
is suitekit's copy (``_mysql.clone``: each table's ``SHOW CREATE TABLE`` replayed, its rows by
``INSERT ... SELECT``), and (c) is the other way to copy on the server's side:
``mariadb-dump <template> | mariadb <copy>``. (d) compares migration and copy with every worker
at once; the ratio printed is migration / copy per worker.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType

import psycopg
from psycopg import sql

from suitekit._model import PostgresConfig, ServiceConfig, SetupStep
from suitekit.errors import ServiceError
from suitekit.services import _mysql, _postgres, _throwaway
from suitekit.services._endpoints import MySQLServer, PostgresServer

TABLES = 50
SEED_ROWS = 3
GOAL_RATIO = 5.0
GOAL_CLONE_SECONDS = 0.5
SUITE = "bench"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

NOUNS = (
    "customer", "account", "address", "product", "category", "supplier", "warehouse", "order",
    "order_line", "invoice", "payment", "shipment", "carrier", "review", "coupon", "cart",
    "cart_item", "refund", "tax_rate", "currency", "employee", "department", "role",
    "permission", "audit_entry", "session", "device", "notification", "subscription", "plan",
    "feature", "tag", "comment", "attachment", "project", "task", "milestone", "team",
    "membership", "webhook", "event", "metric", "report", "dashboard", "widget", "setting",
    "locale", "translation", "region", "store",
)  # fmt: skip

Column = tuple[str, str, Callable[[random.Random, int], str]]
"""A column's name, its DDL, and how a seed row's value is written."""

COLUMNS: tuple[Column, ...] = (
    ("title", "text NOT NULL", lambda _, row: f"'Item number {row}'"),
    ("description", "text", lambda rng, _: rng.choice(("NULL", "'Lorem ipsum dolor sit'"))),
    ("amount", "numeric(12, 2) NOT NULL DEFAULT 0", lambda rng, _: f"{rng.uniform(1, 999):.2f}"),
    ("quantity", "integer NOT NULL DEFAULT 0", lambda rng, _: str(rng.randint(0, 100))),
    ("active", "boolean NOT NULL DEFAULT true", lambda rng, _: rng.choice(("true", "false"))),
    ("metadata", "jsonb NOT NULL DEFAULT '{}'::jsonb", lambda _, row: f"'{{\"seed\": {row}}}'"),
    ("external_id", "uuid NOT NULL DEFAULT gen_random_uuid()", lambda *_: "gen_random_uuid()"),
    ("due_on", "date", lambda _, row: f"DATE '2026-01-{row + 1:02d}'"),
    ("score", "double precision", lambda rng, _: f"{rng.random():.4f}"),
    ("hits", "bigint NOT NULL DEFAULT 0", lambda rng, _: str(rng.randint(0, 10**9))),
    (
        "status",
        "varchar(16) NOT NULL DEFAULT 'new'",
        lambda rng, _: rng.choice(("'new'", "'open'")),
    ),
    ("updated_at", "timestamptz", lambda *_: "now()"),
)

MIGRATE_PY = '''\
"""Apply migrations/*.sql in order, each in its own transaction, to DATABASE_URL."""

import os
import pathlib

import psycopg

HERE = pathlib.Path(__file__).resolve().parent

with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as connection:
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    done = {row[0] for row in connection.execute("SELECT version FROM schema_migrations")}
    for path in sorted((HERE / "migrations").glob("*.sql")):
        if path.stem in done:
            continue
        with connection.transaction():
            connection.execute(path.read_text())
            connection.execute(
                "INSERT INTO schema_migrations (version) VALUES (%s)", (path.stem,)
            )
'''


def plural(noun: str) -> str:
    if noun.endswith("y"):
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith("s") else "s")


def seed_rows(
    rng: random.Random, table: str, columns: list[Column], refs: list[int], names: list[str]
) -> str:
    """The INSERT of a table's seed rows (the same SQL in both dialects)."""
    rows = [
        "("
        + ", ".join(
            [value(rng, row) for _, _, value in columns]
            + [str(rng.randint(1, SEED_ROWS)) for _ in refs]
        )
        + ")"
        for row in range(1, SEED_ROWS + 1)
    ]
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES\n    " + ",\n    ".join(rows) + ";"


def migration(rng: random.Random, index: int) -> str:
    """The SQL of migration ``index`` (1-based): one table, its indexes and seed rows."""
    table = plural(NOUNS[index - 1])
    refs = sorted(rng.sample(range(1, index), min(index - 1, rng.randint(0, 2) + (index > 1))))

    def code(_: random.Random, row: int) -> str:
        return f"'{table[:20]}-{row}'"

    columns: list[Column] = [("code", "varchar(32) NOT NULL", code)]
    columns += rng.sample(COLUMNS, rng.randint(3, 6))
    lines = ["id serial PRIMARY KEY"]
    lines += [f"{name} {ddl}" for name, ddl, _ in columns]
    lines.append("created_at timestamptz NOT NULL DEFAULT now()")
    fk_columns = [f"{NOUNS[ref - 1]}_id" for ref in refs]
    lines += [
        f"{column} integer NOT NULL REFERENCES {plural(NOUNS[ref - 1])} (id) ON DELETE CASCADE"
        for column, ref in zip(fk_columns, refs, strict=True)
    ]
    statements = [f"CREATE TABLE {table} (\n    " + ",\n    ".join(lines) + "\n);"]
    names = [name for name, _, _ in columns]
    extras = [f"CREATE INDEX {table}_created_at_idx ON {table} (created_at DESC);"]
    if "status" in names and "active" in names:
        extras.append(f"CREATE INDEX {table}_open_idx ON {table} (status) WHERE active;")
    if "metadata" in names:
        extras.append(f"CREATE INDEX {table}_metadata_idx ON {table} USING gin (metadata);")
    if "title" in names:
        extras.append(f"CREATE INDEX {table}_title_idx ON {table} (lower(title));")
    rng.shuffle(extras)
    indexes = [f"CREATE UNIQUE INDEX {table}_code_key ON {table} (code);"]
    indexes += [
        f"CREATE INDEX {table}_{column}_idx ON {table} ({column});" for column in fk_columns
    ]
    statements += (indexes + extras)[: rng.randint(2, 3)]
    statements.append(seed_rows(rng, table, columns, refs, names + fk_columns))
    return "\n".join(statements) + "\n"


def write_project(
    folder: Path,
    *,
    write: Callable[[random.Random, int], str] = migration,
    migrate_py: str = MIGRATE_PY,
) -> str:
    """Write ``migrate.py`` and ``migrations/`` into ``folder``; return the setup command."""
    rng = random.Random(2026)  # noqa: S311 - the same schema every run, not a secret
    (folder / "migrations").mkdir()
    for index in range(1, TABLES + 1):
        name = f"{index:04d}_create_{plural(NOUNS[index - 1])}.sql"
        (folder / "migrations" / name).write_text(write(rng, index), encoding="utf-8")
    (folder / "migrate.py").write_text(migrate_py, encoding="utf-8")
    return shlex.join([sys.executable, "migrate.py"])


@dataclass(slots=True, kw_only=True)
class Names:
    """The run's tag, and every database name this run created (to drop them all at the end)."""

    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    created: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def run_id(self) -> str:
        return f"bench{self.tag}"

    def name(self, what: str) -> str:
        name = f"sk_bench_{self.tag}_{what}"
        with self.lock:
            self.created.append(name)
        return name


def migrate(config: ServiceConfig, project: Path, env: Mapping[str, str]) -> None:
    """(a)'s migration: the setup commands run into the database ``env`` names."""
    for step in config.setup:
        assert step.command is not None
        result = subprocess.run(
            shlex.split(step.command),
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            message = f"migration failed:\n{result.stdout}{result.stderr}"
            raise SystemExit(message)


@dataclass(slots=True, kw_only=True)
class Bench(Names):
    """The server, the generated project, and every database this run created."""

    server: PostgresServer
    config: ServiceConfig
    project: Path

    def migrate_worker(self, name: str) -> float:
        """(a): an empty database and the migration run into it; seconds."""
        started = time.perf_counter()
        _postgres.create_empty(self.server, name, self.run_id)
        env = {**os.environ, **_postgres.render_env(self.config, self.server, name)}
        migrate(self.config, self.project, env)
        return time.perf_counter() - started

    def build_template(self, name: str) -> float:
        """(b), once: ``ensure_template``; seconds."""
        started = time.perf_counter()
        _postgres.ensure_template(
            self.server,
            self.config,
            suite=SUITE,
            name=name,
            run_id=self.run_id,
            kept=None,
            cwd=self.project,
            environ=os.environ,
        )
        return time.perf_counter() - started

    def clone_worker(self, template: str, name: str) -> float:
        """(b), per worker: ``clone``; seconds."""
        owner = f"{socket.gethostname()}:{os.getpid()}"
        started = time.perf_counter()
        _postgres.clone(self.server, template, name, self.run_id, owner, suite=SUITE)
        return time.perf_counter() - started

    def connect(self, database: str | None = None) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.server.url(database), autocommit=True)

    def bare_create(
        self,
        connection: psycopg.Connection[tuple[object, ...]],
        template: str,
        name: str,
        strategy: str,
    ) -> float:
        """(c): the CREATE DATABASE statement alone; seconds."""
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY {}").format(
            sql.Identifier(name), sql.Identifier(template), sql.SQL(strategy)
        )
        started = time.perf_counter()
        connection.execute(statement)
        return time.perf_counter() - started

    def drop_all(self) -> None:
        """Drop what this run created so far (also what a sweep finds by the run's prefix)."""
        with self.lock:
            names = list(self.created)
            self.created.clear()
        try:
            with self.connect() as connection:
                rows = connection.execute(
                    "SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
                    (f"sk_bench_{self.tag}_",),
                ).fetchall()
        except psycopg.Error as error:
            print(f"warning: cannot list the benchmark's databases: {error}")
            rows = []
        for name in dict.fromkeys([*names, *(str(row[0]) for row in rows)]):
            try:
                _postgres.drop(self.server, name)
            except ServiceError as error:
                print(f"warning: could not drop {name}: {error}")
                return
            except psycopg.Error as error:
                print(f"warning: could not drop {name}: {error}")

    def checkpoints(self) -> int | None:
        """Checkpoints the server was asked for so far (FILE_COPY asks for two per copy)."""
        queries = (
            "SELECT checkpoints_req FROM pg_stat_bgwriter",  # PostgreSQL 16 and older
            "SELECT num_requested FROM pg_stat_checkpointer",  # 17 and newer
        )
        with self.connect() as connection:
            for query in queries:
                try:
                    row = connection.execute(query).fetchone()
                except psycopg.Error:
                    continue
                return int(str(row[0])) if row else None
        return None

    def schema_of(self, database: str) -> tuple[int, int, int]:
        """Tables, indexes and rows in ``database`` (to check a clone is complete)."""
        with self.connect(database) as connection:
            tables = [
                str(row[0])
                for row in connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            ]
            indexes = connection.execute(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'"
            ).fetchone()
            rows = 0
            for table in tables:
                count = connection.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                ).fetchone()
                rows += int(str(count[0])) if count else 0
        return len(tables), int(str(indexes[0])) if indexes else 0, rows


@dataclass(slots=True)
class Round:
    """One round's figures, in seconds."""

    migrate: list[float] = field(default_factory=list)
    template: float = 0.0
    clone: list[float] = field(default_factory=list)
    strategies: dict[str, list[float]] = field(default_factory=dict)
    concurrent_migrate: float = 0.0
    concurrent_clone: float = 0.0
    checkpoints: int = -1  # requested server-wide during the clones of (b); -1: unknown


def concurrently(actions: list[Callable[[], object]]) -> float:
    """Wall time of running ``actions`` in threads that start together."""
    barrier = threading.Barrier(len(actions) + 1)
    errors: list[BaseException] = []

    def body(action: Callable[[], object]) -> None:
        barrier.wait()
        try:
            action()
        except BaseException as error:  # noqa: BLE001 - re-raised in the main thread
            errors.append(error)

    threads = [threading.Thread(target=body, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def one_round(bench: Bench, index: int, workers: int, strategies: tuple[str, ...]) -> Round:
    figures = Round()
    # (b) first, as in a run: the template is built, then the workers clone it.
    template = bench.name(f"r{index}_tpl")
    figures.template = bench.build_template(template)
    before = bench.checkpoints()
    figures.clone = [
        bench.clone_worker(template, bench.name(f"r{index}_clone{w}")) for w in range(workers)
    ]
    after = bench.checkpoints()
    if before is not None and after is not None:
        figures.checkpoints = after - before
    with bench.connect() as connection:
        for strategy in strategies:
            figures.strategies[strategy] = [
                bench.bare_create(
                    connection, template, bench.name(f"r{index}_{strategy.lower()}{w}"), strategy
                )
                for w in range(workers)
            ]
    figures.concurrent_clone = concurrently(
        [
            partial(bench.clone_worker, template, bench.name(f"r{index}_cc{w}"))
            for w in range(workers)
        ]
    )
    if index == 1:
        report_schema(bench, f"sk_bench_{bench.tag}_r1_clone0", "a clone")
    bench.drop_all()
    # Then (a), migration per worker.
    figures.migrate = [bench.migrate_worker(bench.name(f"r{index}_mig{w}")) for w in range(workers)]
    if index == 1:
        report_schema(bench, f"sk_bench_{bench.tag}_r1_mig0", "a migrated database")
    figures.concurrent_migrate = concurrently(
        [partial(bench.migrate_worker, bench.name(f"r{index}_cm{w}")) for w in range(workers)]
    )
    bench.drop_all()
    return figures


def report_schema(bench: Bench, database: str, what: str) -> None:
    tables, indexes, rows = bench.schema_of(database)
    print(
        f"  check: {what} has {tables} tables, {indexes} indexes,"
        f" {rows} rows (seed rows and schema_migrations)"
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def median(values: list[float]) -> float:
    return statistics.median(values)


def summarize(rounds: list[Round], workers: int, strategies: tuple[str, ...]) -> None:
    migrate_mean = median([statistics.mean(r.migrate) for r in rounds])
    migrate_max = median([max(r.migrate) for r in rounds])
    migrate_total = median([sum(r.migrate) for r in rounds])
    template = median([r.template for r in rounds])
    clone_mean = median([statistics.mean(r.clone) for r in rounds])
    clone_max = median([max(r.clone) for r in rounds])
    clone_total = median([sum(r.clone) for r in rounds])
    print(f"median of {len(rounds)} rounds, {workers} workers one after the other:")
    print(
        f"  (a) migrate per worker:  mean {ms(migrate_mean)}  max {ms(migrate_max)}"
        f"  total {ms(migrate_total)}"
    )
    print(f"  (b) template, once:      {ms(template)}")
    print(
        f"      clone per worker:    mean {ms(clone_mean)}  max {ms(clone_max)}"
        f"  total {ms(clone_total)}"
    )
    print(f"      template + clones:   {ms(template + clone_total)}")
    for strategy in strategies:
        mean = median([statistics.mean(r.strategies[strategy]) for r in rounds])
        high = median([max(r.strategies[strategy]) for r in rounds])
        print(f"  (c) bare {strategy:<9}      mean {ms(mean)}  max {ms(high)}")
    concurrent_migrate = median([r.concurrent_migrate for r in rounds])
    concurrent_clone = median([r.concurrent_clone for r in rounds])
    print(
        f"  (d) {workers} workers at once:  migrate {ms(concurrent_migrate)}"
        f"  clone {ms(concurrent_clone)}  ratio {concurrent_migrate / concurrent_clone:.1f}x"
    )
    ratio = migrate_mean / clone_mean
    print(
        f"per-worker ready time: by migration {ms(migrate_mean)}, by clone {ms(clone_mean)}"
        f" (max {ms(clone_max)}); migration / clone = {ratio:.1f}x"
    )
    print(
        f"break-even: template + {workers} clones {ms(template + clone_total)}"
        f" vs {workers} migrations {ms(migrate_total)}"
        f" ({migrate_total / (template + clone_total):.1f}x)"
    )
    met = ratio >= GOAL_RATIO and clone_max < GOAL_CLONE_SECONDS
    print(
        f"goal: clone >= {GOAL_RATIO:.0f}x faster and < {GOAL_CLONE_SECONDS} s per worker:"
        f" {'MET' if met else 'NOT MET'}"
    )


def describe(bench: Bench, label: str) -> None:
    with bench.connect() as connection:
        version = connection.execute("SHOW server_version").fetchone()
        settings = {}
        for setting in ("data_directory", "fsync", "shared_buffers"):
            try:
                row = connection.execute(
                    sql.SQL("SHOW {}").format(sql.Identifier(setting))
                ).fetchone()
            except psycopg.Error:
                row = None
            settings[setting] = str(row[0]) if row else "?"
    print(
        f"server: {label} PostgreSQL {version[0] if version else '?'}"
        f" at {bench.server.host}:{bench.server.port}"
        f" (data {settings['data_directory']}, fsync {settings['fsync']},"
        f" shared_buffers {settings['shared_buffers']})"
    )


def server_version(server: PostgresServer) -> int:
    with psycopg.connect(server.url(), autocommit=True) as connection:
        return connection.info.server_version


@contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the run through the ``finally`` blocks, like Ctrl-C."""

    def handler(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while cleaning up, so that the cleanup finishes."""
    previous = {
        signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(server: PostgresServer, label: str, workers: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="sk-bench-") as scratch:
        project = Path(scratch)
        command = write_project(project)
        config = PostgresConfig(setup=(SetupStep(command=command),))
        bench = Bench(server=server, config=config, project=project)
        try:
            describe(bench, label)
            strategies = ("FILE_COPY", "WAL_LOG") if server_version(server) >= 150000 else ()
            print(
                f"schema: {TABLES} migrations (one table each, {SEED_ROWS} seed rows), applied by"
                f" `{command}`; {workers} workers, {rounds} rounds, cpus {os.cpu_count()},"
                f" load average {os.getloadavg()[0]:.2f}"
            )
            results: list[Round] = []
            for index in range(1, rounds + 1):
                figures = one_round(bench, index, workers, strategies)
                results.append(figures)
                bare = "".join(
                    f"  {s} {ms(statistics.mean(figures.strategies[s]))}" for s in strategies
                )
                print(
                    f"round {index}: migrate/worker {ms(statistics.mean(figures.migrate))}"
                    f"  template {ms(figures.template)}"
                    f"  clone/worker {ms(statistics.mean(figures.clone))}"
                    f" (max {ms(max(figures.clone))}, checkpoints {figures.checkpoints}){bare}"
                    f"  at once: migrate {ms(figures.concurrent_migrate)}"
                    f" clone {ms(figures.concurrent_clone)}"
                )
            summarize(results, workers, strategies)
            print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        finally:
            with uninterrupted():
                bench.drop_all()


# -- MariaDB -----------------------------------------------------------------------------------

MYSQL_URL = "mysql://root@127.0.0.1:3306/test"

MYSQL_COLUMNS: tuple[Column, ...] = (
    ("title", "varchar(200) NOT NULL", lambda _, row: f"'Item number {row}'"),
    ("description", "text", lambda rng, _: rng.choice(("NULL", "'Lorem ipsum dolor sit'"))),
    ("amount", "decimal(12, 2) NOT NULL DEFAULT 0", lambda rng, _: f"{rng.uniform(1, 999):.2f}"),
    ("quantity", "int NOT NULL DEFAULT 0", lambda rng, _: str(rng.randint(0, 100))),
    ("active", "boolean NOT NULL DEFAULT true", lambda rng, _: rng.choice(("true", "false"))),
    ("metadata", "json NOT NULL DEFAULT '{}'", lambda _, row: f"'{{\"seed\": {row}}}'"),
    ("external_id", "char(36) NOT NULL DEFAULT (uuid())", lambda *_: "uuid()"),
    ("due_on", "date", lambda _, row: f"DATE '2026-01-{row + 1:02d}'"),
    ("score", "double", lambda rng, _: f"{rng.random():.4f}"),
    ("hits", "bigint NOT NULL DEFAULT 0", lambda rng, _: str(rng.randint(0, 10**9))),
    (
        "status",
        "varchar(16) NOT NULL DEFAULT 'new'",
        lambda rng, _: rng.choice(("'new'", "'open'")),
    ),
    ("updated_at", "timestamp(6) NULL", lambda *_: "now(6)"),
)

MYSQL_MIGRATE_PY = '''\
"""Apply migrations/*.sql in order to MYSQL_URL, recording each in schema_migrations."""

import os
import pathlib
from urllib.parse import unquote, urlsplit

import pymysql
from pymysql.constants import CLIENT

HERE = pathlib.Path(__file__).resolve().parent
url = urlsplit(os.environ["MYSQL_URL"])
connection = pymysql.connect(
    host=url.hostname, port=url.port or 3306, user=unquote(url.username or "root"),
    password=unquote(url.password or ""), database=url.path.lstrip("/"),
    client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True,
)
with connection, connection.cursor() as cursor:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (version varchar(64) PRIMARY KEY, applied_at timestamp NOT NULL DEFAULT now())"
    )
    cursor.execute("SELECT version FROM schema_migrations")
    done = {row[0] for row in cursor.fetchall()}
    for path in sorted((HERE / "migrations").glob("*.sql")):
        if path.stem in done:
            continue
        cursor.execute(path.read_text())
        while cursor.nextset():
            pass
        cursor.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (path.stem,))
'''


def mysql_migration(rng: random.Random, index: int) -> str:
    """Migration ``index`` in MariaDB's dialect: one table, its indexes and seed rows."""
    table = plural(NOUNS[index - 1])
    refs = sorted(rng.sample(range(1, index), min(index - 1, rng.randint(0, 2) + (index > 1))))

    def code(_: random.Random, row: int) -> str:
        return f"'{table[:20]}-{row}'"

    columns: list[Column] = [("code", "varchar(32) NOT NULL", code)]
    columns += rng.sample(MYSQL_COLUMNS, rng.randint(3, 6))
    lines = ["id int AUTO_INCREMENT PRIMARY KEY"]
    lines += [f"{name} {ddl}" for name, ddl, _ in columns]
    lines.append("created_at timestamp(6) NOT NULL DEFAULT current_timestamp(6)")
    fk_columns = [f"{NOUNS[ref - 1]}_id" for ref in refs]
    lines += [f"{column} int NOT NULL" for column in fk_columns]
    lines += [
        f"FOREIGN KEY ({column}) REFERENCES {plural(NOUNS[ref - 1])} (id) ON DELETE CASCADE"
        for column, ref in zip(fk_columns, refs, strict=True)
    ]
    statements = [f"CREATE TABLE {table} (\n    " + ",\n    ".join(lines) + "\n);"]
    names = [name for name, _, _ in columns]
    indexes = [f"CREATE UNIQUE INDEX {table}_code_key ON {table} (code);"]
    indexes.append(f"CREATE INDEX {table}_created_at_idx ON {table} (created_at);")
    if "status" in names and "active" in names:
        indexes.append(f"CREATE INDEX {table}_open_idx ON {table} (status, active);")
    statements += indexes[: rng.randint(2, 3)]
    statements.append(seed_rows(rng, table, columns, refs, names + fk_columns))
    return "\n".join(statements) + "\n"


def write_mysql_project(folder: Path) -> str:
    """Write the MariaDB ``migrate.py`` and ``migrations/``; return the setup command."""
    return write_project(folder, write=mysql_migration, migrate_py=MYSQL_MIGRATE_PY)


@dataclass(slots=True, kw_only=True)
class MysqlBench(Names):
    """The MariaDB server, the generated project, and every database this run created."""

    server: MySQLServer
    config: ServiceConfig
    project: Path

    def migrate_worker(self, name: str) -> float:
        """(a): an empty database and the migration run into it; seconds."""
        started = time.perf_counter()
        _mysql.create_empty(self.server, name, self.run_id, role="worker")
        env = {**os.environ, **_mysql.render_env(self.config, self.server, name)}
        migrate(self.config, self.project, env)
        return time.perf_counter() - started

    def build_template(self, name: str) -> float:
        """(b), once: ``ensure_template``; seconds."""
        started = time.perf_counter()
        _mysql.ensure_template(
            self.server,
            self.config,
            suite=SUITE,
            name=name,
            run_id=self.run_id,
            kept=None,
            cwd=self.project,
            environ=os.environ,
        )
        return time.perf_counter() - started

    def clone_worker(self, template: str, name: str) -> float:
        """(b), per worker: suitekit's copy; seconds."""
        owner = f"{socket.gethostname()}:{os.getpid()}"
        started = time.perf_counter()
        _mysql.clone(self.server, template, name, self.run_id, owner, suite=SUITE)
        return time.perf_counter() - started

    def dump_worker(self, template: str, name: str) -> float:
        """(c): an empty database and ``mariadb-dump template | mariadb copy``; seconds."""
        started = time.perf_counter()
        _mysql.create_empty(self.server, name, self.run_id, role="worker")
        auth = ["-h", self.server.host, "-P", str(self.server.port), "-u", self.server.user]
        env = {**os.environ, "MYSQL_PWD": self.server.password}
        dump = subprocess.Popen(
            ["mariadb-dump", *auth, "--routines", "--triggers", "--single-transaction", template],
            stdout=subprocess.PIPE,
            env=env,
        )
        load = subprocess.run(
            ["mariadb", *auth, name], stdin=dump.stdout, env=env, capture_output=True, check=False
        )
        assert dump.stdout is not None
        dump.stdout.close()
        if dump.wait() != 0 or load.returncode != 0:
            message = f"mariadb-dump | mariadb failed: {load.stderr.decode()}"
            raise SystemExit(message)
        return time.perf_counter() - started

    def drop_all(self) -> None:
        """Drop what this run created so far (also what a sweep finds by the run's prefix)."""
        with self.lock:
            names = list(self.created)
            self.created.clear()
        try:
            found = _mysql.databases_with_prefix(self.server, f"sk_bench_{self.tag}_")
        except ServiceError as error:
            print(f"warning: cannot list the benchmark's databases: {error}")
            found = []
        for name in dict.fromkeys([*names, *found]):
            try:
                _mysql.drop(self.server, name)
            except ServiceError as error:
                print(f"warning: could not drop {name}: {error}")

    def schema_of(self, database: str) -> tuple[int, int, int, int]:
        """Tables, indexes, foreign keys and rows in ``database`` (a copy is complete)."""
        import pymysql  # noqa: PLC0415

        with (
            pymysql.connect(**self.server.connect_kwargs(database)) as connection,  # type: ignore[call-overload]
            connection.cursor() as cursor,
        ):

            def one(query: str) -> int:
                cursor.execute(query, (database,))
                row = cursor.fetchone()
                return int(str(row[0])) if row else 0

            tables = one("SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s")
            indexes = one(
                "SELECT count(DISTINCT TABLE_NAME, INDEX_NAME) FROM information_schema.STATISTICS"
                " WHERE TABLE_SCHEMA = %s"
            )
            keys = one(
                "SELECT count(*) FROM information_schema.REFERENTIAL_CONSTRAINTS"
                " WHERE CONSTRAINT_SCHEMA = %s"
            )
            cursor.execute(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
                (database,),
            )
            rows = 0
            for (table,) in cursor.fetchall():
                cursor.execute(f"SELECT count(*) FROM `{table}`")  # noqa: S608 - our tables
                counted = cursor.fetchone()
                rows += int(str(counted[0])) if counted else 0
        return tables, indexes, keys, rows


@dataclass(slots=True)
class MysqlRound:
    """One MariaDB round's figures, in seconds."""

    migrate: list[float] = field(default_factory=list)
    template: float = 0.0
    clone: list[float] = field(default_factory=list)
    dump: list[float] = field(default_factory=list)
    concurrent_migrate: float = 0.0
    concurrent_clone: float = 0.0


def mysql_round(bench: MysqlBench, index: int, workers: int) -> MysqlRound:
    figures = MysqlRound()
    template = bench.name(f"r{index}_tpl")
    figures.template = bench.build_template(template)
    figures.clone = [
        bench.clone_worker(template, bench.name(f"r{index}_clone{w}")) for w in range(workers)
    ]
    figures.dump = [
        bench.dump_worker(template, bench.name(f"r{index}_dump{w}")) for w in range(workers)
    ]
    figures.concurrent_clone = concurrently(
        [
            partial(bench.clone_worker, template, bench.name(f"r{index}_cc{w}"))
            for w in range(workers)
        ]
    )
    if index == 1:
        copy = f"sk_bench_{bench.tag}_r1_clone0"
        for name, what in ((template, "the template"), (copy, "a copy")):
            tables, indexes, keys, rows = bench.schema_of(name)
            print(
                f"  check: {what} has {tables} tables, {indexes} indexes, {keys} foreign keys,"
                f" {rows} rows"
            )
    bench.drop_all()
    figures.migrate = [bench.migrate_worker(bench.name(f"r{index}_mig{w}")) for w in range(workers)]
    figures.concurrent_migrate = concurrently(
        [partial(bench.migrate_worker, bench.name(f"r{index}_cm{w}")) for w in range(workers)]
    )
    bench.drop_all()
    return figures


def summarize_mysql(rounds: list[MysqlRound], workers: int) -> None:
    migrate = median([statistics.mean(r.migrate) for r in rounds])
    template = median([r.template for r in rounds])
    clone = median([statistics.mean(r.clone) for r in rounds])
    clone_max = median([max(r.clone) for r in rounds])
    dump = median([statistics.mean(r.dump) for r in rounds])
    print(f"median of {len(rounds)} rounds, {workers} workers one after the other:")
    print(f"  (a) migrate per worker:          mean {ms(migrate)}")
    print(f"  (b) template, once:              {ms(template)}")
    print(f"      suitekit's copy per worker:  mean {ms(clone)}  max {ms(clone_max)}")
    print(f"  (c) mariadb-dump | mariadb:      mean {ms(dump)}")
    concurrent_migrate = median([r.concurrent_migrate for r in rounds])
    concurrent_clone = median([r.concurrent_clone for r in rounds])
    print(
        f"  (d) {workers} workers at once:  migrate {ms(concurrent_migrate)}"
        f"  copy {ms(concurrent_clone)}  ratio {concurrent_migrate / concurrent_clone:.1f}x"
    )
    print(
        f"per-worker ready time: by migration {ms(migrate)}, by copy {ms(clone)};"
        f" migration / copy = {migrate / clone:.1f}x; dump / copy = {dump / clone:.1f}x"
    )


def run_mysql(server: MySQLServer, label: str, workers: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="sk-bench-") as scratch:
        project = Path(scratch)
        command = write_mysql_project(project)
        config = ServiceConfig(service="mysql", setup=(SetupStep(command=command),))
        bench = MysqlBench(server=server, config=config, project=project)
        try:
            import pymysql  # noqa: PLC0415

            with (
                pymysql.connect(**server.connect_kwargs()) as connection,  # type: ignore[call-overload]
                connection.cursor() as cursor,
            ):
                cursor.execute("SELECT VERSION(), @@datadir, @@innodb_flush_log_at_trx_commit")
                version, datadir, flush = cursor.fetchone() or ("?", "?", "?")
            print(
                f"server: {label} MariaDB {version} at {server.host}:{server.port}"
                f" (data {datadir}, innodb_flush_log_at_trx_commit {flush})"
            )
            print(
                f"schema: {TABLES} migrations (one table each, {SEED_ROWS} seed rows), applied by"
                f" `{command}`; {workers} workers, {rounds} rounds, cpus {os.cpu_count()},"
                f" load average {os.getloadavg()[0]:.2f}"
            )
            results: list[MysqlRound] = []
            for index in range(1, rounds + 1):
                figures = mysql_round(bench, index, workers)
                results.append(figures)
                print(
                    f"round {index}: migrate/worker {ms(statistics.mean(figures.migrate))}"
                    f"  template {ms(figures.template)}"
                    f"  copy/worker {ms(statistics.mean(figures.clone))}"
                    f"  dump/worker {ms(statistics.mean(figures.dump))}"
                    f"  at once: migrate {ms(figures.concurrent_migrate)}"
                    f" copy {ms(figures.concurrent_clone)}"
                )
            summarize_mysql(results, workers)
        finally:
            with uninterrupted():
                bench.drop_all()


def main_mysql(args: argparse.Namespace) -> None:
    if args.server == "url":
        url = args.url if args.url != DEFAULT_URL else MYSQL_URL
        run_mysql(MySQLServer.from_url(url), "given", args.workers, args.rounds)
        return
    from suitekit.services._mysql_server import find_mariadbd, start_mariadb  # noqa: PLC0415

    mariadbd = find_mariadbd(os.environ)
    if mariadbd is None:
        raise SystemExit("no MariaDB binaries found (mariadbd, mariadb-install-db)")
    throwaway = start_mariadb(mariadbd, os.environ)
    try:
        server = MySQLServer.from_url(throwaway.record.url)
        run_mysql(server, f"throwaway ({mariadbd})", args.workers, args.rounds)
    finally:
        with uninterrupted():
            throwaway.stop()
            print("stopped the throwaway server")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", choices=("throwaway", "url"), default="throwaway")
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--service", choices=("postgres", "mysql"), default="postgres")
    args = parser.parse_args()
    with signals_as_interrupt():
        if args.service == "mysql":
            main_mysql(args)
            return
        if args.server == "url":
            run(PostgresServer.from_url(args.url), "given", args.workers, args.rounds)
            return
        bindir = _throwaway.find_postgres_bindir(os.environ)
        if bindir is None:
            raise SystemExit("no PostgreSQL binaries found (initdb, postgres)")
        throwaway = _throwaway.start_postgres(bindir, os.environ)
        try:
            server = PostgresServer.from_url(throwaway.record.url)
            run(server, f"throwaway ({bindir})", args.workers, args.rounds)
        finally:
            with uninterrupted():
                throwaway.stop()
                print("stopped the throwaway server")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted; the benchmark's databases were dropped")
        sys.exit(130)
