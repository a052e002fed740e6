"""``workers = "auto"``: the cost model, the decision from a run's first tests, calibration."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from suitekit.sharding import Calibration
from suitekit.sharding._calibrate import (
    MEASURING,
    _calibration,
    _Timed,
    cached,
    fingerprint,
    obtain,
    running_others,
)
from suitekit.sharding._workers import (
    DEFAULT_CALIBRATION,
    SAMPLE_SECONDS,
    Sample,
    choose_workers,
    choose_workers_now,
    contention,
    decide_from_sample,
    next_look,
    predict,
)

# Measured on a 2-CPU machine (idle): pytest 0.45 ms a test, xdist 0.74 ms, workers 0.57 s.
MACHINE = Calibration(
    serial_per_test=0.00045,
    xdist_per_test=0.00074,
    xdist_startup=0.57,
    startup_per_worker=0.14,
    cpus=2,
)


def sample(
    *, ran: int, remaining: int, body: float, overhead: float = 0.00045, load: float = 0.0
) -> Sample:
    return Sample(
        ran=ran,
        remaining=remaining,
        elapsed=ran * (body + overhead),
        body_seconds=ran * body,
        collect_seconds=(ran + remaining) * 0.0002,
        load=load,
    )


def test_xdists_per_test_cost_adds_to_the_schedule_of_the_bodies() -> None:
    units = [[0.0003]] * 62_000  # sub-millisecond tests: the controller's cost dominates

    serial, two = predict(units, 0, MACHINE), predict(units, 2, MACHINE)

    assert serial == pytest.approx(62_000 * (0.0003 + 0.00045))
    assert two == pytest.approx(0.57 + 62_000 * 0.00074 + 62_000 * 0.0003 / 2)
    assert choose_workers(units, cpus=2, calibration=MACHINE).workers == 0


def test_slow_tests_get_every_cpu() -> None:
    assert choose_workers([[0.15]] * 60, cpus=2, calibration=MACHINE).workers == 2


def test_the_workers_second_collection_counts_against_every_count_of_workers() -> None:
    # bench_workers' fast-1k: 1,000 tests of about 1 ms in 20 modules, collected in 0.12 s.
    # Without the workers' own collection -n 2 looked as fast as serial, and ran slower.
    # The machine's costs as measured there, the workers' stop left out: -n 2 looked faster.
    quick = replace(MACHINE, serial_per_test=0.00034, xdist_per_test=0.00047, xdist_startup=0.28)
    units = [[0.00096] * 50] * 20
    without = choose_workers(units, cpus=2, calibration=quick)
    counted = choose_workers(units, cpus=2, calibration=quick, collect=0.12)

    assert without.workers == 2
    assert dict(counted.predicted)[2] == pytest.approx(dict(without.predicted)[2] + 0.12)
    assert dict(counted.predicted)[0] == dict(without.predicted)[0]  # serial collected already
    assert counted.workers == 0
    # Collected beside 2 others on 2 CPUs, this process had 2/3 of a CPU; each of 2 workers
    # will have 1/2: their collection takes 4/3 of this one's, not twice it.
    busy = choose_workers(units, cpus=2, calibration=quick, others=2, collect=0.12)
    beside = choose_workers(units, cpus=2, calibration=quick, others=2)
    assert dict(busy.predicted)[2] == pytest.approx(dict(beside.predicted)[2] + 0.12 * 4 / 3)


# A machine whose workers start quickly (0.3 s for two), as an idle 2-CPU one measured.
QUICK_START = replace(MACHINE, xdist_startup=0.3, startup_per_worker=0.08)


def test_workers_beside_running_processes_are_counted_as_slow_as_they_start() -> None:
    # A parallel run's session of 4 tests of 0.25 s decided while two other sessions ran on the
    # 2 CPUs: on the idle machine's costs -n 2 looked 0.2 s faster, and ran 0.5 s slower.
    units = [[0.25]] * 4

    idle = choose_workers(units, cpus=2, calibration=QUICK_START)
    busy = choose_workers(units, cpus=2, calibration=QUICK_START, others=2)

    assert (idle.workers, idle.busy) == (2, "")
    assert dict(idle.predicted)[2] == pytest.approx(0.3 + 4 * 0.00074 + 0.5)
    assert busy.workers == 0
    # Twice as slow, and its start-up unsure as well: counted 2 * 2 - 1 times.
    assert dict(busy.predicted)[2] == pytest.approx((0.3 + 4 * 0.00074) * 2 + 0.5 + 0.3 * 1)
    assert dict(busy.predicted)[0] == dict(idle.predicted)[0]  # recorded times stand
    assert busy.reason().endswith(
        "; xdist's costs counted beside 2 running processes (x2.0 for -n 2; its start-up unsure)"
    )
    one = choose_workers(units, cpus=2, calibration=QUICK_START, others=1)
    # 0.95 s against 1.0 s serially on slower costs alone: a near tie; 1.1 s once the
    # start-up is unsure too (as measured: two workers took 2 s to start beside one process).
    assert one.workers == 0
    assert dict(one.predicted)[2] == pytest.approx((0.3 + 4 * 0.00074) * 1.5 + 0.5 + 0.3 * 0.5)
    assert one.busy == (
        "xdist's costs counted beside 1 running process (x1.5 for -n 2; its start-up unsure)"
    )


def test_processes_running_on_cpus_to_spare_change_nothing() -> None:
    units = [[0.25]] * 4

    spare = choose_workers(units, cpus=2, calibration=QUICK_START, others=3, machine_cpus=16)

    assert spare == choose_workers(units, cpus=2, calibration=QUICK_START)
    assert choose_workers([[0.15]] * 60, cpus=2, calibration=MACHINE, others=2).workers == 2


def test_the_running_processes_are_read_only_when_the_idle_costs_would_start_workers() -> None:
    def never() -> float:
        raise AssertionError

    quick = [[0.0001]] * 10  # serial on the idle costs: nothing more to read
    assert choose_workers_now(
        quick, cpus=2, calibration=QUICK_START, running=never, machine_cpus=2
    ) == choose_workers(quick, cpus=2, calibration=QUICK_START)
    slow = [[0.25]] * 4  # -n 2 on the idle costs; beside 2 others, serial
    now = choose_workers_now(
        slow, cpus=2, calibration=QUICK_START, running=lambda: 2.0, machine_cpus=2
    )
    assert now == choose_workers(slow, cpus=2, calibration=QUICK_START, others=2)
    assert now.workers == 0
    alone = choose_workers_now(
        slow, cpus=2, calibration=QUICK_START, running=lambda: 0.0, machine_cpus=2
    )
    assert alone == choose_workers(slow, cpus=2, calibration=QUICK_START)


# A 16-CPU machine's costs: 0.6 s for two workers, 0.15 s for each further one.
BIG = replace(MACHINE, xdist_startup=0.6, startup_per_worker=0.15, cpus=16)


def test_on_a_big_machine_only_the_counts_the_others_crowd_are_dearer() -> None:
    units = [[0.25]] * 8  # 2 s of tests
    idle = choose_workers(units, cpus=16, calibration=BIG)

    # 14 others leave two workers a CPU each: from -n 3 on each gets less.
    crowded = choose_workers(units, cpus=16, calibration=BIG, others=14)

    assert dict(crowded.predicted)[2] == dict(idle.predicted)[2]
    assert dict(crowded.predicted)[3] > dict(idle.predicted)[3]
    assert crowded.busy == (
        "xdist's costs counted beside 14 running processes (x1.1 for -n 3 to x1.9 for -n 16; "
        "its start-up unsure)"
    )
    # The margin grows with the slowdown, from nothing: one more process moves little.
    crowder = choose_workers(units, cpus=16, calibration=BIG, others=15)
    assert crowder.workers >= 2
    assert dict(crowder.predicted)[2] - dict(crowded.predicted)[2] < 0.15


@pytest.mark.parametrize(
    ("others", "workers", "cpus", "slower"),
    [
        (0, 2, 2, 1.0),  # idle: as calibrated
        (1, 2, 2, 1.5),  # three processes on two CPUs
        (2, 2, 2, 2.0),
        (3, 2, 16, 1.0),  # CPUs to spare
        (14, 4, 16, 18 / 16),
        (2, 4, 2, 1.5),  # four workers on two CPUs share them already when alone
        (-1, 2, 2, 1.0),  # a count below zero is none
    ],
)
def test_contention_is_the_share_of_a_cpu_each_worker_loses(
    others: float, workers: int, cpus: int, slower: float
) -> None:
    assert contention(others, workers, cpus) == pytest.approx(slower)


def test_the_processes_running_now_are_linuxs_runnable_count_less_this_one() -> None:
    assert running_others(lambda: "1.62 1.52 1.65 3/184 14798\n", pause=0) == 2.0
    assert running_others(lambda: "0.00 0.01 0.05 1/120 999\n", pause=0) == 0.0


def test_the_runnable_count_is_the_median_of_its_readings() -> None:
    # One passing process (7 runnable for one reading) moves nothing.
    readings = iter(["3/184", "3/184", "7/190", "2/184", "3/184"])

    assert running_others(lambda: f"1.0 1.0 1.0 {next(readings)} 1\n", pause=0) == 2.0
    assert next(readings, None) is None  # all five read


def test_without_proc_the_load_average_counts_the_others() -> None:
    def missing() -> str:
        raise FileNotFoundError("/proc/loadavg")

    assert running_others(missing, average=lambda: 1.6, pause=0) == 1.6
    assert running_others(lambda: "garbled\n", average=lambda: 0.2, pause=0) == 0.2


def test_a_budget_below_two_cpus_chooses_no_xdist_and_says_nothing_of_load() -> None:
    for cpus in (0, 1):
        choice = choose_workers([[0.25]] * 4, cpus=cpus, calibration=QUICK_START, others=5)
        assert (choice.workers, choice.busy) == (0, "")


@pytest.mark.parametrize(
    ("ran", "remaining", "body", "workers"),
    [
        (1100, 19_000, 0.0, 0),  # 20,000 trivial tests: serial
        (600, 400, 0.0003, 0),  # 1,000 fast tests: serial
        (4, 56, 0.15, 2),  # 60 slow tests: workers for the other 56
        (3, 1, 0.15, 0),  # slow, but one test left: nothing to share
    ],
)
def test_a_run_without_durations_decides_from_its_first_tests(
    ran: int, remaining: int, body: float, workers: int
) -> None:
    choice = decide_from_sample(
        sample(ran=ran, remaining=remaining, body=body), cpus=2, calibration=MACHINE
    )

    assert choice.workers == workers
    assert choice.reason().startswith(f"from the first {ran} tests of this run")


def test_a_busy_machine_slows_xdist_as_much_as_the_serial_run() -> None:
    # 204 trivial tests at 1.16 ms each under a load average of 4.4 (measured): unscaled,
    # xdist's idle costs made -n 2 look faster for the other 2,795 tests.
    busy = sample(ran=204, remaining=2795, body=0.0, overhead=0.00116, load=4.4)

    choice = decide_from_sample(busy, cpus=2, calibration=MACHINE)

    assert choice.workers == 0
    serial, two = dict(choice.predicted)[0], dict(choice.predicted)[2]
    assert two == pytest.approx((0.57 + 2795 * 0.00074) * 0.00116 / 0.00045 + busy.collect_seconds)
    assert serial < two


def test_a_slow_first_sample_on_an_idle_machine_scales_nothing() -> None:
    # The first tests pay for imports and fixtures: their per-test cost is no sign of load.
    idle = sample(ran=4, remaining=56, body=0.15, overhead=0.01, load=0.2)

    assert decide_from_sample(idle, cpus=2, calibration=MACHINE).workers == 2


def test_promoting_pays_for_the_workers_own_collection() -> None:
    slow_collection = Sample(
        ran=10, remaining=200, elapsed=0.6, body_seconds=0.5, collect_seconds=60.0
    )

    choice = decide_from_sample(slow_collection, cpus=2, calibration=MACHINE)

    assert choice.workers == 0


def test_the_run_looks_again_each_time_its_elapsed_time_doubles() -> None:
    assert next_look(0.0) == SAMPLE_SECONDS
    assert next_look(SAMPLE_SECONDS) == 2 * SAMPLE_SECONDS
    assert next_look(3.0) == 4.0


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("xdist_startup", 40.0, "xdist_startup = 40 is outside"),
        ("serial_per_test", 0.0, "serial_per_test = 0 is outside"),
        ("xdist_per_test", 0.0001, "below half of serial_per_test"),
    ],
)
def test_implausible_calibrations_are_named(field: str, value: float, problem: str) -> None:
    assert MACHINE.problem() is None
    assert DEFAULT_CALIBRATION.problem() is None
    changed: dict[str, float] = {field: value}
    assert problem in (replace(MACHINE, **changed).problem() or "")  # type: ignore[arg-type]


def test_xdists_fixed_cost_is_its_start_and_its_stop_beyond_a_serial_runs() -> None:
    serial = _Timed(first=0.10, per_test=0.00034, last_to_end=0.09)
    xdist = _Timed(first=0.38, per_test=0.00047, last_to_end=0.31)

    measured = _calibration(serial, xdist, cpus=2)

    # 0.28 s more to the first result, 0.22 s more from the last result to the end.
    assert measured.xdist_startup == pytest.approx(0.50)
    # A further worker starts (a quarter of the two's start); all stop together, once.
    assert measured.startup_per_worker == pytest.approx(0.07)
    assert (measured.serial_per_test, measured.xdist_per_test) == (0.00034, 0.00047)
    # A serial run that somehow took longer outside its tests is no negative cost.
    assert _calibration(xdist, serial, cpus=2).xdist_startup == 0.0


def test_a_calibration_measured_the_old_way_is_measured_again(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    environ = {"SUITEKIT_CALIBRATION": str(path)}
    old = fingerprint().replace(" measured=2", "")
    path.write_text(json.dumps({old: DEFAULT_CALIBRATION.to_json()}), encoding="utf-8")
    said: list[str] = []

    assert old != fingerprint()
    found = obtain(environ, say=said.append, measurer=lambda: (MACHINE, 0.0), load=lambda: 0.0)

    assert found == MACHINE
    assert said == [MEASURING]
    # Kept beside the old entry (another suitekit may still read it), and read from now on.
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored == {old: DEFAULT_CALIBRATION.to_json(), fingerprint(): MACHINE.to_json()}


def test_a_busy_machine_is_not_measured(tmp_path: Path) -> None:
    environ = {"SUITEKIT_CALIBRATION": str(tmp_path / "calibration.json")}
    said: list[str] = []

    def never() -> tuple[Calibration, float]:
        raise AssertionError

    found = obtain(environ, say=said.append, measurer=never, load=lambda: 99.0)

    assert found is None
    assert "not measuring xdist's costs now (load average 99.0" in said[0]
    assert not (tmp_path / "calibration.json").exists()


def test_a_measurement_under_foreign_load_is_discarded(tmp_path: Path) -> None:
    environ = {"SUITEKIT_CALIBRATION": str(tmp_path / "calibration.json")}
    said: list[str] = []

    found = obtain(environ, say=said.append, measurer=lambda: (MACHINE, 50.0), load=lambda: 0.0)

    assert found is None
    assert said[0] == MEASURING
    assert "measurement discarded (other processes used 50.0 CPUs meanwhile)" in said[1]
    assert cached(environ) is None


def test_a_good_measurement_is_cached_and_then_read_without_measuring(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    environ = {"SUITEKIT_CALIBRATION": str(path)}
    said: list[str] = []

    first = obtain(environ, say=said.append, measurer=lambda: (MACHINE, 0.0), load=lambda: 0.0)
    again = obtain(environ, say=said.append, measurer=lambda: (DEFAULT_CALIBRATION, 0.0))

    assert first == again == MACHINE
    assert said == [MEASURING]
    assert json.loads(path.read_text(encoding="utf-8")) == {fingerprint(): MACHINE.to_json()}
