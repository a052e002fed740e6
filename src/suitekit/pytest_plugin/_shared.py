"""What the plugin's concerns share: node ids under the project, report helpers, the terminal.

Plain functions and two small objects (:class:`ProjectIds`, :class:`Collected`); no policy.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from types import MappingProxyType

import pytest

from suitekit import sharding
from suitekit._markexpr import MarkerExpression
from suitekit._model import Project
from suitekit._selection import CollectedTest
from suitekit.errors import SuitekitError
from suitekit.reporting import first_line

__all__ = [
    "Collected",
    "Describer",
    "Durations",
    "ProjectIds",
    "collect_error",
    "failure_line",
    "group",
    "host_port",
    "mark",
    "restore",
    "say",
    "usage_problem",
    "worker_of",
]


class ProjectIds:
    """Node ids with their file relative to the project's root (as quarantine entries are)."""

    def __init__(self, project: Project, rootpath: Path) -> None:
        """Keep the project and pytest's rootdir, which node ids are relative to."""
        self.project = project
        self.rootpath = rootpath
        self._paths: dict[str, str] = {}

    def of(self, node_id: str) -> str:
        """The node id with its file relative to the project's root.

        It is pytest's node id whenever pytest's rootdir is the project's folder.
        """
        path, separator, rest = node_id.partition("::")
        relative = self._paths.get(path)
        if relative is None:
            try:
                found = (self.rootpath / path).resolve().relative_to(self.project.root.resolve())
                relative = found.as_posix()
            except ValueError:
                relative = path  # outside the project: no entry can name it anyway
            self._paths[path] = relative
        return f"{relative}{separator}{rest}"


class Collected:
    """Every item collected, and what failed to collect (a plugin of suite and partition runs).

    The items are noted before pytest or a plugin deselects any (``--deselect``, ``--lf``, ...):
    the quarantine and the partition guard are judged on the whole collection.
    """

    def __init__(self, ids: ProjectIds) -> None:
        """Start with nothing collected."""
        self.ids = ids
        self.node_ids: list[str] = []
        # (path under the project root, the error's message) pairs.
        self.errors: list[tuple[str, str]] = []

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        """Note each collected test."""
        self.node_ids.append(item.nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Note what failed to collect (a worker's usage problem is no collection error)."""
        if report.failed and not getattr(report, "suitekit_usage_error", None):
            where = self.ids.of(report.nodeid) if report.nodeid else "."
            self.errors.append((where, collect_error(report)))


class Describer:
    """What the selection needs of an item: its path under the project, maybe its markers."""

    def __init__(self, project: Project) -> None:
        """Keep the project; each file is resolved once, when first asked about."""
        self.project = project
        self._file_paths: dict[Path, PurePosixPath] = {}
        # Marks' keyword arguments (parametrize's ids, skipif's reason, ...) are collected for
        # every test only when some suite's expression selects by them (device(serial="1")).
        self._kwargs = any(
            MarkerExpression.compile(suite.marker).uses_kwargs
            for suite in project.pytest_suites
            if suite.marker
        )

    def __call__(self, item: pytest.Item, *, markers: bool = True) -> CollectedTest:
        """The item as the selection sees it (its markers only when asked: they cost)."""
        path = self._file_paths.get(item.path)
        if path is None:
            # Resolving is a few system calls: once per file, not once per test.
            try:
                relative = item.path.resolve().relative_to(self.project.root.resolve())
                path = PurePosixPath(relative.as_posix())
            except ValueError:
                path = PurePosixPath("/", *item.path.parts[1:])  # outside the project
            self._file_paths[item.path] = path
        if not markers:
            return CollectedTest(node_id=item.nodeid, path=path, markers=frozenset())
        marks = list(item.iter_markers())
        names = frozenset(mark.name for mark in marks)
        if not self._kwargs:
            return CollectedTest(node_id=item.nodeid, path=path, markers=names)
        found: dict[str, list[Mapping[str, object]]] = {}
        for mark in marks:
            if mark.kwargs:
                found.setdefault(mark.name, []).append(mark.kwargs)
        kwargs = MappingProxyType({name: tuple(given) for name, given in found.items()})
        return CollectedTest(node_id=item.nodeid, path=path, markers=names, kwargs=kwargs)


class Durations:
    """The suite's stored durations, read once (empty without a store)."""

    def __init__(self, project: Project, suite_name: str) -> None:
        """Keep where the store is; nothing is read yet."""
        self.project = project
        self.suite_name = suite_name
        self._stored: Mapping[str, sharding.Measurement] | None = None

    def get(self) -> Mapping[str, sharding.Measurement]:
        """The stored durations of the suite's tests.

        Raises:
            pytest.UsageError: The store cannot be read.
        """
        if self._stored is None:
            store_path = self.project.root / sharding.DURATIONS_FILE
            try:
                store = sharding.DurationStore.load(store_path)
            except SuitekitError as error:
                raise pytest.UsageError(str(error)) from None
            self._stored = store.suites.get(self.suite_name, {})
        return self._stored


def say(config: pytest.Config, line: str) -> None:
    """A line on the terminal (pytest's reporter when there is one, else standard error)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line, red=True)
    else:
        sys.stderr.write(line + "\n")


def restore(previous: Mapping[str, str | None]) -> None:
    """Put environment variables back as ``previous`` had them (``None``: unset)."""
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def mark(report: pytest.TestReport, **attributes: object) -> None:
    """Give a report suitekit's attributes; xdist carries them to the controller.

    A report's extra attributes are part of its serialised form (``TestReport(**extra)``).
    """
    vars(report).update(attributes)


def worker_of(report: pytest.CollectReport | pytest.TestReport) -> str:
    """The xdist worker a report came from (``gw0``), or ``main`` without xdist."""
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    return str(getattr(gateway, "id", None) or getattr(report, "worker_id", None) or "main")


def failure_line(report: pytest.CollectReport | pytest.TestReport) -> str:
    """The first line of a report's failure: its exception's message when it has one."""
    crash = getattr(report.longrepr, "reprcrash", None)
    return first_line(crash.message if crash is not None else str(report.longrepr))


def collect_error(report: pytest.CollectReport) -> str:
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


def usage_problem(config: pytest.Config, items: list[pytest.Item], message: str) -> None:
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


def group(item: pytest.Item) -> str | None:
    """The item's ``xdist_group`` name, as ``--dist loadgroup`` reads it."""
    found = item.get_closest_marker("xdist_group")
    if found is None:
        return None
    name = found.args[0] if found.args else found.kwargs.get("name")
    return str(name) if name is not None else None


def host_port(url: str) -> str:
    """``host:port`` of a URL, without credentials (for headers)."""
    tail = url.split("@", 1)[-1].split("//", 1)[-1]
    return tail.split("/", 1)[0] or "-"
