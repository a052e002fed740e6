"""Every attempt of every test of one run: the ledger behind retries, quarantine and run logs.

The pytest plugin turns each test report that reaches the controller (or the only process),
and each failed collection report, into a :class:`PhaseReport` and adds it to a
:class:`Ledger`. The ledger aggregates them per test and produces, at the end of the run:

- the run log (:class:`suitekit.reporting.RunLog`) that ``suitekit flaky`` compares;
- the lines of the terminal's ``suitekit flaky`` and ``suitekit quarantine`` sections;
- the rewrite of pytest's JUnit file into the Surefire form (:func:`rewrite_junit`).

The Surefire form keeps every attempt of a retried test inside its ``<testcase>``: a test whose
final attempt passed gets one ``<flakyFailure>`` (a failed call) or ``<flakyError>`` (a failed
setup or teardown) per failed attempt; a test whose final attempt failed gets ``<rerunFailure>``
or ``<rerunError>`` children next to its ``<failure>``. Each holds the attempt's message and
exception type, its traceback in ``<stackTrace>`` and its captured output. pytest's
junit-10.xsd accepts this form, and Surefire-compatible readers (junitparser's ``xunit2``, CI
result publishers) show such a test as passed with reruns.

A quarantined test whose failure the plugin turned into a skip gets ``<skipped
type="suitekit.quarantined">`` with the real failure as its text; every quarantined test, passed
or not, is named in a ``suitekit.quarantined`` property of its test suite, so that ``suitekit
report`` can count its passing runs.

Plain data and ElementTree only: this module does not import pytest.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from suitekit._files import write_text_atomic
from suitekit._model import Quarantine
from suitekit.errors import ReportError
from suitekit.reporting._surefire import (
    QUARANTINED_PROPERTY,
    QUARANTINED_TYPE,
    attempt_element,
)
from suitekit.sharding import case_key

if TYPE_CHECKING:
    from suitekit.reporting._runlog import Outcome, RunLog

__all__ = [
    "Attempt",
    "Ledger",
    "PhaseReport",
    "TestRecord",
    "junit_key",
    "properties_of",
    "rewrite_junit",
]

Phase = Literal["collect", "setup", "call", "teardown"]
ReportOutcome = Literal["passed", "failed", "skipped", "rerun"]

DEFAULT_TYPE: Final = "pytest.failure"
"""The ``type`` of an attempt whose failure carried no exception (an XPASS(strict), say)."""

WASXFAIL_PREFIX: Final = "suitekit quarantine: "
"""How a quarantined failure's ``wasxfail`` starts; pytest's JUnit copies it into the message."""

# Characters XML 1.0 cannot hold; pytest's junitxml writes them as #xNN, and so does this.
# Named as the complement of XML's Char production: the same set, but the negated class of wide
# ranges took 20 ms to compile, on the import path of every suite run.
_ILLEGAL_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_RESULT_TAGS: Final = frozenset({"failure", "error", "skipped"})
_OUTPUT_TAGS: Final = frozenset({"system-out", "system-err"})


def junit_key(node_id: str, prefix: str | None = None) -> str:
    """The ``classname::name`` of a test in pytest's JUnit file (``junit_prefix`` included)."""
    key = case_key(node_id)
    if not prefix:
        return key
    classname, separator, name = key.rpartition("::")
    return f"{prefix}.{classname}{separator}{name}" if separator else f"{prefix}::{name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseReport:
    """One test report (setup, call or teardown of one attempt) as the plugin saw it.

    Attributes:
        node_id: The test's node id.
        when: The phase; ``collect`` for a file that failed to collect (its ``node_id`` is the
            file's).
        outcome: pytest's outcome; ``rerun`` for the failed report of a non-final attempt.
        worker: The xdist worker that ran it (``gw0``), or ``main`` without xdist.
        attempt: The attempt this report belongs to, from 1.
        message: The first line of the failure or skip reason (``""`` when passed).
        error_type: The exception's type name (``pytest.failure`` without one).
        details: The full failure text (pytest's ``longreprtext``).
        stdout: The output captured on stdout up to the end of this phase.
        stderr: The output captured on stderr up to the end of this phase.
        quarantine: The quarantine entry naming the test, if any.
        quarantined_failure: Whether this report is a failure the quarantine turned into a
            skip (the test's real outcome for this phase is a failure).
    """

    node_id: str
    when: Phase
    outcome: ReportOutcome
    worker: str = "main"
    attempt: int = 1
    message: str = ""
    error_type: str = DEFAULT_TYPE
    details: str = ""
    stdout: str = ""
    stderr: str = ""
    quarantine: Quarantine | None = None
    quarantined_failure: bool = False

    @property
    def failed(self) -> bool:
        """Whether the phase really failed (a rerun or a quarantined failure included)."""
        return self.outcome in {"failed", "rerun"} or self.quarantined_failure


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """A failed attempt of a test that was run again (or the quarantined failure of a test).

    Attributes:
        number: The attempt, from 1.
        when: The phase that failed first.
        message: The first line of the failure.
        error_type: The exception's type name (``pytest.failure`` without one).
        details: The full failure text.
        stdout: Output captured on stdout during the attempt.
        stderr: Output captured on stderr during the attempt.
    """

    number: int
    when: Phase
    message: str
    error_type: str = DEFAULT_TYPE
    details: str = ""
    stdout: str = ""
    stderr: str = ""

    @classmethod
    def of(cls, report: PhaseReport) -> Attempt:
        """The attempt a failed report describes."""
        return cls(
            number=report.attempt,
            when=report.when,
            message=report.message,
            error_type=report.error_type,
            details=report.details,
            stdout=report.stdout,
            stderr=report.stderr,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TestRecord:
    """Everything one run did to one test.

    Attributes:
        node_id: The test's node id.
        outcome: Its real outcome (a quarantined failure stays ``failed`` or ``error``).
        worker: The worker that ran it.
        position: Its place in the worker's sequence, from 0.
        message: The first line of its final failure or skip reason (of a flaky test: of its
            first failure).
        reruns: The failed attempts before the final one, in order.
        quarantine: The quarantine entry naming it, if any.
        quarantined_failures: The failures the quarantine turned into skips, in phase order.
    """

    __test__ = False  # not a pytest test class, whatever its name

    node_id: str
    outcome: Outcome
    worker: str = "main"
    position: int = 0
    message: str = ""
    reruns: tuple[Attempt, ...] = ()
    quarantine: Quarantine | None = None
    quarantined_failures: tuple[Attempt, ...] = ()

    @property
    def attempts(self) -> int:
        """How many times the test ran."""
        return len(self.reruns) + 1


@dataclass(slots=True)
class _Open:
    """A test whose reports are still arriving."""

    worker: str
    position: int
    reports: list[PhaseReport] = field(default_factory=list)


class Ledger:
    """The reports of a run, gathered per test in order of arrival.

    A test's reports arrive from one worker, in order: the failed report of each non-final
    attempt (outcome ``rerun``), then the setup, call and teardown reports of its final attempt.
    """

    __slots__ = ("_positions", "_tests")

    def __init__(self) -> None:
        """Start empty."""
        self._tests: dict[str, _Open] = {}
        self._positions: dict[str, int] = {}

    def add(self, report: PhaseReport) -> None:
        """Add one report; the first report of a test fixes its worker and position."""
        record = self._tests.get(report.node_id)
        if record is None:
            position = self._positions.get(report.worker, 0)
            self._positions[report.worker] = position + 1
            record = self._tests[report.node_id] = _Open(worker=report.worker, position=position)
        record.reports.append(report)

    def tests(self) -> tuple[TestRecord, ...]:
        """Every test, by worker and position."""
        records = (_record(node_id, state) for node_id, state in self._tests.items())
        return tuple(sorted(records, key=lambda record: (record.worker, record.position)))

    def run_log(self, *, seed: int | None, workers: int) -> RunLog:
        """The run log of the run (see :class:`suitekit.reporting.RunLog`)."""
        # Only a run with --suitekit-run-log (``suitekit flaky``) writes one.
        from suitekit.reporting._runlog import RunLog, TestRun  # noqa: PLC0415

        return RunLog(
            seed=seed,
            workers=workers,
            tests=tuple(
                TestRun(
                    node_id=record.node_id,
                    outcome=record.outcome,
                    worker=record.worker,
                    position=record.position,
                    message=record.message,
                    quarantined=record.quarantine is not None,
                )
                for record in self.tests()
            ),
        )

    def flaky_lines(self) -> list[str]:
        """One line per test that passed after failed attempts (the terminal's section).

        The lines are sorted by node id, so that they read the same whatever the workers did.
        """
        lines = []
        for record in sorted(self.tests(), key=lambda record: record.node_id):
            if record.outcome != "flaky":
                continue
            failures = "; ".join(
                f"attempt {attempt.number} failed in {attempt.when}: {attempt.message}"
                for attempt in record.reruns
            )
            lines.append(
                f"{record.node_id}: passed on attempt {record.attempts} of {record.attempts} "
                f"({failures})"
            )
        return lines

    def quarantine_lines(self) -> list[str]:
        """One line per quarantined test, by node id: its real outcome and its entry."""
        lines = []
        for record in sorted(self.tests(), key=lambda record: record.node_id):
            entry = record.quarantine
            if entry is None:
                continue
            what: str = record.outcome
            if record.quarantined_failures:
                what += f" ({record.quarantined_failures[0].message})"
            lines.append(f"{record.node_id}: {what}; {entry.key}: {entry.reason}")
        return lines

    def needs_rewrite(self) -> bool:
        """Whether pytest's JUnit file lacks anything of this run (reruns or quarantine)."""
        return any(record.reruns or record.quarantine for record in self.tests())


def _record(node_id: str, state: _Open) -> TestRecord:
    reruns = tuple(Attempt.of(report) for report in state.reports if report.outcome == "rerun")
    final = [report for report in state.reports if report.outcome != "rerun"]
    quarantine = next((report.quarantine for report in state.reports if report.quarantine), None)
    failed = {report.when for report in final if report.failed}
    if failed & {"collect", "setup", "teardown"}:
        outcome: Outcome = "error"
    elif failed:
        outcome = "failed"
    elif reruns and not any(report.outcome == "skipped" for report in final):
        outcome = "flaky"
    elif any(report.outcome == "skipped" for report in final):
        outcome = "skipped"
    else:
        outcome = "passed"
    telling = next((r for r in final if r.failed), None) or next(
        (r for r in final if r.outcome == "skipped"), None
    )
    # A flaky test is told by its first failure.
    first = reruns[0].message if reruns else ""
    message = telling.message if telling is not None else first
    return TestRecord(
        node_id=node_id,
        outcome=outcome,
        worker=state.worker,
        position=state.position,
        message=message,
        reruns=reruns,
        quarantine=quarantine,
        quarantined_failures=tuple(Attempt.of(r) for r in final if r.quarantined_failure),
    )


def rewrite_junit(path: Path, tests: Iterable[TestRecord], *, prefix: str | None = None) -> int:
    """Rewrite pytest's JUnit file at ``path`` into the Surefire form described above.

    Tests are found by ``classname::name`` (:func:`junit_key`). A test retried after a failed
    teardown has an early, empty ``<testcase>`` that pytest closed with that teardown; only the
    last ``<testcase>`` of a key is kept. The file is replaced atomically.

    Returns:
        How many test cases changed (0: the file was left alone).

    Raises:
        ReportError: The file cannot be read, parsed or written.
    """
    wanted = {
        junit_key(record.node_id, prefix): record
        for record in tests
        if record.reruns or record.quarantine is not None
    }
    if not wanted:
        return 0
    try:
        tree = ET.parse(path)  # noqa: S314 - the file pytest wrote in this very run
    except (OSError, ET.ParseError) as error:
        message = f"{path}: cannot add the attempts of retried and quarantined tests: {error}"
        raise ReportError(message) from None
    changed = sum(_rewrite_suite(suite, wanted) for suite in _suites(tree.getroot()))
    if changed:
        text = ET.tostring(tree.getroot(), encoding="unicode")
        write_text_atomic(path, f'<?xml version="1.0" encoding="utf-8"?>{text}')
    return changed


def _rewrite_suite(suite: ET.Element, wanted: dict[str, TestRecord]) -> int:
    """Rewrite the wanted test cases of one ``<testsuite>``; how many there were."""
    cases: dict[str, list[ET.Element]] = {}
    for case in suite.findall("testcase"):
        key = f"{case.get('classname', '')}::{case.get('name', '')}".removeprefix("::")
        if key in wanted:
            cases.setdefault(key, []).append(case)
    properties: list[ET.Element] = []
    for key, found in cases.items():
        for early in found[:-1]:
            suite.remove(early)
        record = wanted[key]
        _add_attempts(found[-1], record)
        _mark_quarantined(found[-1], record)
        if record.quarantine is not None:
            value = json.dumps({"test": key, "entry": record.quarantine.test})
            properties.append(ET.Element("property", name=QUARANTINED_PROPERTY, value=value))
    if properties:
        properties_of(suite).extend(properties)
    return len(cases)


def _suites(root: ET.Element) -> list[ET.Element]:
    return [root] if root.tag == "testsuite" else list(root.iter("testsuite"))


def _xml(text: str) -> str:
    return _ILLEGAL_XML.sub(lambda match: f"#x{ord(match.group()):02X}", text)


def _add_attempts(case: ET.Element, record: TestRecord) -> None:
    """Add one rerun or flaky element per failed attempt, after the case's result elements."""
    if not record.reruns:
        return
    flaky = record.outcome not in {"failed", "error"}
    elements = []
    for attempt in record.reruns:
        tag = attempt_element(passed_in_the_end=flaky, call=attempt.when == "call")
        element = ET.Element(tag, message=_xml(attempt.message), type=_xml(attempt.error_type))
        ET.SubElement(element, "stackTrace").text = _xml(attempt.details)
        if attempt.stdout:
            ET.SubElement(element, "system-out").text = _xml(attempt.stdout)
        if attempt.stderr:
            ET.SubElement(element, "system-err").text = _xml(attempt.stderr)
        elements.append(element)
    children = list(case)
    at = next((i for i, child in enumerate(children) if child.tag in _OUTPUT_TAGS), len(children))
    case[at:at] = elements


def _mark_quarantined(case: ET.Element, record: TestRecord) -> None:
    """Turn pytest's xfail-style skips of quarantined failures into quarantine skips."""
    entry = record.quarantine
    if entry is None or not record.quarantined_failures:
        return
    skips = [
        child
        for child in case
        if child.tag == "skipped"
        and child.get("type") == "pytest.xfail"
        and child.get("message", "").startswith(WASXFAIL_PREFIX)
    ]
    for skipped, failure in zip(skips, record.quarantined_failures, strict=False):
        skipped.set("type", QUARANTINED_TYPE)
        skipped.set("message", _xml(f"quarantined ({entry.reason}): {failure.message}"))
        skipped.text = _xml(failure.details)


def properties_of(suite: ET.Element) -> ET.Element:
    """The suite's ``<properties>``, created as its first child when it has none."""
    found = suite.find("properties")
    if found is None:
        found = ET.Element("properties")
        suite.insert(0, found)
    return found
