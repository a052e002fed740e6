"""Unit tests of sharding: shard specs, estimates, units, LPT, slow-tail order, worker counts."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

import pytest
from _pytest.junitxml import mangle_test_address
from hypothesis import given, settings
from hypothesis import strategies as st

from suitekit._model import DIST_MODES, DistMode, Source, Sourced, Suite
from suitekit.errors import ConfigError
from suitekit.plan import RunOptions, plugin_decides_workers, resolve_workers
from suitekit.reporting._report import _expected_reports
from suitekit.sharding import (
    Calibration,
    Case,
    LongestFirst,
    Measurement,
    Ordering,
    ShardSpec,
    Unit,
    _order,
    case_key,
    choose_order,
    choose_workers,
    estimate,
    plan_shards,
    shard_from,
    slowest_first,
    split_of,
)
from suitekit.sharding._order import MARGIN, MIN_GAIN_SECONDS
from suitekit.sharding._simulate import least_makespan, load_makespan, worksteal_makespan
from suitekit.sharding._units import SECONDS_PER_BYTE, unit_key
from suitekit.sharding._workers import predict

NODE_IDS = [
    "tests/test_a.py::test_one",
    "tests/unit/test_b.py::TestB::test_two[1-x]",
    "tests/unit/test_b.py::TestB::test_two[a::b]",
    "test_top.py::test_three",
    "tests/pkg.py/test_c.py::TestC::TestInner::test_four",
]


def m(seconds: float, *, workers: int = 1, cpus: int = 2) -> Measurement:
    return Measurement(seconds=seconds, workers=workers, cpus=cpus, measured_at=1.0)


@pytest.mark.parametrize("node_id", NODE_IDS)
def test_case_keys_are_the_classname_and_name_of_pytests_junit_report(node_id: str) -> None:
    names = mangle_test_address(node_id)

    assert case_key(node_id) == f"{'.'.join(names[:-1])}::{names[-1]}"


# --- shard specs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "index", "total"), [("1/1", 1, 1), ("2/4", 2, 4), (" 3 / 3 ", 3, 3)]
)
def test_shard_specs_parse(text: str, index: int, total: int) -> None:
    spec = ShardSpec.parse(text, key="--shard")

    assert (spec.index, spec.total, str(spec), spec.slug) == (
        index,
        total,
        f"{index}/{total}",
        f"shard-{index}-of-{total}",
    )


@pytest.mark.parametrize("text", ["0/4", "5/4", "2", "a/b", "2/0", "-1/3", "1/2/3", ""])
def test_a_bad_shard_names_the_value_and_the_form(text: str) -> None:
    with pytest.raises(ConfigError, match=r"--shard: .* is not a shard\n  fix: write K/N") as info:
        ShardSpec.parse(text, key="--shard")

    assert info.value.value == text


def test_the_command_line_shard_wins_over_the_environment() -> None:
    env = {"SUITEKIT_SHARD": "1/2"}

    assert shard_from(["-x", "--shard", "3/4"], env) == Sourced(
        value=ShardSpec(index=3, total=4), source=Source.CLI, origin="--shard"
    )
    assert shard_from(["--shard=2/4", "--shard=4/4"], {}) == Sourced(
        value=ShardSpec(index=4, total=4), source=Source.CLI, origin="--shard"
    )
    assert shard_from(["-x"], env) == Sourced(
        value=ShardSpec(index=1, total=2), source=Source.ENV, origin="SUITEKIT_SHARD"
    )
    assert shard_from([], {"SUITEKIT_SHARD": " "}) is None


def test_a_shard_option_without_value_or_a_bad_variable_is_an_error() -> None:
    with pytest.raises(ConfigError, match="--shard needs a value"):
        shard_from(["--shard"], {})
    with pytest.raises(ConfigError, match="environment variable SUITEKIT_SHARD: '9/3'"):
        shard_from([], {"SUITEKIT_SHARD": "9/3"})


# --- estimates and units --------------------------------------------------------------------


def test_unknown_tests_get_the_median_and_crowded_figures_are_corrected() -> None:
    cases = [Case(node_id=f"t.py::test_{n}") for n in range(4)]
    stored = {
        "t::test_0": m(1.0),
        "t::test_1": m(3.0),
        # four workers and their controller on two CPUs: counted at two fifths
        "t::test_2": m(10.0, workers=4, cpus=2),
    }

    estimates = estimate(cases, stored)

    assert dict(estimates.seconds) == {
        "t.py::test_0": 1.0,
        "t.py::test_1": 3.0,
        "t.py::test_2": 4.0,
        "t.py::test_3": 3.0,
    }
    assert (estimates.known, estimates.estimated, estimates.basis) == (3, 1, "durations")
    assert estimates.describe() == "3 known durations, 1 estimated (median)"


def test_without_any_durations_a_files_size_is_shared_by_its_tests() -> None:
    cases = [
        Case(node_id="a.py::test_1", file_bytes=1000),
        Case(node_id="a.py::test_2", file_bytes=1000),
        Case(node_id="b.py::test_1", file_bytes=3000),
    ]

    estimates = estimate(cases, {"other::test": m(1.0)})

    assert estimates.basis == "file size"
    assert dict(estimates.seconds) == pytest.approx(
        {
            "a.py::test_1": 500 * SECONDS_PER_BYTE,
            "a.py::test_2": 500 * SECONDS_PER_BYTE,
            "b.py::test_1": 3000 * SECONDS_PER_BYTE,
        }
    )


@pytest.mark.parametrize(
    ("dist", "expected"),
    [
        ("load", "t/test_a.py::TestA::test_x[1]"),
        ("worksteal", "t/test_a.py::TestA::test_x[1]"),
        ("loadscope", "t/test_a.py::TestA"),
        ("loadfile", "t/test_a.py"),
        ("loadgroup", "@db"),
    ],
)
def test_units_are_what_xdist_keeps_together(dist: DistMode, expected: str) -> None:
    assert unit_key("t/test_a.py::TestA::test_x[1]", dist, "db") == expected


def test_loadgroup_without_a_group_keeps_tests_apart() -> None:
    assert unit_key("t.py::test_x", "loadgroup", None) == "t.py::test_x"


# --- shard plans ----------------------------------------------------------------------------

case_lists = st.lists(
    st.tuples(
        st.sampled_from(["t/test_a.py", "t/test_b.py", "t/sub/test_c.py", "test_d.py"]),
        st.sampled_from(["", "TestX::", "TestY::"]),
        st.integers(min_value=0, max_value=40),
        st.sampled_from([None, "g1", "g2"]),
        st.integers(min_value=0, max_value=5000),
    ),
    min_size=0,
    max_size=60,
    unique_by=lambda t: (t[0], t[1], t[2]),
)


def _cases(raw: list[tuple[str, str, int, str | None, int]]) -> list[Case]:
    return [
        Case(node_id=f"{path}::{cls}test_{n}", file_bytes=size, group=group)
        for path, cls, n, group, size in raw
    ]


@settings(max_examples=300, deadline=None)
@given(
    raw=case_lists,
    count=st.integers(min_value=1, max_value=12),
    dist=st.sampled_from(DIST_MODES),
    known=st.dictionaries(
        st.integers(min_value=0, max_value=40),
        st.floats(min_value=0, max_value=100, allow_nan=False),
        max_size=30,
    ),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_shards_partition_the_suite(
    raw: list[tuple[str, str, int, str | None, int]],
    count: int,
    dist: DistMode,
    known: dict[int, float],
    seed: int,
) -> None:
    cases = _cases(raw)
    stored = {
        case_key(case.node_id): m(known[n])
        for case, (_, _, n, _, _) in zip(cases, raw, strict=True)
        if n in known
    }

    plan = plan_shards(cases, count=count, dist=dist, stored=stored)

    assert len(plan.shards) == count
    seen = [node for shard in plan.shards for node in shard.node_ids]
    assert sorted(seen) == sorted(case.node_id for case in cases)  # each test exactly once
    units = {unit_key(c.node_id, dist, c.group) for c in cases}
    if count <= len(units):
        assert all(shard.tests > 0 for shard in plan.shards)  # none empty
    for shard in plan.shards:  # a unit never spans shards
        for unit in shard.units:
            assert {
                unit_key(node, dist, next(c.group for c in cases if c.node_id == node))
                for node in unit.node_ids
            } == {unit.key}
    shuffled = list(cases)
    random.Random(seed).shuffle(shuffled)  # noqa: S311 - a reproducible order, not a secret
    again = plan_shards(shuffled, count=count, dist=dist, stored=dict(reversed(stored.items())))
    assert [s.node_ids for s in again.shards] == [s.node_ids for s in plan.shards]


def test_a_skewed_suite_with_known_durations_is_balanced_within_five_percent() -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible durations, not a secret
    cases = [Case(node_id=f"t/test_{n // 20}.py::test_{n}") for n in range(400)]
    stored = {case_key(c.node_id): m(rng.lognormvariate(-2.5, 1.2)) for c in cases}
    stored[case_key(cases[-1].node_id)] = m(2.0)  # a slow test collected last

    for count in (2, 3, 4, 8):
        plan = plan_shards(cases, count=count, dist="load", stored=stored)
        assert plan.imbalance <= 1.05, plan.table("unit")


def test_the_plan_table_shows_each_shard_and_max_over_mean() -> None:
    cases = [Case(node_id=f"t.py::test_{n}") for n in range(4)]
    stored = {case_key(c.node_id): m(s) for c, s in zip(cases, [4.0, 3.0, 2.0, 1.0], strict=True)}

    table = plan_shards(cases, count=2, dist="load", stored=stored).table("unit")

    assert table.splitlines() == [
        "suite 'unit': 4 tests in 2 shards (longest first; 4 known durations)",
        "  shard   tests   units  predicted s",
        "    1/2       2       2         5.00",
        "    2/2       2       2         5.00",
        "max 5.00 s, mean 5.00 s, max/mean 1.000",
    ]


def test_lpt_gives_empty_shards_only_when_units_run_out() -> None:
    units = [Unit(key=f"u{n}", node_ids=(f"u{n}",), seconds=0.0) for n in range(3)]

    split = LongestFirst().split(units, 5)

    assert [len(part) for part in split] == [1, 1, 1, 0, 0]


# --- slow-tail order ------------------------------------------------------------------------


def test_load_deals_the_slowest_tests_into_each_workers_first_block() -> None:
    ids = [f"t.py::test_{n}" for n in range(40)]
    seconds = dict.fromkeys(ids, 0.01) | {ids[-1]: 5.0, ids[-2]: 4.0, ids[-3]: 3.0}

    order = slowest_first(ids, seconds, dist="load", workers=2)

    assert sorted(order) == sorted(ids)
    chunk = 40 // 2 // 4  # what xdist 3 sends each worker first
    assert order[0] == ids[-1]  # worker 1 starts with the slowest
    assert order[chunk] == ids[-2]  # worker 2 with the second slowest
    assert order[1] == ids[-3]  # and worker 1 gets the third


def test_worksteal_blocks_follow_xdists_split() -> None:
    ids = [f"t.py::test_{n}" for n in range(7)]
    seconds = {node: float(n) for n, node in enumerate(ids)}

    order = slowest_first(ids, seconds, dist="worksteal", workers=3)

    # xdist hands out 2, 2 and 3 tests; the longest are dealt round robin into them.
    assert order == [ids[6], ids[3], ids[5], ids[2], ids[4], ids[1], ids[0]]


def test_scope_modes_keep_units_together_longest_first() -> None:
    ids = ["a.py::test_1", "a.py::test_2", "b.py::test_1", "c.py::test_1", "c.py::test_2"]
    seconds = {"a.py::test_1": 1.0, "a.py::test_2": 1.0, "b.py::test_1": 5.0, "c.py::test_2": 0.5}

    order = slowest_first(ids, seconds, dist="loadfile", workers=2)

    assert order == ["b.py::test_1", "a.py::test_1", "a.py::test_2", "c.py::test_1", "c.py::test_2"]


def _dominant_suite() -> tuple[list[str], dict[str, float]]:
    """120 tests of a lognormal spread and, mid-suite, one test of 40 % of the time."""
    rng = random.Random(11)  # noqa: S311 - reproducible test data
    ids = [f"tests/test_m{n // 12}.py::test_{n}" for n in range(121)]
    rest = [rng.lognormvariate(0.0, 1.0) for _ in range(120)]
    scale = 9.6 / sum(rest)
    seconds = [value * scale for value in rest]
    seconds.insert(42, 6.4)
    return ids, dict(zip(ids, seconds, strict=True))


def _load(ids: list[str] | tuple[str, ...], seconds: dict[str, float], workers: int) -> float:
    return load_makespan([seconds[node] for node in ids], workers=workers)


def test_all_slow_tests_first_queue_them_behind_a_dominant_one() -> None:
    # Why the order is a prediction's choice: with one test of 40 %, dealing every test longest
    # first puts the 3rd, 5th, ... longest behind it on one worker (a real suite ran 16 % slower).
    ids, seconds = _dominant_suite()

    everything_first = slowest_first(ids, seconds, dist="load", workers=2)
    ordering = choose_order(ids, seconds, dist="load", workers=2)

    assert _load(everything_first, seconds, 2) > _load(ids, seconds, 2) * 1.05
    assert ordering.plain == pytest.approx(_load(ids, seconds, 2))
    assert ordering.moved == 1  # the dominant test starts first; the rest keep their order
    assert ordering.node_ids[0] == ids[42]
    assert [node for node in ordering.node_ids if node != ids[42]] == ids[:42] + ids[43:]
    assert ordering.reordered == pytest.approx(_load(ordering.node_ids, seconds, 2))
    assert ordering.reordered is not None
    assert ordering.plain is not None
    assert ordering.reordered <= ordering.plain * (1 - MARGIN)
    assert ordering.describe() == (
        f"the 1 longest first: predicted {ordering.reordered:.1f}s against "
        f"{ordering.plain:.1f}s in collection order"
    )


def test_slow_tests_collected_last_go_first_one_per_worker() -> None:
    ids = [f"t.py::test_{n}" for n in range(40)]
    seconds = dict.fromkeys(ids, 0.01) | {ids[-1]: 5.0, ids[-2]: 4.0, ids[-3]: 3.0}

    ordering = choose_order(ids, seconds, dist="load", workers=2)

    chunk = 40 // 2 // 4
    assert ordering.moved >= 2
    assert ordering.node_ids[0] == ids[-1]
    assert ordering.node_ids[chunk] == ids[-2]
    assert sorted(ordering.node_ids) == sorted(ids)


def test_an_order_that_saves_too_little_keeps_the_collection_order() -> None:
    # Many equal tests: no order is predicted to be faster by the margin.
    ids = [f"t.py::test_{n}" for n in range(50)]
    seconds = dict.fromkeys(ids, 0.1) | {ids[-1]: 0.3}

    ordering = choose_order(ids, seconds, dist="worksteal", workers=2)

    assert ordering.node_ids == tuple(ids)
    assert ordering.moved == 0
    assert ordering.describe().startswith("collection order: predicted ")


def test_no_order_is_replayed_when_none_could_save_enough() -> None:
    # 20,000 short tests, as evenly spread as work can be: the bound alone decides.
    ids = [f"t{n // 1000}.py::test_{n}" for n in range(20_000)]
    seconds = {node: 0.0005 + (n % 7) * 0.0001 for n, node in enumerate(ids)}
    times = [seconds[node] for node in ids]

    with mock.patch.object(_order, "load_makespan", wraps=load_makespan) as replay:
        ordering = choose_order(ids, seconds, dist="load", workers=2)

    assert replay.call_count == 1  # the collection order's prediction alone
    assert ordering.node_ids == tuple(ids)
    assert ordering.moved == 0
    assert ordering.reordered is None
    assert ordering.least == least_makespan(times, workers=2)
    assert ordering.plain is not None
    assert ordering.describe() == (
        f"collection order: predicted {ordering.plain:.1f}s; no order can save "
        f"{MARGIN:.0%} and {MIN_GAIN_SECONDS}s (none takes less than {ordering.least:.1f}s)"
    )


@settings(max_examples=200, deadline=None)
@given(
    durations=st.lists(
        st.floats(min_value=0, max_value=30, allow_nan=False), min_size=1, max_size=40
    ),
    workers=st.integers(min_value=1, max_value=5),
    max_chunk=st.none() | st.integers(min_value=1, max_value=4),
)
def test_no_replay_goes_below_the_least_makespan(
    durations: list[float], workers: int, max_chunk: int | None
) -> None:
    least = least_makespan(durations, workers=workers)
    for order in (durations, sorted(durations), sorted(durations, reverse=True)):
        assert load_makespan(order, workers=workers, max_chunk=max_chunk) >= least * (1 - 1e-12)
        assert worksteal_makespan(order, workers=workers) >= least * (1 - 1e-12)


@pytest.mark.parametrize("dist", DIST_MODES)
def test_one_worker_runs_the_collection_order(dist: DistMode) -> None:
    ids = [f"t{n}.py::test_{n}" for n in range(5)]
    seconds = {node: float(n) for n, node in enumerate(ids)}

    ordering = choose_order(ids, seconds, dist=dist, workers=1)

    assert ordering == Ordering(node_ids=tuple(ids), moved=0)


def test_scope_modes_still_go_longest_unit_first() -> None:
    ids = ["a.py::test_1", "a.py::test_2", "b.py::test_1"]
    seconds = {"a.py::test_1": 1.0, "b.py::test_1": 5.0}

    ordering = choose_order(ids, seconds, dist="loadfile", workers=2)

    assert list(ordering.node_ids) == slowest_first(ids, seconds, dist="loadfile", workers=2)
    assert ordering.describe() == "longest units first"


@settings(max_examples=200, deadline=None)
@given(
    durations=st.lists(
        st.floats(min_value=0, max_value=30, allow_nan=False), min_size=1, max_size=60
    ),
    workers=st.integers(min_value=2, max_value=6),
    dist=st.sampled_from(["load", "worksteal"]),
)
def test_a_chosen_order_is_predicted_faster_than_xdists_by_the_margin(
    durations: list[float], workers: int, dist: DistMode
) -> None:
    ids = [f"t.py::test_{n}" for n in range(len(durations))]
    seconds = dict(zip(ids, durations, strict=True))

    ordering = choose_order(ids, seconds, dist=dist, workers=workers)
    with mock.patch.object(_order, "least_makespan", return_value=-math.inf):  # all replayed
        replayed = choose_order(ids, seconds, dist=dist, workers=workers)

    def predict(order: Sequence[str]) -> float:
        times = [seconds[node] for node in order]
        if dist == "load":
            return load_makespan(times, workers=workers)
        return worksteal_makespan(times, workers=workers)

    assert sorted(ordering.node_ids) == sorted(ids)
    assert ordering.plain == predict(ids)
    # Leaving the candidates out when the bound says none can win never changes the choice.
    assert (ordering.node_ids, ordering.moved) == (replayed.node_ids, replayed.moved)
    if ordering.least is not None:
        assert ordering.reordered is None
        assert replayed.reordered is not None
        assert replayed.reordered >= ordering.least * (1 - 1e-12)
    else:
        assert ordering == replayed
    if ordering.moved:
        assert ordering.reordered is not None
        assert predict(ordering.node_ids) == ordering.reordered
        assert ordering.reordered <= ordering.plain - max(MARGIN * ordering.plain, MIN_GAIN_SECONDS)
    else:
        assert ordering.node_ids == tuple(ids)


# --- worker counts --------------------------------------------------------------------------

CALIBRATION = Calibration(
    serial_per_test=0.0008, xdist_per_test=0.001, xdist_startup=0.9, startup_per_worker=0.2, cpus=2
)


def test_calibrations_round_trip_through_json() -> None:
    assert Calibration.from_json(CALIBRATION.to_json()) == CALIBRATION
    with pytest.raises(ValueError, match="not a suitekit calibration"):
        Calibration.from_json('{"cpus": 2}')


def test_many_tiny_tests_run_without_xdist() -> None:
    units = [[0.0002]] * 62_000

    choice = choose_workers(units, cpus=2, calibration=CALIBRATION)

    assert choice.workers == 0
    assert dict(choice.predicted)[0] < dict(choice.predicted)[2]


def test_slow_tests_use_every_cpu_but_never_beat_the_longest_unit() -> None:
    units = [[1.0]] * 20 + [[9.0]]

    choice = choose_workers(units, cpus=4, calibration=CALIBRATION)

    assert choice.workers == 4
    assert predict(units, 4, CALIBRATION) >= 9.0
    assert "longest unit 9.0s" in choice.reason()


def test_auto_workers_without_the_plugin_fill_the_budget() -> None:
    suite = Suite(name="unit", paths=("tests",), workers="auto")
    options = RunOptions(cpus=Sourced(value=2, source=Source.DEFAULT, origin="CPU count"))

    assert resolve_workers(suite, options).value == 2
    assert plugin_decides_workers(suite, options)  # sessions pass -n auto; the plugin decides
    fixed = Suite(name="unit", paths=("tests",), workers=3)
    assert resolve_workers(fixed, options).value == 3
    assert not plugin_decides_workers(fixed, options)


# --- reports of shards ----------------------------------------------------------------------


def test_the_report_expects_every_shard_of_the_largest_split_seen() -> None:
    inputs = [Path("unit-3.11.shard-2-of-3.xml"), Path("unit-3.12.xml")]

    assert _expected_reports("unit-3.11", inputs) == [
        "unit-3.11.shard-1-of-3",
        "unit-3.11.shard-2-of-3",
        "unit-3.11.shard-3-of-3",
    ]
    assert _expected_reports("unit-3.12", inputs) == ["unit-3.12"]
    assert _expected_reports("unit-3.1", inputs) == ["unit-3.1"]


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("unit-3.11", 0),
        ("unit-3.11.shard-2-of-4", 4),
        ("unit-3.1", None),
        ("unit-3.11.shard-x-of-4", None),
        ("other-3.11", None),
    ],
)
def test_report_stems_say_how_they_split_a_session(stem: str, expected: int | None) -> None:
    assert split_of(stem, "unit-3.11") == expected
