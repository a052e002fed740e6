"""Reading one JUnit input: bounded, streaming and fault-tolerant, byte for byte.

:class:`JUnitInput` is the part of :func:`~suitekit.reporting._merge.merge_junit` (and of
:func:`~suitekit.reporting._merge.count_junit`) that knows how a JUnit file is read, not what
its test cases mean; the merge's reader subclasses it and gives the cases their outcomes.

1. The file is opened with :func:`~suitekit._files.open_regular` (a FIFO would block a plain
   open forever, a link to ``/dev/zero`` never end) and refused above
   :data:`~suitekit._files.JUNIT_LIMIT` bytes, also when it grows while it is read. It is fed
   to an expat parser in chunks; the parser's callbacks see each start and end tag, and nothing
   builds a tree.
2. Each direct child of a ``<testsuite>`` that the JUnit schema allows there (``<testcase>``,
   ``<properties>``, ``<system-out>``, ``<system-err>``) is copied *byte for byte* from the input
   into that suite's buffer file, using the parser's byte offsets of its start and end tags.
   The bytes are already well-formed XML (the parser checked them), so they need no
   re-serialising. Only the last chunk and the element being copied are held in memory.
3. The direct children of a copied element that the subclass names in :attr:`JUnitInput.telling`
   are reported to it, and it may ask for the first line of one's text.
4. If the input cannot be read, is empty, truncated, not well-formed or not JUnit, a
   :class:`~suitekit.errors.ReportError` says why, and :meth:`JUnitInput.discard` drops whatever
   was buffered from it. An input is only ever opened for reading.

Why expat's offsets and not ``ElementTree.iterparse`` plus ``ElementTree.tostring``:
``ElementTree`` serialises in pure Python. On 100,000 realistic test cases (the benchmark in
``benchmarks/bench_junit_merge.py``) iterparse alone took 0.5 s and iterparse with one
``tostring`` per case 3.3 s (1.1 s when batched), against a goal of 1 s for the whole merge.
Copying the bytes is also the most faithful copy there is: attribute order, CDATA sections and
character references come out as the test runner wrote them.

Inputs in an ASCII-compatible encoding other than UTF-8 (``ISO-8859-1``, ``cp1252``) are
transcoded case by case; UTF-16 and UTF-32 inputs and inputs with a ``<!DOCTYPE>`` (which no
JUnit writer produces, and whose entities could not be copied) are reported as unreadable.
"""

from __future__ import annotations

import codecs
import math
import re
import xml.parsers.expat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, ClassVar, Final

from suitekit._files import JUNIT_LIMIT, FileRefusedError, open_regular
from suitekit.errors import ReportError
from suitekit.reporting._junit import Totals
from suitekit.reporting._results import QuarantinedCase, QuarantineOutcome
from suitekit.reporting._surefire import first_line

__all__ = ["InputSuite", "JUnitInput", "seconds_of", "xml_attribute"]

_WRITE_BUFFER: Final = 1 << 20
_SUITE_CHILDREN: Final = frozenset({"testcase", "properties", "system-out", "system-err"})
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


class InputSuite:
    """One input ``<testsuite>`` being read: its counts and the buffer of its children."""

    __slots__ = (
        "attributes",
        "buffer",
        "depth",
        "durations",
        "errors",
        "failures",
        "flaky",
        "locations",
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
        """Open the suite's buffer file (when it has one) and start its counts at zero."""
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
        # Case key -> (node id, file, line), from the suite's suitekit.location properties.
        self.locations: dict[str, tuple[str, str, int | None]] = {}
        # Case key -> outcome and message, for the cases that did not pass cleanly (failed,
        # flaky and skipped ones): the properties may come after the cases they name, so which
        # of them are quarantined is only known at the suite's end tag.
        self.marked: dict[str, tuple[QuarantineOutcome, str]] = {}

    @property
    def totals(self) -> Totals:
        """The suite's counts and the sum of its cases' times, so far."""
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
        """Close the buffer file (the suite's end tag was read, or the input is dropped)."""
        if self.stream is not None:
            self.stream.close()
            self.stream = None


class JUnitInput:
    """The expat callbacks that read one input; see the module's documentation.

    A subclass gives the test cases their meaning through the hooks (``_case_started``,
    ``_child_of_copy``, ``_text_captured``, ``_case_ended``, ``_suite_ended``), which do
    nothing here.
    """

    __slots__ = (
        "_base",
        "_buffer",
        "_buffers",
        "_closing",
        "_copy_depth",
        "_copy_name",
        "_copy_start",
        "_depth",
        "_encoding",
        "_folder",
        "_parser",
        "_rooted",
        "_suites",
        "_text",
        "_text_depth",
        "path",
        "suites",
    )

    telling: ClassVar[frozenset[str]] = frozenset()
    """The children of a copied element reported to ``_child_of_copy`` (the rest, <system-out>
    above all, are only copied): tested before any call, as this runs for every child."""

    def __init__(self, *, path: Path, folder: Path | None, buffers: Iterator[int]) -> None:
        """Prepare to read ``path``, buffering its suites in ``folder`` (``None``: count only)."""
        self.path = path
        self.suites: list[InputSuite] = []
        self._folder = folder
        self._buffers = buffers  # numbers the buffer files, unique across the inputs
        self._suites: list[InputSuite] = []  # the open ones, innermost last
        self._buffer = bytearray()  # the input from byte offset _base on
        self._base = 0
        self._depth = 0
        self._rooted = False
        self._copy_depth = 0  # depth of the element being copied; 0 when none
        self._copy_name = ""
        self._copy_start = 0
        self._closing = b""
        self._text_depth = 0  # depth of the element whose text is captured; 0 when none
        self._text: list[str] = []
        self._encoding = "utf-8"
        parser = xml.parsers.expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.XmlDeclHandler = self._declaration
        parser.StartDoctypeDeclHandler = self._doctype
        self._parser = parser

    def _read(self, chunk_size: int) -> list[InputSuite]:
        """Read the input to its end, ``chunk_size`` bytes at a time; return its suites.

        Raises:
            ReportError: The input is unreadable; the message says why.
        """
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
                    chunk = stream.read(chunk_size)
                except OSError as error:
                    reason = f"cannot be read ({error.strerror or error})"
                    raise self._unreadable(reason) from None
                total += len(chunk)
                if total > JUNIT_LIMIT:  # it grew while it was read
                    reason = f"cannot be read (it grew past {JUNIT_LIMIT:,} bytes while read)"
                    raise self._unreadable(reason)
                if first and (problem := _problem_of_start(chunk)):
                    raise self._unreadable(problem)
                first = False
                self._buffer += chunk
                try:
                    self._parser.Parse(chunk, not chunk)
                except xml.parsers.expat.ExpatError as error:
                    problem = _parse_problem(error, rooted=self._rooted, final=not chunk)
                    raise self._unreadable(problem) from None
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
            if depth == self._copy_depth + 1 and name in self.telling:
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
                self._case_started(attributes)
        elif name == "testcase" and not self._suites:
            raise self._unreadable("not JUnit XML: a <testcase> outside any <testsuite>")

    def _capture_text(self, depth: int) -> None:
        """Capture the text of the element at ``depth``; see ``_text_captured``."""
        # Siblings never overlap, so one capture at a time is enough.
        self._text_depth = depth
        self._text = []
        self._parser.CharacterDataHandler = self._text_of_element

    def _text_of_element(self, text: str) -> None:
        if sum(map(len, self._text)) < _MESSAGE_TEXT_LIMIT:
            self._text.append(text)

    def _end(self, name: str) -> None:
        depth = self._depth
        self._depth = depth - 1
        if depth == self._copy_depth:
            self._copy_element(name)
        elif depth == self._text_depth:
            self._parser.CharacterDataHandler = None
            self._text_depth = 0
            self._text_captured(first_line("".join(self._text)))
        elif name == "testsuite" and self._suites and depth == self._suites[-1].depth:
            suite = self._suites.pop()
            suite.close()
            self._suite_ended(suite)

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
            self._case_ended(suite)

    def _open_suite(self, attributes: dict[str, str], depth: int) -> None:
        name = attributes.get("name", "")
        if name in {"", _PYTEST_DEFAULT_SUITE}:
            name = self.path.stem
        kept = "".join(
            f" {key}={xml_attribute(attributes[key])}"
            for key in ("timestamp", "hostname")
            if key in attributes
        )
        buffer = self._folder / f"{next(self._buffers)}.part" if self._folder is not None else None
        suite = InputSuite(
            name=name,
            source=self.path,
            attributes=kept,
            buffer=buffer,
            depth=depth,
            reported_seconds=seconds_of(attributes.get("time")),
        )
        self._suites.append(suite)
        self.suites.append(suite)

    # The hooks, called as the input is read.

    def _case_started(self, attributes: dict[str, str]) -> None:
        """A ``<testcase>`` of a suite starts (it is being copied)."""

    def _child_of_copy(self, name: str, attributes: dict[str, str], depth: int) -> None:
        """A direct child, named in :attr:`telling`, of the suite child being copied."""

    def _text_captured(self, line: str) -> None:
        """The first line of the text ``_capture_text`` asked for, at the element's end."""

    def _case_ended(self, suite: InputSuite) -> None:
        """A ``<testcase>`` of ``suite`` was copied to its end tag."""

    def _suite_ended(self, suite: InputSuite) -> None:
        """``suite`` was read to its end tag (its buffer is closed)."""


def _problem_of_start(chunk: bytes) -> str:
    """Why an input whose first chunk this is cannot be JUnit XML (``""``: it may be)."""
    if not chunk:
        return "empty file, not JUnit XML"
    if chunk.startswith((codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)) or b"\0" in chunk[:4]:
        return _WIDE_ENCODING
    return ""


def _parse_problem(error: xml.parsers.expat.ExpatError, *, rooted: bool, final: bool) -> str:
    """Why expat stopped: not XML at all, truncated at the end, or broken in the middle."""
    if not rooted:
        return f"not XML ({error})"
    if final:
        return f"truncated: the XML ends before its root closes ({error})"
    return f"not well-formed XML ({error})"


def xml_attribute(value: str) -> str:
    """``value`` as a quoted XML attribute value (characters XML cannot hold are dropped)."""
    return f'"{_NOT_XML_CHARS.sub("", value).translate(_ATTRIBUTE_ESCAPES)}"'


def seconds_of(text: str | None) -> float:
    """A ``time`` attribute as seconds: 0.0 when missing, negative or not a number."""
    if not text:
        return 0.0
    try:
        seconds = float(text)
    except ValueError:
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0.0 else 0.0
