"""GitHub annotations and the step summary of ``suitekit report`` (issue 17, item 1).

A merged report with two failures, one located by the pytest plugin and one from another
runner without a location, gives exact workflow command lines and an exact Markdown summary:
pytest node ids, commands that run each failure again, the checks and the coverage table.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Final

import pytest

from suitekit._model import Check, Project, RunnerConfig, Suite
from suitekit._runner import Outcome
from suitekit._runner._compose import _with_check_results
from suitekit.plan import Job, JobKind
from suitekit.reporting._annotations import annotation_lines, escape_data, escape_property
from suitekit.reporting._figures import rerun_command
from suitekit.reporting._markdown import render_markdown
from suitekit.reporting._merge import merge_junit
from suitekit.reporting._report import _located, report
from suitekit.reporting._results import CaseResult
from suitekit.reporting._summary import (
    CheckResult,
    CoverageFigures,
    Expected,
    check_results,
    summarise,
)
from suitekit.reporting._terminal import render_terminal

# What the plugin writes for a shard of a suite run: the location of the failed test only.
PYTEST_JUNIT: Final = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="unit" errors="0" failures="1" skipped="0" \
tests="2" time="0.5"><properties><property name="suitekit.location" value="{&quot;test&quot;: \
&quot;tests.unit.test_isbn::test_bad[978-0, x]&quot;, &quot;node&quot;: \
&quot;tests/unit/test_isbn.py::test_bad[978-0, x]&quot;, &quot;file&quot;: \
&quot;tests/unit/test_isbn.py&quot;, &quot;line&quot;: 12}"/></properties>\
<testcase classname="tests.unit.test_isbn" name="test_good" time="0.1"/>\
<testcase classname="tests.unit.test_isbn" name="test_bad[978-0, x]" time="0.4">\
<failure message="AssertionError: 100% wrong&#10;second line">trace</failure></testcase>\
</testsuite></testsuites>
"""
# Vitest's report, retitled as suitekit does: the class name is the file, there is no line.
VITEST_JUNIT: Final = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="web"><testsuite name="web" tests="1" failures="1" errors="0" time="0.2">\
<testcase classname="src/cart.test.ts" name="cart &gt; adds, then: removes" time="0.2">\
<failure message="expected 2 to be 1">AssertionError</failure></testcase>\
</testsuite></testsuites>
"""
EXPECTED: Final = (
    Expected(name="unit-3.11", target_seconds=None),
    Expected(name="web-3.11", target_seconds=None),
)
CHECKS: Final = (
    CheckResult(name="lint", status="success"),
    CheckResult(name="audit", status="failure"),
)
COVERAGE: Final = CoverageFigures(
    per_suite=(("unit", 91.5), ("web", 40.0)), percent=88.25, fail_under=90
)


def merged(folder: Path) -> tuple[CaseResult, ...]:
    shard = folder / "junit" / "unit-3.11.shard-2-of-4.xml"
    shard.parent.mkdir(parents=True)
    shard.write_text(PYTEST_JUNIT, encoding="utf-8")
    web = folder / "junit" / "web-3.11.xml"
    web.write_text(VITEST_JUNIT, encoding="utf-8")
    return merge_junit([shard, web], folder / "junit.xml").failed


def test_two_failures_give_exact_annotations_and_step_summary(
    tmp_path: Path, valid: Callable[[Path], None]
) -> None:
    failed = merged(tmp_path)
    valid(tmp_path / "junit.xml")  # the plugin's property survives the merge, still valid

    assert annotation_lines(failed) == [
        (
            "::error file=tests/unit/test_isbn.py,line=12,"
            "title=tests/unit/test_isbn.py%3A%3Atest_bad[978-0%2C x] failed in "
            "unit-3.11.shard-2-of-4::AssertionError: 100%25 wrong%0ARun it again: "
            "nox -s unit-3.11 -- 'tests/unit/test_isbn.py::test_bad[978-0, x]'"
        ),
        (
            "::error title=src/cart.test.ts%3A%3Acart > adds%2C then%3A removes failed in "
            "web-3.11::expected 2 to be 1%0ARun it again: nox -s web-3.11"
        ),
    ]
    result = merge_junit(
        sorted((tmp_path / "junit").glob("*.xml")), tmp_path / "junit.xml", slowest=0
    )
    summary = summarise(
        result,
        (
            Expected(name="unit-3.11.shard-2-of-4", target_seconds=None),
            Expected(name="web-3.11", target_seconds=None),
        ),
        checks=CHECKS,
        coverage=COVERAGE,
    )
    assert render_markdown(summary) == STEP_SUMMARY


STEP_SUMMARY: Final = """\
## Test summary

:x: **Failed**: 2 failed tests

**3 tests**, 1 passed, 2 failed, 0 errors, 0 skipped — success rate 33.3 %

| suite | tests | passed | failed | errors | skipped | seconds | budget |
| :--- | ---: | ---: | ---: | ---: | ---: | ---: | :--- |
| `unit-3.11.shard-2-of-4` | 2 | 1 | 1 | 0 | 0 | 0.5 |  |
| `web-3.11` | 1 | 0 | 1 | 0 | 0 | 0.2 |  |

### Checks

| check | result |
| :--- | :--- |
| `lint` | :white_check_mark: success |
| `audit` | :x: failure |

### Failed tests

| test | suite | outcome | message |
| :--- | :--- | :--- | :--- |
| `tests/unit/test_isbn.py::test_bad[978-0, x]` | `unit` | failed | AssertionError: 100% wrong |
| `src/cart.test.ts::cart > adds, then: removes` | `web` | failed | expected 2 to be 1 |

Run each again, alone, in the session it failed in:

```sh
nox -s unit-3.11 -- 'tests/unit/test_isbn.py::test_bad[978-0, x]'
nox -s web-3.11
```

### Coverage

| suite | coverage |
| :--- | ---: |
| `unit` | 91.50 % |
| `web` | 40.00 % |
| **combined** | **88.25 %** |

:x: 88.25 % is below the gate of 90 %
"""


def test_the_terminal_summary_names_node_ids_and_rerun_commands(tmp_path: Path) -> None:
    merged(tmp_path)
    inputs = sorted((tmp_path / "junit").glob("*.xml"))
    result = merge_junit(inputs, tmp_path / "again.xml", slowest=0)
    text = render_terminal(summarise(result, (), checks=CHECKS, coverage=COVERAGE))

    assert (
        "  FAILED tests/unit/test_isbn.py::test_bad[978-0, x] (unit) - AssertionError: 100% wrong\n"
        "    rerun: nox -s unit-3.11 -- 'tests/unit/test_isbn.py::test_bad[978-0, x]'\n"
    ) in text
    assert "checks (2):\n  SUCCESS lint\n  FAILURE audit\n" in text
    assert "  combined   88.25% (is below the gate of 90%)\n" in text


def test_escaping_follows_the_runner_rules() -> None:
    assert escape_data("100%\r\nok: a, b") == "100%25%0D%0Aok: a, b"
    assert escape_property("100%\r\nok: a, b") == "100%25%0D%0Aok%3A a%2C b"


def failure(number: int) -> CaseResult:
    return CaseResult(
        suite="unit",
        classname="tests.test_a",
        name=f"test_{number}",
        seconds=0.0,
        outcome="error" if number == 0 else "failed",
        message="",
        report="unit-3.12",
        node_id=f"tests/test_a.py::test_{number}",
        file="tests/test_a.py",
        line=None,
    )


def test_annotations_are_capped_with_one_warning_counting_the_rest() -> None:
    lines = annotation_lines([failure(number) for number in range(13)], base="app")

    assert len(lines) == 11
    assert lines[0] == (
        "::error file=app/tests/test_a.py,title=tests/test_a.py%3A%3Atest_0 errored in "
        "unit-3.12::the test errored%0ARun it again: nox -s unit-3.12 -- tests/test_a.py::test_0"
    )
    assert all(line.startswith("::error ") for line in lines[:10])
    assert lines[10] == (
        "::warning title=suitekit report::3 more failed tests not annotated (GitHub shows 10 "
        "error annotations per step); the job's summary lists every failed test"
    )
    assert annotation_lines([failure(1)], limit=0) == [
        (
            "::warning title=suitekit report::1 more failed test not annotated (GitHub shows 0 "
            "error annotations per step); the job's summary lists every failed test"
        )
    ]


@pytest.mark.parametrize(
    ("report_stem", "node_id", "command"),
    [
        ("unit-3.11", "tests/a.py::test_x", "nox -s unit-3.11 -- tests/a.py::test_x"),
        (
            "unit-3.11.shard-3-of-4",
            "tests/a.py::test_x[1 2]",
            "nox -s unit-3.11 -- 'tests/a.py::test_x[1 2]'",
        ),
        ("web-3.11", "", "nox -s web-3.11"),
        ("", "tests/a.py::test_x", ""),
    ],
    ids=["pytest", "shard-and-quoting", "other-runner", "no-report"],
)
def test_the_rerun_command_runs_the_test_in_its_session(
    report_stem: str, node_id: str, command: str
) -> None:
    case = CaseResult(
        suite="unit",
        classname="c",
        name="n",
        seconds=0.0,
        outcome="failed",
        message="",
        report=report_stem,
        node_id=node_id,
    )
    assert rerun_command(case) == command


def test_a_malformed_location_property_makes_the_input_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "unit-3.11.xml"
    path.write_text(
        '<testsuite name="unit" tests="0" failures="0" errors="0"><properties>'
        '<property name="suitekit.location" value="{&quot;test&quot;: 1}"/>'
        "</properties></testsuite>",
        encoding="utf-8",
    )
    result = merge_junit([path], tmp_path / "junit.xml")

    reason = (
        f"{path}: not suitekit's JUnit: the property suitekit.location has the value "
        """'{"test": 1}', not JSON like {"test": "<classname::name>", "node": """
        """"<node id>", "file": "<path>", "line": <line or null>}"""
    )
    assert [found for _, found in result.unreadable] == [reason]


def test_report_annotates_on_github_and_writes_the_step_summary(tmp_path: Path) -> None:
    root = tmp_path / "repo" / "app"
    (root / "frontend" / "src").mkdir(parents=True)
    (root / "frontend" / "src" / "cart.test.ts").write_text("", encoding="utf-8")
    merged(root / "reports")
    (root / "reports" / "junit.xml").unlink()

    project = Project(
        root=root,
        config_file=root / "pyproject.toml",
        python=("3.11",),
        suites=(
            Suite(name="unit", python=("3.11",)),
            Suite(name="web", python=("3.11",), runner=RunnerConfig(kind="vitest", cwd="frontend")),
        ),
        checks=(Check(name="type-check", run=("mypy",)),),
    )
    step_summary = tmp_path / "step-summary.md"
    out = io.StringIO()
    environ = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(tmp_path / "repo"),
        "GITHUB_STEP_SUMMARY": str(step_summary),
    }

    assert report(project, environ=environ, out=out) == 1

    lines = [line for line in out.getvalue().splitlines() if line.startswith("::")]
    assert len(lines) == 2
    assert lines[0].startswith("::error file=app/tests/unit/test_isbn.py,line=12,title=")
    # Vitest's class name is a file under the suite's cwd that exists: the annotation names it.
    assert lines[1].startswith("::error file=app/frontend/src/cart.test.ts,title=")
    text = step_summary.read_text(encoding="utf-8")
    assert "nox -s unit-3.11 -- 'tests/unit/test_isbn.py::test_bad[978-0, x]'\n" in text
    assert "### Checks" not in text  # the run gave no check's result
    assert "### Coverage" not in text  # no source, so no coverage measured

    out = io.StringIO()
    report(project, environ={}, out=out)
    assert not [line for line in out.getvalue().splitlines() if line.startswith("::")]


def test_coverage_that_cannot_be_combined_is_said_in_the_summary(tmp_path: Path) -> None:
    summary = summarise(
        merge_junit([], tmp_path / "junit.xml"), (), coverage_problem="no data: broken"
    )
    assert "### Coverage\n\nNot computed: no data: broken\n" in render_markdown(summary)
    assert "coverage: not computed: no data: broken\n" in render_terminal(summary)


def test_the_checks_results_the_run_gives_are_in_both_summaries(tmp_path: Path) -> None:
    root = tmp_path / "app"
    merged(root / "reports")
    (root / "reports" / "junit.xml").unlink()
    project = Project(
        root=root,
        config_file=root / "pyproject.toml",
        python=("3.11",),
        suites=(Suite(name="unit", python=("3.11",)),),
        checks=(Check(name="lint", run=("ruff",)), Check(name="types", run=("mypy",))),
    )
    step_summary = tmp_path / "step-summary.md"
    given = '{"lint": "success", "types": "failure", "odd": "maybe", "": 3}'
    environ = {"SUITEKIT_CHECK_RESULTS": given, "GITHUB_STEP_SUMMARY": str(step_summary)}
    out = io.StringIO()

    report(project, environ=environ, out=out)

    text = step_summary.read_text(encoding="utf-8")
    assert "### Checks" in text
    assert "| `lint` | :white_check_mark: success |" in text
    assert "`types`" in text
    assert "odd" not in text  # not a result: left out
    assert "checks (2):" in out.getvalue()


@pytest.mark.parametrize("given", ["", "[]", "not json", '{"lint": 1}'])
def test_what_is_not_checks_results_gives_none(given: str) -> None:
    assert check_results(given) == ()


def test_the_runner_hands_the_checks_outcomes_to_the_report(tmp_path: Path) -> None:
    def job(kind: JobKind, name: str) -> Job:
        return Job(
            session=name,
            kind=kind,
            title=name,
            command=("true",),
            env={},
            required=True,
            junit=None,
            log=tmp_path / f"{name}.log",
            target_seconds=None,
        )

    outcomes = [
        Outcome(job=job("check", "lint"), status="passed", returncode=0, seconds=1.0),
        Outcome(job=job("check", "audit"), status="failed", returncode=1, seconds=1.0),
        Outcome(job=job("check", "slow"), status="interrupted", returncode=None, seconds=1.0),
        Outcome(job=job("suite", "unit-3.11"), status="failed", returncode=1, seconds=1.0),
    ]

    (report_job,) = _with_check_results([job("report", "report")], outcomes)

    assert json.loads(report_job.env["SUITEKIT_CHECK_RESULTS"]) == {
        "lint": "success",
        "audit": "failure",
        "slow": "cancelled",
    }
    assert _with_check_results([job("report", "report")], outcomes[3:])[0].env == {}


@pytest.mark.parametrize(
    ("file", "classname"),
    [("src/cart.test.ts", "cart"), ("", "src/cart.test.ts"), ("/elsewhere/cart.test.ts", "x")],
)
def test_another_runners_file_is_found_from_its_folder(
    tmp_path: Path, file: str, classname: str
) -> None:
    (tmp_path / "frontend" / "src").mkdir(parents=True)
    (tmp_path / "frontend" / "src" / "cart.test.ts").write_text("", encoding="utf-8")
    project = Project(
        root=tmp_path,
        config_file=tmp_path / "pyproject.toml",
        python=("3.11",),
        suites=(Suite(name="web", runner=RunnerConfig(kind="vitest", cwd="frontend")),),
    )
    case = CaseResult(
        suite="web", classname=classname, name="adds", seconds=0.1, outcome="failed", message=""
    )

    found = _located(project, replace(case, file=file))

    expected = "" if file.startswith("/elsewhere") else "frontend/src/cart.test.ts"
    assert found.file == (expected or file)
