"""A throwaway Redis server from a local ``redis-server``: no persistence, a password.

Its folder, process and record are handled as every throwaway server's
(:mod:`suitekit.services._servers`).
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from suitekit._handoff import ENV_REDIS_SERVER
from suitekit.services import _redis, _servers
from suitekit.services._backend_base import LocalServer
from suitekit.services._endpoints import RedisServer
from suitekit.services._redis_backend import REDIS
from suitekit.services._servers import Throwaway

__all__ = ["LOCAL", "find_redis_server", "start_redis"]


def find_redis_server(environ: Mapping[str, str]) -> Path | None:
    """``redis-server``: ``SUITEKIT_REDIS_SERVER`` if set (empty means none), else on PATH."""
    if ENV_REDIS_SERVER in environ:
        given = environ[ENV_REDIS_SERVER]
        return Path(given) if given and Path(given).is_file() else None
    found = shutil.which("redis-server", path=environ.get("PATH"))
    return Path(found) if found else None


def _redis_quote(value: str) -> str:
    """A Redis configuration value in double quotes (its syntax: backslash escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def start_redis(
    executable: Path,
    environ: Mapping[str, str],
    *,
    on_start: Callable[[Throwaway], None] = _servers.ignore,
) -> Throwaway:
    """redis-server on a free port with no persistence and a password; waits until it answers.

    Its configuration, password included, is given on its standard input (``redis-server -``),
    not on its command line, which every user can read in ``/proc``.

    Raises:
        ServiceError: The server did not come up.
    """
    with _servers.new_server(environ, "redis-") as new:
        data_dir = new.data_dir
        work = data_dir / "data"
        work.mkdir(mode=0o700)
        _servers.hand_over(data_dir, (work,), new.user)
        port = _servers.free_port()
        config = {
            "port": str(port),
            "bind": "127.0.0.1",
            "requirepass": new.password,
            "save": "",
            "appendonly": "no",
            "databases": "1024",
            "dir": str(work),
            "daemonize": "no",
        }
        text = "".join(f"{key} {_redis_quote(value)}\n" for key, value in config.items())
        server = RedisServer(host="127.0.0.1", port=port, password=new.password)
        # Redis starts once it has read its configuration, at the end of its standard input.
        launched = _servers.launch(
            [str(executable), "-"],
            new,
            kind=REDIS.kind.name,
            url=server.url(),
            on_start=on_start,
            config=text.encode(),
        )
    return launched.answering(functools.partial(_redis.wait_started, server))


LOCAL: Final = LocalServer(find=find_redis_server, start=start_redis)
"""How the backend finds and starts this server (its ``local``)."""
