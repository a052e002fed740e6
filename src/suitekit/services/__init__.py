"""Services (PostgreSQL, Redis) and per-worker isolation.

:func:`provide` finds or starts the servers a run needs; :func:`prepare_run` builds a suite's
template database once per run; :func:`acquire` gives each worker its own database, Redis
keyspace, folders and ports; :func:`clean` removes what killed runs left behind.
"""

from __future__ import annotations

from suitekit.services._clean import clean as clean
from suitekit.services._provide import PROVIDED_URL as PROVIDED_URL
from suitekit.services._provide import provide as provide
from suitekit.services._worker import Acquired as Acquired
from suitekit.services._worker import WorkerResources as WorkerResources
from suitekit.services._worker import acquire as acquire
from suitekit.services._worker import check_resources as check_resources
from suitekit.services._worker import current as current
from suitekit.services._worker import export as export
from suitekit.services._worker import finish_run as finish_run
from suitekit.services._worker import prepare_run as prepare_run

__all__ = [
    "PROVIDED_URL",
    "Acquired",
    "WorkerResources",
    "acquire",
    "check_resources",
    "clean",
    "current",
    "export",
    "finish_run",
    "prepare_run",
    "provide",
]
