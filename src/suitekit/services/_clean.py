"""``suitekit clean``: remove what killed runs left behind, and nothing else.

A thing is left behind when suitekit made it (a server record, a database with suitekit's
comment, a Redis lease, a folder with suitekit's owner file, a Django test database named after
one of suitekit's worker databases) and the process that owns it, on this host, is gone.
Databases and keys without suitekit's marks, and anything a live run holds, are never touched.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from suitekit import _naming, _processes
from suitekit._model import Project
from suitekit._urls import redact
from suitekit.errors import ServiceError
from suitekit.services import _django, _postgres, _redis
from suitekit.services._endpoints import PostgresServer, RedisServer
from suitekit.services._provide import server_urls
from suitekit.services._throwaway import pid_alive, records, stop_record
from suitekit.services._worker import work_folders

__all__ = ["CleanReport", "clean"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CleanReport:
    """What ``clean`` removed.

    Attributes:
        servers: Throwaway servers stopped.
        databases: Databases dropped.
        leases: Redis leases released (their databases flushed).
        folders: Per-worker folders removed.
        processes: Processes that dead runs' tests left running, stopped.
    """

    servers: int = 0
    databases: int = 0
    leases: int = 0
    folders: int = 0
    processes: int = 0

    def summary(self) -> str:
        """One line for the terminal."""
        processes = f"{self.processes} process(es), " if self.processes else ""
        return (
            f"suitekit clean: {processes}{self.servers} server(s), {self.databases} database(s), "
            f"{self.leases} Redis lease(s), {self.folders} folder(s) removed"
        )


def _dead(host: object, pid: object) -> bool:
    if host != socket.gethostname():
        return False  # another machine's run: we cannot tell, so we leave it
    try:
        return not pid_alive(int(str(pid)))
    except ValueError:
        return False


def clean(
    project: Project | None,
    environ: Mapping[str, str],
    *,
    say: Callable[[str], None] = lambda _: None,
) -> CleanReport:
    """Remove servers, databases, leases and folders of dead runs on this host."""
    # First the processes a dead run's tests left: they may hold its databases and folders.
    left = _processes.orphaned()
    _processes.stop(left)
    if left:
        say(_processes.describe(left, what="dead runs' tests"))
    postgres_urls: list[str] = []
    redis_urls: list[str] = []
    servers = _clean_servers(postgres_urls, redis_urls, say)
    if project is not None:
        explicit = server_urls(project, environ)
        postgres_urls += [explicit["postgres"]] if "postgres" in explicit else []
        redis_urls += [explicit["redis"]] if "redis" in explicit else []
    return CleanReport(
        servers=servers,
        databases=sum(_clean_databases(url, say) for url in dict.fromkeys(postgres_urls)),
        leases=sum(_clean_leases(url, say) for url in dict.fromkeys(redis_urls)),
        folders=_clean_folders(say),
        processes=len(left),
    )


def _clean_servers(
    postgres_urls: list[str], redis_urls: list[str], say: Callable[[str], None]
) -> int:
    """Stop servers whose owner is gone; collect the live ones' URLs for the other steps."""
    stopped = 0
    for record in records():
        if pid_alive(record.owner_pid):
            (postgres_urls if record.kind == "postgres" else redis_urls).append(record.url)
            continue
        stop_record(record)
        stopped += 1
        say(f"stopped a left-behind {record.kind} server ({redact(record.url)})")
    return stopped


def _clean_databases(url: str, say: Callable[[str], None]) -> int:
    server = PostgresServer.from_url(url)
    try:
        marked = _postgres.marked_databases(server)
    except ServiceError as error:
        say(f"skipped {url}: {error}")
        return 0
    dropped = 0
    for database in marked:
        info = database.info
        if info.get("kept") == "true" or not _dead(info.get("host"), info.get("pid")):
            continue
        _postgres.drop(server, database.name)
        dropped += 1
        say(f"dropped database {database.name} (run {info.get('run')})")
    return dropped + _clean_test_databases(server, say)


def _clean_test_databases(server: PostgresServer, say: Callable[[str], None]) -> int:
    """Drop Django test databases that dead runs' workers left (``test_sk_...``).

    Django creates them, so they carry no comment of suitekit's: one counts as a dead run's
    when its name is Django's test name of a suitekit worker database (the name's hash of run,
    suite and worker checks out), no session uses it, and no database of its run is left that
    a live process of this host, or any process of another host, owns. A live run always holds
    its template until its workers are gone, so its test databases are never taken for dead.
    Called after the dead runs' own databases are dropped; kept templates say nothing of a run.
    """
    leaked = _django.leaked_test_databases(server)
    if not leaked:
        return 0
    live = {
        _naming.slug(database.info.get("run", ""), 20)
        for database in _postgres.marked_databases(server)
        if database.info.get("kept") != "true"
    }
    dropped = 0
    for database in leaked:
        if database.run_id in live or database.sessions:
            continue
        _postgres.drop(server, database.name)
        dropped += 1
        say(f"dropped database {database.name} (pytest-django's, of run {database.run_id})")
    return dropped


def _clean_leases(url: str, say: Callable[[str], None]) -> int:
    server = RedisServer.from_url(url)
    try:
        held = _redis.leases(server)
    except Exception as error:  # noqa: BLE001 - an unreachable server is reported, not fatal
        say(f"skipped {url}: {error}")
        return 0
    released = 0
    for db, owner, raw in held:
        if _dead(owner.get("host"), owner.get("pid")):
            _redis.release(server, db, raw)
            released += 1
            say(f"released Redis database {db} (run {owner.get('run')})")
    return released


def _clean_folders(say: Callable[[str], None]) -> int:
    removed = 0
    for folder, owner in work_folders():
        if _dead(owner.get("host"), owner.get("pid")):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
            say(f"removed {folder}")
    return removed
