"""What a service is to suitekit: the :class:`Backend` protocol, and the registry of them.

Everything suitekit does with a service goes through its backend, found in :data:`BACKENDS`
by the service's name: how a server is seen to answer, how a throwaway one is started (local
binaries, else a container), what each worker gets of it and gives back, and what ``suitekit
clean`` finds of it. One backend per module, as pytest-xdist's
schedulers: :mod:`suitekit.services._postgres_backend`, :mod:`suitekit.services._redis_backend`,
:mod:`suitekit.services._mysql_backend`. The bodies they share are written once, in base classes
that implement this protocol in part: :class:`~suitekit.services._backend_base.BackendBase`
(every backend) and :class:`~suitekit.services._database_backend.DatabaseBackend` (PostgreSQL
and MariaDB).

Which variables name a service's server is data, read from :data:`suitekit._kinds.KINDS`
without this registry: a run that only passes on the servers it was given, or a session without
services, never loads it. A backend module imports no client library and no server-starting
code at import time: the registry is read by every run that checks or starts a server, and most
of them are given their servers.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from suitekit._kinds import ServiceKind
from suitekit._model import Check, Project, Service, Suite
from suitekit.services._mysql_backend import MYSQL
from suitekit.services._postgres_backend import POSTGRES
from suitekit.services._redis_backend import REDIS

if TYPE_CHECKING:
    from suitekit.services._docker import ContainerSpec
    from suitekit.services._fingerprint import TemplateInputs
    from suitekit.services._resources import WorkerResources
    from suitekit.services._servers import Throwaway
    from suitekit.services._worker import Acquired

__all__ = ["BACKENDS", "Backend"]


class Backend(Protocol):
    """A service suitekit can find, start, share out per worker and clean up."""

    @property
    def kind(self) -> ServiceKind:
        """What the service is, as data: its name, URLs, config keys, CI container."""

    @property
    def install_hint(self) -> str:
        """What to install for a throwaway server from local binaries."""

    @property
    def binaries_not_found(self) -> str:
        """What was looked for, and where, when :meth:`find_local` finds nothing."""

    @property
    def left_behind(self) -> str:
        """What :meth:`clean` removes, for its report: ``database(s)``, ``Redis lease(s)``."""

    @property
    def stop_signal(self) -> signal.Signals:
        """The signal that stops its throwaway server quickly (SIGKILL follows if it does not)."""

    def check(self, url: str) -> None:
        """Connect to the server at ``url``; raise :class:`ServiceError` if it does not answer."""

    def find_local(self, environ: Mapping[str, str]) -> Path | None:
        """The local binaries a throwaway server is started from, or ``None``."""

    def start_local(
        self, found: Path, environ: Mapping[str, str], *, on_start: Callable[[Throwaway], None]
    ) -> Throwaway:
        """Start a throwaway server from what :meth:`find_local` found; wait until it answers."""

    def container(self) -> ContainerSpec:
        """Its container, for when no local binaries are found and Docker answers."""

    def local_url(self, port: int, password: str) -> str:
        """The URL of a server of its own on ``port`` of 127.0.0.1 (a container's)."""

    def prepare_run(
        self,
        project: Project,
        suite: Suite,
        environ: Mapping[str, str],
        *,
        url: Callable[[], str],
        run_id: str,
        build: bool,
        inputs: TemplateInputs | None = None,
        alone: bool = False,
    ) -> dict[str, str]:
        """The run controller's part, once per run (the template database); the variables set.

        ``url`` gives the provided server's URL, or raises :class:`ServiceError` when none is
        provided: a backend with nothing to prepare does not ask for it. ``inputs``: what keys
        a kept template (a Django suite's, see :mod:`suitekit.services._fingerprint`).
        ``alone``: the controller is the run's only process (no xdist worker now or later), so
        a template only a copy is made of may be left out (see :meth:`acquire`).
        """

    def acquire(
        self,
        project: Project,
        suite: Suite,
        acquired: Acquired,
        *,
        url: str,
        environ: Mapping[str, str],
        clone_later: bool,
        alone: bool = False,
    ) -> dict[str, str]:
        """Give the worker its own part of the server; the variables that name it.

        The part is written into ``acquired.resources`` and its release registered on
        ``acquired``. ``alone``: the run's only process, given no template by
        :meth:`prepare_run` with ``alone``, sets its own part up as the template would be.
        """

    def acquire_for_check(
        self, project: Project, check: Check, *, run_id: str, url: str, stack: contextlib.ExitStack
    ) -> dict[str, str]:
        """A check's own part of the server, given back when ``stack`` closes; its variables."""

    def render_env(self, project: Project, url: str, resources: WorkerResources) -> dict[str, str]:
        """The variables (the project's ``env`` templates) that name the worker's part."""

    def finish_run(self, suite: Suite, run_id: str, url: str) -> None:
        """Remove what the run's workers left on the server (crashed ones could not)."""

    def clean(self, url: str, say: Callable[[str], None]) -> int:
        """``suitekit clean`` on the server: remove what dead runs left; how many were."""


BACKENDS: Final[Mapping[Service, Backend]] = {
    "postgres": POSTGRES,
    "redis": REDIS,
    "mysql": MYSQL,
}
"""Every service suitekit knows, by name; the order is the order of work and of messages."""
