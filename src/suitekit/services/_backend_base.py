"""What every backend shares, whatever its service: its settings, its local throwaway server.

A backend's throwaway server from local binaries is found and started by its own module
(:mod:`suitekit.services._postgres_server`, :mod:`suitekit.services._redis_server`,
:mod:`suitekit.services._mysql_server`), which the backend loads only when one is wanted
(:meth:`BackendBase.local`): a backend module imports no server-starting code at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from suitekit._kinds import ServiceKind
from suitekit._model import Project, ServiceConfig

if TYPE_CHECKING:
    from suitekit.services._servers import Throwaway

__all__ = ["BackendBase", "LocalServer", "Start"]


class Start(Protocol):
    """A server-starting module's start (:func:`suitekit.services._redis_server.start_redis`)."""

    def __call__(
        self,
        found: Path,
        environ: Mapping[str, str],
        /,
        *,
        on_start: Callable[[Throwaway], None],
    ) -> Throwaway:
        """Start a throwaway server from ``found``; wait until it answers."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalServer:
    """How a service's throwaway server is found and started from local binaries.

    Attributes:
        find: What it is started from (binaries, a folder of them), or ``None``.
        start: Start it from what ``find`` found; wait until it answers.
    """

    find: Callable[[Mapping[str, str]], Path | None]
    start: Start


class BackendBase:
    """The bodies every backend shares; see :class:`suitekit.services._backend.Backend`.

    Attributes:
        kind: What the service is, as data.
    """

    kind: ServiceKind

    def config(self, project: Project) -> ServiceConfig:
        """The service's settings in ``project``."""
        return project.services[self.kind.name]

    def local(self) -> LocalServer:
        """Its server-starting module's :class:`LocalServer`, imported now."""
        raise NotImplementedError

    def find_local(self, environ: Mapping[str, str]) -> Path | None:
        """The local binaries a throwaway server is started from, or ``None``."""
        return self.local().find(environ)

    def start_local(
        self, found: Path, environ: Mapping[str, str], *, on_start: Callable[[Throwaway], None]
    ) -> Throwaway:
        """Start a throwaway server from what :meth:`find_local` found; wait until it answers."""
        return self.local().start(found, environ, on_start=on_start)
