"""``--suitekit-suite NAME`` runs one suite's tests, in one process."""

from __future__ import annotations

import pytest


def test_a_path_suite_collects_only_its_folders(project: pytest.Pytester) -> None:
    # The suite's paths replace pytest's default arguments, so other folders are not even
    # collected (their imports, and the services they need, are never touched).
    result = project.runpytest("--suitekit-suite=unit", "-v")

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3, deselected=0)
    result.stdout.fnmatch_lines(
        [
            "suitekit: suite 'unit': paths tests/unit; no xdist",
            "*collected 3 items",
            "tests/unit/test_a.py::test_a1 PASSED*",
            "tests/unit/test_a.py::test_a2 PASSED*",
            "tests/unit/test_b.py::test_b1 PASSED*",
        ]
    )
    result.stdout.no_fnmatch_line("*tests/integration*")
    result.stdout.no_fnmatch_line("*tests/perf*")


def test_a_suite_marker_deselects_within_its_paths(project: pytest.Pytester) -> None:
    result = project.runpytest("--suitekit-suite=integration", "-v")

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "suitekit: suite 'integration': paths tests/integration; marker 'not slow'; no xdist",
            "*collected 3 items / 1 deselected / 2 selected",
            "tests/integration/test_api.py::test_get PASSED*",
            "tests/integration/test_api.py::test_put PASSED*",
        ]
    )
    result.stdout.no_fnmatch_line("*test_bulk*")


def test_a_marker_suite_selects_across_folders(project: pytest.Pytester) -> None:
    result = project.runpytest("--suitekit-suite=slow", "-v")

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2, deselected=5)
    result.stdout.fnmatch_lines(
        [
            "suitekit: suite 'slow': marker 'slow'; no xdist",
            "*collected 7 items / 5 deselected / 2 selected",
            "tests/integration/test_api.py::test_bulk PASSED*",
            "tests/perf/test_load.py::test_load PASSED*",
        ]
    )


@pytest.mark.parametrize(
    ("paths", "passed", "deselected", "ret"),
    [
        pytest.param(["tests/unit/test_a.py"], 2, 0, pytest.ExitCode.OK, id="a-file"),
        pytest.param(["tests/unit/test_a.py::test_a1"], 1, 0, pytest.ExitCode.OK, id="a-node-id"),
        pytest.param(["tests"], 3, 4, pytest.ExitCode.OK, id="a-wider-folder"),
        pytest.param(
            ["tests/integration"], 0, 3, pytest.ExitCode.NO_TESTS_COLLECTED, id="another-folder"
        ),
    ],
)
def test_command_line_paths_narrow_the_suite(
    project: pytest.Pytester,
    paths: list[str],
    passed: int,
    deselected: int,
    ret: pytest.ExitCode,
) -> None:
    # Given paths are intersected with the suite, never added to it.
    result = project.runpytest("--suitekit-suite=unit", *paths)

    assert result.ret == ret
    result.assert_outcomes(passed=passed, deselected=deselected)
    result.stdout.fnmatch_lines(["suitekit: suite 'unit': paths tests/unit; no xdist"])


def test_an_unknown_suite_is_a_usage_error_listing_the_declared_ones(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest("--suitekit-suite=nope")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            (
                "ERROR: --suitekit-suite=nope: *pyproject.toml declares no suite 'nope'; "
                "declared: unit, integration, slow"
            )
        ]
    )


def test_a_suite_and_the_partition_check_cannot_go_together(project: pytest.Pytester) -> None:
    result = project.runpytest("--suitekit-suite=unit", "--suitekit-partition")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --suitekit-suite and --suitekit-partition cannot go together"]
    )


def test_without_a_suite_every_test_runs_and_no_header_is_printed(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest()

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=7, deselected=0)
    result.stdout.no_fnmatch_line("suitekit:*")


def test_the_header_says_where_the_worker_count_came_from(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The nox session passes the origin of the worker count through SUITEKIT_WORKERS_ORIGIN.
    monkeypatch.setenv("SUITEKIT_WORKERS_ORIGIN", "suite setting")

    result = project.runpytest("--suitekit-suite=unit", "-n", "0")

    result.stdout.fnmatch_lines(
        ["suitekit: suite 'unit': paths tests/unit; no xdist (suite setting)"]
    )


CONFTEST_MARKING_PUT_SLOW = """
import pytest


def pytest_collection_modifyitems(items):
    # A common pattern: mark tests by what they use, after collection.
    for item in items:
        if item.name == "test_put":
            item.add_marker(pytest.mark.slow)
"""


def test_a_suite_sees_markers_that_conftest_hooks_add(project: pytest.Pytester) -> None:
    project.makeconftest(CONFTEST_MARKING_PUT_SLOW)

    by_marker = project.runpytest("-m", "slow")
    by_suite = project.runpytest("--suitekit-suite=slow")

    by_marker.assert_outcomes(passed=3, deselected=4)
    by_suite.assert_outcomes(passed=3, deselected=4)


def test_a_path_suite_is_found_from_a_subfolder(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An IDE or a developer runs pytest from inside the tests: the suite is still the suite.
    monkeypatch.chdir(project.path / "tests" / "unit")

    result = project.runpytest("--suitekit-suite=integration", "-v")

    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines(
        ["*test_api.py::test_get PASSED*", "*test_api.py::test_put PASSED*"]
    )


def test_a_marker_suite_is_found_from_a_subfolder(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.path / "tests" / "unit")

    result = project.runpytest("--suitekit-suite=slow", "-v")

    result.assert_outcomes(passed=2, deselected=5)
    result.stdout.fnmatch_lines_random(
        ["*test_api.py::test_bulk PASSED*", "*test_load.py::test_load PASSED*"]
    )
