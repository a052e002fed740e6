"""The project's quarantine in a run: which entry names a test, and entries that name none.

A quarantined test runs; its failure is reported as a skip (``QUARANTINED``) that does not fail
the run, and is rewritten in the JUnit file at the end (:mod:`suitekit.pytest_plugin._retries`).
"""

from __future__ import annotations

import pytest

from suitekit import _quarantine as matching
from suitekit._model import Project, Quarantine
from suitekit.pytest_plugin._shared import ProjectIds, mark

__all__ = ["QuarantineCheck"]


class QuarantineCheck:
    """The quarantine entries of the project, matched against this run's tests."""

    def __init__(self, project: Project, ids: ProjectIds, *, suite_run: bool) -> None:
        """Keep the entries; tests are matched once each, when first asked about."""
        self.project = project
        self.ids = ids
        self.suite_run = suite_run
        # Entries with a ``suite`` name another runner's tests: none of pytest's business.
        self.quarantine = matching.pytest_entries(project.quarantine)
        self._entries: dict[str, Quarantine | None] = {}

    def entry(self, node_id: str) -> Quarantine | None:
        """The quarantine entry that names the test, in a suite run (``None`` otherwise)."""
        if not self.suite_run or not self.quarantine:
            return None
        if node_id not in self._entries:
            entries = self.quarantine
            self._entries[node_id] = matching.entry_for(entries, self.ids.of(node_id))
        return self._entries[node_id]

    def hide(self, report: pytest.TestReport, node_id: str) -> None:
        """Turn a quarantined test's failure into a skip.

        The skip carries ``wasxfail``, so that pytest's JUnit writes it as a skip with a
        message (rewritten at the end of the run into ``suitekit.quarantined``).
        """
        entry = self.entry(node_id)
        if entry is None:
            return
        from suitekit.reporting import WASXFAIL_PREFIX  # noqa: PLC0415 - suite runs only

        mark(
            report,
            suitekit_quarantined=entry.test,
            suitekit_failure=report.longreprtext,
            wasxfail=f"{WASXFAIL_PREFIX}{entry.reason}",
        )
        report.outcome = "skipped"

    def check_everywhere(self, collected: list[str]) -> None:
        """Partition mode collects every test root: an entry that names no test is stale.

        Raises:
            pytest.UsageError: Some entry matches none of the collected tests.
        """
        ids = [self.ids.of(node_id) for node_id in collected]
        stale = matching.unmatched(self.quarantine, ids)
        if stale:
            where = f"the tests under {', '.join(self.project.tests)}"
            error = matching.unmatched_error(stale, file=self.project.config_file, where=where)
            raise pytest.UsageError(str(error))

    def stale_in_suite(
        self, config: pytest.Config, items: list[pytest.Item], collected: list[str], suite: str
    ) -> str | None:
        """In a suite run, the error for entries that name a file it collected but no test.

        A suite collects only its own folders, so an entry for another suite's file cannot be
        judged here; an entry that names one of this run's files but none of its tests can.
        Only runs that collect what suitekit chose (no paths, ``-k`` or ``-m`` of the user's)
        are judged, since those narrow the collection below what an entry may name. The
        collection is taken before anything deselects from it (``--deselect``, ``--lf``,
        ``--sw``); an item a hook added since counts too.
        """
        if not self.quarantine:
            return None
        narrowed = config.args_source == pytest.Config.ArgsSource.ARGS
        if narrowed or config.option.keyword or config.option.markexpr:
            return None
        every = dict.fromkeys([*collected, *(item.nodeid for item in items)])
        ids = [self.ids.of(node_id) for node_id in every]
        stale = matching.stale_in_files(self.quarantine, ids)
        if not stale:
            return None
        where = f"the tests of suite {suite!r} in the files it names"
        return str(matching.unmatched_error(stale, file=self.project.config_file, where=where))
