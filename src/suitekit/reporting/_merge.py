"""Merge JUnit XML reports into one, streaming, without ever touching the inputs.

:func:`merge_junit` reads each input once, front to back, and keeps in memory only the test case
it is reading (plus one read chunk); what it has read goes to temporary files beside the output.
How an input is read (bounded, byte for byte, an unreadable input dropped and reported) is
:mod:`suitekit.reporting._junit_input`'s; what its test cases mean is this module's. For every
``<testsuite>`` of an input it writes one ``<testsuite>`` of the output, whose counts and time
are recomputed from its ``<testcase>`` elements, never copied from the input's own attributes.
The output replaces the previous report atomically, at the very end.

What the cases of an input mean:

1. A ``<testcase>``'s outcome comes from its children: ``<failure>`` makes it failed,
   ``<error>`` an error, ``<skipped>`` skipped (xfail included, as pytest writes it), and
   nothing passed. A case with several of them has the first of failure, error, skipped
   (pytest writes a test that fails and then errors in teardown as one case with both, and
   counts it in both ``failures`` and ``errors``; here each case has exactly one outcome, so
   that ``tests`` is always the sum of the outcomes). The message of a case is the first
   line of that child's ``message`` attribute, or else of its text.
2. Earlier attempts of a retried test are children too, in the form Maven Surefire writes and
   the pytest plugin copies: ``<flakyFailure>`` or ``<flakyError>`` for each failed attempt of
   a test that passed in the end, ``<rerunFailure>`` or ``<rerunError>`` for each failed
   attempt of a test that failed in the end. A case with such children ran once more than it
   has of them; one that has no failure, error or skip of its own is *flaky*: it passed, but
   only on a retry, and it is counted as flaky, not as passed. Its message is the first
   failed attempt's.
3. A test the pytest plugin quarantined keeps its real outcome, except that a failure becomes
   ``<skipped type="suitekit.quarantined">`` (counted skipped, as in the file), and its suite
   gets a ``<property name="suitekit.quarantined" value='{"test": ..., "entry": ...}'/>``
   naming the case (``classname::name``) and the quarantine entry that matched it. When the
   suite closes, each such property becomes a ``QuarantinedCase`` of the result: failed
   when the case was a quarantined skip, a failure or an error, flaky when it was flaky,
   skipped when it was any other skip (``skipif``, ``pytest.skip``, an xfail that failed as
   expected: the test did not run), and passed otherwise. A property whose
   value is not that JSON makes the input unreadable (the plugin never writes one); a
   quarantined skip that no property names is only a skip.
4. The pytest plugin locates each test that failed in some way with a
   ``<property name="suitekit.location">`` of its suite (node id, file, 1-based line; see
   :data:`~suitekit.reporting._surefire.LOCATION_PROPERTY`). When the suite closes, its failed
   and flaky cases get them; another runner's case keeps its own ``file`` and ``line``
   attributes, if it has any. A property whose value is not that JSON makes the input
   unreadable.
5. When the input has been read to its end, its suites join the output. If it cannot be read,
   is empty, truncated, not well-formed or not JUnit, the reason is recorded, whatever was
   buffered from it is dropped, and the merge goes on with the next input. An input is only
   ever opened for reading.

The output is written to a new folder beside it, then renamed over it with :func:`os.replace`:
a reader sees the previous report or the new one, never a part of one. ``<testsuites>`` carries
``name``, ``tests``, ``failures``, ``errors`` and ``time``; the JUnit schema that pytest tests
its own output against (``junit-10.xsd``) allows no ``skipped`` there, so the skipped count is
in each ``<testsuite>`` and in ``MergeResult.totals``.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Final

from suitekit._files import write_problem
from suitekit.errors import ReportError
from suitekit.reporting._junit import Totals
from suitekit.reporting._junit_input import InputSuite, JUnitInput, seconds_of, xml_attribute
from suitekit.reporting._results import (
    CaseOutcome,
    CaseResult,
    MergeResult,
    QuarantinedCase,
    SuiteResult,
)
from suitekit.reporting._surefire import (
    ATTEMPT_ELEMENTS,
    LOCATION_PROPERTY,
    QUARANTINED_PROPERTY,
    QUARANTINED_TYPE,
    first_line,
)

__all__ = ["count_junit", "failed_cases", "merge_junit"]

_CHUNK: Final = 1 << 20  # bytes read from an input, and copied into the report, at a time
# The outcome each child of a <testcase> gives it, and the precedence among several.
_OUTCOMES: Final[Mapping[str, tuple[int, CaseOutcome]]] = {
    "failure": (3, "failed"),
    "error": (2, "error"),
    "skipped": (1, "skipped"),
}
# The children of a copied element that tell something (the rest, <system-out> above all, are
# only copied): tested before any call, as this runs for every child of every case.
_TELLING: Final = frozenset({*_OUTCOMES, *ATTEMPT_ELEMENTS, "property"})


def merge_junit(inputs: Sequence[Path], output: Path, *, slowest: int = 10) -> MergeResult:
    """Merge JUnit XML reports into one report, each input suite becoming one output suite.

    The inputs are read once each, streaming, and are never modified, renamed or deleted; an
    input that cannot be read (empty, truncated, not XML, not JUnit) is listed in
    :attr:`MergeResult.unreadable` and the others are merged all the same. The output is
    replaced atomically once everything has been written: if the merge fails, the previous
    report is left as it was. When no input can be read, the output is a valid empty report.
    See the module's documentation for the algorithm.

    Args:
        inputs: The JUnit XML files, in the order their suites should appear.
        output: The report to write; its folder is created if need be.
        slowest: How many of the slowest cases to return.

    Returns:
        The suites merged, their totals, the failed, flaky, quarantined and slowest cases, the
        durations of the cases that ran, and the inputs left out.

    Raises:
        ReportError: The output cannot be written (the message names it), or it is one of the
            inputs.
        ValueError: ``slowest`` is negative.
    """
    if slowest < 0:
        message = f"slowest must be 0 or more, not {slowest}"
        raise ValueError(message)
    _refuse_input_as_output(inputs, output)
    merge = _Merge(slowest=slowest)
    try:
        with _work_folder(output) as folder:
            buffers = itertools.count()
            for path in inputs:
                reader = _InputReader(path=path, folder=folder, buffers=buffers, seq=merge.seq)
                try:
                    suites = reader.read(slowest=slowest)
                except ReportError as error:
                    reader.discard()
                    merge.unreadable.append((path, str(error)))
                    continue
                except BaseException:
                    reader.discard()
                    raise
                merge.add(reader, suites)
            staged = folder / "merged.xml"
            _write_report(staged, merge.suites, merge.totals)
            staged.replace(output)  # os.replace: atomic on POSIX and Windows
    except OSError as error:
        problem, fix = write_problem(output, error, what="the merged JUnit report").split("\n", 1)
        message = f"{problem}; it is unchanged\n{fix}"
        raise ReportError(message) from None
    return merge.result(output)


def count_junit(path: Path) -> Totals:
    """The totals of one JUnit file, its cases counted exactly as :func:`merge_junit` counts them.

    Each ``<testcase>`` counts once, with one outcome (see the module's documentation), whatever
    the ``<testsuite>`` attributes say: pytest counts there every report of a test, so a test
    with subtests (``subtests.test()``, ``unittest``'s ``subTest``) adds one to ``tests`` per
    subtest, and a test that fails in a subtest and in itself adds two to ``failures``. The
    runner's summary and the merged report must not disagree about the same run. Only the time
    is the suites' own ``time`` attribute: pytest's wall time, not the sum of the cases' times,
    which under xdist is several times larger (the sum only for a suite without one). It is
    the time that a suite's budget measures, here as in the summary of ``suitekit report``
    (:attr:`SuiteResult.session_seconds`). Nothing is written anywhere.

    Raises:
        ReportError: The file cannot be read or is not JUnit XML (the message names it).
    """
    reader = _InputReader(path=path, folder=None, buffers=itertools.count(), seq=0)
    total = Totals()
    for suite in reader.read(slowest=0):
        total += replace(suite.totals, seconds=_session_seconds(suite))
    return total


def failed_cases(path: Path) -> tuple[CaseResult, ...]:
    """The failed and errored cases of one JUnit file, read as :func:`merge_junit` reads them.

    Each with its node id and location from the plugin's properties, and the file's stem as
    its :attr:`~CaseResult.report`, so that the command that runs it again can be named;
    quarantined failures are not among them. Nothing is written anywhere.

    Raises:
        ReportError: The file cannot be read or is not JUnit XML (the message names it).
    """
    reader = _InputReader(path=path, folder=None, buffers=itertools.count(), seq=0)
    reader.read(slowest=0)
    return tuple(reader.failed)


def _session_seconds(suite: InputSuite) -> float:
    """The suite's own ``time`` (pytest's wall time), or its cases' sum when it gives none."""
    return suite.reported_seconds or suite.seconds


def _refuse_input_as_output(inputs: Sequence[Path], output: Path) -> None:
    for path in inputs:
        same = path.resolve() == output.resolve()
        if not same:
            with contextlib.suppress(OSError):  # raised when either file does not exist
                same = path.samefile(output)  # hard links
        if same:
            message = (
                f"{output}: the merged JUnit report would overwrite one of its inputs\n"
                "  fix: write the merged report to a path that is not among the inputs."
            )
            raise ReportError(message)


@contextlib.contextmanager
def _work_folder(output: Path) -> Iterator[Path]:
    """A new folder beside ``output`` (same file system, so the final rename is atomic)."""
    folder = output.with_name(f".{output.name}.{os.getpid()}.{secrets.token_hex(4)}.merging")
    output.parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_SlowEntry = tuple[float, int, str, str, str, CaseOutcome, str, int]


class _InputReader(JUnitInput):
    """Reads one input and gives its test cases their outcomes; see the module's documentation."""

    __slots__ = (
        "_attempts",
        "_case_attributes",
        "_first_failure",
        "_message",
        "_outcome",
        "_outcome_rank",
        "_quarantined",
        "_slowest",
        "_text_of_attempt",
        "failed",
        "flaky",
        "quarantined",
        "seq",
        "slow",
    )

    telling = _TELLING

    def __init__(
        self, *, path: Path, folder: Path | None, buffers: Iterator[int], seq: int
    ) -> None:
        super().__init__(path=path, folder=folder, buffers=buffers)
        self.seq = seq  # how many cases were read before, from all inputs: orders ties
        self.failed: list[CaseResult] = []
        self.flaky: list[CaseResult] = []
        self.quarantined: list[QuarantinedCase] = []
        self.slow: list[_SlowEntry] = []  # a min-heap of the slowest cases of this input
        self._case_attributes: dict[str, str] = {}
        self._outcome: CaseOutcome = "passed"
        self._outcome_rank = 0
        self._message = ""
        self._attempts = 0  # earlier failed attempts of the case being read
        self._first_failure = ""  # the first line of the first of them
        self._quarantined = False  # whether the case has a <skipped type="suitekit.quarantined">
        self._text_of_attempt = False  # whether the text captured is an attempt's or the outcome's
        self._slowest = 0

    def read(self, *, slowest: int) -> list[InputSuite]:
        """Read the input to its end; return its suites, their buffers closed.

        Raises:
            ReportError: The input is unreadable; the message says why.
        """
        self._slowest = slowest
        return self._read(_CHUNK)

    def _case_started(self, attributes: dict[str, str]) -> None:
        self._case_attributes = attributes
        self._outcome = "passed"
        self._outcome_rank = 0
        self._message = ""
        # _attempts and _quarantined are reset by _record, only for the few cases that set
        # them: this path runs once a case and is kept short.

    def _child_of_copy(self, name: str, attributes: dict[str, str], depth: int) -> None:
        """A child of the suite child being copied: a case's outcome or attempt, a property."""
        if self._copy_name == "testcase":
            if name in _OUTCOMES:
                self._outcome_child(name, attributes, depth)
            elif name in ATTEMPT_ELEMENTS:
                self._attempt_child(attributes, depth)
        elif name == "property" and self._copy_name == "properties":
            self._property(attributes)

    def _outcome_child(self, name: str, attributes: dict[str, str], depth: int) -> None:
        rank, outcome = _OUTCOMES[name]
        if name == "skipped" and attributes.get("type") == QUARANTINED_TYPE:
            self._quarantined = True
        if rank <= self._outcome_rank:
            return
        self._outcome_rank = rank
        self._outcome = outcome
        self._message = first_line(attributes.get("message", ""))
        if not self._message:  # take the first line of the element's text instead
            self._text_of_attempt = False
            self._capture_text(depth)

    def _attempt_child(self, attributes: dict[str, str], depth: int) -> None:
        self._attempts += 1
        if self._attempts > 1:
            return
        self._first_failure = first_line(attributes.get("message", ""))
        if not self._first_failure:  # the first line of its text (its stackTrace) instead
            self._text_of_attempt = True
            self._capture_text(depth)

    def _text_captured(self, line: str) -> None:
        if self._text_of_attempt:
            self._first_failure = line
        else:
            self._message = line

    def _property(self, attributes: dict[str, str]) -> None:
        name = attributes.get("name")
        if name == LOCATION_PROPERTY:
            self._location(attributes.get("value", ""))
            return
        if name != QUARANTINED_PROPERTY:
            return
        value = attributes.get("value", "")
        try:
            named: object = json.loads(value)
        except ValueError:
            named = None
        if not (
            isinstance(named, dict)
            and isinstance(test := named.get("test"), str)
            and isinstance(entry := named.get("entry"), str)
        ):
            reason = (
                f"not suitekit's JUnit: the property {QUARANTINED_PROPERTY} has the value "
                f'{value!r}, not JSON like {{"test": "<classname::name>", "entry": "<entry>"}}'
            )
            raise self._unreadable(reason)
        self._suites[-1].quarantine.setdefault(test, entry)

    def _location(self, value: str) -> None:
        try:
            located: object = json.loads(value)
        except ValueError:
            located = None
        line = located.get("line") if isinstance(located, dict) else None
        if not (
            isinstance(located, dict)
            and isinstance(test := located.get("test"), str)
            and isinstance(node := located.get("node"), str)
            and isinstance(file := located.get("file"), str)
            and (line is None or (type(line) is int and line >= 1))
        ):
            reason = (
                f"not suitekit's JUnit: the property {LOCATION_PROPERTY} has the value "
                f'{value!r}, not JSON like {{"test": "<classname::name>", "node": "<node id>", '
                '"file": "<path>", "line": <line or null>}'
            )
            raise self._unreadable(reason)
        self._suites[-1].locations.setdefault(test, (node, file, line))

    def _suite_ended(self, suite: InputSuite) -> None:
        self.quarantined += suite.quarantined()
        if suite.locations:  # the properties may come after the cases they locate
            self.failed[:] = [self._located(case, suite) for case in self.failed]
            self.flaky[:] = [self._located(case, suite) for case in self.flaky]
            suite.locations.clear()

    @staticmethod
    def _located(case: CaseResult, suite: InputSuite) -> CaseResult:
        """The case with the node id, file and line its suite's property gives it, if any."""
        found = suite.locations.get(case.key) if case.suite == suite.name else None
        if found is None or case.node_id:
            return case
        node, file, line = found
        return replace(case, node_id=node, file=file, line=line)

    def _case_ended(self, suite: InputSuite) -> None:
        attributes = self._case_attributes
        classname = attributes.get("classname", "")
        name = attributes.get("name", "")
        seconds = seconds_of(attributes.get("time"))
        outcome = self._outcome
        attempts = self._attempts + 1
        suite.tests += 1
        suite.seconds += seconds
        self.seq += 1
        if outcome == "passed":
            if attempts == 1:
                message = ""
            else:
                outcome = "flaky"
                message = self._first_failure
                suite.flaky += 1
        else:
            message = self._message
            if outcome == "failed":
                suite.failures += 1
            elif outcome == "error":
                suite.errors += 1
            else:
                suite.skipped += 1
        key = f"{classname}::{name}" if classname else name
        if outcome != "skipped":
            durations = suite.durations
            if seconds >= durations.get(key, -1.0):
                durations[key] = seconds
        if outcome != "passed":
            self._record(
                suite, key, outcome=outcome, message=message, seconds=seconds, attempts=attempts
            )
        slow = self.slow
        if len(slow) < self._slowest:
            heapq.heappush(
                slow, (seconds, -self.seq, suite.name, classname, name, outcome, message, attempts)
            )
        elif slow and seconds > slow[0][0]:
            heapq.heapreplace(
                slow, (seconds, -self.seq, suite.name, classname, name, outcome, message, attempts)
            )

    def _record(
        self,
        suite: InputSuite,
        key: str,
        *,
        outcome: CaseOutcome,
        message: str,
        seconds: float,
        attempts: int,
    ) -> None:
        """Keep a case that did not pass cleanly: failed, errored, flaky or skipped."""
        quarantined, self._quarantined = self._quarantined, False
        self._attempts = 0  # a case with earlier attempts never passed cleanly: it comes here
        if outcome == "skipped":
            # A quarantined failure is a failure; any other skip did not run the test, which
            # must not count as a pass of a quarantined one (it would grow its streak).
            suite.mark(key, "failed" if quarantined else "skipped", message)
            return
        attributes = self._case_attributes
        case = CaseResult(
            suite=suite.name,
            classname=attributes.get("classname", ""),
            name=attributes.get("name", ""),
            seconds=seconds,
            outcome=outcome,
            message=message,
            attempts=attempts,
            report=self.path.stem,
            # Another runner's own location, when it writes one (jest-junit, Vitest's
            # addFileAttribute); a pytest case gets the plugin's at the suite's end.
            file=attributes.get("file", ""),
            line=_line_of(attributes.get("line")),
        )
        if outcome == "flaky":
            self.flaky.append(case)
            suite.mark(key, "flaky", message)
        else:
            self.failed.append(case)
            suite.mark(key, "failed", message)


class _Merge:
    """The suites and cases of the inputs merged so far."""

    def __init__(self, *, slowest: int) -> None:
        self.slowest = slowest
        self.seq = 0
        self.suites: list[InputSuite] = []
        self.totals = Totals()
        self.failed: list[CaseResult] = []
        self.flaky: list[CaseResult] = []
        self.quarantined: list[QuarantinedCase] = []
        self.slow: list[_SlowEntry] = []
        self.durations: dict[str, dict[str, float]] = {}
        self.unreadable: list[tuple[Path, str]] = []

    def add(self, reader: _InputReader, suites: list[InputSuite]) -> None:
        self.seq = reader.seq
        self.failed.extend(reader.failed)
        self.flaky.extend(reader.flaky)
        self.quarantined.extend(reader.quarantined)
        self.slow = heapq.nlargest(self.slowest, [*self.slow, *reader.slow])
        heapq.heapify(self.slow)
        for suite in suites:
            self.suites.append(suite)
            self.totals += suite.totals
            durations, suite.durations = suite.durations, {}  # one copy in memory, not two
            merged = self.durations.setdefault(suite.name, durations)
            if merged is durations:
                continue
            for key, seconds in durations.items():
                if seconds >= merged.get(key, -1.0):
                    merged[key] = seconds

    def result(self, output: Path) -> MergeResult:
        slowest = tuple(
            CaseResult(
                suite=suite,
                classname=classname,
                name=name,
                seconds=seconds,
                outcome=outcome,
                message=message,
                attempts=attempts,
            )
            for seconds, _, suite, classname, name, outcome, message, attempts in sorted(
                self.slow, reverse=True
            )
        )
        return MergeResult(
            output=output,
            suites=tuple(
                SuiteResult(
                    name=suite.name,
                    source=suite.source,
                    totals=suite.totals,
                    session_seconds=_session_seconds(suite),
                )
                for suite in self.suites
            ),
            totals=self.totals,
            failed=tuple(self.failed),
            slowest=slowest,
            durations=MappingProxyType(
                {name: MappingProxyType(cases) for name, cases in self.durations.items()}
            ),
            unreadable=tuple(self.unreadable),
            flaky=tuple(self.flaky),
            quarantined=tuple(self.quarantined),
        )


def _write_report(path: Path, suites: Sequence[InputSuite], totals: Totals) -> None:
    """Write the report to ``path``: the suites' buffers between their recomputed start tags."""
    with path.open("xb") as report:
        report.write(b'<?xml version="1.0" encoding="utf-8"?>\n')
        report.write(f'<testsuites name="suitekit"{_counts(totals, skipped=False)}>\n'.encode())
        for suite in suites:
            name = xml_attribute(suite.name)
            tag = f"<testsuite name={name}{_counts(suite.totals, skipped=True)}{suite.attributes}>"
            report.write(tag.encode())
            if suite.buffer is not None:  # always: merge_junit reads with a folder
                with suite.buffer.open("rb") as buffer:
                    shutil.copyfileobj(buffer, report, _CHUNK)
                suite.buffer.unlink()
            report.write(b"</testsuite>\n")
        report.write(b"</testsuites>\n")
        report.flush()
        os.fsync(report.fileno())


def _line_of(text: str | None) -> int | None:
    """A ``line`` attribute as a 1-based line; ``None`` when missing or not a positive number."""
    if text is None or not (text.strip().isascii() and text.strip().isdigit()):
        return None
    line = int(text)
    return line if line >= 1 else None


def _counts(totals: Totals, *, skipped: bool) -> str:
    # SUREFIRE_TIME is (([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]{0,3})?: digits, a point
    # and at most three decimals; case times are never negative, so neither are the sums.
    counts = f' tests="{totals.tests}" failures="{totals.failures}" errors="{totals.errors}"'
    if skipped:
        counts += f' skipped="{totals.skipped}"'
    return f'{counts} time="{totals.seconds:.3f}"'
