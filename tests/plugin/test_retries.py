"""Retries: a failed test runs again; a pass after failures is FLAKY; JUnit keeps every attempt.

Every run happens in this process, serially or as the controller of two xdist workers, which
are subprocesses: with xdist the reports (and suitekit's attributes on them) reach the controller,
which writes the JUnit file. One xdist run checks what several serial tests check, each in its own
run.
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

from tests.plugin.helpers import run

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

# A test whose fixture fails its first teardown only.
TEARDOWN: Final = """
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


def _assert_flaky_tests_keep_their_failures(
    result: pytest.RunResult, junit: Path, valid: Callable[[Path], None]
) -> None:
    """test_flaky and test_setup_flaky: FLAKY, with their failed first attempts kept."""
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


def _assert_broken_test_keeps_its_reruns(junit: Path, valid: Callable[[Path], None]) -> None:
    """test_broken: a failure, with its two failed reruns."""
    valid(junit)
    case = _cases(junit)["test_broken"]
    assert [child.tag for child in case] == ["failure", "rerunFailure", "rerunFailure"]
    for rerun in case.findall("rerunFailure"):
        assert rerun.get("message") == "AssertionError: always broken"
        assert rerun.get("type") == "AssertionError"
    read = _read(junit)["test_broken"]
    assert read.is_rerun
    assert not read.is_flaky
    assert len(read.rerun_failures()) == 2


def _assert_junit_time_is_the_passing_attempt(junit: Path) -> None:
    # The failed attempt slept half a second; the passing one did not.
    assert float(_cases(junit)["test_flaky"].get("time", "")) < 0.25


def test_a_test_that_passes_on_a_retry_is_flaky_and_keeps_its_failure(
    suite: Callable[[int], pytest.Pytester], valid: Callable[[Path], None]
) -> None:
    project = suite(2)

    result = run(
        project, "0", "--suitekit-suite=unit", "--junitxml=junit.xml", "-k", "flaky or stable"
    )

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["suitekit: suite 'unit': paths tests; retries 2; *"])
    assert result.parseoutcomes() == {"passed": 1, "rerun": 2, "flaky": 2, "deselected": 1}
    result.stdout.fnmatch_lines(["*= 1 passed, *2 rerun, 2 flaky in *"])
    _assert_flaky_tests_keep_their_failures(result, project.path / "junit.xml", valid)


def test_a_test_failing_every_attempt_fails_with_its_reruns(
    suite: Callable[[int], pytest.Pytester], valid: Callable[[Path], None]
) -> None:
    project = suite(2)

    result = run(project, "0", "--suitekit-suite=unit", "--junitxml=junit.xml", "-k", "broken")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*= 1 failed, *2 rerun in *"])
    _assert_broken_test_keeps_its_reruns(project.path / "junit.xml", valid)


def test_the_junit_time_of_a_flaky_test_is_its_passing_attempt(
    suite: Callable[[int], pytest.Pytester],
) -> None:
    project = suite(1)

    result = run(project, "0", "--suitekit-suite=unit", "--junitxml=junit.xml", "-k", "test_flaky")

    assert result.ret == pytest.ExitCode.OK
    _assert_junit_time_is_the_passing_attempt(project.path / "junit.xml")


def test_with_xdist_the_controller_keeps_every_attempt(
    suite: Callable[[int], pytest.Pytester], valid: Callable[[Path], None]
) -> None:
    """The three tests above and the teardown one below, in one run with two xdist workers."""
    project = suite(2)
    project.makepyfile(**{"tests/test_teardown": TEARDOWN})

    result = run(project, "2", "--suitekit-suite=unit", "--junitxml=junit.xml")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["suitekit: suite 'unit': paths tests; retries 2; *"])
    # The order of the counts follows the order the reports arrived in.
    assert result.parseoutcomes() == {"passed": 1, "failed": 1, "rerun": 5, "flaky": 3}
    junit = project.path / "junit.xml"
    _assert_flaky_tests_keep_their_failures(result, junit, valid)
    _assert_broken_test_keeps_its_reruns(junit, valid)
    _assert_junit_time_is_the_passing_attempt(junit)
    _assert_teardown_failure_is_one_case(junit, valid)


def test_without_retries_a_failure_is_a_failure(suite: Callable[[int], pytest.Pytester]) -> None:
    project = suite(0)

    result = run(project, "0", "--suitekit-suite=unit", "--junitxml=junit.xml", "-k", "test_flaky")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*= 1 failed, 3 deselected in *"])
    assert [child.tag for child in _cases(project.path / "junit.xml")["test_flaky"]] == ["failure"]


def test_the_option_overrides_the_suite_setting(suite: Callable[[int], pytest.Pytester]) -> None:
    project = suite(0)

    result = run(
        project, "0", "--suitekit-suite=unit", "--suitekit-retries=1", "-v", "-k", "test_flaky"
    )

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "tests/test_counted.py::test_flaky RERUN *",
            "tests/test_counted.py::test_flaky FLAKY *",
        ]
    )


def _assert_teardown_failure_is_one_case(junit: Path, valid: Callable[[Path], None]) -> None:
    valid(junit)
    root = ET.parse(junit).getroot()  # noqa: S314 - a file this test wrote
    [case] = [case for case in root.iter("testcase") if case.get("name") == "test_uses_resource"]
    [error] = case.findall("flakyError")
    assert error.get("message") == "RuntimeError: teardown broke"


def test_a_teardown_failure_is_retried_and_kept_as_one_case(
    pytester: pytest.Pytester, valid: Callable[[Path], None]
) -> None:
    pytester.makepyprojecttoml(PYPROJECT.format(retries=1))
    pytester.makepyfile(**{"tests/test_teardown": TEARDOWN})

    result = run(pytester, "0", "--suitekit-suite=unit", "--junitxml=junit.xml")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*= 1 rerun, 1 flaky in *"])
    _assert_teardown_failure_is_one_case(pytester.path / "junit.xml", valid)


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
    result = run(pytester, workers, "--suitekit-suite=unit", "--dist=loadfile", "-v")

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

    result = run(pytester, "0", "--suitekit-suite=unit")

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

    result = run(pytester, "0", "--suitekit-suite=unit", "-rs")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*= 1 skipped, 1 rerun in *"])
    result.stdout.no_fnmatch_line("*= suitekit flaky =*")
    result.stdout.no_fnmatch_line("*FLAKY*")


@pytest.mark.parametrize("debugger", ["--pdb", "--trace"])
def test_a_debugged_run_does_not_retry(
    suite: Callable[[int], pytest.Pytester], debugger: str
) -> None:
    project = suite(2)

    result = run(project, "0", "--suitekit-suite=unit", debugger, "--collect-only")

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
