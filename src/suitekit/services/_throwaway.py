"""Throwaway PostgreSQL and Redis servers, started from local binaries (or Docker) for one run.

The names a caller needs, in one place: the servers' records and stops are
:mod:`suitekit.services._servers`'s, each service's start its backend's
(:mod:`suitekit.services._postgres_server`, :mod:`suitekit.services._redis_server`), and
containers :mod:`suitekit.services._docker`'s. Importing this module imports all of them: the
run's own code imports only what it starts, through :data:`suitekit.services._backend.BACKENDS`.
"""

from __future__ import annotations

from suitekit.services._docker import docker_available, start_container
from suitekit.services._postgres_server import find_postgres_bindir, start_postgres
from suitekit.services._redis_server import find_redis_server, start_redis
from suitekit.services._servers import (
    ServerRecord,
    Throwaway,
    pid_alive,
    records,
    state_root,
    stop_record,
)

__all__ = [
    "ServerRecord",
    "Throwaway",
    "docker_available",
    "find_postgres_bindir",
    "find_redis_server",
    "pid_alive",
    "records",
    "start_container",
    "start_postgres",
    "start_redis",
    "state_root",
    "stop_record",
]
