"""Unit tests of the JUnit merge (suitekit.reporting._merge.merge_junit).

Inputs come from real pytest runs (through ``pytester``) and from hand-written files; every
merged report is validated against the JUnit schema that pytest's own tests use
(``testing/example_scripts/junit-10.xsd``), taken from pytest's source distribution.
"""

from __future__ import annotations

import codecs
import dataclasses
import itertools
import json
import re
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

# pytester's in-process runs restore sys.modules when they end: without this import each run
# would import hypothesis (a plugin here) afresh, about a second apiece.
import hypothesis.internal.observability  # noqa: F401 - imported for its side effect above
import pytest

from suitekit.errors import ReportError
from suitekit.reporting import Totals, _merge, _surefire
from suitekit.reporting._merge import merge_junit
from suitekit.reporting._results import CaseResult, QuarantinedCase

SUREFIRE_TIME: Final = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]{0,3})?")

PYTEST_MODULE: Final = """
import logging
import sys

import pytest


@pytest.fixture
def database():
    raise RuntimeError("no database\\nsecond line")


def test_passes():
    print("hello from stdout <&>")
    sys.stderr.write("hello from stderr\\n")
    logging.getLogger(__name__).warning("a log line")


def test_fails():
    print("output of a failing test")
    raise ValueError("boom <&>\\nsecond line")


def test_errors(database):
    pass


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known bug")
def test_xfails():
    assert False


class TestGroup:
    def test_method(self):
        assert 1 + 1 == 3

    @pytest.mark.parametrize("value", [1, 2])
    def test_param(self, value):
        assert value
"""


# --- inputs ---------------------------------------------------------------------------------


def parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - files these tests wrote


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(textwrap.dedent(text).strip().encode(encoding))
    return path


def case(name: str, seconds: float, body: str = "", classname: str = "tests.test_x") -> str:
    head = f'<testcase classname="{classname}" name="{name}" time="{seconds}"'
    return f"{head}>{body}</testcase>" if body else f"{head}/>"


def suite(name: str, *cases: str) -> str:
    # Counts deliberately wrong: the merge recomputes them from the cases.
    start = f'<testsuite name="{name}" tests="99" failures="99" errors="99">'
    return f"{start}{''.join(cases)}</testsuite>"


def report(*suites: str) -> str:
    return f'<?xml version="1.0" encoding="utf-8"?><testsuites>{"".join(suites)}</testsuites>'


GOOD: Final = report(
    suite("good", case("test_ok", 0.5), case("test_bad", 0.5, "<failure message='x'/>"))
)


def pytest_junit(pytester: pytest.Pytester, name: str, *options: str) -> Path:
    """Run pytest on PYTEST_MODULE and return its JUnit XML file."""
    pytester.makepyfile(test_module=PYTEST_MODULE)
    path = pytester.path / "junit" / f"{name}.xml"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", f"--junitxml={path}", "-o", "junit_logging=all", *options
    )
    result.assert_outcomes(passed=3, failed=2, errors=1, skipped=1, xfailed=1)
    return path


def attribute_totals(path: Path) -> Totals:
    """The totals the input's own <testsuite> attributes claim (pytest's counts)."""
    root = parse(path)
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = Totals()
    for element in suites:
        total += Totals(
            tests=int(element.get("tests", "0")),
            failures=int(element.get("failures", "0")),
            errors=int(element.get("errors", "0")),
            skipped=int(element.get("skipped", "0")),
        )
    return total


def snapshot(paths: Sequence[Path]) -> dict[Path, tuple[bytes, int]]:
    """Each existing file's bytes and modification time, to prove the merge left it alone."""
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in paths if path.is_file()}


def cases_of(element: ET.Element) -> list[bytes]:
    return [ET.tostring(child) for child in element.iter("testcase")]


def without_time(totals: Totals) -> tuple[int, int, int, int]:
    return totals.tests, totals.failures, totals.errors, totals.skipped


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


# --- pytest's own reports ---------------------------------------------------------------------


def test_totals_are_the_sum_of_pytests_own_counts(
    pytester: pytest.Pytester, tmp_path: Path, valid: Callable[[Path], None]
) -> None:
    unit = pytest_junit(pytester, "unit-3.11", "-o", "junit_suite_name=unit")
    slow = pytest_junit(pytester, "slow-3.11", "-o", "junit_suite_name=slow")
    before = snapshot([unit, slow])

    result = merge_junit([unit, slow], tmp_path / "merged.xml")

    assert result.output == tmp_path / "merged.xml"
    assert result.unreadable == ()
    expected = attribute_totals(unit) + attribute_totals(slow)
    assert without_time(result.totals) == without_time(expected) == (16, 4, 2, 4)
    assert [suite.name for suite in result.suites] == ["unit", "slow"]
    assert [suite.source for suite in result.suites] == [unit, slow]
    assert all(without_time(s.totals) == (8, 2, 1, 2) for s in result.suites)
    case_seconds = sum(
        float(c.get("time", "0")) for p in (unit, slow) for c in parse(p).iter("testcase")
    )
    assert result.totals.seconds == pytest.approx(case_seconds)
    assert snapshot([unit, slow]) == before
    valid(tmp_path / "merged.xml")

    merged = parse(tmp_path / "merged.xml")
    assert merged.tag == "testsuites"
    assert merged.attrib == {
        "name": "suitekit",
        "tests": "16",
        "failures": "4",
        "errors": "2",
        "time": f"{result.totals.seconds:.3f}",
    }
    suites = merged.findall("testsuite")
    assert [s.get("name") for s in suites] == ["unit", "slow"]
    for element, source in zip(suites, (unit, slow), strict=True):
        original = parse(source).find("testsuite")
        assert original is not None
        # Every case is kept whole: its attributes, failure text, system-out and system-err.
        assert cases_of(element) == cases_of(original)
        assert element.get("timestamp") == original.get("timestamp")
        assert element.get("hostname") == original.get("hostname")
        assert (element.get("tests"), element.get("skipped")) == ("8", "2")


def test_pytests_default_suite_name_becomes_the_file_stem(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    junit = pytest_junit(pytester, "integration-3.12")

    result = merge_junit([junit], tmp_path / "merged.xml")

    assert parse(junit).find("testsuite") is not None
    assert [suite.name for suite in result.suites] == ["integration-3.12"]
    assert {case.suite for case in result.failed} == {"integration-3.12"}


def test_failed_cases_carry_the_first_line_of_their_message(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    junit = pytest_junit(pytester, "unit", "-o", "junit_suite_name=unit")

    result = merge_junit([junit], tmp_path / "merged.xml")

    assert [(c.key, c.outcome, c.message) for c in result.failed] == [
        ("test_module::test_fails", "failed", "ValueError: boom <&>"),
        ("test_module::test_errors", "error", 'failed on setup with "RuntimeError: no database'),
        ("test_module.TestGroup::test_method", "failed", "assert (1 + 1) == 3"),
    ]
    assert all(c.suite == "unit" and c.seconds >= 0.0 for c in result.failed)


def test_durations_cover_the_cases_that_ran(pytester: pytest.Pytester, tmp_path: Path) -> None:
    junit = pytest_junit(pytester, "unit", "-o", "junit_suite_name=unit")

    result = merge_junit([junit], tmp_path / "merged.xml")

    assert list(result.durations) == ["unit"]
    assert sorted(result.durations["unit"]) == [
        "test_module.TestGroup::test_method",
        "test_module.TestGroup::test_param[1]",
        "test_module.TestGroup::test_param[2]",
        "test_module::test_errors",
        "test_module::test_fails",
        "test_module::test_passes",
    ]
    assert all(seconds >= 0.0 for seconds in result.durations["unit"].values())


# --- hand-written reports -------------------------------------------------------------------


def test_each_input_suite_becomes_one_output_suite(
    tmp_path: Path, valid: Callable[[Path], None]
) -> None:
    first = write(
        tmp_path / "in" / "shard-1.xml",
        report(
            suite("api", case("test_a", 0.5), case("test_b", 0.25, "<failure message='no'/>")),
            suite("db", case("test_c", 1.0, "<skipped/>")),
        ),
    )
    errored = case("test_d", 2.0, '<error message="boom"/>')
    second = write(
        tmp_path / "in" / "shard-2.xml",
        f'<testsuite name="api" timestamp="2025-01-01T00:00:00" hostname="ci-7">{errored}'
        "</testsuite>",
    )

    result = merge_junit([first, second], tmp_path / "merged.xml")

    valid(tmp_path / "merged.xml")
    assert [(s.name, s.source, s.totals) for s in result.suites] == [
        ("api", first, Totals(tests=2, failures=1, seconds=0.75)),
        ("db", first, Totals(tests=1, skipped=1, seconds=1.0)),
        ("api", second, Totals(tests=1, errors=1, seconds=2.0)),
    ]
    assert result.totals == Totals(tests=4, failures=1, errors=1, skipped=1, seconds=3.75)
    suites = parse(tmp_path / "merged.xml").findall("testsuite")
    assert [dict(s.attrib) for s in suites] == [
        {
            "name": "api",
            "tests": "2",
            "failures": "1",
            "errors": "0",
            "skipped": "0",
            "time": "0.750",
        },
        {
            "name": "db",
            "tests": "1",
            "failures": "0",
            "errors": "0",
            "skipped": "1",
            "time": "1.000",
        },
        {
            "name": "api",
            "tests": "1",
            "failures": "0",
            "errors": "1",
            "skipped": "0",
            "time": "2.000",
            "timestamp": "2025-01-01T00:00:00",
            "hostname": "ci-7",
        },
    ]
    assert [[c.get("name") for c in s] for s in suites] == [
        ["test_a", "test_b"],
        ["test_c"],
        ["test_d"],
    ]


def test_a_bare_testsuite_root_is_one_suite(tmp_path: Path, valid: Callable[[Path], None]) -> None:
    bare = write(
        tmp_path / "bare.xml",
        """
        <?xml version="1.0"?>
        <testsuite name="pytest" tests="1" failures="0" errors="0">
          <properties><property name="commit" value="abc123"/></properties>
          <testcase name="test_no_class" time="0.1"
            ><system-out>out <![CDATA[<raw>]]></system-out></testcase>
          <system-err>suite-level &amp; kept</system-err>
        </testsuite>
        """,
    )

    result = merge_junit([bare], tmp_path / "merged.xml")

    valid(tmp_path / "merged.xml")
    assert [(s.name, s.totals.tests) for s in result.suites] == [("bare", 1)]
    merged = parse(tmp_path / "merged.xml")
    element = merged.find("testsuite")
    assert element is not None
    assert [child.tag for child in element] == ["properties", "testcase", "system-err"]
    assert element.findtext("testcase/system-out") == "out <raw>"
    assert element.findtext("system-err") == "suite-level & kept"
    assert result.durations == {"bare": {"test_no_class": 0.1}}
    # The children are copied byte for byte, CDATA section included.
    assert (
        b"<system-out>out <![CDATA[<raw>]]></system-out>" in (tmp_path / "merged.xml").read_bytes()
    )


def test_a_message_without_attribute_is_taken_from_the_text(tmp_path: Path) -> None:
    junit = write(
        tmp_path / "unit.xml",
        report(
            suite(
                "unit",
                case("test_text", 0.1, "<failure>\n\n  AssertionError: first\nsecond</failure>"),
                case("test_both", 0.1, '<failure message="from the attribute">text</failure>'),
                case("test_empty", 0.1, "<error/>"),
                case("test_multi", 0.1, '<failure message="line one&#10;line two"/>'),
            )
        ),
    )

    result = merge_junit([junit], tmp_path / "merged.xml")

    assert [(c.name, c.outcome, c.message) for c in result.failed] == [
        ("test_text", "failed", "AssertionError: first"),
        ("test_both", "failed", "from the attribute"),
        ("test_empty", "error", ""),
        ("test_multi", "failed", "line one"),
    ]


def test_a_case_with_several_outcomes_has_the_first_of_failure_error_skipped(
    tmp_path: Path,
) -> None:
    # pytest writes a test that fails and then errors in teardown as one case with both
    # children (and counts it in both failures and errors); the merge counts it once, as failed.
    junit = write(
        tmp_path / "unit.xml",
        report(
            suite(
                "unit",
                case(
                    "test_fails_twice", 0.1, '<error message="teardown"/><failure message="call"/>'
                ),
                case("test_skip_error", 0.1, '<skipped message="skip"/><error message="error"/>'),
            )
        ),
    )

    result = merge_junit([junit], tmp_path / "merged.xml")

    assert [(c.name, c.outcome, c.message) for c in result.failed] == [
        ("test_fails_twice", "failed", "call"),
        ("test_skip_error", "error", "error"),
    ]
    assert result.totals == Totals(tests=2, failures=1, errors=1, seconds=0.2)


def test_slowest_cases_come_slowest_first_ties_in_input_order(tmp_path: Path) -> None:
    first = write(
        tmp_path / "a.xml",
        report(
            suite("a", case("t1", 0.5), case("t2", 3.0, "<skipped/>"), case("t3", 1.0)),
            suite("b", case("t4", 2.0, "<failure message='m'/>"), case("t5", 1.0)),
        ),
    )
    second = write(tmp_path / "b.xml", report(suite("c", case("t6", 1.0), case("t7", 0.1))))

    def slowest(count: int) -> list[tuple[str, str, float]]:
        result = merge_junit([first, second], tmp_path / "merged.xml", slowest=count)
        return [(c.suite, c.name, c.seconds) for c in result.slowest]

    assert slowest(4) == [("a", "t2", 3.0), ("b", "t4", 2.0), ("a", "t3", 1.0), ("b", "t5", 1.0)]
    assert slowest(5)[-1] == ("c", "t6", 1.0)
    assert len(slowest(100)) == 7
    assert slowest(0) == []
    assert merge_junit([first], tmp_path / "merged.xml", slowest=1).slowest == (
        CaseResult(
            suite="a",
            classname="tests.test_x",
            name="t2",
            seconds=3.0,
            outcome="skipped",
            message="",
        ),
    )
    with pytest.raises(ValueError, match="slowest must be 0 or more, not -1"):
        merge_junit([first], tmp_path / "merged.xml", slowest=-1)


def test_durations_by_suite_and_key(tmp_path: Path) -> None:
    shard_1 = write(
        tmp_path / "1.xml",
        report(
            suite(
                "unit",
                case("test_a", 0.5),
                case("test_b", 0.7, "<failure/>"),
                case("test_c", 9.0, "<skipped/>"),
                case("test_free", 0.2, classname=""),
            )
        ),
    )
    shard_2 = write(
        tmp_path / "2.xml",
        report(
            suite("unit", case("test_a", 0.9), case("test_d", 0.1, "<error/>")),
            suite("e2e", case("t", 1.5)),
        ),
    )

    result = merge_junit([shard_1, shard_2], tmp_path / "merged.xml")

    assert result.durations == {
        "unit": {
            "tests.test_x::test_a": 0.9,  # in both runs: the larger time
            "tests.test_x::test_b": 0.7,
            "test_free": 0.2,
            "tests.test_x::test_d": 0.1,
        },
        "e2e": {"tests.test_x::t": 1.5},
    }


def test_times_satisfy_the_schemas_time_pattern(
    tmp_path: Path, valid: Callable[[Path], None]
) -> None:
    junit = write(
        tmp_path / "unit.xml",
        report(
            suite(
                "unit",
                case("test_long", 12345.6789),
                case("test_tiny", 1e-7),
                case("test_negative", -3),
                case("test_nan", float("nan")),
                '<testcase name="test_no_time"/>',
                '<testcase name="test_bad_time" time="soon"/>',
            )
        ),
    )

    result = merge_junit([junit], tmp_path / "merged.xml")

    valid(tmp_path / "merged.xml")
    assert result.totals.seconds == pytest.approx(12345.6789)
    assert [c.seconds for c in result.slowest] == [12345.6789, 1e-7, 0.0, 0.0, 0.0, 0.0]
    merged = parse(tmp_path / "merged.xml")
    times = [merged.get("time"), *(s.get("time") for s in merged.iter("testsuite"))]
    assert times == ["12345.679", "12345.679"]
    assert all(SUREFIRE_TIME.fullmatch(t or "") for t in times)


def test_an_ascii_compatible_encoding_is_transcoded(
    tmp_path: Path, valid: Callable[[Path], None]
) -> None:
    junit = write(
        tmp_path / "latin.xml",
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        + report(
            suite("unit", case("test_café", 0.1, "<failure message='déjà vu'>où</failure>"))
        ).split("?>", 1)[1],
        encoding="latin-1",
    )

    result = merge_junit([junit], tmp_path / "merged.xml")

    valid(tmp_path / "merged.xml")
    assert [(c.name, c.message) for c in result.failed] == [("test_café", "déjà vu")]
    assert parse(tmp_path / "merged.xml").findtext("testsuite/testcase/failure") == "où"


def test_a_utf8_byte_order_mark_is_fine(tmp_path: Path, valid: Callable[[Path], None]) -> None:
    junit = tmp_path / "bom.xml"
    junit.write_bytes(codecs.BOM_UTF8 + GOOD.replace("'x'", "'é'").encode())

    result = merge_junit([junit], tmp_path / "merged.xml")

    valid(tmp_path / "merged.xml")
    assert [(c.name, c.message) for c in result.failed] == [("test_bad", "é")]
    assert cases_of(parse(tmp_path / "merged.xml")) == cases_of(parse(junit))


@pytest.mark.parametrize("chunk", [1, 7, 64, 4096])
def test_any_chunk_boundary_gives_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    cases = [
        case(f"test_{index}", index / 10, body)
        for index, body in enumerate(
            itertools.islice(
                itertools.cycle(
                    [
                        "",
                        "<failure message='m'>trace &lt;x&gt; /&gt;</failure>",
                        "<system-out><![CDATA[</testcase>]]></system-out>",
                        "<skipped/>",
                        "<error message='e'/><system-err>err</system-err>",
                    ]
                ),
                40,
            )
        )
    ]
    junit = write(tmp_path / "in.xml", report(suite("a", *cases[:25]), suite("b", *cases[25:])))
    reference = merge_junit([junit], tmp_path / "reference.xml")

    monkeypatch.setattr(_merge, "_CHUNK", chunk)
    result = merge_junit([junit], tmp_path / "merged.xml")

    assert (tmp_path / "merged.xml").read_bytes() == (tmp_path / "reference.xml").read_bytes()
    assert result == dataclasses.replace(reference, output=tmp_path / "merged.xml")
    assert cases_of(parse(tmp_path / "merged.xml")) == cases_of(parse(junit))


# --- unreadable inputs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"", r"empty file", id="empty"),
        pytest.param(
            GOOD.encode()[:-30],
            r"truncated: the XML ends before its root closes \(.*: line 1, column 256\)",
            id="truncated",
        ),
        pytest.param(
            GOOD.encode()[:150],
            r"truncated: the XML ends before its root closes \(unclosed token",
            id="cut-in-a-tag",
        ),
        pytest.param(
            b"PK\x03\x04 binary junk",
            r"not XML \(not well-formed \(invalid token\): line 1, column 2\)",
            id="not-xml",
        ),
        pytest.param(
            b"<testsuites><testsuite></testsuites>",
            r"not well-formed XML \(mismatched tag",
            id="bad",
        ),
        pytest.param(
            b"<html><body>502 Bad Gateway</body></html>",
            r"not JUnit XML: the root element is <html>",
            id="html",
        ),
        pytest.param(
            b'<testsuites><testcase name="x"/></testsuites>',
            r"not JUnit XML: a <testcase> outside any <testsuite>",
            id="case-outside-suite",
        ),
        pytest.param(
            b'<!DOCTYPE lolz [<!ENTITY lol "lol">]><testsuites/>',
            r"not JUnit XML: it has a <!DOCTYPE lolz>",
            id="doctype",
        ),
        pytest.param(
            codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le"), r"encoded in UTF-16", id="utf-16"
        ),
    ],
)
def test_an_unreadable_input_is_reported_and_left_alone(
    tmp_path: Path, valid: Callable[[Path], None], content: bytes, reason: str
) -> None:
    inputs = tmp_path / "in"
    first = write(inputs / "first.xml", GOOD)
    broken = inputs / "broken.xml"
    broken.write_bytes(content)
    last = write(inputs / "last.xml", GOOD.replace('"good"', '"last"'))
    before = snapshot([first, broken, last])
    listing = sorted(inputs.iterdir())

    result = merge_junit([first, broken, last], tmp_path / "merged.xml")

    assert [path for path, _ in result.unreadable] == [broken]
    assert re.match(rf"{re.escape(str(broken))}: {reason}", result.unreadable[0][1])
    assert [s.name for s in result.suites] == ["good", "last"]
    assert result.totals == Totals(tests=4, failures=2, seconds=2.0)
    assert [c.suite for c in result.failed] == ["good", "last"]
    assert list(result.durations) == ["good", "last"]
    assert snapshot([first, broken, last]) == before
    assert sorted(inputs.iterdir()) == listing
    assert leftovers(tmp_path) == []
    valid(tmp_path / "merged.xml")


def test_an_input_that_cannot_be_opened_is_reported(tmp_path: Path) -> None:
    good = write(tmp_path / "good.xml", GOOD)
    missing = tmp_path / "missing.xml"
    folder = tmp_path / "folder.xml"
    folder.mkdir()

    result = merge_junit([missing, good, folder], tmp_path / "merged.xml")

    assert [(path, reason.split(" (")[0]) for path, reason in result.unreadable] == [
        (missing, f"{missing}: cannot be read"),
        (folder, f"{folder}: cannot be read"),
    ]
    assert "No such file or directory" in result.unreadable[0][1]
    assert [s.name for s in result.suites] == ["good"]
    assert not missing.exists()
    assert folder.is_dir()


def test_when_every_input_is_unreadable_the_report_is_valid_and_empty(
    tmp_path: Path, valid: Callable[[Path], None]
) -> None:
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    truncated = write(tmp_path / "truncated.xml", GOOD[:60])

    result = merge_junit([empty, truncated], tmp_path / "reports" / "merged.xml")

    assert result.output == tmp_path / "reports" / "merged.xml"
    assert [path for path, _ in result.unreadable] == [empty, truncated]
    assert (result.suites, result.failed, result.slowest, dict(result.durations)) == (
        (),
        (),
        (),
        {},
    )
    assert result.totals == Totals()
    valid(tmp_path / "reports" / "merged.xml")
    merged = parse(tmp_path / "reports" / "merged.xml")
    assert (merged.tag, len(merged)) == ("testsuites", 0)
    assert merged.attrib == {
        "name": "suitekit",
        "tests": "0",
        "failures": "0",
        "errors": "0",
        "time": "0.000",
    }
    assert empty.read_bytes() == b""


def test_no_inputs_give_an_empty_report(tmp_path: Path, valid: Callable[[Path], None]) -> None:
    result = merge_junit([], tmp_path / "merged.xml")

    assert result.totals == Totals()
    valid(tmp_path / "merged.xml")


# --- the output -----------------------------------------------------------------------------


def test_the_previous_report_survives_a_failure_midway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write(tmp_path / "in" / "a.xml", GOOD)
    second = write(tmp_path / "in" / "b.xml", GOOD)
    output = write(tmp_path / "merged.xml", "<testsuites/> previous report")
    before = snapshot([first, second, output])
    read = _merge._InputReader.read
    calls = 0

    def read_then_crash(reader: _merge._InputReader, *, slowest: int) -> object:
        nonlocal calls
        calls += 1
        if calls == 2:
            message = "killed after the first input"
            raise RuntimeError(message)
        return read(reader, slowest=slowest)

    monkeypatch.setattr(_merge._InputReader, "read", read_then_crash)

    with pytest.raises(RuntimeError, match="killed after the first input"):
        merge_junit([first, second], output)

    assert calls == 2
    assert snapshot([first, second, output]) == before
    assert leftovers(tmp_path) == []


def test_the_previous_report_survives_a_write_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    junit = write(tmp_path / "in.xml", GOOD)
    output = write(tmp_path / "merged.xml", "previous report")

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("shutil.copyfileobj", disk_full)

    with pytest.raises(
        ReportError, match=rf"^{re.escape(str(output))}: cannot write .*No space left"
    ):
        merge_junit([junit], output)

    assert output.read_text() == "previous report"
    assert leftovers(tmp_path) == []


def test_an_unwritable_output_folder_is_a_report_error(tmp_path: Path) -> None:
    junit = write(tmp_path / "in.xml", GOOD)
    blocker = write(tmp_path / "reports", "a file where the folder should be")
    output = blocker / "merged.xml"

    with pytest.raises(ReportError, match=rf"^{re.escape(str(output))}: cannot write the merged"):
        merge_junit([junit], output)

    assert blocker.read_text() == "a file where the folder should be"


def test_an_output_that_is_a_folder_is_a_report_error(tmp_path: Path) -> None:
    junit = write(tmp_path / "in.xml", GOOD)
    (tmp_path / "merged.xml").mkdir()

    with pytest.raises(ReportError, match=r"merged\.xml: cannot write the merged JUnit report"):
        merge_junit([junit], tmp_path / "merged.xml")

    assert leftovers(tmp_path) == []


def test_the_output_may_not_be_an_input(tmp_path: Path) -> None:
    junit = write(tmp_path / "unit.xml", GOOD)
    before = snapshot([junit])

    with pytest.raises(ReportError, match=r"unit\.xml: the merged JUnit report would overwrite"):
        merge_junit([junit], tmp_path / "." / "unit.xml")

    assert snapshot([junit]) == before


def test_the_report_has_ordinary_permissions(tmp_path: Path) -> None:
    junit = write(tmp_path / "in.xml", GOOD)
    ordinary = write(tmp_path / "ordinary.xml", "written the usual way")

    merge_junit([junit], tmp_path / "merged.xml")

    assert (tmp_path / "merged.xml").stat().st_mode == ordinary.stat().st_mode


# --- retried and quarantined tests, as the pytest plugin writes them ------------------------


def attempt(tag: str, message: str | None, trace: str, *, out: str = "") -> str:
    """An earlier attempt of a test in the Surefire form: message, type, stackTrace, output."""
    head = f"<{tag}" + (f' message="{message}"' if message is not None else "")
    captured = f"<system-out>{out}</system-out>" if out else ""
    return f'{head} type="AssertionError"><stackTrace>{trace}</stackTrace>{captured}</{tag}>'


def quarantined(test: str, entry: str) -> str:
    value = json.dumps({"test": test, "entry": entry}).replace('"', "&quot;")
    return f'<property name="suitekit.quarantined" value="{value}"/>'


# A suite as the plugin leaves it: retries=2 and [[tool.suitekit.quarantine]] entries for
# tests/test_q.py (every test of the file) and tests/test_x.py::test_rerun.
RETRIED: Final = report(
    '<testsuite name="unit" tests="6" failures="1" errors="0" skipped="1" time="1.5">'
    "<properties>"
    '<property name="commit" value="abc123"/>'
    + quarantined("tests.test_q::test_broken", "tests/test_q.py")
    + quarantined("tests.test_q::test_healed", "tests/test_q.py")
    + "</properties>"
    + case(
        "test_flaky",
        0.25,
        attempt("flakyFailure", "AssertionError: first attempt", "took 5.0 s, then failed")
        + attempt("flakyError", "failed on teardown", "trace", out="captured &lt;out&gt;"),
    )
    + case(
        "test_rerun",
        0.5,
        attempt("rerunFailure", "AssertionError: attempt 1", "trace 1")
        + attempt("rerunFailure", "AssertionError: attempt 2", "trace 2")
        + '<failure message="AssertionError: attempt 3">trace 3</failure>',
    )
    + case(
        "test_broken",
        0.125,
        '<skipped type="suitekit.quarantined" message="quarantined (issue #7): KeyError: x">'
        "long traceback</skipped>",
        classname="tests.test_q",
    )
    + case("test_healed", 0.0625, classname="tests.test_q")
    + case("test_skip", 0.0, '<skipped type="pytest.skip" message="not today"/>')
    + case("test_ok", 0.1)
    + "</testsuite>"
    # A quarantined flaky test, with its property after the cases: the order does not matter.
    + '<testsuite name="e2e" tests="1" failures="0" errors="0">'
    + case("test_wobbly", 1.0, attempt("flakyFailure", None, "\n\n  OSError: port in use\nmore"))
    + "<properties>"
    + quarantined("tests.test_x::test_wobbly", "tests/test_x.py::test_wobbly")
    + "</properties></testsuite>"
)


def test_retried_and_quarantined_tests_are_told_apart(
    tmp_path: Path, valid: Callable[[Path], None]
) -> None:
    junit = write(tmp_path / "unit-3.11.xml", RETRIED)
    valid(junit)  # the input is what the plugin must write: schema-valid

    result = merge_junit([junit], tmp_path / "merged.xml")

    valid(tmp_path / "merged.xml")
    assert [(s.name, s.totals) for s in result.suites] == [
        ("unit", Totals(tests=6, failures=1, skipped=2, flaky=1, seconds=1.0375)),
        ("e2e", Totals(tests=1, flaky=1, seconds=1.0)),
    ]
    assert result.totals == Totals(tests=7, failures=1, skipped=2, flaky=2, seconds=2.0375)
    assert result.totals.passed == 2  # test_healed and test_ok: the flaky ones are not passed
    assert [(c.suite, c.key, c.attempts, c.message) for c in result.flaky] == [
        ("unit", "tests.test_x::test_flaky", 3, "AssertionError: first attempt"),
        ("e2e", "tests.test_x::test_wobbly", 2, "OSError: port in use"),
    ]
    assert {c.outcome for c in result.flaky} == {"flaky"}
    assert [(c.key, c.outcome, c.attempts, c.message) for c in result.failed] == [
        ("tests.test_x::test_rerun", "failed", 3, "AssertionError: attempt 3"),
    ]
    assert result.quarantined == (
        QuarantinedCase(
            suite="unit",
            key="tests.test_q::test_broken",
            entry="tests/test_q.py",
            outcome="failed",
            message="quarantined (issue #7): KeyError: x",
        ),
        QuarantinedCase(
            suite="unit",
            key="tests.test_q::test_healed",
            entry="tests/test_q.py",
            outcome="passed",
            message="",
        ),
        QuarantinedCase(
            suite="e2e",
            key="tests.test_x::test_wobbly",
            entry="tests/test_x.py::test_wobbly",
            outcome="flaky",
            message="OSError: port in use",
        ),
    )
    # Every attempt is kept, byte for byte, and the suite properties with them.
    merged = parse(tmp_path / "merged.xml")
    assert cases_of(merged) == cases_of(parse(junit))
    unit = merged.find("testsuite")
    assert unit is not None
    assert [p.get("name") for p in unit.iter("property")] == [
        "commit",
        "suitekit.quarantined",
        "suitekit.quarantined",
    ]
    assert (unit.get("tests"), unit.get("failures"), unit.get("skipped")) == ("6", "1", "2")


def test_durations_keep_the_final_attempts_time_and_never_a_quarantined_failure(
    tmp_path: Path,
) -> None:
    junit = write(tmp_path / "unit.xml", RETRIED)

    result = merge_junit([junit], tmp_path / "merged.xml")

    # The plugin moves the failed attempts' time out of the case's: it is the final attempt's.
    assert result.durations == {
        "unit": {
            "tests.test_x::test_flaky": 0.25,
            "tests.test_x::test_rerun": 0.5,
            "tests.test_q::test_healed": 0.0625,
            "tests.test_x::test_ok": 0.1,
        },
        "e2e": {"tests.test_x::test_wobbly": 1.0},
    }


def test_junitparser_reads_a_flaky_test_as_passed_with_reruns(
    tmp_path: Path, valid: Callable[[Path], None]
) -> None:
    from junitparser import Failure  # noqa: PLC0415 - as the reporting modules import it
    from junitparser.xunit2 import JUnitXml, TestCase, TestSuite  # noqa: PLC0415 - likewise

    junit = write(tmp_path / "unit.xml", RETRIED)
    merge_junit([junit], tmp_path / "merged.xml")
    valid(tmp_path / "merged.xml")

    document = JUnitXml.fromfile(str(tmp_path / "merged.xml"))
    cases = {
        f"{case.classname}::{case.name}": case
        for suite in document
        if isinstance(suite, TestSuite)
        for case in suite
        if isinstance(case, TestCase)  # the xunit2 flavour, which knows about attempts
    }
    assert len(cases) == 7
    flaky = cases["tests.test_x::test_flaky"]
    assert flaky.is_flaky
    assert not flaky.is_rerun
    assert flaky.result == []  # passed: no failure, error or skip of its own
    assert flaky.is_passed
    assert [r.message for r in flaky.flaky_failures()] == ["AssertionError: first attempt"]
    assert [r.stack_trace for r in flaky.flaky_failures()] == ["took 5.0 s, then failed"]
    assert [r.system_out for r in flaky.flaky_errors()] == ["captured <out>"]
    rerun = cases["tests.test_x::test_rerun"]
    assert rerun.is_rerun
    assert not rerun.is_flaky
    assert [type(r) for r in rerun.result] == [Failure]
    assert [r.message for r in rerun.rerun_failures()] == [
        "AssertionError: attempt 1",
        "AssertionError: attempt 2",
    ]
    assert cases["tests.test_x::test_wobbly"].is_flaky


@pytest.mark.parametrize("chunk", [1, 5, 64])
def test_any_chunk_boundary_reads_retries_and_quarantine_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    junit = write(tmp_path / "in.xml", RETRIED)
    reference = merge_junit([junit], tmp_path / "reference.xml")

    monkeypatch.setattr(_merge, "_CHUNK", chunk)
    result = merge_junit([junit], tmp_path / "merged.xml")

    assert (tmp_path / "merged.xml").read_bytes() == (tmp_path / "reference.xml").read_bytes()
    assert result == dataclasses.replace(reference, output=tmp_path / "merged.xml")
    assert len(result.flaky) == 2
    assert len(result.quarantined) == 3


def test_a_case_with_several_failed_attempts_and_no_message_takes_the_first_ones_text(
    tmp_path: Path,
) -> None:
    junit = write(
        tmp_path / "unit.xml",
        report(
            suite(
                "unit",
                case(
                    "test_a",
                    0.1,
                    attempt("flakyError", "", "\n  first trace line\nsecond")
                    + attempt("flakyFailure", "second attempt", "x"),
                ),
                # A rerun without a final failure (no writer does this) passed in the end.
                case("test_b", 0.1, attempt("rerunError", "setup broke", "x")),
            )
        ),
    )

    result = merge_junit([junit], tmp_path / "merged.xml")

    assert [(c.name, c.attempts, c.message) for c in result.flaky] == [
        ("test_a", 3, "first trace line"),
        ("test_b", 2, "setup broke"),
    ]
    assert result.totals.flaky == 2
    assert result.failed == ()


def test_a_quarantined_failure_without_its_property_is_still_quarantined(tmp_path: Path) -> None:
    junit = write(
        tmp_path / "unit.xml",
        report(
            suite(
                "unit",
                case("test_q", 0.1, '<skipped type="suitekit.quarantined" message="m"/>'),
                case("test_xfail", 0.1, '<skipped type="pytest.xfail" message="known"/>'),
            )
        ),
    )

    result = merge_junit([junit], tmp_path / "merged.xml")

    # The property names the entry; without one, the case is not in the quarantined list, but
    # it is still a skip, never a failure.
    assert result.quarantined == ()
    assert result.totals == Totals(tests=2, skipped=2, seconds=0.2)


def test_the_same_quarantined_test_failing_twice_in_a_suite_is_listed_once_as_failed(
    tmp_path: Path,
) -> None:
    junit = write(
        tmp_path / "unit.xml",
        report(
            '<testsuite name="unit" tests="3" failures="0" errors="0"><properties>'
            + quarantined("tests.test_x::test_q", "tests/test_x.py::test_q")
            + quarantined("tests.test_x::test_q", "tests/test_x.py::test_q")
            + "</properties>"
            + case("test_q", 0.1, attempt("flakyFailure", "wobbled", "x"))
            + case("test_q", 0.1, '<skipped type="suitekit.quarantined" message="boom"/>')
            + case("test_q", 0.1)
            + "</testsuite>"
        ),
    )

    result = merge_junit([junit], tmp_path / "merged.xml")

    assert [(c.key, c.outcome, c.message) for c in result.quarantined] == [
        ("tests.test_x::test_q", "failed", "boom"),
    ]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("not json", id="not-json"),
        pytest.param("[1, 2]", id="not-an-object"),
        pytest.param('{"test": "t::a"}', id="no-entry"),
        pytest.param('{"test": 1, "entry": "e"}', id="test-not-a-string"),
    ],
)
def test_a_malformed_quarantine_property_makes_the_input_unreadable(
    tmp_path: Path, valid: Callable[[Path], None], value: str
) -> None:
    escaped = value.replace('"', "&quot;")
    broken = write(
        tmp_path / "in" / "broken.xml",
        report(
            '<testsuite name="unit" tests="1" failures="0" errors="0"><properties>'
            f'<property name="suitekit.quarantined" value="{escaped}"/></properties>'
            + case("test_a", 0.1)
            + "</testsuite>"
        ),
    )
    good = write(tmp_path / "in" / "good.xml", GOOD)
    before = snapshot([broken])

    result = merge_junit([broken, good], tmp_path / "merged.xml")

    assert [path for path, _ in result.unreadable] == [broken]
    assert result.unreadable[0][1] == (
        f"{broken}: not suitekit's JUnit: the property suitekit.quarantined has the value "
        f'{value!r}, not JSON like {{"test": "<classname::name>", "entry": "<entry>"}}'
    )
    assert [s.name for s in result.suites] == ["good"]
    assert snapshot([broken]) == before
    valid(tmp_path / "merged.xml")


def test_properties_of_a_test_case_are_not_quarantine_properties(tmp_path: Path) -> None:
    # pytest's record_property writes <properties> inside a <testcase>; only the suite's count.
    junit = write(
        tmp_path / "unit.xml",
        report(
            suite(
                "unit",
                case(
                    "test_a",
                    0.1,
                    "<properties>" + quarantined("t::a", "e") + "</properties>",
                ),
            )
        ),
    )

    result = merge_junit([junit], tmp_path / "merged.xml")

    assert result.quarantined == ()
    assert result.totals == Totals(tests=1, seconds=0.1)


@pytest.mark.parametrize("properties_first", [True, False])
def test_a_skipped_quarantined_test_is_skipped_not_passed(
    tmp_path: Path, valid: Callable[[Path], None], *, properties_first: bool
) -> None:
    properties = (
        "<properties>"
        + "".join(
            quarantined(f"tests.test_q::{name}", "tests/test_q.py")
            for name in ("test_skipif", "test_skip", "test_xfail", "test_ok")
        )
        + "</properties>"
    )
    cases = (
        case(
            "test_skipif",
            0.0,
            '<skipped type="pytest.skip" message="skipped: no relay">'
            "tests/test_q.py:3: skipped: no relay</skipped>",
            classname="tests.test_q",
        )
        + case("test_skip", 0.0, "<skipped>\n\n  not today\n</skipped>", classname="tests.test_q")
        # An xfail that failed as expected: pytest writes it as a skip too.
        + case(
            "test_xfail",
            0.1,
            '<skipped type="pytest.xfail" message="known race"/>',
            classname="tests.test_q",
        )
        + case("test_ok", 0.1, classname="tests.test_q")
        + case("test_other", 0.0, '<skipped message="not quarantined"/>')
    )
    body = properties + cases if properties_first else cases + properties
    junit = write(
        tmp_path / "unit.xml",
        report(f'<testsuite name="unit" tests="5" failures="0" errors="0">{body}</testsuite>'),
    )

    result = merge_junit([junit], tmp_path / "merged.xml")

    valid(tmp_path / "merged.xml")
    assert [(c.key, c.outcome, c.message) for c in result.quarantined] == [
        ("tests.test_q::test_skipif", "skipped", "skipped: no relay"),
        ("tests.test_q::test_skip", "skipped", "not today"),
        ("tests.test_q::test_xfail", "skipped", "known race"),
        ("tests.test_q::test_ok", "passed", ""),
    ]
    assert result.totals == Totals(tests=5, skipped=4, seconds=0.2)


def test_a_quarantined_test_skipped_once_and_failed_once_in_a_suite_is_failed(
    tmp_path: Path,
) -> None:
    junit = write(
        tmp_path / "unit.xml",
        report(
            '<testsuite name="unit" tests="4" failures="0" errors="0"><properties>'
            + quarantined("tests.test_x::test_q", "tests/test_x.py::test_q")
            + quarantined("tests.test_x::test_w", "tests/test_x.py::test_w")
            + "</properties>"
            + case("test_q", 0.1, '<skipped type="suitekit.quarantined" message="boom"/>')
            + case("test_q", 0.1, '<skipped type="pytest.skip" message="later"/>')
            + case("test_w", 0.1, '<skipped type="pytest.skip" message="first"/>')
            + case("test_w", 0.1, attempt("flakyFailure", "wobbled", "x"))
            + "</testsuite>"
        ),
    )

    result = merge_junit([junit], tmp_path / "merged.xml")

    # What tells most wins, whatever the order: a failure, then a flaky pass, then a skip.
    assert [(c.key, c.outcome, c.message) for c in result.quarantined] == [
        ("tests.test_x::test_q", "failed", "boom"),
        ("tests.test_x::test_w", "flaky", "wobbled"),
    ]


@pytest.mark.parametrize(
    ("passed_in_the_end", "call", "element"),
    [
        (True, True, "flakyFailure"),
        (True, False, "flakyError"),
        (False, True, "rerunFailure"),
        (False, False, "rerunError"),
    ],
)
def test_each_failed_attempt_has_the_surefire_element_the_merge_reads(
    *, passed_in_the_end: bool, call: bool, element: str
) -> None:
    assert _surefire.attempt_element(passed_in_the_end=passed_in_the_end, call=call) == element
    assert element in _surefire.ATTEMPT_ELEMENTS


@pytest.mark.parametrize(
    ("text", "line"),
    [("", ""), (" \n\t\n", ""), ("\n  KeyError: x  \nmore", "KeyError: x"), ("one", "one")],
)
def test_a_message_is_the_first_non_blank_line_stripped(text: str, line: str) -> None:
    assert _surefire.first_line(text) == line
