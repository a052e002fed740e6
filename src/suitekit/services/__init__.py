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
    from suitekit.services._clean import clean_templates as clean_templates
    from suitekit.services._databases import ENV_TEMPLATE_KEPT as ENV_TEMPLATE_KEPT
    from suitekit.services._databases import ENV_TEMPLATE_SCHEMA as ENV_TEMPLATE_SCHEMA
    from suitekit.services._databases import Kept as Kept
    from suitekit.services._databases import keeping as keeping
    from suitekit.services._databases import project_mark as project_mark
    from suitekit.services._databases import rebuilding as rebuilding
    from suitekit.services._django import ENV_COOPERATION as ENV_COOPERATION
    from suitekit.services._django import WorkerDatabases as WorkerDatabases
    from suitekit.services._django import aliases_of as aliases_of
    from suitekit.services._django import migrate as migrate
    from suitekit.services._django import repoint as repoint
    from suitekit.services._django import schema_digest as schema_digest
    from suitekit.services._endpoints import PostgresServer as PostgresServer
    from suitekit.services._fingerprint import TemplateInputs as TemplateInputs
    from suitekit.services._fingerprint import Unkeyable as Unkeyable
    from suitekit.services._fingerprint import django_inputs as django_inputs
    from suitekit.services._postgres import EarlyCopies as EarlyCopies
    from suitekit.services._postgres import building as building
    from suitekit.services._postgres import copy_kept_early as copy_kept_early
    from suitekit.services._postgres import hold as hold
    from suitekit.services._postgres import preclone as preclone
    from suitekit.services._postgres import render_env as render_env
    from suitekit.services._provide import PROVIDED_URL as PROVIDED_URL
    from suitekit.services._provide import provide as provide
    from suitekit.services._provide import unanswered as unanswered
    from suitekit.services._resources import WorkerResources as WorkerResources
    from suitekit.services._resources import current as current
    from suitekit.services._resources import export as export
    from suitekit.services._state import private_folder as private_folder
    from suitekit.services._state import read_private_file as read_private_file
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
    "ENV_TEMPLATE_KEPT",
    "ENV_TEMPLATE_SCHEMA",
    "PROVIDED_URL",
    "Acquired",
    "EarlyCopies",
    "Kept",
    "PostgresServer",
    "TemplateInputs",
    "Unkeyable",
    "WorkerDatabases",
    "WorkerResources",
    "acquire",
    "aliases_of",
    "backends_started",
    "building",
    "check_resources",
    "clean",
    "clean_templates",
    "copy_kept_early",
    "current",
    "django_inputs",
    "export",
    "finish_run",
    "hold",
    "keeping",
    "migrate",
    "preclone",
    "prepare_run",
    "private_folder",
    "project_mark",
    "provide",
    "read_private_file",
    "rebuilding",
    "render_env",
    "repoint",
    "run_services",
    "schema_digest",
    "start_services",
    "unanswered",
]

# A run without services needs none of this: each module (and its socket, subprocess and
# server code) loads when a name from it is first read.
if not TYPE_CHECKING:
    __getattr__ = exports(
        __name__,
        {
            "clean_templates": "suitekit.services._clean",
            "ENV_TEMPLATE_KEPT": "suitekit.services._databases",
            "ENV_TEMPLATE_SCHEMA": "suitekit.services._databases",
            "Kept": "suitekit.services._databases",
            "keeping": "suitekit.services._databases",
            "project_mark": "suitekit.services._databases",
            "rebuilding": "suitekit.services._databases",
            "TemplateInputs": "suitekit.services._fingerprint",
            "Unkeyable": "suitekit.services._fingerprint",
            "django_inputs": "suitekit.services._fingerprint",
            "schema_digest": "suitekit.services._django",
            "hold": "suitekit.services._postgres",
            "copy_kept_early": "suitekit.services._postgres",
            "EarlyCopies": "suitekit.services._postgres",
            "preclone": "suitekit.services._postgres",
            "ENV_COOPERATION": "suitekit.services._django",
            "ENV_RUN_ID": "suitekit.services._worker",
            "PostgresServer": "suitekit.services._endpoints",
            "WorkerDatabases": "suitekit.services._django",
            "private_folder": "suitekit.services._state",
            "read_private_file": "suitekit.services._state",
            "aliases_of": "suitekit.services._django",
            "backends_started": "suitekit.services._backends",
            "building": "suitekit.services._postgres",
            "migrate": "suitekit.services._django",
            "repoint": "suitekit.services._django",
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
