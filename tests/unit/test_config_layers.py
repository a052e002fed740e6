"""The run's layers (suitekit.config.run_options) and the one worker-count parser.

defaults < ``[tool.suitekit]`` < environment < command line; every value says where it came
from, and a bad value's error speaks the language of its origin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from suitekit import ConfigError
from suitekit._model import Source, Sourced, Workers
from suitekit.config import CliOverrides, RunOptions, run_options, worker_count
from suitekit.plan import ENV_COVERAGE, ENV_CPUS, ENV_WORKERS

FILE: Final = Path("/work/bookshop/pyproject.toml")
KEY: Final = "tool.suitekit.suites.unit.workers"


# -- the layers, in order ----------------------------------------------------------------------


def test_the_defaults_are_the_machine_and_the_suites_own_keys() -> None:
    run = run_options({}, cpu_count=6)

    assert run.cpus == Sourced(value=6, source=Source.DEFAULT, origin="CPU count")
    assert run.workers is None
    assert run.coverage.value is True
    assert run.coverage.source is Source.DEFAULT


def test_the_environment_cpu_budget_overrides_the_cpu_count() -> None:
    run = run_options({ENV_CPUS: "3"}, cpu_count=6)

    assert run.cpus == Sourced(value=3, source=Source.ENV, origin=ENV_CPUS)


def test_the_command_line_cpu_budget_overrides_the_environment() -> None:
    run = run_options({ENV_CPUS: "3"}, cli=CliOverrides(cpus=5), cpu_count=6)

    assert run.cpus == Sourced(value=5, source=Source.CLI, origin="--cpus")


def test_the_option_name_is_the_cpu_budgets_origin() -> None:
    run = run_options({}, cli=CliOverrides(cpus=2, cpus_option="--jobs"), cpu_count=6)

    assert run.cpus == Sourced(value=2, source=Source.CLI, origin="--jobs")


def test_a_command_line_without_a_cpu_budget_keeps_the_environments() -> None:
    run = run_options({ENV_CPUS: "3"}, cli=CliOverrides(), cpu_count=6)

    assert run == run_options({ENV_CPUS: "3"}, cpu_count=6)
    assert run.cpus.source is Source.ENV


def test_the_worker_count_comes_from_the_environment() -> None:
    run = run_options({ENV_WORKERS: "logical"}, cpu_count=2)

    assert run.workers == Sourced(value="logical", source=Source.ENV, origin=ENV_WORKERS)


@pytest.mark.parametrize("value", ["0", "false", "No", " FALSE "])
def test_the_environment_turns_coverage_off(value: str) -> None:
    run = run_options({ENV_COVERAGE: value}, cpu_count=2)

    assert run.coverage == Sourced(value=False, source=Source.ENV, origin=ENV_COVERAGE)


@pytest.mark.parametrize("value", ["1", "true", "", "yes"])
def test_other_coverage_values_leave_the_suites_in_charge(value: str) -> None:
    assert run_options({ENV_COVERAGE: value}, cpu_count=2).coverage.source is Source.DEFAULT


def test_the_command_line_turns_coverage_off() -> None:
    run = run_options({ENV_COVERAGE: "1"}, cli=CliOverrides(no_coverage=True), cpu_count=2)

    assert run.coverage == Sourced(value=False, source=Source.CLI, origin="--no-coverage")


def test_the_command_line_cannot_turn_back_on_what_the_environment_turned_off() -> None:
    # --no-coverage is a switch one way; with it absent the environment's word stands.
    run = run_options({ENV_COVERAGE: "0"}, cli=CliOverrides(no_coverage=False), cpu_count=2)

    assert run.coverage.source is Source.ENV


def test_from_env_is_the_layers_without_a_command_line() -> None:
    environ = {ENV_CPUS: "4", ENV_WORKERS: "2", ENV_COVERAGE: "0"}

    assert RunOptions.from_env(environ, cpu_count=8) == run_options(environ, cpu_count=8)


def test_the_methods_apply_the_command_line_layer() -> None:
    base = run_options({}, cpu_count=8)
    cli = CliOverrides(cpus=3, no_coverage=True)

    assert base.with_cpus(3, origin="--cpus").without_coverage() == run_options(
        {}, cli=cli, cpu_count=8
    )


# -- bad values, by origin ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, 1025, True])
def test_a_bad_command_line_cpu_budget_names_the_option(bad: int) -> None:
    with pytest.raises(ConfigError, match=rf"^--cpus: {bad!r} is not a CPU count") as caught:
        run_options({}, cli=CliOverrides(cpus=bad), cpu_count=2)

    assert caught.value.file is None
    assert caught.value.fix == "pass --cpus a whole number from 1 to 1024, or leave it out"


def test_the_environment_is_checked_before_the_command_line() -> None:
    with pytest.raises(ConfigError, match=r"^environment variable SUITEKIT_CPUS: 'x'"):
        run_options({ENV_CPUS: "x"}, cli=CliOverrides(cpus=2), cpu_count=2)


def test_a_bad_environment_worker_count_names_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        run_options({ENV_WORKERS: "4 workers"}, cpu_count=2)

    assert str(caught.value) == (
        "environment variable SUITEKIT_WORKERS: '4 workers' is not a worker count from 0 to "
        '1024\n  fix: use "auto", "logical", or a whole number up to 1024 (0: without xdist)'
    )


# -- the one worker-count parser ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "source", "expected"),
    [
        ("auto", Source.CONFIG, "auto"),
        ("logical", Source.CONFIG, "logical"),
        (0, Source.CONFIG, 0),
        (1024, Source.CONFIG, 1024),
        ("auto", Source.ENV, "auto"),
        ("0", Source.ENV, 0),
        ("1024", Source.CLI, 1024),
    ],
)
def test_worker_counts_that_are_taken(value: object, source: Source, expected: Workers) -> None:
    assert worker_count(value, source=source, origin="x") == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("4", r"'4' is not a worker count"),  # TOML numbers are integers
        (2.5, r'expected "auto", "logical" or an integer, got a number'),
        (False, r'expected "auto", "logical" or an integer, got a boolean'),
        (-3, r"-3 is negative"),
        (1025, r"1025 workers is more than suitekit starts \(at most 1024\)"),
        ("logic", r"'logic' is not a worker count \(did you mean 'logical'\?\)"),
    ],
)
def test_a_bad_toml_worker_count_names_the_file_and_key(value: object, problem: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{FILE}: {KEY}: {problem}\n  fix: ") as caught:
        worker_count(value, source=Source.CONFIG, origin=KEY, file=FILE)

    assert caught.value.value == value


@pytest.mark.parametrize("value", ["-1", "4.0", "²", "1025", "AUTO", "9" * 5000])
def test_a_bad_text_worker_count_from_an_option(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^--workers: .* is not a worker count from 0 to 1024"):
        worker_count(value, source=Source.CLI, origin="--workers")
