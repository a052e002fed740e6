"""The suite run's progress, written where the runner's live status reads it.

Registered in a suite run when ``SUITEKIT_PROGRESS`` names a file (the runner of ``inv test.all``
and ``suitekit run`` does), and only in the process that sees every result: the controller
under xdist, else the one process. It counts the tests (those of the first worker's collection
under xdist: every worker collects the same), the ended and the failed ones, keeps the first
failure's node id, and estimates the time left: the recorded durations of the tests not yet
ended, shared by the workers, when the store knows them; else the pace so far. The file is
rewritten at most every quarter second, and at once for the first failure and at the end.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest

from suitekit import sharding
from suitekit._progress import Progress

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["ProgressPlugin"]

_EVERY: Final = 0.25  # seconds between two writes of the file


class ProgressPlugin:
    """Writes :class:`suitekit._progress.Progress` for one suite run."""

    def __init__(
        self,
        path: Path,
        stored: Callable[[], Mapping[str, sharding.Measurement]],
        workers: Callable[[], int],
    ) -> None:
        """Write to ``path``; estimate from the ``stored`` durations, shared by ``workers``.

        ``workers`` is asked each time: ``workers = "auto"`` decides the count after this
        plugin is made.
        """
        self.path = path
        self.stored = stored
        self.workers = workers
        self.ids: tuple[str, ...] = ()
        self.ended: set[str] = set()
        self.failed: set[str] = set()
        self.first_failure = ""
        self.started = 0.0
        self.written = 0.0

    def collected(self, ids: Sequence[str]) -> None:
        """The tests of the run are known: write the total."""
        if self.ids:
            return
        self.ids = tuple(ids)
        self.started = time.monotonic()
        self.write(force=True)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Without xdist, the one process's collection (after every deselection)."""
        if session.config.pluginmanager.hasplugin("dsession"):
            return  # the controller collects nothing: the workers say
        self.collected([item.nodeid for item in session.items])

    def pytest_xdist_node_collection_finished(self, node: object, ids: Sequence[str]) -> None:
        """Under xdist, a worker's collection: each worker collects the whole run."""
        del node
        self.collected(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count a test when it ends; keep the first failure."""
        if report.failed and report.nodeid not in self.failed:
            self.failed.add(report.nodeid)
            if not self.first_failure:
                self.first_failure = report.nodeid
                self.write(force=True)
        if report.when == "teardown":
            self.ended.add(report.nodeid)
            self.write()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        """The last figures."""
        self.write(force=True)

    def eta(self) -> float | None:
        """Seconds left: the recorded times of the tests not ended, else the pace so far."""
        left = [node_id for node_id in self.ids if node_id not in self.ended]
        if not left:
            return 0.0
        try:
            known = {key: m.serial_seconds for key, m in self.stored().items()}
        except pytest.UsageError:  # an unreadable store: said where the run reads it first
            known = {}
        if known:
            import statistics  # noqa: PLC0415 - with recorded durations only

            typical = statistics.median(known.values())
            seconds = sum(known.get(sharding.case_key(node_id), typical) for node_id in left)
            return seconds / max(self.workers(), 1)
        done = len(self.ended)
        if not done:
            return None
        return (time.monotonic() - self.started) / done * len(left)

    def write(self, *, force: bool = False) -> None:
        """Rewrite the file (at most every :data:`_EVERY` seconds unless ``force``)."""
        now = time.monotonic()
        if not force and now - self.written < _EVERY:
            return
        self.written = now
        progress = Progress(
            total=len(self.ids),
            done=min(len(self.ended), len(self.ids)),
            failed=len(self.failed),
            first_failure=self.first_failure,
            eta=self.eta(),
        )
        # Replaced whole, so the reader never sees a part; not synced to disk, as a report is:
        # it lives as long as the run, in the runner's private folder, one writer only.
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            with os.fdopen(os.open(temporary, flags, 0o600), "w", encoding="utf-8") as handle:
                handle.write(progress.to_json())
            temporary.replace(self.path)
        except OSError:  # the live status is a courtesy: a run never fails for it
            return
