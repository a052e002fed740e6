"""`suitekit <command> --json`: versioned documents, each valid by its shipped schema.

config and plan; report (from JUnit files written here), flaky (from a finding built of run
logs), shards (one real collection, in a subprocess of this Python) and the partition's
document. `suitekit suites --json` runs the partition session through nox: the plugin's part
is in tests/plugin/test_json_files.py, the command in tests/e2e/test_cli.py.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path
from typing import Any, Final

import jsonschema
import pytest
import yaml

from suitekit import _json, ci, plan
from suitekit._cli import main
from suitekit._model import Project
from suitekit._selection import PartitionReport
from suitekit.config import load_project, run_options
from suitekit.flaky import Cause, Finding, Outcome, Run, RunLog, TestRun, compare

BOOKSHOP: Final = Path(__file__).parents[2] / "examples" / "bookshop"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code = main(["--project", str(BOOKSHOP), *argv])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


@pytest.mark.parametrize("schema", _json.SCHEMAS)
def test_the_schemas_are_valid_json_schemas(schema: str) -> None:
    document = _json.schema(schema)
    jsonschema.Draft202012Validator.check_schema(document)
    # Each names its document and version as the document does.
    assert document["properties"]["schema"] == {"const": schema}
    assert document["properties"]["version"] == {"const": _json.VERSION}
    assert document["$id"] == f"{schema}-{_json.VERSION}.json"


def test_every_shipped_schema_is_a_document_of_a_command() -> None:
    shipped = Path(_json.__file__).parent / "schemas"
    assert sorted(path.name for path in shipped.glob("*.json")) == sorted(
        f"{name}-{_json.VERSION}.json" for name in _json.SCHEMAS
    )


def test_config_json_is_the_resolved_declaration(capsys: pytest.CaptureFixture[str]) -> None:
    document = _run(capsys, "config", "--json")

    jsonschema.validate(document, _json.schema(_json.CONFIG_SCHEMA))
    assert (document["schema"], document["version"]) == ("suitekit-config", 1)
    suites = {suite["name"]: suite for suite in document["suites"]}
    assert suites["unit"]["paths"] == ["tests/unit"]
    assert suites["processing"]["marker"] == "processing"
    assert suites["frontend"]["runner"] == {**suites["frontend"]["runner"], "kind": "vitest"}
    assert document["root"] == str(BOOKSHOP.resolve())


def test_plan_json_lists_each_job_with_its_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("SUITEKIT_CPUS", "SUITEKIT_WORKERS", "SUITEKIT_COVERAGE"):
        monkeypatch.delenv(variable, raising=False)  # a run of these tests may set them
    document = _run(capsys, "plan", "--json", "--parallel", "--cpus", "4")

    jsonschema.validate(document, _json.schema(_json.PLAN_SCHEMA))
    assert document["parallel"] is True
    jobs = {job["session"]: job for job in document["jobs"]}
    assert jobs["integration-3.11"]["services"] == ["postgres", "redis"]
    assert jobs["frontend-3.11"]["shards"] == 2
    assert jobs["lint"]["python"] is None
    assert [job["kind"] for job in document["finish"]] == ["report", "coverage"]
    # The same jobs, variables and commands as the plain `suitekit plan` prints, line by line.
    assert main(["--project", str(BOOKSHOP), "plan", "--parallel", "--cpus", "4"]) == 0
    plain = capsys.readouterr().out.splitlines()
    assert plain == [
        " ".join([*(f"{key}={value}" for key, value in job["env"].items()), *job["command"]])
        for job in document["jobs"]
    ]
    # Each suite's share of the 4 CPUs reaches it by variable (which share: the recorded work).
    assert {name for job in document["jobs"] for name in job["env"]} <= {
        "SUITEKIT_WORKERS",
        "SUITEKIT_CPUS",
    }
    assert jobs["processing-3.11"]["env"]


def matrix(document: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """A GitHub Actions matrix from a plan document, as a workflow's `fromJSON` would take it."""
    legs = []
    for job in document["jobs"]:
        total = job["shards"]
        for index in range(1, total + 1):
            shard = ["--", "--shard", f"{index}/{total}"] if total > 1 else []
            legs.append({"name": job["session"], "run": " ".join([*job["command"], *shard])})
    return {"include": legs}


def test_a_ci_matrix_is_built_from_the_plan_alone() -> None:
    project = load_project(BOOKSHOP)
    document = _json.plan_document(
        project, plan.run_plan(project, whole=True, options=run_options(os.environ))
    )

    legs = matrix(json.loads(json.dumps(document)))["include"]

    runs = [leg["run"] for leg in legs]
    assert "nox -s unit-3.11" in runs
    assert "nox -s frontend-3.11 -- --shard 1/2" in runs
    assert "nox -s frontend-3.11 -- --shard 2/2" in runs
    expected = sum(suite.shards * len(suite.python) for suite in project.suites)
    assert len(legs) == expected + len(project.checks)


def _workflow_runs(project: Project) -> set[str]:
    """Every nox command of the GitHub workflow `suitekit ci github` writes, matrix expanded.

    A step's ``env`` hands it the matrix values (``MATRIX_PYTHON: ${{ matrix.python }}``);
    each leg's command is the step's ``run`` with those variables put in.
    """
    workflow = yaml.safe_load(ci.render(project, "github"))
    runs: set[str] = set()
    for job in workflow["jobs"].values():
        axes: dict[str, list[object]] = job.get("strategy", {}).get("matrix", {})
        legs = [
            dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())
        ]
        for step in job["steps"]:
            run = step.get("run", "")
            if not run.startswith("nox -s "):
                continue
            for leg in legs or [{}]:
                command = run
                for variable, value in step.get("env", {}).items():
                    axis = re.fullmatch(r"\$\{\{ matrix\.(\w+) \}\}", value)
                    if axis is not None:
                        command = command.replace(f'"${{{variable}}}"', str(leg[axis[1]]))
                runs.add(command)
    return runs


def test_the_matrix_from_the_plan_runs_what_the_github_workflow_runs() -> None:
    project = load_project(BOOKSHOP)
    document = json.loads(
        json.dumps(
            _json.plan_document(
                project, plan.run_plan(project, whole=True, options=run_options({}))
            )
        )
    )

    legs = matrix(document)["include"]

    # The same sessions and shards as the generated workflow's jobs, leg for leg; the workflow
    # also runs the guard and the finish (report, coverage), which the document lists apart.
    assert len({leg["run"] for leg in legs}) == len(legs)
    apart = [" ".join(job["command"]) for job in [document["guard"], *document["finish"]]]
    assert {leg["run"] for leg in legs} | set(apart) == _workflow_runs(project)
    assert {leg["name"] for leg in legs} == {job["session"] for job in document["jobs"]}


def test_version_is_printed_without_a_project(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--version"])

    assert ended.value.code == 0
    assert capsys.readouterr().out.startswith("suitekit ")


def test_a_password_in_a_url_is_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        """
[tool.suitekit.suites.unit]
paths = ["tests"]
services = ["postgres"]
env = { LEGACY_URL = "postgresql://app:hunter2@db.example/app" }

[tool.suitekit.services.postgres]
url = "postgresql://alice:s3cret@db.example/postgres"
"""
    )

    assert main(["--project", str(tmp_path), "config", "--json"]) == 0

    out = capsys.readouterr().out
    assert "s3cret" not in out
    assert "hunter2" not in out
    assert "postgresql://alice:***@db.example/postgres" in out


# --- report ---------------------------------------------------------------------------------

REPORT_PROJECT: Final = """\
[tool.suitekit]
python = ["3.11"]

[tool.suitekit.suites.unit]
paths = ["tests/unit"]
target-seconds = 1

[tool.suitekit.suites.slow]
paths = ["tests/slow"]

[[tool.suitekit.quarantine]]
test = "tests/unit/test_q.py::test_broken"
reason = "issue #7"
"""
FAILED: Final = "tests/unit/test_x.py::test_bad"


def _junit(location: str, quarantined: str) -> str:
    """A unit suite as the plugin writes it: a located failure, a flaky and a quarantined test."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
        '<testsuite name="unit" errors="0" failures="1" skipped="1" tests="4" time="1.25">'
        f'<properties><property name="suitekit.location" value="{location}"/>'
        f'<property name="suitekit.quarantined" value="{quarantined}"/></properties>'
        '<testcase classname="tests.unit.test_x" name="test_ok" time="0.5"/>'
        '<testcase classname="tests.unit.test_x" name="test_bad" time="0.75">'
        '<failure message="assert 1 == 2">trace</failure></testcase>'
        '<testcase classname="tests.unit.test_x" name="test_flaky" time="0.25">'
        '<flakyFailure message="AssertionError: first attempt" type="AssertionError">'
        "<stackTrace>t</stackTrace></flakyFailure></testcase>"
        '<testcase classname="tests.unit.test_q" name="test_broken" time="0.0">'
        '<skipped type="suitekit.quarantined" message="quarantined (issue #7): KeyError: x">'
        "t</skipped></testcase>"
        "</testsuite></testsuites>"
    )


def _quote(value: object) -> str:
    return json.dumps(value).replace('"', "&quot;")


@pytest.fixture
def reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose unit suite reported (slow did not), outside GitHub Actions."""
    for variable in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "SUITEKIT_CHECK_RESULTS"):
        monkeypatch.delenv(variable, raising=False)
    (tmp_path / "pyproject.toml").write_text(REPORT_PROJECT, encoding="utf-8")
    for folder in ("tests/unit", "tests/slow"):
        (tmp_path / folder).mkdir(parents=True)
    location = {"test": "tests.unit.test_x::test_bad", "node": FAILED, "file": "x", "line": 3}
    quarantined = {
        "test": "tests.unit.test_q::test_broken",
        "entry": "tests/unit/test_q.py::test_broken",
    }
    junit = tmp_path / ".suitekit" / "reports" / "junit" / "unit-3.11.xml"
    junit.parent.mkdir(parents=True)
    junit.write_text(_junit(_quote(location), _quote(quarantined)), encoding="utf-8")
    (junit.parent.parent / "coverage.json").write_text("{}", encoding="utf-8")
    return tmp_path


def test_report_json_gives_the_summary_and_writes_the_files(
    reported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--project", str(reported), "report", "--json"])

    out, err = capsys.readouterr()
    assert code == 1  # a failure, and the slow suite wrote no report
    document = json.loads(out)  # nothing but the document on stdout
    jsonschema.validate(document, _json.schema(_json.REPORT_SCHEMA))
    assert (document["ok"], document["exit_code"]) == (False, 1)
    totals = document["totals"]
    assert (totals["tests"], totals["failures"], totals["flaky"], totals["skipped"]) == (4, 1, 1, 1)
    (suite,) = document["suites"]
    assert suite["name"] == "unit-3.11"
    # The budget's time is pytest's own for the suite, beside the cases' sum.
    assert (suite["seconds"], suite["budget_seconds"]) == (1.5, 1.25)
    assert (suite["target_seconds"], suite["over_budget"]) == (1, True)  # 1.25 s of 1 s
    (failed,) = document["failed"]
    assert (failed["node_id"], failed["suite"], failed["line"]) == (FAILED, "unit", 3)
    assert failed["rerun"] == f"nox -s unit-3.11 -- {FAILED}"
    assert [case["test"] for case in document["flaky"]] == ["tests.unit.test_x::test_flaky"]
    (quarantined,) = document["quarantined"]
    assert (quarantined["outcome"], quarantined["reason"]) == ("failed", "issue #7")
    assert document["missing"] == ["slow-3.11"]
    assert document["coverage"] is None
    artifacts = document["artifacts"]
    for key in ("junit", "summary", "durations", "quarantine"):
        assert Path(artifacts[key]).is_file(), key
    assert artifacts["step_summary"] is None
    # The reports folder's other reports, each where the run's ending and the page name it.
    reports = reported / ".suitekit" / "reports"
    assert artifacts["html"] == str(reports / "index.html")
    assert artifacts["coverage_json"] == str(reports / "coverage.json")  # a coverage run's
    assert (artifacts["coverage_xml"], artifacts["coverage_html"], artifacts["logs"]) == (
        None,
        None,
        None,
    )
    # The text went to stderr, and says the same.
    assert "slow-3.11" in err
    assert f"nox -s unit-3.11 -- {FAILED}" in err
    # The same exit code without --json.
    assert main(["--project", str(reported), "report"]) == code


def test_report_json_without_junit_files_is_an_error_not_a_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(REPORT_PROJECT, encoding="utf-8")
    for folder in ("tests/unit", "tests/slow"):
        (tmp_path / folder).mkdir(parents=True)

    code = main(["--project", str(tmp_path), "report", "--json"])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "no JUnit files in" in err


# --- flaky ----------------------------------------------------------------------------------

VICTIM: Final = "tests/unit/test_order.py::test_victim"
POLLUTER: Final = "tests/unit/test_order.py::test_polluter"
COIN: Final = "tests/unit/test_coin.py::test_coin"
BROKEN: Final = "tests/unit/test_broken.py"  # a file that never collects


def _run_of(number: int, workers: int, outcomes: dict[str, Outcome]) -> Run:
    order = [POLLUTER, COIN, VICTIM, BROKEN]
    return Run(
        number=number,
        seed=40 + number,
        workers=workers,
        command=f"PYTHONHASHSEED={40 + number} nox -s unit-3.11 -- -n {workers} "
        f"--suitekit-order-seed={40 + number}",
        log=RunLog(
            seed=40 + number,
            workers=workers,
            tests=tuple(
                TestRun(node_id=node, outcome=outcomes.get(node, "passed"), position=index)
                for index, node in enumerate(order)
            ),
        ),
    )


def test_flaky_json_gives_runs_reproductions_and_polluters() -> None:
    runs = (
        _run_of(1, 0, {VICTIM: "failed", BROKEN: "error"}),
        _run_of(2, 2, {COIN: "failed", BROKEN: "error"}),
        _run_of(3, 0, {BROKEN: "error"}),
    )
    flaky = compare([run.compared for run in runs])
    causes = (
        Cause(
            node_id=VICTIM,
            kind="order",
            run=1,
            prefix=(POLLUTER,),
            replays=5,
            detail="it passes alone",
            order_file="reports/flaky/unit/victim.order",
            command="nox -s unit-3.11 -- -n 0 --suitekit-order-file=victim.order",
        ),
        Cause(node_id=COIN, kind="random", run=2, replays=2, detail="passed in 2 replays"),
    )
    finding = Finding(suite="unit", session="unit-3.11", runs=runs, flaky=flaky, causes=causes)

    document = json.loads(json.dumps(_json.flaky_document(finding)))

    jsonschema.validate(document, _json.schema(_json.FLAKY_SCHEMA))
    assert document["ok"] is False
    assert [(run["seed"], run["workers"]) for run in document["runs"]] == [
        (41, 0),
        (42, 2),
        (43, 0),
    ]
    assert document["runs"][0]["counts"] == {"passed": 2, "failed": 1}
    assert document["runs"][0]["collection_errors"] == 1
    tests = {test["test"]: test for test in document["flaky"]}
    assert set(tests) == {VICTIM, COIN}
    assert tests[VICTIM]["outcomes"] == ["failed", "passed", "passed"]
    assert tests[VICTIM]["reproduce"] == [{"run": 1, "command": runs[0].command}]
    assert tests[VICTIM]["cause"]["polluters"] == [POLLUTER]
    assert tests[COIN]["cause"]["kind"] == "random"
    assert document["broken"] == [BROKEN]
    assert document["uncollected"] == [BROKEN]
    # The same finding as the text: its closing line, and every reproduction command.
    text = finding.text()
    assert text.endswith(document["verdict"])
    assert all(
        f"run {step['run']}: {step['command']}" in text
        for test in document["flaky"]
        for step in test["reproduce"]
    )


def test_flaky_json_of_an_unknown_suite_is_an_error_not_a_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["--project", str(BOOKSHOP), "flaky", "nosuch", "--json"])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "nosuch" in err


# --- suites and shards ----------------------------------------------------------------------


def test_suites_document_is_the_partition_report() -> None:
    project = load_project(BOOKSHOP)
    report = PartitionReport(
        counts=tuple((suite.name, 2) for suite in project.pytest_suites),
        unowned=("tests/misc/test_orphan.py::test_one",),
        overlapping=(("tests/unit/test_x.py::test_both", ("unit", "processing")),),
        outside=1,
    )

    document = _json.suites_document(report)

    jsonschema.validate(document, _json.schema(_json.SUITES_SCHEMA))
    assert document["ok"] is False
    assert document["total"] == 2 * len(project.pytest_suites)
    assert document["overlapping"] == [
        {"test": "tests/unit/test_x.py::test_both", "suites": ["unit", "processing"]}
    ]


SHARDED: Final = """\
[tool.suitekit]
python = ["3.11"]

[tool.suitekit.suites.unit]
paths = ["tests"]
shards = 2
workers = 0
"""


def test_shards_json_prints_the_plan_the_collection_wrote(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # One real collection, in a subprocess of this Python (no nox virtualenv here): ~1 s.
    (tmp_path / "pyproject.toml").write_text(SHARDED, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text(
        "".join(f"def test_{n}():\n    pass\n\n" for n in range(5)), encoding="utf-8"
    )

    code = main(["--project", str(tmp_path), "shards", "unit", "--json"])

    out, err = capfd.readouterr()
    assert code == 0, err
    document = json.loads(out)
    jsonschema.validate(document, _json.schema(_json.SHARDS_SCHEMA))
    assert (document["suite"], document["count"], document["tests"]) == ("unit", 2, 5)
    assert sum(shard["tests"] for shard in document["shards"]) == 5
    assert "suite 'unit': 5 tests in 2 shards" in err  # pytest's table, on stderr


def test_shards_json_of_a_failed_collection_is_an_error_as_for_suites(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # One real collection that fails, in a subprocess of this Python: ~1 s.
    (tmp_path / "pyproject.toml").write_text(SHARDED, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_a(:\n", encoding="utf-8")

    code = main(["--project", str(tmp_path), "shards", "unit", "--json"])

    out, err = capfd.readouterr()
    assert code == 2, err
    assert out == ""
    assert "SyntaxError" in err  # the collection's own output, on stderr
    # The plugin writes a plan of the tests that did collect: not printed, it would leave some out.
    assert re.search(
        r"collecting suite 'unit' with \S+ failed \(exit code 2\), so its JSON document would "
        r"leave tests out; its output above says why: fix that, or run `suitekit shards` "
        r"without --json to see it",
        err,
    ), err


def test_shards_json_of_a_bad_count_is_an_error_not_a_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["--project", str(BOOKSHOP), "shards", "unit", "--count", "0", "--json"])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "--count" in err
