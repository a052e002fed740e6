"""Comparing run logs: which tests are flaky, and the report that says so."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitekit.flaky import (
    OUTCOMES,
    Cause,
    Finding,
    FlakyTest,
    Outcome,
    Run,
    RunLog,
    TestRun,
    compare,
    consistent_failures,
)

COIN = "tests/unit/test_coin.py::test_coin"
VICTIM = "tests/unit/test_order.py::test_victim"
POLLUTER = "tests/unit/test_order.py::test_polluter"
STABLE = "tests/unit/test_stable.py::test_one"


def log(
    outcomes: dict[str, Outcome],
    *,
    seed: int = 1,
    workers: int = 0,
    messages: dict[str, str] | None = None,
) -> RunLog:
    messages = messages or {}
    return RunLog(
        seed=seed,
        workers=workers,
        tests=tuple(
            TestRun(node_id=node, outcome=outcome, position=index, message=messages.get(node, ""))
            for index, (node, outcome) in enumerate(outcomes.items())
        ),
    )


def test_a_test_that_passed_and_failed_is_flaky_with_its_outcome_per_run() -> None:
    logs = [
        log(
            {STABLE: "passed", COIN: "passed", VICTIM: "failed"}, messages={VICTIM: "assert 1 == 0"}
        ),
        log({STABLE: "passed", COIN: "failed", VICTIM: "passed"}, messages={COIN: "unlucky"}),
        log({STABLE: "passed", COIN: "passed", VICTIM: "error"}, messages={VICTIM: "later"}),
    ]

    found = compare(logs)

    assert found == (
        FlakyTest(node_id=COIN, outcomes=("passed", "failed", "passed"), message="unlucky"),
        FlakyTest(node_id=VICTIM, outcomes=("failed", "passed", "error"), message="assert 1 == 0"),
    )
    assert found[1].failed_runs == (1, 3)


@pytest.mark.parametrize(
    ("outcomes", "flaky"),
    [
        (("passed", "passed", "passed"), False),
        (("failed", "failed", "error"), False),  # broken, not flaky
        (("passed", "skipped", "passed"), False),
        (("failed", "skipped", "failed"), False),
        (("passed", None, "failed"), True),  # missing from a run: still compared
        (("flaky", "flaky", "flaky"), True),  # failed attempts inside a run
        (("passed", "flaky", "passed"), True),
        (("skipped", "error", "passed"), True),
    ],
)
def test_which_outcome_sequences_are_flaky(outcomes: Sequence[Outcome | None], flaky: bool) -> None:
    logs = [log({COIN: outcome}) if outcome else log({}) for outcome in outcomes]

    assert bool(compare(logs)) is flaky


def test_runs_without_a_log_count_as_not_run() -> None:
    logs = [log({COIN: "passed"}), None, log({COIN: "failed"})]

    assert compare(logs) == (FlakyTest(node_id=COIN, outcomes=("passed", None, "failed")),)


def test_consistent_failures_ignore_skips_and_missing_runs() -> None:
    logs = [
        log({STABLE: "failed", COIN: "passed", VICTIM: "skipped"}),
        log({STABLE: "error", COIN: "failed", VICTIM: "skipped"}),
        None,
    ]

    assert consistent_failures(logs) == (STABLE,)


@given(
    st.lists(
        st.lists(st.sampled_from(OUTCOMES), min_size=3, max_size=3),
        min_size=2,
        max_size=6,
    )
)
def test_flaky_exactly_when_a_pass_meets_a_failure_or_attempts_failed(
    table: list[list[Outcome]],
) -> None:
    tests = ["a", "b", "c"]
    logs = [log(dict(zip(tests, row, strict=True))) for row in table]

    found = {test.node_id: test for test in compare(logs)}

    for column, node in enumerate(tests):
        seen = [row[column] for row in table]
        expected = "flaky" in seen or ("passed" in seen and bool({"failed", "error"} & set(seen)))
        assert (node in found) is expected
        if expected:
            assert found[node].outcomes == tuple(seen)


def runs() -> tuple[Run, ...]:
    return (
        Run(
            number=1,
            seed=100,
            workers=0,
            command="PYTHONHASHSEED=100 nox -s unit-3.11 -- -n 0 --suitekit-order-seed=100",
            log=log({STABLE: "passed", POLLUTER: "passed", VICTIM: "failed", COIN: "passed"}),
        ),
        Run(
            number=2,
            seed=101,
            workers=2,
            command="PYTHONHASHSEED=101 nox -s unit-3.11 -- -n 2 --suitekit-order-seed=101",
            log=log(
                {STABLE: "passed", VICTIM: "passed", POLLUTER: "passed", COIN: "failed"},
                messages={COIN: "AssertionError: unlucky draw 2"},
            ),
        ),
        Run(
            number=3,
            seed=102,
            workers=3,
            command="PYTHONHASHSEED=102 nox -s unit-3.11 -- -n 3 --suitekit-order-seed=102",
            log=None,
            problem="reports/flaky/unit/run-3.json: cannot read the run log: missing",
        ),
    )


def test_the_report_lists_outcomes_runs_reproductions_and_causes() -> None:
    every = runs()
    finding = Finding(
        suite="unit",
        session="unit-3.11",
        runs=every,
        flaky=compare([run.log for run in every]),
        causes=(
            Cause(
                node_id=VICTIM,
                kind="order",
                run=1,
                prefix=(POLLUTER,),
                replays=6,
                detail="it passes alone; 1 of the 2 tests before it suffice",
                order_file="reports/flaky/unit/tests_unit_test_order_py_test_victim.order",
                command="nox -s unit-3.11 -- -n 0 --suitekit-order-file=x.order",
            ),
            Cause(
                node_id=COIN,
                kind="random",
                run=None,
                replays=2,
                detail="run 2: passed after its 3 earlier tests (replay 1 of 2)",
            ),
        ),
    )

    assert finding.text() == (
        "suitekit flaky: suite 'unit' (unit-3.11), 3 runs: 2 of 4 tests are flaky\n"
        "\n"
        "test                                   run 1   run 2   run 3\n"
        "-------------------------------------  ------  ------  -----\n"
        "tests/unit/test_order.py::test_victim  FAILED  passed  -\n"
        "tests/unit/test_coin.py::test_coin     passed  FAILED  -\n"
        "\n"
        "runs:\n"
        "  run 1: -n 0, seed 100: 3 passed, 1 failed\n"
        "  run 2: -n 2, seed 101: 3 passed, 1 failed\n"
        "  run 3: -n 3, seed 102: no run log: reports/flaky/unit/run-3.json: cannot read the "
        "run log: missing\n"
        "\n"
        "reproduce a failure (the same order and worker count):\n"
        "  tests/unit/test_order.py::test_victim\n"
        "    run 1: PYTHONHASHSEED=100 nox -s unit-3.11 -- -n 0 --suitekit-order-seed=100\n"
        "  tests/unit/test_coin.py::test_coin: AssertionError: unlucky draw 2\n"
        "    run 2: PYTHONHASHSEED=101 nox -s unit-3.11 -- -n 2 --suitekit-order-seed=101\n"
        "\n"
        "causes (serial replays of the tests that ran before it):\n"
        "  tests/unit/test_order.py::test_victim: order-dependent (run 1's order, 6 replays): "
        "fails after\n"
        "      tests/unit/test_order.py::test_polluter\n"
        "    it passes alone; 1 of the 2 tests before it suffice\n"
        "    order: reports/flaky/unit/tests_unit_test_order_py_test_victim.order\n"
        "    replay: nox -s unit-3.11 -- -n 0 --suitekit-order-file=x.order\n"
        "  tests/unit/test_coin.py::test_coin: fails randomly (not reproduced by order): run 2: "
        "passed after its 3 earlier tests (replay 1 of 2)\n"
        "\n"
        "suitekit flaky: 2 flaky test(s) in suite 'unit'; run(s) 3 left no run log"
    )
    assert not finding.ok
    assert not finding.complete


def test_a_stable_suite_reads_as_such_and_is_ok() -> None:
    stable = log({STABLE: "passed", COIN: "skipped"})
    finding = Finding(
        suite="unit",
        session="unit-3.11",
        runs=tuple(
            Run(number=n, seed=n, workers=0, command=f"nox {n}", log=stable) for n in (1, 2)
        ),
        flaky=(),
    )

    assert finding.ok
    assert finding.text() == (
        "suitekit flaky: suite 'unit' (unit-3.11), 2 runs: no flaky test among 2\n"
        "\n"
        "runs:\n"
        "  run 1: -n 0, seed 1: 1 passed, 1 skipped\n"
        "  run 2: -n 0, seed 2: 1 passed, 1 skipped\n"
        "\n"
        "suitekit flaky: suite 'unit' gave the same outcomes in all runs"
    )


def test_a_missing_log_without_flaky_tests_is_not_ok() -> None:
    finding = Finding(
        suite="unit",
        session="unit-3.11",
        runs=(
            Run(number=1, seed=1, workers=0, command="x", log=log({STABLE: "passed"})),
            Run(number=2, seed=2, workers=2, command="y", log=None, problem="collection failed"),
        ),
        flaky=(),
    )

    assert not finding.ok
    assert finding.verdict() == (
        "suitekit flaky: cannot tell; run(s) 2 left no run log: fix what stopped them and run again"
    )


def test_broken_tests_are_listed_apart_and_interruption_is_said() -> None:
    broken = log({STABLE: "failed"})
    finding = Finding(
        suite="unit",
        session="unit-3.11",
        runs=(Run(number=1, seed=1, workers=0, command="x", log=broken),),
        flaky=(),
        interrupted=True,
    )

    text = finding.text()

    assert "failed in every run (broken, not flaky):\n  tests/unit/test_stable.py::test_one" in text
    assert text.endswith("suitekit flaky: interrupted; the result above is incomplete")
    assert not finding.ok


def test_a_capped_order_cause_says_a_smaller_set_may_suffice() -> None:
    finding = Finding(
        suite="unit",
        session="unit-3.11",
        runs=runs()[:2],
        flaky=compare([run.log for run in runs()[:2]]),
        causes=(
            Cause(node_id=VICTIM, kind="order", run=1, prefix=(STABLE, POLLUTER), capped=True),
            Cause(node_id=COIN, kind="unknown", detail="the replay did not run it"),
        ),
    )

    text = finding.text()

    assert "(replay budget spent: a smaller set of tests may suffice)" in text
    assert f"  {COIN}: could not be replayed: the replay did not run it" in text


# --- collection errors and runs that went wrong ---------------------------------------------

BROKEN_FILE = "tests/unit/test_imports.py"  # a collection error's node id: the file's


def collection_failed(outcomes: dict[str, Outcome]) -> RunLog:
    """A run log as the plugin writes it when ``BROKEN_FILE`` fails to collect."""
    return log(
        {BROKEN_FILE: "error", **outcomes},
        messages={BROKEN_FILE: "ImportError: cannot import name 'gone' from 'app'"},
    )


def finding_of(*logs: RunLog | None, problems: Sequence[str] = ()) -> Finding:
    every = tuple(
        Run(
            number=number,
            seed=number,
            workers=0,
            command=f"nox {number}",
            log=found,
            problem=problems[number - 1] if number <= len(problems) else "",
        )
        for number, found in enumerate(logs, start=1)
    )
    return Finding(
        suite="unit",
        session="unit-3.11",
        runs=every,
        flaky=compare([run.compared for run in every]),
    )


def test_a_collection_error_in_some_runs_only_is_flaky() -> None:
    finding = finding_of(
        collection_failed({STABLE: "passed"}),
        log({STABLE: "passed", f"{BROKEN_FILE}::test_a": "passed"}),
        None,
    )

    assert finding.flaky == (
        FlakyTest(
            node_id=BROKEN_FILE,
            # Collected in run 2 (no entry of the file there); run 3 left no log.
            outcomes=("error", "passed", None),
            message="ImportError: cannot import name 'gone' from 'app'",
        ),
    )
    text = finding.text()
    assert (
        "test                        run 1             run 2      run 3\n"
        "--------------------------  ----------------  ---------  -----\n"
        "tests/unit/test_imports.py  COLLECTION ERROR  collected  -\n"
    ) in text
    assert (
        "  tests/unit/test_imports.py: collection error: ImportError: cannot import name 'gone' "
        "from 'app'\n    run 1: nox 1\n"
    ) in text
    assert "  run 1: -n 0, seed 1: 1 passed, 1 collection error\n" in text
    assert not finding.ok


def test_a_collection_error_in_every_run_is_broken_and_the_search_cannot_tell() -> None:
    finding = finding_of(
        collection_failed({STABLE: "passed"}), collection_failed({STABLE: "passed"})
    )

    assert finding.flaky == ()
    assert finding.uncollected == (BROKEN_FILE,)
    text = finding.text()
    assert text.startswith(
        "suitekit flaky: suite 'unit' (unit-3.11), 2 runs: no flaky test among 1\n"
    )
    assert (
        "failed in every run (broken, not flaky):\n"
        "  tests/unit/test_imports.py (collection error)\n"
    ) in text
    assert finding.verdict() == (
        "suitekit flaky: cannot tell; 1 file(s) failed to collect in every run, so their tests "
        "were not searched (tests/unit/test_imports.py): fix what stopped them and run again"
    )
    assert not finding.ok  # a file whose tests never ran was not searched


def test_a_suite_that_collects_nothing_in_every_run_is_never_same_outcomes() -> None:
    finding = finding_of(
        collection_failed({}),
        collection_failed({}),
    )

    assert "gave the same outcomes" not in finding.text()
    assert not finding.ok


def test_a_run_that_went_wrong_is_left_out_and_the_search_is_incomplete() -> None:
    problem = "run-2.json has no tests: the suite collected none (exit code 1; log: run-2.log)"
    finding = finding_of(
        log({STABLE: "passed", COIN: "passed"}),
        log({}),
        log({STABLE: "passed", COIN: "failed"}),  # left out: nox's exit code was 3
        problems=("", problem, "nox exited with code 3, not 0 (passed) or 1 (tests failed)"),
    )

    assert finding.flaky == ()  # run 3's failure is not compared: the run went wrong
    assert not finding.complete
    assert not finding.ok
    text = finding.text()
    assert text.startswith(
        "suitekit flaky: suite 'unit' (unit-3.11), 3 runs: no flaky test among 2\n"
    )
    assert f"  run 2: -n 0, seed 2: no tests: {problem}\n" in text
    assert (
        "  run 3: -n 0, seed 3: 1 passed, 1 failed: nox exited with code 3, not 0 (passed) or 1 "
        "(tests failed)\n"
    ) in text
    assert finding.verdict() == (
        "suitekit flaky: cannot tell; run(s) 2, 3 went wrong (see above): fix what stopped them "
        "and run again"
    )
