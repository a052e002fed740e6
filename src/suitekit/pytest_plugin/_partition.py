"""The partition guard: every test belongs to exactly one suite.

Two ways. ``--suitekit-partition`` runs nothing and checks what it collected
(:class:`PartitionPlugin`). In a whole run (the runner names a folder in
``SUITEKIT_COLLECTIONS``) each suite records what it collected and selected
(:func:`record_collection`), and the runner checks the records; a crash before collection is
recorded too (:func:`record_crash`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from suitekit import plan
from suitekit._files import write_text_atomic
from suitekit._json import suites_document, write_document
from suitekit._model import Project, Suite
from suitekit._selection import CollectedTest, Collection, PartitionReport, crash_message, partition
from suitekit.errors import PartitionError, SuitekitError
from suitekit.pytest_plugin._isolation import say_dead_servers
from suitekit.reporting import first_line

if TYPE_CHECKING:
    from collections.abc import Callable

    from _pytest.terminal import TerminalReporter

    from suitekit.pytest_plugin._quarantine import QuarantineCheck
    from suitekit.pytest_plugin._shared import Collected, ProjectIds

__all__ = ["PartitionPlugin", "record_collection", "record_crash"]


class PartitionPlugin:
    """``--suitekit-partition``: check the partition of what was collected, and run nothing."""

    def __init__(
        self,
        project: Project,
        *,
        collected: Collected,
        quarantine: QuarantineCheck,
        describe: Callable[[pytest.Item], CollectedTest],
    ) -> None:
        """Keep what the check needs; nothing is checked yet."""
        self.project = project
        self.collected = collected
        self.quarantine = quarantine
        self.describe = describe
        self.report: PartitionReport | None = None

    def pytest_report_header(self) -> list[str]:
        """One line saying what suitekit checks."""
        return [f"suitekit: checking the partition of {len(self.project.pytest_suites)} suites"]

    @pytest.hookimpl(trylast=True)  # after conftest hooks that add markers
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Check the partition of what was collected, and deselect everything."""
        if self.collected.errors:
            # A partial collection says nothing of the partition: the crash is the news.
            self._record_crash()
        else:
            self.report = partition(self.project, (self.describe(item) for item in items))
            self.quarantine.check_everywhere(self.collected.node_ids)
            json_out: str | None = config.getoption("suitekit_json_out")
            if json_out:  # `suitekit suites --json` prints it
                try:
                    write_document(Path(json_out), suites_document(self.report))
                except SuitekitError as error:
                    raise pytest.UsageError(str(error)) from None
        config.hook.pytest_deselected(items=list(items))
        items.clear()

    def _record_crash(self) -> None:
        """In a whole run, record what the partition session failed to collect, for the runner."""
        folder = os.environ.get(plan.ENV_COLLECTIONS)
        if not folder:
            return
        record = Collection(
            suite=plan.PARTITION_SESSION,
            owned=(),
            others=(),
            complete=False,
            errors=tuple(self.collected.errors),
        )
        name = f"{plan.PARTITION_SESSION}.{os.getpid()}.json"
        with contextlib.suppress(SuitekitError):  # no record: the runner says what it can
            write_text_atomic(Path(folder) / name, record.to_json())

    def pytest_terminal_summary(self, terminalreporter: TerminalReporter) -> None:
        """The partition, or the collection error that kept it from being checked."""
        if self.collected.errors:
            crash = crash_message(self.project, self.collected.errors)
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

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """The exit code says whether the partition holds."""
        say_dead_servers(session)
        if self.report is None or exitstatus not in (
            pytest.ExitCode.OK,
            pytest.ExitCode.NO_TESTS_COLLECTED,
        ):
            return
        session.exitstatus = pytest.ExitCode.OK if self.report.ok else pytest.ExitCode.TESTS_FAILED


def record_collection(
    session: pytest.Session,
    suite: Suite,
    *,
    ids: ProjectIds,
    collected: Collected,
    items: list[pytest.Item],
    keep: list[pytest.Item],
    drop: list[pytest.Item],
) -> bool:
    """Record what this suite collected and selected, for the run's partition guard.

    Only in a whole run (the runner names a folder in ``SUITEKIT_COLLECTIONS``), and once
    per session: by the process that collected first (the only process, the controller
    deciding "auto" workers, or else the first xdist worker). The collection is complete
    when nothing but the suite's own rule removed tests from it, and nothing failed to
    collect.

    Returns:
        Whether this process wrote the record.
    """
    config = session.config
    folder = os.environ.get(plan.ENV_COLLECTIONS)
    if not folder:
        return False
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and (
        workerinput.get("workerid") != "gw0" or workerinput.get("suitekit_recorded")
    ):
        return False
    narrowed = config.args_source == pytest.Config.ArgsSource.ARGS
    complete = (
        not narrowed
        and not session.testsfailed  # a file that failed to collect
        and len(items) >= len(set(collected.node_ids))
    )
    record = Collection(
        suite=suite.name,
        owned=tuple(ids.of(item.nodeid) for item in keep),
        others=tuple(ids.of(item.nodeid) for item in drop),
        complete=complete,
        python_files=tuple(config.getini("python_files")),
        norecursedirs=tuple(config.getini("norecursedirs")),
        errors=tuple(collected.errors),
    )
    name = f"{suite.name}.{os.getpid()}.json"
    with contextlib.suppress(SuitekitError):  # no record: the runner runs the guard itself
        write_text_atomic(Path(folder) / name, record.to_json())
    return True


def record_crash(loaded: tuple[Project, Suite] | None, error: Exception) -> None:
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
