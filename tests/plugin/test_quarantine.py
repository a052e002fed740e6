"""Quarantine: quarantined tests run and are reported, but their failures do not fail the run.

Every run happens in this process; with xdist, its workers are subprocesses (tests.plugin.helpers).
"""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

from suitekit.flaky import RunLog
from tests.plugin.helpers import run

PYPROJECT: Final = """
[tool.suitekit]
tests = ["tests"]

[tool.suitekit.suites.unit]
paths = ["tests/unit"]

[tool.suitekit.suites.other]
paths = ["tests/other"]

[[tool.suitekit.quarantine]]
test = "tests/unit/test_q.py::test_broken"
reason = "broken on CI (issue 12)"

[[tool.suitekit.quarantine]]
test = "tests/unit/test_q.py::test_m*"
reason = "was flaky (issue 7)"

[[tool.suitekit.quarantine]]
test = "tests/other/test_o.py::test_o*"
reason = "another suite's"
"""

STALE: Final = """
[[tool.suitekit.quarantine]]
test = "tests/unit/test_q.py::test_gone"
reason = "renamed since"
"""

TESTS: Final = {
    "tests/unit/test_q": """
        def test_broken():
            print("broken says hello")
            assert False, "still broken"


        def test_mended():
            pass


        def test_plain():
            pass
        """,
    "tests/other/test_o": """
        def test_other():
            pass
        """,
}

WORKERS: Final = pytest.mark.parametrize("workers", ["0", "2"])
FIX: Final = (
    "  fix: correct the node id as `pytest --collect-only -q` prints it, or remove the entry "
    "if the test is gone"
)


@pytest.fixture
def quarantined(pytester: pytest.Pytester) -> Callable[[str], pytest.Pytester]:
    """The project, with extra TOML appended to its configuration."""

    def make(extra: str = "") -> pytest.Pytester:
        pytester.makepyprojecttoml(PYPROJECT + extra)
        pytester.makepyfile(**{name: textwrap.dedent(text) for name, text in TESTS.items()})
        return pytester

    return make


@WORKERS
def test_a_quarantined_failure_does_not_fail_the_run(
    quarantined: Callable[[str], pytest.Pytester], workers: str, valid: Callable[[Path], None]
) -> None:
    project = quarantined("")

    result = run(project, workers, "--suitekit-suite=unit", "--junitxml=junit.xml", "-v")

    assert result.ret == pytest.ExitCode.OK
    # -v prints "node_id QUARANTINED" serially, "QUARANTINED node_id" with xdist.
    broken = r"tests/unit/test_q\.py::test_broken"
    result.stdout.re_match_lines([rf".*({broken} QUARANTINED|QUARANTINED {broken}) .*"])
    result.stdout.fnmatch_lines(["*= 2 passed, 1 quarantined in *"])
    result.stdout.fnmatch_lines(
        [
            "*= suitekit quarantine =*",
            (
                "tests/unit/test_q.py::test_broken: failed (AssertionError: still broken); "
                "tool.suitekit.quarantine?0?: broken on CI (issue 12)"
            ),
            "tests/unit/test_q.py::test_mended: passed; tool.suitekit.quarantine?1?: was flaky*",
        ]
    )
    junit = project.path / "junit.xml"
    valid(junit)
    root = ET.parse(junit).getroot()  # noqa: S314 - a file this test wrote
    cases = {case.get("name"): case for case in root.iter("testcase")}
    [skipped] = cases["test_broken"].findall("skipped")
    assert skipped.get("type") == "suitekit.quarantined"
    assert skipped.get("message") == (
        "quarantined (broken on CI (issue 12)): AssertionError: still broken"
    )
    assert 'assert False, "still broken"' in (skipped.text or "")
    assert not list(cases["test_mended"])
    [suite] = root.iter("testsuite")
    assert suite[0].tag == "properties"
    values = [
        json.loads(prop.get("value", ""))
        for prop in suite.iter("property")
        if prop.get("name") == "suitekit.quarantined"
    ]
    assert sorted(values, key=lambda value: value["test"]) == [
        {"test": "tests.unit.test_q::test_broken", "entry": "tests/unit/test_q.py::test_broken"},
        {"test": "tests.unit.test_q::test_mended", "entry": "tests/unit/test_q.py::test_m*"},
    ]


def test_pytest_properties_and_the_quarantine_share_one_element(
    quarantined: Callable[[str], pytest.Pytester], valid: Callable[[Path], None]
) -> None:
    project = quarantined("")
    project.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session", autouse=True)
        def build(record_testsuite_property):
            record_testsuite_property("build", "42")
        """
    )
    (project.path / "tests" / "unit" / "conftest.py").write_text(
        (project.path / "conftest.py").read_text()
    )

    result = run(project, "0", "--suitekit-suite=unit", "--junitxml=junit.xml")

    assert result.ret == pytest.ExitCode.OK
    junit = project.path / "junit.xml"
    valid(junit)
    [suite] = ET.parse(junit).getroot().iter("testsuite")  # noqa: S314 - written by this test
    [properties] = suite.findall("properties")
    names = [prop.get("name") for prop in properties]
    # The quarantined test that failed is located too, in the same element.
    assert names == ["build", "suitekit.location", "suitekit.quarantined", "suitekit.quarantined"]


def test_a_stale_entry_is_an_error_of_the_partition_check(
    quarantined: Callable[[str], pytest.Pytester],
) -> None:
    project = quarantined(STALE)

    result = project.runpytest("--suitekit-partition")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    expected = (
        f"ERROR: {project.path / 'pyproject.toml'}: tool.suitekit.quarantine[3].test: "
        "'tests/unit/test_q.py::test_gone' matches none of the tests under tests (a stale "
        "quarantine hides nothing and protects nothing)\n" + FIX
    )
    assert expected in result.stderr.str()


@WORKERS
def test_a_stale_entry_for_a_file_of_the_suite_is_an_error_of_the_suite_run(
    quarantined: Callable[[str], pytest.Pytester], workers: str
) -> None:
    project = quarantined(STALE)
    # A deselected quarantined test is no stale entry (the test below); with xdist, this run
    # checks that too, as each xdist run costs two workers.
    deselect = ["--deselect", "tests/unit/test_q.py::test_broken"] if workers != "0" else []

    result = run(project, workers, "--suitekit-suite=unit", *deselect)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    expected = (
        f"ERROR: {project.path / 'pyproject.toml'}: tool.suitekit.quarantine[3].test: "
        "'tests/unit/test_q.py::test_gone' matches none of the tests of suite 'unit' in the "
        "files it names (a stale quarantine hides nothing and protects nothing)\n" + FIX
    )
    assert expected in result.stderr.str()
    assert "tool.suitekit.quarantine[0]" not in result.stderr.str()


def test_entries_for_other_suites_and_narrowed_runs_are_not_judged(
    quarantined: Callable[[str], pytest.Pytester],
) -> None:
    project = quarantined(STALE)

    other = project.runpytest("--suitekit-suite=other")
    narrowed = project.runpytest("--suitekit-suite=unit", "-k", "plain")

    assert other.ret == pytest.ExitCode.OK
    other.assert_outcomes(passed=1)
    assert narrowed.ret == pytest.ExitCode.OK
    narrowed.assert_outcomes(passed=1, deselected=2)


def test_outside_a_suite_run_the_quarantine_stays_out_of_the_way(
    quarantined: Callable[[str], pytest.Pytester],
) -> None:
    project = quarantined("")

    result = project.runpytest("tests/unit")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2, failed=1)


# With xdist: the stale entry test above.
@pytest.mark.parametrize(
    "args",
    [
        ["--deselect", "tests/unit/test_q.py::test_broken"],
        ["--deselect", "tests/unit/test_q.py::test_mended", "--sw"],
    ],
)
def test_deselecting_a_quarantined_test_is_no_stale_entry(
    quarantined: Callable[[str], pytest.Pytester], args: list[str]
) -> None:
    project = quarantined("")

    result = run(project, "0", "--suitekit-suite=unit", *args)

    assert result.ret == pytest.ExitCode.OK, result.stderr.str()
    result.stdout.no_fnmatch_line("*stale quarantine*")
    result.stdout.fnmatch_lines(["*passed*"])


@WORKERS
def test_a_quarantined_test_is_retried_and_can_be_flaky(
    pytester: pytest.Pytester, workers: str
) -> None:
    pytester.makepyprojecttoml(
        """
        [tool.suitekit]
        tests = ["tests"]

        [tool.suitekit.suites.unit]
        paths = ["tests"]
        retries = 2

        [[tool.suitekit.quarantine]]
        test = "tests/test_q.py::test_*"
        reason = "issue 5"
        """
    )
    pytester.makepyfile(
        **{
            "tests/test_q": """
            import pathlib

            def test_wobbly():
                counter = pathlib.Path(__file__).with_name("count")
                first = not counter.exists()
                counter.write_text("1")
                assert not first, "first attempt"

            def test_broken():
                assert False, "always"
            """
        }
    )

    result = run(pytester, workers, "--suitekit-suite=unit", "--suitekit-run-log=run.json")

    assert result.ret == pytest.ExitCode.OK
    # The summary's order of the counts follows the order the reports arrived in.
    assert result.parseoutcomes() == {"rerun": 3, "flaky": 1, "quarantined": 1}
    result.stdout.fnmatch_lines(
        [
            "*= suitekit flaky =*",
            (
                "tests/test_q.py::test_wobbly: passed on attempt 2 of 2 (attempt 1 failed in "
                "call: AssertionError: first attempt*"
            ),
        ]
    )
    log = RunLog.read(pytester.path / "run.json")
    found = {test.node_id: (test.outcome, test.quarantined) for test in log.tests}
    assert found == {
        "tests/test_q.py::test_wobbly": ("flaky", True),
        "tests/test_q.py::test_broken": ("failed", True),
    }
