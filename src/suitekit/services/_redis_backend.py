"""Redis as a service: a leased logical database per worker, flushed when given back.

The leases themselves are :mod:`suitekit.services._redis`'s; a throwaway server is
:mod:`suitekit.services._redis_server`'s, loaded only when one is started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, final

from suitekit import _kinds
from suitekit._handoff import ENV_REDIS_PASSWORD
from suitekit._model import Check, Project, Suite
from suitekit.services import _redis
from suitekit.services._backend_base import BackendBase, LocalServer
from suitekit.services._endpoints import RedisServer, render_env

if TYPE_CHECKING:
    from suitekit.services._docker import ContainerSpec
    from suitekit.services._fingerprint import TemplateInputs
    from suitekit.services._resources import WorkerResources
    from suitekit.services._worker import Acquired

__all__ = ["REDIS", "RedisBackend"]


@final
class RedisBackend(BackendBase):
    """Redis: see :class:`suitekit.services._backend.Backend`."""

    kind = _kinds.REDIS
    install_hint = (
        "install redis-server (Debian/Ubuntu: apt install redis-server; "
        "Fedora: dnf install redis; macOS: brew install redis)"
    )
    binaries_not_found = "redis-server was not found (SUITEKIT_REDIS_SERVER, PATH)"
    left_behind = "Redis lease(s)"
    stop_signal = signal.SIGTERM  # Redis stops on SIGTERM without saving

    def check(self, url: str) -> None:
        """See :func:`suitekit.services._redis.check`."""
        _redis.check(url)

    def local(self) -> LocalServer:
        """:mod:`suitekit.services._redis_server`'s, loaded now.

        It finds ``redis-server``, and starts it as ``redis-server -``, its configuration on its
        standard input.
        """
        from suitekit.services._redis_server import LOCAL  # noqa: PLC0415

        return LOCAL

    def container(self) -> ContainerSpec:
        """``redis:7-alpine`` without persistence.

        The password reaches ``redis-server`` on its standard input, through a shell builtin,
        so it appears in no process's command line inside the container either.
        """
        from suitekit.services._docker import ContainerSpec  # noqa: PLC0415

        variable = ENV_REDIS_PASSWORD
        script = (
            'printf "requirepass %s\\n" "$SUITEKIT_REDIS_PASSWORD" | '
            'redis-server - --save "" --appendonly no --databases 1024'
        )
        argv = (
            "docker", "run", "-d", "--rm", "-p", "127.0.0.1::6379", "-e", variable,
            "--user", "redis", "--entrypoint", "sh", "redis:7-alpine", "-c", script,
        )  # fmt: skip
        return ContainerSpec(argv=argv, password_variable=variable, port="6379")

    def local_url(self, port: int, password: str) -> str:
        """``redis://:<password>@127.0.0.1:<port>/0``."""
        return RedisServer(host="127.0.0.1", port=port, password=password).url()

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
        """Nothing: a worker's database is leased empty."""
        del project, suite, environ, url, run_id, build, inputs, alone
        return {}

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
        """Lease an empty logical database for the worker."""
        del environ, clone_later, alone
        resources = acquired.resources
        server = RedisServer.from_url(url)
        tag = _redis.owner_tag(resources.run_id, suite.name, resources.worker)
        db = _redis.lease(server, tag)
        acquired.on_release(lambda: _redis.release(server, db, tag))
        acquired.resources = dataclasses.replace(resources, redis_db=db)
        return self.render_env(project, url, acquired.resources)

    def acquire_for_check(
        self, project: Project, check: Check, *, run_id: str, url: str, stack: contextlib.ExitStack
    ) -> dict[str, str]:
        """A leased logical database, flushed and given back after."""
        server = RedisServer.from_url(url)
        tag = _redis.owner_tag(run_id, f"check-{check.name}", "main")
        db = _redis.lease(server, tag)
        stack.callback(_redis.release, server, db, tag)
        return render_env(project.redis.env, server.fields(db))

    def render_env(self, project: Project, url: str, resources: WorkerResources) -> dict[str, str]:
        """The ``env`` templates of ``[tool.suitekit.services.redis]`` for its database."""
        server = RedisServer.from_url(url)
        return render_env(project.redis.env, server.fields(resources.redis_db))

    def finish_run(self, suite: Suite, run_id: str, url: str) -> None:
        """Give back the leases the run's workers still hold."""
        server = RedisServer.from_url(url)
        for db, owner, raw in _redis.leases(server):
            if owner.get("run") == run_id and owner.get("suite") == suite.name:
                _redis.release(server, db, raw)

    def clean(self, url: str, say: Callable[[str], None]) -> int:
        """Give back the leases of dead runs (their databases flushed)."""
        from suitekit.services._servers import owner_gone  # noqa: PLC0415 - clean only

        server = RedisServer.from_url(url)
        try:
            held = _redis.leases(server)
        except Exception as error:  # noqa: BLE001 - an unreachable server is reported, not fatal
            say(f"skipped {url}: {error}")
            return 0
        released = 0
        for db, owner, raw in held:
            if owner_gone(owner.get("host"), owner.get("pid")):
                _redis.release(server, db, raw)
                released += 1
                say(f"released Redis database {db} (run {owner.get('run')})")
        return released


REDIS: Final = RedisBackend()
"""The Redis backend, as registered in :data:`suitekit.services._backend.BACKENDS`."""
