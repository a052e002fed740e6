"""Unit tests of quarantine matching (suitekit._quarantine) and run logs (_runlog)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitekit._model import Quarantine
from suitekit._quarantine import stale_in_files
from suitekit.errors import ConfigError, ReportError
from suitekit.flaky import RunLog, TestRun, entry_for, matches, unmatched, unmatched_error


def entry(test: str, index: int = 0) -> Quarantine:
    return Quarantine(test=test, reason="because", index=index)


@pytest.mark.parametrize(
    ("pattern", "node_id", "expected"),
    [
        ("tests/a.py::test_x", "tests/a.py::test_x", True),
        ("tests/a.py::test_x", "tests/a.py::test_xy", False),
        ("tests/a.py::test_x", "tests/a.py::test_x[1-2]", True),  # every parametrization
        ("tests/a.py::test_x[1-2]", "tests/a.py::test_x[1-2]", True),  # brackets are literal
        ("tests/a.py::test_x[1-2]", "tests/a.py::test_x[1]", False),
        ("tests/a.py::test_x[1]", "tests/a.py::test_x[2]", False),
        ("tests/a.py", "tests/a.py::test_x", True),  # a file: all of its tests
        ("tests/a.py", "tests/a.py::TestK::test_x[3]", True),
        ("tests/a.py", "tests/ab.py::test_x", False),
        ("tests/*.py", "tests/a.py::test_x", True),
        ("tests/a.py::test_*", "tests/a.py::test_x", True),
        ("tests/a.py::test_*", "tests/b.py::test_x", False),
        ("tests/a.py::test_?", "tests/a.py::test_x", True),
        ("tests/a.py::test_?", "tests/a.py::test_xy", False),
        ("tests/a.py::TestK", "tests/a.py::TestK::test_x", False),  # a class needs ::*
        ("tests/a.py::TestK::*", "tests/a.py::TestK::test_x", True),
        ("tests/a.py::test_x.y", "tests/a.py::test_xzy", False),  # '.' is literal
    ],
)
def test_matches(pattern: str, node_id: str, expected: bool) -> None:
    assert matches(entry(pattern), node_id) is expected


@given(st.text(min_size=1, max_size=30))
def test_a_node_id_always_matches_itself(node_id: str) -> None:
    assert matches(entry(node_id), node_id)


def test_entry_for_takes_the_first_matching_entry() -> None:
    entries = (entry("tests/b.py", 0), entry("tests/a.py::*", 1), entry("tests/a.py", 2))

    assert entry_for(entries, "tests/a.py::test_x") == entries[1]
    assert entry_for(entries, "tests/c.py::test_x") is None


def test_unmatched_lists_the_entries_that_match_no_test() -> None:
    entries = (entry("tests/a.py::test_x", 0), entry("tests/gone.py", 1), entry("t*", 2))

    assert unmatched(entries, ["tests/a.py::test_x", "tests/b.py::test_y"]) == (entries[1],)
    assert unmatched(entries, []) == entries


def test_an_entry_is_stale_in_a_run_that_collects_its_file_but_none_of_its_tests() -> None:
    gone = entry("tests/a.py::test_gone", 0)
    pattern = entry("tests/*.py::test_old*", 1)
    elsewhere = entry("tests/other.py::test_x", 2)
    alive = entry("tests/a.py::test_x", 3)
    whole_file = entry("tests/b.py", 4)
    ids = ["tests/a.py::test_x", "tests/a.py::test_y[1]"]

    assert stale_in_files((gone, pattern, elsewhere, alive, whole_file), ids) == (gone, pattern)
    assert stale_in_files((gone, elsewhere), []) == ()


def test_the_unmatched_error_names_the_file_key_value_and_fix() -> None:
    entries = (entry("tests/gone.py::test_x", 2), entry("tests/old.py", 5))

    error = unmatched_error(entries, file=Path("/p/pyproject.toml"), where="the tests under tests")

    assert isinstance(error, ConfigError)
    assert str(error) == (
        "/p/pyproject.toml: tool.suitekit.quarantine[2].test: 'tests/gone.py::test_x' matches "
        "none of the tests under tests (a stale quarantine hides nothing and protects nothing)\n"
        "  also unmatched: tool.suitekit.quarantine[5].test = 'tests/old.py'\n"
        "  fix: correct the node id as `pytest --collect-only -q` prints it, or remove the "
        "entry if the test is gone"
    )
    assert error.value == "tests/gone.py::test_x"


# --- run logs -------------------------------------------------------------------------------


def a_log() -> RunLog:
    return RunLog(
        seed=7,
        workers=2,
        tests=(
            TestRun(node_id="t.py::a", outcome="passed", worker="gw0", position=0),
            TestRun(node_id="t.py::b", outcome="passed", worker="gw1", position=0),
            TestRun(node_id="t.py::c", outcome="passed", worker="gw0", position=1),
            TestRun(
                node_id="t.py::d",
                outcome="failed",
                worker="gw0",
                position=2,
                message="AssertionError: ✗",
                quarantined=True,
            ),
            TestRun(node_id="t.py::e", outcome="flaky", worker="gw1", position=1),
        ),
    )


def test_a_run_log_round_trips_through_json(tmp_path: Path) -> None:
    log = a_log()

    assert RunLog.from_json(log.to_json()) == log
    log.write(tmp_path / "run.json")
    assert RunLog.read(tmp_path / "run.json") == log


def test_before_lists_what_ran_earlier_on_the_same_worker() -> None:
    log = a_log()

    assert log.before("t.py::d") == ("t.py::a", "t.py::c")
    assert log.before("t.py::e") == ("t.py::b",)
    assert log.before("t.py::a") == ()
    assert log.before("t.py::missing") == ()
    assert log.outcome_of("t.py::d") == "failed"
    assert log.outcome_of("t.py::missing") is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{", "not a suitekit run log"),
        ('{"version": 2, "seed": 1, "workers": 0, "tests": []}', "version 2, expected 1"),
        ('{"version": 1, "seed": 1, "workers": 0}', "'tests'"),
        ('{"version": 1, "seed": "x", "workers": 0, "tests": []}', "seed 'x' is not an integer"),
        (
            json.dumps(
                {"version": 1, "seed": 1, "workers": 0, "tests": [{"node_id": "a", "outcome": "?"}]}
            ),
            "outcome '\\?' is not one of passed, failed, error, skipped, flaky",
        ),
    ],
)
def test_a_broken_run_log_is_refused_with_the_reason(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "run.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(
        ReportError, match=f"{re.escape(str(path))}: cannot read the run log: .*{reason}"
    ):
        RunLog.read(path)


def test_a_missing_run_log_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"run\.json: cannot read the run log"):
        RunLog.read(tmp_path / "run.json")
