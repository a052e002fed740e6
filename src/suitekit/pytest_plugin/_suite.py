"""A suite run (``--suitekit-suite NAME``): its selection, its header, and its ordered ends.

:class:`SuitePlugin` keeps the suite's tests (its paths, then its marker expression),
reporting the rest as deselected, then takes the shard and the order (:mod:`._shards`,
:mod:`._order`). It also owns the hooks whose parts must come in one order: the header's
lines, the terminal summary's sections, and the session's end (the JUnit rewrite and run log,
the dead servers, the deadline, then the exit code).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from suitekit import services
from suitekit._handoff import ENV_WORKERS_ORIGIN
from suitekit._layout import Measured
from suitekit._model import DIST_MODES, Project, Sourced, Suite
from suitekit._selection import SuiteSelector
from suitekit.errors import SuitekitError
from suitekit.pytest_plugin._deadline import guard_lines, limits_line
from suitekit.pytest_plugin._isolation import run_line, say_dead_servers
from suitekit.pytest_plugin._partition import record_collection
from suitekit.pytest_plugin._shared import say, usage_problem

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter

    from suitekit.pytest_plugin._auto import AutoWorkers
    from suitekit.pytest_plugin._deadline import Guard
    from suitekit.pytest_plugin._options import Mode
    from suitekit.pytest_plugin._order import Ordering
    from suitekit.pytest_plugin._quarantine import QuarantineCheck
    from suitekit.pytest_plugin._retries import RetriesPlugin
    from suitekit.pytest_plugin._shards import ShardsPlugin
    from suitekit.pytest_plugin._shared import Collected, Describer, ProjectIds
    from suitekit.pytest_plugin._timeline import TimelinePlugin

__all__ = ["Parts", "SuitePlugin"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Parts:
    """The concerns of a suite run that :class:`SuitePlugin` puts in order.

    Attributes:
        ids: Node ids under the project's root.
        collected: Every collected item, and what failed to collect.
        describe: The items as the selection sees them.
        quarantine: The project's quarantine entries.
        retries: Retries and the ledger.
        shards: The shard, or the plan of the shards.
        ordering: The order of the tests.
        auto: The decision of ``workers = "auto"``, or ``None``.
        guard: The deadline and the stray processes' guard, or ``None``.
        timeout: What suitekit gave pytest-timeout (``None``: the user's own, or none).
        timeline: When each test ran, and on which worker (for the sidecar).
    """

    ids: ProjectIds
    collected: Collected
    describe: Describer
    quarantine: QuarantineCheck
    retries: RetriesPlugin
    shards: ShardsPlugin
    ordering: Ordering
    auto: AutoWorkers | None
    guard: Guard | None
    timeout: Sourced[float] | None
    timeline: TimelinePlugin


class SuitePlugin:
    """The selection of a suite run, and the hooks whose parts come in one order."""

    def __init__(self, config: pytest.Config, mode: Mode, suite: Suite, parts: Parts) -> None:
        """Keep the run's mode and its concerns."""
        self.config = config
        self.project: Project = mode.project
        self.mode = mode
        self.suite = suite
        self.parts = parts
        self.selector = SuiteSelector.of(suite)
        self._file_selected: dict[Path, bool] = {}
        self.worker_lines: list[str] = []
        # Whether this process recorded the collection for the partition guard.
        self.recorded = False

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        """One line saying what suitekit selected and with how many workers."""
        workers = getattr(config.option, "numprocesses", None) or 0
        why = os.environ.get(ENV_WORKERS_ORIGIN, "")
        xdist = f"{workers} xdist workers, dist {config.option.dist}" if workers else "no xdist"
        if self.parts.auto is not None:
            xdist = f"workers decided after collection (auto, {self.parts.auto.cpus} CPUs)"
            why = ""
        if why:
            xdist += f" ({why})"
        lines = [
            f"suitekit: suite {self.suite.name!r}: {'; '.join(self._selection())}; {xdist}",
            limits_line(config, self.suite, self.parts.timeout),
        ]
        if config.option.verbose > 0 or self.suite.services or self.project.isolation.dirs:
            lines.append(run_line(config, self.suite))
        return lines

    def _selection(self) -> list[str]:
        """What the header says the run selects: paths, marker, shard, order, retries."""
        suite, run = self.suite, self.mode.run
        selection = []
        if suite.paths:
            selection.append(f"paths {', '.join(suite.paths)}")
        if suite.marker:
            selection.append(f"marker {suite.marker!r}")
        if self.mode.shard is not None:
            selection.append(f"shard {self.mode.shard} (balanced by recorded durations)")
        if run.order_file is not None:
            selection.append(f"order file {run.order_file}")
        elif run.seed is not None:
            selection.append(f"order seed {run.seed}")
        if run.retries:
            selection.append(f"retries {run.retries}")
        elif run.debugger is not None:
            selection.append(f"no retries under {run.debugger}")
        return selection

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        """The controller collects what each worker got (printed with -v)."""
        del error
        output = getattr(node, "workeroutput", None) or {}
        if "suitekit_worker" in output:
            self.worker_lines.append(str(output["suitekit_worker"]))
        if "suitekit_order" in output:
            self.parts.ordering.line = str(output["suitekit_order"])

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:  # noqa: ANN401 - xdist's WorkerController
        """Tell each xdist worker the run's real ``--dist`` mode (workers see ``"no"``)."""
        dist = self.config.option.dist
        node.workerinput["suitekit_dist"] = dist if dist in DIST_MODES else "load"
        if self.recorded:
            node.workerinput["suitekit_recorded"] = True

    @pytest.hookimpl(trylast=True)  # after conftest hooks that add markers
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Keep the suite's tests, then this shard's, in the run's order."""
        parts = self.parts
        problem = parts.quarantine.stale_in_suite(
            config, items, parts.collected.node_ids, self.suite.name
        )
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            (keep if self._selects(item) else drop).append(item)
        if self.mode.run.run_log is None:
            self.recorded = record_collection(
                session,
                self.suite,
                ids=parts.ids,
                collected=parts.collected,
                items=items,
                keep=keep,
                drop=drop,
            )
        count = self.mode.plan_shards
        if count is not None:
            parts.shards.print_plan(keep, count)
            drop, keep = drop + keep, []
        elif self.mode.shard is not None:
            keep, elsewhere = parts.shards.take(keep, self.mode.shard)
            drop += elsewhere
        if problem is None and count is None:
            keep, unlisted, problem = parts.ordering.order(keep)
            drop += unlisted
        if problem is not None:
            usage_problem(config, items, problem)
            return
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep  # also when nothing was dropped: the order may have changed
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None:
            parts.ordering.on_worker(config, items, workerinput)

    def _selects(self, item: pytest.Item) -> bool:
        """Whether the suite owns ``item``; without a marker expression, decided once per file."""
        if self.selector.expression is not None:
            return self.selector.selects(self.parts.describe(item))
        owned = self._file_selected.get(item.path)
        if owned is None:
            owned = self._file_selected[item.path] = self.selector.selects(
                self.parts.describe(item, markers=False)
            )
        return owned

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """An xdist controller turns a worker's usage problem into a usage error.

        Raises:
            pytest.UsageError: A worker found the suite's options or quarantine wrong.
        """
        message = getattr(report, "suitekit_usage_error", None)
        if message and not hasattr(self.config, "workerinput"):
            raise pytest.UsageError(str(message))

    def pytest_terminal_summary(self, terminalreporter: TerminalReporter) -> None:
        """The deadline, the flaky tests, what each worker got (with -v), the shard plan."""
        parts = self.parts
        guard_lines(terminalreporter, parts.guard, self.suite)
        if parts.auto is not None:
            parts.auto.summary(terminalreporter)
        parts.retries.sections(terminalreporter)
        verbose = terminalreporter.config.option.verbose > 0
        if self.worker_lines and verbose:
            terminalreporter.section("suitekit workers")
            for line in sorted(self.worker_lines):
                terminalreporter.write_line(line)
        if parts.ordering.line is not None and verbose:
            terminalreporter.write_line(parts.ordering.line)
        if parts.shards.table is not None:
            terminalreporter.section("suitekit shards")
            terminalreporter.write_line(parts.shards.table)

    @pytest.hookimpl(trylast=True)  # after pytest's junitxml has written its file
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """The attempts into the JUnit file, the dead servers, the deadline, the exit code.

        A worker reports its resources and order to the controller.
        """
        self.parts.retries.finish(session)
        say_dead_servers(session)
        guard = self.parts.guard
        if guard is not None and guard.controller:
            # xdist's workers are gone (its sessionfinish ran before this trylast one), the
            # databases not yet dropped (that is unconfigure's): what is left is the tests'.
            guard.stop_strays()
            if guard.expired:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED  # a failure, not Ctrl-C's 2
                return
        output = getattr(session.config, "workeroutput", None)
        resources = services.current()
        if output is not None and resources is not None:
            output["suitekit_worker"] = resources.describe()
        if output is not None and self.parts.ordering.line is not None:
            output["suitekit_order"] = self.parts.ordering.line
        junit = session.config.option.xmlpath
        if junit and output is None:
            # How these durations were measured, for the durations store (see suitekit report),
            # and when each test ran where, for the report's timeline.
            workers = getattr(session.config.option, "numprocesses", None) or 1
            measured = Measured(
                workers=int(workers),
                cpus=os.cpu_count() or 1,
                predicted=self.parts.shards.predicted,
                timeline=self.parts.timeline.timeline(time.time()),
            )
            try:
                measured.write(Path(junit))
            except SuitekitError as error:  # the store then assumes 1 worker: said, not fatal
                say(session.config, f"suitekit: {error}")
        if self.parts.shards.nothing_to_run(exitstatus):
            # More shards than units: CI's matrix is fixed, and an empty part is not a failure.
            session.exitstatus = pytest.ExitCode.OK
