"""PostgreSQL databases of a run: the template (migrate once), the clones (one per worker).

Every database suitekit creates has a name starting with ``sk_`` *and* a comment
``suitekit {...}`` naming its run, the process that owns it and the host; cleanup only ever
drops databases that carry that comment, so it never touches one suitekit did not create.
Identifiers are always quoted by ``_pgwire.identifier`` and comments by ``_pgwire.literal``
(other values are parameters): no name or run id can change the SQL. The statements go
through suitekit's own client (:mod:`suitekit.services._pgwire`), which falls back on psycopg
where only libpq can connect.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from suitekit._handoff import ENV_KEEP_TEMPLATE
from suitekit._model import ServiceConfig
from suitekit.errors import ServiceError
from suitekit.services import _databases, _pgwire
from suitekit.services._databases import (
    COMMENT_PREFIX,
    Kept,
    MarkedDatabase,
    render_env,
    template_key,
)
from suitekit.services._databases import comment as _comment
from suitekit.services._databases import marks as _marks
from suitekit.services._endpoints import PostgresServer

__all__ = [
    "COMMENT_PREFIX",
    "Build",
    "EarlyCopies",
    "MarkedDatabase",
    "building",
    "check",
    "clone",
    "copy_kept_early",
    "create_empty",
    "databases_with_prefix",
    "drop",
    "drop_kept_templates",
    "drop_marked",
    "ensure_template",
    "hold",
    "let_go",
    "marked_databases",
    "preclone",
    "render_env",
    "set_up",
    "settle",
    "take_or_clone",
    "template_key",
    "wait_started",
]

_BUSY_RETRIES: Final = 400  # about 95 s in all, in steps of 10 ms growing to 250 ms
_TEMPLATE_WAIT_SECONDS: Final = 120.0
_FORCE_DROP_VERSION: Final = 130000  # DROP DATABASE ... WITH (FORCE) came in PostgreSQL 13
_POLL_SECONDS: Final = 0.01  # a start takes tens of milliseconds: look often
_OBJECT_IN_USE: Final = "55006"  # the template is being accessed by other users
_OWNED: Final = "d.datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user)"

# The connections holding this process's use locks on kept templates (see hold): a process-wide
# registry, as the locks themselves are; let_go closes them at the run's end, and a process
# that dies lets go of them with its connections.
_HELD: list[contextlib.ExitStack] = []


def check(url: str) -> None:
    """Connect to the server at ``url`` and run ``SELECT 1``.

    Raises:
        ServiceError: It does not answer (the message says how, and the fix).
    """
    server = PostgresServer.from_url(url)
    _databases.check(url, "PostgreSQL", lambda: _select_1(server), _pgwire.Error)


def _select_1(server: PostgresServer) -> None:
    with contextlib.closing(_connect(server)) as connection:
        connection.execute("SELECT 1")


def _connect(server: PostgresServer, database: str | None = None) -> _pgwire.Connection:
    return _pgwire.connect(**server.connect_kwargs(database))  # type: ignore[arg-type]


def wait_started(
    server: PostgresServer,
    process: subprocess.Popen[bytes],
    log: Path,
    *,
    timeout: float,
    pgdata: Path | None = None,
) -> None:
    """Wait until a throwaway server just spawned accepts connections.

    With its cluster's folder (``pgdata``), as ``pg_ctl start --wait`` does: until the
    server's ``postmaster.pid`` says ``ready`` (PostgreSQL 10 and later write it once they
    accept connections; older servers time out here), then one TCP connect to its port. No
    PostgreSQL client is loaded: the run that starts the server (``inv``, ``suitekit run``, a
    nox session) may never connect to it (psycopg's import alone is a tenth of a second).
    Without ``pgdata``, until ``SELECT 1`` answers.

    Raises:
        ServiceError: It exited, or did not answer within ``timeout`` seconds (with its log).
    """
    from suitekit.services._servers import wait_answering  # noqa: PLC0415 - only when started

    if pgdata is not None:
        wait_answering(
            process,
            log,
            what="PostgreSQL",
            probe=lambda: _accepting(pgdata, server, pid=process.pid),
            refused=OSError,
            timeout=timeout,
            poll=_POLL_SECONDS,
        )
        return
    wait_answering(
        process,
        log,
        what="PostgreSQL",
        probe=lambda: _select_1(server),
        refused=_pgwire.OperationalError,
        timeout=timeout,
        poll=_POLL_SECONDS,
    )


_READY: Final = "ready"
"""The status PostgreSQL writes on line 8 of ``postmaster.pid`` once it accepts connections."""
_STATUS_LINE: Final = 7  # 0-based: pid, folder, start time, port, socket folder, address, key


def _accepting(pgdata: Path, server: PostgresServer, *, pid: int) -> None:
    """Return once the server's ``postmaster.pid`` says ready and its port takes a connection.

    As ``pg_ctl`` does, the file counts only when its first line is the pid of the server this
    run started (``pid``): never a stale one. It is opened without following a link and only
    if it is a regular file: the cluster's folder belongs to the server's user.

    Raises:
        OSError: Not yet (no file, another pid or status, the port refuses).
    """
    path = pgdata / "postmaster.pid"
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            message = f"{path} is not a regular file"
            raise OSError(message)
        lines = os.read(descriptor, 4096).decode(errors="replace").splitlines()
    finally:
        os.close(descriptor)
    if (
        len(lines) <= _STATUS_LINE
        or lines[0].strip() != str(pid)
        or lines[_STATUS_LINE].strip() != _READY
    ):
        message = f"PostgreSQL (pid {pid}) is not ready yet"
        raise OSError(message)
    with socket.create_connection((server.host, server.port), timeout=1.0):
        pass


@contextmanager
def _admin(server: PostgresServer, database: str | None = None) -> Iterator[_pgwire.Connection]:
    where = f"PostgreSQL at {server.host}:{server.port}"
    with _databases.admin(lambda: _connect(server, database), where, _pgwire.Error) as connection:
        yield connection


def _exists(connection: _pgwire.Connection, name: str) -> bool:
    row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def _create(
    connection: _pgwire.Connection,
    name: str,
    comment: str,
    template: str | None = None,
) -> None:
    """CREATE DATABASE (from ``template``), then mark it with suitekit's comment.

    The server's default strategy is kept: on PostgreSQL 15+ that is WAL_LOG, which copies a
    small template without the two whole-server checkpoints FILE_COPY forces (measured in
    benchmarks/bench_template_clone.py: faster on a disk-backed server, and far faster when
    other clients keep it busy). CREATE DATABASE cannot share a transaction with COMMENT, so a
    failure to mark drops the database again: nothing unmarked (and so uncleanable) is left.
    """
    statement = f"CREATE DATABASE {_pgwire.identifier(name)}"
    if template is not None:
        statement += f" TEMPLATE {_pgwire.identifier(template)}"
    for attempt in range(_BUSY_RETRIES):
        try:
            connection.execute(statement)
            break
        except _pgwire.Error as error:
            if error.sqlstate != _OBJECT_IN_USE:
                message = f"cannot create database {name}: {error}"
                raise ServiceError(message) from None
            # Another clone or a lingering setup connection holds the template for a moment.
            if attempt == _BUSY_RETRIES - 1:
                message = f"cannot create {name}: the template {template} stays in use"
                raise ServiceError(message) from None
            # A copy takes tens of milliseconds on a RAM disk: look again soon, then less often.
            time.sleep(min(0.01 * (attempt + 1), 0.25))
    try:
        _set_comment(connection, name, comment)
    except BaseException:
        _drop(connection, name)
        raise


def _drop(connection: _pgwire.Connection, name: str) -> None:
    try:
        if connection.server_version >= _FORCE_DROP_VERSION:
            connection.execute(f"DROP DATABASE IF EXISTS {_pgwire.identifier(name)} WITH (FORCE)")
            return
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        connection.execute(f"DROP DATABASE IF EXISTS {_pgwire.identifier(name)}")
    except _pgwire.Error as error:
        message = f"cannot drop database {name}: {error}"
        raise ServiceError(message) from None


def drop(server: PostgresServer, name: str) -> None:
    """Drop ``name`` if it exists, disconnecting its sessions."""
    with _admin(server) as connection:
        _drop(connection, name)


def drop_marked(server: PostgresServer, database: MarkedDatabase) -> None:
    """Drop a database found by its mark (:func:`marked_databases`), by its name."""
    drop(server, database.name)


def create_empty(
    server: PostgresServer, name: str, run_id: str, role: str = "check", *, suite: str = ""
) -> None:
    """Create an empty database for this run (the migrations check uses one).

    A worker's (``role="worker"``) names its ``suite``, as a copy does: the run's end finds
    it by that mark when its process could not drop it.
    """
    with _admin(server) as connection:
        _create(connection, name, _comment(run_id, role, {"suite": suite} if suite else None))


def clone(
    server: PostgresServer,
    template: str,
    name: str,
    run_id: str,
    owner: str,
    *,
    suite: str,
    schema: str = "",
) -> None:
    """Create a worker's database as a copy of the template (tens of milliseconds).

    A template still being built (see :func:`building`) is not copied half-done: the clone
    waits for its build lock first. A template that does not exist yet is one whose builder
    has not taken that lock yet (the run's controller builds it while its workers start): the
    clone looks again, for up to :data:`_TEMPLATE_WAIT_SECONDS`. So is a kept template marked
    ``building`` (its builder died: the controller builds it again) or migrated for another
    ``schema`` than the run's (the controller rebuilds it).

    Raises:
        ServiceError: The template never appeared, or stayed in use, or is a database of that
            name that suitekit did not make.
    """
    comment = _comment(run_id, "worker", {"owner": owner, "suite": suite})
    with _admin(server) as connection:
        _copy(connection, template, name, comment, schema=schema)


def take_or_clone(
    server: PostgresServer,
    template: str,
    name: str,
    run_id: str,
    owner: str,
    *,
    suite: str,
    schema: str = "",
    copies: str = "",
) -> None:
    """A worker's database, before its first test: the copy its controller made, else a new one.

    The run's controller copies the template into its workers' databases while they start
    (:func:`preclone`), marking each with ``copies``, a token of its own that it hands its
    workers. A database of that name is taken as it is only when it is such a copy: this
    run's, of this suite, copied from ``template`` by this controller (the token), owned by
    this role. Another of that name that suitekit made for this role (one a process of an
    earlier run with the same run id left, its tests' rows and all) is dropped, and the
    template copied as :func:`clone` does. The copy's lock is held throughout, so a worker
    never looks while its controller is half-way through copying it.

    Raises:
        ServiceError: As :func:`clone`; or a database of that name exists that suitekit did
            not make for this role (it is neither used nor dropped).
    """
    comment = _comment(run_id, "worker", {"owner": owner, "suite": suite})
    with _admin(server) as connection:
        lock = _copy_lock(name)
        try:
            connection.execute("SELECT pg_advisory_lock(%s)", (lock,))
            try:
                state = _state(connection, name)
                if state is not None:
                    info, owned = state
                    if info is None or not owned:
                        message = (
                            f"cannot make the worker database {name}: a database of that name "
                            "exists that suitekit did not make for this role, so it is neither "
                            f"used nor dropped\n  fix: drop or rename {name} yourself"
                        )
                        raise ServiceError(message)
                    if _premade_for(
                        info, run_id=run_id, suite=suite, template=template, copies=copies
                    ):
                        return
                    _drop(connection, name)
                _copy(connection, template, name, comment, schema=schema)
            finally:
                # The lock also ends with the connection: a broken one must not hide the error.
                with contextlib.suppress(_pgwire.Error):
                    connection.execute("SELECT pg_advisory_unlock(%s)", (lock,))
        except _pgwire.Error as error:
            message = f"cannot make the database {name}: {error}"
            raise ServiceError(message) from None


_COPIERS: Final = 8
"""The most copies :func:`preclone` makes at once (one connection each)."""


def preclone(
    server: PostgresServer,
    template: str,
    names: Sequence[str],
    run_id: str,
    *,
    suite: str,
    copies: str,
    wait: bool = True,
) -> list[str]:
    """In a run's controller: copy the built template into its workers' databases ``names``.

    Called once the template is complete, while the workers start (their Python, Django's
    set-up, collection): each worker then finds its database made (:func:`take_or_clone`)
    instead of copying it before its first test. The copies are made side by side, up to
    :data:`_COPIERS` at once, each marked with ``copies`` (the token the workers were given).
    A database whose worker is copying it (its copy's lock is taken) or has copied it (its
    owner is alive) is left alone; one of that name that a process now gone left (an earlier
    run with the same run id) is dropped and copied again. The copies carry this run's marks
    like any worker's database: the run's end drops them, used or not. Without ``wait``, a
    template being built (another run holds its build lock) or not complete is not waited
    for: that copy is not made.

    Returns:
        The names copied here.

    Raises:
        ServiceError: The server refused a copy (the workers' own copies would say the same).
    """
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    owner = f"{socket.gethostname()}:{os.getpid()}"
    comment = _comment(
        run_id, "worker", {"owner": owner, "suite": suite, _PREMADE: template, _COPIED_BY: copies}
    )
    if not names:
        return []
    pool = ThreadPoolExecutor(max_workers=min(_COPIERS, len(names)))
    try:
        futures = [
            pool.submit(_precopy, server, template, name, comment, wait=wait) for name in names
        ]
        copied = [future.result() for future in futures]
    except BaseException:
        # A failed copy or a Ctrl-C: the copies not started yet are not made (those made
        # carry the run's marks, and its end drops them).
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [name for name, made in zip(names, copied, strict=True) if made]


class EarlyCopies:
    """Copies of a complete kept template made in a thread while the controller starts up.

    Made by :func:`copy_kept_early`; :meth:`result` waits for them. The run's end waits for
    every copy still being made (:func:`settle`) before it drops the run's databases, so a
    Ctrl-C never leaves one that was half-way through being created.
    """

    def __init__(self, server: PostgresServer, names: Sequence[str]) -> None:
        self.server = server
        self.names = tuple(names)
        self.held = False  # this thread took the template's use lock (see hold)
        self.copied: list[str] = []
        self._thread: threading.Thread | None = None

    def start(self, copy: Callable[[], None]) -> None:
        """Run ``copy`` in a thread of its own (a daemon: a dead controller waits for none)."""
        self._thread = threading.Thread(target=copy, name="suitekit-early-copies", daemon=True)
        self._thread.start()

    def result(self) -> list[str]:
        """Wait for the copies; the names copied (none when the template was not complete)."""
        if self._thread is not None:
            self._thread.join()
        return self.copied

    def discard(self) -> None:
        """Drop the copies (the template was rebuilt since): the workers get new ones.

        Every name asked for, not only those :meth:`result` reports: when one copy failed,
        the others made were not reported, and a worker would take one of the old template.
        """
        self.result()
        for name in self.names:
            drop(self.server, name)
        self.copied = []


_EARLY: list[EarlyCopies] = []


def copy_kept_early(
    server: PostgresServer,
    template: str,
    names: Sequence[str],
    *,
    create: tuple[str, str],
    copies: str,
) -> EarlyCopies:
    """In a run's controller, at once: a complete kept template copied in a thread of its own.

    ``template`` is copied into the workers' databases ``names`` (:func:`preclone`; ``create``
    is the run id and suite that name them, as :func:`building`'s) while
    the controller sets Django up and starts its workers, instead of once Django can say
    whether the template fits its settings (:func:`building`); the controller then keeps the
    copies when it reuses that template as it is, and drops them (:meth:`EarlyCopies.discard`)
    when it rebuilds it. The template's use lock is taken first (:func:`hold`, the run's only
    one: :attr:`EarlyCopies.held`), so a complete template cannot be dropped or rebuilt by
    another run from then on: the copies are of the template as it is then, and that is
    still the template when the decision is made. Nothing here waits for another run: a
    template that is not there, not complete, or whose build lock another run holds (a
    rebuild under way) is not copied, and the run builds or copies it later as usual. An
    error ends the thread quietly: what the controller does later (the use lock, if not
    taken here, the look at the template, the copies not made) meets the same trouble and
    says it.
    """
    early = EarlyCopies(server, names)

    def copy() -> None:
        try:
            hold(server, template)
            early.held = True
            with _admin(server) as connection:
                state = _state(connection, template)
            info, owned = state if state is not None else (None, False)
            if info is not None and owned and info.get("kept") == "true":
                run_id, suite = create
                early.copied = preclone(
                    server, template, names, run_id, suite=suite, copies=copies, wait=False
                )
        except Exception:  # noqa: BLE001, S110 - the controller's own look says it
            pass

    # What the thread imports, imported here first: an import in the thread, while this one
    # sets Django up, trades the GIL with it at every file read (when the thread imported
    # psycopg, Django's set-up took twice as long under cProfile).
    import concurrent.futures  # noqa: PLC0415, F401

    import suitekit.services._servers  # noqa: PLC0415, F401

    _EARLY.append(early)
    early.start(copy)
    return early


def settle() -> None:
    """Wait for the copies :func:`copy_kept_early` is still making (before the run's end)."""
    while _EARLY:
        _EARLY.pop().result()


def _precopy(
    server: PostgresServer, template: str, name: str, comment: str, *, wait: bool = True
) -> bool:
    """One copy of :func:`preclone`, on a connection of its own; whether it was made."""
    from suitekit.services._servers import owner_gone  # noqa: PLC0415 - a leftover's owner

    with _admin(server) as connection:
        lock = _copy_lock(name)
        try:
            row = connection.execute("SELECT pg_try_advisory_lock(%s)", (lock,)).fetchone()
            if row is None or not row[0]:
                return False  # its worker is copying it now
            try:
                state = _state(connection, name)
                if state is not None:
                    info, owned = state
                    if info is None or not owned:
                        return False  # not ours: its worker says so, and leaves it
                    host, _, pid = info.get("owner", "").rpartition(":")
                    if not owner_gone(host, pid):
                        return False  # its worker copied it (or another live process did)
                    _drop(connection, name)  # an earlier process's, with this run's id
                try:
                    _copy(connection, template, name, comment, wait=wait)
                except _NotNow:
                    return False
                return True
            finally:
                with contextlib.suppress(_pgwire.Error):  # as in take_or_clone
                    connection.execute("SELECT pg_advisory_unlock(%s)", (lock,))
        except _pgwire.Error as error:
            message = f"cannot copy the template {template} into {name}: {error}"
            raise ServiceError(message) from None


_PREMADE: Final = "copied-from"
"""The mark of a worker's database its controller copied (:func:`preclone`): the template."""
_COPIED_BY: Final = "copied-by"
"""The mark of the controller that copied it: the token its workers were given."""


def _premade_for(
    info: Mapping[str, str] | None, *, run_id: str, suite: str, template: str, copies: str
) -> bool:
    """Whether marks ``info`` are those of the copy this worker's controller made for it."""
    return (
        info is not None
        and bool(copies)
        and info.get(_COPIED_BY) == copies
        and info.get("run") == run_id
        and info.get("role") == "worker"
        and info.get("suite") == suite
        and info.get(_PREMADE) == template
    )


class _NotNow(Exception):  # noqa: N818 - a signal, not an error
    """A copy that would have to wait for the template (see ``_copy``'s ``wait``)."""


def _copy_lock(name: str) -> int:
    """The advisory lock key held while a worker's database ``name`` is looked at or copied."""
    return _build_lock("copy\x00" + name)


def _copy(
    connection: _pgwire.Connection,
    template: str,
    name: str,
    comment: str,
    *,
    schema: str = "",
    wait: bool = True,
) -> None:
    """Copy the complete template into ``name`` (see :func:`clone`).

    Without ``wait``, a template that is being built, or not there, is not waited for: the
    copy is not made (:class:`_NotNow`).
    """
    key = _build_lock(template)

    def built() -> bool:
        # Under the shared lock, a template that exists is complete: its builder creates it
        # only while holding the lock exclusively, and lets go once it is built. A kept one
        # a dead builder left is marked "building": its run's controller rebuilds it. When
        # it is complete the lock is kept through the copy, so that no rebuild (another
        # run's --reinstall) can drop it half-way.
        if wait:
            connection.execute("SELECT pg_advisory_lock_shared(%s)", (key,))
        else:
            row = connection.execute("SELECT pg_try_advisory_lock_shared(%s)", (key,)).fetchone()
            if row is None or not row[0]:
                raise _NotNow
        ready = False
        try:
            state = _state(connection, template)
            if state is None:
                return False
            info, owned = state
            if info is None or not owned:
                raise ServiceError(_not_ours(template, name))
            if info.get("kept") == "building":
                return False
            kept_for = info.get("schema")
            ready = not (schema and info.get("kept") == "true" and kept_for != schema)
            return ready
        finally:
            if not ready:
                connection.execute("SELECT pg_advisory_unlock_shared(%s)", (key,))

    if wait:
        _databases.wait_for_template(
            built, template=template, name=name, timeout=_TEMPLATE_WAIT_SECONDS
        )
    elif not built():
        raise _NotNow
    try:
        _create(connection, name, comment, template=template)
    finally:
        connection.execute("SELECT pg_advisory_unlock_shared(%s)", (key,))


def _build_lock(name: str) -> int:
    """The advisory lock key held while the template ``name`` is built."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@dataclass(slots=True, kw_only=True)
class Build:
    """What :func:`building` found and did, for its caller.

    Attributes:
        fill: The template is new (or rebuilt): the block fills it. ``False``: a complete
            kept template was found, and nothing is to be done.
        keep: Set it to ``False`` in the block to have a kept template's build marked as this
            run's own (dropped at its end) instead of complete (nothing filled it).
        dropped: The older kept templates of the project and suite dropped after the build.
    """

    fill: bool = True
    keep: bool = True
    dropped: list[str] = field(default_factory=list)


@contextmanager
def building(
    server: PostgresServer,
    name: str,
    *,
    create: tuple[str, str],
    kept: Kept | None = None,
) -> Iterator[Build]:
    """Hold the template's build lock, on a connection of its own: its clones wait meanwhile.

    The run's controller (or only process) holds it while Django's migrate fills the template
    (see suitekit.services._django). The template is created empty under the lock first, for
    ``create`` (the run id and suite; a leftover of that run id is dropped first), and dropped
    again if the block fails. With ``kept``, a complete kept template of that name is used as
    it is (``Build.fill`` is false); otherwise it is built, marked complete once the block
    succeeds, and the project's and suite's older kept templates that no run uses are dropped.
    """
    build = Build()
    with _admin(server) as connection:
        key = _build_lock(name)
        connection.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            run_id, suite = create
            if kept is not None:
                build.fill = _prepare_kept(connection, name, run_id, kept)
            else:
                _drop_leftover_template(connection, name, run_id)
                marks = {"kept": "false", "suite": suite}
                _create(connection, name, _comment(run_id, "template", marks))
            if not build.fill:
                yield build
                return
            try:
                yield build
            except BaseException:
                # What failed is what is said; the run's cleanup drops the template by its
                # marks if this cannot (the server gone, the connection broken).
                with contextlib.suppress(_pgwire.Error, ServiceError):
                    _drop(connection, name)
                raise
            if kept is not None:
                state = "true" if build.keep else "false"
                marks = kept.marks(state) if build.keep else {"kept": state, "suite": suite}
                _set_comment(connection, name, _comment(run_id, "template", marks))
                if build.keep:
                    build.dropped = _drop_older(connection, name, kept)
        finally:
            # The lock also ends with the connection: a broken one must not hide the error.
            with contextlib.suppress(_pgwire.Error):
                connection.execute("SELECT pg_advisory_unlock(%s)", (key,))


def _drop_leftover_template(connection: _pgwire.Connection, name: str, run_id: str) -> None:
    """Drop the template ``name`` that a killed run of the same run id left, if there is one.

    Raises:
        ServiceError: A database of that name exists that is not a template of this run id
            made by this role: it is neither used nor dropped.
    """
    state = _state(connection, name)
    if state is None:
        return
    info, owned = state
    if not owned or info is None or info.get("role") != "template" or info.get("run") != run_id:
        raise ServiceError(_not_ours(name))
    _drop(connection, name)


def _use_lock(name: str) -> int:
    """The advisory lock key a run holds (shared) while it uses the kept template ``name``."""
    return _build_lock("use\x00" + name)


def hold(server: PostgresServer, name: str) -> None:
    """Hold the kept template ``name``'s use lock (shared) until :func:`let_go`.

    The run's controller takes it before it looks for the template, and holds it until its
    workers are gone: a run that builds a newer template drops an older one only when no run
    holds it (:func:`_drop_older`), so a template is never dropped under a run that clones it.
    """
    stack = contextlib.ExitStack()
    _HELD.append(stack)
    connection = stack.enter_context(_admin(server))  # a server that does not answer: the fix
    connection.execute("SELECT pg_advisory_lock_shared(%s)", (_use_lock(name),))


def let_go() -> None:
    """Give up every use lock :func:`hold` took in this process (its connections close)."""
    while _HELD:
        _HELD.pop().close()


def _state(connection: _pgwire.Connection, name: str) -> tuple[dict[str, str] | None, bool] | None:
    """``None`` if ``name`` does not exist; else its suitekit marks, and whether we own it."""
    row = connection.execute(
        f"SELECT shobj_description(d.oid, 'pg_database'), {_OWNED}"  # noqa: S608 - constant
        " FROM pg_database d WHERE d.datname = %s",
        (name,),
    ).fetchone()
    if row is None:
        return None
    return _marks(row[0]), bool(row[1])


def _not_ours(template: str, name: str | None = None) -> str:
    what = f"cannot create {name}: " if name else ""
    return (
        f"{what}a database named {template} exists that suitekit did not create (it has no "
        "suitekit mark, or another role owns it), so it is neither used nor dropped"
        f"\n  fix: drop or rename {template} yourself if it is not needed; else run with "
        f"{ENV_KEEP_TEMPLATE}=0, or set keep-template = false under "
        "[tool.suitekit.services.postgres]"
    )


def _prepare_kept(connection: _pgwire.Connection, name: str, run_id: str, kept: Kept) -> bool:
    """Under the build lock: whether the kept template ``name`` must be (re)built, created if so.

    A complete one (its setup or migrate finished, for the same schema) is used as it is. One
    marked ``building`` was left by a builder that died (a live one would hold the lock), so it
    is dropped and built again, as is one of another schema, or any with ``kept.rebuild``. A
    database of that name without suitekit's mark, or owned by another role, is refused.
    The new template is closed to other roles: it outlives the run, and every later run's
    databases are copied from it.
    """
    state = _state(connection, name)
    if state is not None:
        info, owned = state
        if info is None or not owned:
            raise ServiceError(_not_ours(name))
        if kept.complete(info) and not kept.rebuild:
            return False
        if info.get("kept") == "true" and _other_users(connection, name):
            # Complete, but for other settings (or --reinstall): another run clones it now,
            # and dropping it would break that run.
            raise ServiceError(_in_use(name, rebuild=kept.rebuild))
        _drop(connection, name)
    try:  # a Ctrl-C while the server creates it: it may exist, still unmarked
        _create(connection, name, _comment(run_id, "template", kept.marks("building")))
        connection.execute(f"REVOKE ALL ON DATABASE {_pgwire.identifier(name)} FROM PUBLIC")
    except BaseException:
        _drop(connection, name)
        raise
    return True


def _other_users(connection: _pgwire.Connection, name: str) -> bool:
    """Whether a run besides this one holds the kept template ``name``'s use lock.

    This run's controller holds it too (:func:`hold`, on a connection of its own), so more
    than one holder means another run. An advisory lock on a 64-bit key shows in ``pg_locks``
    as its high and low 32 bits (``classid``, ``objid``) with ``objsubid`` 1.
    """
    unsigned = _use_lock(name) & 0xFFFF_FFFF_FFFF_FFFF
    row = connection.execute(
        "SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = %s AND objid = %s AND objsubid = 1",
        (unsigned >> 32, unsigned & 0xFFFF_FFFF),
    ).fetchone()
    return bool(row and row[0] > 1)


def _in_use(name: str, *, rebuild: bool) -> str:
    why = "--reinstall asks to build it again" if rebuild else "it was migrated for other settings"
    return (
        f"the kept template {name} cannot be built again now: {why}, and another run is "
        "cloning it (dropping it would break that run)"
        f"\n  fix: wait for that run to end, or run this one with {ENV_KEEP_TEMPLATE}=0 (a "
        "template of its own, dropped at its end)"
    )


def _kept_templates(connection: _pgwire.Connection, project: str, suite: str | None) -> list[str]:
    """The kept templates of ``project`` (and ``suite``) on the server that this role owns."""
    rows = connection.execute(
        f"SELECT d.datname, shobj_description(d.oid, 'pg_database') FROM pg_database d"  # noqa: S608 - constant
        f" WHERE d.datname LIKE 'sk\\_tpl\\_%' AND {_OWNED}"
    ).fetchall()
    found = []
    for name, comment in rows:
        info = _marks(comment)
        if info is None or info.get("role") != "template" or info.get("project") != project:
            continue
        if info.get("kept") not in ("true", "building"):
            continue
        if suite is None or info.get("suite") == suite:
            found.append(str(name))
    return sorted(found)


def _drop_unused(connection: _pgwire.Connection, name: str) -> bool:
    """Drop the kept template ``name`` unless a run uses it or builds it; whether it was."""
    locks = (_use_lock(name), _build_lock(name))
    taken = []
    try:
        for lock in locks:
            row = connection.execute("SELECT pg_try_advisory_lock(%s)", (lock,)).fetchone()
            if not (row and row[0]):
                return False
            taken.append(lock)
        _drop(connection, name)
        return True
    finally:
        for lock in taken:
            connection.execute("SELECT pg_advisory_unlock(%s)", (lock,))


def _drop_older(connection: _pgwire.Connection, name: str, kept: Kept) -> list[str]:
    """Drop the project's and suite's other kept templates that no run uses now."""
    return [
        other
        for other in _kept_templates(connection, kept.project, kept.suite)
        if other != name and _drop_unused(connection, other)
    ]


def drop_kept_templates(server: PostgresServer, project: str) -> tuple[list[str], list[str]]:
    """Drop every kept template of ``project`` on ``server`` (``suitekit clean --templates``).

    Only databases with suitekit's mark for that project, owned by this role; one that a run
    uses or builds now is left (and named).

    Returns:
        The names dropped, and those left because a run uses them.
    """
    dropped: list[str] = []
    busy: list[str] = []
    with _admin(server) as connection:
        for name in _kept_templates(connection, project, None):
            (dropped if _drop_unused(connection, name) else busy).append(name)
    return dropped, busy


def ensure_template(
    server: PostgresServer,
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

    A complete kept template that exists already is reused as it is (see
    :func:`_prepare_kept`); this process holds its use lock (:func:`hold`) until the run ends.
    Concurrent runs that want the same kept template wait for each other on an advisory lock,
    so it is built once.

    Returns:
        Whether the template was built now (``False``: reused).

    Raises:
        ServiceError: A setup step failed (the half-built template is dropped), or a database
            of the kept template's name is not suitekit's.
    """
    if kept is not None:
        hold(server, name)  # before looking: no run drops it from under this one's clones
    lock = _build_lock(name)
    with _admin(server) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (lock,))
        try:
            if kept is not None:
                if not _prepare_kept(connection, name, run_id, kept):
                    return False
            elif _exists(connection, name):  # left by a run of the same id
                _drop(connection, name)
            # A kept template is marked complete only once its setup has succeeded, so that a
            # run killed mid-setup leaves one that is rebuilt (and that clean may drop). A
            # Ctrl-C while the server creates it drops it too: it may exist, still unmarked.
            try:
                if kept is None:
                    marks = {"kept": "false", "suite": suite}
                    _create(connection, name, _comment(run_id, "template", marks))
                set_up(server, config, name, cwd=cwd, environ=environ)
                if kept is not None:
                    _set_comment(connection, name, _comment(run_id, "template", kept.marks("true")))
            except BaseException:
                _drop(connection, name)
                raise
            if kept is not None:
                _drop_older(connection, name, kept)
            return True
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (lock,))


def _set_comment(connection: _pgwire.Connection, name: str, comment: str) -> None:
    identifier, text = _pgwire.identifier(name), _pgwire.literal(comment)
    connection.execute(f"COMMENT ON DATABASE {identifier} IS {text}")


def set_up(
    server: PostgresServer,
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

    def run_sql(statement: str) -> None:
        with _admin(server, name) as connection:
            connection.execute(statement.encode())

    env = {**environ, **render_env(config, server, name)}
    _databases.run_setup(config, env, cwd, run_sql=run_sql, errors=_pgwire.Error)


def databases_with_prefix(server: PostgresServer, prefix: str) -> list[tuple[str, int]]:
    """The databases whose name starts with ``prefix``, each with its number of sessions.

    ``prefix`` is matched literally (``LIKE`` wildcards in it are escaped).
    """
    pattern = _databases.like_prefix(prefix)
    with _admin(server) as connection:
        rows = connection.execute(
            "SELECT d.datname, (SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.oid)"
            " FROM pg_database d WHERE d.datname LIKE %s",
            (pattern,),
        ).fetchall()
    return [(str(name), int(sessions)) for name, sessions in rows]


def marked_databases(server: PostgresServer) -> list[MarkedDatabase]:
    """Every database on the server that suitekit created (by its comment, not its name)."""
    with _admin(server) as connection:
        rows = connection.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
            " WHERE datname LIKE 'sk\\_%'"
        ).fetchall()
    found = []
    for name, comment in rows:
        if (info := _marks(comment)) is not None:
            found.append(MarkedDatabase(name=name, info=info))
    return found
