"""Merge JUnit XML reports into one, streaming, without ever touching the inputs.

:func:`merge_junit` reads each input once, front to back, and keeps in memory only the test case
it is reading (plus one read chunk); what it has read goes to temporary files beside the output.
For every ``<testsuite>`` of an input it writes one ``<testsuite>`` of the output, whose counts
and time are recomputed from its ``<testcase>`` elements, never copied from the input's own
attributes. The output replaces the previous report atomically, at the very end.

How one input is read:

1. The file is fed to an expat parser in chunks of 1 MiB. The parser's callbacks see each start
   and end tag; nothing builds a tree.
2. Each direct child of a ``<testsuite>`` that the JUnit schema allows there (``<testcase>``,
   ``<properties>``, ``<system-out>``, ``<system-err>``) is copied *byte for byte* from the input
   into that suite's buffer file, using the parser's byte offsets of its start and end tags.
   The bytes are already well-formed XML (the parser checked them), so they need no
   re-serialising. Only the last chunk and the element being copied are held in memory.
3. A ``<testcase>``'s outcome comes from its children: ``<failure>`` makes it failed,
   ``<error>`` an error, ``<skipped>`` skipped (xfail included, as pytest writes it), and
   nothing passed. A case with several of them has the first of failure, error, skipped
   (pytest writes a test that fails and then errors in teardown as one case with both, and
   counts it in both ``failures`` and ``errors``; here each case has exactly one outcome, so
   that ``tests`` is always the sum of the outcomes). The message of a case is the first
   line of that child's ``message`` attribute, or else of its text.
4. Earlier attempts of a retried test are children too, in the form Maven Surefire writes and
   the pytest plugin copies: ``<flakyFailure>`` or ``<flakyError>`` for each failed attempt of
   a test that passed in the end, ``<rerunFailure>`` or ``<rerunError>`` for each failed
   attempt of a test that failed in the end. A case with such children ran once more than it
   has of them; one that has no failure, error or skip of its own is *flaky*: it passed, but
   only on a retry, and it is counted as flaky, not as passed. Its message is the first
   failed attempt's.
5. A test the pytest plugin quarantined keeps its real outcome, except that a failure becomes
   ``<skipped type="suitekit.quarantined">`` (counted skipped, as in the file), and its suite
   gets a ``<property name="suitekit.quarantined" value='{"test": ..., "entry": ...}'/>``
   naming the case (``classname::name``) and the quarantine entry that matched it. When the
   suite closes, each such property becomes a :class:`QuarantinedCase` of the result: failed
   when the case was a quarantined skip, a failure or an error, flaky when it was flaky,
   skipped when it was any other skip (``skipif``, ``pytest.skip``, an xfail that failed as
   expected: the test did not run), and passed otherwise. A property whose
   value is not that JSON makes the input unreadable (the plugin never writes one); a
   quarantined skip that no property names is only a skip.
6. When the input has been read to its end, its suites join the output. If it cannot be read,
   is empty, truncated, not well-formed or not JUnit, the reason is recorded, whatever was
   buffered from it is dropped, and the merge goes on with the next input. An input is only
   ever opened for reading.

Why expat's offsets and not ``ElementTree.iterparse`` plus ``ElementTree.tostring``:
``ElementTree`` serialises in pure Python. On 100,000 realistic test cases (the benchmark in
``benchmarks/bench_junit_merge.py``) iterparse alone took 0.5 s and iterparse with one
``tostring`` per case 3.3 s (1.1 s when batched), against a goal of 1 s for the whole merge.
Copying the bytes is also the most faithful copy there is: attribute order, CDATA sections and
character references come out as the test runner wrote them.

Inputs in an ASCII-compatible encoding other than UTF-8 (``ISO-8859-1``, ``cp1252``) are
transcoded case by case; UTF-16 and UTF-32 inputs and inputs with a ``<!DOCTYPE>`` (which no
JUnit writer produces, and whose entities could not be copied) are reported as unreadable.

The output is written to a new folder beside it, then renamed over it with :func:`os.replace`:
a reader sees the previous report or the new one, never a part of one. ``<testsuites>`` carries
``name``, ``tests``, ``failures``, ``errors`` and ``time``; the JUnit schema that pytest tests
its own output against (``junit-10.xsd``) allows no ``skipped`` there, so the skipped count is
in each ``<testsuite>`` and in :attr:`MergeResult.totals`.
"""

from __future__ import annotations

import codecs
import contextlib
import heapq
import itertools
import json
import math
import os
import re
import secrets
import shutil
import xml.parsers.expat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO, Final, Literal

from suitekit._files import JUNIT_LIMIT, FileRefusedError, open_regular, write_problem
from suitekit.errors import ReportError
from suitekit.reporting._junit import Totals
from suitekit.reporting._surefire import (
    ATTEMPT_ELEMENTS,
    QUARANTINED_PROPERTY,
    QUARANTINED_TYPE,
    first_line,
)

__all__ = [
    "CaseOutcome",
    "CaseResult",
    "MergeResult",
    "QuarantineOutcome",
    "QuarantinedCase",
    "SuiteResult",
    "count_junit",
    "merge_junit",
]

CaseOutcome = Literal["passed", "failed", "error", "skipped", "flaky"]
"""The outcome of one test case; ``flaky`` is a case that passed only after failed attempts."""

QuarantineOutcome = Literal["passed", "failed", "flaky", "skipped"]
"""The outcome of a quarantined test in one report (``failed`` covers errors too; ``skipped``:
it did not run, or it was an xfail that failed as expected)."""

_CHUNK: Final = 1 << 20  # bytes read from an input at a time
_WRITE_BUFFER: Final = 1 << 20
_SUITE_CHILDREN: Final = frozenset({"testcase", "properties", "system-out", "system-err"})
# The outcome each child of a <testcase> gives it, and the precedence among several.
_OUTCOMES: Final[Mapping[str, tuple[int, CaseOutcome]]] = {
    "failure": (3, "failed"),
    "error": (2, "error"),
    "skipped": (1, "skipped"),
}
# The children of a copied element that tell something (the rest, <system-out> above all, are
# only copied): tested before any call, as this runs for every child of every case.
_TELLING: Final = frozenset({*_OUTCOMES, *ATTEMPT_ELEMENTS, "property"})
# How strongly an outcome of a quarantined case outweighs another of the same key in a suite:
# a failure anywhere is a failure, a flaky pass still shows a failed attempt, a skip tells the
# least (the test did not run), and a clean pass is never marked.
_MARK_RANK: Final[Mapping[QuarantineOutcome, int]] = {
    "failed": 3,
    "flaky": 2,
    "skipped": 1,
    "passed": 0,
}
_PYTEST_DEFAULT_SUITE: Final = "pytest"
_MESSAGE_TEXT_LIMIT: Final = 4096  # characters of text read to find a message's first line
_WIDE_ENCODING: Final = (
    "encoded in UTF-16 or UTF-32; only UTF-8 (or another ASCII-compatible encoding) is merged"
)
_UTF8_NAMES: Final = frozenset({"utf-8", "ascii"})
_NOT_XML_CHARS: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTRIBUTE_ESCAPES: Final = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseResult:
    """One test case, as merged.

    Attributes:
        suite: The name of the output suite the case belongs to.
        classname: The case's ``classname`` attribute (``""`` when it has none).
        name: The case's ``name`` attribute.
        seconds: The case's ``time`` attribute (0.0 when missing, negative or not a number).
        outcome: ``passed``, ``failed``, ``error``, ``skipped`` or ``flaky``.
        message: The first line of the failure, error or skip message (of a flaky case: of its
            first failed attempt); ``""`` when passed.
        attempts: How many times the case ran: 1, plus one per earlier failed attempt that the
            report records (``<flakyFailure>``, ``<rerunFailure>`` and their ``Error`` forms).
    """

    suite: str
    classname: str
    name: str
    seconds: float
    outcome: CaseOutcome
    message: str
    attempts: int = 1

    @property
    def key(self) -> str:
        """``classname::name``, or the name alone for a case without a class name."""
        return f"{self.classname}::{self.name}" if self.classname else self.name


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantinedCase:
    """A quarantined test case in one suite, as the pytest plugin marked it.

    Attributes:
        suite: The name of the output suite the case belongs to.
        key: The case's ``classname::name``, as the ``suitekit.quarantined`` property names it.
        entry: The ``test`` of the quarantine entry that matched it (``""`` for a quarantined
            failure whose suite has no property naming it).
        outcome: ``failed`` when the test failed or errored (the report shows a quarantined
            failure as skipped), ``flaky`` when it passed only on a retry, ``skipped`` when it
            was skipped (an xfail that failed as expected included), else ``passed``.
        message: The first line of the failure (of a quarantined failure, the skip message
            ``quarantined (<reason>): <failure>``) or of the skip reason; ``""`` when passed.
    """

    suite: str
    key: str
    entry: str
    outcome: QuarantineOutcome
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteResult:
    """One ``<testsuite>`` of the output.

    Attributes:
        name: The input suite's ``name``; the input file's stem when the suite is named
            ``pytest`` (pytest's default; ``-o junit_suite_name=NAME`` sets another) or not named.
        source: The input file the suite comes from.
        totals: The suite's counts and time, recomputed from its test cases.
    """

    name: str
    source: Path
    totals: Totals


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeResult:
    """What :func:`merge_junit` merged, wrote and left out.

    Attributes:
        output: The report written; ``None`` when nothing could be written (which
            :func:`merge_junit` reports by raising :class:`~suitekit.errors.ReportError`, so the
            results it returns always name the file).
        suites: The output's suites, in input order.
        totals: The counts and time of all suites, recomputed from their test cases.
        failed: The failed and errored cases, in input order.
        flaky: The flaky cases (passed only after failed attempts), in input order.
        quarantined: The quarantined cases, suite by suite in input order; in a suite, in the
            order of its ``suitekit.quarantined`` properties.
        slowest: The slowest cases (any outcome), slowest first; on a tie, in input order.
        durations: Suite name to case key (:attr:`CaseResult.key`) to seconds, for every case
            that ran (passed, flaky, failed or errored; skipped cases, quarantined failures
            among them, are left out). A key that occurs more than once in a suite (the same
            suite merged from several runs) keeps its largest time. A retried case's time is
            its final attempt's: the pytest plugin leaves the failed attempts' time out of it.
        unreadable: Each input that could not be merged, with the reason. Such inputs are left
            exactly as they were.
    """

    output: Path | None
    suites: tuple[SuiteResult, ...]
    totals: Totals
    failed: tuple[CaseResult, ...]
    slowest: tuple[CaseResult, ...]
    durations: Mapping[str, Mapping[str, float]]
    unreadable: tuple[tuple[Path, str], ...]
    flaky: tuple[CaseResult, ...] = ()
    quarantined: tuple[QuarantinedCase, ...] = ()


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
    which under xdist is several times larger. Nothing is written anywhere.

    Raises:
        ReportError: The file cannot be read or is not JUnit XML (the message names it).
    """
    reader = _InputReader(path=path, folder=None, buffers=itertools.count(), seq=0)
    total = Totals()
    for suite in reader.read(slowest=0):
        total += replace(suite.totals, seconds=suite.reported_seconds)
    return total


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


class _Suite:
    """One input ``<testsuite>`` being read: its counts and the buffer of its children."""

    __slots__ = (
        "attributes",
        "buffer",
        "depth",
        "durations",
        "errors",
        "failures",
        "flaky",
        "marked",
        "name",
        "quarantine",
        "reported_seconds",
        "seconds",
        "skipped",
        "source",
        "stream",
        "tests",
    )

    def __init__(
        self,
        *,
        name: str,
        source: Path,
        attributes: str,
        buffer: Path | None,
        depth: int,
        reported_seconds: float = 0.0,
    ) -> None:
        self.name = name
        self.source = source
        self.attributes = attributes  # timestamp and hostname, serialised, kept from the input
        self.buffer = buffer  # None: counted only, its children are not kept (count_junit)
        self.depth = depth
        self.reported_seconds = reported_seconds  # the suite's own time attribute (wall time)
        self.stream: BinaryIO | None = (
            buffer.open("xb", buffering=_WRITE_BUFFER) if buffer is not None else None
        )
        self.durations: dict[str, float] = {}
        self.tests = 0
        self.failures = 0
        self.errors = 0
        self.skipped = 0
        self.flaky = 0
        self.seconds = 0.0
        # Case key -> quarantine entry, from the suite's suitekit.quarantined properties.
        self.quarantine: dict[str, str] = {}
        # Case key -> outcome and message, for the cases that did not pass cleanly (failed,
        # flaky and skipped ones): the properties may come after the cases they name, so which
        # of them are quarantined is only known at the suite's end tag.
        self.marked: dict[str, tuple[QuarantineOutcome, str]] = {}

    @property
    def totals(self) -> Totals:
        return Totals(
            tests=self.tests,
            failures=self.failures,
            errors=self.errors,
            skipped=self.skipped,
            flaky=self.flaky,
            seconds=self.seconds,
        )

    def mark(self, key: str, outcome: QuarantineOutcome, message: str) -> None:
        """Remember a case that did not pass cleanly.

        The same key twice in a suite keeps the outcome that tells most: a failure outweighs a
        flaky pass, which outweighs a skip.
        """
        known = self.marked.get(key)
        if known is None or _MARK_RANK[outcome] > _MARK_RANK[known[0]]:
            self.marked[key] = (outcome, message)

    def quarantined(self) -> list[QuarantinedCase]:
        """The suite's quarantined cases, once it has been read to its end tag."""
        cases = [
            QuarantinedCase(
                suite=self.name,
                key=key,
                entry=entry,
                outcome=self.marked.get(key, ("passed", ""))[0],
                message=self.marked.get(key, ("passed", ""))[1],
            )
            for key, entry in self.quarantine.items()
        ]
        self.marked.clear()
        return cases

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None


_SlowEntry = tuple[float, int, str, str, str, CaseOutcome, str, int]


class _InputReader:
    """The expat callbacks that read one input; see the module's documentation."""

    __slots__ = (
        "_attempts",
        "_base",
        "_buffer",
        "_buffers",
        "_case_attributes",
        "_closing",
        "_copy_depth",
        "_copy_name",
        "_copy_start",
        "_depth",
        "_encoding",
        "_first_failure",
        "_folder",
        "_message",
        "_outcome",
        "_outcome_depth",
        "_outcome_rank",
        "_parser",
        "_quarantined",
        "_rooted",
        "_slowest",
        "_suites",
        "_text",
        "_text_of_attempt",
        "failed",
        "flaky",
        "path",
        "quarantined",
        "seq",
        "slow",
        "suites",
    )

    def __init__(
        self, *, path: Path, folder: Path | None, buffers: Iterator[int], seq: int
    ) -> None:
        self.path = path
        self.seq = seq  # how many cases were read before, from all inputs: orders ties
        self.suites: list[_Suite] = []
        self.failed: list[CaseResult] = []
        self.flaky: list[CaseResult] = []
        self.quarantined: list[QuarantinedCase] = []
        self.slow: list[_SlowEntry] = []  # a min-heap of the slowest cases of this input
        self._folder = folder
        self._buffers = buffers
        self._suites: list[_Suite] = []  # the open ones, innermost last
        self._buffer = bytearray()  # the input from byte offset _base on
        self._base = 0
        self._depth = 0
        self._rooted = False
        self._copy_depth = 0  # depth of the element being copied; 0 when none
        self._copy_name = ""
        self._copy_start = 0
        self._closing = b""
        self._case_attributes: dict[str, str] = {}
        self._outcome: CaseOutcome = "passed"
        self._outcome_rank = 0
        self._outcome_depth = 0  # depth of the child whose text gives the message; 0 when none
        self._message = ""
        self._attempts = 0  # earlier failed attempts of the case being read
        self._first_failure = ""  # the first line of the first of them
        self._quarantined = False  # whether the case has a <skipped type="suitekit.quarantined">
        self._text: list[str] = []
        self._text_of_attempt = False  # whether _text is an attempt's, or else the outcome's
        self._encoding = "utf-8"
        self._slowest = 0
        parser = xml.parsers.expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.XmlDeclHandler = self._declaration
        parser.StartDoctypeDeclHandler = self._doctype
        self._parser = parser

    def read(self, *, slowest: int) -> list[_Suite]:
        """Read the input to its end; return its suites, their buffers closed.

        Raises:
            ReportError: The input is unreadable; the message says why.
        """
        self._slowest = slowest
        try:
            # Not a plain open: a FIFO would block it forever, a link to /dev/zero never end.
            stream = open_regular(self.path, limit=JUNIT_LIMIT)
        except FileRefusedError as refused:
            reason = f"cannot be read ({refused.reason}; fix: {refused.fix})"
            raise self._unreadable(reason) from None
        except OSError as error:
            reason = f"cannot be read ({error.strerror or error})"
            raise self._unreadable(reason) from None
        with stream:
            first = True
            total = 0
            while True:
                try:
                    chunk = stream.read(_CHUNK)
                except OSError as error:
                    reason = f"cannot be read ({error.strerror or error})"
                    raise self._unreadable(reason) from None
                total += len(chunk)
                if total > JUNIT_LIMIT:  # it grew while it was read
                    reason = f"cannot be read (it grew past {JUNIT_LIMIT:,} bytes while read)"
                    raise self._unreadable(reason)
                if first:
                    self._check_start(chunk)
                    first = False
                self._buffer += chunk
                try:
                    self._parser.Parse(chunk, not chunk)
                except xml.parsers.expat.ExpatError as error:
                    raise self._parse_error(error, final=not chunk) from None
                if not chunk:
                    return self.suites
                self._forget_read_bytes()

    def discard(self) -> None:
        """Close and delete this input's buffers (the input itself is never touched)."""
        for suite in self.suites:
            suite.close()
            if suite.buffer is not None:
                suite.buffer.unlink(missing_ok=True)
        self.suites.clear()

    def _unreadable(self, reason: str) -> ReportError:
        return ReportError(f"{self.path}: {reason}")

    def _check_start(self, chunk: bytes) -> None:
        if not chunk:
            raise self._unreadable("empty file, not JUnit XML")
        if chunk.startswith((codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)) or b"\0" in chunk[:4]:
            raise self._unreadable(_WIDE_ENCODING)

    def _parse_error(self, error: xml.parsers.expat.ExpatError, *, final: bool) -> ReportError:
        if not self._rooted:
            return self._unreadable(f"not XML ({error})")
        if final:
            return self._unreadable(f"truncated: the XML ends before its root closes ({error})")
        return self._unreadable(f"not well-formed XML ({error})")

    def _forget_read_bytes(self) -> None:
        """Drop the bytes before the element being copied (all of them when none is)."""
        # After a call to Parse, expat's current index is that of its last event: every later
        # event starts at or after it (-1 when there was none yet).
        keep = self._copy_start if self._copy_depth else self._parser.CurrentByteIndex
        if keep > self._base:
            del self._buffer[: keep - self._base]
            self._base = keep

    def _declaration(self, version: str, encoding: str | None, standalone: int) -> None:
        del version, standalone
        if encoding is None:
            return
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            reason = f"not XML in a known encoding ({encoding!r})"
            raise self._unreadable(reason) from None
        if name.startswith(("utf-16", "utf-32")):
            raise self._unreadable(_WIDE_ENCODING)
        self._encoding = name

    def _doctype(
        self, name: str, system_id: str | None, public_id: str | None, internal: int
    ) -> None:
        del system_id, public_id, internal
        reason = f"not JUnit XML: it has a <!DOCTYPE {name}>, which JUnit reports never have"
        raise self._unreadable(reason)

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        depth = self._depth + 1
        self._depth = depth
        if self._copy_depth:
            if depth == self._copy_depth + 1 and name in _TELLING:
                self._child_of_copy(name, attributes, depth)
            return
        if depth == 1:
            self._rooted = True
            if name not in {"testsuites", "testsuite"}:
                reason = (
                    f"not JUnit XML: the root element is <{name}>, not <testsuites> or <testsuite>"
                )
                raise self._unreadable(reason)
        if name == "testsuite":
            self._open_suite(attributes, depth)
        elif self._suites and depth == self._suites[-1].depth + 1 and name in _SUITE_CHILDREN:
            self._copy_depth = depth
            self._copy_name = name
            self._copy_start = self._parser.CurrentByteIndex
            self._closing = f"</{name}".encode()
            if name == "testcase":
                self._case_attributes = attributes
                self._outcome = "passed"
                self._outcome_rank = 0
                self._message = ""
                # _attempts and _quarantined are reset by _record, only for the few cases
                # that set them: this path runs once a case and is kept short.
        elif name == "testcase" and not self._suites:
            raise self._unreadable("not JUnit XML: a <testcase> outside any <testsuite>")

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
            self._capture_text(depth, of_attempt=False)

    def _attempt_child(self, attributes: dict[str, str], depth: int) -> None:
        self._attempts += 1
        if self._attempts > 1:
            return
        self._first_failure = first_line(attributes.get("message", ""))
        if not self._first_failure:  # the first line of its text (its stackTrace) instead
            self._capture_text(depth, of_attempt=True)

    def _capture_text(self, depth: int, *, of_attempt: bool) -> None:
        # Siblings never overlap, so one capture at a time is enough.
        self._outcome_depth = depth
        self._text = []
        self._text_of_attempt = of_attempt
        self._parser.CharacterDataHandler = self._text_of_outcome

    def _property(self, attributes: dict[str, str]) -> None:
        if attributes.get("name") != QUARANTINED_PROPERTY:
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

    def _text_of_outcome(self, text: str) -> None:
        if sum(map(len, self._text)) < _MESSAGE_TEXT_LIMIT:
            self._text.append(text)

    def _end(self, name: str) -> None:
        depth = self._depth
        self._depth = depth - 1
        if depth == self._copy_depth:
            self._copy_element(name)
        elif depth == self._outcome_depth:
            self._parser.CharacterDataHandler = None
            self._outcome_depth = 0
            line = first_line("".join(self._text))
            if self._text_of_attempt:
                self._first_failure = line
            else:
                self._message = line
        elif name == "testsuite" and self._suites and depth == self._suites[-1].depth:
            suite = self._suites.pop()
            suite.close()
            self.quarantined += suite.quarantined()

    def _copy_element(self, name: str) -> None:
        buffer = self._buffer
        at = self._parser.CurrentByteIndex - self._base
        # expat reports the end of <x>...</x> at its end tag, and the end of <x/> just after it
        end = buffer.index(b">", at) + 1 if buffer.startswith(self._closing, at) else at
        data: bytes | bytearray = buffer[self._copy_start - self._base : end]
        if self._encoding not in _UTF8_NAMES:
            data = data.decode(self._encoding).encode()
        suite = self._suites[-1]
        stream = suite.stream
        if stream is not None:  # always: a suite's stream is open until its end tag
            stream.write(data)
        self._copy_depth = 0
        if name == "testcase":
            self._count_case(suite)

    def _count_case(self, suite: _Suite) -> None:
        attributes = self._case_attributes
        classname = attributes.get("classname", "")
        name = attributes.get("name", "")
        seconds = _seconds(attributes.get("time"))
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
        suite: _Suite,
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
        )
        if outcome == "flaky":
            self.flaky.append(case)
            suite.mark(key, "flaky", message)
        else:
            self.failed.append(case)
            suite.mark(key, "failed", message)

    def _open_suite(self, attributes: dict[str, str], depth: int) -> None:
        name = attributes.get("name", "")
        if name in {"", _PYTEST_DEFAULT_SUITE}:
            name = self.path.stem
        kept = "".join(
            f" {key}={_attribute(attributes[key])}"
            for key in ("timestamp", "hostname")
            if key in attributes
        )
        buffer = self._folder / f"{next(self._buffers)}.part" if self._folder is not None else None
        suite = _Suite(
            name=name,
            source=self.path,
            attributes=kept,
            buffer=buffer,
            depth=depth,
            reported_seconds=_seconds(attributes.get("time")),
        )
        self._suites.append(suite)
        self.suites.append(suite)


class _Merge:
    """The suites and cases of the inputs merged so far."""

    def __init__(self, *, slowest: int) -> None:
        self.slowest = slowest
        self.seq = 0
        self.suites: list[_Suite] = []
        self.totals = Totals()
        self.failed: list[CaseResult] = []
        self.flaky: list[CaseResult] = []
        self.quarantined: list[QuarantinedCase] = []
        self.slow: list[_SlowEntry] = []
        self.durations: dict[str, dict[str, float]] = {}
        self.unreadable: list[tuple[Path, str]] = []

    def add(self, reader: _InputReader, suites: list[_Suite]) -> None:
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
                SuiteResult(name=suite.name, source=suite.source, totals=suite.totals)
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


def _write_report(path: Path, suites: Sequence[_Suite], totals: Totals) -> None:
    """Write the report to ``path``: the suites' buffers between their recomputed start tags."""
    with path.open("xb") as report:
        report.write(b'<?xml version="1.0" encoding="utf-8"?>\n')
        report.write(f'<testsuites name="suitekit"{_counts(totals, skipped=False)}>\n'.encode())
        for suite in suites:
            name = _attribute(suite.name)
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


def _counts(totals: Totals, *, skipped: bool) -> str:
    # SUREFIRE_TIME is (([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]{0,3})?: digits, a point
    # and at most three decimals; case times are never negative, so neither are the sums.
    counts = f' tests="{totals.tests}" failures="{totals.failures}" errors="{totals.errors}"'
    if skipped:
        counts += f' skipped="{totals.skipped}"'
    return f'{counts} time="{totals.seconds:.3f}"'


def _attribute(value: str) -> str:
    """``value`` as a quoted XML attribute value (characters XML cannot hold are dropped)."""
    return f'"{_NOT_XML_CHARS.sub("", value).translate(_ATTRIBUTE_ESCAPES)}"'


def _seconds(text: str | None) -> float:
    if not text:
        return 0.0
    try:
        seconds = float(text)
    except ValueError:
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0.0 else 0.0
