"""Unit tests of the plan (suitekit.plan): sessions, pytest arguments, workers and jobs."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suitekit import Check, ConfigError, Project, Suite
from suitekit._model import Source, Sourced, Workers
from suitekit.plan import (
    ENV_CPUS,
    ENV_WORKERS,
    YIELDING_NICE,
    Job,
    RunOptions,
    SessionSpec,
    chooses_workers,
    jobs,
    junit_path,
    measured,
    measures_coverage,
    nox_command,
    partition_job,
    probing,
    recorded_work,
    report_jobs,
    resolve_workers,
    run_plan,
    session_workers,
    sessions,
    share_cpus,
    suite_pytest_args,
)
from suitekit.sharding import DurationStore

ROOT: Final = Path("/work/bookshop")

UNIT: Final = Suite(
    name="unit", paths=("tests/unit",), workers="auto", target_seconds=10.0, python=("3.11",)
)
PROCESSING: Final = Suite(
    name="processing", marker="processing", workers=2, target_seconds=60.0, python=("3.11",)
)
INTEGRATION: Final = Suite(
    name="integration",
    paths=("tests/integration",),
    workers=4,
    dist="loadscope",
    services=("postgres", "redis"),
    python=("3.11", "3.12"),
)
LINT: Final = Check(name="lint", run=("ruff check .",), python="3.11")
MIGRATIONS: Final = Check(
    name="migrations", run=("alembic upgrade head", "alembic check"), python="3.11"
)
SECURITY: Final = Check(name="security", run=("pip-audit",), allow_failure=True, python="3.11")


def example_project() -> Project:
    return Project(
        root=ROOT,
        config_file=ROOT / "pyproject.toml",
        python=("3.11", "3.12"),
        suites=(UNIT, PROCESSING, INTEGRATION),
        checks=(LINT, MIGRATIONS, SECURITY),
    )


def options(cpus: int, source: Source = Source.DEFAULT) -> RunOptions:
    return RunOptions(cpus=Sourced(value=cpus, source=source, origin="test"))


# -- sessions ----------------------------------------------------------------------------------


def test_sessions_one_per_suite_and_check_then_the_partition_guard() -> None:
    specs = sessions(example_project())

    assert [(s.name, s.kind, s.python, s.tags) for s in specs] == [
        ("unit", "suite", ("3.11",), ("suites",)),
        ("processing", "suite", ("3.11",), ("suites",)),
        ("integration", "suite", ("3.11", "3.12"), ("suites",)),
        ("lint", "check", "3.11", ("checks",)),
        ("migrations", "check", "3.11", ("checks",)),
        ("security", "check", "3.11", ("checks",)),
        ("report", "report", "3.11", ()),
        ("partition", "partition", "3.11", ()),
    ]


def test_session_descriptions() -> None:
    descriptions = {s.name: s.description for s in sessions(example_project())}

    assert descriptions == {
        "unit": "Suite 'unit': pytest tests/unit (workers=auto, dist=load; target 10s)",
        "processing": "Suite 'processing': pytest -m 'processing' (workers=2, dist=load; "
        "target 60s)",
        "integration": "Suite 'integration': pytest tests/integration "
        "(workers=4, dist=loadscope; services: postgres, redis)",
        "lint": "Check 'lint': ruff check .",
        "migrations": "Check 'migrations': alembic upgrade head && alembic check",
        "security": "Check 'security': pip-audit (advisory: may fail)",
        "report": "Merge the run's JUnit files into one report; print and write the summary",
        "partition": "Check that every test belongs to exactly one suite; count each suite",
    }


def test_a_project_with_a_source_gets_a_coverage_session() -> None:
    project = replace(example_project(), source=("src/bookshop",), fail_under=85.0)
    specs = {spec.name: spec for spec in sessions(project)}
    assert specs["coverage"].description == "Combine the suites' coverage; fail under 85%"
    assert [job.session for job in report_jobs(project)] == ["report", "coverage"]
    assert [job.session for job in report_jobs(example_project())] == ["report"]
    assert measured(("-x",), None) == ("python", "-m", "pytest", "-x")
    assert measured(("-x",), Path("rc")) == ("coverage", "run", "--rcfile=rc", "-m", "pytest", "-x")


def test_a_suite_without_xdist_says_so() -> None:
    suite = Suite(name="db", paths=("tests/db",), marker="not slow", workers=0, python=("3.11",))
    project = replace(example_project(), suites=(suite,), checks=())

    (spec, _report, partition) = sessions(project)

    assert spec == SessionSpec(
        name="db",
        python=("3.11",),
        tags=("suites",),
        description="Suite 'db': pytest tests/db -m 'not slow' (no xdist)",
        kind="suite",
    )
    assert partition.name == "partition"


# -- pytest arguments ----------------------------------------------------------------------------


def test_suite_pytest_args_with_workers() -> None:
    suite = Suite(name="unit", paths=("tests/unit",), dist="worksteal", pytest_args=("-x",))

    args = suite_pytest_args(
        example_project(), suite, python="3.12", workers=4, posargs=("-k", "slow")
    )

    assert args == (
        "--suitekit-suite=unit",
        "-n",
        "4",
        "--dist",
        "worksteal",
        "--junitxml=.suitekit/reports/junit/unit-3.12.xml",
        "-o",
        "junit_suite_name=unit",
        "-x",
        "-k",
        "slow",
    )


def test_suite_pytest_args_without_workers_has_no_dist() -> None:
    args = suite_pytest_args(example_project(), UNIT, python="3.11", workers=0)

    assert args == (
        "--suitekit-suite=unit",
        "-n",
        "0",
        "--junitxml=.suitekit/reports/junit/unit-3.11.xml",
        "-o",
        "junit_suite_name=unit",
    )
    assert "--dist" not in args


def test_posargs_come_last() -> None:
    suite = Suite(name="unit", paths=("tests/unit",), pytest_args=("--tb=short", "-q"))

    args = suite_pytest_args(
        example_project(), suite, python="3.11", workers=2, posargs=("tests/unit/test_a.py",)
    )

    assert args[-3:] == ("--tb=short", "-q", "tests/unit/test_a.py")


def test_junit_path_is_per_suite_and_python() -> None:
    project = example_project()

    assert junit_path(project, UNIT, "3.11") == ROOT / ".suitekit/reports/junit/unit-3.11.xml"
    assert (
        junit_path(project, INTEGRATION, "3.12")
        == ROOT / ".suitekit/reports/junit/integration-3.12.xml"
    )


def test_junit_path_follows_the_reports_folder() -> None:
    project = replace(example_project(), reports="build/test-reports")

    assert junit_path(project, UNIT, "3.11") == ROOT / "build/test-reports/junit/unit-3.11.xml"
    args = suite_pytest_args(project, UNIT, python="3.11", workers=0)
    assert "--junitxml=build/test-reports/junit/unit-3.11.xml" in args


def test_nox_command() -> None:
    assert nox_command("unit-3.11") == ("nox", "-s", "unit-3.11")
    assert nox_command("lint") == ("nox", "-s", "lint")


# -- RunOptions.from_env ---------------------------------------------------------------------


def test_from_env_defaults() -> None:
    run = RunOptions.from_env({}, cpu_count=6)

    assert run.workers is None
    assert run.cpus == Sourced(value=6, source=Source.DEFAULT, origin="CPU count")


def test_from_env_uses_the_machine_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 3)

    assert RunOptions.from_env({}).cpus.value == 3


def test_from_env_with_an_unknown_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: None)

    assert RunOptions.from_env({}).cpus.value == 1


def test_from_env_reads_the_cpu_budget() -> None:
    run = RunOptions.from_env({ENV_CPUS: " 8 "}, cpu_count=2)

    assert run.cpus == Sourced(value=8, source=Source.ENV, origin="SUITEKIT_CPUS")


@pytest.mark.parametrize(
    ("raw", "expected"), [("auto", "auto"), ("logical", "logical"), ("0", 0), ("12", 12)]
)
def test_from_env_reads_the_worker_count(raw: str, expected: Workers) -> None:
    run = RunOptions.from_env({ENV_WORKERS: raw}, cpu_count=2)

    assert run.workers == Sourced(value=expected, source=Source.ENV, origin="SUITEKIT_WORKERS")


def test_from_env_ignores_blank_variables() -> None:
    run = RunOptions.from_env({ENV_WORKERS: "", ENV_CPUS: "  "}, cpu_count=5)

    assert run.workers is None
    assert run.cpus.source is Source.DEFAULT


@pytest.mark.parametrize("raw", ["0", "-2", "many", "1.5", "4 cpus", "1025", "9" * 5000])
def test_from_env_rejects_a_bad_cpu_count(raw: str) -> None:
    with pytest.raises(ConfigError, match=r" is not a CPU count from 1 to 1024") as caught:
        RunOptions.from_env({ENV_CPUS: raw}, cpu_count=2)

    message = str(caught.value)
    assert message.startswith("environment variable SUITEKIT_CPUS: ")
    assert "\n  fix: set SUITEKIT_CPUS to a whole number from 1 to 1024, or unset it" in message
    assert caught.value.file is None
    assert caught.value.value == raw


@pytest.mark.parametrize("raw", ["-1", "many", "2.5", "Auto", "1025", "9" * 5000])
def test_from_env_rejects_a_bad_worker_count(raw: str) -> None:
    with pytest.raises(ConfigError, match=r" is not a worker count from 0 to 1024") as caught:
        RunOptions.from_env({ENV_WORKERS: raw}, cpu_count=2)

    message = str(caught.value)
    assert message.startswith("environment variable SUITEKIT_WORKERS: ")
    assert '\n  fix: use "auto", "logical", or a whole number up to 1024 (0: without xdist)' in (
        message
    )
    assert caught.value.file is None


@pytest.mark.parametrize("variable", [ENV_CPUS, ENV_WORKERS])
def test_from_env_rejects_a_superscript_digit(variable: str) -> None:
    with pytest.raises(ConfigError, match=r"'²' is not a"):
        RunOptions.from_env({variable: "²"}, cpu_count=2)


# -- resolve_workers ---------------------------------------------------------------------------


def test_auto_with_one_cpu_runs_without_xdist() -> None:
    resolved = resolve_workers(UNIT, options(1))

    assert resolved.value == 0
    assert resolved.source is Source.CONFIG
    assert resolved.origin == "suites.unit.workers (auto: 1 CPU(s) from default)"


def test_auto_fills_the_cpu_budget() -> None:
    resolved = resolve_workers(UNIT, options(4, Source.ENV))

    assert resolved.value == 4
    assert resolved.origin == "suites.unit.workers (auto: 4 CPU(s) from environment)"


def test_a_fixed_count_is_taken_as_is() -> None:
    resolved = resolve_workers(PROCESSING, options(16))

    assert resolved == Sourced(value=2, source=Source.CONFIG, origin="suites.processing.workers")


def test_zero_workers_stays_zero() -> None:
    suite = Suite(name="db", paths=("tests/db",), workers=0)

    assert resolve_workers(suite, options(16)).value == 0


def test_logical_is_the_machine_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    suite = Suite(name="s", paths=("tests",), workers="logical")

    resolved = resolve_workers(suite, options(2))

    assert resolved.value == 7
    assert resolved.origin == "suites.s.workers (logical CPUs)"


def test_the_environment_override_wins_and_says_so() -> None:
    run = RunOptions.from_env({ENV_WORKERS: "3"}, cpu_count=16)

    resolved = resolve_workers(INTEGRATION, run)

    assert resolved == Sourced(value=3, source=Source.ENV, origin="SUITEKIT_WORKERS")


def test_an_environment_auto_overrides_a_fixed_count() -> None:
    run = RunOptions.from_env({ENV_WORKERS: "auto", ENV_CPUS: "6"}, cpu_count=16)

    resolved = resolve_workers(PROCESSING, run)

    assert resolved.value == 6
    assert resolved.source is Source.ENV
    assert resolved.origin == "SUITEKIT_WORKERS (auto: 6 CPU(s) from environment)"


def test_an_environment_zero_turns_xdist_off() -> None:
    run = RunOptions.from_env({ENV_WORKERS: "0"}, cpu_count=16)

    assert resolve_workers(UNIT, run).value == 0


# -- share_cpus --------------------------------------------------------------------------------


def test_small_fixed_suites_get_what_they_ask_and_auto_suites_share_the_rest() -> None:
    shares = share_cpus([("unit", 2), ("integration", "auto"), ("e2e", "auto")], 8)

    assert shares == {"unit": 2, "integration": 3, "e2e": 3}


def test_one_auto_suite_beside_a_fixed_one() -> None:
    assert share_cpus([("small", 2), ("big", "auto")], 10) == {"small": 2, "big": 8}


def test_the_budget_is_never_exceeded() -> None:
    shares = share_cpus([("a", 16), ("b", 16)], 6)

    assert shares == {"a": 3, "b": 3}


def test_a_fixed_count_above_the_budget_is_capped() -> None:
    assert share_cpus([("a", 16)], 4) == {"a": 4}


def test_ties_go_to_the_suite_declared_first() -> None:
    # 4 CPUs for 3 hungry suites: 2, 1, 1; a lone CPU is no xdist.
    assert share_cpus([("a", "auto"), ("b", "auto"), ("c", "auto")], 4) == {"a": 2, "b": 0, "c": 0}


def test_one_cpu_means_no_xdist() -> None:
    assert share_cpus([("unit", "auto")], 1) == {"unit": 0}
    assert share_cpus([("unit", 4)], 1) == {"unit": 0}


def test_zero_workers_stays_zero_and_leaves_the_cpus_to_others() -> None:
    assert share_cpus([("db", 0), ("unit", "auto")], 4) == {"db": 0, "unit": 4}


def test_logical_is_shared_like_auto() -> None:
    assert share_cpus([("a", "logical"), ("b", "auto")], 8) == {"a": 4, "b": 4}


def test_no_budget_or_no_demands() -> None:
    assert share_cpus([("a", "auto")], 0) == {"a": 0}
    assert share_cpus([], 8) == {}


demand_lists = st.lists(
    st.one_of(st.integers(min_value=0, max_value=40), st.sampled_from(["auto", "logical"])),
    max_size=8,
).map(lambda workers: [(f"s{index}", count) for index, count in enumerate(workers)])


@settings(database=None, max_examples=300)
@given(demands=demand_lists, budget=st.integers(min_value=0, max_value=64))
def test_shares_respect_the_budget_and_the_demands(
    demands: list[tuple[str, Workers]], budget: int
) -> None:
    shares = share_cpus(demands, budget)

    assert list(shares) == [name for name, _ in demands]
    assert sum(shares.values()) <= budget
    for name, workers in demands:
        wanted = workers if isinstance(workers, int) else budget
        assert 0 <= shares[name] <= wanted
        assert shares[name] != 1  # a lone worker is pure cost: 0 instead
    # Max-min fairness: a suite asking for no more than an equal split gets what it asks.
    if demands:
        fair = budget // len(demands)
        for name, workers in demands:
            if isinstance(workers, int) and workers <= fair:
                assert shares[name] == (workers if workers > 1 else 0)


@settings(database=None, max_examples=300)
@given(
    demands=demand_lists,
    budget=st.integers(min_value=0, max_value=64),
    seconds=st.lists(st.floats(min_value=0, max_value=1e4), min_size=8, max_size=8),
)
def test_shares_by_recorded_work_respect_the_budget_and_the_demands(
    demands: list[tuple[str, Workers]], budget: int, seconds: list[float]
) -> None:
    work = {name: seconds[index] for index, (name, _) in enumerate(demands)}

    shares = share_cpus(demands, budget, work)

    assert list(shares) == [name for name, _ in demands]
    assert sum(shares.values()) <= budget
    for name, workers in demands:
        wanted = workers if isinstance(workers, int) else budget
        assert 0 <= shares[name] <= wanted
        assert shares[name] != 1


def test_the_suite_with_the_most_recorded_work_gets_the_cpus_first() -> None:
    # The example's parallel run on 2 CPUs: the processing suite (most of the run's test
    # time) gets both; fairly split, every suite would get one, and run without xdist.
    demands: list[tuple[str, Workers]] = [("unit", "auto"), ("processing", 2), ("integration", 4)]
    work = {"unit": 0.6, "processing": 11.5, "integration": 3.0}

    assert share_cpus(demands, 2, work) == {"unit": 0, "processing": 2, "integration": 0}
    assert share_cpus(demands, 2) == {"unit": 0, "processing": 0, "integration": 0}
    # More CPUs go where the work per CPU is largest: 11.5/3 > 3.0/1 > 11.5/4.
    assert share_cpus(demands, 4, work) == {"unit": 0, "processing": 2, "integration": 2}


def test_the_longest_suite_gets_two_cpus_before_the_next_gets_any() -> None:
    # The example's six suites on 2 CPUs: handed one CPU at a time, processing and browser
    # would get one each, and neither would run on xdist.
    demands: list[tuple[str, Workers]] = [
        ("unit", "auto"), ("processing", "auto"), ("integration", 4), ("frontend", "auto"),
        ("browser", 2), ("rust", "auto"),
    ]  # fmt: skip
    work = {
        "unit": 2.0, "processing": 9.9, "integration": 1.0, "frontend": 0.1, "browser": 5.7,
        "rust": 0.1,
    }  # fmt: skip

    on_two = share_cpus(demands, 2, work)
    assert on_two == dict.fromkeys(on_two, 0) | {"processing": 2}
    assert share_cpus(demands, 3, work) == on_two | {"processing": 3}
    # Asking for two, processing leaves a third CPU that can start xdist nowhere: unused.
    fixed = [(name, 2 if name == "processing" else want) for name, want in demands]
    assert share_cpus(fixed, 3, work) == on_two
    # Then browser (5.7 s alone) is longer than processing on two (4.95 s): it gets two, and
    # a fifth CPU goes to processing (4.95 s on two against browser's 2.85 s).
    assert share_cpus(demands, 4, work) == on_two | {"browser": 2}
    assert share_cpus(demands, 5, work) == on_two | {"processing": 3, "browser": 2}


def test_the_sessions_beside_the_longest_one_yield_the_cpu_to_it() -> None:
    project = example_project()
    work = {"unit": 0.6, "processing": 11.5, "integration": 3.0}
    cpus = RunOptions(cpus=Sourced(value=2, source=Source.DEFAULT))

    planned = jobs(project, parallel=True, options=cpus, work=work)

    nice = {job.session: job.nice for job in planned}
    assert nice.pop("processing-3.11") == 0
    assert set(nice.values()) == {YIELDING_NICE}  # the other suites and every check
    # Without a figure for every suite, or in a sequential run, nobody yields.
    partial = jobs(project, parallel=True, options=cpus, work={"processing": 11.5})
    assert {job.nice for job in partial} == {0}
    assert {job.nice for job in jobs(project, work=work)} == {0}


def test_a_suite_without_recorded_work_leaves_the_split_fair() -> None:
    demands: list[tuple[str, Workers]] = [("a", "auto"), ("b", "auto")]

    assert share_cpus(demands, 4, {"a": 100.0}) == {"a": 2, "b": 2}


def test_recorded_work_is_the_serial_time_of_each_suites_tests(tmp_path: Path) -> None:
    project = replace(example_project(), root=tmp_path)
    assert recorded_work(project) == {}
    store = tmp_path / ".suitekit" / "durations.json"
    DurationStore().record(
        {"unit": {"a::t1": 1.0, "a::t2": 2.0}, "processing": {"b::t": 4.0}},
        workers=1,
        cpus=2,
        measured_at=1.0,
    ).save(store)

    assert recorded_work(project) == {"unit": 3.0, "processing": 4.0}
    store.write_text("{broken")
    assert recorded_work(project) == {}  # the sessions say what is wrong with it


# -- jobs --------------------------------------------------------------------------------------


def test_sequential_jobs() -> None:
    planned = jobs(example_project())

    assert [(j.session, j.kind, j.title, j.required) for j in planned] == [
        ("unit-3.11", "suite", "unit", True),
        ("processing-3.11", "suite", "processing", True),
        ("integration-3.11", "suite", "integration-3.11", True),
        ("integration-3.12", "suite", "integration-3.12", True),
        ("lint", "check", "lint", True),
        ("migrations", "check", "migrations", True),
        ("security", "check", "security", False),
    ]
    assert all(job.env == {} for job in planned)


def test_a_suite_job_in_full() -> None:
    (unit,) = jobs(example_project(), suites=["unit"], checks=[])

    assert unit == Job(
        session="unit-3.11",
        kind="suite",
        title="unit",
        command=("nox", "-s", "unit-3.11"),
        env={},
        required=True,
        junit=ROOT / ".suitekit/reports/junit/unit-3.11.xml",
        log=ROOT / ".suitekit/reports/logs/unit-3.11.log",
        target_seconds=10.0,
        suite="unit",
    )


def test_a_check_job_in_full() -> None:
    (security,) = jobs(example_project(), suites=[], checks=["security"])

    assert security == Job(
        session="security",
        kind="check",
        title="security",
        command=("nox", "-s", "security"),
        env={},
        required=False,
        junit=None,
        log=ROOT / ".suitekit/reports/logs/security.log",
        target_seconds=None,
    )


def test_parallel_jobs_share_the_cpus_through_the_environment() -> None:
    planned = jobs(example_project(), parallel=True, options=options(12))

    # unit (auto), processing (2), integration-3.11 (4), integration-3.12 (4) share 12 CPUs:
    # everyone gets 2; processing is then full; unit and both integrations get a 3rd; unit,
    # first declared, gets the last one. The "auto" suite gets its share as a CPU budget (its
    # durations may show that fewer workers are faster); fixed counts get a worker count.
    assert {j.session: dict(j.env) for j in planned if j.kind == "suite"} == {
        "unit-3.11": {ENV_CPUS: "4"},
        "processing-3.11": {ENV_WORKERS: "2"},
        "integration-3.11": {ENV_WORKERS: "3"},
        "integration-3.12": {ENV_WORKERS: "3"},
    }
    assert all(j.env == {} for j in planned if j.kind == "check")


def test_without_recorded_work_the_declared_targets_share_the_cpus() -> None:
    """A first run (no durations store) shares by target-seconds when every suite has one."""
    long = replace(UNIT, name="long", workers=2, target_seconds=600.0)
    quick = replace(UNIT, name="quick", workers="auto", target_seconds=60.0)
    other = replace(UNIT, name="other", workers="auto", target_seconds=45.0)
    project = replace(example_project(), suites=(quick, other, long), checks=(LINT,))

    planned = jobs(project, parallel=True, options=options(2))

    # The suite expected to run longest gets both CPUs (xdist's two workers) and keeps the
    # run's priority; the short ones run beside it without xdist, yielding the CPU to it.
    assert {j.session: (dict(j.env), j.nice) for j in planned} == {
        "quick-3.11": ({ENV_CPUS: "1"}, YIELDING_NICE),
        "other-3.11": ({ENV_CPUS: "1"}, YIELDING_NICE),
        "long-3.11": ({ENV_WORKERS: "2"}, 0),
        "lint": ({}, YIELDING_NICE),
    }
    # A suite without a target leaves the split fair, as without recorded work.
    untargeted = replace(project, suites=(quick, replace(other, target_seconds=None), long))
    fair = jobs(untargeted, parallel=True, options=options(2), checks=[])
    assert {j.session: (dict(j.env), j.nice) for j in fair} == {
        "quick-3.11": ({ENV_CPUS: "1"}, 0),
        "other-3.11": ({ENV_CPUS: "1"}, 0),
        "long-3.11": ({ENV_WORKERS: "0"}, 0),
    }
    # Equal targets (or one suite of several Pythons) name no leader: the split stays fair.
    tied = replace(project, suites=(quick, replace(other, target_seconds=600.0), long))
    assert {
        j.session: (dict(j.env), j.nice)
        for j in jobs(tied, parallel=True, options=options(2), checks=[])
    } == {
        "quick-3.11": ({ENV_CPUS: "1"}, 0),
        "other-3.11": ({ENV_CPUS: "1"}, 0),
        "long-3.11": ({ENV_WORKERS: "0"}, 0),
    }
    matrix = replace(
        project, suites=(quick, replace(long, python=("3.11", "3.12"), workers="auto"))
    )
    assert {
        j.session: dict(j.env) for j in jobs(matrix, parallel=True, options=options(4), checks=[])
    } == {"quick-3.11": {ENV_CPUS: "2"}, "long-3.11": {ENV_CPUS: "1"}, "long-3.12": {ENV_CPUS: "1"}}
    # A suite that wants no CPUs needs no target; the leader takes what it asks, no more.
    idle = replace(other, workers=0, target_seconds=None)
    wide = replace(project, suites=(quick, idle, long))
    assert {
        j.session: (dict(j.env), j.nice)
        for j in jobs(wide, parallel=True, options=options(8), checks=[])
    } == {
        "quick-3.11": ({ENV_CPUS: "6"}, YIELDING_NICE),
        "other-3.11": ({ENV_WORKERS: "0"}, YIELDING_NICE),
        "long-3.11": ({ENV_WORKERS: "2"}, 0),
    }
    # A suite that wants no CPUs never leads, however long its target.
    sleepy = replace(other, workers=0, target_seconds=900.0)
    assert {
        j.session: (dict(j.env), j.nice)
        for j in jobs(
            replace(project, suites=(quick, sleepy, long)), parallel=True, options=options(2),
            checks=[],
        )
    } == {
        "quick-3.11": ({ENV_CPUS: "1"}, YIELDING_NICE),
        "other-3.11": ({ENV_WORKERS: "0"}, YIELDING_NICE),
        "long-3.11": ({ENV_WORKERS: "2"}, 0),
    }  # fmt: skip
    # Recorded work for every suite that wants CPUs decides, targets or not.
    assert {
        j.session: dict(j.env)
        for j in jobs(
            wide, parallel=True, options=options(4), checks=[], work={"long": 1.0, "quick": 50.0}
        )
    } == {
        "quick-3.11": {ENV_CPUS: "4"},
        "other-3.11": {ENV_WORKERS: "0"},
        "long-3.11": {ENV_WORKERS: "0"},
    }
    # Recorded work for every suite wins over the targets.
    recorded = jobs(
        project, parallel=True, options=options(2), checks=[],
        work={"long": 1.0, "quick": 50.0, "other": 2.0},
    )  # fmt: skip
    assert {j.session: dict(j.env) for j in recorded} == {
        "quick-3.11": {ENV_CPUS: "2"},
        "other-3.11": {ENV_CPUS: "1"},
        "long-3.11": {ENV_WORKERS: "0"},
    }


def test_parallel_jobs_default_to_the_machine_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 4)

    planned = jobs(example_project(), suites=["unit", "processing"], checks=[], parallel=True)

    assert [dict(j.env) for j in planned] == [{ENV_CPUS: "2"}, {ENV_WORKERS: "2"}]


def test_parallel_jobs_on_one_cpu_run_without_xdist() -> None:
    planned = jobs(example_project(), checks=[], parallel=True, options=options(1))

    # Each suite resolves a budget of one CPU, or a share of none, to no xdist at all.
    assert {j.session: dict(j.env) for j in planned} == {
        "unit-3.11": {ENV_CPUS: "1"},
        "processing-3.11": {ENV_WORKERS: "0"},
        "integration-3.11": {ENV_WORKERS: "0"},
        "integration-3.12": {ENV_WORKERS: "0"},
    }


def test_jobs_for_chosen_names_keep_the_given_order() -> None:
    planned = jobs(example_project(), suites=["integration", "unit"], checks=["lint"])

    assert [j.session for j in planned] == [
        "integration-3.11",
        "integration-3.12",
        "unit-3.11",
        "lint",
    ]


def test_no_suites_and_no_checks_is_no_jobs() -> None:
    assert jobs(example_project(), suites=[], checks=[]) == ()


def test_an_unknown_suite_name() -> None:
    project = example_project()

    with pytest.raises(
        ConfigError, match=r"there is no suite called 'unt' \(did you mean 'unit'\?\)"
    ) as caught:
        jobs(project, suites=["unt"])

    message = str(caught.value)
    assert message.startswith(f"{project.config_file}: tool.suitekit.suites: ")
    assert message.endswith("\n  fix: use one of: unit, processing, integration")


def test_an_unknown_check_name() -> None:
    with pytest.raises(
        ConfigError, match=r"there is no check called 'lnt' \(did you mean 'lint'\?\)"
    ) as caught:
        jobs(example_project(), checks=["lnt"])

    assert caught.value.key == "tool.suitekit.checks"


def test_a_check_name_is_not_a_suite_name() -> None:
    with pytest.raises(ConfigError, match=r"there is no suite called 'lint'\n"):
        jobs(example_project(), suites=["lint"])


def test_an_unknown_check_when_none_are_declared() -> None:
    with pytest.raises(ConfigError, match=r"fix: use one of: \(none declared\)"):
        jobs(replace(example_project(), checks=()), checks=["lint"])


def test_a_name_given_twice_is_planned_once() -> None:
    planned = jobs(example_project(), suites=["unit", "unit"], checks=["lint", "lint"])

    assert [j.session for j in planned] == ["unit-3.11", "lint"]


def test_the_partition_job() -> None:
    job = partition_job(example_project())

    assert job.command == ("nox", "-s", "partition")
    assert job.kind == "partition"
    assert job.required
    assert job.junit is None
    assert job.log == ROOT / ".suitekit/reports/logs/partition.log"


def test_an_explicit_worker_count_is_not_replaced_by_the_cpu_share() -> None:
    chosen = RunOptions(
        cpus=Sourced(value=8, source=Source.DEFAULT, origin="test"),
        workers=Sourced(value=3, source=Source.ENV, origin=ENV_WORKERS),
    )
    planned = jobs(example_project(), checks=[], parallel=True, options=chosen)

    assert all(j.env == {} for j in planned)


def test_the_cpu_budget_from_the_command_line_wins_and_is_validated() -> None:
    chosen = options(2).with_cpus(6, origin="--cpus")
    assert (chosen.cpus.value, chosen.cpus.source) == (6, Source.CLI)
    assert options(2).with_cpus(None, origin="--cpus") == options(2)
    for bad in (0, 1025):
        with pytest.raises(
            ConfigError, match=rf"--cpus: {bad} is not a CPU count from 1 to 1024\n  fix: pass"
        ):
            options(2).with_cpus(bad, origin="--cpus")


@pytest.mark.parametrize(
    ("posargs", "chooses"),
    [
        (("-n", "3"), True),
        (("-n3",), True),
        (("-nauto",), True),
        (("--numprocesses=2",), True),
        (("--numprocesses", "2"), True),
        (("-k", "name"), False),
        (("--no-header",), False),
        (("-x",), False),
    ],
)
def test_worker_counts_on_the_command_line_win(posargs: tuple[str, ...], chooses: bool) -> None:
    assert chooses_workers(posargs) is chooses
    args = suite_pytest_args(example_project(), UNIT, python="3.11", workers=4, posargs=posargs)
    assert ("-n" in args[: -len(posargs)]) is not chooses


@pytest.mark.parametrize(
    ("posargs", "probe"),
    [
        (("--suitekit-run-log=reports/flaky/unit/run-1.json",), True),
        (("-n", "2", "--suitekit-run-log", "run.json"), True),
        (("--suitekit-run-logs=x",), False),
        (("--shard", "1/2"), False),
        ((), False),
    ],
)
def test_a_run_that_writes_a_run_log_is_a_probe(posargs: tuple[str, ...], probe: bool) -> None:
    assert probing(posargs) is probe


# -- the run plan and coverage -----------------------------------------------------------------


def test_a_whole_run_plan_has_the_guard_the_sessions_and_the_finish() -> None:
    project = replace(example_project(), source=("src/app",))
    run = run_plan(project, whole=True, parallel=True, options=options(4))
    assert run.guard is not None
    assert run.guard.session == "partition"
    assert [job.session for job in run.finish] == ["report", "coverage"]
    assert run.parallel
    assert run.env == {}
    assert [job.session for job in run.jobs][:2] == ["unit-3.11", "processing-3.11"]


def test_a_run_plan_of_some_sessions_has_no_guard_and_no_finish() -> None:
    run = run_plan(example_project(), suites=["unit"], checks=[], whole=False, options=options(2))
    assert run.guard is None
    assert run.finish == ()
    assert [job.session for job in run.jobs] == ["unit-3.11"]


def test_no_coverage_and_reinstall_reach_every_session_and_drop_the_gate() -> None:
    project = replace(example_project(), source=("src/app",))
    run = run_plan(project, whole=True, options=options(2).without_coverage(), reinstall=True)
    assert run.env == {"SUITEKIT_COVERAGE": "0", "SUITEKIT_REINSTALL": "1"}
    assert [job.session for job in run.finish] == ["report"]
    assert run_plan(project, whole=True, guard=False, options=options(2)).guard is None


@pytest.mark.parametrize(
    ("source", "suite_coverage", "environ", "posargs", "expected"),
    [
        (("src/app",), True, {}, (), True),
        ((), True, {}, (), False),  # nothing to measure
        (("src/app",), False, {}, (), False),  # coverage = false
        (("src/app",), True, {"SUITEKIT_COVERAGE": "0"}, (), False),  # --no-coverage
        (("src/app",), True, {"SUITEKIT_COVERAGE": "1"}, (), True),
        (("src/app",), True, {}, ("--suitekit-run-log=x.json",), False),  # a flaky probe
    ],
)
def test_when_a_suite_session_measures_coverage(
    source: tuple[str, ...],
    suite_coverage: bool,
    environ: dict[str, str],
    posargs: tuple[str, ...],
    expected: bool,
) -> None:
    project = replace(example_project(), source=source)
    suite = replace(UNIT, coverage=suite_coverage)
    run_options = RunOptions.from_env(environ, cpu_count=2)
    assert measures_coverage(project, suite, run_options, posargs) is expected


def test_what_a_suite_session_passes_to_n() -> None:
    auto = Suite(name="unit", paths=("tests",), workers="auto")
    fixed = replace(auto, workers=3)
    assert session_workers(auto, options(2)).value == "auto"  # the plugin decides
    assert session_workers(auto, options(1)).value == 0  # one CPU: no xdist
    assert session_workers(fixed, options(2)).value == 3
    given = session_workers(auto, options(2), ("-n", "4"))
    assert given.origin == "command line"
