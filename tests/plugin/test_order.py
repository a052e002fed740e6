"""A suite run's order (``--suitekit-order-seed``, ``--suitekit-order-file``) and its run log.

Every run happens in this process; with xdist, its workers are subprocesses (tests.plugin.helpers).
"""

from __future__ import annotations

import textwrap
from typing import Final

import pytest

from suitekit.flaky import RunLog
from tests.plugin.helpers import run

PYPROJECT: Final = """
[tool.suitekit]
tests = ["tests"]

[tool.suitekit.suites.unit]
paths = ["tests"]
retries = 1

[[tool.suitekit.quarantine]]
test = "tests/test_mixed.py::test_quarantined"
reason = "issue 9"
"""

MIXED: Final = """
import pathlib

import pytest


def test_passes():
    pass


def test_fails():
    assert 1 == 2, "wrong sum"


def test_skips():
    pytest.skip("not here")


@pytest.fixture
def broken():
    raise RuntimeError("no fixture")


def test_errors(broken):
    pass


def test_flaky():
    counter = pathlib.Path(__file__).with_name("flaky.count")
    first = not counter.exists()
    counter.write_text("1")
    assert not first, "first attempt"


def test_quarantined():
    assert False, "known bad"
"""

WORKERS: Final = pytest.mark.parametrize("workers", ["0", "2"])
ALL: Final = [f"tests/test_many.py::test_{number:02}" for number in range(12)]


@pytest.fixture
def many(pytester: pytest.Pytester) -> pytest.Pytester:
    """A suite of twelve passing tests."""
    pytester.makepyprojecttoml(PYPROJECT)
    body = "".join(f"def test_{number:02}():\n    pass\n\n" for number in range(12))
    pytester.makepyfile(**{"tests/test_many": body})
    return pytester


def _collected(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = run(pytester, "0", "--suitekit-suite=unit", "--collect-only", "-q", *args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    return [line for line in result.outlines if line.startswith("tests/")]


def test_a_seed_gives_one_order_and_another_seed_another(many: pytest.Pytester) -> None:
    first = _collected(many, "--suitekit-order-seed=1")
    again = _collected(many, "--suitekit-order-seed=1")
    second = _collected(many, "--suitekit-order-seed=2")

    assert first == again
    assert first != second
    assert sorted(first) == sorted(second) == ALL
    assert first != ALL


def test_every_xdist_worker_runs_the_seeded_order(many: pytest.Pytester) -> None:
    seeded = _collected(many, "--suitekit-order-seed=1")

    # xdist refuses to run when its workers collect different orders.
    result = run(
        many, "2", "--suitekit-suite=unit", "--suitekit-order-seed=1", "--suitekit-run-log=log"
    )

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["suitekit: suite 'unit': paths tests; order seed 1; *"])
    log = RunLog.read(many.path / "log")
    assert log.seed == 1
    assert log.workers == 2
    assert sorted(test.node_id for test in log.tests) == ALL
    for worker in {test.worker for test in log.tests}:
        ran = [test.node_id for test in log.tests if test.worker == worker]
        assert ran == [node_id for node_id in seeded if node_id in ran]


def test_an_order_file_runs_exactly_its_tests_in_its_order(many: pytest.Pytester) -> None:
    wanted = [ALL[7], ALL[2], ALL[10]]
    (many.path / "order.txt").write_text(
        f"# replay\n{wanted[0]}\n\n{wanted[1]}\n  {wanted[2]}  \n", encoding="utf-8"
    )

    result = run(
        many,
        "0",
        "--suitekit-suite=unit",
        "-v",
        "--suitekit-order-file=order.txt",
        "--suitekit-run-log=log",
    )

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3, deselected=9)
    result.stdout.fnmatch_lines([f"{node_id} PASSED *" for node_id in wanted])
    log = RunLog.read(many.path / "log")
    assert [test.node_id for test in log.tests] == wanted
    assert [test.position for test in log.tests] == [0, 1, 2]


@WORKERS
def test_an_order_file_naming_an_unknown_test_is_a_usage_error(
    many: pytest.Pytester, workers: str
) -> None:
    (many.path / "order.txt").write_text(f"{ALL[0]}\ntests/test_many.py::test_99\n")

    result = run(many, workers, "--suitekit-suite=unit", "--suitekit-order-file=order.txt")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    expected = (
        f"ERROR: --suitekit-order-file={many.path / 'order.txt'}: line 2: "
        "'tests/test_many.py::test_99' is not a collected test of suite 'unit'\n"
        "  fix: write node ids as `pytest --collect-only -q --suitekit-suite=unit` prints them, "
        "or remove the line"
    )
    assert expected in result.stderr.str()


def test_an_order_file_naming_a_test_twice_is_a_usage_error(many: pytest.Pytester) -> None:
    (many.path / "order.txt").write_text(f"{ALL[0]}\n{ALL[1]}\n{ALL[0]}\n")

    result = many.runpytest("--suitekit-suite=unit", "--suitekit-order-file=order.txt")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    expected = (
        f"ERROR: --suitekit-order-file={many.path / 'order.txt'}: line 3: {ALL[0]!r} is listed "
        "twice (first on line 1)\n  fix: keep one of the two lines"
    )
    assert expected in result.stderr.str()


def _assert_real_outcomes(log: RunLog, workers: str) -> None:
    """The run log holds MIXED's tests with their outcomes, in each worker's order."""
    assert log.seed is None
    assert log.workers == int(workers)
    tests = [test for test in log.tests if "::" in test.node_id]  # not a file that failed
    found = {
        test.node_id.split("::")[1]: (test.outcome, test.message, test.quarantined)
        for test in tests
    }
    assert found == {
        "test_passes": ("passed", "", False),
        "test_fails": ("failed", "AssertionError: wrong sum", False),
        "test_skips": ("skipped", "Skipped: not here", False),
        "test_errors": ("error", "RuntimeError: no fixture", False),
        "test_flaky": ("flaky", "AssertionError: first attempt", False),
        "test_quarantined": ("failed", "AssertionError: known bad", True),
    }
    workers_seen = {test.worker for test in tests}
    assert workers_seen == {"main"} if workers == "0" else workers_seen <= {"gw0", "gw1"}
    for worker in workers_seen:
        positions = [test.position for test in tests if test.worker == worker]
        assert positions == list(range(len(positions)))


def test_the_run_log_holds_every_test_with_its_real_outcome(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makepyfile(**{"tests/test_mixed": textwrap.dedent(MIXED)})

    result = run(pytester, "0", "--suitekit-suite=unit", "--suitekit-run-log=logs/run.json")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    _assert_real_outcomes(RunLog.read(pytester.path / "logs" / "run.json"), "0")


@WORKERS
def test_the_run_log_holds_a_file_that_fails_to_collect(
    pytester: pytest.Pytester, workers: str
) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makepyfile(
        **{
            "tests/test_mixed": textwrap.dedent(MIXED),
            "tests/test_broken": 'raise ValueError("cannot import this\\nsecond line")',
        }
    )

    result = run(pytester, workers, "--suitekit-suite=unit", "--suitekit-run-log=logs/run.json")

    # Serially pytest stops after collecting; xdist's workers run the other tests.
    expected = pytest.ExitCode.INTERRUPTED if workers == "0" else pytest.ExitCode.TESTS_FAILED
    assert result.ret == expected
    log = RunLog.read(pytester.path / "logs" / "run.json")
    # Once, though each xdist worker reports it.
    [error] = [test for test in log.tests if test.node_id == "tests/test_broken.py"]
    assert error.outcome == "error"
    assert error.message == "ValueError: cannot import this"
    assert not error.quarantined
    if workers != "0":
        # With xdist this run also proves what the serial run above does: the controller's log
        # holds every test its workers ran, with its real outcome, in each worker's order.
        _assert_real_outcomes(log, workers)
