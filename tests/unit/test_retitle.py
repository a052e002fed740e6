"""retitle_junit: another runner's report as one test suite named after the suitekit suite."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from suitekit.errors import ReportError
from suitekit.reporting import read_totals, retitle_junit


def retitled(tmp_path: Path, text: str) -> ET.Element:
    report = tmp_path / "web.xml"
    report.write_text(text, encoding="utf-8")
    retitle_junit(report, "web")
    (suite,) = ET.parse(report).getroot().findall("testsuite")  # noqa: S314 - our own file
    return suite


@pytest.mark.parametrize(
    "text",
    [
        "<html><body>502 Bad Gateway</body></html>",
        (
            '<testsuites xmlns="urn:x"><testsuite name="a"><testcase name="t"/></testsuite>'
            "</testsuites>"
        ),
    ],
)
def test_a_report_that_is_not_junit_is_refused_and_left_as_it_is(tmp_path: Path, text: str) -> None:
    report = tmp_path / "web.xml"
    report.write_text(text, encoding="utf-8")
    with pytest.raises(ReportError, match="not JUnit XML: the root element is"):
        retitle_junit(report, "web")
    assert report.read_text(encoding="utf-8") == text


def test_nested_suites_keep_their_output_and_properties(tmp_path: Path) -> None:
    suite = retitled(
        tmp_path,
        '<testsuites><testsuite name="outer"><properties><property name="a" value="1"/>'
        '</properties><system-out>OUTER</system-out><testsuite name="inner">'
        '<properties><property name="b" value="2"/></properties>'
        '<testcase classname="x" name="t" time="0.1"/><system-out>INNER</system-out>'
        "</testsuite></testsuite></testsuites>",
    )
    assert [p.get("name") for p in suite.findall("properties/property")] == ["a", "b"]
    assert suite.findtext("system-out") == "OUTER\nINNER"
    assert suite.get("tests") == "1"


def test_each_case_has_one_outcome_and_the_root_gives_the_wall_time(tmp_path: Path) -> None:
    suite = retitled(
        tmp_path,
        '<testsuites time="1.5"><testsuite name="a" time="2.0">'
        '<testcase classname="a" name="both" time="1"><failure/><error/></testcase>'
        '<testcase classname="a" name="erred" time="1"><error/></testcase>'
        '</testsuite><testsuite name="b" time="2.0">'
        '<testcase classname="b" name="skipped" time="0"><skipped/></testcase>'
        "</testsuite></testsuites>",
    )
    counts = {key: suite.get(key) for key in ("tests", "failures", "errors", "skipped", "time")}
    assert counts == {"tests": "3", "failures": "1", "errors": "1", "skipped": "1", "time": "1.500"}
    totals = read_totals(tmp_path / "web.xml")
    assert (totals.tests, totals.failures, totals.errors, totals.skipped) == (3, 1, 1, 1)


def test_cases_of_several_playwright_projects_say_their_project(tmp_path: Path) -> None:
    # Playwright writes a test suite per file and project, the project in its hostname.
    suite = retitled(
        tmp_path,
        '<testsuites><testsuite name="a.spec.js" hostname="desktop">'
        '<testcase classname="a.spec.js" name="buys" time="1"/></testsuite>'
        '<testsuite name="a.spec.js" hostname="mobile">'
        '<testcase classname="a.spec.js" name="buys" time="1"/></testsuite></testsuites>',
    )
    names = [case.get("name") for case in suite.iter("testcase")]
    assert names == ["[desktop] buys", "[mobile] buys"]
    one_project = retitled(
        tmp_path,
        '<testsuites><testsuite name="a" hostname="vm"><testcase classname="a" name=" t"/>'
        '</testsuite><testsuite name="b" hostname="vm"><testcase classname="b" name="u"/>'
        "</testsuite></testsuites>",
    )
    assert [case.get("name") for case in one_project.iter("testcase")] == ["t", "u"]
