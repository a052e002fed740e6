"""suitekit's pytest plugin (the ``pytest11`` entry point ``suitekit``).

It does these things, all driven by the project's ``[tool.suitekit]``:

- registers every marker that a suite's marker expression names, so ``--strict-markers`` works;
- with ``--suitekit-suite NAME``, runs only that suite's tests (its paths when no paths are
  given, then its marker expression), reporting the rest as deselected;
- in a suite run, retries failed tests (the suite's ``retries``), reports a test that passed
  after failed attempts as FLAKY and keeps every attempt in the JUnit file; runs quarantined
  tests without letting their failures fail the run; orders the tests by a seed or a file; and
  writes a run log for ``suitekit flaky``;
- with ``--suitekit-partition``, runs nothing and checks that every test under the project's test
  roots belongs to exactly one suite (and that every quarantine entry names one), printing each
  suite's size;
- in a suite run, gives pytest-timeout the suite's per-test ``timeout`` (unless the user set one),
  stops a session that passes its ``deadline`` (:mod:`suitekit._watchdog`), and stops the
  processes the tests left running (:mod:`suitekit._processes`).

Module-level hooks only wire up one plugin object per concern, by mode: in a suite run
:class:`~._suite.SuitePlugin` (selection, header, the ordered ends of the session) with
:class:`~._retries.RetriesPlugin` (retries, the ledger, the JUnit rewrite, the run log),
:class:`~._shards.ShardsPlugin`, :class:`~._locations.LocationsPlugin` (where each failing test
is, for ``suitekit report``), :class:`~._timeline.TimelinePlugin` (when each test ran, and on
which worker, for the report's timeline), :class:`~._waits.WaitsPlugin` (how long each test
waited for a CPU, for the durations store), :class:`~._auto.AutoWorkers` and the helpers they share
(:mod:`._quarantine`, :mod:`._order`), and the controller's root for its temporary folders
(:mod:`._basetemp`); with ``--suitekit-partition``
:class:`~._partition.PartitionPlugin`. A process's services and resources
(:class:`~._isolation.Isolation`) and its deadline (:class:`~._deadline.Guard`) are set up
before any conftest is imported and kept under pytest stash keys, as the
cooperation with pytest-django is (:mod:`._django`). This package imports neither nox nor
invoke (a test checks it); what only some runs need is imported in the hook that needs it.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# First, before any other module of suitekit's: see there.
from suitekit.pytest_plugin import _rewrite  # noqa: F401

# isort: split
from suitekit import services
from suitekit._handoff import ENV_PROGRESS
from suitekit.errors import SuitekitError
from suitekit.pytest_plugin import _django
from suitekit.pytest_plugin._auto import AUTO_KEY, decide_later
from suitekit.pytest_plugin._basetemp import session_temp
from suitekit.pytest_plugin._deadline import GUARD_KEY, Guard, apply_timeout, give_back
from suitekit.pytest_plugin._hints import ProjectChecks, note_early
from suitekit.pytest_plugin._isolation import ISOLATION_KEY, early_suite, prepare
from suitekit.pytest_plugin._locations import LocationsPlugin
from suitekit.pytest_plugin._options import Mode, add_options, load
from suitekit.pytest_plugin._order import Ordering
from suitekit.pytest_plugin._partition import PartitionPlugin, record_crash
from suitekit.pytest_plugin._progress import ProgressPlugin
from suitekit.pytest_plugin._quarantine import QuarantineCheck
from suitekit.pytest_plugin._retries import RetriesPlugin
from suitekit.pytest_plugin._shards import ShardsPlugin
from suitekit.pytest_plugin._shared import Collected, Describer, Durations, ProjectIds
from suitekit.pytest_plugin._suite import Parts, SuitePlugin
from suitekit.pytest_plugin._timeline import TimelinePlugin
from suitekit.pytest_plugin._waits import WaitsPlugin

if TYPE_CHECKING:
    from suitekit.services import WorkerResources

__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "pytest_load_initial_conftests",
    "pytest_sessionfinish",
    "pytest_unconfigure",
    "pytest_xdist_auto_num_workers",
    "suitekit_worker",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare suitekit's options."""
    add_options(parser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> Generator[None]:
    """Give this process its services and resources before any conftest is imported.

    Code that reads ``DATABASE_URL`` (or any mapped variable) at import time, in a conftest or
    a settings module, must already see the worker's own database; this is the last moment
    before the first conftest is imported.
    """
    options = early_config.known_args_namespace
    name = getattr(options, "suitekit_suite", None)
    collecting = bool(getattr(options, "suitekit_partition", False))
    loaded = early_suite(early_config) if name is not None or collecting else None
    isolation = prepare(early_config, *loaded) if loaded is not None else None
    guard = Guard.create(early_config, loaded[1], isolation) if name and loaded else None
    if isolation is None and guard is None:
        try:
            return (yield)
        except Exception as error:
            record_crash(loaded, error)
            note_early(early_config, error)  # a plain pytest: which suite sets a variable
            raise
    try:
        if isolation is not None:
            # With pytest-django the template may be built once Django is set up (see there).
            deferred = isolation.template and _django.builds_template(
                early_config, isolation.project, isolation.suite
            )
            isolation.start(build_template=not deferred)
            if name is not None:  # with pytest-django: see suitekit/pytest_plugin/_django.py
                _django.before_conftests(
                    early_config,
                    isolation.project,
                    isolation.suite,
                    stack=isolation.stack,
                    controller_only=isolation.controller_only,
                )
        if guard is not None:
            guard.mark()  # after the servers started: they are no test's leftovers
        # The conftests load here; if that (or anything before configure) fails, pytest never
        # unconfigures, so the isolation is given back right here.
        outcome = yield
        # pytest-django has set Django up; a failed migration gives the isolation back too.
        _django.after_conftests(early_config)
        return outcome  # noqa: TRY300 - inside the try, for the same reason
    except SuitekitError as error:
        give_back(isolation, guard)
        message = f"suitekit: suite {name!r}: {error}"
        raise pytest.UsageError(message) from None
    except BaseException as error:
        give_back(isolation, guard)
        if isinstance(error, Exception):
            record_crash(loaded, error)
        if isinstance(error, KeyboardInterrupt) and guard is not None and guard.expired:
            # The deadline passed while the servers or the template were being set up: the
            # watchdog said so; the session fails (1) rather than ending as interrupted.
            raise SystemExit(pytest.ExitCode.TESTS_FAILED) from None
        raise


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Give back what this process acquired; a controller also cleans up after its workers."""
    give_back(config.stash.get(ISOLATION_KEY, None), config.stash.get(GUARD_KEY, None))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The session's cleanup begins: its deadline interrupts nothing from now on."""
    guard = session.config.stash.get(GUARD_KEY, None)
    if guard is not None:
        guard.finishing()


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` in a run of a suite whose workers are ``"auto"``: suitekit decides.

    xdist asks before anything is collected, when nothing says whether workers pay. The run
    therefore starts without xdist (0) and :class:`~._auto.AutoWorkers` decides after
    collection, from the suite's recorded durations or from its first tests, whether to hand
    the rest of the suite to workers. With one CPU there is nothing to decide: no xdist.
    """
    return decide_later(config)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Load the project, register markers and, in suite mode, point collection at the suite.

    Then register the plugin objects of the run's mode: a suite run's, or the partition
    check's; a project run in neither mode gets its markers and :class:`~._hints.ProjectChecks`
    (the check of the suites' markers, every run's; the hints of a run without a suite).
    """
    project = load(config)
    if project is None:
        return
    isolation = config.stash.get(ISOLATION_KEY, None)
    if isolation is not None and not hasattr(config, "workerinput"):
        isolation.check_workers(config)
    checks = ProjectChecks(config, project)  # before Mode.of registers the suites' markers
    mode = Mode.of(config, project)
    ids = ProjectIds(project, config.rootpath)
    collected = Collected(ids)
    describe = Describer(project)
    quarantine = QuarantineCheck(project, ids, suite_run=mode.suite is not None)
    plugins: list[tuple[object, str]] = [(checks, "suitekit-checks")]
    if mode.suite is not None:
        suite = mode.suite
        durations = Durations(project, suite.name)
        retries = RetriesPlugin(mode.run, quarantine)
        shards = ShardsPlugin(config, suite, shard=mode.shard, durations=durations)
        auto = config.stash.get(AUTO_KEY, None)
        if auto is not None:
            auto.durations = durations
        timeline = TimelinePlugin(ids)
        parts = Parts(
            ids=ids,
            collected=collected,
            describe=describe,
            quarantine=quarantine,
            retries=retries,
            shards=shards,
            ordering=Ordering(suite, mode.run, durations),
            auto=auto,
            guard=config.stash.get(GUARD_KEY, None),
            timeout=apply_timeout(config, suite),
            timeline=timeline,
        )
        plugins += [
            (SuitePlugin(config, mode, suite, parts), "suitekit-plugin"),
            (collected, "suitekit-collected"),
            (retries, "suitekit-retries"),
            (shards, "suitekit-shards"),
            (LocationsPlugin(ids), "suitekit-locations"),
            (timeline, "suitekit-timeline"),
            *_waits_plugin(config),
            *session_temp(config, suite.name, mode.shard),
        ]
        if auto is not None:
            plugins.append((auto, "suitekit-auto-workers"))
        progress = _progress_plugin(config, durations)
        if progress is not None:
            plugins.append((progress, "suitekit-progress"))
    elif mode.check_partition:
        partition = PartitionPlugin(
            project, collected=collected, quarantine=quarantine, describe=describe
        )
        plugins += [(partition, "suitekit-plugin"), (collected, "suitekit-collected")]
    for plugin, name in plugins:
        config.pluginmanager.register(plugin, name)
    if isolation is not None and isolation.template:
        # After pytest-django registered: suitekit's django_db_setup wins over its own.
        _django.register(config, isolation.suite)


def _waits_plugin(config: pytest.Config) -> list[tuple[object, str]]:
    """The CPU waits' plugin, unless the JUnit times are the call's alone.

    A wait spans the whole test (setup to teardown): a time of the call alone
    (``junit_duration_report = "call"``) cannot have it taken off.
    """
    if config.getini("junit_duration_report") == "call":
        return []
    return [(WaitsPlugin(), "suitekit-waits")]


def _progress_plugin(config: pytest.Config, durations: Durations) -> ProgressPlugin | None:
    """The live status's writer, where the runner asked for it and this process sees it all.

    The variable is taken out of the environment: xdist's workers and any pytest a test runs
    would otherwise write into this run's file.
    """
    path = os.environ.pop(ENV_PROGRESS, None)
    if not path or hasattr(config, "workerinput"):
        return None

    def workers() -> int:
        count = getattr(config.option, "numprocesses", None)
        return count if isinstance(count, int) else 1

    return ProgressPlugin(Path(path), durations.get, workers)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Make this process's database that was only named, before the first test's fixtures.

    So a Django suite's clone (see ``clones_later``) exists whatever reaches it first:
    suitekit's or a project's own ``django_db_setup``, ``suitekit_worker``, or code reading
    ``DATABASE_URL`` directly.
    """
    isolation = item.config.stash.get(ISOLATION_KEY, None)
    if isolation is not None:
        try:
            isolation.materialize()
        except SuitekitError as error:
            pytest.fail(f"suitekit: {error}", pytrace=False)


@pytest.fixture
def suitekit_worker() -> WorkerResources:
    """What this worker was given: its database, Redis database, folders, ports, hash seed.

    Raises:
        pytest.UsageError: The run is not a suitekit suite run (no ``--suitekit-suite``).
    """
    resources = services.current()
    if resources is None:
        message = (
            "suitekit_worker: this run has no worker resources: run it with --suitekit-suite, "
            "for a suite that declares services (or a project with isolation dirs or ports)"
        )
        raise pytest.UsageError(message)
    return resources
