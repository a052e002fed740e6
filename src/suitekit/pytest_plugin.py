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

Module-level hooks only wire up a :class:`SuitekitPlugin` kept under a :class:`pytest.StashKey`.
This module imports neither nox nor invoke (a test checks it).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Generator, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Final

import pytest
from _pytest.runner import runtestprotocol

from suitekit import _processes, _pytest_django, flaky, plan, services, sharding
from suitekit._files import write_text_atomic
from suitekit._markexpr import MarkerExpression
from suitekit._model import (
    DEADLINE_FACTOR,
    DEADLINE_FLOOR,
    DIST_MODES,
    Project,
    Quarantine,
    Source,
    Sourced,
    Suite,
)
from suitekit._selection import (
    CollectedTest,
    Collection,
    PartitionReport,
    SuiteSelector,
    crash_message,
    partition,
)
from suitekit._signals import signals_as_interrupt
from suitekit._watchdog import ENV_DEADLINE_AT, Watchdog
from suitekit.config import MAX_RETRIES, ROOT_KEY, find_config, load_project
from suitekit.errors import ConfigError, PartitionError, SuitekitError
from suitekit.flaky._quarantine import stale_in_files
from suitekit.reporting._report import measured_with
from suitekit.reporting._surefire import first_line

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter

    from suitekit.reporting._attempts import Ledger, PhaseReport
    from suitekit.services import WorkerResources
    from suitekit.sharding._workers import Sample

# Every pytest process of a run imports this module, xdist workers included: what only the
# controller of a suite run needs (the ledger of attempts, ElementTree), or only a run with
# services, loads in the hook that needs it.

__all__ = ["SuitekitPlugin"]

_PLUGIN_KEY: Final = pytest.StashKey["SuitekitPlugin"]()
_ISOLATION_KEY: Final = pytest.StashKey["_Isolation"]()
_GUARD_KEY: Final = pytest.StashKey["_Guard"]()
_AUTO_KEY: Final = pytest.StashKey["_AutoWorkers"]()
_STARTUP_HASHSEED: Final = os.environ.get("PYTHONHASHSEED", "random")
_DEBUGGERS: Final = (("usepdb", "--pdb"), ("trace", "--trace"))
_SUITE_OPTIONS: Final = (
    ("suitekit_retries", "--suitekit-retries"),
    ("suitekit_order_seed", "--suitekit-order-seed"),
    ("suitekit_order_file", "--suitekit-order-file"),
    ("suitekit_run_log", "--suitekit-run-log"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare suitekit's options."""
    group = parser.getgroup("suitekit", "suitekit: suites declared in [tool.suitekit]")
    group.addoption(
        "--suitekit-suite",
        metavar="NAME",
        default=None,
        help="Run only suite NAME's tests (its paths unless paths are given, then its marker).",
    )
    group.addoption(
        "--suitekit-partition",
        action="store_true",
        default=False,
        help="Run nothing; check that every test belongs to exactly one suite and count them.",
    )
    group.addoption(
        "--shard",
        "--suitekit-shard",
        dest="suitekit_shard",
        metavar="K/N",
        default=None,
        help=(
            "With --suitekit-suite: run only the K-th of N parts of the suite, balanced by "
            f"recorded durations (default: ${sharding.ENV_SHARD})"
        ),
    )
    group.addoption(
        "--suitekit-plan-shards",
        metavar="N",
        type=int,
        default=None,
        help="With --suitekit-suite: run nothing; print how N shards would split the suite",
    )
    group.addoption(
        "--suitekit-retries",
        metavar="N",
        type=int,
        default=None,
        help="With --suitekit-suite: run a failed test up to N more times (default: the suite's "
        "retries); a test that passes after failing is reported as FLAKY",
    )
    group.addoption(
        "--suitekit-order-seed",
        metavar="SEED",
        type=int,
        default=None,
        help="With --suitekit-suite: run the suite's tests in the random order SEED gives",
    )
    group.addoption(
        "--suitekit-order-file",
        metavar="PATH",
        default=None,
        help="With --suitekit-suite: run exactly the node ids in PATH (one a line), in its order",
    )
    group.addoption(
        "--suitekit-run-log",
        metavar="PATH",
        default=None,
        help="With --suitekit-suite: write what each worker ran, in order, to PATH (JSON; "
        "read by suitekit flaky)",
    )
    group.addoption(
        "--suitekit-project",
        metavar="PATH",
        default=None,
        help="The folder or pyproject.toml holding [tool.suitekit] (default: found from rootdir)",
    )


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
    loaded = _early_suite(early_config) if name is not None or collecting else None
    isolation = _prepare(early_config, *loaded) if loaded is not None else None
    guard = _Guard.create(early_config, loaded[1], isolation) if name and loaded else None
    if isolation is None and guard is None:
        try:
            return (yield)
        except Exception as error:
            _record_crash(loaded, error)
            raise
    try:
        if isolation is not None:
            # With pytest-django under xdist, the template may be built once the workers start.
            deferred = isolation.template and _pytest_django.builds_template(
                early_config,
                isolation.project,
                isolation.suite,
                controller_only=isolation.controller_only,
            )
            isolation.start(build_template=not deferred)
            if name is not None:  # with pytest-django: see suitekit/_pytest_django.py
                _pytest_django.before_conftests(
                    early_config,
                    isolation.project,
                    isolation.suite,
                    stack=isolation.stack,
                    controller_only=isolation.controller_only,
                    deferred=deferred,
                )
        if guard is not None:
            guard.mark()  # after the servers started: they are no test's leftovers
        # The conftests load here; if that (or anything before configure) fails, pytest never
        # unconfigures, so the isolation is given back right here.
        outcome = yield
        # pytest-django has set Django up; a failed migration gives the isolation back too.
        _pytest_django.after_conftests(early_config)
        return outcome  # noqa: TRY300 - inside the try, for the same reason
    except SuitekitError as error:
        _give_back(isolation, guard)
        message = f"suitekit: suite {name!r}: {error}"
        raise pytest.UsageError(message) from None
    except BaseException as error:
        _give_back(isolation, guard)
        if isinstance(error, Exception):
            _record_crash(loaded, error)
        if isinstance(error, KeyboardInterrupt) and guard is not None and guard.expired:
            # The deadline passed while the servers or the template were being set up: the
            # watchdog said so; the session fails (1) rather than ending as interrupted.
            raise SystemExit(pytest.ExitCode.TESTS_FAILED) from None
        raise


def _record_crash(loaded: tuple[Project, Suite] | None, error: Exception) -> None:
    """Record for the run's guard that a conftest failed before collection began.

    pytest reports a conftest that raises while it is loaded (``ImportError while loading
    conftest``) before any hook of the collection runs, so the suite's (or the partition
    session's) record is written here, in a whole run only, naming the conftest's own error.
    """
    folder = os.environ.get(plan.ENV_COLLECTIONS)
    if not folder or loaded is None:
        return
    project, suite = loaded
    cause = getattr(error, "cause", None)  # pytest's ConftestImportFailure wraps the real one
    real = cause if isinstance(cause, BaseException) else error
    where = str(getattr(error, "path", "") or "(conftest)")
    with contextlib.suppress(ValueError):
        where = Path(where).relative_to(project.root).as_posix()
    record = Collection(
        suite=suite.name,
        owned=(),
        others=(),
        complete=False,
        errors=((where, first_line(f"{type(real).__name__}: {real}")),),
    )
    with contextlib.suppress(SuitekitError):  # no record: the runner says what it can
        write_text_atomic(Path(folder) / f"{suite.name}.{os.getpid()}.json", record.to_json())


def _give_back(isolation: _Isolation | None, guard: _Guard | None) -> None:
    try:
        if isolation is not None:
            isolation.stop()
    finally:
        if guard is not None:
            guard.end()


def _early_suite(early_config: pytest.Config) -> tuple[Project, Suite] | None:
    """The project and the suite this run runs (the partition guard's pseudo-suite), if known.

    ``None`` when either cannot be loaded: ``pytest_configure`` reports that as a usage error.
    """
    options = early_config.known_args_namespace
    name = getattr(options, "suitekit_suite", None)
    explicit = getattr(options, "suitekit_project", None)
    try:
        project = load_project(Path(explicit).resolve() if explicit else early_config.rootpath)
        suite = project.suite(name) if name is not None else plan.collection_suite(project)
    except (SuitekitError, KeyError):
        return None
    return project, suite


def _prepare(early_config: pytest.Config, project: Project, suite: Suite) -> _Isolation | None:
    options = early_config.known_args_namespace
    name = getattr(options, "suitekit_suite", None)
    if not suite.services and not project.isolation.dirs and not project.isolation.ports:
        return None
    numprocesses = getattr(options, "numprocesses", None)
    # Under suitekit's "auto" the controller runs tests itself until it decides on workers.
    decides = numprocesses == "auto" and name is not None and _auto_suite(suite)
    isolation = _Isolation(
        project,
        suite,
        template=name is not None,
        controller_only=numprocesses not in (None, 0, "0") and not decides,
    )
    early_config.stash[_ISOLATION_KEY] = isolation
    return isolation


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Give back what this process acquired; a controller also cleans up after its workers."""
    _give_back(config.stash.get(_ISOLATION_KEY, None), config.stash.get(_GUARD_KEY, None))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The session's cleanup begins: its deadline interrupts nothing from now on."""
    guard = session.config.stash.get(_GUARD_KEY, None)
    if guard is not None:
        guard.finishing()


class _Guard:
    """One suite-run process's deadline and, in the controller, its mark on the tests' processes.

    The controller arms the deadline (see :mod:`suitekit._watchdog`) before its servers start,
    so a hang in the template's setup is caught too; it tells its xdist workers the deadline's
    time, so that each writes its stacks at that moment. After its servers started it marks its
    environment (see :mod:`suitekit._processes`), and at the session's end, once xdist's workers
    are gone and before its databases are dropped, it stops every marked process still running.
    """

    def __init__(self, *, suite: Suite, watchdog: Watchdog | None, controller: bool) -> None:
        self.suite = suite
        self.watchdog = watchdog
        self.controller = controller
        self.token: str | None = None
        self.stopped: list[_processes.LeftProcess] = []
        self._restore: dict[str, str | None] = {}

    @classmethod
    def create(
        cls, early_config: pytest.Config, suite: Suite, isolation: _Isolation | None
    ) -> _Guard:
        """The guard of a suite run's process, armed."""
        controller = "PYTEST_XDIST_WORKER" not in os.environ
        guard = cls(suite=suite, watchdog=None, controller=controller)
        if controller:
            deadline = plan.session_deadline(suite)
            if deadline.value > 0:
                guard.watchdog = Watchdog(
                    deadline.value,
                    message=_deadline_message(suite, deadline),
                    cleanup=lambda: _last_resort(guard, isolation),
                )
                guard._export({ENV_DEADLINE_AT: repr(guard.watchdog.at)})
        elif at := os.environ.get(ENV_DEADLINE_AT):
            with contextlib.suppress(ValueError):
                worker = os.environ["PYTEST_XDIST_WORKER"]
                guard.watchdog = Watchdog(
                    float(at) - time.time(),
                    message=f"suitekit: xdist worker {worker} at the deadline; its threads:",
                    interrupt=False,
                )
        if guard.watchdog is not None:
            guard.watchdog.start()
        early_config.stash[_GUARD_KEY] = guard
        return guard

    def _export(self, variables: Mapping[str, str]) -> None:
        for name, value in variables.items():
            self._restore.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def mark(self) -> None:
        """Mark this process's environment: every process started from now on inherits it."""
        if self.controller:
            self.token = _processes.new_mark()
            self._export({_processes.MARK_VARIABLE: self.token})

    def finishing(self) -> None:
        """Cleanup begins: the deadline no longer interrupts."""
        if self.watchdog is not None:
            self.watchdog.finishing()

    @property
    def expired(self) -> bool:
        """Whether the session passed its deadline."""
        return self.watchdog is not None and self.watchdog.expired

    def stop_strays(self) -> list[_processes.LeftProcess]:
        """Stop the marked processes still running (the controller, at the session's end)."""
        if self.token is None:
            return []
        left = _processes.marked(self.token)
        if left:
            _processes.stop(left)
            self.stopped += left
        return left

    def end(self) -> None:
        """The process is done with the session: disarm the deadline, restore the environment."""
        if self.watchdog is not None:
            self.watchdog.cancel()
        _restore(self._restore)
        self._restore = {}


def _last_resort(guard: _Guard, isolation: _Isolation | None) -> None:
    """What the watchdog gives back before it ends a session that would not end: all of it."""
    try:
        guard.stop_strays()  # the tests' processes first: they may hold the databases
    finally:
        if isolation is not None:
            isolation.stop()


def _deadline_message(suite: Suite, deadline: Sourced[float]) -> str:
    """What the controller writes when its session passes the deadline."""
    key = f"{ROOT_KEY}.{deadline.origin}"
    why = (
        key
        if deadline.source is Source.CONFIG
        else f"the default: {DEADLINE_FACTOR} x target-seconds, at least {DEADLINE_FLOOR:g}s"
    )
    return (
        f"suitekit: suite {suite.name!r} is still running at its deadline of "
        f"{deadline.value:g}s ({why}); stopping it (its tests' cleanup runs)\n"
        f"  fix: find the hang in the stacks below, or set {key} to more seconds (0: no deadline)"
    )


def _apply_timeout(config: pytest.Config, suite: Suite) -> Sourced[float] | None:
    """Give pytest-timeout the suite's per-test timeout, unless the user set their own.

    Set before pytest-timeout's own ``pytest_configure`` reads its options (this hook runs
    first); xdist passes the options on to its workers.
    """
    if not config.pluginmanager.has_plugin("timeout"):
        return None  # pytest-timeout turned off (-p no:timeout): the user's choice
    timeout = plan.test_timeout(
        suite,
        option=config.option.timeout,
        environ=os.environ,
        ini=str(config.getini("timeout") or ""),
    )
    if timeout is not None:
        config.option.timeout = timeout.value
    return timeout


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


class _Isolation:
    """The services and per-worker resources of one process of a suite run."""

    def __init__(
        self, project: Project, suite: Suite, *, template: bool, controller_only: bool
    ) -> None:
        self.project = project
        self.suite = suite
        self.template = template
        self.controller_only = controller_only
        self.stack = contextlib.ExitStack()
        self.acquired: services.Acquired | None = None
        self.controller = False
        self.worker = os.environ.get("PYTEST_XDIST_WORKER")
        self.dead: list[str] = []  # servers that stopped answering during the run, said once

    def check_servers(self) -> list[str]:
        """The controller's last look, after the tests: servers that died during the run.

        One connection per service (a few milliseconds); each dead one is said once, and the
        cleanup's own failures to reach it are then not said again.
        """
        if not self.controller or not self.suite.services:
            return []
        self.dead = services.unanswered(self.suite.services, os.environ)
        return self.dead

    def _export(self, variables: Mapping[str, str]) -> None:
        """Set ``variables`` in this process; put the old values back when it stops."""
        previous = {name: os.environ.get(name) for name in variables}
        self.stack.callback(_restore, previous)
        os.environ.update(variables)

    def start(self, *, build_template: bool = True) -> None:
        """Provide the servers, prepare the run (the controller), acquire resources (a worker).

        With ``build_template=False`` the controller names the template without building it
        (or checking the servers it was given: the first connection says what is wrong); the
        Django cooperation builds it once the workers start.
        """
        atexit.register(self.stop)  # also when pytest ends before it could unconfigure
        if self.worker is None:
            # The controller (or the only process): servers, run id, hash seed, template.
            self.controller = True
            # Ctrl-C as well as SIGTERM: the first ends the session through the cleanup below
            # (databases dropped, servers stopped); a second one does not cut it short.
            self.stack.enter_context(signals_as_interrupt(signal.SIGINT, signal.SIGTERM))
            provided = self.stack.enter_context(
                services.provide(
                    self.project, self.suite.services, os.environ, check=build_template
                )
            )
            self._export(provided)
            self._export(
                services.prepare_run(
                    self.project,
                    self.suite,
                    os.environ,
                    template=self.template,
                    build=build_template,
                )
            )
        if self.worker is not None or not self.controller_only:
            self.acquired = services.acquire(
                self.project,
                self.suite,
                worker=self.worker or "main",
                environ=os.environ,
                # Django's first database test clones it (see _pytest_django.DjangoDatabases).
                clone_later=self.worker is not None and _pytest_django.clones_later(),
            )
            self._export(services.export(self.acquired.resources))

    def materialize(self) -> None:
        """Make this process's database now, if it was only named so far."""
        if self.acquired is not None:
            self.acquired.materialize()

    def check_workers(self, config: pytest.Config) -> None:
        """Refuse a run whose tests would run in a controller that holds no resources.

        xdist turns ``-n auto`` into no workers at all under ``--pdb``; the tests would then
        see the shared server's database instead of one of their own.
        """
        if self.controller_only and not getattr(config.option, "numprocesses", None):
            self.stop()
            message = (
                "suitekit: xdist runs no workers here (--pdb or --trace turn -n auto into none), "
                "so the tests would share one database\n  fix: pass -n 0 to debug one process"
            )
            raise pytest.UsageError(message)

    def stop(self) -> None:
        """Give everything back; what cannot be is one line each, never a traceback.

        A server that died during the run makes every step that reaches it fail: that was said
        once by :meth:`check_servers`, and the steps' errors are not repeated.
        """
        problems: list[str] = []
        try:
            if self.acquired is not None:
                acquired, self.acquired = self.acquired, None
                _noting(problems, acquired.release)
        finally:
            try:
                if self.controller:
                    self.controller = False
                    _noting(
                        problems,
                        lambda: services.finish_run(self.project, self.suite, os.environ),
                    )
            finally:
                self.stack.close()
                atexit.unregister(self.stop)
                # A worker's leftovers are its controller's to drop (finish_run) and to say.
                if not self.dead and self.worker is None:
                    for problem in problems:
                        sys.stderr.write(f"suitekit: cleanup: {problem}\n")


def _say_dead_servers(session: pytest.Session) -> None:
    """The controller says which of its servers died during the run; the session then fails."""
    isolation = session.config.stash.get(_ISOLATION_KEY, None)
    if isolation is None:
        return
    dead = isolation.check_servers()  # also keeps the cleanup from saying it again
    if session.exitstatus == pytest.ExitCode.USAGE_ERROR:
        # A usage error (a template that could not be built) said what was wrong already:
        # the servers did not stop during a run that never began.
        return
    for line in dead:
        _say(session.config, f"suitekit: {line}")
    if dead and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _say(config: pytest.Config, line: str) -> None:
    """A line on the terminal (pytest's reporter when there is one, else standard error)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line, red=True)
    else:
        sys.stderr.write(line + "\n")


def _noting(problems: list[str], step: Callable[[], None]) -> None:
    """Run a cleanup step; a service it cannot reach is noted in ``problems``, not raised."""
    try:
        step()
    except SuitekitError as error:
        problems.append(str(error))


def _restore(previous: Mapping[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _auto_suite(suite: Suite) -> bool:
    """Whether the suite's worker count (or ``SUITEKIT_WORKERS``) is ``"auto"``."""
    try:
        options = plan.RunOptions.from_env(os.environ)
    except SuitekitError:
        return False  # reported by the nox session, or taken as xdist's own "auto"
    return plan.declared_workers(suite, options) == "auto"


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` in a run of a suite whose workers are ``"auto"``: suitekit decides.

    xdist asks before anything is collected, when nothing says whether workers pay. The run
    therefore starts without xdist (0) and :class:`_AutoWorkers` decides after collection,
    from the suite's recorded durations or from its first tests, whether to hand the rest of
    the suite to workers. With one CPU there is nothing to decide: no xdist.
    """
    name = config.getoption("suitekit_suite", None)
    if name is None or config.option.numprocesses != "auto" or config.option.collectonly:
        return None
    try:
        project = _load(config)
        suite = project.suite(name) if project is not None else None
        options = plan.RunOptions.from_env(os.environ)
    except (pytest.UsageError, KeyError, SuitekitError):
        return None  # pytest_configure reports what is wrong
    if suite is None or not _auto_suite(suite):
        return None
    if options.cpus.value > 1 and config.getoption("suitekit_plan_shards") is None:
        given = config.option.dist
        config.stash[_AUTO_KEY] = _AutoWorkers(
            cpus=options.cpus.value, dist=given if given in DIST_MODES else suite.dist
        )
    return 0


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Load the project, register markers and, in suite mode, point collection at the suite."""
    project = _load(config)
    if project is None:
        return
    isolation = config.stash.get(_ISOLATION_KEY, None)
    if isolation is not None and not hasattr(config, "workerinput"):
        isolation.check_workers(config)
    plugin = SuitekitPlugin.create(config, project)
    if plugin.suite is not None:
        plugin.timeout = _apply_timeout(config, plugin.suite)
        plugin.guard = config.stash.get(_GUARD_KEY, None)
    config.stash[_PLUGIN_KEY] = plugin
    config.pluginmanager.register(plugin, "suitekit-plugin")
    if isolation is not None and isolation.template:
        # After pytest-django registered: suitekit's django_db_setup wins over its own.
        _pytest_django.register(config, isolation.suite, materialize=isolation.materialize)


def _load(config: pytest.Config) -> Project | None:
    explicit = config.getoption("suitekit_project")
    wanted = config.getoption("suitekit_suite") is not None or config.getoption(
        "suitekit_partition"
    )
    try:
        if explicit is not None:
            return load_project(Path(explicit).resolve())
        try:
            find_config(config.rootpath)
        except ConfigError:
            if wanted:
                raise
            return None  # not a suitekit project: the plugin stays out of the way
        return load_project(config.rootpath)
    except SuitekitError as error:
        raise pytest.UsageError(str(error)) from None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _RunOptions:
    """How a suite run treats flaky tests: retries, order and run log (from the options).

    Attributes:
        retries: How many times a failed test runs again (0: never).
        seed: The ``--suitekit-order-seed``, or ``None`` for pytest's order.
        order_file: The ``--suitekit-order-file``, or ``None``.
        order: The node ids of the order file, with their line numbers.
        run_log: Where the controller writes the run log, or ``None``.
        debugger: The debugging option (``--pdb``, ``--trace``) that turned the retries
            off, or ``None``.
    """

    retries: int = 0
    seed: int | None = None
    order_file: Path | None = None
    order: tuple[tuple[int, str], ...] = ()
    run_log: Path | None = None
    debugger: str | None = None

    @classmethod
    def of(cls, config: pytest.Config, suite: Suite | None) -> _RunOptions:
        """The options of this run, checked.

        Raises:
            pytest.UsageError: An option without ``--suitekit-suite``, a retry count out of
                range, or an order file that cannot be read.
        """
        if suite is None:
            given = [flag for dest, flag in _SUITE_OPTIONS if config.getoption(dest) is not None]
            if given:
                message = f"{given[0]} needs --suitekit-suite: it applies to a suite run"
                raise pytest.UsageError(message)
            return cls()
        retries: int | None = config.getoption("suitekit_retries")
        if retries is not None and not 0 <= retries <= MAX_RETRIES:
            message = (
                f"--suitekit-retries={retries}: expected a whole number from 0 to {MAX_RETRIES}"
            )
            raise pytest.UsageError(message)
        here = config.invocation_params.dir
        order_file: str | None = config.getoption("suitekit_order_file")
        run_log: str | None = config.getoption("suitekit_run_log")
        path = here / order_file if order_file is not None else None
        if retries is None:
            retries = suite.retries
        # The debugger would open on every failed attempt: a debugged test runs once.
        debugged = (flag for dest, flag in _DEBUGGERS if config.getoption(dest, default=False))
        debugger = next(debugged, None) if retries else None
        return cls(
            retries=0 if debugger is not None else retries,
            debugger=debugger,
            seed=config.getoption("suitekit_order_seed"),
            order_file=path,
            order=_read_order(path) if path is not None else (),
            run_log=here / run_log if run_log is not None else None,
        )


def _read_order(path: Path) -> tuple[tuple[int, str], ...]:
    """The node ids of an order file with their line numbers (blank and ``#`` lines skipped).

    Raises:
        pytest.UsageError: The file cannot be read, or names a test twice.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        message = f"--suitekit-order-file={path}: cannot read it ({error})"
        raise pytest.UsageError(message) from None
    order: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        node_id = line.strip()
        if not node_id or node_id.startswith("#"):
            continue
        if node_id in seen:
            message = (
                f"--suitekit-order-file={path}: line {number}: {node_id!r} is listed twice "
                f"(first on line {seen[node_id]})\n  fix: keep one of the two lines"
            )
            raise pytest.UsageError(message)
        seen[node_id] = number
        order.append((number, node_id))
    return tuple(order)


class SuitekitPlugin:
    """The stateful half of the plugin, registered for projects that declare suites."""

    def __init__(
        self,
        project: Project,
        suite: Suite | None,
        *,
        check_partition: bool,
        shard: sharding.ShardSpec | None = None,
        run: _RunOptions | None = None,
    ) -> None:
        """Keep the project and the selected mode."""
        self.project = project
        self.suite = suite
        self.check_partition = check_partition
        self.shard = shard
        self.run = run if run is not None else _RunOptions()
        # The controller (or the only process) of a suite run gathers every report here.
        self.ledger: Ledger | None = None
        self.finish_error: str | None = None
        self._quarantine: dict[str, Quarantine | None] = {}
        # Every item collected, before pytest or a plugin deselects any (--deselect, --lf, ...).
        self._collected: list[str] = []
        self._project_paths: dict[str, str] = {}
        self._file_paths: dict[Path, PurePosixPath] = {}
        self._file_selected: dict[Path, bool] = {}
        self.selector = SuiteSelector.of(suite) if suite is not None else None
        self.selected = 0
        self.deselected = 0
        self.report: PartitionReport | None = None
        self.worker_lines: list[str] = []
        # Which order the workers gave xdist, and why (the same on every worker).
        self.order_line: str | None = None
        self.shard_line: str | None = None
        self.empty_shard = False
        self.shard_table: str | None = None
        self.config: pytest.Config | None = None
        self.stored: Mapping[str, sharding.Measurement] | None = None
        # The controller's decision of "auto" workers, and the tests it ran before promoting.
        self.auto: _AutoWorkers | None = None
        self.ran_here: tuple[str, ...] = ()
        # Whether this process recorded the collection for the partition guard, and what
        # failed to collect: (path under the project root, the error's message) pairs.
        self.recorded = False
        self.collect_errors: list[tuple[str, str]] = []
        # The per-test timeout suitekit gave pytest-timeout (None: the user's own, or none),
        # and the deadline and stray-process guard of a suite run.
        self.timeout: Sourced[float] | None = None
        self.guard: _Guard | None = None

    @classmethod
    def create(cls, config: pytest.Config, project: Project) -> SuitekitPlugin:
        """Validate the options against the project, register markers, redirect collection.

        Raises:
            pytest.UsageError: An unknown suite, or options that cannot go together.
        """
        name: str | None = config.getoption("suitekit_suite")
        check_partition: bool = config.getoption("suitekit_partition")
        suite: Suite | None = None
        if name is not None:
            try:
                suite = project.suite(name)
            except KeyError:
                known = ", ".join(s.name for s in project.suites)
                message = (
                    f"--suitekit-suite={name}: {project.config_file} declares no suite {name!r}; "
                    f"declared: {known}"
                )
                raise pytest.UsageError(message) from None
        if suite is not None and check_partition:
            message = "--suitekit-suite and --suitekit-partition cannot go together"
            raise pytest.UsageError(message)
        shard = _shard(config)
        count = config.getoption("suitekit_plan_shards")
        if count is not None and (suite is None or count < 1):
            message = "--suitekit-plan-shards needs --suitekit-suite and a count of at least 1"
            raise pytest.UsageError(message)
        if shard is not None and suite is None:
            message = f"--shard {shard} needs --suitekit-suite: only a suite can be sharded"
            raise pytest.UsageError(message)
        if check_partition and (getattr(config.option, "numprocesses", None) or 0) > 0:
            message = "--suitekit-partition collects in one process: pass -n 0 (or drop -n)"
            raise pytest.UsageError(message)
        _register_markers(config, project)
        if config.args_source != pytest.Config.ArgsSource.ARGS:
            if suite is not None:
                roots = suite.paths or project.tests  # a marker-only suite looks in every root
            else:
                roots = project.tests if check_partition else ()
            if roots:
                config.args[:] = [str(project.root / root) for root in roots]
        run = _RunOptions.of(config, suite)
        plugin = cls(project, suite, check_partition=check_partition, shard=shard, run=run)
        plugin.config = config
        plugin.auto = config.stash.get(_AUTO_KEY, None) if suite is not None else None
        return plugin

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """The controller (or the only process) of a suite run starts gathering the reports."""
        if self.suite is not None and not hasattr(session.config, "workerinput"):
            from suitekit.reporting._attempts import Ledger  # noqa: PLC0415 - see the imports

            self.ledger = Ledger()
        if self.auto is not None:
            self.auto.session_started = time.monotonic()

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        """One line saying what suitekit selected and with how many workers."""
        if self.suite is None:
            if self.check_partition:
                return [f"suitekit: checking the partition of {len(self.project.suites)} suites"]
            return []
        selection = self._selection(self.suite)
        workers = getattr(config.option, "numprocesses", None) or 0
        why = os.environ.get("SUITEKIT_WORKERS_ORIGIN", "")
        xdist = f"{workers} xdist workers, dist {config.option.dist}" if workers else "no xdist"
        if self.auto is not None:
            xdist = f"workers decided after collection (auto, {self.auto.cpus} CPUs)"
            why = ""
        if why:
            xdist += f" ({why})"
        lines = [
            f"suitekit: suite {self.suite.name!r}: {'; '.join(selection)}; {xdist}",
            self._limits_line(config),
        ]
        if config.option.verbose > 0 or self.suite.services or self.project.isolation.dirs:
            lines.append(self._run_line(config))
        return lines

    def _limits_line(self, config: pytest.Config) -> str:
        """The per-test timeout and the session deadline, and where each came from."""
        assert self.suite is not None  # noqa: S101 - only suite runs have limits
        if not config.pluginmanager.has_plugin("timeout"):
            timeout = "no per-test timeout (pytest-timeout is not loaded)"
        elif self.timeout is None:
            timeout = "timeout: pytest-timeout's own settings"
        elif self.timeout.value:
            timeout = f"timeout {self.timeout.value:g}s per test ({self.timeout.source.describe()})"
        else:
            timeout = "no per-test timeout"
        deadline = plan.session_deadline(self.suite)
        limit = f"deadline {deadline.value:g}s" if deadline.value else "no deadline"
        return f"suitekit: {timeout}; {limit} ({deadline.source.describe()})"

    def _selection(self, suite: Suite) -> list[str]:
        """What the header says the run selects: paths, marker, shard, order, retries."""
        selection = []
        if suite.paths:
            selection.append(f"paths {', '.join(suite.paths)}")
        if suite.marker:
            selection.append(f"marker {suite.marker!r}")
        if self.shard is not None:
            selection.append(f"shard {self.shard} (balanced by recorded durations)")
        if self.run.order_file is not None:
            selection.append(f"order file {self.run.order_file}")
        elif self.run.seed is not None:
            selection.append(f"order seed {self.run.seed}")
        if self.run.retries:
            selection.append(f"retries {self.run.retries}")
        elif self.run.debugger is not None:
            selection.append(f"no retries under {self.run.debugger}")
        return selection

    def _run_line(self, config: pytest.Config) -> str:
        """The run's id, hash seed, servers and template (and, without xdist, the resources)."""
        seed = os.environ.get("PYTHONHASHSEED", "random")
        if seed != _STARTUP_HASHSEED and not hasattr(config, "workerinput"):
            # Set for the workers after this process started: its own hashing stays random.
            seed += " (workers; this process: random)"
        parts = [f"run {os.environ.get('SUITEKIT_RUN_ID', '-')}", f"PYTHONHASHSEED={seed}"]
        for service, variable in services.PROVIDED_URL.items():
            if service in self.suite.services if self.suite else False:
                parts.append(f"{service} {_host_port(os.environ.get(variable, ''))}")
        if template := os.environ.get("SUITEKIT_PG_TEMPLATE"):
            parts.append(f"template {template}")
        resources = services.current()
        if resources is not None and config.option.verbose > 0:
            parts.append(resources.describe())
        return "suitekit: " + "; ".join(parts)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        """The controller collects what each worker got (printed with -v)."""
        del error
        output = getattr(node, "workeroutput", None) or {}
        if "suitekit_worker" in output:
            self.worker_lines.append(str(output["suitekit_worker"]))
        if "suitekit_order" in output:
            self.order_line = str(output["suitekit_order"])

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        """Note each collected test: the quarantine is judged on the whole collection."""
        self._collected.append(item.nodeid)

    @pytest.hookimpl(trylast=True)  # after conftest hooks that add markers
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Keep the suite's tests (suite mode) or check the partition (partition mode)."""
        if self.check_partition:
            self._check_partition(config, items)
            return
        if self.selector is None:
            return
        problem = self._stale_quarantine(config, items)
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            (keep if self._selects(self.selector, item) else drop).append(item)
        self._record_collection(session, items, keep, drop)
        count: int | None = config.getoption("suitekit_plan_shards")
        if count is not None:
            self.shard_table = self._plan(keep, count).table(self.selector.suite.name)
            drop, keep = drop + keep, []
        elif self.shard is not None:
            keep, elsewhere = self._take_shard(keep, self.shard)
            drop += elsewhere
        if problem is None and count is None:
            keep, unlisted, problem = self._order(keep)
            drop += unlisted
        if problem is not None:
            _usage_problem(config, items, problem)
            return
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep  # also when nothing was dropped: the order may have changed
        self.selected, self.deselected = len(keep), len(drop)
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None:
            self._worker_order(config, items, workerinput)

    def _record_collection(
        self,
        session: pytest.Session,
        items: list[pytest.Item],
        keep: list[pytest.Item],
        drop: list[pytest.Item],
    ) -> None:
        """Record what this suite collected and selected, for the run's partition guard.

        Only in a whole run (the runner names a folder in ``SUITEKIT_COLLECTIONS``), and once
        per session: by the process that collected first (the only process, the controller
        deciding "auto" workers, or else the first xdist worker). The collection is complete
        when nothing but the suite's own rule removed tests from it, and nothing failed to
        collect.
        """
        config = session.config
        folder = os.environ.get(plan.ENV_COLLECTIONS)
        if not folder or self.suite is None or self.run.run_log is not None:
            return
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None and (
            workerinput.get("workerid") != "gw0" or workerinput.get("suitekit_recorded")
        ):
            return
        narrowed = config.args_source == pytest.Config.ArgsSource.ARGS
        complete = (
            not narrowed
            and not session.testsfailed  # a file that failed to collect
            and len(items) >= len(set(self._collected))
        )
        record = Collection(
            suite=self.suite.name,
            owned=tuple(self._project_id(item.nodeid) for item in keep),
            others=tuple(self._project_id(item.nodeid) for item in drop),
            complete=complete,
            python_files=tuple(config.getini("python_files")),
            norecursedirs=tuple(config.getini("norecursedirs")),
            errors=tuple(self.collect_errors),
        )
        name = f"{self.suite.name}.{os.getpid()}.json"
        with contextlib.suppress(SuitekitError):  # no record: the runner runs the guard itself
            write_text_atomic(Path(folder) / name, record.to_json())
        self.recorded = True

    def _check_partition(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Partition mode: check the partition of what was collected, and run nothing."""
        if self.collect_errors:
            # A partial collection says nothing of the partition: the crash is the news.
            self._record_partition_crash()
        else:
            self.report = partition(self.project, (self._describe(item) for item in items))
            self._check_quarantine_everywhere()
        config.hook.pytest_deselected(items=list(items))
        items.clear()

    def _record_partition_crash(self) -> None:
        """In a whole run, record what the partition session failed to collect, for the runner."""
        folder = os.environ.get(plan.ENV_COLLECTIONS)
        if not folder:
            return
        record = Collection(
            suite=plan.PARTITION_SESSION,
            owned=(),
            others=(),
            complete=False,
            errors=tuple(self.collect_errors),
        )
        name = f"{plan.PARTITION_SESSION}.{os.getpid()}.json"
        with contextlib.suppress(SuitekitError):  # no record: the runner says what it can
            write_text_atomic(Path(folder) / name, record.to_json())

    def _worker_order(
        self, config: pytest.Config, items: list[pytest.Item], workerinput: Mapping[str, Any]
    ) -> None:
        """An xdist worker's collection: without what the controller ran; slow tests first.

        Slow tests go first only where a replay of xdist's scheduler on the recorded durations
        says that makes the run clearly faster (see :func:`suitekit.sharding.choose_order`).
        """
        if workerinput.get("suitekit_ran"):
            # The controller ran these before it handed the rest of the suite to workers.
            ran = frozenset(workerinput["suitekit_ran"])
            items[:] = [item for item in items if item.nodeid not in ran]
        ordered = self.run.seed is not None or self.run.order_file is not None
        if not ordered and self._durations():
            dist = str(workerinput.get("suitekit_dist", "load"))
            self._xdist_order(config, items, int(workerinput.get("workercount", 1)), dist)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:  # noqa: ANN401 - xdist's WorkerController
        """Tell each xdist worker the run's real ``--dist`` mode (workers see ``"no"``)."""
        dist = self.config.option.dist if self.config is not None else "load"
        node.workerinput["suitekit_dist"] = dist if dist in DIST_MODES else "load"
        if self.recorded:
            node.workerinput["suitekit_recorded"] = True
        if self.ran_here:
            node.workerinput["suitekit_ran"] = list(self.ran_here)

    def _durations(self) -> Mapping[str, sharding.Measurement]:
        """The suite's stored durations (read once; empty without a store)."""
        if self.stored is None:
            store_path = self.project.root / sharding.DURATIONS_FILE
            try:
                store = sharding.DurationStore.load(store_path)
            except SuitekitError as error:
                raise pytest.UsageError(str(error)) from None
            name = self.suite.name if self.suite is not None else ""
            self.stored = store.suites.get(name, {})
        return self.stored

    def _plan(self, items: list[pytest.Item], count: int) -> sharding.ShardPlan:
        """The shard plan of the suite's items."""
        assert self.suite is not None  # noqa: S101 - a shard needs a suite (checked in create)
        sizes: dict[Path, int] = {}
        cases = []
        for item in items:
            if item.path not in sizes:
                try:
                    sizes[item.path] = item.path.stat().st_size
                except OSError:
                    sizes[item.path] = 0
            cases.append(
                sharding.Case(node_id=item.nodeid, file_bytes=sizes[item.path], group=_group(item))
            )
        return sharding.plan_shards(
            cases, count=count, dist=self.suite.dist, stored=self._durations()
        )

    def _take_shard(
        self, items: list[pytest.Item], shard: sharding.ShardSpec
    ) -> tuple[list[pytest.Item], list[pytest.Item]]:
        """Split the suite's items into this shard's and the others', by the shard plan."""
        shard_plan = self._plan(items, shard.total)
        mine = shard_plan.shard(shard.index)
        ids = mine.node_ids
        self.shard_line = (
            f"suitekit: shard {shard}: {mine.tests} of {len(items)} tests in {len(mine.units)} "
            f"units, predicted {mine.seconds:.1f}s (max/mean of the {shard.total} shards "
            f"{shard_plan.imbalance:.2f}; {shard_plan.estimates.describe()})"
        )
        self.empty_shard = not ids
        keep = [item for item in items if item.nodeid in ids]
        return keep, [item for item in items if item.nodeid not in ids]

    def _xdist_order(
        self, config: pytest.Config, items: list[pytest.Item], workers: int, dist: str
    ) -> None:
        """Order the collection as :func:`suitekit.sharding.choose_order` decides."""
        assert self.suite is not None  # noqa: S101 - only suite runs get here
        cases = [sharding.Case(node_id=item.nodeid) for item in items]
        estimates = sharding.estimate(cases, self._durations())
        by_id = {item.nodeid: item for item in items}
        ordering = sharding.choose_order(
            [item.nodeid for item in items],
            estimates.seconds,
            dist=dist if dist in DIST_MODES else "load",  # type: ignore[arg-type]  # checked
            workers=workers,
            groups={item.nodeid: g for item in items if (g := _group(item))},
            max_chunk=config.getoption("maxschedchunk", None),
        )
        items[:] = [by_id[node] for node in ordering.node_ids]
        self.order_line = f"suitekit: xdist order: {ordering.describe()}"

    def pytest_report_collectionfinish(self, config: pytest.Config) -> list[str]:
        """After collection (without xdist): the shard's size and predicted seconds."""
        del config
        return [self.shard_line] if self.shard_line else []

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        """An xdist controller states the shard's size after the first worker's collection.

        The controller collects nothing itself, so this is the first moment it can.
        """
        del node
        if self.shard is None or self.shard_line is not None:
            return
        cases = [sharding.Case(node_id=node_id) for node_id in ids]
        estimates = sharding.estimate(cases, self._durations())
        self.shard_line = (
            f"suitekit: shard {self.shard}: {len(ids)} tests, predicted "
            f"{sum(estimates.seconds.values()):.1f}s ({estimates.describe()})"
        )
        self.empty_shard = not ids
        reporter = self.config.pluginmanager.get_plugin("terminalreporter") if self.config else None
        if reporter is not None:
            reporter.write_line(self.shard_line)

    def _describe(self, item: pytest.Item, *, markers: bool = True) -> CollectedTest:
        """What the selection needs of an item (its markers only when asked: they cost)."""
        path = self._file_paths.get(item.path)
        if path is None:
            # Resolving is a few system calls: once per file, not once per test.
            try:
                relative = item.path.resolve().relative_to(self.project.root.resolve())
                path = PurePosixPath(relative.as_posix())
            except ValueError:
                path = PurePosixPath("/", *item.path.parts[1:])  # outside the project
            self._file_paths[item.path] = path
        names = frozenset(mark.name for mark in item.iter_markers()) if markers else frozenset()
        return CollectedTest(node_id=item.nodeid, path=path, markers=names)

    def _selects(self, selector: SuiteSelector, item: pytest.Item) -> bool:
        """Whether the suite owns ``item``; without a marker expression, decided once per file."""
        if selector.expression is not None:
            return selector.selects(self._describe(item))
        owned = self._file_selected.get(item.path)
        if owned is None:
            owned = self._file_selected[item.path] = selector.selects(
                self._describe(item, markers=False)
            )
        return owned

    # --- quarantine and order ------------------------------------------------------------------

    def _project_id(self, node_id: str) -> str:
        """The node id with its file relative to the project's root (as quarantine entries are).

        It is pytest's node id whenever pytest's rootdir is the project's folder.
        """
        path, separator, rest = node_id.partition("::")
        relative = self._project_paths.get(path)
        if relative is None:
            root = self.config.rootpath if self.config is not None else self.project.root
            try:
                found = (root / path).resolve().relative_to(self.project.root.resolve())
                relative = found.as_posix()
            except ValueError:
                relative = path  # outside the project: no entry can name it anyway
            self._project_paths[path] = relative
        return f"{relative}{separator}{rest}"

    def _quarantine_of(self, node_id: str) -> Quarantine | None:
        """The quarantine entry that names the test, in a suite run (``None`` otherwise)."""
        if self.suite is None or not self.project.quarantine:
            return None
        if node_id not in self._quarantine:
            self._quarantine[node_id] = flaky.entry_for(
                self.project.quarantine, self._project_id(node_id)
            )
        return self._quarantine[node_id]

    def _check_quarantine_everywhere(self) -> None:
        """Partition mode collects every test root: an entry that names no test is stale.

        Raises:
            pytest.UsageError: Some entry matches none of the collected tests.
        """
        ids = [self._project_id(node_id) for node_id in self._collected]
        stale = flaky.unmatched(self.project.quarantine, ids)
        if stale:
            where = f"the tests under {', '.join(self.project.tests)}"
            error = flaky.unmatched_error(stale, file=self.project.config_file, where=where)
            raise pytest.UsageError(str(error))

    def _stale_quarantine(self, config: pytest.Config, items: list[pytest.Item]) -> str | None:
        """In a suite run, the error for entries that name a file it collected but no test.

        A suite collects only its own folders, so an entry for another suite's file cannot be
        judged here; an entry that names one of this run's files but none of its tests can.
        Only runs that collect what suitekit chose (no paths, ``-k`` or ``-m`` of the user's)
        are judged, since those narrow the collection below what an entry may name. The
        collection is taken before anything deselects from it (``--deselect``, ``--lf``,
        ``--sw``); an item a hook added since counts too.
        """
        if not self.project.quarantine or self.suite is None:
            return None
        narrowed = config.args_source == pytest.Config.ArgsSource.ARGS
        if narrowed or config.option.keyword or config.option.markexpr:
            return None
        collected = dict.fromkeys([*self._collected, *(item.nodeid for item in items)])
        ids = [self._project_id(node_id) for node_id in collected]
        stale = stale_in_files(self.project.quarantine, ids)
        if not stale:
            return None
        where = f"the tests of suite {self.suite.name!r} in the files it names"
        return str(flaky.unmatched_error(stale, file=self.project.config_file, where=where))

    def _order(
        self, items: list[pytest.Item]
    ) -> tuple[list[pytest.Item], list[pytest.Item], str | None]:
        """The suite's items in the run's order, the items the order file leaves out, a problem.

        Every xdist worker collects the same items and draws the same shuffle from the seed,
        so xdist sees the same collection everywhere and hands the tests out in this order.
        """
        if self.run.order_file is not None:
            assert self.suite is not None  # noqa: S101 - _RunOptions.of needs a suite for a file
            by_id = {item.nodeid: item for item in items}
            for number, node_id in self.run.order:
                if node_id not in by_id:
                    problem = (
                        f"--suitekit-order-file={self.run.order_file}: line {number}: {node_id!r} "
                        f"is not a collected test of suite {self.suite.name!r}\n  fix: write node "
                        f"ids as `pytest --collect-only -q --suitekit-suite={self.suite.name}` "
                        "prints them, or remove the line"
                    )
                    return items, [], problem
            listed = {node_id for _, node_id in self.run.order}
            ordered = [by_id[node_id] for _, node_id in self.run.order]
            return ordered, [item for item in items if item.nodeid not in listed], None
        if self.run.seed is not None:
            shuffled = list(items)
            # Reproducible order from a seed, not cryptography.
            random.Random(self.run.seed).shuffle(shuffled)  # noqa: S311
            return shuffled, [], None
        return items, [], None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """An xdist controller turns a worker's usage problem into a usage error.

        A file that fails to collect goes into the ledger as an error of its own, so that the
        run log (and ``suitekit flaky``) sees a suite that fails to collect.

        Raises:
            pytest.UsageError: A worker found the suite's options or quarantine wrong.
        """
        message = getattr(report, "suitekit_usage_error", None)
        if message and self.config is not None and not hasattr(self.config, "workerinput"):
            raise pytest.UsageError(str(message))
        if report.failed and not message:
            where = self._project_id(report.nodeid) if report.nodeid else "."
            self.collect_errors.append((where, _collect_error(report)))
        if report.failed and not message and self.ledger is not None:
            from suitekit.reporting._attempts import PhaseReport  # noqa: PLC0415 - see the imports

            self.ledger.add(
                PhaseReport(
                    node_id=report.nodeid,
                    when="collect",
                    outcome="failed",
                    worker=_worker(report),
                    message=_failure_line(report),
                    details=report.longreprtext,
                )
            )

    # --- "auto" workers -------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        """Under suitekit's ``-n auto``: run without xdist, or hand the suite to workers.

        Returns ``None`` to let pytest's own loop run every test in this process.
        """
        auto = self.auto
        if auto is None or session.config.option.collectonly or not session.items:
            return None
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            return None  # pytest's loop stops the run
        return auto.run(self, session)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> bool | None:
        """Run a test up to ``1 + retries`` times, until an attempt does not fail.

        Of a failed attempt that will run again, only its first failed report is logged, as a
        ``rerun``: its duration moves to ``suitekit_seconds`` so that JUnit times and the
        durations store count the final attempt alone. The final attempt logs every report;
        its passing call says how many attempts failed before it (``suitekit_flaky``). Each
        attempt tears down as pytest would before ``nextitem``, so it starts from fresh
        function-scoped fixtures; a wider fixture (or collector) that failed is set up again
        (see :func:`_forget_failed_setup`). A quarantined test's failure, which
        :meth:`pytest_runtest_makereport` turned into a skip, is retried as a failure.
        """
        if not self.run.retries:
            return None  # pytest's own protocol runs it
        ihook = item.ihook
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        for attempt in range(1, self.run.retries + 2):
            if attempt > 1:
                _forget_failed_setup(item)
                _rearm_timeout(item)
            # Captured output is kept on the item: an attempt reports its own output only.
            item._report_sections.clear()  # noqa: SLF001 - pytest keeps no public handle on it
            reports = runtestprotocol(item, nextitem=nextitem, log=False)
            failed = next((report for report in reports if _failed(report)), None)
            stopping = item.session.shouldfail or item.session.shouldstop
            if failed is not None and attempt <= self.run.retries and not stopping:
                seconds, failed.duration = failed.duration, 0.0
                # "rerun" is no outcome pytest knows: no plugin counts it as a failure.
                failed.outcome = "rerun"  # type: ignore[assignment]
                _mark(failed, suitekit_attempt=attempt, suitekit_seconds=seconds)
                ihook.pytest_runtest_logreport(report=failed)
                continue
            for report in reports:
                if attempt > 1:
                    _mark(report, suitekit_attempt=attempt)
                    if failed is None and report.when == "call" and report.passed:
                        _mark(report, suitekit_flaky=attempt - 1)
                ihook.pytest_runtest_logreport(report=report)
            break
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Name a failure's exception type; turn a quarantined test's failure into a skip.

        The skip carries ``wasxfail``, so that pytest's JUnit writes it as a skip with a
        message (rewritten at the end of the run into ``suitekit.quarantined``).
        """
        report = yield
        if not report.failed or self.suite is None:
            return report
        if call.excinfo is not None:
            _mark(report, suitekit_type=call.excinfo.typename)
        entry = self._quarantine_of(item.nodeid)
        if entry is not None:
            from suitekit.reporting._attempts import WASXFAIL_PREFIX  # noqa: PLC0415 - see the imports

            _mark(
                report,
                suitekit_quarantined=entry.test,
                suitekit_failure=report.longreprtext,
                wasxfail=f"{WASXFAIL_PREFIX}{entry.reason}",
            )
            report.outcome = "skipped"
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(
        self, report: pytest.CollectReport | pytest.TestReport
    ) -> tuple[str, str, tuple[str, Mapping[str, bool]]] | None:
        """RERUN for a failed attempt, FLAKY for a pass after one, QUARANTINED for a hidden one."""
        outcome: str = report.outcome  # "rerun" is our own outcome, unknown to pytest's types
        if outcome == "rerun":
            return "rerun", "R", ("RERUN", {"yellow": True})
        if report.skipped and getattr(report, "suitekit_quarantined", None):
            return "quarantined", "q", ("QUARANTINED", {"yellow": True})
        if getattr(report, "when", None) == "call" and getattr(report, "suitekit_flaky", 0):
            return "flaky", "f", ("FLAKY", {"yellow": True})
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """The controller (or the only process) of a suite run keeps the reports it needs.

        Without a run log only retried and quarantined tests reach the ledger (its flaky and
        quarantine sections and the JUnit rewrite need nothing else): a plain pass or failure
        costs nothing here, as in pytest without suitekit.
        """
        if self.auto is not None:
            self.auto.body_seconds += report.duration
        if self.ledger is None:
            return
        outcome: str = report.outcome  # "rerun" is our own outcome, unknown to pytest's types
        if (
            self.run.run_log is not None
            or outcome == "rerun"
            or getattr(report, "suitekit_attempt", 1) != 1
            or self._quarantine_of(report.nodeid) is not None
        ):
            self.ledger.add(self._phase(report))

    def _phase(self, report: pytest.TestReport) -> PhaseReport:
        """The plain data of a report, for the ledger."""
        from suitekit.reporting._attempts import PhaseReport  # noqa: PLC0415 - see the imports

        quarantined = bool(getattr(report, "suitekit_quarantined", None))
        outcome: str = report.outcome
        if outcome in {"failed", "rerun"} or quarantined:
            message = _failure_line(report)
        elif report.skipped:
            reason = getattr(report, "wasxfail", None)
            if reason is None and isinstance(report.longrepr, tuple):
                reason = report.longrepr[2]
            message = first_line(str(reason if reason is not None else report.longrepr))
        else:
            message = ""
        return PhaseReport(
            node_id=report.nodeid,
            when=report.when,
            outcome=report.outcome,
            worker=_worker(report),
            attempt=int(getattr(report, "suitekit_attempt", 1)),
            message=message,
            error_type=str(getattr(report, "suitekit_type", "pytest.failure")),
            details=str(getattr(report, "suitekit_failure", ""))
            or (report.longreprtext if report.longrepr is not None else ""),
            stdout=report.capstdout,
            stderr=report.capstderr,
            quarantine=self._quarantine_of(report.nodeid),
            quarantined_failure=quarantined,
        )

    def pytest_terminal_summary(self, terminalreporter: TerminalReporter) -> None:
        """Print what each worker got (with -v); in partition mode, the partition."""
        self._guard_lines(terminalreporter)
        if self.auto is not None and self.auto.line is not None and not self.auto.promoted:
            terminalreporter.write_line(self.auto.line)
        if self.ledger is not None:
            self._flaky_sections(terminalreporter, self.ledger)
        if self.worker_lines and terminalreporter.config.option.verbose > 0:
            terminalreporter.section("suitekit workers")
            for line in sorted(self.worker_lines):
                terminalreporter.write_line(line)
        if self.order_line is not None and terminalreporter.config.option.verbose > 0:
            terminalreporter.write_line(self.order_line)
        if self.shard_table is not None:
            terminalreporter.section("suitekit shards")
            terminalreporter.write_line(self.shard_table)
        if self.check_partition and self.collect_errors:
            crash = crash_message(self.project, self.collect_errors)
            terminalreporter.write_line(
                f"suitekit: {crash}; the partition was not checked", red=True, bold=True
            )
        if self.report is None:
            return
        terminalreporter.section("suitekit partition")
        terminalreporter.write_line(self.report.table())
        if not self.report.ok:
            error = PartitionError(unowned=self.report.unowned, overlapping=self.report.overlapping)
            terminalreporter.write_line(str(error), red=True, bold=True)

    def _guard_lines(self, terminalreporter: TerminalReporter) -> None:
        """The processes the tests left running, and a session stopped at its deadline."""
        if self.guard is None or self.suite is None:
            return
        if self.guard.stopped:
            terminalreporter.write_line(_processes.describe(self.guard.stopped), yellow=True)
        if self.guard.expired:
            deadline = plan.session_deadline(self.suite)
            terminalreporter.write_line(
                f"suitekit: suite {self.suite.name!r} was stopped at its deadline of "
                f"{deadline.value:g}s (the stacks of what ran are above): it fails",
                red=True,
                bold=True,
            )

    def _flaky_sections(self, terminalreporter: TerminalReporter, ledger: Ledger) -> None:
        """The flaky tests, the quarantined tests, and what could not be written."""
        if lines := ledger.flaky_lines():
            terminalreporter.section("suitekit flaky", yellow=True)
            for line in lines:
                terminalreporter.write_line(line)
        if lines := ledger.quarantine_lines():
            terminalreporter.section("suitekit quarantine", yellow=True)
            for line in lines:
                terminalreporter.write_line(line)
        if self.finish_error is not None:
            terminalreporter.write_line(self.finish_error, red=True, bold=True)

    def _finish_run(self, session: pytest.Session, ledger: Ledger) -> None:
        """Add every attempt to pytest's JUnit file and write the run log."""
        junit = session.config.option.xmlpath
        try:
            if junit and ledger.needs_rewrite():
                from suitekit.reporting._attempts import rewrite_junit  # noqa: PLC0415

                prefix = session.config.option.junitprefix
                rewrite_junit(Path(junit), ledger.tests(), prefix=prefix)
            if self.run.run_log is not None:
                workers = int(getattr(session.config.option, "numprocesses", None) or 0)
                ledger.run_log(seed=self.run.seed, workers=workers).write(self.run.run_log)
        except SuitekitError as error:
            self.finish_error = f"suitekit: {error}"
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    @pytest.hookimpl(trylast=True)  # after pytest's junitxml has written its file
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """A worker reports its resources and order; in partition mode the exit code says it.

        The controller of a suite run adds the attempts to the JUnit file and writes the run log.
        """
        if self.ledger is not None:
            self._finish_run(session, self.ledger)
        _say_dead_servers(session)
        if self.guard is not None and self.guard.controller:
            # xdist's workers are gone (its sessionfinish ran before this trylast one), the
            # databases not yet dropped (that is unconfigure's): what is left is the tests'.
            self.guard.stop_strays()
            if self.guard.expired:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED  # a failure, not Ctrl-C's 2
                return
        output = getattr(session.config, "workeroutput", None)
        resources = services.current()
        if output is not None and resources is not None:
            output["suitekit_worker"] = resources.describe()
        if output is not None and self.order_line is not None:
            output["suitekit_order"] = self.order_line
        junit = session.config.option.xmlpath if self.suite is not None else None
        if junit and output is None:
            # How these durations were measured, for the durations store (see suitekit report).
            workers = getattr(session.config.option, "numprocesses", None) or 1
            sidecar = measured_with(Path(junit))
            sidecar.parent.mkdir(parents=True, exist_ok=True)
            sidecar.write_text(
                json.dumps({"workers": int(workers), "cpus": os.cpu_count() or 1}),
                encoding="utf-8",
            )
        planned = self.shard_table is not None and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED
        if planned or (self.empty_shard and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED):
            # More shards than units: CI's matrix is fixed, and an empty part is not a failure.
            session.exitstatus = pytest.ExitCode.OK
        if self.report is None or exitstatus not in (
            pytest.ExitCode.OK,
            pytest.ExitCode.NO_TESTS_COLLECTED,
        ):
            return
        session.exitstatus = pytest.ExitCode.OK if self.report.ok else pytest.ExitCode.TESTS_FAILED


def _shard(config: pytest.Config) -> sharding.ShardSpec | None:
    """The shard ``--shard`` or ``SUITEKIT_SHARD`` selects, if any.

    Raises:
        pytest.UsageError: The value is not ``K/N``.
    """
    given = config.getoption("suitekit_shard")
    try:
        found = sharding.shard_from(
            [f"{sharding.SHARD_OPTION}={given}"] if given is not None else [], os.environ
        )
    except SuitekitError as error:
        raise pytest.UsageError(str(error)) from None
    return None if found is None else found.value


def _worker(report: pytest.CollectReport | pytest.TestReport) -> str:
    """The xdist worker a report came from (``gw0``), or ``main`` without xdist."""
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    return str(getattr(gateway, "id", None) or getattr(report, "worker_id", None) or "main")


def _failure_line(report: pytest.CollectReport | pytest.TestReport) -> str:
    """The first line of a report's failure: its exception's message when it has one."""
    crash = getattr(report.longrepr, "reprcrash", None)
    return first_line(crash.message if crash is not None else str(report.longrepr))


def _collect_error(report: pytest.CollectReport) -> str:
    """The real error of a collection failure: the exception, not pytest's preamble.

    A module that fails to import is reported as ``ImportError while importing test module
    ...`` with the exception on the traceback's last ``E`` line; a conftest's failure has it as
    the report's crash message.
    """
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return first_line(crash.message)
    text = report.longreprtext
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return errors[-1] if errors and errors[-1] else first_line(text)


def _failed(report: pytest.TestReport) -> bool:
    """Whether a report failed, a quarantined failure (reported as a skip) included."""
    return report.failed or bool(getattr(report, "suitekit_quarantined", None))


def _forget_failed_setup(item: pytest.Item) -> None:
    """Make the next attempt of ``item`` run again what failed to set it up.

    pytest keeps a fixture's exception until the fixture's scope ends, and a collector's
    failed setup until the collector is torn down; an attempt tears down only what ``nextitem``
    does not share, so a failed module, class or session fixture (or a failed package setup)
    would fail every retry again without running. This finishes each failed fixture of the
    item (running its finalizers, as the end of its scope would) and tears down the
    collectors whose setup failed. pytest has no public API for either.
    """
    info = getattr(item, "_fixtureinfo", None)
    failed = [
        fixturedef
        for fixturedefs in getattr(info, "name2fixturedefs", {}).values()
        for fixturedef in fixturedefs
        # (value, cache key, exception): a failed fixture keeps its exception.
        if fixturedef.cached_result is not None and fixturedef.cached_result[2] is not None
    ]
    if failed:
        if getattr(item, "_request", None) is False:
            # runtestprotocol drops the item's request after each run and makes a new one
            # before the next: make it now, for the fixtures' finalizers.
            item._initrequest()  # type: ignore[attr-defined]  # noqa: SLF001 - see above
        request = getattr(item, "_request", None)
        for fixturedef in failed if request is not None else ():  # functions and doctests
            # Its setup failed part way: what its finalizers find to complain of is no
            # outcome of this test, and the retry reports what setting it up again does.
            with contextlib.suppress(Exception):
                fixturedef.finish(request)
    stack = getattr(getattr(item.session, "_setupstate", None), "stack", None)
    if not isinstance(stack, dict):
        return
    # {collector: (finalizers, exception)}, outermost first; nothing is set up below a
    # collector whose setup failed, so it is the last one.
    broken = next((node for node, (_, error) in stack.items() if error is not None), None)
    while broken is not None and broken in stack:
        _, (finalizers, _) = stack.popitem()
        while finalizers:
            with contextlib.suppress(Exception):  # as for a failed fixture, above
                finalizers.pop()()


def _rearm_timeout(item: pytest.Item) -> None:
    """Give a retried attempt its own per-test timeout.

    pytest-timeout arms one timer around the whole run protocol, which here holds every
    attempt: the first attempt's timeout would spend it, and a retry that hangs would hang.
    Its ``pytest_timeout_*_timer`` hooks are its documented way to arm a timer.
    """
    timeout = item.config.pluginmanager.get_plugin("timeout")
    if timeout is None:
        return
    # Its settings of the item (marker, option, ini): it has no public function for them.
    settings = timeout._get_item_settings(item)  # noqa: SLF001 - see above
    if settings.timeout and not settings.func_only:  # func_only timers are per call already
        item.ihook.pytest_timeout_cancel_timer(item=item)
        item.ihook.pytest_timeout_set_timer(item=item, settings=settings)


def _mark(report: pytest.TestReport, **attributes: object) -> None:
    """Give a report suitekit's attributes; xdist carries them to the controller.

    A report's extra attributes are part of its serialised form (``TestReport(**extra)``).
    """
    vars(report).update(attributes)


def _usage_problem(config: pytest.Config, items: list[pytest.Item], message: str) -> None:
    """Stop the run with a usage error found while collecting.

    An xdist worker cannot raise one (the controller would see a crashed worker), so it runs
    nothing and sends the message as a failed collection report, which the controller raises.

    Raises:
        pytest.UsageError: In the only process (no xdist).
    """
    if not hasattr(config, "workerinput"):
        raise pytest.UsageError(message)
    items.clear()
    report = pytest.CollectReport("", "failed", message, [], suitekit_usage_error=message)
    config.hook.pytest_collectreport(report=report)


def _group(item: pytest.Item) -> str | None:
    """The item's ``xdist_group`` name, as ``--dist loadgroup`` reads it."""
    mark = item.get_closest_marker("xdist_group")
    if mark is None:
        return None
    name = mark.args[0] if mark.args else mark.kwargs.get("name")
    return str(name) if name is not None else None


def _register_markers(config: pytest.Config, project: Project) -> None:
    owners: dict[str, list[str]] = {}
    for suite in project.suites:
        if suite.marker:
            for name in MarkerExpression.compile(suite.marker).names:
                owners.setdefault(name, []).append(suite.name)
    for name, suites in owners.items():
        config.addinivalue_line(
            "markers", f"{name}: selects tests for the suitekit suite(s) {', '.join(suites)}"
        )


def _host_port(url: str) -> str:
    """``host:port`` of a URL, without credentials (for headers)."""
    tail = url.split("@", 1)[-1].split("//", 1)[-1]
    return tail.split("/", 1)[0] or "-"


class _AutoWorkers:
    """The controller's decision of ``workers = "auto"``, made while the run goes on.

    After collection, from the suite's recorded durations when most of the collected tests
    have one (:func:`~suitekit.sharding.choose_workers` on the tests this process selected,
    the shard's own when it runs a shard), else from the run itself: the tests run here, and
    each time the elapsed time reaches 0.5, 1, 2, 4 ... seconds the rest is predicted from the
    tests so far (:func:`~suitekit.sharding._workers.decide_from_sample`). When workers pay,
    one more test runs here (tearing its fixtures down), and the rest goes to an xdist session
    started in this process, whose workers leave out what already ran. The machine's xdist
    costs are only looked up (or measured, once) when the most xdist could save is more than
    its cheapest start-up.
    """

    def __init__(self, *, cpus: int, dist: str) -> None:
        """Keep the CPU budget and the ``--dist`` mode that workers would run with."""
        self.cpus = cpus
        self.dist = dist
        self.session_started = time.monotonic()
        self.body_seconds = 0.0
        self.line: str | None = None
        self.promoted = False
        self._calibration: sharding.Calibration | None = None

    def run(self, plugin: SuitekitPlugin, session: pytest.Session) -> bool | None:
        """Decide and run; ``None`` leaves the whole run to pytest's own loop."""
        collect_seconds = time.monotonic() - self.session_started
        items = session.items
        choice = self._from_durations(plugin, items)
        if choice is not None:
            self.line = f"suitekit: workers auto: -n {choice.workers} ({choice.reason()})"
            return self._promote(plugin, session, choice.workers, ()) if choice.workers else None
        started = time.monotonic()
        self.body_seconds = 0.0
        from suitekit.sharding._workers import SAMPLE_SECONDS, Sample, next_look  # noqa: PLC0415

        look = SAMPLE_SECONDS
        for index, item in enumerate(items):
            elapsed = time.monotonic() - started
            if elapsed >= look and index + 1 < len(items):
                look = next_look(elapsed)
                sample = Sample(
                    ran=index,
                    remaining=len(items) - index - 1,
                    elapsed=elapsed,
                    body_seconds=self.body_seconds,
                    collect_seconds=collect_seconds,
                    load=os.getloadavg()[0],
                )
                choice = self._from_sample(session, sample)
                self.line = f"suitekit: workers auto: -n {choice.workers} ({choice.reason()})"
                if choice.workers:
                    # One more test here, told that none follows: it tears everything down.
                    item.config.hook.pytest_runtest_protocol(item=item, nextitem=None)
                    _stop_if_asked(session)
                    done = tuple(i.nodeid for i in items[: index + 1])
                    return self._promote(plugin, session, choice.workers, done)
            nextitem = items[index + 1] if index + 1 < len(items) else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            _stop_if_asked(session)
        if self.line is None:
            self.line = (
                f"suitekit: workers auto: -n 0 (all {len(items)} tests ran in less than "
                f"{SAMPLE_SECONDS:g}s: nothing to share)"
            )
        return True

    def _from_durations(
        self, plugin: SuitekitPlugin, items: list[pytest.Item]
    ) -> sharding.WorkerChoice | None:
        """The choice from recorded durations, when most of the tests have one."""
        stored = plugin._durations()  # noqa: SLF001 - the plugin's own cache of the store
        if not stored:
            return None
        cases = [sharding.Case(node_id=item.nodeid) for item in items]
        estimates = sharding.estimate(cases, stored)
        if estimates.known * 2 < len(items):
            return None
        from suitekit.sharding._units import unit_key  # noqa: PLC0415 - only here
        from suitekit.sharding._workers import DEFAULT_CALIBRATION  # noqa: PLC0415

        units: dict[str, list[float]] = {}
        for item in items:
            key = unit_key(item.nodeid, self.dist, _group(item))  # type: ignore[arg-type]
            units.setdefault(key, []).append(estimates.seconds[item.nodeid])
        total = sum(estimates.seconds.values())
        if total * (1 - 1 / self.cpus) < _CHEAPEST_STARTUP:
            calibration = DEFAULT_CALIBRATION  # xdist cannot win: no measuring
        else:
            calibration = self._costs(plugin.config)
        return sharding.choose_workers(
            list(units.values()), cpus=self.cpus, calibration=calibration
        )

    def _from_sample(self, session: pytest.Session, sample: Sample) -> sharding.WorkerChoice:
        """The choice for the rest of the run, from the tests run so far."""
        from suitekit.sharding._workers import (  # noqa: PLC0415 - only under "auto"
            DEFAULT_CALIBRATION,
            decide_from_sample,
        )

        gain = sample.remaining * sample.mean_body * (1 - 1 / self.cpus)
        if gain < _CHEAPEST_STARTUP + sample.collect_seconds:
            calibration = DEFAULT_CALIBRATION  # xdist cannot win: no measuring
        else:
            calibration = self._costs(session.config)
        return decide_from_sample(sample, cpus=self.cpus, calibration=calibration)

    def _costs(self, config: pytest.Config | None) -> sharding.Calibration:
        """This machine's xdist costs: cached, measured once, or a slow machine's."""
        if self._calibration is None:
            from suitekit.sharding._calibrate import obtain  # noqa: PLC0415 - rarely needed
            from suitekit.sharding._workers import DEFAULT_CALIBRATION  # noqa: PLC0415

            reporter = config.pluginmanager.get_plugin("terminalreporter") if config else None

            def say(line: str) -> None:
                if reporter is not None:
                    reporter.write_line(line)

            found = obtain(os.environ, say=say)
            self._calibration = found if found is not None else DEFAULT_CALIBRATION
        return self._calibration

    def _promote(
        self, plugin: SuitekitPlugin, session: pytest.Session, workers: int, done: tuple[str, ...]
    ) -> bool:
        """Start ``workers`` xdist workers in this process and let them run the rest."""
        from xdist.dsession import (  # type: ignore[import-untyped]  # noqa: PLC0415 - only here
            DSession,
        )

        config = session.config
        config.option.numprocesses = workers
        config.option.dist = self.dist
        config.option.tx = ["popen"] * workers
        plugin.ran_here = done
        self.promoted = True
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.showfspath = False
            if self.line is not None:
                reporter.write_line(self.line)
        dsession = DSession(config)
        config.pluginmanager.register(dsession, "dsession")
        dsession.pytest_sessionstart(session)
        return bool(dsession.pytest_runtestloop())


_CHEAPEST_STARTUP: Final = 0.3
"""Seconds below which no machine starts two xdist workers: less to gain is never worth it."""


def _stop_if_asked(session: pytest.Session) -> None:
    """Stop the run as pytest's own loop does after a test (``-x``, ``--maxfail``)."""
    if session.shouldfail:
        raise session.Failed(session.shouldfail)
    if session.shouldstop:
        raise session.Interrupted(session.shouldstop)
