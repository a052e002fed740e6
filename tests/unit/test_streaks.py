"""Unit tests of the quarantine streaks store (suitekit.reporting._streaks)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from suitekit._model import Quarantine
from suitekit.errors import ReportError
from suitekit.reporting._results import QuarantinedCase, QuarantineOutcome
from suitekit.reporting._streaks import QUARANTINE_FILE, StreakStore, fingerprint

FILE_ENTRY = Quarantine(test="tests/test_q.py", reason="issue #7", index=0)
NODE_ENTRY = Quarantine(test="tests/test_x.py::test_b", reason="issue #9", index=1)
CONFIGURED = (FILE_ENTRY, NODE_ENTRY)


def quarantined(
    key: str, outcome: QuarantineOutcome, *, entry: str = FILE_ENTRY.test, suite: str = "unit"
) -> QuarantinedCase:
    return QuarantinedCase(suite=suite, key=key, entry=entry, outcome=outcome, message="")


def run(
    store: StreakStore, *cases: QuarantinedCase, number: int, configured: tuple[Quarantine, ...]
) -> StreakStore:
    return store.record(cases, configured, fingerprint=f"run-{number}")


def test_the_file_is_beside_the_durations_store() -> None:
    assert Path(".suitekit", "quarantine.json") == QUARANTINE_FILE


def test_a_missing_file_is_an_empty_store(tmp_path: Path) -> None:
    store = StreakStore.load(tmp_path / "quarantine.json")
    assert store == StreakStore()
    assert store.streak("tests/test_q.py", "t::a") == 0


def test_a_pass_adds_one_and_a_failure_or_a_flaky_pass_resets_to_zero() -> None:
    store = StreakStore()
    for number in range(3):
        store = run(
            store,
            quarantined("tests.test_q::test_a", "passed"),
            quarantined("tests.test_q::test_b", "passed"),
            quarantined("tests.test_q::test_c", "passed"),
            number=number,
            configured=CONFIGURED,
        )
    store = run(
        store,
        quarantined("tests.test_q::test_a", "passed"),
        quarantined("tests.test_q::test_b", "failed"),
        quarantined("tests.test_q::test_c", "flaky"),
        number=3,
        configured=CONFIGURED,
    )
    assert store.entries == {
        "tests/test_q.py": {
            "tests.test_q::test_a": 4,
            "tests.test_q::test_b": 0,
            "tests.test_q::test_c": 0,
        }
    }
    assert store.fingerprint == "run-3"


def test_a_test_passes_a_run_only_when_it_passed_in_every_report_of_it() -> None:
    store = StreakStore(entries={"tests/test_q.py": {"tests.test_q::test_a": 2}})
    store = run(
        store,
        quarantined("tests.test_q::test_a", "passed", suite="unit-3.11"),
        quarantined("tests.test_q::test_a", "failed", suite="unit-3.12"),
        number=1,
        configured=CONFIGURED,
    )
    assert store.streak("tests/test_q.py", "tests.test_q::test_a") == 0
    store = run(
        store,
        quarantined("tests.test_q::test_a", "passed", suite="unit-3.11"),
        quarantined("tests.test_q::test_a", "passed", suite="unit-3.12"),
        number=2,
        configured=CONFIGURED,
    )
    assert store.streak("tests/test_q.py", "tests.test_q::test_a") == 1  # one run, not two


def test_a_test_that_did_not_run_keeps_its_streak() -> None:
    store = StreakStore(
        entries={"tests/test_q.py": {"tests.test_q::test_a": 2, "tests.test_q::test_b": 4}}
    )
    store = run(
        store, quarantined("tests.test_q::test_a", "passed"), number=1, configured=CONFIGURED
    )
    assert store.entries == {
        "tests/test_q.py": {"tests.test_q::test_a": 3, "tests.test_q::test_b": 4}
    }


def test_a_skipped_test_did_not_run_and_keeps_its_streak() -> None:
    store = StreakStore(
        entries={"tests/test_q.py": {"tests.test_q::test_a": 2, "tests.test_q::test_b": 4}}
    )
    for number in (1, 2):  # skipped run after run: never a pass, never a failure
        store = run(
            store,
            quarantined("tests.test_q::test_a", "skipped"),
            quarantined("tests.test_q::test_b", "skipped"),
            quarantined("tests.test_q::test_c", "skipped"),  # never seen before
            number=number,
            configured=CONFIGURED,
        )
    assert store.entries == {
        "tests/test_q.py": {"tests.test_q::test_a": 2, "tests.test_q::test_b": 4}
    }


def test_a_report_that_skipped_the_test_is_left_out_of_the_run() -> None:
    store = StreakStore(
        entries={"tests/test_q.py": {"tests.test_q::test_a": 2, "tests.test_q::test_b": 4}}
    )
    store = run(
        store,
        # Skipped on one Python version: it passed where it ran.
        quarantined("tests.test_q::test_a", "skipped", suite="unit-3.11"),
        quarantined("tests.test_q::test_a", "passed", suite="unit-3.12"),
        # A skip never hides a failure.
        quarantined("tests.test_q::test_b", "skipped", suite="unit-3.11"),
        quarantined("tests.test_q::test_b", "failed", suite="unit-3.12"),
        number=1,
        configured=CONFIGURED,
    )
    assert store.entries == {
        "tests/test_q.py": {"tests.test_q::test_a": 3, "tests.test_q::test_b": 0}
    }


def test_the_same_inputs_twice_do_not_advance_a_streak() -> None:
    case = quarantined("tests.test_q::test_a", "passed")
    once = StreakStore().record([case], CONFIGURED, fingerprint="same")
    twice = once.record([case], CONFIGURED, fingerprint="same")
    assert once.streak("tests/test_q.py", "tests.test_q::test_a") == 1
    assert twice == once
    third = twice.record([case], CONFIGURED, fingerprint="other")
    assert third.streak("tests/test_q.py", "tests.test_q::test_a") == 2


def test_entries_no_longer_configured_are_dropped_even_for_the_same_inputs() -> None:
    store = StreakStore(
        entries={
            "tests/test_q.py": {"tests.test_q::test_a": 2},
            "tests/test_x.py::test_b": {"tests.test_x::test_b": 3},
        },
        fingerprint="same",
    )
    assert store.record([], (FILE_ENTRY,), fingerprint="same").entries == {
        "tests/test_q.py": {"tests.test_q::test_a": 2}
    }
    assert store.record([], (), fingerprint="other") == StreakStore(fingerprint="other")


def test_cases_of_an_entry_that_is_not_configured_are_not_counted() -> None:
    store = run(
        StreakStore(),
        quarantined("tests.test_old::test_a", "passed", entry="tests/test_old.py"),
        quarantined("tests.test_x::test_b", "passed", entry=NODE_ENTRY.test),
        number=1,
        configured=CONFIGURED,
    )
    assert store.entries == {"tests/test_x.py::test_b": {"tests.test_x::test_b": 1}}


def test_save_then_load_gives_the_same_store(tmp_path: Path) -> None:
    path = tmp_path / ".suitekit" / "quarantine.json"
    store = StreakStore(
        entries={
            "tests/test_x.py::test_b": {"tests.test_x::test_b": 3},
            "tests/test_q.py": {"tests.test_q::test_z": 0, "tests.test_q::test_a": 5},
        },
        fingerprint="abc",
    )
    store.save(path)
    assert StreakStore.load(path) == store
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "version": 1,
        "fingerprint": "abc",
        "entries": {
            "tests/test_q.py": {"tests.test_q::test_a": 5, "tests.test_q::test_z": 0},
            "tests/test_x.py::test_b": {"tests.test_x::test_b": 3},
        },
    }
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text.index('"entries"') < text.index('"fingerprint"') < text.index('"version"')


def test_the_mappings_are_read_only() -> None:
    store = StreakStore(entries={"e": {"t": 1}})
    with pytest.raises(TypeError):
        store.entries["e"] = {}  # type: ignore[index] # proving it is read-only


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param("{", r"Expecting property name", id="not-json"),
        pytest.param("[]", r"the top level is not a JSON object", id="not-an-object"),
        pytest.param(
            '{"version": 2, "fingerprint": "", "entries": {}}',
            r"version is 2; this suitekit reads version 1",
            id="version",
        ),
        pytest.param(
            '{"version": 1, "entries": {}}', r"'fingerprint' is not a string", id="no-fingerprint"
        ),
        pytest.param(
            '{"version": 1, "fingerprint": "", "entries": []}',
            r"'entries' is not a JSON object",
            id="entries-not-an-object",
        ),
        pytest.param(
            '{"version": 1, "fingerprint": "", "entries": {"e": 3}}',
            r"entries\.e is not a JSON object",
            id="entry-not-an-object",
        ),
        pytest.param(
            '{"version": 1, "fingerprint": "", "entries": {"e": {"t::a": -1}}}',
            r"entries\.e\.t::a is -1, not a whole number >= 0",
            id="negative",
        ),
        pytest.param(
            '{"version": 1, "fingerprint": "", "entries": {"e": {"t::a": true}}}',
            r"entries\.e\.t::a is True, not a whole number >= 0",
            id="bool",
        ),
        pytest.param(
            '{"version": 1, "fingerprint": "", "entries": {"e": {"t::a": 1.5}}}',
            r"entries\.e\.t::a is 1\.5, not a whole number >= 0",
            id="float",
        ),
    ],
)
def test_a_broken_file_is_reported_with_its_path_and_the_fix_and_kept(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "quarantine.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReportError) as caught:
        StreakStore.load(path)
    message = str(caught.value)
    assert re.match(
        rf"{re.escape(str(path))}: not a suitekit quarantine streaks file \(.*{problem}", message
    )
    assert message.endswith(
        "\n  fix: delete it; the quarantined tests' passing streaks then start again from 0 "
        "(or restore it from version control or the CI cache)."
    )
    assert path.read_text(encoding="utf-8") == content


def test_a_file_that_cannot_be_read_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "quarantine.json"
    path.mkdir()
    with pytest.raises(
        ReportError,
        match=rf"^{re.escape(str(path))}: cannot read the quarantine streaks \(.*\)\n  fix: delete",
    ):
        StreakStore.load(path)


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "quarantine.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ReportError, match=r"cannot read the quarantine streaks \('utf-8' codec"):
        StreakStore.load(path)


def test_a_failed_write_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "quarantine.json"
    old = StreakStore(entries={"e": {"t::a": 1}}, fingerprint="old")
    old.save(path)
    before = path.read_bytes()

    def refuse(source: object, target: object) -> None:
        message = f"cannot rename {source} to {target}"
        raise OSError(13, message)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ReportError, match=r"quarantine\.json: cannot write .*unchanged"):
        StreakStore(entries={"e": {"t::a": 2}}, fingerprint="new").save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quarantine.json"]


def test_the_fingerprint_changes_with_a_files_name_size_or_time(tmp_path: Path) -> None:
    first = tmp_path / "unit-3.11.xml"
    second = tmp_path / "e2e-3.11.xml"
    first.write_text("<testsuites/>", encoding="utf-8")
    second.write_text("<testsuites/>", encoding="utf-8")
    os.utime(first, ns=(1_000_000_000, 1_000_000_000))
    os.utime(second, ns=(1_000_000_000, 1_000_000_000))
    base = fingerprint([first, second])

    assert fingerprint([second, first]) == base  # the order of the inputs does not matter
    assert fingerprint([first]) != base
    os.utime(first, ns=(2_000_000_000, 2_000_000_000))
    touched = fingerprint([first, second])
    assert touched != base
    first.write_text("<testsuites />", encoding="utf-8")
    os.utime(first, ns=(2_000_000_000, 2_000_000_000))
    assert fingerprint([first, second]) not in {base, touched}
    renamed = first.rename(tmp_path / "unit-3.12.xml")
    assert fingerprint([renamed, second]) not in {base, touched}
    assert fingerprint([tmp_path / "gone.xml"]) != fingerprint([])
