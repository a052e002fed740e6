"""Retries: a failed test runs again; a pass after failures is FLAKY; JUnit keeps every attempt.

Every run goes through a subprocess, serially and with two xdist workers: with xdist the reports
(and suitekit's attributes on them) reach the controller, which writes the JUnit file.
"""

from __future__ import annotations

import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest
from junitparser import xunit2

PYPROJECT: Final = """
[tool.suitekit]
tests = ["tests"]

[tool.suitekit.suites.unit]
paths = ["tests"]
retries = {retries}
"""

# Each test counts its attempts in a file next to it: the first attempt fails (after a slow
# half second), the next ones pass.
COUNTED: Final = """
import pathlib
import time

import pytest


def attempt(name):
    counter = pathlib.Path(__file__).with_name(name + ".count")
    number = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(number))
    return number


def test_flaky():
    number = attempt("flaky")
    print(f"attempt {number} says hello")
    if number == 1:
        time.sleep(0.5)
        raise ValueError("first attempt <&> fails\\nsecond line")


@pytest.fixture
def database():
    if attempt("database") == 1:
        raise ConnectionError("no database yet")


def test_setup_flaky(database):
    pass


def test_broken():
    assert 1 == 2, "always broken"


def test_stable():
    pass
"""

WORKERS: Final = pytest.mark.parametrize("workers", ["0", "2"])


@pytest.fixture
def suite(pytester: pytest.Pytester) -> Callable[[int], pytest.Pytester]:
    """The project with the counted tests, for a given number of retries."""

    def make(retries: int) -> pytest.Pytester:
        pytester.makepyprojecttoml(PYPROJECT.format(retries=retries))
        pytester.makepyfile(**{"tests/test_counted": textwrap.dedent(COUNTED)})
        return pytester

    return make


def _cases(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()  # noqa: S314 - a file these tests wrote
    return {case.get("name", ""): case for case in root.iter("testcase")}


def _read(path: Path) -> dict[str, xunit2.TestCase]:
    """The test cases as junitparser's Surefire-aware ``xunit2`` flavour reads them."""
    return {
        case.name: case
        for suite in xunit2.JUnitXml.fromfile(str(path))
        if isinstance(suite, xunit2.TestSuite)
        for case in suite
        if isinstance(case, xunit2.TestCase)
    }


@WORKERS
def test_a_test_that_passes_on_a_retry_is_flaky_and_keeps_its_failure(
    suite: Callable[[int], pytest.Pytester], workers: str, valid: Callable[[Path], None]
) -> None:
    project = suite(2)

    result = project.runpytest_subprocess(
        "--suitekit-suite=unit", "-n", workers, "--junitxml=junit.xml", "-k", "flaky or stable"
    )

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["suitekit: suite 'unit': paths tests; retries 2; *"])
    # xdist's controller does not count the tests its workers deselect.
    assert result.parseoutcomes() == {"passed": 1, "rerun": 2, "flaky": 2} | (
        {"deselected": 1} if workers == "0" else {}
    )
    result.stdout.fnmatch_lines(["*= 1 passed, *2 rerun, 2 flaky in *"])
    result.stdout.fnmatch_lines(
        [
            "*= suitekit flaky =*",
            (
                "tests/test_counted.py::test_flaky: passed on attempt 2 of 2 (attempt 1 failed "
                "in call: ValueError: first attempt <&> fails)"
            ),
            (
                "tests/test_counted.py::test_setup_flaky: passed on attempt 2 of 2 (attempt 1 "
                "failed in setup: ConnectionError: no database yet)"
            ),
        ]
    )
    junit = project.path / "junit.xml"
    valid(junit)
    cases = _cases(junit)
    [flaky] = cases["test_flaky"].findall("flakyFailure")
    assert flaky.get("message") == "ValueError: first attempt <&> fails"
    assert flaky.get("type") == "ValueError"
    assert "second line" in (flaky.findtext("stackTrace") or "")
    assert flaky.findtext("system-out") == "attempt 1 says hello\n"
    assert [child.tag for child in cases["test_setup_flaky"]] == ["flakyError"]
    assert not list(cases["test_stable"])

    read = _read(junit)
    assert read["test_flaky"].is_flaky
    assert not read["test_flaky"].is_rerun
    assert read["test_flaky"].is_passed
    assert read["test_setup_flaky"].is_flaky
    assert not read["test_stable"].is_flaky


@WORKERS
def test_a_test_failing_every_attempt_fails_with_its_reruns(
    suite: Callable[[int], pytest.Pytester], workers: str, valid: Callable[[Path], None]
) -> None:
    project = suite(2)

    result = project.runpytest_subprocess(
        "--suitekit-suite=unit", "-n", workers, "--junitxml=junit.xml", "-k", "broken"
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*= 1 failed, *2 rerun in *"])
    junit = project.path / "junit.xml"
    valid(junit)
    case = _cases(junit)["test_broken"]
    assert [child.tag for child in case] == ["failure", "rerunFailure", "rerunFailure"]
    for rerun in case.findall("rerunFailure"):
        assert rerun.get("message") == "AssertionError: always broken"
        assert rerun.get("type") == "AssertionError"
    [read] = _read(junit).values()
    assert read.is_rerun
    assert not read.is_flaky
    assert len(read.rerun_failures()) == 2


@WORKERS
def test_the_junit_time_of_a_flaky_test_is_its_passing_attempt(
    suite: Callable[[int], pytest.Pytester], workers: str
) -> None:
    project = suite(1)

    result = project.runpytest_subprocess(
        "--suitekit-suite=unit", "-n", workers, "--junitxml=junit.xml", "-k", "test_flaky"
    )

    assert result.ret == pytest.ExitCode.OK
    # The failed attempt slept half a second; the passing one did not.
    assert float(_cases(project.path / "junit.xml")["test_flaky"].get("time", "")) < 0.25


def test_without_retries_a_failure_is_a_failure(suite: Callable[[int], pytest.Pytester]) -> None:
    project = suite(0)

    result = project.runpytest_subprocess(
        "--suitekit-suite=unit", "-n", "0", "--junitxml=junit.xml", "-k", "test_flaky"
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*= 1 failed, 3 deselected in *"])
    assert [child.tag for child in _cases(project.path / "junit.xml")["test_flaky"]] == ["failure"]


def test_the_option_overrides_the_suite_setting(suite: Callable[[int], pytest.Pytester]) -> None:
    project = suite(0)

    result = project.runpytest_subprocess(
        "--suitekit-suite=unit", "--suitekit-retries=1", "-n", "0", "-v", "-k", "test_flaky"
    )

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "tests/test_counted.py::test_flaky RERUN *",
            "tests/test_counted.py::test_flaky FLAKY *",
        ]
    )


def test_a_teardown_failure_is_retried_and_kept_as_one_case(
    pytester: pytest.Pytester, valid: Callable[[Path], None]
) -> None:
    pytester.makepyprojecttoml(PYPROJECT.format(retries=1))
    pytester.makepyfile(
        **{
            "tests/test_teardown": """
            import pathlib

            import pytest


            @pytest.fixture
            def resource():
                yield
                counter = pathlib.Path(__file__).with_name("count")
                if not counter.exists():
                    counter.write_text("1")
                    raise RuntimeError("teardown broke")


            def test_uses_resource(resource):
                pass
            """
        }
    )

    result = pytester.runpytest_subprocess(
        "--suitekit-suite=unit", "-n", "2", "--junitxml=junit.xml"
    )

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*= 1 rerun, 1 flaky in *"])
    junit = pytester.path / "junit.xml"
    valid(junit)
    root = ET.parse(junit).getroot()  # noqa: S314 - a file this test wrote
    [case] = root.iter("testcase")
    [error] = case.findall("flakyError")
    assert error.get("message") == "RuntimeError: teardown broke"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--suitekit-retries=1"], "ERROR: --suitekit-retries needs --suitekit-suite: *"),
        (["--suitekit-order-seed=3"], "ERROR: --suitekit-order-seed needs --suitekit-suite: *"),
        (
            ["--suitekit-suite=unit", "--suitekit-retries=11"],
            "ERROR: --suitekit-retries=11: expected a whole number from 0 to 10",
        ),
    ],
)
def test_bad_retry_options_are_usage_errors(
    suite: Callable[[int], pytest.Pytester], args: list[str], message: str
) -> None:
    result = suite(0).runpytest(*args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


# A module fixture that fails its first call only, used by the first test of its module; the
# second test keeps the module alive between the attempts of the first.
MODULE_FIXTURE: Final = """
import pathlib

import pytest

COUNTER = pathlib.Path(__file__).with_name("connect.count")


@pytest.fixture(scope="module")
def connection():
    number = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
    COUNTER.write_text(str(number))
    if number == 1:
        raise ConnectionError("no server yet")


def test_uses_connection(connection):
    pass


def test_sibling():
    pass
"""


@WORKERS
def test_a_failed_module_fixture_runs_again_on_a_retry(
    pytester: pytest.Pytester, workers: str
) -> None:
    pytester.makepyprojecttoml(PYPROJECT.format(retries=2))
    pytester.makepyfile(**{"tests/test_module": MODULE_FIXTURE})

    # loadfile keeps both tests on one worker, so that the module outlives the failed attempt.
    result = pytester.runpytest_subprocess(
        "--suitekit-suite=unit", "-n", workers, "--dist=loadfile", "-v"
    )

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*= 1 passed, 1 rerun, 1 flaky in *"])
    result.stdout.re_match_lines([r".*test_uses_connection FLAKY.*|.*FLAKY .*test_uses_connection"])
    assert (pytester.path / "tests" / "connect.count").read_text() == "2"


def test_a_failed_package_setup_runs_again_on_a_retry(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(PYPROJECT.format(retries=1))
    pytester.makepyfile(
        **{
            "tests/pkg/__init__": """
            import pathlib

            def setup_module():
                counter = pathlib.Path(__file__).with_name("setup.count")
                number = int(counter.read_text()) + 1 if counter.exists() else 1
                counter.write_text(str(number))
                if number == 1:
                    raise ConnectionError("no server yet")
            """,
            "tests/pkg/test_in_package": """
            def test_first():
                pass

            def test_second():
                pass
            """,
        }
    )

    result = pytester.runpytest_subprocess("--suitekit-suite=unit", "-n", "0")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*= 1 passed, 1 rerun, 1 flaky in *"])
    assert (pytester.path / "tests" / "pkg" / "setup.count").read_text() == "2"


def test_a_test_that_skips_on_its_retry_is_skipped_not_flaky(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(PYPROJECT.format(retries=1))
    pytester.makepyfile(
        **{
            "tests/test_skips": """
            import pathlib

            import pytest

            def test_skips_later():
                counter = pathlib.Path(__file__).with_name("count")
                if not counter.exists():
                    counter.write_text("1")
                    raise ValueError("first attempt fails")
                pytest.skip("not today")
            """
        }
    )

    result = pytester.runpytest_subprocess("--suitekit-suite=unit", "-n", "0", "-rs")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*= 1 skipped, 1 rerun in *"])
    result.stdout.no_fnmatch_line("*= suitekit flaky =*")
    result.stdout.no_fnmatch_line("*FLAKY*")


@pytest.mark.parametrize("debugger", ["--pdb", "--trace"])
def test_a_debugged_run_does_not_retry(
    suite: Callable[[int], pytest.Pytester], debugger: str
) -> None:
    project = suite(2)

    result = project.runpytest_subprocess(
        "--suitekit-suite=unit", "-n", "0", debugger, "--collect-only"
    )

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [f"suitekit: suite 'unit': paths tests; no retries under {debugger}; no xdist"]
    )
    result.stdout.no_fnmatch_line("*retries 2*")


def test_a_debugged_failure_runs_once(suite: Callable[[int], pytest.Pytester]) -> None:
    project = suite(2)

    # The debugger reads its commands from stdin: "c" continues past the failure.
    result = project.run(
        sys.executable,
        "-m",
        "pytest",
        "--suitekit-suite=unit",
        "-n",
        "0",
        "--pdb",
        "-k",
        "broken",
        stdin=b"c\n",
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*= 1 failed, 3 deselected in *"])
    result.stdout.no_fnmatch_line("*rerun*")
