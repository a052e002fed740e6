"""The durations store updated by several sessions at once, and a session's own recording."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from suitekit._layout import Measured, Span, Timeline
from suitekit.config import load_project
from suitekit.errors import ReportError
from suitekit.reporting._report import _fold, record_session
from suitekit.sharding._durations import DURATIONS_FILE, DurationStore, update_store


def _record(args: tuple[str, int]) -> None:
    path, index = args
    update_store(
        Path(path),
        lambda store: store.record(
            {"unit": {f"tests.test_a::test_{index}": 0.5}}, workers=1, cpus=2, measured_at=1.0
        ),
    )


def test_concurrent_updates_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / ".suitekit" / "durations.json"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_record, [(str(path), index) for index in range(24)])
    stored = DurationStore.load(path).suites["unit"]
    assert sorted(stored) == sorted(f"tests.test_a::test_{index}" for index in range(24))
    assert oct((path.parent / "durations.json.lock").stat().st_mode & 0o777) == "0o600"


def test_a_planted_lock_link_is_refused_and_the_store_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    target = tmp_path / "elsewhere"
    target.write_text("keep\n", encoding="utf-8")
    (tmp_path / "durations.json.lock").symlink_to(target)
    with pytest.raises(ReportError, match=r"durations\.json\.lock: cannot lock the durations"):
        update_store(path, lambda store: store)
    assert target.read_text(encoding="utf-8") == "keep\n"
    assert not path.exists()


def _project_with_junit(root: Path) -> Path:
    """A one-suite project (Python 3.11) in ``root``; where its unit suite's JUnit file goes."""
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.suitekit]\npython = ["3.11"]\n\n[tool.suitekit.suites.unit]\npaths = ["tests"]\n',
        encoding="utf-8",
    )
    junit = root / "reports" / "junit" / "unit-3.11.xml"
    junit.parent.mkdir(parents=True)
    return junit


def test_a_sessions_junit_file_is_recorded_and_recording_it_again_changes_nothing(
    tmp_path: Path,
) -> None:
    junit = _project_with_junit(tmp_path)
    junit.write_text(
        '<testsuites><testsuite name="unit" tests="2" failures="1" errors="0" skipped="0" '
        'time="1.0"><testcase classname="tests.test_a" name="test_a" time="0.25"/>'
        '<testcase classname="tests.test_a" name="test_b" time="0.75">'
        '<failure message="no">no</failure></testcase></testsuite></testsuites>',
        encoding="utf-8",
    )
    project = load_project(tmp_path)
    record_session(project, junit)
    first = (tmp_path / DURATIONS_FILE).read_text(encoding="utf-8")
    stored = DurationStore.load(tmp_path / DURATIONS_FILE).suites["unit"]
    assert {key: m.seconds for key, m in stored.items()} == {
        "tests.test_a::test_a": 0.25,
        "tests.test_a::test_b": 0.75,
    }
    record_session(project, junit)
    assert (tmp_path / DURATIONS_FILE).read_text(encoding="utf-8") == first


def test_the_waits_of_the_sidecars_timeline_are_recorded_with_the_seconds(
    tmp_path: Path,
) -> None:
    junit = _project_with_junit(tmp_path)
    junit.write_text(
        '<testsuites><testsuite name="unit" tests="3" failures="0" errors="0" skipped="0" '
        'time="2.0"><testcase classname="tests.test_a" name="test_burn" time="0.8"/>'
        '<testcase classname="tests.test_a" name="test_sleep" time="0.4"/>'
        '<testcase classname="tests.test_a" name="test_old" time="0.3"/>'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    timeline = Timeline(
        started=1_767_000_000.0,
        stopped=1_767_000_002.0,
        tests=(
            Span(node_id="tests/test_a.py::test_burn", worker="gw0", start=0, seconds=0.8,
                 waited=0.41),
            Span(node_id="tests/test_a.py::test_sleep", worker="gw1", start=0, seconds=0.4,
                 waited=0.0),
            Span(node_id="tests/test_a.py::test_old", worker="gw1", start=0.4, seconds=0.3),
        ),
    )  # fmt: skip
    Measured(workers=2, cpus=2, timeline=timeline).write(junit)
    record_session(load_project(tmp_path), junit)
    stored = DurationStore.load(tmp_path / DURATIONS_FILE).suites["unit"]
    burn, sleep, old = (stored[f"tests.test_a::test_{name}"] for name in ("burn", "sleep", "old"))
    assert (burn.waited, sleep.waited, old.waited) == (0.41, 0.0, None)
    # A measured wait is taken off as it is; an unmeasured one is guessed from the counts
    # (2 workers and their controller on 2 CPUs: two thirds).
    assert burn.serial_seconds == pytest.approx(0.39)
    assert sleep.serial_seconds == 0.4
    assert old.serial_seconds == pytest.approx(0.2)


def test_every_junit_files_waits_are_folded_each_with_its_longest_time(tmp_path: Path) -> None:
    """A suite run on two Pythons: the merge keeps a case's largest time, and its wait."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[tool.suitekit]\npython = ["3.11", "3.12"]\n\n'
        '[tool.suitekit.suites.unit]\npaths = ["tests"]\n',
        encoding="utf-8",
    )
    junit_dir = tmp_path / "reports" / "junit"
    junit_dir.mkdir(parents=True)
    spans = {
        "3.11": (("test_both", 0.5, 0.1), ("test_old", 0.2, 0.05)),
        "3.12": (("test_both", 0.9, 0.4), ("test_new", 0.3, 0.0)),
    }
    for python, tests in spans.items():
        junit = junit_dir / f"unit-{python}.xml"
        junit.write_text("<testsuites/>", encoding="utf-8")
        timeline = Timeline(
            started=1_767_000_000.0,
            stopped=1_767_000_002.0,
            tests=tuple(
                Span(node_id=f"tests/test_a.py::{name}", worker="main", start=0, seconds=seconds,
                     waited=waited)
                for name, seconds, waited in tests
            ),
        )  # fmt: skip
        Measured(workers=1, cpus=2, timeline=timeline).write(junit)
    durations = {"unit": {"tests.test_a::test_both": 0.9, "tests.test_a::test_old": 0.2,
                          "tests.test_a::test_new": 0.3}}  # fmt: skip
    _fold(load_project(tmp_path), junit_dir, durations)
    stored = DurationStore.load(tmp_path / DURATIONS_FILE).suites["unit"]
    assert {key.split("::")[1]: m.waited for key, m in stored.items()} == {
        "test_both": 0.4,  # 3.12's, whose 0.9 s the store keeps
        "test_old": 0.05,
        "test_new": 0.0,
    }
