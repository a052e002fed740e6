"""Unit tests of what a suite session runs (suitekit.plan.suite_session); no nox needed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Final

import pytest

from suitekit import ConfigError, Project, Suite
from suitekit._handoff import (
    ENV_COVERAGE,
    ENV_CPUS,
    ENV_RUN_ID,
    ENV_SHARD,
    ENV_WORKERS,
    ENV_WORKERS_ORIGIN,
)
from suitekit.plan import (
    RUN_LOG_OPTION,
    SuiteSession,
    Sweep,
    junit_path,
    suite_folders,
    suite_pytest_args,
    suite_session,
)
from suitekit.sharding import ShardSpec

ROOT: Final = Path("/work/bookshop")
JUNIT: Final = ROOT / ".suitekit" / "reports" / "junit"
COVERAGE: Final = ROOT / ".suitekit" / "reports" / "coverage"

UNIT: Final = Suite(
    name="unit",
    paths=("tests/unit",),
    workers=2,
    python=("3.11",),
    env={"APP_MODE": "test"},
)


def project(*, source: tuple[str, ...] = ()) -> Project:
    return Project(
        root=ROOT,
        config_file=ROOT / "pyproject.toml",
        python=("3.11",),
        suites=(UNIT,),
        source=source,
        env={"APP_MODE": "project", "TZ": "UTC"},
    )


def decide(
    posargs: tuple[str, ...] = (), environ: dict[str, str] | None = None, **kwargs: tuple[str, ...]
) -> SuiteSession:
    given = {"PYTHONHASHSEED": "42"} if environ is None else environ
    return suite_session(project(**kwargs), UNIT, python="3.11", posargs=posargs, environ=given)


def test_a_plain_session_runs_the_suite_s_pytest_command_with_its_env() -> None:
    run = decide()

    assert run.args == suite_pytest_args(project(), UNIT, python="3.11", workers=2)
    assert run.command(None) == ("python", "-m", "pytest", *run.args)
    assert run.env == {
        "APP_MODE": "test",
        "TZ": "UTC",
        ENV_WORKERS_ORIGIN: "suites.unit.workers",
        "PYTHONHASHSEED": "42",
    }
    assert run.junit == JUNIT / "unit-3.11.xml"
    assert run.shard is None
    assert run.coverage is False
    assert run.records_durations is True


def test_the_run_id_gets_the_python_version() -> None:
    run = decide(environ={"PYTHONHASHSEED": "1", ENV_RUN_ID: "ci-77"})

    assert run.env[ENV_RUN_ID] == "ci-77-py3.11"
    assert ENV_RUN_ID not in decide().env


def test_a_worker_override_is_passed_with_its_origin() -> None:
    run = decide(environ={"PYTHONHASHSEED": "1", ENV_WORKERS: "3"})

    assert run.args[run.args.index("-n") + 1] == "3"
    assert run.env[ENV_WORKERS_ORIGIN] == ENV_WORKERS


def test_a_shard_writes_its_own_junit_file_and_records_no_durations() -> None:
    run = decide(("--shard", "2/4"))

    assert run.shard == ShardSpec(index=2, total=4)
    assert run.junit == JUNIT / "unit-3.11.shard-2-of-4.xml"
    assert run.records_durations is False
    assert decide(environ={"PYTHONHASHSEED": "1", ENV_SHARD: "1/3"}).shard == ShardSpec(
        index=1, total=3
    )


def test_sweeps_remove_other_splits_and_the_session_s_old_coverage_data() -> None:
    reports, coverage = decide(("--shard", "2/4")).sweeps

    assert (reports.folder, reports.pattern) == (JUNIT, "unit-3.11*.xml")
    present = [
        JUNIT / "unit-3.11.xml",  # the whole suite: another split
        JUNIT / "unit-3.11.shard-1-of-4.xml",  # this split's
        JUNIT / "unit-3.11.shard-1-of-2.xml",  # shards of another count
        JUNIT / "unit-3.111.xml",  # another session's
    ]
    assert reports.stale(present) == (
        JUNIT / "unit-3.11.xml",
        JUNIT / "unit-3.11.measured.json",
        JUNIT / "unit-3.11.shard-1-of-2.xml",
        JUNIT / "unit-3.11.shard-1-of-2.measured.json",
    )
    assert coverage == Sweep(folder=COVERAGE, pattern=".coverage.unit@3_11.*")
    assert coverage.stale([COVERAGE / ".coverage.unit@3_11.1"]) == (
        COVERAGE / ".coverage.unit@3_11.1",
    )


def test_a_whole_suite_run_drops_every_shard_report() -> None:
    (reports, _) = decide().sweeps

    assert reports.keep_split == 0
    assert reports.stale([JUNIT / "unit-3.11.xml", JUNIT / "unit-3.11.shard-2-of-2.xml"]) == (
        JUNIT / "unit-3.11.shard-2-of-2.xml",
        JUNIT / "unit-3.11.shard-2-of-2.measured.json",
    )


def test_a_probe_of_suitekit_flaky_leaves_the_reports_and_coverage_alone() -> None:
    run = decide((f"{RUN_LOG_OPTION}=run-1.json",), source=("src/bookshop",))

    assert run.sweeps == ()
    assert run.coverage is False
    assert run.records_durations is False


def test_coverage_follows_the_source_and_the_run_s_switch() -> None:
    assert decide(source=("src/bookshop",)).coverage is True
    off = decide(environ={"PYTHONHASHSEED": "1", ENV_COVERAGE: "0"}, source=("src",))
    assert off.coverage is False
    run = decide(source=("src/bookshop",))
    assert run.command(Path("rc"))[:4] == ("coverage", "run", "--rcfile=rc", "-m")


def test_suite_folders_include_the_coverage_folder_only_with_a_source() -> None:
    assert suite_folders(project(), UNIT, "3.11") == (JUNIT,)
    assert suite_folders(project(source=("src",)), UNIT, "3.11") == (JUNIT, COVERAGE)
    assert junit_path(project(), UNIT, "3.11").parent == JUNIT


@pytest.mark.parametrize(
    ("posargs", "environ", "match"),
    [
        pytest.param(("--shard", "5/4"), {}, "'5/4' is not a shard", id="shard"),
        pytest.param((), {ENV_CPUS: "zero"}, "'zero' is not a CPU count", id="cpus"),
        pytest.param((), {ENV_WORKERS: "many"}, "'many' is not a worker count", id="workers"),
    ],
)
def test_bad_inputs_raise_config_errors(
    posargs: tuple[str, ...], environ: dict[str, str], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        decide(posargs, environ)


def test_the_decision_is_frozen() -> None:
    run = decide()

    with pytest.raises(AttributeError):
        run.junit = Path("elsewhere")  # type: ignore[misc]  # frozen on purpose
    assert replace(run, coverage=True).coverage is True
