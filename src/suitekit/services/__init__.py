"""Services (PostgreSQL, Redis) and per-worker isolation.

:func:`provide` finds or starts the servers a run needs; :func:`prepare_run` builds a suite's
template database once per run; :func:`acquire` gives each worker its own database, Redis
keyspace, folders and ports; :func:`clean` removes what killed runs left behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from suitekit._lazy import exports

if TYPE_CHECKING:
    from suitekit.services._backends import backends_started as backends_started
    from suitekit.services._clean import clean as clean
    from suitekit.services._django import ENV_COOPERATION as ENV_COOPERATION
    from suitekit.services._django import WorkerDatabases as WorkerDatabases
    from suitekit.services._django import aliases_of as aliases_of
    from suitekit.services._django import migrate as migrate
    from suitekit.services._endpoints import PostgresServer as PostgresServer
    from suitekit.services._postgres import building as building
    from suitekit.services._postgres import render_env as render_env
    from suitekit.services._provide import PROVIDED_URL as PROVIDED_URL
    from suitekit.services._provide import provide as provide
    from suitekit.services._provide import unanswered as unanswered
    from suitekit.services._resources import WorkerResources as WorkerResources
    from suitekit.services._resources import current as current
    from suitekit.services._resources import export as export
    from suitekit.services._worker import ENV_RUN_ID as ENV_RUN_ID
    from suitekit.services._worker import Acquired as Acquired
    from suitekit.services._worker import acquire as acquire
    from suitekit.services._worker import check_resources as check_resources
    from suitekit.services._worker import finish_run as finish_run
    from suitekit.services._worker import prepare_run as prepare_run
    from suitekit.services._worker import run_services as run_services
    from suitekit.services._worker import start_services as start_services

__all__ = [
    "ENV_COOPERATION",
    "ENV_RUN_ID",
    "PROVIDED_URL",
    "Acquired",
    "PostgresServer",
    "WorkerDatabases",
    "WorkerResources",
    "acquire",
    "aliases_of",
    "backends_started",
    "building",
    "check_resources",
    "clean",
    "current",
    "export",
    "finish_run",
    "migrate",
    "prepare_run",
    "provide",
    "render_env",
    "run_services",
    "start_services",
    "unanswered",
]

# A run without services needs none of this: each module (and its socket, subprocess and
# server code) loads when a name from it is first read.
if not TYPE_CHECKING:
    __getattr__ = exports(
        __name__,
        {
            "ENV_COOPERATION": "suitekit.services._django",
            "ENV_RUN_ID": "suitekit.services._worker",
            "PostgresServer": "suitekit.services._endpoints",
            "WorkerDatabases": "suitekit.services._django",
            "aliases_of": "suitekit.services._django",
            "backends_started": "suitekit.services._backends",
            "building": "suitekit.services._postgres",
            "migrate": "suitekit.services._django",
            "render_env": "suitekit.services._postgres",
            "clean": "suitekit.services._clean",
            "PROVIDED_URL": "suitekit.services._provide",
            "provide": "suitekit.services._provide",
            "unanswered": "suitekit.services._provide",
            "Acquired": "suitekit.services._worker",
            "WorkerResources": "suitekit.services._resources",
            "acquire": "suitekit.services._worker",
            "check_resources": "suitekit.services._worker",
            "current": "suitekit.services._resources",
            "export": "suitekit.services._resources",
            "finish_run": "suitekit.services._worker",
            "prepare_run": "suitekit.services._worker",
            "run_services": "suitekit.services._worker",
            "start_services": "suitekit.services._worker",
        },
    )
