"""Quarantine of suites of other runners: config, the JUnit rewrite, the session's verdict.

The rewritten report goes through the real merge and summary, as ``suitekit report`` reads it.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from suitekit._model import RUNNER_KINDS, Quarantine
from suitekit._quarantine import case_entry_for, matches_case, pytest_entries, suite_entries
from suitekit.config import parse_project
from suitekit.config._suites import _NO_QUARANTINE
from suitekit.errors import ConfigError
from suitekit.reporting import merge_junit, quarantine_junit, quarantine_verdict, summarise
from suitekit.reporting._quarantine_junit import QuarantinedReport
from suitekit.runners import runner_for

# A Vitest report as retitle_junit leaves it: one suite named after the suitekit suite.
VITEST_REPORT = """\
<?xml version="1.0" encoding="utf-8"?>
<testsuites name="frontend"><testsuite name="frontend" tests="4" failures="2" errors="0" \
skipped="0" time="1.000">\
<testcase classname="src/cart.test.js" name="cart &gt; adds a book" time="0.010">\
<failure message="expected 2 to be 3 // Object.is equality" type="AssertionError">
AssertionError: expected 2 to be 3
 at src/cart.test.js:2:64</failure></testcase>\
<testcase classname="src/cart.test.js" name="cart &gt; empties" time="0.001"/>\
<testcase classname="src/isbn.test.js" name="isbn &gt; rejects letters" time="0.002">\
<failure message="boom" type="Error">Error: boom</failure></testcase>\
<testcase classname="src/isbn.test.js" name="isbn &gt; accepts" time="0.001"/>\
</testsuite></testsuites>
"""

# nextest: the classname is the binary id, which holds "::" itself.
NEXTEST_REPORT = """\
<testsuites name="rust"><testsuite name="rust" tests="3" failures="1" errors="0">\
<testcase classname="isbn::checksum" name="the_broken_price" time="0.01">\
<failure message="thread 'the_broken_price' panicked at tests/checksum.rs:13:5" \
type="test failure with exit code 101">thread 'the_broken_price' panicked
  left: 2
 right: 3</failure></testcase>\
<testcase classname="isbn::checksum" name="letters_are_refused" time="0.01"/>\
<testcase classname="isbn" name="tests::accepts_a_valid_isbn" time="0.01"/>\
</testsuite></testsuites>
"""


def entry(test: str, *, suite: str = "frontend", index: int = 0) -> Quarantine:
    return Quarantine(test=test, reason="issue 7", index=index, suite=suite)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "frontend-3.11.xml"
    path.write_text(text, encoding="utf-8")
    return path


def case(path: Path, name: str) -> ET.Element:
    root = ET.parse(path).getroot()  # noqa: S314 - the test's own file
    return next(c for c in root.iter("testcase") if c.get("name") == name)


def properties(path: Path) -> list[dict[str, str]]:
    root = ET.parse(path).getroot()  # noqa: S314 - the test's own file
    return [
        json.loads(p.get("value", ""))
        for p in root.iter("property")
        if p.get("name") == "suitekit.quarantined"
    ]


# --- matching --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "classname", "name", "expected"),
    [
        ("src/cart.test.js::cart > adds a book", "src/cart.test.js", "cart > adds a book", True),
        ("src/cart.test.js::cart > adds*", "src/cart.test.js", "cart > adds a book", True),
        ("src/cart.test.js::cart > adds a b?ok", "src/cart.test.js", "cart > adds a book", True),
        ("src/cart.test.js", "src/cart.test.js", "cart > empties", True),  # the whole classname
        ("src/cart.test.js", "src/cart.test.jsx", "cart > empties", False),
        ("src/*.test.js", "src/isbn.test.js", "isbn > accepts", True),
        ("src/cart.test.js::cart > adds", "src/cart.test.js", "cart > adds a book", False),
        ("isbn::checksum", "isbn::checksum", "the_broken_price", True),  # a binary id with ::
        ("isbn::checksum", "isbn", "checksum", True),  # ... and the key of this other case
        ("isbn::checksum::the_*", "isbn::checksum", "the_broken_price", True),
        ("isbn::checksum::the_*", "isbn", "tests::the_x", False),
        ("isbn", "isbn::checksum", "the_broken_price", False),
    ],
)
def test_an_entry_names_a_case_by_its_key_or_its_whole_classname(
    pattern: str, classname: str, name: str, expected: bool
) -> None:
    assert matches_case(entry(pattern), classname, name) is expected


def test_entries_with_a_suite_are_not_pytests_and_belong_to_their_suite_only() -> None:
    mine = entry("src/*", suite="frontend")
    theirs = entry("isbn", suite="rust", index=1)
    plain = Quarantine(test="tests/unit/test_x.py", reason="r", index=2)
    entries = (mine, theirs, plain)
    assert pytest_entries(entries) == (plain,)
    assert suite_entries(entries, "frontend") == (mine,)
    assert suite_entries(entries, "rust") == (theirs,)
    assert suite_entries(entries, "") == ()
    assert case_entry_for(entries, "src/a.test.js", "x") is mine


# --- the JUnit rewrite -----------------------------------------------------------------------


def test_a_quarantined_failure_becomes_a_quarantine_skip_with_the_failure_text(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, VITEST_REPORT)
    quarantine = entry("src/cart.test.js::cart > adds a book")

    report = quarantine_junit(path, [quarantine])

    assert report == QuarantinedReport(
        cases=4,
        failed=("src/isbn.test.js::isbn > rejects letters",),
        quarantined=("src/cart.test.js::cart > adds a book",),
    )
    hidden = case(path, "cart > adds a book")
    assert hidden.find("failure") is None
    skipped = hidden.find("skipped")
    assert skipped is not None
    assert skipped.get("type") == "suitekit.quarantined"
    assert skipped.get("message") == (
        "quarantined (issue 7): expected 2 to be 3 // Object.is equality"
    )
    assert "at src/cart.test.js:2:64" in (skipped.text or "")
    assert case(path, "isbn > rejects letters").find("failure") is not None  # not quarantined
    assert properties(path) == [
        {"test": "src/cart.test.js::cart > adds a book", "entry": quarantine.test}
    ]
    suite = ET.parse(path).getroot().find("testsuite")  # noqa: S314 - the test's own file
    assert suite is not None
    assert (suite.get("failures"), suite.get("skipped")) == ("1", "1")


def test_every_case_of_a_classname_entry_is_named_passed_or_not(tmp_path: Path) -> None:
    path = write(tmp_path, VITEST_REPORT)

    report = quarantine_junit(path, [entry("src/cart.test.js")])

    assert report is not None
    assert report.quarantined == ("src/cart.test.js::cart > adds a book",)
    assert [p["test"] for p in properties(path)] == [
        "src/cart.test.js::cart > adds a book",
        "src/cart.test.js::cart > empties",
    ]
    assert case(path, "cart > empties").find("skipped") is None  # a pass stays a pass


def test_an_error_is_quarantined_as_a_failure_is(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '<testsuite name="s" tests="1" errors="1"><testcase classname="a" name="b">'
        '<error message="setup went wrong">trace</error></testcase></testsuite>',
    )
    report = quarantine_junit(path, [entry("a::b")])
    assert report is not None
    assert report.quarantined == ("a::b",)
    skipped = case(path, "b").find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "quarantined (issue 7): setup went wrong"
    assert skipped.text == "trace"


def test_entries_that_name_no_case_are_unmatched_and_a_clean_report_is_left_alone(
    tmp_path: Path,
) -> None:
    passed = NEXTEST_REPORT.replace("<failure", "<x").replace("</failure>", "</x>")
    path = write(tmp_path, passed.replace('failures="1"', 'failures="0"'))
    before = path.read_text(encoding="utf-8")
    gone = entry("isbn::checksum::renamed", suite="rust", index=1)

    report = quarantine_junit(path, [gone])

    assert report is not None
    assert report.unmatched == (gone,)
    assert path.read_text(encoding="utf-8") == before


def test_a_missing_report_is_none(tmp_path: Path) -> None:
    assert quarantine_junit(tmp_path / "none.xml", [entry("x")]) is None


def test_the_merged_report_and_its_summary_list_the_quarantined_case(tmp_path: Path) -> None:
    path = write(tmp_path, NEXTEST_REPORT)
    quarantine = entry("isbn::checksum::the_broken_price", suite="rust")
    quarantine_junit(path, [quarantine])

    merged = merge_junit([path], tmp_path / "junit.xml")
    summary = summarise(merged, (), quarantine=[quarantine])

    assert summary.ok
    assert [(row.key, row.outcome, row.entry) for row in summary.quarantined] == [
        ("isbn::checksum::the_broken_price", "failed", quarantine)
    ]
    assert summary.quarantined[0].message.startswith("thread 'the_broken_price' panicked")


# --- the verdict -----------------------------------------------------------------------------

FAILED_ONLY_QUARANTINED = QuarantinedReport(cases=3, quarantined=("isbn::checksum::x",))


def judge(report: QuarantinedReport | None, exit_code: int, *, whole: bool = True) -> str | None:
    return quarantine_verdict(
        report,
        runner="cargo",
        exit_code=exit_code,
        failure_codes=frozenset({100}),
        whole=whole,
        file=Path("pyproject.toml"),
        suite="rust",
    )


def test_a_run_whose_failures_were_all_quarantined_passes() -> None:
    assert judge(FAILED_ONLY_QUARANTINED, 100) is None


def test_a_failure_no_entry_names_fails_naming_the_test() -> None:
    report = QuarantinedReport(cases=3, failed=("isbn::a",), quarantined=("isbn::b",))
    problem = judge(report, 100)
    assert problem is not None
    assert "1 failed test(s) that no quarantine entry names:\n  isbn::a" in problem


def test_another_exit_code_fails_even_when_only_quarantined_tests_failed() -> None:
    problem = judge(FAILED_ONLY_QUARANTINED, 101)
    assert problem is not None
    assert "cargo exited with code 101, which says that something other than tests" in problem


def test_a_run_that_wrote_no_report_fails() -> None:
    problem = judge(None, 100)
    assert problem is not None
    assert "wrote no JUnit report" in problem
    assert judge(None, 0) is None  # nothing to judge in a passing run without a report


def test_a_failure_code_with_no_failed_case_fails() -> None:
    problem = judge(QuarantinedReport(cases=3), 100)
    assert problem is not None
    assert "report has no failed test" in problem


def test_a_stale_entry_fails_a_whole_run_only() -> None:
    stale = entry("isbn::gone", suite="rust", index=3)
    report = QuarantinedReport(cases=3, unmatched=(stale,))
    problem = judge(report, 0)
    assert problem is not None
    assert re.search(
        r"tool\.suitekit\.quarantine\[3\]\.test: 'isbn::gone' matches none of the tests in the "
        r"report of suite 'rust' \(a stale quarantine hides nothing",
        problem,
    )
    assert "classname::name" in problem
    assert judge(report, 0, whole=False) is None  # a shard or a narrowed run cannot tell


# --- config ----------------------------------------------------------------------------------

CONFIG = """\
[tool.suitekit.suites.unit]
paths = ["tests/unit"]

[tool.suitekit.suites.rust]
runner = "cargo"
cwd = "crate"

[tool.suitekit.suites.frontend]
runner = "vitest"
cwd = "frontend"
paths = ["src"]

[tool.suitekit.suites.tool]
runner = "command"
run = "python write_junit.py {junit}"

[[tool.suitekit.quarantine]]
test = "tests/unit/test_x.py::test_y"
reason = "pytest's"

[[tool.suitekit.quarantine]]
test = "tests/unit/test_x.py::test_y"
reason = "the same key, another suite's"
"""


def folders(root: Path) -> None:
    for folder in ("tests/unit", "crate", "frontend/src"):
        (root / folder).mkdir(parents=True, exist_ok=True)


def load(tmp_path: Path, second: str) -> tuple[Quarantine, ...]:
    folders(tmp_path)
    document = tomllib.loads(f"{CONFIG}{second}\n")
    return parse_project(document, config_file=tmp_path / "pyproject.toml").quarantine


def test_an_entry_names_the_suite_of_another_runner(tmp_path: Path) -> None:
    entries = load(tmp_path, 'suite = "rust"')
    assert [(e.test, e.suite) for e in entries] == [
        ("tests/unit/test_x.py::test_y", ""),
        ("tests/unit/test_x.py::test_y", "rust"),
    ]


@pytest.mark.parametrize(
    ("suite", "problem", "fix"),
    [
        (
            "rusty",
            "there is no suite 'rusty' (did you mean 'rust'?)",
            "name one of the suites (unit, rust, frontend, tool), or drop `suite`",
        ),
        (
            "unit",
            "suite 'unit' is pytest's, whose node ids already say where a test is",
            "drop `suite` and write the node id",
        ),
        (
            "frontend",
            (
                "suite 'frontend' runs vitest, which cannot take quarantined tests: Vitest exits "
                "with 1 for failed tests and for errors outside any test alike"
            ),
            "fix the test, or skip it by the runner's own means, or remove the entry",
        ),
        (
            "tool",
            (
                "suite 'tool' runs command, which cannot take quarantined tests: suitekit cannot "
                "tell from a command's exit code that only tests failed"
            ),
            "fix the test, or skip it by the runner's own means",
        ),
    ],
)
def test_a_suite_that_cannot_take_the_entry_is_refused_with_the_fix(
    tmp_path: Path, suite: str, problem: str, fix: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, f'suite = "{suite}"')
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'pyproject.toml'}: tool.suitekit.quarantine[1].suite: ")
    assert problem in message
    assert f"\n  fix: {fix}" in message


def test_the_same_test_twice_in_one_suite_is_refused(tmp_path: Path) -> None:
    document = CONFIG.replace('reason = "pytest\'s"', 'reason = "pytest\'s"\nsuite = "rust"')
    folders(tmp_path)
    with pytest.raises(ConfigError, match=r"quarantine\[1\]\.test: .* already quarantined by"):
        parse_project(
            tomllib.loads(f'{document}suite = "rust"\n'), config_file=tmp_path / "pyproject.toml"
        )


def test_the_runners_config_refuses_are_those_with_no_failure_codes() -> None:
    # config reads _NO_QUARANTINE, not the runners (no import of them): the two agree.
    others = [kind for kind in RUNNER_KINDS if kind != "pytest"]
    refused = {kind for kind in others if not runner_for(kind).failure_codes}
    assert refused == set(_NO_QUARANTINE)
    assert runner_for("cargo").failure_codes == frozenset({100})


# --- pytest's side ignores them --------------------------------------------------------------

RUST_ENTRY = Quarantine(test="isbn::checksum::gone", reason="r", index=1, suite="rust")


def test_the_partition_guard_judges_pytests_entries_only(tmp_path: Path) -> None:
    from suitekit import Project, Suite  # noqa: PLC0415
    from suitekit._guard import collections_folder, decide  # noqa: PLC0415

    (tmp_path / "tests" / "unit" / "test_a.py").parent.mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "test_a.py").write_text("")
    mine = Quarantine(test="tests/unit/test_a.py::t1", reason="r", index=0)

    def verdict(*entries: Quarantine) -> str:
        project = Project(
            root=tmp_path,
            config_file=tmp_path / "pyproject.toml",
            python=("3.11",),
            tests=("tests",),
            suites=(Suite(name="unit", paths=("tests/unit",)),),
            quarantine=entries,
        )
        with collections_folder() as folder:
            data = {
                "version": 1,
                "suite": "unit",
                "complete": True,
                "owned": ["tests/unit/test_a.py::t1"],
                "others": [],
                "python_files": ["test_*.py"],
                "norecursedirs": [".*"],
            }
            (folder / "unit.1.json").write_text(json.dumps(data))
            return decide(project, folder).problem

    assert verdict(mine, RUST_ENTRY) == ""
    stale = Quarantine(test="tests/unit/test_a.py::gone", reason="r", index=2)
    assert "quarantine[2].test: 'tests/unit/test_a.py::gone' matches none" in verdict(
        mine, RUST_ENTRY, stale
    )


def test_the_pytest_plugin_neither_applies_nor_judges_another_suites_entries(
    pytester: pytest.Pytester,
) -> None:
    pytester.mkdir("crate")
    pytester.makepyprojecttoml(
        """
        [tool.suitekit]
        tests = ["tests"]

        [tool.suitekit.suites.unit]
        paths = ["tests/unit"]

        [tool.suitekit.suites.rust]
        runner = "cargo"
        cwd = "crate"

        [[tool.suitekit.quarantine]]
        test = "tests/unit/test_q.py::test_broken"
        suite = "rust"
        reason = "names no test of rust's: pytest must not take it for its own"

        [[tool.suitekit.quarantine]]
        test = "isbn::checksum::gone"
        suite = "rust"
        reason = "names no test of pytest's: pytest must not call it stale"
        """
    )
    pytester.makepyfile(**{"tests/unit/test_q": "def test_broken():\n    assert False\n"})

    partition = pytester.runpytest("--suitekit-partition")
    assert partition.ret == pytest.ExitCode.OK, partition.stderr.str()

    suite = pytester.runpytest("--suitekit-suite=unit")
    assert suite.ret == pytest.ExitCode.TESTS_FAILED  # not quarantined: it is rust's entry
    suite.stdout.fnmatch_lines(["FAILED tests/unit/test_q.py::test_broken*"])
