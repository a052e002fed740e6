"""``suitekit clean``: remove what killed runs left behind, and nothing else.

A thing is left behind when suitekit made it (a server record, a database with suitekit's
comment, a Redis lease, a folder with suitekit's owner file, a Django test database named after
one of suitekit's worker databases) and the process that owns it, on this host, is gone.
Databases and keys without suitekit's marks, and anything a live run holds, are never touched.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from suitekit import _processes
from suitekit._model import Project, Service
from suitekit._urls import redact
from suitekit.services import _custom
from suitekit.services._backend import BACKENDS
from suitekit.services._provide import server_urls
from suitekit.services._servers import owner_gone, pid_alive, records, stop_record
from suitekit.services._worker import work_folders

__all__ = ["CleanReport", "clean", "clean_templates"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CleanReport:
    """What ``clean`` removed.

    Attributes:
        servers: Throwaway servers stopped.
        removed: What each service's backend removed (``database(s)``, ``Redis lease(s)``),
            in the registry's order, with how many.
        folders: Per-worker folders removed.
        processes: Processes that dead runs' tests left running, stopped.
        instances: Instances of the project's own services whose owner is gone, stopped.
    """

    servers: int = 0
    removed: tuple[tuple[str, int], ...] = ()
    folders: int = 0
    processes: int = 0
    instances: int = 0

    def summary(self) -> str:
        """One line for the terminal."""
        processes = f"{self.processes} process(es), " if self.processes else ""
        if self.instances:
            processes += f"{self.instances} service instance(s), "
        removed = "".join(f"{count} {what}, " for what, count in self.removed)
        return (
            f"suitekit clean: {processes}{self.servers} server(s), {removed}"
            f"{self.folders} folder(s) removed"
        )


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
    urls: dict[Service, list[str]] = {service: [] for service in BACKENDS}
    servers = _clean_servers(urls, say)
    instances = _custom.left_behind(say)
    if project is not None:
        for service, url in server_urls(project, environ).items():
            urls[service].append(url)
    removed = tuple(
        (backend.left_behind, sum(backend.clean(url, say) for url in dict.fromkeys(urls[service])))
        for service, backend in BACKENDS.items()
    )
    return CleanReport(
        servers=servers,
        removed=removed,
        folders=_clean_folders(say),
        processes=len(left),
        instances=instances,
    )


def clean_templates(
    project: Project, environ: Mapping[str, str], *, say: Callable[[str], None] = lambda _: None
) -> int:
    """Drop this project's kept templates (``suitekit clean --templates``); how many.

    They are not left behind (the next run clones them), so plain ``clean`` keeps them. Only
    PostgreSQL servers named by URL are looked at: a throwaway server keeps nothing. Only a
    database with suitekit's mark for this project, owned by the role connecting, is dropped,
    and none that a live run uses.
    """
    from suitekit.services._databases import project_mark  # noqa: PLC0415
    from suitekit.services._postgres_backend import POSTGRES  # noqa: PLC0415

    url = server_urls(project, environ).get("postgres")
    if url is None:
        say("no PostgreSQL server named (DATABASE_URL or [tool.suitekit.services.postgres] url)")
        return 0
    return POSTGRES.drop_kept(url, project_mark(project.root), say)


def _clean_servers(urls: dict[Service, list[str]], say: Callable[[str], None]) -> int:
    """Stop servers whose owner is gone; collect the live ones' URLs for the other steps."""
    stopped = 0
    for record in records():
        if pid_alive(record.owner_pid):
            urls.setdefault(record.kind, []).append(record.url)
            continue
        stop_record(record)
        stopped += 1
        say(f"stopped a left-behind {record.kind} server ({redact(record.url)})")
    return stopped


def _clean_folders(say: Callable[[str], None]) -> int:
    removed = 0
    for folder, owner in work_folders():
        if owner_gone(owner.get("host"), owner.get("pid")):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
            say(f"removed {folder}")
    return removed
