"""Totals of a JUnit XML file, as pytest writes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from suitekit.errors import ReportError

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

__all__ = ["Totals", "junit_root", "read_runner_junit", "read_totals", "retitle_junit"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    """Counts of one or more test runs.

    Attributes:
        tests: Test cases run.
        failures: Test cases that failed.
        errors: Test cases that errored (in setup or teardown, or collection).
        skipped: Test cases skipped (xfail included, as pytest writes them).
        flaky: Test cases that failed and then passed on a retry. They are not counted as
            passed: a test that needs a retry to pass is a problem to fix, not a success.
        seconds: The time the runs report.
    """

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        """Test cases that neither failed, errored, were skipped nor were flaky."""
        return self.tests - self.failures - self.errors - self.skipped - self.flaky

    def __add__(self, other: Totals) -> Totals:
        """The totals of both runs together."""
        return Totals(
            tests=self.tests + other.tests,
            failures=self.failures + other.failures,
            errors=self.errors + other.errors,
            skipped=self.skipped + other.skipped,
            flaky=self.flaky + other.flaky,
            seconds=self.seconds + other.seconds,
        )


def read_totals(path: Path) -> Totals:
    """Sum the counts of every test suite in a JUnit XML file, one per test case.

    The cases are counted as the merged report counts them (see
    :func:`~suitekit.reporting._merge.count_junit`), not from the ``<testsuite>`` attributes,
    which count each subtest as a test: the runner's summary and ``suitekit report`` give the
    same figures for the same run. The time is pytest's own (the suites' ``time``).

    Raises:
        ReportError: The file does not exist, cannot be read, is not a regular file, is larger than
            :data:`~suitekit._files.JUNIT_LIMIT` or is not JUnit XML.
    """
    from suitekit.reporting._merge import count_junit  # noqa: PLC0415 - _merge imports this module

    try:
        return count_junit(path)
    except ReportError as error:
        # The merge's reason, after its "<path>: ", in the runner's words for an unusable file.
        reason = str(error).removeprefix(f"{path}: ")
        message = f"{path}: not a readable JUnit XML file ({reason})"
        raise ReportError(message) from None


def junit_root(data: bytes | str) -> Element:
    """The root element of a JUnit report's text: ``<testsuites>`` or ``<testsuite>``.

    Raises:
        ValueError: It is not XML, or its root is another element (the message says which).
    """
    from xml.etree import ElementTree as ET  # noqa: PLC0415 - only for other runners' reports

    try:
        root = ET.fromstring(data)  # noqa: S314 - a run's own report, size-bounded by its reader
    except ET.ParseError as error:
        message = f"not a readable JUnit XML file ({error})"
        raise ValueError(message) from None
    if root.tag not in ("testsuites", "testsuite"):
        message = f"not JUnit XML: the root element is <{root.tag}>"
        raise ValueError(message)
    return root


def read_runner_junit(path: Path) -> Element | None:
    """The root of the JUnit report another runner wrote at ``path``; ``None``: there is none.

    Raises:
        ReportError: The file cannot be read, is too large, or is not JUnit XML (see
            :func:`junit_root`); the message names it.
    """
    from suitekit._files import JUNIT_LIMIT, read_bounded  # noqa: PLC0415

    data = read_bounded(
        path, limit=JUNIT_LIMIT, what="JUnit report", fix="  fix: see the runner's output above"
    )
    if data is None:
        return None
    try:
        return junit_root(data)
    except ValueError as error:
        message = f"{path}: {error}"
        raise ReportError(message) from None


def retitle_junit(path: Path, suite: str) -> None:
    """Gather a JUnit file's cases into one ``<testsuite>`` named after the suitekit suite.

    pytest's report is one test suite named after the suite (``-o junit_suite_name``); another
    runner writes one per file (Vitest, Playwright, nextest's binaries) named after it, and the
    merged report, the summary and the durations store would take each for a suite. The cases
    keep their ``classname`` (the file) and everything in them. The suite's counts are the
    cases', one outcome each as the merge counts them (a failure, else an error, else a skip);
    its time the report's own (the root's, a wall time) where it gives one; its output and
    properties those of every test suite in turn. Where the test suites name different hosts
    (Playwright's projects: ``hostname`` is the project), each case's name says its project
    (``[mobile] checkout``), or two projects' runs of one test would be one case. A case's name
    loses the blanks around it: jest-junit's ``{describe blocks} {title}`` starts with a space
    for a test outside any ``describe``. A missing file is left missing: the runner wrote none.

    Raises:
        ReportError: The file cannot be read, is too large, is not XML, or is not JUnit (its
            root neither ``<testsuites>`` nor ``<testsuite>``, or in an XML namespace): it is
            then left as it is, for the merge to report.
    """
    from xml.etree import ElementTree as ET  # noqa: PLC0415 - only for other runners' reports

    from suitekit._files import write_text_atomic  # noqa: PLC0415

    root = read_runner_junit(path)
    if root is None:
        return
    report = ET.Element("testsuites", {"name": suite})
    report.append(_one_suite(root, suite))
    text = ET.tostring(report, encoding="unicode")
    write_text_atomic(path, '<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n")


_OUTCOMES: Final = ("failure", "error", "skipped")


def _one_suite(root: Element, suite: str) -> Element:
    """The cases of ``root`` in one test suite called ``suite`` (see :func:`retitle_junit`)."""
    from xml.etree import ElementTree as ET  # noqa: PLC0415 - only for other runners' reports

    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    top = [root] if root.tag == "testsuite" else [e for e in root if e.tag == "testsuite"]
    cases = list(root.iter("testcase"))
    hosts = {element.get("hostname", "") for element in top}
    by_project = len(hosts) > 1
    for element in suites:
        project = element.get("hostname", "")
        for case in element.findall("testcase"):
            name = (case.get("name") or "").strip()
            case.set("name", f"[{project}] {name}" if by_project and project else name)
    merged = ET.Element("testsuite", {"name": suite})
    if (timestamp := (top[0] if top else root).get("timestamp")) is not None:
        merged.set("timestamp", timestamp)
    outcomes = [next((o for o in _OUTCOMES if case.find(o) is not None), "") for case in cases]
    merged.set("tests", str(len(cases)))
    for outcome, key in zip(_OUTCOMES, ("failures", "errors", "skipped"), strict=True):
        merged.set(key, str(outcomes.count(outcome)))
    wall = _seconds(root.get("time")) if root.tag == "testsuites" else 0.0
    seconds = wall or sum(_seconds(element.get("time")) for element in top)
    merged.set("time", f"{seconds or sum(_seconds(case.get('time')) for case in cases):.3f}")
    properties = [prop for element in suites for prop in element.findall("properties/property")]
    if properties:
        ET.SubElement(merged, "properties").extend(properties)
    merged.extend(cases)
    for stream in ("system-out", "system-err"):
        texts = [child.text for element in suites for child in element.findall(stream)]
        if any(texts):
            ET.SubElement(merged, stream).text = "\n".join(text for text in texts if text)
    return merged


def _seconds(value: str | None) -> float:
    try:
        return max(float(value or 0), 0.0)
    except ValueError:
        return 0.0
