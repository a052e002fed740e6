"""Where each failing test is: a ``suitekit.location`` property in the suite's JUnit file.

``suitekit report`` annotates a failed test on GitHub at its file and line and names it by its
node id, with a command that runs it again. pytest's default JUnit family (``xunit2``, the one
``junit-10.xsd`` describes) writes neither: a ``<testcase>`` has a mangled ``classname``
(``tests.unit.test_isbn``), no ``file`` and no ``line``, and the schema allows no
``<properties>`` inside it. A test suite's properties are valid, so the controller (or the only
process) of a suite run adds one per test through pytest's own ``LogXML`` (what
``record_testsuite_property`` uses), and the merge copies them byte for byte.

Only a test with a failed report (a failure, an error, a failed attempt that was retried, a
quarantined failure) or a file that failed to collect is located: nothing points at a test
that passed, and a property per test would add bytes and merge time to every large suite for
nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from suitekit.pytest_plugin._shared import ProjectIds
from suitekit.reporting import LOCATION_PROPERTY, location_value

if TYPE_CHECKING:
    from _pytest.junitxml import LogXML

__all__ = ["LocationsPlugin"]


class LocationsPlugin:
    """Locates the failing tests of a suite run in its JUnit file (in the controller only)."""

    def __init__(self, ids: ProjectIds) -> None:
        """Keep the project's node ids; the JUnit writer is found when the session starts."""
        self.ids = ids
        self.xml: LogXML | None = None
        self.prefix: str | None = None
        self.located: set[str] = set()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Find pytest's JUnit writer: only the controller (or the only process) has one."""
        if hasattr(session.config, "workerinput"):
            return
        # pytest registers it under this key when --junitxml is given (and not in workers).
        # Imported here: junitxml imports ElementTree, which a worker must not pay for.
        from _pytest.junitxml import xml_key  # noqa: PLC0415

        self.xml = session.config.stash.get(xml_key, None)
        self.prefix = session.config.option.junitprefix

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Locate a test at its first failed report (a retried attempt's included)."""
        outcome: str = report.outcome  # "rerun" is our own outcome, unknown to pytest's types
        failed = (
            report.failed
            or outcome == "rerun"
            or bool(getattr(report, "suitekit_quarantined", None))
        )
        if self.xml is not None and failed:
            path, lineno, _ = report.location
            self._locate(report.nodeid, path, None if lineno is None else lineno + 1)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Locate a file that failed to collect (pytest writes it as a test case of its own)."""
        if self.xml is not None and report.failed and report.nodeid:
            self._locate(report.nodeid, report.nodeid.partition("::")[0], None)

    def _locate(self, node_id: str, path: str, line: int | None) -> None:
        if self.xml is None or node_id in self.located:
            return
        self.located.add(node_id)
        # The key pytest's JUnit gives the case; imported here, in the one process writing it.
        from suitekit.reporting import junit_key  # noqa: PLC0415

        value = location_value(
            test=junit_key(node_id, self.prefix),
            node_id=self.ids.of(node_id),
            # report.location's path is relative to pytest's rootdir, as node ids are; it names
            # the file that defines the test (an inherited test method's base class's file).
            file=self.ids.of(path),
            line=line,
        )
        self.xml.add_global_property(LOCATION_PROPERTY, value)
