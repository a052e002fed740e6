"""From a project and a selection to the exact commands that run it; pure functions only.

Every adapter asks this package what to do: the nox adapter which sessions exist and what a
suite session runs; the invoke adapter and the CLI which nox commands make up a run and how
many xdist workers each suite gets when several run at once. The same function gives the
command a developer runs and the one CI runs, so the two cannot drift apart.

Its modules, from the bottom up:

- ``_options``: the variables only the plan reads; the run's overrides (:class:`RunOptions`,
  re-exported here) are layered over the declaration by :func:`suitekit.config.run_options`;
- ``_workers``: a suite's worker count, declared or resolved, and the CPU shares of a run;
- ``_sessions``: the sessions a project gets, their names, commands and files;
- ``_suite``: a suite's pytest arguments, coverage, environment, hash seed and time limits;
- ``_suite_session``: what one suite session does (:func:`suite_session`);
- ``_run``: a run's jobs, each built by :func:`nox_job`, and its :class:`RunPlan`;
- ``_lock``: installs from the project's ``uv.lock`` (:func:`locked_sync`), and the suitekit
  CI installs (:func:`ci_suitekit_requirement`).

Each module loads when a name from it is first read: the pytest plugin imports this package
in every pytest process and needs only a few of its names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from suitekit._lazy import exports

if TYPE_CHECKING:
    from suitekit.config import ENV_COVERAGE as ENV_COVERAGE
    from suitekit.config import ENV_CPUS as ENV_CPUS
    from suitekit.config import ENV_WORKERS as ENV_WORKERS
    from suitekit.config import RunOptions as RunOptions
    from suitekit.plan._external import Backends as Backends
    from suitekit.plan._external import ExternalSession as ExternalSession
    from suitekit.plan._external import external_session as external_session
    from suitekit.plan._external import install_fingerprint as install_fingerprint
    from suitekit.plan._lock import LOCK_FILE as LOCK_FILE
    from suitekit.plan._lock import LockedSync as LockedSync
    from suitekit.plan._lock import ci_suitekit_requirement as ci_suitekit_requirement
    from suitekit.plan._lock import lock_outdated as lock_outdated
    from suitekit.plan._lock import locked_sync as locked_sync
    from suitekit.plan._lock import outdated_lock_message as outdated_lock_message
    from suitekit.plan._lock import sync_command as sync_command
    from suitekit.plan._options import ENV_COLLECTIONS as ENV_COLLECTIONS
    from suitekit.plan._options import ENV_REINSTALL as ENV_REINSTALL
    from suitekit.plan._run import YIELDING_NICE as YIELDING_NICE
    from suitekit.plan._run import Job as Job
    from suitekit.plan._run import RunPlan as RunPlan
    from suitekit.plan._run import jobs as jobs
    from suitekit.plan._run import nox_job as nox_job
    from suitekit.plan._run import partition_job as partition_job
    from suitekit.plan._run import report_jobs as report_jobs
    from suitekit.plan._run import run_plan as run_plan
    from suitekit.plan._sessions import CHECK_TAG as CHECK_TAG
    from suitekit.plan._sessions import COVERAGE_SESSION as COVERAGE_SESSION
    from suitekit.plan._sessions import PARTITION_SESSION as PARTITION_SESSION
    from suitekit.plan._sessions import REPORT_SESSION as REPORT_SESSION
    from suitekit.plan._sessions import SUITE_TAG as SUITE_TAG
    from suitekit.plan._sessions import JobKind as JobKind
    from suitekit.plan._sessions import SessionSpec as SessionSpec
    from suitekit.plan._sessions import check_env as check_env
    from suitekit.plan._sessions import collection_suite as collection_suite
    from suitekit.plan._sessions import env_conflicts as env_conflicts
    from suitekit.plan._sessions import junit_path as junit_path
    from suitekit.plan._sessions import log_path as log_path
    from suitekit.plan._sessions import nox_command as nox_command
    from suitekit.plan._sessions import session_name as session_name
    from suitekit.plan._sessions import sessions as sessions
    from suitekit.plan._suite import PYTEST as PYTEST
    from suitekit.plan._suite import RUN_LOG_OPTION as RUN_LOG_OPTION
    from suitekit.plan._suite import fixed_hashseed as fixed_hashseed
    from suitekit.plan._suite import hashseed as hashseed
    from suitekit.plan._suite import measured as measured
    from suitekit.plan._suite import measures_coverage as measures_coverage
    from suitekit.plan._suite import probing as probing
    from suitekit.plan._suite import session_deadline as session_deadline
    from suitekit.plan._suite import suite_env as suite_env
    from suitekit.plan._suite import suite_pytest_args as suite_pytest_args
    from suitekit.plan._suite import test_timeout as test_timeout
    from suitekit.plan._suite_session import SuiteSession as SuiteSession
    from suitekit.plan._suite_session import Sweep as Sweep
    from suitekit.plan._suite_session import suite_folders as suite_folders
    from suitekit.plan._suite_session import suite_session as suite_session
    from suitekit.plan._workers import chooses_workers as chooses_workers
    from suitekit.plan._workers import declared_workers as declared_workers
    from suitekit.plan._workers import plugin_decides_workers as plugin_decides_workers
    from suitekit.plan._workers import recorded_work as recorded_work
    from suitekit.plan._workers import resolve_workers as resolve_workers
    from suitekit.plan._workers import session_workers as session_workers
    from suitekit.plan._workers import share_cpus as share_cpus

__all__ = [
    "CHECK_TAG",
    "COVERAGE_SESSION",
    "ENV_COLLECTIONS",
    "ENV_COVERAGE",
    "ENV_CPUS",
    "ENV_REINSTALL",
    "ENV_WORKERS",
    "LOCK_FILE",
    "PARTITION_SESSION",
    "PYTEST",
    "REPORT_SESSION",
    "RUN_LOG_OPTION",
    "SUITE_TAG",
    "YIELDING_NICE",
    "Backends",
    "ExternalSession",
    "Job",
    "JobKind",
    "LockedSync",
    "RunOptions",
    "RunPlan",
    "SessionSpec",
    "SuiteSession",
    "Sweep",
    "check_env",
    "chooses_workers",
    "ci_suitekit_requirement",
    "collection_suite",
    "declared_workers",
    "env_conflicts",
    "external_session",
    "fixed_hashseed",
    "hashseed",
    "install_fingerprint",
    "jobs",
    "junit_path",
    "lock_outdated",
    "locked_sync",
    "log_path",
    "measured",
    "measures_coverage",
    "nox_command",
    "nox_job",
    "outdated_lock_message",
    "partition_job",
    "plugin_decides_workers",
    "probing",
    "recorded_work",
    "report_jobs",
    "resolve_workers",
    "run_plan",
    "session_deadline",
    "session_name",
    "session_workers",
    "sessions",
    "share_cpus",
    "suite_env",
    "suite_folders",
    "suite_pytest_args",
    "suite_session",
    "sync_command",
    "test_timeout",
]

if not TYPE_CHECKING:
    __getattr__ = exports(
        __name__,
        {
            "ENV_COVERAGE": "suitekit.config",
            "ENV_CPUS": "suitekit.config",
            "ENV_WORKERS": "suitekit.config",
            "RunOptions": "suitekit.config",
            "LOCK_FILE": "suitekit.plan._lock",
            "LockedSync": "suitekit.plan._lock",
            "ci_suitekit_requirement": "suitekit.plan._lock",
            "lock_outdated": "suitekit.plan._lock",
            "locked_sync": "suitekit.plan._lock",
            "outdated_lock_message": "suitekit.plan._lock",
            "sync_command": "suitekit.plan._lock",
            "ENV_COLLECTIONS": "suitekit.plan._options",
            "ENV_REINSTALL": "suitekit.plan._options",
            "chooses_workers": "suitekit.plan._workers",
            "declared_workers": "suitekit.plan._workers",
            "plugin_decides_workers": "suitekit.plan._workers",
            "recorded_work": "suitekit.plan._workers",
            "resolve_workers": "suitekit.plan._workers",
            "session_workers": "suitekit.plan._workers",
            "share_cpus": "suitekit.plan._workers",
            "CHECK_TAG": "suitekit.plan._sessions",
            "COVERAGE_SESSION": "suitekit.plan._sessions",
            "PARTITION_SESSION": "suitekit.plan._sessions",
            "REPORT_SESSION": "suitekit.plan._sessions",
            "SUITE_TAG": "suitekit.plan._sessions",
            "JobKind": "suitekit.plan._sessions",
            "SessionSpec": "suitekit.plan._sessions",
            "check_env": "suitekit.plan._sessions",
            "collection_suite": "suitekit.plan._sessions",
            "env_conflicts": "suitekit.plan._sessions",
            "junit_path": "suitekit.plan._sessions",
            "log_path": "suitekit.plan._sessions",
            "nox_command": "suitekit.plan._sessions",
            "session_name": "suitekit.plan._sessions",
            "sessions": "suitekit.plan._sessions",
            "PYTEST": "suitekit.plan._suite",
            "RUN_LOG_OPTION": "suitekit.plan._suite",
            "fixed_hashseed": "suitekit.plan._suite",
            "hashseed": "suitekit.plan._suite",
            "measured": "suitekit.plan._suite",
            "measures_coverage": "suitekit.plan._suite",
            "probing": "suitekit.plan._suite",
            "session_deadline": "suitekit.plan._suite",
            "suite_env": "suitekit.plan._suite",
            "suite_pytest_args": "suitekit.plan._suite",
            "test_timeout": "suitekit.plan._suite",
            "Backends": "suitekit.plan._external",
            "ExternalSession": "suitekit.plan._external",
            "external_session": "suitekit.plan._external",
            "install_fingerprint": "suitekit.plan._external",
            "SuiteSession": "suitekit.plan._suite_session",
            "Sweep": "suitekit.plan._suite_session",
            "suite_folders": "suitekit.plan._suite_session",
            "suite_session": "suitekit.plan._suite_session",
            "YIELDING_NICE": "suitekit.plan._run",
            "Job": "suitekit.plan._run",
            "RunPlan": "suitekit.plan._run",
            "jobs": "suitekit.plan._run",
            "nox_job": "suitekit.plan._run",
            "partition_job": "suitekit.plan._run",
            "report_jobs": "suitekit.plan._run",
            "run_plan": "suitekit.plan._run",
        },
    )
