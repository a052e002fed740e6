"""MariaDB/MySQL databases of a run: the template (migrate once), the copies (one per worker).

MariaDB has no ``CREATE DATABASE ... TEMPLATE``: a worker's database is created empty and the
template's objects are replayed into it on the server, on one connection (:func:`clone`): each
table's own ``SHOW CREATE TABLE`` (foreign keys, indexes, defaults, checks and the
``AUTO_INCREMENT`` counter included; ``CREATE TABLE ... LIKE`` would drop the foreign keys),
its rows by ``INSERT ... SELECT``, then views, routines and triggers. The choice against
``mariadb-dump | mariadb`` and against migrating each worker is measured in
benchmarks/bench_template_clone.py (docs/services.md has the figures).

Every database suitekit creates has a name starting with ``sk_`` *and* a comment
``suitekit {...}`` (``CREATE DATABASE ... COMMENT``, MariaDB 10.5+, set in the same statement
that creates it) naming its run, the process that owns it and the host; suitekit only ever drops
databases that carry that comment, one found by its name only when its owner is gone (see
:func:`~suitekit.services._mysql_marks.refusal`). Names are quoted as identifiers by
:func:`_ident` and values passed as query parameters: no name or run id can change the SQL.

This is the only module that imports ``pymysql``.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

from suitekit._model import ServiceConfig
from suitekit.errors import ServiceError
from suitekit.services import _databases
from suitekit.services._databases import COMMENT_PREFIX, Kept, MarkedDatabase, render_env
from suitekit.services._databases import comment as _comment
from suitekit.services._databases import like_prefix as _like_prefix
from suitekit.services._databases import marks as _marks
from suitekit.services._endpoints import MySQLServer
from suitekit.services._mysql_marks import build_lock as _build_lock
from suitekit.services._mysql_marks import ident as _ident
from suitekit.services._mysql_marks import refusal as _refusal
from suitekit.services._mysql_marks import requalify as _requalify
from suitekit.services._mysql_marks import takes_comments as _takes_comments

if TYPE_CHECKING:
    from typing import TypeAlias

    import pymysql.connections
    import pymysql.cursors

    _Connection: TypeAlias = pymysql.connections.Connection[pymysql.cursors.Cursor]

__all__ = [
    "COMMENT_PREFIX",
    "MarkedDatabase",
    "check",
    "clone",
    "create_empty",
    "databases_with_prefix",
    "drop",
    "drop_marked",
    "ensure_template",
    "marked_databases",
    "render_env",
    "set_up",
    "wait_started",
]

_TEMPLATE_WAIT_SECONDS: Final = 120.0
_LOCK_WAIT_SECONDS: Final = 600  # GET_LOCK's timeout while another run builds the template
_POLL_SECONDS: Final = 0.02


def _connect(
    server: MySQLServer, database: str | None = None, *, multi: bool = False
) -> _Connection:
    import pymysql  # noqa: PLC0415 - kept off the import path of projects without MariaDB
    from pymysql.constants import CLIENT  # noqa: PLC0415

    flags = CLIENT.MULTI_STATEMENTS if multi else 0
    return pymysql.connect(  # type: ignore[call-overload, no-any-return]
        **server.connect_kwargs(database), autocommit=True, client_flag=flags
    )


def check(url: str) -> None:
    """Connect to the server at ``url`` and run ``SELECT 1``.

    Raises:
        ServiceError: It does not answer (the message says how, and the fix).
    """
    import pymysql  # noqa: PLC0415

    server = MySQLServer.from_url(url)
    _databases.check(url, "MariaDB/MySQL", lambda: _select_1(server), pymysql.Error)


def _select_1(server: MySQLServer) -> None:
    with _connect(server) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def wait_started(
    server: MySQLServer, process: subprocess.Popen[bytes], log: Path, *, timeout: float
) -> None:
    """Wait until a throwaway server just spawned answers ``SELECT 1`` with its password.

    Raises:
        ServiceError: It exited, or did not answer within ``timeout`` seconds (with its log).
    """
    import pymysql  # noqa: PLC0415

    from suitekit.services._servers import wait_answering  # noqa: PLC0415 - only when started

    wait_answering(
        process,
        log,
        what="MariaDB",
        probe=lambda: _select_1(server),
        refused=pymysql.Error,
        timeout=timeout,
        poll=_POLL_SECONDS,
    )


@contextmanager
def _admin(
    server: MySQLServer, database: str | None = None, *, multi: bool = False
) -> Iterator[_Connection]:
    import pymysql  # noqa: PLC0415

    where = f"MariaDB/MySQL at {server.host}:{server.port}"
    with _databases.admin(
        lambda: _connect(server, database, multi=multi), where, pymysql.Error
    ) as connection:
        yield connection


def _query(
    connection: _Connection,
    statement: str,
    args: tuple[object, ...] | None = None,
) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, args)
        return list(cursor.fetchall())


def _comment_of(connection: _Connection, name: str) -> list[tuple[object, ...]]:
    """``[(comment,)]`` for the database ``name``, ``[]`` when there is none."""
    return _query(
        connection,
        "SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
        (name,),
    )


def _require_comments(connection: _Connection) -> None:
    """Refuse a server that cannot carry suitekit's marks (MySQL, MariaDB before 10.5)."""
    version = str(_query(connection, "SELECT VERSION()")[0][0])
    if not _takes_comments(version):
        message = (
            f"the server at {connection.host}:{connection.port} runs {version}: suitekit "
            "marks the databases it creates with a database comment, which needs MariaDB 10.5 "
            "or newer\n  fix: use a MariaDB 10.5+ server, or unset MYSQL_URL to let suitekit "
            "start one"
        )
        raise ServiceError(message)


def _create(
    connection: _Connection,
    name: str,
    comment: str,
    like: str | None = None,
) -> None:
    """CREATE DATABASE with suitekit's comment, in one statement (never unmarked).

    With ``like``, the new database takes that database's character set and collation.
    """
    import pymysql  # noqa: PLC0415

    _require_comments(connection)
    charset = ""
    if like is not None:
        rows = _query(
            connection,
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME"
            " FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
            (like,),
        )
        if rows:
            charset = f" CHARACTER SET {rows[0][0]} COLLATE {rows[0][1]}"
    try:
        _query(connection, f"CREATE DATABASE {_ident(name)}{charset} COMMENT %s", (comment,))
    except pymysql.Error as error:
        message = f"cannot create database {name}: {error}"
        raise ServiceError(message) from None


def _drop(connection: _Connection, name: str) -> None:
    """Drop ``name`` if it exists, ending the sessions that use it first.

    A session inside an open transaction holds locks that would make ``DROP DATABASE`` wait
    (for a year, by default): those sessions are the worker's own, which is done with them.
    """
    import pymysql  # noqa: PLC0415

    try:
        own = _query(connection, "SELECT CONNECTION_ID()")[0][0]
        for (session,) in _query(
            connection, "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s", (name,)
        ):
            if session != own:
                with contextlib.suppress(pymysql.Error):  # it may have ended meanwhile
                    _query(connection, "KILL CONNECTION %s", (session,))
        _query(connection, "SET SESSION lock_wait_timeout = 60")
        _query(connection, f"DROP DATABASE IF EXISTS {_ident(name)}")
    except pymysql.Error as error:
        message = f"cannot drop database {name}: {error}"
        raise ServiceError(message) from None


def _drop_by_name(connection: _Connection, name: str) -> None:
    """:func:`_drop` ``name`` if it exists and :func:`_refusal` finds it suitekit's to drop."""
    from suitekit.services._servers import owner_gone  # noqa: PLC0415 - with a server only

    if rows := _comment_of(connection, name):
        if (message := _refusal(name, rows[0][0], gone=owner_gone)) is not None:
            raise ServiceError(message)
        _drop(connection, name)


def drop(server: MySQLServer, name: str) -> None:
    """Drop ``name`` if it exists, disconnecting its sessions, if it is suitekit's to drop.

    Raises:
        ServiceError: It is not (the message says whose it may be, and the fix).
    """
    with _admin(server) as connection:
        _drop_by_name(connection, name)


def drop_marked(server: MySQLServer, database: MarkedDatabase) -> None:
    """Drop a database found by its mark (:func:`marked_databases`) if it still carries it."""
    with _admin(server) as connection:
        rows = _comment_of(connection, database.name)
        if rows and _marks(rows[0][0]) == dict(database.info):
            _drop(connection, database.name)


def create_empty(
    server: MySQLServer, name: str, run_id: str, role: str = "check", *, suite: str = ""
) -> None:
    """Create an empty database for this run (the migrations check uses one).

    A worker's (``role="worker"``) names its ``suite``, as a copy does: the run's end finds
    it by that mark when its process could not drop it.
    """
    with _admin(server) as connection:
        _create(connection, name, _comment(run_id, role, {"suite": suite} if suite else None))


def _lock(connection: _Connection, key: str, timeout: float) -> None:
    rows = _query(connection, "SELECT GET_LOCK(%s, %s)", (key, timeout))
    if not rows or rows[0][0] != 1:
        message = f"cannot take the lock {key} within {timeout:.0f}s: another run holds it"
        raise ServiceError(message)


def _unlock(connection: _Connection, key: str) -> None:
    import pymysql  # noqa: PLC0415

    # The lock also ends with the connection: a broken one must not hide the error.
    with contextlib.suppress(pymysql.Error):
        _query(connection, "SELECT RELEASE_LOCK(%s)", (key,))


def clone(
    server: MySQLServer,
    template: str,
    name: str,
    run_id: str,
    owner: str,
    *,
    suite: str,
    schema: str = "",
) -> None:
    """Create a worker's database as a copy of the template (``schema``: PostgreSQL's only).

    A template still being built is not copied half-done: the copy takes the template's build
    lock to see it exists (its builder holds it until it is built), and waits for it to
    appear for up to :data:`_TEMPLATE_WAIT_SECONDS`. A copy that fails is dropped again.

    Raises:
        ServiceError: The template never appeared, or could not be copied.
    """
    del schema  # Django's cooperation, which sets it, is PostgreSQL's
    comment = _comment(run_id, "worker", {"owner": owner, "suite": suite})
    with _admin(server, multi=True) as connection:
        key = _build_lock(template)

        def built() -> bool:
            _lock(connection, key, _TEMPLATE_WAIT_SECONDS)
            try:
                return bool(_comment_of(connection, template))
            finally:
                _unlock(connection, key)

        _databases.wait_for_template(
            built, template=template, name=name, timeout=_TEMPLATE_WAIT_SECONDS
        )
        _create(connection, name, comment, like=template)
        try:
            copy_schema(connection, template, name)
        except BaseException:
            _drop(connection, name)
            raise


def copy_schema(
    connection: _Connection,
    source: str,
    target: str,
) -> None:
    """Replay every object of ``source`` into the empty database ``target``, rows included.

    Tables first, with foreign key checks off (so their order does not matter), each by its
    own ``SHOW CREATE TABLE``, which keeps foreign keys, indexes, defaults, checks, its
    ``AUTO_INCREMENT`` counter and its engine; their rows by ``INSERT ... SELECT`` of the
    columns that are not generated, with ``NO_AUTO_VALUE_ON_ZERO`` so that a row whose id is 0
    keeps it (for the rows only: the session's mode is restored after them). Then views (their
    definitions name the template: renamed to the copy; a view on a view is retried once the
    other exists), stored routines, and triggers last, so that copying the rows fires none;
    each routine and trigger is created under the ``sql_mode`` it was created with, which the
    server stores with it. Sequences are copied by their definition.

    The statements go to the server in batches (one round trip for all tables, one for all
    rows): the benchmark measured each statement's round trip as a sizeable part of a copy.

    Raises:
        ServiceError: An object could not be copied (the message names it).
    """
    import pymysql  # noqa: PLC0415

    objects = _query(
        connection,
        "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s"
        " ORDER BY TABLE_NAME",
        (source,),
    )
    tables = [str(table) for table, kind in objects if kind == "BASE TABLE"]
    sequences = [str(table) for table, kind in objects if kind == "SEQUENCE"]
    views = [str(table) for table, kind in objects if kind in ("VIEW", "SYSTEM VIEW")]
    columns: dict[str, list[str]] = {}
    for table, column in _query(
        connection,
        "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = %s AND EXTRA NOT LIKE %s ORDER BY TABLE_NAME, ORDINAL_POSITION",
        (source, "%GENERATED%"),
    ):
        columns.setdefault(str(table), []).append(_ident(str(column)))
    src, dst = _ident(source), _ident(target)
    creates: list[str] = []
    for table in tables:
        row = _query(connection, f"SHOW CREATE TABLE {src}.{_ident(table)}")
        creates.append(str(row[0][1]))
    for sequence in sequences:
        row = _query(connection, f"SHOW CREATE SEQUENCE {src}.{_ident(sequence)}")
        creates.append(str(row[0][1]))
    inserts = []
    for table in tables:
        if names := ", ".join(columns.get(table, ())):
            # Identifiers only, each quoted by _ident.
            select = f"SELECT {names} FROM {src}.{_ident(table)}"  # noqa: S608
            inserts.append(f"INSERT INTO {dst}.{_ident(table)} ({names}) {select}")
    mode: object = "DEFAULT"
    try:
        _query(connection, f"USE {dst}")
        mode = _query(connection, "SELECT @@SESSION.sql_mode")[0][0]
        _query(connection, "SET SESSION foreign_key_checks = 0")
        _batch(connection, creates)
        _query(connection, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
        _batch(connection, inserts)
        _query(connection, "SET SESSION sql_mode = %s", (mode,))
        _copy_views(connection, source, target, views)
        _copy_code(connection, source)
    except pymysql.Error as error:
        message = f"cannot copy the template database {source} to {target}: {error}"
        raise ServiceError(message) from None
    finally:
        with contextlib.suppress(pymysql.Error):
            _query(connection, "SET SESSION foreign_key_checks = 1, sql_mode = %s", (mode,))


def _batch(connection: _Connection, statements: list[str]) -> None:
    """Run ``statements`` in one round trip when the connection takes several, else in turn."""
    from pymysql.constants import CLIENT  # noqa: PLC0415

    if not statements:
        return
    if not connection.client_flag & CLIENT.MULTI_STATEMENTS:
        for statement in statements:
            _query(connection, statement)
        return
    with connection.cursor() as cursor:
        cursor.execute(";\n".join(statements))
        while cursor.nextset():
            pass


def _copy_views(
    connection: _Connection,
    source: str,
    target: str,
    views: list[str],
) -> None:
    import pymysql  # noqa: PLC0415

    src = _ident(source)
    pending = []
    for view in views:
        row = _query(connection, f"SHOW CREATE VIEW {src}.{_ident(view)}")
        pending.append(_requalify(str(row[0][1]), source, target))
    while pending:
        failed: list[str] = []
        error: pymysql.Error | None = None
        for statement in pending:
            try:
                _query(connection, statement)
            except pymysql.Error as exc:  # a view on a view not created yet
                failed.append(statement)
                error = exc
        if len(failed) == len(pending):
            assert error is not None  # noqa: S101 - a failed statement recorded its error
            raise error
        pending = failed


def _copy_code(connection: _Connection, source: str) -> None:
    """Stored routines, then triggers, each under the ``sql_mode`` it was created with.

    The server keeps that mode with each and runs its body under it (``NO_AUTO_VALUE_ON_ZERO``,
    strictness, ``ANSI_QUOTES``...): ``SHOW CREATE`` gives it as its second column, and the copy
    is created under it. The caller restores the session's own mode after.
    """
    kinds = _query(
        connection,
        "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES"
        " WHERE ROUTINE_SCHEMA = %s AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')",
        (source,),
    )
    kinds += _query(
        connection,
        "SELECT 'TRIGGER', TRIGGER_NAME FROM information_schema.TRIGGERS"
        " WHERE TRIGGER_SCHEMA = %s ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER",
        (source,),
    )
    for kind, name in kinds:
        row = _query(connection, f"SHOW CREATE {kind} {_ident(source)}.{_ident(str(name))}")
        _query(connection, "SET SESSION sql_mode = %s", (row[0][1],))
        _query(connection, str(row[0][2]))


def ensure_template(
    server: MySQLServer,
    config: ServiceConfig,
    *,
    suite: str,
    name: str,
    run_id: str,
    kept: Kept | None,
    cwd: Path,
    environ: Mapping[str, str],
) -> bool:
    """Create the template database and run the setup steps into it, once.

    A kept template that exists already is reused as it is. Concurrent runs that want the same
    kept template wait for each other on a named lock (``GET_LOCK``), so it is built once.
    (Older kept templates are not dropped on MariaDB: PostgreSQL's only, see _postgres.)

    Returns:
        Whether the template was built now (``False``: reused).

    Raises:
        ServiceError: A setup step failed (the half-built template is dropped), or a database
            of the template's name is not suitekit's to drop (see :func:`drop`).
    """
    key = _build_lock(name)
    with _admin(server) as connection:
        _lock(connection, key, _LOCK_WAIT_SECONDS)
        try:
            if rows := _comment_of(connection, name):
                info = _marks(rows[0][0]) or {}
                if kept and info.get("kept") == "true":
                    return False
                if info.get("kept") == "building":  # its builder, which held the lock, died
                    _drop(connection, name)
                else:  # ours if its run ended; not if another run has the same run id
                    _drop_by_name(connection, name)
            # A kept template is marked complete only once its setup has succeeded, so that a
            # run killed mid-setup leaves one that is rebuilt (and that clean may drop).
            building = {"kept": "building" if kept else "false", "suite": suite}
            _create(connection, name, _comment(run_id, "template", building))
            try:
                set_up(server, config, name, cwd=cwd, environ=environ)
                if kept:
                    complete = {"kept": "true", "suite": suite}
                    _query(
                        connection,
                        f"ALTER DATABASE {_ident(name)} COMMENT %s",
                        (_comment(run_id, "template", complete),),
                    )
            except BaseException:
                _drop(connection, name)
                raise
            return True
        finally:
            _unlock(connection, key)


def set_up(
    server: MySQLServer,
    config: ServiceConfig,
    name: str,
    *,
    cwd: Path,
    environ: Mapping[str, str],
) -> None:
    """Run the setup steps into the database ``name`` (a template, or a serial run's own).

    Raises:
        ServiceError: A step failed.
    """
    import pymysql  # noqa: PLC0415

    def run_sql(statement: str) -> None:
        with _connect(server, name, multi=True) as connection:
            _batch(connection, [statement])

    env = {**environ, **render_env(config, server, name)}
    _databases.run_setup(config, env, cwd, run_sql=run_sql, errors=pymysql.Error)


def databases_with_prefix(server: MySQLServer, prefix: str) -> list[str]:
    """The databases whose name starts with ``prefix`` (matched literally)."""
    with _admin(server) as connection:
        rows = _query(
            connection,
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE %s",
            (_like_prefix(prefix),),
        )
    return [str(row[0]) for row in rows]


def marked_databases(server: MySQLServer) -> list[MarkedDatabase]:
    """Every database on the server that suitekit created (by its comment, not its name)."""
    with _admin(server) as connection:
        rows = _query(
            connection,
            "SELECT SCHEMA_NAME, SCHEMA_COMMENT FROM information_schema.SCHEMATA"
            " WHERE SCHEMA_NAME LIKE %s",
            (_like_prefix("sk_"),),
        )
    found = []
    for name, comment in rows:
        info = _marks(comment)
        if info is not None:
            found.append(MarkedDatabase(name=str(name), info=info))
    return found
