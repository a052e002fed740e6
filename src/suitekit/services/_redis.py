"""A Redis logical database per worker, leased so that no other worker, suite or run sees it.

Leases live in database 0 as keys ``suitekit:lease:<n>`` (``SET NX`` with a time to live), whose
value names the run, the owning process and the host. A worker only leases a database that is
empty, and on release flushes that database alone and deletes its lease. Nothing else in the
server is ever written or flushed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from suitekit._urls import redact
from suitekit.errors import ServiceError
from suitekit.services._endpoints import RedisServer

if TYPE_CHECKING:
    import redis
    from redis.retry import Retry

__all__ = [
    "Lease",
    "check",
    "client",
    "lease",
    "leases",
    "owner_tag",
    "release",
    "wait_started",
]

LEASE_KEY: Final = "suitekit:lease:{db}"
LEASE_PATTERN: Final = "suitekit:lease:*"
_LEASE_SECONDS: Final = 24 * 3600
_DEFAULT_DATABASES: Final = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class Lease:
    """A leased logical database.

    Attributes:
        db: Its number.
        owner: The lease's value: who holds it.
    """

    db: int
    owner: str


def _no_retries() -> Retry:
    """A redis-py ``retry`` that tries once.

    redis-py retries a failed connection three times with growing pauses (3.6 s in all with
    redis-py 8): a server that is gone (a throwaway one killed mid-run, a named one down) would
    hold every cleanup step and every check for that long, to fail the same way.
    """
    from redis.backoff import NoBackoff  # noqa: PLC0415
    from redis.retry import Retry  # noqa: PLC0415

    return Retry(NoBackoff(), 0)


def _quiet() -> dict[str, object]:
    """Client options that keep redis-py from asking for what a Redis 7 server does not have.

    redis-py 7+ asks every new connection for maintenance notifications and logs the refusal
    of a server without them ("Failed to enable maintenance notifications"), which nox prints
    in every session that reaches a Redis. Older redis-py has no such option: nothing to do.
    """
    try:
        from redis.maint_notifications import MaintNotificationsConfig  # noqa: PLC0415
    except ImportError:
        return {}
    return {"maint_notifications_config": MaintNotificationsConfig(enabled=False)}


def client(server: RedisServer, db: int = 0, *, timeout: float = 10.0) -> redis.Redis:
    """A client of suitekit's own for ``server``: one try per connection, no notices asked for.

    Every Redis connection suitekit makes (leases, checks, waiting for a throwaway server)
    comes from here.
    """
    import redis  # noqa: PLC0415 - kept off the import path of projects without Redis

    return redis.Redis(
        host=server.host,
        port=server.port,
        db=db,
        username=server.username or None,
        password=server.password or None,
        socket_connect_timeout=timeout,
        decode_responses=True,
        retry=_no_retries(),
        **_quiet(),  # type: ignore[arg-type]
    )


def owner_tag(run_id: str, suite: str, worker: str) -> str:
    """The value of a lease: enough to tell whether its holder is gone."""
    return json.dumps(
        {
            "run": run_id,
            "suite": suite,
            "worker": worker,
            "pid": os.getpid(),
            "host": socket.gethostname(),
        },
        sort_keys=True,
    )


def lease(server: RedisServer, owner: str) -> int:
    """Lease an empty logical database (never 0) and return its number.

    Raises:
        ServiceError: The server cannot be reached, or every database is leased or not empty.
    """
    import redis  # noqa: PLC0415

    admin = client(server)
    try:
        try:
            configured = admin.config_get("databases").get("databases")
            count = int(configured) if configured else _DEFAULT_DATABASES
        except redis.ResponseError:  # CONFIG disabled (managed Redis): assume the default
            count = _DEFAULT_DATABASES
        for db in range(1, count):
            key = LEASE_KEY.format(db=db)
            if not admin.set(key, owner, nx=True, ex=_LEASE_SECONDS):
                continue
            worker = client(server, db)
            try:
                empty = worker.dbsize() == 0
            finally:
                worker.close()
            if empty:
                return db
            admin.delete(key)  # holds someone else's keys: not ours to use
    except redis.RedisError as error:
        message = f"Redis at {server.host}:{server.port}: {error}"
        raise ServiceError(message) from None
    finally:
        admin.close()
    message = (
        f"no free Redis logical database on {server.host}:{server.port}: all {count - 1} are "
        "leased by other workers or hold data"
        "\n  fix: run `suitekit clean` to free leases of dead runs, raise `databases` in the "
        "server's config, or let suitekit start a throwaway server (unset REDIS_URL)"
    )
    raise ServiceError(message)


def release(server: RedisServer, db: int, owner: str) -> None:
    """Flush the leased database and drop the lease, if ``owner`` still holds it."""
    import redis  # noqa: PLC0415

    admin = client(server)
    try:
        key = LEASE_KEY.format(db=db)
        if admin.get(key) != owner:
            return
        worker = client(server, db)
        try:
            worker.flushdb()
        finally:
            worker.close()
        admin.delete(key)
    except redis.RedisError as error:
        message = f"Redis at {server.host}:{server.port}: {error}"
        raise ServiceError(message) from None
    finally:
        admin.close()


def leases(server: RedisServer) -> list[tuple[int, Mapping[str, object], str]]:
    """Every lease on the server: database number, decoded owner, raw owner."""
    import redis  # noqa: PLC0415

    admin = client(server)
    found: list[tuple[int, Mapping[str, object], str]] = []
    try:
        for key in admin.scan_iter(LEASE_PATTERN):
            raw = admin.get(key)
            if not isinstance(raw, str):
                continue
            try:
                info = json.loads(raw)
                db = int(str(key).rsplit(":", 1)[1])
            except ValueError:
                continue
            found.append((db, info, raw))
    except redis.RedisError as error:
        message = f"Redis at {server.host}:{server.port}: {error}"
        raise ServiceError(message) from None
    finally:
        admin.close()
    return found


def check(url: str) -> None:
    """Connect to the server at ``url`` and ``PING`` it.

    Raises:
        ServiceError: It does not answer (the message says how, and the fix).
    """
    import redis  # noqa: PLC0415 - only where Redis is used

    admin = client(RedisServer.from_url(url), timeout=5)
    try:
        admin.ping()
    except redis.RedisError as error:
        message = (
            f"the Redis server at {redact(url)} does not answer: {error}"
            "\n  fix: start it, correct the URL, or unset it to let suitekit start one"
        )
        raise ServiceError(message) from None
    finally:
        admin.close()


def wait_started(
    server: RedisServer, process: subprocess.Popen[bytes], log: Path, *, timeout: float
) -> None:
    """Wait until a throwaway server just spawned answers ``PING``.

    Raises:
        ServiceError: It exited (with its log), or did not answer within ``timeout`` seconds.
    """
    import redis  # noqa: PLC0415 - only where Redis is used

    from suitekit.services._servers import wait_answering  # noqa: PLC0415 - only when started

    admin = client(server, timeout=1)  # one try each: the wait polls
    try:
        wait_answering(
            process,
            log,
            what="Redis",
            probe=admin.ping,
            refused=redis.ConnectionError,
            timeout=timeout,
            poll=0.02,
            probe_name="PING",
        )
    finally:
        admin.close()
