"""The plan of a flaky search (runs, replays, order files) and how replays classify a test."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import pytest

from suitekit import ConfigError, Suite, plan
from suitekit._cli import main
from suitekit._model import Project
from suitekit._runner import Outcome as JobOutcome
from suitekit.config import load_project
from suitekit.flaky import Finding, FlakyTest, Outcome, Run, RunLog, TestRun, compare
from suitekit.flaky._finder import (
    FlakyOptions,
    _ReplayError,
    _Search,
    find,
    order_text,
    replay_args,
    run_args,
    seeds,
    session_python,
    worker_counts,
)
from suitekit.invoke import _seed, namespace

VICTIM = "tests/unit/test_order.py::test_victim"
POLLUTER = "tests/unit/test_order.py::test_polluter"
COIN = "tests/unit/test_coin.py::test_coin"
STABLE = tuple(f"tests/unit/test_stable.py::test_{n}" for n in range(6))

PYPROJECT = """\
[project]
name = "demo"
version = "0.1"

[tool.suitekit]
python = ["3.11", "3.12"]

[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = 2
dist = "loadfile"
pytest-args = ["-p", "no:randomly"]
env = { DEMO = "1" }

[tool.suitekit.suites.serial]
paths = ["tests/serial"]
workers = 0
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for folder in ("tests/unit", "tests/serial"):
        (tmp_path / folder).mkdir(parents=True)
    return load_project(tmp_path)


@pytest.mark.parametrize(
    ("workers", "cpus", "expected"),
    [
        (2, 2, (0, 2, 3, 0, 2)),
        (4, 16, (0, 2, 8, 0, 2)),  # capped: more workers only add start-up time
        ("auto", 6, (0, 2, 6, 0, 2)),
        (0, 8, (0, 0, 0, 0, 0)),  # a suite declared serial stays serial
    ],
)
def test_runs_alternate_serial_and_parallel(
    workers: int | str, cpus: int, expected: tuple[int, ...]
) -> None:
    suite = Suite(name="unit", workers=workers)  # type: ignore[arg-type]  # Workers is a Literal

    assert worker_counts(suite, 5, cpus) == expected


def test_seeds_count_up_from_the_base() -> None:
    assert seeds(41, 3) == (41, 42, 43)


def test_a_run_sets_order_workers_and_no_retries() -> None:
    suite = Suite(name="unit", dist="loadfile")

    assert run_args(suite, workers=0, seed=7) == (
        "-n",
        "0",
        "--suitekit-order-seed=7",
        "--suitekit-retries=0",
    )
    assert run_args(suite, workers=3, seed=8) == (
        "-n",
        "3",
        "--dist",
        "loadfile",
        "--suitekit-order-seed=8",
        "--suitekit-retries=0",
    )


def test_a_replay_runs_the_order_file_serially_with_the_suite_arguments(project: Project) -> None:
    args = replay_args(
        project, project.suite("unit"), order_file=Path("/o/order.txt"), log=Path("/o/log.json")
    )

    assert args == (
        f"--suitekit-project={project.config_file}",
        "--suitekit-suite=unit",
        "-n",
        "0",
        "--suitekit-retries=0",
        "--suitekit-order-file=/o/order.txt",
        "--suitekit-run-log=/o/log.json",
        "-p",
        "no:cacheprovider",
        "-q",
        "-p",
        "no:randomly",
    )


def test_order_files_have_comments_then_one_node_id_a_line() -> None:
    assert order_text([POLLUTER, VICTIM], comment=["why", "how"]) == (
        f"# why\n# how\n{POLLUTER}\n{VICTIM}\n"
    )


def test_the_session_interpreter_is_found_by_nox_folder_name(project: Project) -> None:
    assert session_python(project, "unit-3.11") is None
    python = project.root / ".nox" / "unit-3-11" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()

    assert session_python(project, "unit-3.11") == python


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (FlakyOptions(suite="nope"), r"there is no suite called 'nope'\n  fix: use one of: unit"),
        (
            FlakyOptions(suite="unit", runs=1),
            r"--runs: 1 run\(s\) cannot show a test whose outcome changes\n  fix: pass --runs 2",
        ),
        (
            FlakyOptions(suite="unit", python="3.9"),
            (
                r"suites.unit.python: suite 'unit' does not run on Python 3.9\n"
                r"  fix: pass --python with one of: 3.11, 3.12"
            ),
        ),
        (FlakyOptions(suite="unit", seed=-1), r"--seed: -1 is not an order seed"),
    ],
)
def test_bad_requests_are_refused_before_anything_runs(
    project: Project, options: FlakyOptions, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        find(project, options, environ={}, out=io.StringIO())

    assert not (project.root / "reports").exists()


def test_the_command_line_turns_a_bad_request_into_exit_code_2(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--project", str(project.root), "flaky", "nope", "--runs", "3"])

    assert code == 2
    assert "there is no suite called 'nope'" in capsys.readouterr().err


def test_the_invoke_task_takes_a_suite_runs_seed_and_python(project: Project) -> None:
    task = namespace(project.root).collections["test"].tasks["flaky"]

    assert {arg.name for arg in task.get_arguments()} >= {"suite", "runs", "seed", "python"}
    assert task.positional == ["suite"]
    assert _seed("") is None
    assert _seed("12") == 12
    with pytest.raises(ConfigError, match=r"--seed: 'x1' is not an order seed"):
        _seed("x1")


# --- replays --------------------------------------------------------------------------------


class Replays(_Search):
    """The search with a rule in place of pytest processes."""

    rule: Callable[[tuple[str, ...], str], Outcome]
    asked: list[tuple[str, ...]]

    def execute(self, python: Path, order: Sequence[str], target: str) -> Outcome:
        del python
        self.asked.append(tuple(order))
        return self.rule(tuple(order), target)


def searcher(
    project: Project, rule: Callable[[tuple[str, ...], str], Outcome], max_replays: int = 40
) -> Replays:
    python = project.root / ".nox" / "unit-3-11" / "bin" / "python"
    python.parent.mkdir(parents=True, exist_ok=True)
    python.touch()
    folder = project.root / "reports" / "flaky" / "unit"
    folder.mkdir(parents=True, exist_ok=True)
    search = Replays(
        project=project,
        suite=project.suite("unit"),
        python="3.11",
        options=FlakyOptions(suite="unit", max_replays=max_replays),
        environ={},
        out=io.StringIO(),
        folder=folder,
        session="unit-3.11",
        hashseed_from_seed=True,
    )
    search.rule = rule
    search.asked = []
    return search


def run_of(number: int, order: Sequence[str], outcomes: dict[str, Outcome]) -> Run:
    return Run(
        number=number,
        seed=100 + number,
        workers=0,
        command=f"run {number}",
        log=RunLog(
            seed=100 + number,
            workers=0,
            tests=tuple(
                TestRun(node_id=node, outcome=outcomes.get(node, "passed"), position=i)
                for i, node in enumerate(order)
            ),
        ),
    )


def polluted(order: tuple[str, ...], target: str) -> Outcome:
    return "failed" if target == VICTIM and POLLUTER in order else "passed"


def test_an_order_dependent_test_is_shrunk_to_its_polluter_and_written_down(
    project: Project,
) -> None:
    order = [STABLE[0], STABLE[1], POLLUTER, STABLE[2], COIN, STABLE[3], VICTIM]
    runs = [
        run_of(1, order, {VICTIM: "failed"}),
        run_of(2, [VICTIM, *STABLE, POLLUTER], {}),
    ]
    test = FlakyTest(node_id=VICTIM, outcomes=("failed", "passed"))
    search = searcher(project, polluted)

    cause = search.explain(test, runs)

    assert cause.kind == "order"
    assert cause.run == 1
    assert cause.prefix == (POLLUTER,)
    assert not cause.capped
    assert cause.replays == len(search.asked)
    # Twice after the prefix, twice alone, then ddmin (which already knows the prefix fails).
    assert search.asked[:4] == [tuple(order[:-1]), tuple(order[:-1]), (), ()]
    assert search.replay_env == {"PYTHONHASHSEED": "101"}  # the hash seed of run 1
    written = project.root / cause.order_file
    assert cause.order_file == "reports/flaky/unit/tests_unit_test_order_py_test_victim.order"
    assert written.read_text().splitlines()[-2:] == [POLLUTER, VICTIM]
    assert cause.command == (
        "nox -s unit-3.11 -- -n 0 --suitekit-retries=0 "
        "--suitekit-order-file=reports/flaky/unit/tests_unit_test_order_py_test_victim.order"
    )
    assert f"# Replay: {cause.command}" in written.read_text()


def test_the_shortest_failing_prefix_is_replayed_first(project: Project) -> None:
    runs = [
        run_of(1, [*STABLE, POLLUTER, VICTIM], {VICTIM: "failed"}),
        run_of(2, [POLLUTER, VICTIM], {VICTIM: "failed"}),
    ]
    search = searcher(project, polluted)

    cause = search.explain(FlakyTest(node_id=VICTIM, outcomes=("failed", "failed")), runs)

    assert cause.run == 2
    assert search.asked[0] == (POLLUTER,)


def test_a_failure_that_does_not_come_back_is_random(project: Project) -> None:
    draws = iter(["failed", "passed", "failed", "passed", "failed", "passed"])
    runs = [
        run_of(1, [STABLE[0], COIN], {COIN: "failed"}),
        run_of(2, [COIN, STABLE[0]], {}),
        run_of(3, [STABLE[1], STABLE[0], COIN], {COIN: "failed"}),
    ]
    search = searcher(project, lambda _order, _target: next(draws))  # type: ignore[arg-type]

    cause = search.explain(FlakyTest(node_id=COIN, outcomes=("failed", "passed", "failed")), runs)

    assert cause.kind == "random"
    assert cause.detail == (
        "run 1: passed after its 1 earlier tests (replay 2 of 2); "
        "run 3: passed after its 2 earlier tests (replay 2 of 2)"
    )
    assert cause.replays == 4
    assert not list(project.root.glob("reports/flaky/unit/*.order"))


def test_a_test_that_fails_alone_too_is_not_order_dependent(project: Project) -> None:
    runs = [run_of(1, [STABLE[0], COIN], {COIN: "failed"}), run_of(2, [COIN], {})]
    search = searcher(project, lambda _order, _target: "failed")

    cause = search.explain(FlakyTest(node_id=COIN, outcomes=("failed", "passed")), runs)

    assert cause.kind == "random"
    assert cause.detail == (
        "run 1: failed after its 1 earlier tests, and alone too (2 of 2 replays)"
    )


def test_a_test_that_failed_first_on_its_worker_is_not_replayed(project: Project) -> None:
    runs = [run_of(1, [COIN, STABLE[0]], {COIN: "failed"}), run_of(2, [STABLE[0], COIN], {})]
    search = searcher(project, polluted)

    cause = search.explain(FlakyTest(node_id=COIN, outcomes=("failed", "passed")), runs)

    assert cause.kind == "random"
    assert cause.detail == "run 1: it failed as the first test on its worker"
    assert search.asked == []


def test_the_replay_budget_caps_the_search(project: Project) -> None:
    stable = [f"tests/unit/test_many.py::test_{n}" for n in range(30)]
    order = [*stable[:15], POLLUTER, *stable[15:], VICTIM]
    runs = [run_of(1, order, {VICTIM: "failed"}), run_of(2, [VICTIM], {})]
    search = searcher(project, polluted, max_replays=7)

    cause = search.explain(FlakyTest(node_id=VICTIM, outcomes=("failed", "passed")), runs)

    assert cause.kind == "order"
    assert cause.capped
    assert cause.replays == 7 == len(search.asked)
    assert POLLUTER in cause.prefix
    assert len(cause.prefix) < len(order) - 1


def test_the_budget_can_run_out_before_the_order_is_confirmed(project: Project) -> None:
    runs = [run_of(1, [POLLUTER, VICTIM], {VICTIM: "failed"}), run_of(2, [VICTIM], {})]
    search = searcher(project, polluted, max_replays=3)

    cause = search.explain(FlakyTest(node_id=VICTIM, outcomes=("failed", "passed")), runs)

    assert cause.kind == "random"
    assert cause.capped
    assert cause.detail == "replay budget of 3 spent"


def test_a_replay_that_breaks_leaves_the_cause_unknown(project: Project) -> None:
    def broken(order: tuple[str, ...], target: str) -> Outcome:
        del order
        message = f"the replay did not run {target}"
        raise _ReplayError(message)

    runs = [run_of(1, [POLLUTER, VICTIM], {VICTIM: "failed"}), run_of(2, [VICTIM], {})]
    search = searcher(project, broken)

    cause = search.explain(FlakyTest(node_id=VICTIM, outcomes=("failed", "passed")), runs)

    assert cause.kind == "unknown"
    assert cause.detail == f"the replay did not run {VICTIM}"


def test_without_the_session_virtualenv_nothing_is_replayed(project: Project) -> None:
    search = searcher(project, polluted)
    (project.root / ".nox" / "unit-3-11" / "bin" / "python").unlink()
    runs = [run_of(1, [POLLUTER, VICTIM], {VICTIM: "failed"}), run_of(2, [VICTIM], {})]

    cause = search.explain(FlakyTest(node_id=VICTIM, outcomes=("failed", "passed")), runs)

    assert cause.kind == "unknown"
    assert "run `nox -s unit-3.11`" in cause.detail
    assert search.asked == []


# --- runs that go wrong ---------------------------------------------------------------------


class FakeNox(_Search):
    """The search with scripted nox runs in place of real ones: exit code, run log, output."""

    script: list[tuple[int | None, RunLog | None, str]]
    jobs: list[plan.Job]
    printed: io.StringIO  # what the search said (its ``out``)

    def launch(self, job: plan.Job) -> JobOutcome:
        code, log, output = self.script[len(self.jobs)]
        self.jobs.append(job)
        job.log.write_text(output, encoding="utf-8")
        if log is not None:
            (option,) = (arg for arg in job.command if arg.startswith(plan.RUN_LOG_OPTION))
            log.write(self.project.root / option.partition("=")[2])
        return JobOutcome(
            job=job, status="passed" if code == 0 else "failed", returncode=code, seconds=1.0
        )


def fake_nox(project: Project, *script: tuple[int | None, RunLog | None, str]) -> FakeNox:
    folder = project.root / "reports" / "flaky" / "unit"
    folder.mkdir(parents=True, exist_ok=True)
    printed = io.StringIO()
    search = FakeNox(
        project=project,
        suite=project.suite("unit"),
        python="3.11",
        options=FlakyOptions(suite="unit", runs=len(script)),
        environ={},
        out=printed,
        folder=folder,
        session="unit-3.11",
        hashseed_from_seed=False,
    )
    search.script = list(script)
    search.jobs = []
    search.printed = printed
    return search


def searched(search: FakeNox) -> Finding:
    runs = [search.run(number, seed=number, workers=0) for number in range(1, 4)]
    done = [run for run in runs if run is not None]
    return Finding(
        suite="unit",
        session=search.session,
        runs=tuple(done),
        flaky=compare([run.compared for run in done]),
    )


def stable_log(*extra: TestRun) -> RunLog:
    tests = [TestRun(node_id=node, outcome="passed", position=i) for i, node in enumerate(STABLE)]
    return RunLog(seed=1, workers=0, tests=(*tests, *extra))


EMPTY: Final = RunLog(seed=1, workers=0, tests=())
IMPORT_ERROR: Final = "E   ImportError: cannot import name 'gone' from 'app'"


def test_a_suite_that_fails_to_collect_is_a_problem_not_a_stable_suite(project: Project) -> None:
    # pytest stops at the collection error (its exit code 2, nox's 1), with an empty run log.
    output = f"collecting ...\n{IMPORT_ERROR}\nInterrupted: 1 error during collection\n"
    search = fake_nox(project, *[(1, EMPTY, output)] * 3)

    finding = searched(search)

    assert [run.problem for run in finding.runs] == [
        f"run-{n}.json has no tests: the suite collected none (exit code 1; log: "
        f"{search.folder / f'run-{n}.log'})"
        for n in (1, 2, 3)
    ]
    assert not finding.ok
    text = finding.text()
    assert "gave the same outcomes" not in text
    assert text.endswith(
        "suitekit flaky: cannot tell; run(s) 1, 2, 3 went wrong (see above): fix what stopped "
        "them and run again"
    )
    printed = search.printed.getvalue()
    assert "suitekit flaky: run 1/3 (-n 0, seed 1) ran no test; the end of its output:\n" in printed
    assert f"    | {IMPORT_ERROR}\n" in printed


@pytest.mark.parametrize("code", [2, 3, 130, -9, None])
def test_a_run_whose_exit_code_is_not_0_or_1_is_a_problem(
    project: Project, code: int | None
) -> None:
    search = fake_nox(
        project, (0, stable_log(), "ok"), (code, stable_log(), "nox: boom"), (0, stable_log(), "")
    )

    finding = searched(search)

    assert [run.number for run in finding.runs if run.problem] == [2]
    assert finding.runs[1].problem.startswith(
        f"nox exited with code {code}, not 0 (passed) or 1 (tests failed): the run itself went "
        "wrong"
    )
    assert finding.runs[1].compared is None
    assert not finding.ok
    printed = search.printed.getvalue()
    assert f"run 2/3 (-n 0, seed 2) ended with exit code {code}; the end of its output:" in printed
    assert "    | nox: boom" in printed


def test_runs_with_exit_codes_0_and_1_and_tests_are_compared(project: Project) -> None:
    failed = TestRun(node_id=COIN, outcome="failed", position=9, message="unlucky")
    passed = TestRun(node_id=COIN, outcome="passed", position=9)
    search = fake_nox(
        project,
        (1, stable_log(failed), ""),
        (0, stable_log(passed), ""),
        (0, stable_log(passed), ""),
    )

    finding = searched(search)

    assert [run.problem for run in finding.runs] == ["", "", ""]
    assert [test.node_id for test in finding.flaky] == [COIN]
    assert finding.complete


def test_a_file_that_fails_to_collect_in_some_runs_is_flaky(project: Project) -> None:
    # As the plugin logs a failed collection: an error of the file's node id, first line.
    broken = TestRun(
        node_id="tests/unit/test_order.py", outcome="error", position=0, message=IMPORT_ERROR
    )
    collected = (
        TestRun(node_id=POLLUTER, outcome="passed", position=7),
        TestRun(node_id=VICTIM, outcome="passed", position=8),
    )
    search = fake_nox(
        project,
        (1, stable_log(broken), ""),
        (0, stable_log(*collected), ""),
        (1, stable_log(broken), ""),
    )

    finding = searched(search)

    assert [(test.node_id, test.outcomes) for test in finding.flaky] == [
        ("tests/unit/test_order.py", ("error", "passed", "error")),
    ]
    assert not finding.ok
    assert f"  tests/unit/test_order.py: collection error: {IMPORT_ERROR}\n" in finding.text()


def test_a_file_that_fails_to_collect_in_every_run_leaves_the_search_incomplete(
    project: Project,
) -> None:
    broken = TestRun(
        node_id="tests/unit/test_order.py", outcome="error", position=0, message=IMPORT_ERROR
    )
    search = fake_nox(project, *[(1, stable_log(broken), "")] * 3)

    finding = searched(search)

    assert finding.flaky == ()
    assert finding.uncollected == ("tests/unit/test_order.py",)
    assert "  tests/unit/test_order.py (collection error)\n" in finding.text()
    assert not finding.ok
