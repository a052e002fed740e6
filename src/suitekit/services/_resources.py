"""What one worker was given, as every process of the worker reads it back.

Apart from :mod:`suitekit.services._worker`, which hands the resources out, because every pytest
process of a run asks :func:`current` at its end, services or not: this module imports no
server code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from suitekit._handoff import ENV_WORKER
from suitekit._model import frozen_mapping

__all__ = ["ENV_RESOURCES", "WorkerResources", "current", "export"]

ENV_RESOURCES: Final = ENV_WORKER


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerResources:
    """Everything a worker was given.

    Tests reach it through the ``suitekit_worker`` fixture, and any process of the worker
    through the ``SUITEKIT_WORKER`` variable (see :func:`current`).

    Attributes:
        run_id: The run.
        suite: The suite.
        worker: ``gw0``, ``gw1``, ... or ``main`` without xdist.
        hashseed: The run's ``PYTHONHASHSEED``.
        database: The worker's PostgreSQL database, or empty.
        redis_db: The worker's Redis logical database, or -1.
        given: What other services gave the worker, by service name: whatever names the part
            in that service's terms (a database, a vhost, a port), as its backend writes it.
        dirs: The worker's folders, by variable name.
        ports: The worker's block of free ports.
        env: Every variable set for the worker.
    """

    run_id: str
    suite: str
    worker: str
    hashseed: str
    database: str = ""
    redis_db: int = -1
    given: Mapping[str, str] = field(default_factory=frozen_mapping)
    dirs: Mapping[str, str] = field(default_factory=frozen_mapping)
    ports: tuple[int, ...] = ()
    env: Mapping[str, str] = field(default_factory=frozen_mapping)

    def __post_init__(self) -> None:
        """Freeze the mappings whatever the caller passed."""
        object.__setattr__(self, "given", frozen_mapping(self.given))
        object.__setattr__(self, "dirs", frozen_mapping(self.dirs))
        object.__setattr__(self, "env", frozen_mapping(self.env))

    def to_json(self) -> str:
        """The resources as JSON (the inverse of :meth:`from_json`)."""
        # Absent when empty: the JSON of PostgreSQL's and Redis's parts alone stays as it was.
        given = {"given": dict(self.given)} if self.given else {}
        return json.dumps(
            {
                **given,
                "run_id": self.run_id,
                "suite": self.suite,
                "worker": self.worker,
                "hashseed": self.hashseed,
                "database": self.database,
                "redis_db": self.redis_db,
                "dirs": dict(self.dirs),
                "ports": list(self.ports),
                "env": dict(self.env),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> WorkerResources:
        """Read what :meth:`to_json` wrote."""
        data = json.loads(text)
        return cls(
            run_id=str(data["run_id"]),
            suite=str(data["suite"]),
            worker=str(data["worker"]),
            hashseed=str(data["hashseed"]),
            database=str(data["database"]),
            redis_db=int(data["redis_db"]),
            given={str(k): str(v) for k, v in data.get("given", {}).items()},
            dirs={str(k): str(v) for k, v in data["dirs"].items()},
            ports=tuple(int(p) for p in data["ports"]),
            env={str(k): str(v) for k, v in data["env"].items()},
        )

    def describe(self) -> str:
        """One line for the run's header."""
        parts = [f"{self.worker}:"]
        if self.database:
            parts.append(f"db {self.database}")
        if self.redis_db >= 0:
            parts.append(f"redis db {self.redis_db}")
        parts += [f"{service} {part}" for service, part in self.given.items()]
        parts += [f"{name}={path}" for name, path in self.dirs.items()]
        if self.ports:
            parts.append(f"ports {self.ports[0]}-{self.ports[-1]}")
        return " ".join(parts)


def export(resources: WorkerResources) -> dict[str, str]:
    """The variables a worker process sets: its resources' and ``SUITEKIT_WORKER`` (JSON)."""
    return {**resources.env, ENV_RESOURCES: resources.to_json()}


def current() -> WorkerResources | None:
    """This process's worker resources, from ``SUITEKIT_WORKER``; ``None`` outside a worker."""
    text = os.environ.get(ENV_RESOURCES)
    return WorkerResources.from_json(text) if text else None
