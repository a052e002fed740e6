"""The sidecar's timeline (suitekit._layout.Timeline): compact, round-tripping, validated."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from suitekit._layout import Measured, Span, Timeline

T0 = 1_767_000_000.0

_spans = st.lists(
    st.builds(
        Span,
        node_id=st.text(min_size=1, max_size=40),
        worker=st.sampled_from(["main", "gw0", "gw1", "gw10", "gw2"]),
        start=st.integers(0, 10**7).map(lambda ms: ms / 1000),
        seconds=st.integers(0, 10**6).map(lambda ms: ms / 1000),
        waited=st.none() | st.integers(0, 10**6).map(lambda ms: ms / 1000),
    ),
    max_size=30,
)


@settings(database=None, max_examples=100)
@given(
    spans=_spans,
    length=st.integers(0, 10**6).map(lambda ms: ms / 1000),
    predicted=st.none() | st.integers(0, 10**6).map(lambda ms: ms / 1000),
)
def test_the_sidecar_with_a_timeline_round_trips(
    spans: list[Span], length: float, predicted: float | None
) -> None:
    timeline = Timeline(started=T0, stopped=T0 + length, tests=tuple(spans))
    measured = Measured(workers=2, cpus=4, predicted=predicted, timeline=timeline)
    assert Measured.from_json(measured.to_json()) == measured


def test_a_test_costs_its_node_id_and_three_or_four_numbers() -> None:
    timeline = Timeline(
        started=T0 + 0.0004,
        stopped=T0 + 2.5,
        tests=(
            Span(node_id="tests/a.py::test_x", worker="gw10", start=0.1234, seconds=1.0),
            Span(node_id="tests/a.py::test_y", worker="gw2", start=0.5, seconds=0.25),
            Span(node_id="tests/a.py::test_z", worker="main", start=0.0, seconds=0.0),
            Span(node_id="tests/a.py::test_w", worker="main", start=0, seconds=0.8, waited=0.4),
        ),
    )
    text = Measured(workers=2, cpus=2, timeline=timeline).to_json()
    assert " " not in text
    assert json.loads(text) == {
        "workers": 2,
        "cpus": 2,
        "started": T0,
        "stopped": T0 + 2.5,
        "lanes": ["main", "gw2", "gw10"],  # main first, then by number
        "tests": [
            ["tests/a.py::test_x", 2, 123, 1000],
            ["tests/a.py::test_y", 1, 500, 250],
            ["tests/a.py::test_z", 0, 0, 0],
            ["tests/a.py::test_w", 0, 0, 800, 400],  # and its wait for a CPU, when measured
        ],
    }
    assert timeline.workers == ("main", "gw2", "gw10")


def test_an_older_sidecar_has_no_timeline_and_a_broken_one_keeps_its_figures() -> None:
    assert Measured.from_json('{"workers": 2, "cpus": 8}') == Measured(workers=2, cpus=8)
    base: dict[str, object] = {
        "workers": 2, "cpus": 8, "started": T0, "stopped": T0 + 1, "lanes": ["gw0"]
    }  # fmt: skip
    broken: list[dict[str, object]] = [
        {"tests": [["t", 1, 0, 5]]},  # no such lane
        {"tests": [["t", 0, -1, 5]]},  # a negative start
        {"tests": [["t", 0, 0]]},  # three fields
        {"tests": [["t", 0, 0, 5, 1, 1]]},  # six fields
        {"tests": [["t", 0, 0, 5, -1]]},  # a negative wait
        {"tests": [["t", 0, 0, 5, "1"]]},  # a wait that is no number
        {"tests": [[7, 0, 0, 5]]},  # a node id that is no text
        {"tests": [["t", True, 0, 5]]},  # a lane that is no index
        {"tests": [["t", 0, True, 5]]},  # a start that is no number
        {"tests": [["t", 0, 0, float("inf")]]},  # an endless test
        {"tests": [["t", 0, 0, 5, float("nan")]]},  # a wait that is no figure
        {"tests": [["t", 0, 10**400, 5]]},  # a start no float holds
        {"tests": "t"},
        {"lanes": [1], "tests": []},
        {"started": T0 + 2},  # stopped before it started
        {"stopped": "later"},
        {"started": float("nan")},
        {"stopped": 10**400},  # no float holds it
    ]
    for change in broken:
        text = json.dumps({**base, **change})
        assert Measured.from_json(text) == Measured(workers=2, cpus=8), change
    for predicted in (-1, "3", None, float("inf")):
        text = json.dumps({"workers": 2, "cpus": 8, "predicted": predicted})
        assert Measured.from_json(text) == Measured(workers=2, cpus=8), predicted


def test_a_timeline_outside_the_clocks_range_is_left_out() -> None:
    # A start no clock gave (the page could not even write its date) is refused, not drawn.
    for started, stopped in ((1e18, 1e18 + 1), (-5.0, T0), (T0, 4e9 + 1)):
        text = json.dumps(
            {"workers": 2, "cpus": 8, "started": started, "stopped": stopped, "lanes": [],
             "tests": []}
        )  # fmt: skip
        assert Measured.from_json(text) == Measured(workers=2, cpus=8), started


def _sidecar(tmp_path: Path, text: str) -> Path:
    path = tmp_path / f"unit-3.11{Measured.SUFFIX}"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_figures_alone_are_read_without_the_tests(tmp_path: Path) -> None:
    spans = tuple(
        Span(node_id=f"tests/test_{i}.py::test_{i}", worker="gw1", start=i, seconds=1.0)
        for i in range(2000)  # well past the head that is read for the figures
    )
    full = Measured(
        workers=3, cpus=4, predicted=2.5, timeline=Timeline(started=T0, stopped=T0 + 3000,
                                                            tests=spans)
    )  # fmt: skip
    path = _sidecar(tmp_path, full.to_json())
    assert Measured.read_path(path) == full
    figures = Measured(workers=3, cpus=4, predicted=2.5)
    assert Measured.read_path(path, timeline=False) == figures
    # Other layouts are read whole: the tests first, spaces, the key inside a node id, no tests.
    data = json.loads(full.to_json())
    compact = (",", ":")
    for text in (
        json.dumps({"tests": data["tests"], **{k: v for k, v in data.items() if k != "tests"}},
                   separators=compact),
        json.dumps(data, indent=1),
        json.dumps({**data, "lanes": [',"tests":'], "tests": []}, separators=compact),
        json.dumps({"workers": 3, "cpus": 4, "predicted": 2.5}, separators=compact),
    ):  # fmt: skip
        assert Measured.read_path(_sidecar(tmp_path, text), timeline=False) == figures
    # A cut inside a nested value is no top-level object: the whole text decides.
    nested = '{"workers":3,"x":{"a":1,"tests":[]},"cpus":4,"predicted":2.5}'
    assert Measured.read_path(_sidecar(tmp_path, nested), timeline=False) == figures
    assert Measured.read_path(_sidecar(tmp_path, "{broken"), timeline=False) is None
