"""Unit tests of the durations store (suitekit.sharding._durations)."""

from __future__ import annotations

import functools
import itertools
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suitekit._files import write_text_atomic
from suitekit.errors import ReportError
from suitekit.sharding._durations import (
    DURATIONS_FILE,
    DurationStore,
    Measurement,
)


def measured(seconds: float, *, at: float = 100.0, workers: int = 1, cpus: int = 4) -> Measurement:
    return Measurement(seconds=seconds, workers=workers, cpus=cpus, measured_at=at)


def merged(stores: list[DurationStore]) -> DurationStore:
    return functools.reduce(DurationStore.merge, stores, DurationStore())


# Few names and few timestamps, so that stores overlap and measurements tie often.
measurements = st.builds(
    Measurement,
    seconds=st.one_of(
        st.sampled_from([0.0, 0.5, 2.5]),
        st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
    ),
    workers=st.integers(min_value=1, max_value=3),
    cpus=st.integers(min_value=1, max_value=3),
    measured_at=st.one_of(
        st.sampled_from([1.0, 2.0]),
        st.floats(min_value=0, max_value=2e9, allow_nan=False, allow_infinity=False),
    ),
    waited=st.none() | st.sampled_from([0.0, 0.25]),
)
stores = st.builds(
    DurationStore,
    suites=st.dictionaries(
        st.sampled_from(["unit", "e2e", "plugin"]),
        st.dictionaries(
            st.sampled_from(["t.a::one", "t.a::two", "t.b::three", "t.b::f[a|b]", "é::ünï"]),
            measurements,
            max_size=5,
        ),
        max_size=3,
    ),
)


def test_the_default_file_is_under_dot_suitekit() -> None:
    assert Path(".suitekit/durations.json") == DURATIONS_FILE


def test_a_missing_file_is_an_empty_store(tmp_path: Path) -> None:
    store = DurationStore.load(tmp_path / "nothing.json")
    assert store == DurationStore()
    assert dict(store.suites) == {}


def test_save_then_load_gives_the_same_store(tmp_path: Path) -> None:
    store = DurationStore(
        suites={
            "unit": {"t.a::one": measured(0.25, workers=4, cpus=2), "t.a::two": measured(1.5)},
            "e2e": {"t.e::big": measured(120.0, at=1_700_000_000.5)},
        }
    )
    path = tmp_path / ".suitekit" / "durations.json"
    store.save(path)
    assert DurationStore.load(path) == store


@settings(database=None, max_examples=100)
@given(store=stores)
def test_save_load_round_trips_any_store(
    tmp_path_factory: pytest.TempPathFactory, store: DurationStore
) -> None:
    path = tmp_path_factory.mktemp("store") / "durations.json"
    store.save(path)
    assert DurationStore.load(path) == store


def test_the_file_has_sorted_keys_a_version_and_a_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    DurationStore(
        suites={"unit": {"t::b": measured(2.0), "t::a": measured(1.0, workers=2)}, "e2e": {}}
    ).save(path)
    text = path.read_text(encoding="utf-8")
    assert text == (
        "{\n"
        '  "suites": {\n'
        '    "unit": {\n'
        '      "t::a": {"cpus": 4, "measured_at": 100.0, "seconds": 1.0, "workers": 2},\n'
        '      "t::b": {"cpus": 4, "measured_at": 100.0, "seconds": 2.0, "workers": 1}\n'
        "    }\n"
        "  },\n"
        '  "version": 1\n'
        "}\n"
    )


def test_the_waits_follow_the_version_one_line_each(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    store = DurationStore(suites={"unit": {"t::a": measured(1.0)}, "e2e": {"t::e": measured(3.0)}})
    store.record(
        {"unit": {"t::a": 1.0}},
        workers=2,
        cpus=2,
        measured_at=200.0,
        waited={"unit": {"t::a": 0.5}},
    ).save(path)
    assert path.read_text(encoding="utf-8") == (
        "{\n"
        '  "suites": {\n'
        '    "e2e": {\n'
        '      "t::e": {"cpus": 4, "measured_at": 100.0, "seconds": 3.0, "workers": 1}\n'
        "    },\n"
        '    "unit": {\n'
        '      "t::a": {"cpus": 2, "measured_at": 200.0, "seconds": 1.0, "workers": 2}\n'
        "    }\n"
        "  },\n"
        '  "version": 1,\n'
        '  "waited": {\n'
        '    "unit": {\n'
        '      "t::a": 0.5\n'
        "    }\n"
        "  }\n"
        "}\n"
    )


awkward_names = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12
)


@settings(database=None, max_examples=100)
@given(
    suites=st.dictionaries(
        awkward_names,
        st.dictionaries(awkward_names, measurements, min_size=1, max_size=4),
        max_size=3,
    )
)
def test_the_text_is_the_json_document_of_the_store(
    tmp_path_factory: pytest.TempPathFactory, suites: dict[str, dict[str, Measurement]]
) -> None:
    # Names with quotes, backslashes, control characters and any script: the same document
    # that json.dumps writes, and the same store read back.
    store = DurationStore(suites=suites)
    path = tmp_path_factory.mktemp("store") / "durations.json"
    store.save(path)
    document: dict[str, object] = {
        "version": 1,
        "suites": {
            suite: {
                key: {
                    "seconds": m.seconds,
                    "workers": m.workers,
                    "cpus": m.cpus,
                    "measured_at": m.measured_at,
                }
                for key, m in cases.items()
            }
            for suite, cases in suites.items()
        },
    }
    waits = {
        suite: {key: m.waited for key, m in cases.items() if m.waited is not None}
        for suite, cases in suites.items()
    }
    if waits := {suite: cases for suite, cases in waits.items() if cases}:
        document["waited"] = waits
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(json.dumps(document, sort_keys=True))
    assert text.isascii()  # escaped as json.dumps escapes, whatever the names
    assert DurationStore.load(path) == store


def test_the_mappings_are_read_only() -> None:
    store = DurationStore(suites={"unit": {"t::a": measured(1.0)}})
    with pytest.raises(TypeError):
        store.suites["e2e"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        store.suites["unit"]["t::b"] = measured(2.0)  # type: ignore[index]


def test_a_store_does_not_share_the_dicts_it_was_built_from() -> None:
    cases = {"t::a": measured(1.0)}
    store = DurationStore(suites={"unit": cases})
    cases["t::b"] = measured(2.0)
    assert store.seconds("unit", "t::b") is None


def test_empty_suites_are_dropped() -> None:
    assert DurationStore(suites={"unit": {}}) == DurationStore()


def test_seconds_looks_up_one_case() -> None:
    store = DurationStore(suites={"unit": {"t::a": measured(1.25)}})
    assert store.seconds("unit", "t::a") == 1.25
    assert store.seconds("unit", "t::zzz") is None
    assert store.seconds("nope", "t::a") is None


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        pytest.param("{not json", "Expecting property name", id="not-json"),
        pytest.param("", "Expecting value", id="empty"),
        pytest.param("[]", "top level is not a JSON object", id="a-list"),
        pytest.param('{"suites": {}}', "version is None", id="no-version"),
        pytest.param('{"version": 2, "suites": {}}', "version is 2", id="newer-version"),
        pytest.param('{"version": 1}', "'suites' is not a JSON object", id="no-suites"),
        pytest.param('{"version": 1, "suites": {"unit": []}}', "suites.unit is not", id="list"),
        pytest.param(
            '{"version": 1, "suites": {"unit": {"t::a": {"seconds": 1}}}}',
            r"suites\.unit\.t::a is not an object with exactly the keys",
            id="missing-keys",
        ),
        pytest.param(
            '{"version": 1, "suites": {"unit": {"t::a": '
            '{"seconds": 1, "workers": true, "cpus": 1, "measured_at": 0}}}}',
            "wrong type",
            id="bool",
        ),
        pytest.param(
            '{"version": 1, "suites": {"unit": {"t::a": '
            '{"seconds": "1", "workers": 1, "cpus": 1, "measured_at": 0}}}}',
            "wrong type",
            id="string",
        ),
        pytest.param(
            '{"version": 1, "suites": {"unit": {"t::a": '
            '{"seconds": -1, "workers": 1, "cpus": 1, "measured_at": 0}}}}',
            "seconds must be a finite number >= 0",
            id="negative",
        ),
        pytest.param(
            '{"version": 1, "suites": {"unit": {"t::a": '
            '{"seconds": NaN, "workers": 1, "cpus": 1, "measured_at": 0}}}}',
            "seconds must be a finite number >= 0",
            id="nan",
        ),
        pytest.param(
            '{"version": 1, "suites": {"unit": {"t::a": '
            '{"seconds": 1, "workers": 0, "cpus": 1, "measured_at": 0}}}}',
            "workers and cpus must be >= 1",
            id="no-workers",
        ),
        pytest.param(
            '{"version": 1, "suites": {"unit": {"t::a": '
            '{"seconds": 1' + "0" * 400 + ', "workers": 1, "cpus": 1, "measured_at": 0}}}}',
            "a number too large for a float",
            id="huge",
        ),
        pytest.param(
            '{"version": 1, "suites": {"unit": {"t::a": '
            '{"seconds": 1.5, "workers": 1, "cpus": 1, "measured_at": [0]}}}}',
            "wrong type",
            id="list-time",
        ),
    ],
)
def test_a_corrupt_file_is_reported_with_its_path_and_the_fix_and_kept(
    tmp_path: Path, document: str, problem: str
) -> None:
    path = tmp_path / "durations.json"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(ReportError, match=problem) as caught:
        DurationStore.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: not a suitekit durations file (")
    assert "fix: delete it" in message
    assert "or restore it" in message
    assert path.read_text(encoding="utf-8") == document


def test_a_file_that_cannot_be_read_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    path.mkdir()
    with pytest.raises(ReportError, match="cannot read the durations store") as caught:
        DurationStore.load(path)
    assert str(caught.value).startswith(str(path))
    assert path.is_dir()


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ReportError, match="cannot read the durations store"):
        DurationStore.load(path)
    assert path.read_bytes() == b"\xff\xfe{}"


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"seconds": -0.5}, id="negative-seconds"),
        pytest.param({"seconds": float("nan")}, id="nan-seconds"),
        pytest.param({"seconds": float("inf")}, id="infinite-seconds"),
        pytest.param({"measured_at": float("nan")}, id="nan-time"),
        pytest.param({"workers": 0}, id="no-workers"),
        pytest.param({"cpus": 0}, id="no-cpus"),
        pytest.param({"workers": 2.0}, id="fractional-workers"),
        pytest.param({"cpus": float("inf")}, id="endless-cpus"),
        pytest.param({"workers": True}, id="boolean-workers"),
        pytest.param({"waited": -0.1}, id="negative-wait"),
        pytest.param({"waited": float("nan")}, id="nan-wait"),
    ],
)
def test_a_measurement_rejects_impossible_figures(kwargs: dict[str, float]) -> None:
    figures: dict[str, float] = {"seconds": 1.0, "workers": 1, "cpus": 1, "measured_at": 0.0}
    figures.update(kwargs)
    with pytest.raises(ValueError, match="must be"):
        Measurement(**figures)  # type: ignore[arg-type]


def test_merge_keeps_the_newer_measurement_of_each_case() -> None:
    old = DurationStore(suites={"unit": {"t::a": measured(5.0, at=1), "t::b": measured(1, at=9)}})
    new = DurationStore(suites={"unit": {"t::a": measured(2.0, at=2), "t::b": measured(7, at=3)}})
    expected = {"t::a": measured(2.0, at=2), "t::b": measured(1, at=9)}
    assert dict(old.merge(new).suites["unit"]) == expected
    assert dict(new.merge(old).suites["unit"]) == expected


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        pytest.param(measured(1.0), measured(3.0), measured(3.0), id="larger-seconds"),
        pytest.param(
            measured(1.0, workers=4),
            measured(1.0, workers=2),
            measured(1.0, workers=4),
            id="then-more-workers",
        ),
        pytest.param(
            measured(1.0, cpus=2), measured(1.0, cpus=8), measured(1.0, cpus=8), id="then-more-cpus"
        ),
    ],
)
def test_a_tie_in_time_is_broken_the_same_way_in_either_order(
    first: Measurement, second: Measurement, winner: Measurement
) -> None:
    one = DurationStore(suites={"unit": {"t::a": first}})
    two = DurationStore(suites={"unit": {"t::a": second}})
    assert one.merge(two).suites["unit"]["t::a"] == winner
    assert two.merge(one).suites["unit"]["t::a"] == winner


def test_merge_keeps_the_cases_and_suites_of_both() -> None:
    one = DurationStore(suites={"unit": {"t::a": measured(1.0)}})
    two = DurationStore(suites={"unit": {"t::b": measured(2.0)}, "e2e": {"t::c": measured(3.0)}})
    result = one.merge(two)
    assert {suite: set(cases) for suite, cases in result.suites.items()} == {
        "unit": {"t::a", "t::b"},
        "e2e": {"t::c"},
    }


@settings(database=None, max_examples=200)
@given(many=st.lists(stores, min_size=1, max_size=4))
def test_merging_in_any_order_gives_the_same_store(many: list[DurationStore]) -> None:
    first = merged(many)
    for order in itertools.permutations(many):
        assert merged(list(order)) == first


@settings(database=None, max_examples=200)
@given(a=stores, b=stores, c=stores)
def test_merge_is_associative(a: DurationStore, b: DurationStore, c: DurationStore) -> None:
    assert a.merge(b).merge(c) == a.merge(b.merge(c))


@settings(database=None, max_examples=200)
@given(a=stores, b=stores)
def test_merge_is_idempotent_and_has_the_empty_store_as_identity(
    a: DurationStore, b: DurationStore
) -> None:
    assert a.merge(a) == a
    assert a.merge(b).merge(b) == a.merge(b)
    assert a.merge(DurationStore()) == a
    assert DurationStore().merge(a) == a


@settings(database=None, max_examples=100)
@given(a=stores, b=stores)
def test_merged_stores_save_to_the_same_text(
    tmp_path_factory: pytest.TempPathFactory, a: DurationStore, b: DurationStore
) -> None:
    folder = tmp_path_factory.mktemp("merged")
    a.merge(b).save(folder / "ab.json")
    b.merge(a).save(folder / "ba.json")
    assert (folder / "ab.json").read_bytes() == (folder / "ba.json").read_bytes()


def test_record_adds_a_run_and_keeps_its_conditions() -> None:
    store = DurationStore().record(
        {"unit": {"t::a": 0.5, "t::b": 1.5}, "e2e": {"t::c": 30.0}},
        workers=4,
        cpus=2,
        measured_at=1_700_000_000.0,
    )
    assert store.suites["unit"]["t::a"] == Measurement(
        seconds=0.5, workers=4, cpus=2, measured_at=1_700_000_000.0
    )
    assert store.seconds("e2e", "t::c") == 30.0


def test_record_replaces_older_figures_and_keeps_newer_ones() -> None:
    store = DurationStore(
        suites={"unit": {"t::old": measured(9.0, at=10), "t::new": measured(9.0, at=30)}}
    )
    after = store.record(
        {"unit": {"t::old": 1.0, "t::new": 1.0}}, workers=1, cpus=1, measured_at=20
    )
    assert after.suites["unit"]["t::old"] == Measurement(
        seconds=1.0, workers=1, cpus=1, measured_at=20
    )
    assert after.suites["unit"]["t::new"] == measured(9.0, at=30)
    assert store.seconds("unit", "t::old") == 9.0  # the original store is unchanged


def test_record_rejects_impossible_conditions() -> None:
    with pytest.raises(ValueError, match="workers and cpus must be >= 1"):
        DurationStore().record({"unit": {"t::a": 1.0}}, workers=0, cpus=1, measured_at=0)


def test_prune_drops_cases_that_no_longer_exist_in_that_suite_only() -> None:
    store = DurationStore(
        suites={
            "unit": {"t::a": measured(1.0), "t::gone": measured(2.0)},
            "e2e": {"t::gone": measured(3.0)},
        }
    )
    pruned = store.prune("unit", ["t::a", "t::not-measured-yet"])
    assert set(pruned.suites["unit"]) == {"t::a"}
    assert set(pruned.suites["e2e"]) == {"t::gone"}


def test_prune_to_nothing_drops_the_suite_and_an_unknown_suite_is_a_no_op() -> None:
    store = DurationStore(suites={"unit": {"t::a": measured(1.0)}})
    assert "unit" not in store.prune("unit", frozenset()).suites
    assert store.prune("e2e", ["t::a"]) is store


def test_save_creates_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "project" / DURATIONS_FILE
    DurationStore(suites={"unit": {"t::a": measured(1.0)}}).save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == 1


def leftovers(folder: Path, keep: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != keep)


def test_a_failed_rename_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "durations.json"
    DurationStore(suites={"unit": {"t::a": measured(1.0)}}).save(path)
    before = path.read_bytes()

    def refuse(source: object, target: object) -> None:
        message = f"cannot rename {source} to {target}"
        raise OSError(28, message)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ReportError, match="the previous file is unchanged") as caught:
        DurationStore(suites={"unit": {"t::a": measured(5.0)}}).save(path)
    assert str(caught.value).startswith(f"{path}: cannot write")
    assert path.read_bytes() == before
    assert leftovers(tmp_path, keep=path.name) == []


def test_a_failure_while_writing_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "durations.json"
    DurationStore(suites={"unit": {"t::a": measured(1.0)}}).save(path)
    before = path.read_bytes()

    def disk_full(_descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(ReportError, match="No space left on device"):
        DurationStore(suites={"unit": {"t::a": measured(5.0)}}).save(path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path, keep=path.name) == []


def test_an_interrupt_while_writing_leaves_the_old_file_intact_and_propagates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "durations.json"
    path.write_text("old\n", encoding="utf-8")

    def interrupted(_descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(path, "new\n")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert leftovers(tmp_path, keep=path.name) == []


def test_a_folder_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(ReportError, match="cannot write"):
        write_text_atomic(blocker / "durations.json", "{}")


def test_an_atomic_write_uses_the_usual_permissions(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    write_text_atomic(path, "text\n")
    reference = tmp_path / "reference.txt"
    reference.write_text("text\n", encoding="utf-8")
    assert path.stat().st_mode == reference.stat().st_mode
    assert path.read_text(encoding="utf-8") == "text\n"


def test_a_measured_wait_for_a_cpu_is_taken_off_and_no_guess_is_made() -> None:
    # 3 processes on 2 CPUs: without a measured wait, two thirds of the figure are counted.
    guessed = Measurement(seconds=0.9, workers=2, cpus=2, measured_at=0.0)
    assert guessed.serial_seconds == pytest.approx(0.6)
    # A test that slept: it waited for no CPU, and keeps its seconds whatever the counts.
    slept = Measurement(seconds=0.9, workers=2, cpus=2, measured_at=0.0, waited=0.0)
    assert slept.serial_seconds == 0.9
    # A CPU-bound test that shared its CPU with another process of another suite: the counts
    # say nothing (one worker), the wait says it all.
    shared = Measurement(seconds=0.8, workers=1, cpus=2, measured_at=0.0, waited=0.4)
    assert shared.serial_seconds == pytest.approx(0.4)


def test_record_caps_a_wait_at_the_seconds_and_keeps_it_apart_from_unmeasured_cases() -> None:
    store = DurationStore().record(
        {"unit": {"t::a": 0.5, "t::b": 1.5, "t::c": 1.0}},
        workers=1,
        cpus=2,
        measured_at=10.0,
        waited={"unit": {"t::a": 0.7, "t::b": 0.5}},
    )
    cases = store.suites["unit"]
    assert (cases["t::a"].waited, cases["t::b"].waited, cases["t::c"].waited) == (0.5, 0.5, None)


def test_waits_are_kept_beside_the_suites_where_an_older_suitekit_does_not_look(
    tmp_path: Path,
) -> None:
    path = tmp_path / "durations.json"
    store = DurationStore(
        suites={"unit": {"t::a": measured(1.0), "t::b": Measurement(
            seconds=1.0, workers=1, cpus=4, measured_at=100.0, waited=0.25
        )}}
    )  # fmt: skip
    store.save(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    # The entries keep exactly the keys every version reads; the waits have a table of their own.
    assert document["suites"]["unit"]["t::b"] == {
        "cpus": 4, "measured_at": 100.0, "seconds": 1.0, "workers": 1
    }  # fmt: skip
    assert document["waited"] == {"unit": {"t::b": 0.25}}
    assert DurationStore.load(path) == store
    # A store without any measured wait has no such table, as an older suitekit wrote it.
    DurationStore(suites={"unit": {"t::a": measured(1.0)}}).save(path)
    assert "waited" not in json.loads(path.read_text(encoding="utf-8"))


def test_a_wait_of_no_stored_case_is_passed_over(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    entry = '{"seconds": 1.0, "workers": 1, "cpus": 1, "measured_at": 0.0}'
    path.write_text(
        '{"version": 1, "suites": {"unit": {"t::a": ' + entry + "}}, "
        '"waited": {"unit": {"t::gone": 0.5}, "e2e": {"t::x": 1}}}',
        encoding="utf-8",
    )
    assert DurationStore.load(path).suites["unit"]["t::a"].waited is None


@pytest.mark.parametrize(
    ("waits", "problem"),
    [
        ('{"unit": {"t::a": "0.5"}}', r"waited\.unit\.t::a is not a number"),
        ('{"unit": {"t::a": true}}', r"waited\.unit\.t::a is not a number"),
        ('{"unit": {"t::a": -1}}', r"waited\.unit\.t::a: waited must be a finite number"),
        ('{"unit": {"t::a": 1' + "0" * 400 + "}}", r"waited\.unit\.t::a is a number too large"),
        ('{"unit": 3}', r"waited\.unit is not a JSON object"),
        ("[]", r"'waited' is not a JSON object"),
    ],
)
def test_a_broken_wait_is_a_format_error(tmp_path: Path, waits: str, problem: str) -> None:
    path = tmp_path / "durations.json"
    entry = '{"seconds": 1.0, "workers": 1, "cpus": 1, "measured_at": 0.0}'
    path.write_text(
        '{"version": 1, "suites": {"unit": {"t::a": ' + entry + '}}, "waited": ' + waits + "}",
        encoding="utf-8",
    )
    with pytest.raises(ReportError, match=problem):
        DurationStore.load(path)
