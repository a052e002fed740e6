"""suitekit's pytest plugin (the ``pytest11`` entry point ``suitekit``).

It does three things, all driven by the project's ``[tool.suitekit]``:

- registers every marker that a suite's marker expression names, so ``--strict-markers`` works;
- with ``--suitekit-suite NAME``, runs only that suite's tests (its paths when no paths are
  given, then its marker expression), reporting the rest as deselected;
- with ``--suitekit-partition``, runs nothing and checks that every test under the project's test
  roots belongs to exactly one suite, printing each suite's size.

Module-level hooks only wire up a :class:`SuitekitPlugin` kept under a :class:`pytest.StashKey`.
This module imports neither nox nor invoke (a test checks it).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
from collections.abc import Generator, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Final

import pytest

from suitekit import plan, services, sharding
from suitekit._markexpr import MarkerExpression
from suitekit._model import DIST_MODES, Project, Suite
from suitekit._selection import CollectedTest, PartitionReport, SuiteSelector, partition
from suitekit._signals import signals_as_interrupt
from suitekit.config import find_config, load_project
from suitekit.errors import ConfigError, PartitionError, SuitekitError
from suitekit.reporting._report import measured_with
from suitekit.services import WorkerResources

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter

__all__ = ["SuitekitPlugin"]

_PLUGIN_KEY: Final = pytest.StashKey["SuitekitPlugin"]()
_ISOLATION_KEY: Final = pytest.StashKey["_Isolation"]()
_STARTUP_HASHSEED: Final = os.environ.get("PYTHONHASHSEED", "random")


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
    isolation = _prepare(early_config) if name is not None or collecting else None
    if isolation is None:
        return (yield)
    try:
        isolation.start()
        # The conftests load here; if that (or anything before configure) fails, pytest never
        # unconfigures, so the isolation is given back right here.
        return (yield)
    except SuitekitError as error:
        isolation.stop()
        message = f"suitekit: suite {name!r}: {error}"
        raise pytest.UsageError(message) from None
    except BaseException:
        isolation.stop()
        raise


def _prepare(early_config: pytest.Config) -> _Isolation | None:
    options = early_config.known_args_namespace
    name = getattr(options, "suitekit_suite", None)
    explicit = getattr(options, "suitekit_project", None)
    try:
        project = load_project(Path(explicit).resolve() if explicit else early_config.rootpath)
        suite = project.suite(name) if name is not None else plan.collection_suite(project)
    except (SuitekitError, KeyError):
        return None  # pytest_configure reports it as a usage error
    if not suite.services and not project.isolation.dirs and not project.isolation.ports:
        return None
    numprocesses = getattr(options, "numprocesses", None)
    isolation = _Isolation(
        project,
        suite,
        template=name is not None,
        controller_only=numprocesses not in (None, 0, "0"),
    )
    early_config.stash[_ISOLATION_KEY] = isolation
    return isolation


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Give back what this process acquired; a controller also cleans up after its workers."""
    isolation = config.stash.get(_ISOLATION_KEY, None)
    if isolation is not None:
        isolation.stop()


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

    def _export(self, variables: Mapping[str, str]) -> None:
        """Set ``variables`` in this process; put the old values back when it stops."""
        previous = {name: os.environ.get(name) for name in variables}
        self.stack.callback(_restore, previous)
        os.environ.update(variables)

    def start(self) -> None:
        atexit.register(self.stop)  # also when pytest ends before it could unconfigure
        if self.worker is None:
            # The controller (or the only process): servers, run id, hash seed, template.
            self.controller = True
            self.stack.enter_context(signals_as_interrupt(signal.SIGTERM))
            provided = self.stack.enter_context(
                services.provide(self.project, self.suite.services, os.environ)
            )
            self._export(provided)
            self._export(
                services.prepare_run(self.project, self.suite, os.environ, template=self.template)
            )
        if self.worker is not None or not self.controller_only:
            self.acquired = services.acquire(
                self.project, self.suite, worker=self.worker or "main", environ=os.environ
            )
            self._export(services.export(self.acquired.resources))

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
        try:
            if self.acquired is not None:
                acquired, self.acquired = self.acquired, None
                acquired.release()
        finally:
            try:
                if self.controller:
                    self.controller = False
                    services.finish_run(self.project, self.suite, os.environ)
            finally:
                self.stack.close()
                atexit.unregister(self.stop)


def _restore(previous: Mapping[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


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
    config.stash[_PLUGIN_KEY] = plugin
    config.pluginmanager.register(plugin, "suitekit-plugin")


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


class SuitekitPlugin:
    """The stateful half of the plugin, registered for projects that declare suites."""

    def __init__(
        self,
        project: Project,
        suite: Suite | None,
        *,
        check_partition: bool,
        shard: sharding.ShardSpec | None = None,
    ) -> None:
        """Keep the project and the selected mode."""
        self.project = project
        self.suite = suite
        self.check_partition = check_partition
        self.shard = shard
        self.selector = SuiteSelector.of(suite) if suite is not None else None
        self.selected = 0
        self.deselected = 0
        self.report: PartitionReport | None = None
        self.worker_lines: list[str] = []
        self.shard_line: str | None = None
        self.empty_shard = False
        self.shard_table: str | None = None
        self.config: pytest.Config | None = None
        self.stored: Mapping[str, sharding.Measurement] | None = None

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
        plugin = cls(project, suite, check_partition=check_partition, shard=shard)
        plugin.config = config
        return plugin

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        """One line saying what suitekit selected and with how many workers."""
        if self.suite is None:
            if self.check_partition:
                return [f"suitekit: checking the partition of {len(self.project.suites)} suites"]
            return []
        selection = []
        if self.suite.paths:
            selection.append(f"paths {', '.join(self.suite.paths)}")
        if self.suite.marker:
            selection.append(f"marker {self.suite.marker!r}")
        workers = getattr(config.option, "numprocesses", None) or 0
        why = os.environ.get("SUITEKIT_WORKERS_ORIGIN", "")
        xdist = f"{workers} xdist workers, dist {config.option.dist}" if workers else "no xdist"
        if why:
            xdist += f" ({why})"
        if self.shard is not None:
            selection.append(f"shard {self.shard} (balanced by recorded durations)")
        lines = [f"suitekit: suite {self.suite.name!r}: {'; '.join(selection)}; {xdist}"]
        if config.option.verbose > 0 or self.suite.services or self.project.isolation.dirs:
            lines.append(self._run_line(config))
        return lines

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

    @pytest.hookimpl(trylast=True)  # after conftest hooks that add markers
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Keep the suite's tests (suite mode) or check the partition (partition mode)."""
        del session
        if self.check_partition:
            self.report = partition(self.project, (self._describe(item) for item in items))
            config.hook.pytest_deselected(items=list(items))
            items.clear()
            return
        if self.selector is None:
            return
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            (keep if self.selector.selects(self._describe(item)) else drop).append(item)
        count: int | None = config.getoption("suitekit_plan_shards")
        if count is not None:
            self.shard_table = self._plan(keep, count).table(self.selector.suite.name)
            drop, keep = drop + keep, []
        elif self.shard is not None:
            keep, elsewhere = self._take_shard(keep, self.shard)
            drop += elsewhere
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
        self.selected, self.deselected = len(keep), len(drop)
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None and self._durations():
            dist = str(workerinput.get("suitekit_dist", "load"))
            self._slowest_first(config, items, int(workerinput.get("workercount", 1)), dist)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:  # noqa: ANN401 - xdist's WorkerController
        """Tell each xdist worker the run's real ``--dist`` mode (workers see ``"no"``)."""
        dist = self.config.option.dist if self.config is not None else "load"
        node.workerinput["suitekit_dist"] = dist if dist in DIST_MODES else "load"

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

    def _slowest_first(
        self, config: pytest.Config, items: list[pytest.Item], workers: int, dist: str
    ) -> None:
        """Order the collection so that xdist starts the longest tests first."""
        assert self.suite is not None  # noqa: S101 - only suite runs get here
        cases = [sharding.Case(node_id=item.nodeid) for item in items]
        estimates = sharding.estimate(cases, self._durations())
        by_id = {item.nodeid: item for item in items}
        order = sharding.slowest_first(
            [item.nodeid for item in items],
            estimates.seconds,
            dist=dist if dist in DIST_MODES else "load",  # type: ignore[arg-type]  # checked
            workers=workers,
            groups={item.nodeid: g for item in items if (g := _group(item))},
            max_chunk=config.getoption("maxschedchunk", None),
        )
        items[:] = [by_id[node] for node in order]

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

    def _describe(self, item: pytest.Item) -> CollectedTest:
        try:
            relative = item.path.resolve().relative_to(self.project.root.resolve())
            path = PurePosixPath(relative.as_posix())
        except ValueError:
            path = PurePosixPath("/", *item.path.parts[1:])  # outside the project
        markers = frozenset(mark.name for mark in item.iter_markers())
        return CollectedTest(node_id=item.nodeid, path=path, markers=markers)

    def pytest_terminal_summary(self, terminalreporter: TerminalReporter) -> None:
        """Print what each worker got (with -v); in partition mode, the partition."""
        if self.worker_lines and terminalreporter.config.option.verbose > 0:
            terminalreporter.section("suitekit workers")
            for line in sorted(self.worker_lines):
                terminalreporter.write_line(line)
        if self.shard_table is not None:
            terminalreporter.section("suitekit shards")
            terminalreporter.write_line(self.shard_table)
        if self.report is None:
            return
        terminalreporter.section("suitekit partition")
        terminalreporter.write_line(self.report.table())
        if not self.report.ok:
            error = PartitionError(unowned=self.report.unowned, overlapping=self.report.overlapping)
            terminalreporter.write_line(str(error), red=True, bold=True)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """A worker reports its resources; in partition mode the exit code tells the result."""
        output = getattr(session.config, "workeroutput", None)
        resources = services.current()
        if output is not None and resources is not None:
            output["suitekit_worker"] = resources.describe()
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
