"""What ``suitekit config --json`` and ``suitekit plan --json`` print: versioned documents.

Pure functions of the model and the run plan. Each document names its schema and version
(``"schema": "suitekit-plan", "version": 1``); the JSON Schemas ship in
``suitekit/schemas/`` (:func:`schema`), and a change that breaks a reader gets a new version.
A plan document lists every job with its session, command and shards: enough to build a CI
matrix (docs/guide.md shows how).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Final

from suitekit import _layout
from suitekit._urls import redact

if TYPE_CHECKING:
    from suitekit._model import Project
    from suitekit.plan import Job, RunPlan

__all__ = ["CONFIG_SCHEMA", "PLAN_SCHEMA", "VERSION", "config_document", "plan_document", "schema"]

CONFIG_SCHEMA: Final = "suitekit-config"
PLAN_SCHEMA: Final = "suitekit-plan"
VERSION: Final = 1
"""The version of both documents' shape (their ``"version"``)."""


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of document ``name`` (``suitekit-plan``), as shipped with suitekit."""
    path = Path(__file__).parent / "schemas" / f"{name}-{VERSION}.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _plain(value: object) -> object:
    """``value`` as JSON data: dataclasses as objects of their public fields, paths as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {
            field.name: getattr(value, field.name)
            for field in dataclasses.fields(value)
            if not field.name.startswith("_")
        }
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(str(item) for item in value)  # names (markers): strings
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        # A server's URL may carry a password (a service's `url`, a suite's `env`): a document
        # made for CI logs and dashboards shows it as ***, as config errors do.
        return redact(value)
    return str(value) if isinstance(value, PurePath) else value


def config_document(project: Project) -> dict[str, Any]:
    """The project's declaration as suitekit resolved it (defaults filled in).

    A password in a URL is shown as ``***``, as in the configuration's errors.
    """
    body = _plain(project)
    assert isinstance(body, dict)  # noqa: S101 - a Project is a dataclass
    return {"schema": CONFIG_SCHEMA, "version": VERSION, **body}


def _job(project: Project, job: Job) -> dict[str, Any]:
    suite = next((s for s in project.suites if s.name == job.suite), None)
    pythons = suite.python if suite is not None else ()
    python = next(
        (py for py in pythons if _layout.session_name(job.title, py) == job.session), None
    )
    return {
        "session": job.session,
        "kind": job.kind,
        "name": job.title,
        "python": python,
        "runner": suite.runner.kind if suite is not None else None,
        "shards": suite.shards if suite is not None else 1,
        "command": list(job.command),
        "env": dict(job.env),
        "required": job.required,
        "services": list(job.services),
        "target_seconds": job.target_seconds,
    }


def plan_document(project: Project, run: RunPlan) -> dict[str, Any]:
    """What a run executes: the guard, the jobs, the finish, in order, with their commands.

    A suite job's ``shards`` says how many CI legs it has; leg ``K`` of ``N`` runs its
    ``command`` with ``-- --shard K/N`` appended (``nox -s unit-3.11 -- --shard 2/4``).
    """
    return {
        "schema": PLAN_SCHEMA,
        "version": VERSION,
        "parallel": run.parallel,
        "fail_fast": run.fail_fast,
        "env": dict(run.env),
        "guard": None if run.guard is None else _job(project, run.guard),
        "jobs": [_job(project, job) for job in run.jobs],
        "finish": [_job(project, job) for job in run.finish],
    }
