"""``--suitekit-partition``: run nothing, check that every test belongs to exactly one suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.helpers import run


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(["-n", "0"], id="-n 0"),
        pytest.param(["-n", "0", "-q"], id="as the nox session runs it"),
        pytest.param([], id="no -n"),
    ],
)
def test_a_partition_that_holds_is_counted_and_exits_0(
    project: pytest.Pytester, options: list[str]
) -> None:
    project.makepyfile(
        **{"tests/unit/test_never_run": "def test_would_fail():\n    raise AssertionError\n"}
    )

    result = project.runpytest("--suitekit-partition", *options)

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=0, failed=0, deselected=8)
    result.stdout.fnmatch_lines(
        [
            "*= suitekit partition =*",
            "suite        tests",
            "unit             4",
            "integration      2",
            "slow             2",
            "total            8",
        ],
        consecutive=True,
    )
    result.stdout.no_fnmatch_line("*belong to*")


def test_a_test_no_suite_selects_is_listed_and_exits_1(project: pytest.Pytester) -> None:
    project.makepyfile(
        **{"tests/misc/test_orphan": "def test_one():\n    pass\n\ndef test_two():\n    pass\n"}
    )

    result = project.runpytest("--suitekit-partition", "-n", "0")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=0, deselected=9)
    result.stdout.fnmatch_lines(
        [
            "suitekit: checking the partition of 3 suites",
            "*= suitekit partition =*",
            "total            7",
            "suitekit: every test must belong to exactly one suite.",
            "2 test(s) belong to no suite:",
            "  tests/misc/test_orphan.py::test_one",
            "  tests/misc/test_orphan.py::test_two",
            "  fix: add the file's folder to a suite's `paths`*",
        ]
    )
    result.stdout.no_fnmatch_line("*more than one suite*")


def test_a_test_two_suites_select_is_listed_with_their_names(project: pytest.Pytester) -> None:
    project.makepyfile(
        **{
            "tests/unit/test_heavy": """
            import pytest

            @pytest.mark.slow
            def test_heavy():
                pass
            """
        }
    )

    result = project.runpytest("--suitekit-partition", "-n", "0")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "unit             4",
            "integration      2",
            "slow             3",
            "suitekit: every test must belong to exactly one suite.",
            "1 test(s) belong to more than one suite:",
            "  tests/unit/test_heavy.py::test_heavy  (unit, slow)",
        ]
    )
    result.stdout.no_fnmatch_line("*belong to no suite*")


def test_tests_outside_the_test_roots_are_counted_but_not_checked(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(**{"scripts/test_tool": "def test_tool():\n    pass\n"})

    result = project.runpytest("--suitekit-partition", "tests", "scripts")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["total            7", "(1 collected test(s) outside the test roots: not checked)"]
    )


def test_the_partition_check_refuses_xdist_workers(project: pytest.Pytester) -> None:
    # Refused while pytest configures, before xdist would start a worker.
    result = project.runpytest("--suitekit-partition", "-n", "2")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --suitekit-partition collects in one process: pass -n 0 (or drop -n)"]
    )
    result.stdout.no_fnmatch_line("*suitekit partition*")


def test_the_partition_sees_markers_that_conftest_hooks_add(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
        import pytest

        def pytest_collection_modifyitems(items):
            for item in items:
                if item.name == "test_put":
                    item.add_marker(pytest.mark.slow)
        """
    )

    result = project.runpytest("--suitekit-partition")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["unit             3", "integration      1", "slow             3"])


# -- what a suite session records for the runner's guard (SUITEKIT_COLLECTIONS) --------------


def records(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_suite_session_records_what_it_collected_once(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    folder = project.mkdir("records")
    monkeypatch.setenv("SUITEKIT_COLLECTIONS", str(folder))

    result = run(project, workers, "--suitekit-suite=slow")

    assert result.ret == pytest.ExitCode.OK
    (record,) = records(folder)  # by the only process, or by the first worker alone
    assert record["suite"] == "slow"
    assert record["complete"] is True
    assert sorted(record["owned"]) == [
        "tests/integration/test_api.py::test_bulk",
        "tests/perf/test_load.py::test_load",
    ]
    assert len(record["others"]) == 5
    assert record["python_files"] == ["test_*.py", "*_test.py"]


def test_a_narrowed_collection_is_recorded_as_incomplete(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = project.mkdir("records")
    monkeypatch.setenv("SUITEKIT_COLLECTIONS", str(folder))

    result = run(project, "0", "--suitekit-suite=integration", "-k", "get")

    assert result.ret == pytest.ExitCode.OK
    (record,) = records(folder)
    assert record["complete"] is False


def test_nothing_is_recorded_outside_a_whole_run(project: pytest.Pytester) -> None:
    result = run(project, "0", "--suitekit-suite=unit")

    assert result.ret == pytest.ExitCode.OK
    assert not list(project.path.rglob("*.json"))
