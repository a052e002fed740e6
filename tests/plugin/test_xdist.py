"""``--suitekit-suite NAME`` under pytest-xdist: every worker selects the same tests.

Each run is a real subprocess: xdist's workers must load the plugin from its entry point and
reach the same selection as the controller, or xdist aborts on differing collections.
"""

from __future__ import annotations

import pytest

UNIT = (
    "tests/unit/test_a.py::test_a1",
    "tests/unit/test_a.py::test_a2",
    "tests/unit/test_b.py::test_b1",
)
SLOW = ("tests/integration/test_api.py::test_bulk", "tests/perf/test_load.py::test_load")


@pytest.mark.parametrize(
    ("args", "node_ids", "header"),
    # Two runs cover a path suite and a marker suite, xdist's default mode and another, and a
    # given folder that the suite narrows; each run costs a controller and two workers.
    [
        pytest.param(
            ["--suitekit-suite=slow", "-n", "2"],
            SLOW,
            "suitekit: suite 'slow': marker 'slow'; 2 xdist workers, dist load",
            id="slow-marker",
        ),
        pytest.param(
            # What `nox -s unit -- tests` runs: the given folder is narrowed to the suite.
            ["--suitekit-suite=unit", "-n", "2", "--dist", "loadscope", "tests"],
            UNIT,
            "suitekit: suite 'unit': paths tests/unit; 2 xdist workers, dist loadscope",
            id="unit-loadscope-narrowing-tests",
        ),
    ],
)
def test_a_suite_runs_on_two_workers(
    project: pytest.Pytester, args: list[str], node_ids: tuple[str, ...], header: str
) -> None:
    result = project.runpytest_subprocess(*args, "-v")

    assert result.ret == pytest.ExitCode.OK
    # xdist does not forward the workers' deselections to the controller's summary, so only
    # what ran is counted.
    result.assert_outcomes(passed=len(node_ids))
    result.stdout.fnmatch_lines([header, f"2 workers [[]{len(node_ids)} items[]]"])
    result.stdout.fnmatch_lines_random([f"*PASSED {node_id}*" for node_id in node_ids])
    passed = [line for line in result.outlines if " PASSED " in line]
    assert len(passed) == len(node_ids), passed
