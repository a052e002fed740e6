"""The quarantine of a suite of another runner: its JUnit report rewritten, and the verdict.

pytest's quarantine happens inside pytest (the plugin turns a failure into a skip as it
happens). Another runner knows nothing of it, so suitekit applies it to the runner's report
once the run has ended (after :func:`~suitekit.reporting.retitle_junit`), in the very form the
plugin writes (:mod:`suitekit.reporting._surefire`), so that the merge, the summary and the
streaks need nothing new:

- every case an entry of the suite names (by ``classname::name``, see
  :func:`suitekit._quarantine.matches_case`) is named by a ``suitekit.quarantined`` property of
  its test suite;
- such a case's ``<failure>`` and ``<error>`` become one ``<skipped type="suitekit.quarantined"
  message="quarantined (<reason>): <first line>">`` holding the failure's text.

The session's verdict (:func:`quarantine_verdict`) then passes a run that failed only by
quarantined tests: the runner exited with one of its ``failure_codes`` (the codes by which it
says "tests failed, and nothing else went wrong"), its report was written by this run, and
every failed or errored case in it was quarantined, at least one. Anything else fails the
session, naming the failed tests. A runner whose exit codes cannot say that much takes no
quarantine at all (config refuses it), since an error outside any test that its report does
not record would otherwise be hidden behind a quarantined failure.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from suitekit import _quarantine
from suitekit._files import write_text_atomic
from suitekit._model import Quarantine
from suitekit.reporting._attempts import properties_of
from suitekit.reporting._junit import read_runner_junit
from suitekit.reporting._surefire import QUARANTINED_PROPERTY, QUARANTINED_TYPE, first_line

__all__ = ["QuarantinedReport", "quarantine_cases", "quarantine_junit", "quarantine_verdict"]

_FAILED: Final = ("failure", "error")
_NAMED: Final = 10  # failed tests a message names before "and N more"


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantinedReport:
    """What the quarantine made of one report.

    Attributes:
        cases: The report's test cases.
        failed: The keys (``classname::name``) of the failed or errored cases that no entry
            names, in report order.
        quarantined: The keys of the failed or errored cases an entry names (now skips).
        unmatched: The entries that name none of the report's cases.
    """

    cases: int
    failed: tuple[str, ...] = ()
    quarantined: tuple[str, ...] = ()
    unmatched: tuple[Quarantine, ...] = ()


def quarantine_cases(root: ET.Element, entries: Sequence[Quarantine]) -> QuarantinedReport:
    """Apply ``entries`` to the JUnit tree ``root`` in place (see the module's docstring).

    Each test suite's ``failures``, ``errors`` and ``skipped`` counts are those of its cases
    afterwards.
    """
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    cases = 0
    failed: list[str] = []
    quarantined: list[str] = []
    matched: set[Quarantine] = set()
    for suite in suites:
        properties: list[ET.Element] = []
        for case in suite.findall("testcase"):
            cases += 1
            classname, name = case.get("classname", ""), case.get("name", "")
            key = f"{classname}::{name}" if classname else name
            entry = _quarantine.case_entry_for(entries, classname, name)
            failures = [child for child in case if child.tag in _FAILED]
            if entry is None:
                failed += [key] if failures else []
                continue
            matched.add(entry)
            value = json.dumps({"test": key, "entry": entry.test})
            properties.append(ET.Element("property", name=QUARANTINED_PROPERTY, value=value))
            if failures:
                quarantined.append(key)
                _skip(case, failures, entry)
        if properties:
            properties_of(suite).extend(properties)
        _recount(suite)
    # An entry matched by an earlier entry's cases only is still judged on its own.
    unmatched = tuple(
        entry
        for entry in entries
        if entry not in matched
        and not any(
            _quarantine.matches_case(entry, case.get("classname", ""), case.get("name", ""))
            for case in root.iter("testcase")
        )
    )
    return QuarantinedReport(
        cases=cases, failed=tuple(failed), quarantined=tuple(quarantined), unmatched=unmatched
    )


def quarantine_junit(path: Path, entries: Sequence[Quarantine]) -> QuarantinedReport | None:
    """Apply ``entries`` to the JUnit file at ``path``, rewritten atomically when it changed.

    Returns:
        What the quarantine made of it; ``None`` when there is no file.

    Raises:
        ReportError: The file cannot be read, is too large or is not JUnit XML.
    """
    root = read_runner_junit(path)
    if root is None:
        return None
    before = ET.tostring(root, encoding="unicode")
    report = quarantine_cases(root, entries)
    text = ET.tostring(root, encoding="unicode")
    if text != before:
        write_text_atomic(path, '<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n")
    return report


def quarantine_verdict(
    report: QuarantinedReport | None,
    *,
    runner: str,
    exit_code: int,
    failure_codes: frozenset[int],
    whole: bool,
    file: Path | None,
    suite: str,
) -> str | None:
    """Why the session of a suite with quarantine entries fails; ``None``: it passes.

    Args:
        report: What the quarantine made of the report this run wrote; ``None`` when the run
            wrote none.
        runner: The runner's name, for messages.
        exit_code: The runner's exit code.
        failure_codes: The runner's codes for "tests failed, and nothing else went wrong".
        whole: Whether the run took the whole suite (no shard, no arguments of the user's):
            only then is an entry that names none of its cases stale.
        file: The configuration file, for the stale entries' error.
        suite: The suite's name.
    """
    if exit_code != 0:
        if exit_code not in failure_codes:
            codes = ", ".join(map(str, sorted(failure_codes)))
            return (
                f"suitekit: suite {suite!r}: {runner} exited with code {exit_code}, which says "
                f"that something other than tests failed (failed tests: {codes}){_named(report)}"
            )
        if report is None:
            return (
                f"suitekit: suite {suite!r}: {runner} exited with code {exit_code} and this run "
                "wrote no JUnit report, so nothing shows that only quarantined tests failed"
            )
        if report.failed:
            return (
                f"suitekit: suite {suite!r}: {len(report.failed)} failed test(s) that no "
                f"quarantine entry names{_named(report)}"
            )
        if not report.quarantined:
            return (
                f"suitekit: suite {suite!r}: {runner} exited with code {exit_code} (failed tests) "
                "but its report has no failed test: see its output above"
            )
    if whole and report is not None and report.unmatched:
        where = f"the tests in the report of suite {suite!r}"
        return str(_quarantine.unmatched_error(report.unmatched, file=file, where=where))
    return None


def _named(report: QuarantinedReport | None) -> str:
    if report is None or not report.failed:
        return ""
    names = "".join(f"\n  {key}" for key in report.failed[:_NAMED])
    more = len(report.failed) - _NAMED
    return f":{names}" + (f"\n  and {more} more" if more > 0 else "")


def _skip(case: ET.Element, failures: list[ET.Element], entry: Quarantine) -> None:
    """Replace a case's failures and errors with one quarantine skip holding their text."""
    first = failures[0]
    line = first_line(first.get("message", "")) or first_line(first.text or "")
    texts = [(f.text or "").strip() or f.get("message", "") for f in failures]
    skipped = ET.Element(
        "skipped",
        type=QUARANTINED_TYPE,
        message=f"quarantined ({entry.reason}): {line}",
    )
    skipped.text = "\n\n".join(text for text in texts if text)
    skipped.tail = first.tail
    case.insert(list(case).index(first), skipped)
    for failure in failures:
        case.remove(failure)


def _recount(suite: ET.Element) -> None:
    """The suite's outcome counts from its cases (one outcome each, as the merge counts)."""
    outcomes = [
        next((tag for tag in ("failure", "error", "skipped") if case.find(tag) is not None), "")
        for case in suite.findall("testcase")
    ]
    for tag, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        if attribute in suite.attrib or outcomes.count(tag):
            suite.set(attribute, str(outcomes.count(tag)))
