"""The partition guard of the suites of other runners, from their sessions' listings."""

from __future__ import annotations

from pathlib import Path

import pytest

from suitekit import Project, Suite
from suitekit._guard import (
    collections_folder,
    decide,
    decide_runners,
    listed_suites,
    runner_collection,
)
from suitekit._model import RunnerConfig, RunnerKind
from suitekit.plan import external_session

UNIT = Suite(name="unit", paths=("tests/unit",))


def vitest(name: str, *paths: str, cwd: str = "web") -> Suite:
    return Suite(name=name, paths=paths, runner=RunnerConfig(kind="vitest", cwd=cwd))


def project_of(root: Path, *suites: Suite) -> Project:
    (root / "tests" / "unit").mkdir(parents=True, exist_ok=True)
    (root / "tests" / "unit" / "test_a.py").write_text("")
    return Project(
        root=root,
        config_file=root / "pyproject.toml",
        python=("3.11",),
        tests=("tests",),
        suites=(UNIT, *suites),
    )


def save(folder: Path, suite: str, owned: list[str], found: list[str]) -> None:
    (folder / f"{suite}.7.json").write_text(runner_collection(suite, owned, found).to_json())


def test_only_suites_with_something_to_check_list_their_files(tmp_path: Path) -> None:
    lone = vitest("lone", cwd="lone")  # every test Vitest finds in its folder: nothing to check
    narrowed = vitest("narrowed", "src", cwd="app")
    crate = Suite(name="rust", runner=RunnerConfig(kind="cargo", cwd="crate"))
    crate_too = Suite(name="rust2", runner=RunnerConfig(kind="cargo", cwd="crate/."))
    command = Suite(name="tool", runner=RunnerConfig(kind="command", run="x {junit}"))
    project = project_of(tmp_path, lone, narrowed, crate, crate_too, command)

    assert [suite.name for suite in listed_suites(project)] == ["narrowed", "rust", "rust2"]


def test_suites_in_nested_folders_list_their_files(tmp_path: Path) -> None:
    outer = vitest("outer", cwd="web")  # Vitest may pick up the specs of the suite inside
    inner = Suite(name="browser", runner=RunnerConfig(kind="playwright", cwd="./web/e2e/"))
    apart = vitest("apart", cwd="webapp")  # a sibling whose name starts the same: not nested
    project = project_of(tmp_path, outer, inner, apart)

    assert [suite.name for suite in listed_suites(project)] == ["outer", "browser"]


def test_a_file_of_a_nested_suite_is_its_own_and_not_unowned(tmp_path: Path) -> None:
    root = Suite(name="root", paths=("packages/a",), runner=RunnerConfig(kind="jest", cwd="."))
    inner = Suite(name="b", runner=RunnerConfig(kind="jest", cwd="packages/b"))
    crate = Suite(name="rust", runner=RunnerConfig(kind="cargo", cwd="packages/b/crate"))
    project = project_of(tmp_path, root, inner, crate)
    found = ["packages/a/x.test.js", "packages/b/y.test.js"]
    with collections_folder() as folder:
        save(folder, "root", found[:1], found)
        save(folder, "b", found[1:], found[1:])
        save(folder, "rust", ["packages/b/crate/isbn"], ["packages/b/crate/isbn"])
        verdict = decide_runners(project, folder)

    assert (verdict.problem, verdict.unchecked) == ("", "")
    assert verdict.counts == (("root", 1, "files"), ("b", 1, "files"), ("rust", 1, "test binaries"))


def test_a_record_keeps_what_the_suite_runs_apart_from_the_rest() -> None:
    record = runner_collection("quick", ["web/b.test.js"], ["web/b.test.js", "web/a.test.js"])

    assert (record.owned, record.others, record.complete) == (
        ("web/b.test.js",),
        ("web/a.test.js",),
        True,
    )


def test_files_shared_out_exactly_pass_with_each_suites_count(tmp_path: Path) -> None:
    project = project_of(tmp_path, vitest("quick", "src/a"), vitest("careful", "src/b"))
    found = ["web/src/a.test.js", "web/src/b.test.js", "web/src/b2.test.js"]
    with collections_folder() as folder:
        save(folder, "quick", found[:1], found)
        save(folder, "careful", found[1:], found)
        verdict = decide_runners(project, folder)

    assert (verdict.problem, verdict.unchecked) == ("", "")
    assert verdict.counts == (("quick", 1, "files"), ("careful", 2, "files"))


def test_a_file_no_suite_runs_and_a_file_two_run_are_named(tmp_path: Path) -> None:
    playwright = Suite(
        name="browser", paths=("e2e",), runner=RunnerConfig(kind="playwright", cwd="web")
    )
    project = project_of(tmp_path, vitest("quick", "src/a"), vitest("careful", "src"), playwright)
    found = ["web/src/a.test.js", "web/src/b.test.js", "web/e2e/cart.spec.js", "web/old.test.js"]
    with collections_folder() as folder:
        save(folder, "quick", ["web/src/a.test.js"], found)
        save(folder, "careful", ["web/src/a.test.js", "web/src/b.test.js"], found)
        save(folder, "browser", ["web/e2e/cart.spec.js"], ["web/e2e/cart.spec.js"])
        verdict = decide_runners(project, folder)

    assert "1 test file(s) belong to no suite:\n  web/old.test.js" in verdict.problem
    assert "web/src/a.test.js  (quick, careful)" in verdict.problem
    assert "Vitest's `include`" in verdict.problem
    assert verdict.counts == (
        ("quick", 1, "files"),
        ("careful", 2, "files"),
        ("browser", 1, "files"),
    )


def test_a_suite_that_listed_nothing_leaves_the_check_unsettled(tmp_path: Path) -> None:
    project = project_of(tmp_path, vitest("quick", "src/a"), vitest("careful", "src/b"))
    with collections_folder() as folder:
        save(folder, "quick", ["web/src/a.test.js"], ["web/src/a.test.js"])
        verdict = decide_runners(project, folder)

    assert verdict == type(verdict)(unchecked="suite 'careful' listed no test files")


def test_a_broken_runner_partition_fails_the_whole_verdict(tmp_path: Path) -> None:
    project = project_of(tmp_path, vitest("quick", "src"), vitest("careful", "src"))
    found = ["web/src/a.test.js"]
    with collections_folder() as folder:
        save(folder, "quick", found, found)
        save(folder, "careful", found, found)
        (folder / "unit.1.json").write_text(
            runner_collection("unit", ["tests/unit/test_a.py::t"], []).to_json()
        )
        verdict = decide(project, folder)

    assert verdict.report is not None
    assert verdict.report.ok
    assert verdict.runners.problem
    assert not verdict.ok


@pytest.mark.parametrize(
    ("kind", "listed", "units"),
    [
        ("vitest", '[{"file": "ROOT/web/src/a.test.js"}, {"file": "/elsewhere/b.test.js"}]',
         ("/elsewhere/b.test.js", "web/src/a.test.js")),
        ("cargo", '{"rust-suites": {"isbn": {"testcases": {"t": {}}}, "empty": {"testcases": {}}}}',
         ("web/isbn",)),
    ],
)  # fmt: skip
def test_listed_units_are_relative_to_the_project(
    tmp_path: Path, kind: RunnerKind, listed: str, units: tuple[str, ...]
) -> None:
    paths = () if kind == "cargo" else ("src",)
    suite = Suite(name="s", paths=paths, runner=RunnerConfig(kind=kind, cwd="web"))
    project = project_of(tmp_path, suite)
    (tmp_path / "web").mkdir()
    run = external_session(project, suite, python="3.11", posargs=(), environ={})

    assert run.listed_units(listed.replace("ROOT", str(tmp_path)), tmp_path) == units


@pytest.mark.parametrize(
    ("paths", "units", "all_selected"),
    [
        (("src",), ["web/src/a.test.js", "web/src/deep/b.test.js"], True),
        (("src",), ["web/src/a.test.js", "web/lib/src/b.test.js"], False),  # "src" may select it
        (("src/a.test.js",), ["web/src/a.test.js"], True),
        (("src/a.test.js",), ["web/src/a.test.jsx"], False),
        (("src+x",), ["web/src+x/a.test.js"], False),  # not a plain path: ask the runner
        ((), ["web/anything.test.js"], True),
    ],
)
def test_files_under_the_suites_paths_need_no_second_listing(
    tmp_path: Path, paths: tuple[str, ...], units: list[str], all_selected: bool
) -> None:
    suite = vitest("s", *paths)
    project = project_of(tmp_path, suite)
    (tmp_path / "web").mkdir()
    run = external_session(project, suite, python="3.11", posargs=(), environ={})

    assert run.paths_select_all(units, tmp_path) is all_selected
