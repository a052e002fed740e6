"""Suites of other runners: their config, their command lines, and the split by durations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import pytest

from suitekit import ConfigError
from suitekit._model import PATHLESS_RUNNERS, RETRYING_RUNNERS, RUNNER_KINDS, RunnerConfig, Suite
from suitekit.config import parse_project
from suitekit.plan import external_session
from suitekit.runners import Invocation, runner_for, split_files
from suitekit.sharding import Measurement, ShardSpec
from tests.unit.test_config import assert_well_formed

ROOT: Final = Path("/work/shop")
JUNIT: Final = Path("/work/shop/.suitekit/reports/junit/web-3.11.xml")
KEY: Final = "tool.suitekit.suites.web"


def measured(seconds: float) -> Measurement:
    return Measurement(seconds=seconds, workers=1, cpus=1, measured_at=0.0)


def project_with(web: dict[str, Any], tmp_path: Path) -> Any:
    (tmp_path / "tests").mkdir(exist_ok=True)
    (tmp_path / "frontend" / "src").mkdir(parents=True, exist_ok=True)
    document = {"tool": {"suitekit": {"python": ["3.11"], "suites": {"web": web}}}}
    return parse_project(document, config_file=tmp_path / "pyproject.toml")


def config_error(web: dict[str, Any], tmp_path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        project_with(web, tmp_path)
    assert_well_formed(caught.value, file=tmp_path / "pyproject.toml", key=caught.value.key)
    return caught.value


# -- config -----------------------------------------------------------------------------------


def test_a_vitest_suite_is_read_with_its_folder_and_paths(tmp_path: Path) -> None:
    project = project_with(
        {"runner": "vitest", "cwd": "frontend", "paths": ["src"], "shards": 3}, tmp_path
    )
    suite = project.suite("web")
    assert suite.runner == RunnerConfig(kind="vitest", cwd="frontend")
    assert (suite.paths, suite.shards, suite.coverage) == (("src",), 3, False)
    assert project.pytest_suites == ()


def test_an_unknown_runner_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    error = config_error({"runner": "vitset", "paths": ["src"]}, tmp_path)
    assert error.key == f"{KEY}.runner"
    assert "'vitset' is not a test runner suitekit runs (did you mean 'vitest'?)" in str(error)


@pytest.mark.parametrize(
    ("key", "value"),
    [("marker", "slow"), ("dist", "loadfile"), ("pytest-args", ["-x"]), ("coverage", True)],
)
def test_pytest_keys_are_refused_on_another_runners_suite(
    tmp_path: Path, key: str, value: object
) -> None:
    error = config_error({"runner": "vitest", "cwd": "frontend", key: value}, tmp_path)
    assert error.key == f"{KEY}.{key}"
    assert f"{key} is a key of pytest's suites; runner = 'vitest' does not take it" in str(error)


def test_runner_keys_are_refused_on_a_pytest_suite(tmp_path: Path) -> None:
    error = config_error({"paths": ["tests"], "cwd": "frontend"}, tmp_path)
    assert error.key == f"{KEY}.cwd"
    assert "cwd is a key of suites of another runner" in str(error)


def test_a_command_suite_needs_a_run_that_says_where_its_junit_goes(tmp_path: Path) -> None:
    missing = config_error({"runner": "command"}, tmp_path)
    assert missing.key == f"{KEY}.run"
    no_junit = config_error({"runner": "command", "run": "make test"}, tmp_path)
    assert "'make test' does not say where the JUnit report goes" in str(no_junit)
    unknown = config_error({"runner": "command", "run": "make test J={junit} S={shards}"}, tmp_path)
    assert "uses an unknown placeholder {shards} (did you mean 'shard'?)" in str(unknown)
    unsplit = config_error({"runner": "command", "run": "make 'test {junit}"}, tmp_path)
    assert "cannot be split into arguments" in str(unsplit)


@pytest.mark.parametrize("cwd", ["../elsewhere", "/abs"])
def test_a_cwd_outside_the_project_is_refused(tmp_path: Path, cwd: str) -> None:
    error = config_error({"runner": "vitest", "cwd": cwd}, tmp_path)
    assert error.key == f"{KEY}.cwd"
    assert "is not a folder inside the project" in str(error)


def test_a_missing_cwd_and_paths_relative_to_it_are_named(tmp_path: Path) -> None:
    gone = config_error({"runner": "vitest", "cwd": "web"}, tmp_path)
    assert gone.key == f"{KEY}.cwd"
    assert f"'web' is not a folder under {tmp_path}" in str(gone)
    path = config_error({"runner": "vitest", "cwd": "frontend", "paths": ["tests"]}, tmp_path)
    assert path.key == f"{KEY}.paths"
    assert f"'tests' does not exist under {tmp_path / 'frontend'}" in str(path)


# -- command lines ----------------------------------------------------------------------------


def test_vitest_runs_its_paths_with_junit_workers_and_its_own_shard() -> None:
    vitest = runner_for("vitest")
    config = RunnerConfig(kind="vitest", cwd="frontend")
    call = Invocation(paths=("src",), junit=JUNIT, workers=3, shard=ShardSpec(index=2, total=4))
    assert vitest.command(config, call) == (
        "npx", "--no-install", "vitest", "run", "src",
        "--reporter=default", "--reporter=junit", f"--outputFile.junit={JUNIT}",
        "--maxWorkers=3", "--shard=2/4",
    )  # fmt: skip


def test_vitest_runs_the_files_of_a_split_and_not_its_own_shard() -> None:
    vitest = runner_for("vitest")
    config = RunnerConfig(kind="vitest", run="pnpm exec vitest")
    call = Invocation(
        paths=("src",),
        junit=JUNIT,
        workers=0,
        shard=ShardSpec(index=1, total=2),
        files=("/w/src/a.test.js",),
        posargs=("--bail", "1"),
    )
    argv = vitest.command(config, call)
    assert argv[:5] == ("pnpm", "exec", "vitest", "run", "/w/src/a.test.js")
    assert "--maxWorkers=1" in argv
    assert not any(arg.startswith("--shard") for arg in argv)
    assert argv[-2:] == ("--bail", "1")


def test_vitest_installs_with_npm_ci_only_with_a_lock_file() -> None:
    vitest = runner_for("vitest")
    assert vitest.install_command(["package-lock.json", "package.json"]) == (
        "npm", "ci", "--no-audit", "--no-fund",
    )  # fmt: skip
    assert vitest.install_command(["package.json"]) == (
        "npm", "install", "--no-audit", "--no-fund",
    )  # fmt: skip
    assert vitest.install_command([]) is None


def test_vitest_reads_its_file_list_and_refuses_anything_else() -> None:
    vitest = runner_for("vitest")
    listed = '[{"file": "/w/b.test.js"}, {"file": "/w/a.test.js"}, {"file": "/w/a.test.js"}]'
    assert vitest.read_list(listed) == ("/w/a.test.js", "/w/b.test.js")
    with pytest.raises(ValueError, match="expected a JSON array"):
        vitest.read_list('{"file": "/w/a.test.js"}')


def test_a_command_gets_its_placeholders_filled() -> None:
    command = runner_for("command")
    config = RunnerConfig(kind="command", run="make test JUNIT={junit} 'SHARD={shard}' -j{workers}")
    whole = Invocation(paths=(), junit=JUNIT, workers=2, posargs=("V=1",))
    assert command.command(config, whole) == (
        "make",
        "test",
        f"JUNIT={JUNIT}",
        "SHARD=",
        "-j2",
        "V=1",
    )
    part = Invocation(paths=(), junit=JUNIT, workers=2, shard=ShardSpec(index=3, total=5))
    assert command.command(config, part)[3] == "SHARD=3/5"
    assert command.list_command(config, (), JUNIT) is None


# -- the split by durations -------------------------------------------------------------------


FILES: Final = tuple(f"/w/src/{name}.test.js" for name in ("a", "b", "c", "d", "slow"))


def test_a_skewed_suite_puts_its_slow_file_alone() -> None:
    stored = {
        "src/slow.test.js::waits": measured(6.0),
        "src/a.test.js::one": measured(1.0),
        "src/a.test.js::two": measured(1.0),
        "src/b.test.js::one": measured(1.5),
        "src/c.test.js::one": measured(1.0),
    }
    split = split_files(FILES, root=Path("/w"), count=2, stored=stored, unit_of=lambda c: c)
    assert split == (("/w/src/slow.test.js",), FILES[:4])
    # The file without a record (d) counts as the median of the known ones.
    again = split_files(
        tuple(reversed(FILES)), root=Path("/w"), count=2, stored=stored, unit_of=lambda c: c
    )
    assert again == split


def test_without_any_record_the_runner_splits() -> None:
    stored = {"src/elsewhere.test.js::x": measured(1.0)}
    assert split_files(FILES, root=Path("/w"), count=2, stored=stored, unit_of=str) is None


# -- the session ------------------------------------------------------------------------------


def test_an_external_session_takes_its_shard_from_the_arguments_and_drops_it(
    tmp_path: Path,
) -> None:
    project = project_with({"runner": "vitest", "cwd": "frontend", "workers": 2}, tmp_path)
    suite: Suite = project.suite("web")
    run = external_session(
        project,
        suite,
        python="3.11",
        posargs=["--shard", "2/3", "--bail=1"],
        environ={"SUITEKIT_CPUS": "4"},
    )
    assert run.cwd == (tmp_path / "frontend").resolve()
    assert run.shard == ShardSpec(index=2, total=3)
    assert run.junit.name == "web-3.11.shard-2-of-3.xml"
    assert not run.records_durations
    argv = run.command()
    assert argv[-2:] == ("--shard=2/3", "--bail=1")
    assert "--maxWorkers=2" in argv
    files = json.dumps([{"file": str(tmp_path / "frontend" / f"src/{n}.test.js")} for n in "abc"])
    stored = {f"src/{n}.test.js::t": measured(s) for n, s in (("a", 3.0), ("b", 2.0), ("c", 1.0))}
    split = run.split(files, stored)
    assert split.files == (str(tmp_path / "frontend" / "src/b.test.js"),)
    assert split.why == "split by recorded durations"
    assert run.splits(stored)
    assert not run.splits({})


def test_an_install_is_due_when_the_lock_files_changed_or_when_forced(tmp_path: Path) -> None:
    project = project_with({"runner": "vitest", "cwd": "frontend"}, tmp_path)
    run = external_session(project, project.suite("web"), python="3.11", posargs=[], environ={})
    locks = {"package-lock.json": b"1", "package.json": b"{}"}
    first = run.install(locks, "", forced=False)
    assert first is not None
    command, wanted = first
    assert command == ("npm", "ci", "--no-audit", "--no-fund")
    assert run.install(dict(reversed(locks.items())), wanted + "\n", forced=False) is None
    assert run.install(locks, wanted, forced=True) == first
    changed = run.install({**locks, "package-lock.json": b"2"}, wanted, forced=False)
    assert changed is not None
    assert changed[1] != wanted


def test_a_split_whose_filters_would_select_another_shards_file_is_not_used(
    tmp_path: Path,
) -> None:
    # Vitest keeps a file whose path contains a filter: src/a.test.ts also selects
    # src/a.test.tsx, so shards passing them as filters would run a.test.tsx twice.
    project = project_with({"runner": "vitest", "cwd": "frontend"}, tmp_path)
    run = external_session(
        project, project.suite("web"), python="3.11", posargs=["--shard", "1/2"], environ={}
    )
    root = tmp_path / "frontend"
    names = ("src/a.test.ts", "src/a.test.tsx")
    files = json.dumps([{"file": str(root / name)} for name in names])
    stored = {f"{name}::t": measured(1.0) for name in names}
    split = run.split(files, stored)
    assert split.files is None
    other = root / "src" / "a.test.tsx"
    assert split.why.endswith(f"would also select {other}, which another shard runs")
    vitest = runner_for("vitest")
    unrelated = [str(root / "src" / "a.test.ts")]
    assert vitest.overlaps([str(root / "src" / "b.test.ts")], unrelated, root) is None
    nested = [str(root / "lib" / "src" / "a.test.ts")]
    assert vitest.overlaps([str(root / "src" / "a.test.ts")], nested, root) == nested[0]


def test_a_service_of_the_projects_own_is_refused_on_another_runners_suite(
    tmp_path: Path,
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "frontend").mkdir()
    document = {
        "tool": {
            "suitekit": {
                "python": ["3.11"],
                "services": {"nats": {"run": "nats-server -p {port}", "ready": "tcp"}},
                "suites": {"web": {"runner": "vitest", "cwd": "frontend", "services": ["nats"]}},
            }
        }
    }
    with pytest.raises(ConfigError) as caught:
        parse_project(document, config_file=tmp_path / "pyproject.toml")
    assert caught.value.key == f"{KEY}.services"
    assert "'nats' is a service of the project's own" in str(caught.value)
    assert "runner = 'vitest' gets only suitekit's services" in str(caught.value)


def test_cargo_runs_nextest_with_its_profile_threads_and_partition() -> None:
    cargo = runner_for("cargo")
    config = RunnerConfig(kind="cargo", cwd="crate")
    call = Invocation(paths=(), junit=JUNIT, workers=4, shard=ShardSpec(index=1, total=3))
    toml = JUNIT.with_name(JUNIT.name + ".nextest.toml")
    assert cargo.command(config, call) == (
        "cargo", "nextest", "run", "--tool-config-file", f"suitekit:{toml}",
        "--profile", "suitekit", "--test-threads", "4", "--partition", "hash:1/3",
    )  # fmt: skip
    profile = "[profile.suitekit]\nfail-fast = false\n\n[profile.suitekit.junit]\n"
    assert cargo.files(call) == {toml: f'{profile}path = "{JUNIT}"\n'}
    chosen = Invocation(paths=(), junit=JUNIT, workers=1, files=("isbn", "isbn::slow"))
    argv = cargo.command(config, chosen)
    assert argv[-2:] == ("-E", "binary_id(=isbn) | binary_id(=isbn::slow)")
    assert cargo.overlaps(["isbn"], ["isbn::slow"], Path("/w")) is None


def test_cargo_reads_the_binaries_that_hold_tests_from_nextests_list() -> None:
    cargo = runner_for("cargo")
    listed = json.dumps(
        {
            "rust-suites": {
                "isbn::slow": {"testcases": {"waits": {}}},
                "isbn": {"testcases": {"tests::a": {}}},
                "isbn::bin/empty": {"testcases": {}},
            }
        }
    )
    assert cargo.read_list(listed) == ("isbn", "isbn::slow")
    with pytest.raises(ValueError, match="rust-suites"):
        cargo.read_list("[]")


def test_a_cargo_suite_takes_no_paths(tmp_path: Path) -> None:
    error = config_error({"runner": "cargo", "cwd": "frontend", "paths": ["src"]}, tmp_path)
    assert error.key == f"{KEY}.paths"
    assert "runner = 'cargo' runs every test of its folder; it takes no paths" in str(error)


def test_a_cargo_split_gives_a_rust_unit_tests_time_to_its_binary() -> None:
    # Store keys are classname::name, and both may hold "::": isbn::tests::slow is a test of
    # the lib binary isbn (its name is tests::slow), not of a binary isbn::tests.
    stored = {
        "isbn::tests::slow": measured(60.0),
        "isbn::slow::waits": measured(1.5),
        "isbn::checksum::quick": measured(0.01),
    }
    binaries = ("isbn", "isbn::checksum", "isbn::slow")
    split = split_files(binaries, root=Path("/w"), count=2, stored=stored, unit_of=str)
    assert split == (("isbn",), ("isbn::checksum", "isbn::slow"))


def test_install_is_refused_on_another_runners_suite_without_a_backend(tmp_path: Path) -> None:
    error = config_error(
        {"runner": "vitest", "cwd": "frontend", "install": {"groups": ["test"]}}, tmp_path
    )
    assert error.key == f"{KEY}.install"
    assert "runner = 'vitest' installs its own dependencies (in cwd)" in str(error)


def test_nox_lists_another_runners_suite_by_its_runner(tmp_path: Path) -> None:
    from suitekit.plan import sessions  # noqa: PLC0415 - this test only

    project = project_with(
        {"runner": "vitest", "cwd": "frontend", "paths": ["src"], "workers": 2}, tmp_path
    )
    (spec,) = (spec for spec in sessions(project) if spec.name == "web")
    assert spec.description == "Suite 'web': vitest in frontend src (workers=2)"


# -- retries ----------------------------------------------------------------------------------

_RETRY_CALL: Final = Invocation(paths=(), junit=JUNIT, workers=1, posargs=("--x",), retries=2)


@pytest.mark.parametrize(
    ("kind", "options"),
    [("vitest", ("--retry=2",)), ("playwright", ("--retries=2",)), ("cargo", ("--retries", "2"))],
)
def test_a_runner_that_retries_gets_its_option_before_the_users_arguments(
    kind: str, options: tuple[str, ...]
) -> None:
    runner = runner_for(kind)
    config = RunnerConfig(kind=kind)  # type: ignore[arg-type]
    argv = runner.command(config, _RETRY_CALL)
    assert argv[-len(options) - 1 :] == (*options, "--x")
    # Without retries suitekit passes none: the runner's own config (retry, retries) decides.
    plain = runner.command(config, Invocation(paths=(), junit=JUNIT, workers=1))
    assert not any("retr" in arg for arg in plain)


def test_playwright_writes_a_retried_tests_attempts_into_its_junit_only_with_retries() -> None:
    playwright = runner_for("playwright")
    assert playwright.env(_RETRY_CALL)["PLAYWRIGHT_JUNIT_INCLUDE_RETRIES"] == "1"
    plain = playwright.env(Invocation(paths=(), junit=JUNIT, workers=1))
    assert "PLAYWRIGHT_JUNIT_INCLUDE_RETRIES" not in plain


def test_the_runners_that_retry_are_the_ones_config_lets_take_retries() -> None:
    # config reads the constants of _model, not the runners (no import of them): they agree.
    others = [kind for kind in RUNNER_KINDS if kind != "pytest"]
    retrying = {kind for kind in others if runner_for(kind).retry_args(1) is not None}
    assert retrying == set(RETRYING_RUNNERS)
    assert {kind for kind in others if not runner_for(kind).takes_paths} == set(PATHLESS_RUNNERS)


@pytest.mark.parametrize(
    "table",
    [
        {"runner": "vitest", "cwd": "frontend"},
        {"runner": "playwright", "cwd": "frontend"},
        {"runner": "cargo", "cwd": "frontend"},
    ],
    ids=lambda table: table["runner"],
)
def test_retries_are_taken_by_the_runners_that_retry(tmp_path: Path, table: dict[str, Any]) -> None:
    suite = project_with({**table, "retries": 2}, tmp_path).suite("web")
    assert suite.retries == 2
    session = external_session(
        project_with({**table, "retries": 2}, tmp_path),
        suite,
        python="3.11",
        posargs=(),
        environ={},
    )
    assert session.call.retries == 2
    too_many = config_error({**table, "retries": 11}, tmp_path)
    assert too_many.key == f"{KEY}.retries"


@pytest.mark.parametrize(
    ("table", "reason", "fix"),
    [
        (
            {"runner": "jest", "cwd": "frontend"},
            "Jest has no command-line option for retries: they are jest.retryTimes() in the tests",
            "call jest.retryTimes(N) at the top of the test files that need it",
        ),
        (
            {"runner": "command", "run": "make test J={junit}"},
            "suitekit cannot tell a command to run failed tests again",
            "have the command retry",
        ),
    ],
    ids=["jest", "command"],
)
def test_retries_are_refused_with_the_reason_by_the_runners_that_do_not(
    tmp_path: Path, table: dict[str, Any], reason: str, fix: str
) -> None:
    error = config_error({**table, "retries": 1}, tmp_path)
    assert error.key == f"{KEY}.retries"
    assert f"runner = {table['runner']!r} cannot retry: {reason}" in str(error)
    assert fix in str(error)


@pytest.mark.parametrize(
    ("posargs", "option"),
    [
        (["--suitekit-retries=0", "--bail=1"], "--retry=0"),  # off, over the config's too
        (["--suitekit-retries", "0", "--bail=1"], "--retry=0"),
        (["--bail=1", "--suitekit-retries=3"], "--retry=3"),
        (["--bail=1"], "--retry=2"),  # the suite's own
    ],
)
def test_suitekit_retries_after_the_dashes_overrides_the_suites_for_one_run(
    tmp_path: Path, posargs: list[str], option: str | None
) -> None:
    project = project_with({"runner": "vitest", "cwd": "frontend", "retries": 2}, tmp_path)
    run = external_session(
        project, project.suite("web"), python="3.11", posargs=posargs, environ={}
    )

    argv = run.command()
    retries = [arg for arg in argv if arg.startswith("--retr")]
    assert retries == ([option] if option else [])
    assert argv[-1] == "--bail=1"


@pytest.mark.parametrize(
    ("runner", "value", "problem"),
    [
        ("vitest", "x", "'x' is not a number of retries"),
        ("vitest", "²", "is not a number of retries"),
        ("vitest", "11", "from 0 to 10"),
        ("jest", "1", "has no retry option"),
    ],
)
def test_a_bad_suitekit_retries_for_another_runner_is_refused(
    tmp_path: Path, runner: str, value: str, problem: str
) -> None:
    project = project_with({"runner": runner, "cwd": "frontend"}, tmp_path)
    with pytest.raises(ConfigError, match=problem) as raised:
        external_session(
            project,
            project.suite("web"),
            python="3.11",
            posargs=[f"--suitekit-retries={value}"],
            environ={},
        )
    assert raised.value.key == "--suitekit-retries"


def test_retries_off_for_one_run_of_jest_pass_nothing_and_a_suite_without_retries_neither(
    tmp_path: Path,
) -> None:
    jest = project_with({"runner": "jest", "cwd": "frontend"}, tmp_path)
    off = external_session(
        jest, jest.suite("web"), python="3.11", posargs=["--suitekit-retries=0"], environ={}
    )
    vitest = project_with({"runner": "vitest", "cwd": "frontend"}, tmp_path)
    default = external_session(vitest, vitest.suite("web"), python="3.11", posargs=[], environ={})

    assert not [arg for arg in off.command() if "retr" in arg.lower()]
    assert not [arg for arg in default.command() if arg.startswith("--retr")]
