"""The services and per-worker resources of one process of a suite run.

The controller (or the only process) provides the servers and prepares the run; each process
that runs tests acquires its own resources (database, Redis database, folders, ports), before
any conftest is imported. :class:`Isolation` is kept under :data:`ISOLATION_KEY`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

import pytest

from suitekit import plan, services
from suitekit._handoff import ENV_TEMPLATE
from suitekit._model import Project, Suite
from suitekit._signals import signals_as_interrupt
from suitekit.errors import SuitekitError
from suitekit.pytest_plugin import _django
from suitekit.pytest_plugin._options import auto_suite, project_of
from suitekit.pytest_plugin._shared import host_port, restore, say, usage_problem

if TYPE_CHECKING:
    from suitekit.services import TemplateInputs

__all__ = [
    "ISOLATION_KEY",
    "STARTUP_HASHSEED",
    "Isolation",
    "early_suite",
    "prepare",
    "run_line",
    "say_dead_servers",
]

ISOLATION_KEY: Final = pytest.StashKey["Isolation"]()
STARTUP_HASHSEED: Final = os.environ.get("PYTHONHASHSEED", "random")
"""This process's own hash seed: one set later is the workers'."""


class Isolation:
    """The services and per-worker resources of one process of a suite run."""

    def __init__(
        self,
        project: Project,
        suite: Suite,
        *,
        template: bool,
        controller_only: bool,
        alone: bool = False,
    ) -> None:
        """Keep what the process isolates; nothing is acquired yet.

        ``alone``: a suite run without xdist, now or later (not suitekit's ``auto``): its one
        process sets its own database up rather than copying a template made for it alone.
        """
        self.project = project
        self.suite = suite
        self.template = template
        self.controller_only = controller_only
        self.alone = alone
        self.stack = contextlib.ExitStack()
        self.acquired: services.Acquired | None = None
        self.controller = False
        self.worker = os.environ.get("PYTEST_XDIST_WORKER")
        self.dead: list[str] = []  # servers that stopped answering during the run, said once
        self.failure: str | None = None  # a worker's service that did not start (see start)
        # What keys a Django suite's kept template (controller or only process; see _django).
        self.template_inputs: TemplateInputs | None = None

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
        self.stack.callback(restore, previous)
        os.environ.update(variables)

    def start(self, *, build_template: bool = True) -> None:
        """Provide the servers, prepare the run (the controller), acquire resources (a worker).

        With ``build_template=False`` the controller names the template without building it
        (or checking the servers it was given: the first connection says what is wrong); the
        Django cooperation builds it once Django is set up (under xdist, once the workers
        start).
        """
        atexit.register(self.stop)  # also when pytest ends before it could unconfigure
        # Django's deferred template (build_template False) has its own way for one process.
        alone = self.alone and self.worker is None and build_template
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
                    inputs={"postgres": self.template_inputs} if self.template_inputs else None,
                    alone=alone,
                )
            )
            if self.suite.custom_services:
                # The run's own instances of the project's services (scope = "run"): the
                # workers inherit their variables.
                shared = services.run_services(self.project, self.suite, os.environ)
                self._export(self.stack.enter_context(shared))
        if self.worker is not None or not self.controller_only:
            self.acquired = services.acquire(
                self.project,
                self.suite,
                worker=self.worker or "main",
                environ=os.environ,
                # Copied before the first test, from a template Django's migrate builds
                # once it is set up (see _django): a worker's, or the only process's.
                clone_later=(
                    _django.clones_later() if self.worker is not None else not build_template
                ),
                alone=alone,
            )
            if self.suite.custom_services:
                self._start_services(self.acquired)
            self._export(services.export(self.acquired.resources))

    def _start_services(self, acquired: services.Acquired) -> None:
        """Start this worker's instances of the project's own services.

        In an xdist worker, an instance that does not start does not end the worker: xdist
        would take that for a crash and start another, eight times over. The worker keeps its
        resources (the conftests see its own database, not the shared one), runs no test, and
        the controller stops the run with the message (see :class:`_DeferredFailure`).
        """
        try:
            services.start_services(acquired, self.project, self.suite, os.environ)
        except SuitekitError as error:
            if self.worker is None:
                raise
            self.failure = f"suitekit: suite {self.suite.name!r}: {error}"

    def materialize(self) -> None:
        """Make this process's database now, if it was only named so far."""
        if self.acquired is not None:
            self.acquired.materialize()

    def check_workers(self, config: pytest.Config) -> None:
        """Refuse a run whose tests would run in a controller that holds no resources.

        xdist turns ``-n auto`` into no workers at all under ``--pdb``; the tests would then
        see the shared server's database instead of one of their own.

        Raises:
            pytest.UsageError: xdist runs no workers, and this process holds no resources.
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


def early_suite(early_config: pytest.Config) -> tuple[Project, Suite] | None:
    """The project and the suite this run runs (the partition guard's pseudo-suite), if known.

    ``None`` when either cannot be loaded: ``pytest_configure`` reports that as a usage error.
    """
    name = getattr(early_config.known_args_namespace, "suitekit_suite", None)
    try:
        project = project_of(early_config)
        suite = project.suite(name) if name is not None else plan.collection_suite(project)
    except (SuitekitError, KeyError):
        return None
    return project, suite


def prepare(early_config: pytest.Config, project: Project, suite: Suite) -> Isolation | None:
    """The isolation this process needs (kept under :data:`ISOLATION_KEY`), not started yet."""
    options = early_config.known_args_namespace
    name = getattr(options, "suitekit_suite", None)
    if (
        not suite.services
        and not suite.custom_services
        and not project.isolation.dirs
        and not project.isolation.ports
    ):
        return None
    numprocesses = getattr(options, "numprocesses", None)
    # Under suitekit's "auto" the controller runs tests itself until it decides on workers.
    decides = numprocesses == "auto" and name is not None and auto_suite(suite)
    serial = numprocesses in (None, 0, "0")
    isolation = Isolation(
        project,
        suite,
        template=name is not None,
        controller_only=not serial and not decides,
        alone=name is not None and serial,
    )
    early_config.stash[ISOLATION_KEY] = isolation
    if name is not None and isolation.worker is None:
        isolation.template_inputs = _django.template_inputs(early_config, project, suite)
    if suite.custom_services and isolation.worker is not None:
        early_config.pluginmanager.register(_DeferredFailure(isolation), "suitekit-start-failure")
    return isolation


class _DeferredFailure:
    """A worker's service that did not start, told to the controller as a usage error."""

    def __init__(self, isolation: Isolation) -> None:
        self.isolation = isolation

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Run nothing, and send the failure (the controller raises it, see ``usage_problem``)."""
        if self.isolation.failure is not None:
            usage_problem(config, items, self.isolation.failure)


def say_dead_servers(session: pytest.Session) -> None:
    """The controller says which of its servers died during the run; the session then fails."""
    isolation = session.config.stash.get(ISOLATION_KEY, None)
    if isolation is None:
        return
    dead = isolation.check_servers()  # also keeps the cleanup from saying it again
    if session.exitstatus == pytest.ExitCode.USAGE_ERROR:
        # A usage error (a template that could not be built) said what was wrong already:
        # the servers did not stop during a run that never began.
        return
    for line in dead:
        say(session.config, f"suitekit: {line}")
    if dead and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def run_line(config: pytest.Config, suite: Suite) -> str:
    """The run's id, hash seed, servers and template (and, without xdist, the resources)."""
    seed = os.environ.get("PYTHONHASHSEED", "random")
    if seed != STARTUP_HASHSEED and not hasattr(config, "workerinput"):
        # Set for the workers after this process started: its own hashing stays random.
        seed += " (workers; this process: random)"
    parts = [f"run {os.environ.get('SUITEKIT_RUN_ID', '-')}", f"PYTHONHASHSEED={seed}"]
    for service, variable in services.PROVIDED_URL.items():
        if service in suite.services:
            parts.append(f"{service} {host_port(os.environ.get(variable, ''))}")
    if template := os.environ.get(ENV_TEMPLATE):
        parts.append(f"template {template}")
    resources = services.current()
    if resources is not None and config.option.verbose > 0:
        parts.append(resources.describe())
    return "suitekit: " + "; ".join(parts)


def _noting(problems: list[str], step: Callable[[], None]) -> None:
    """Run a cleanup step; a service it cannot reach is noted in ``problems``, not raised."""
    try:
        step()
    except SuitekitError as error:
        problems.append(str(error))
