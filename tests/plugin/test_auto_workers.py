"""``-n auto`` in a suite whose workers are ``"auto"``: decided after collection by the plugin."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from suitekit.sharding import DURATIONS_FILE, Calibration, DurationStore, case_key
from suitekit.sharding._calibrate import _run, _write_project, fingerprint

PYPROJECT = """
[tool.suitekit]
tests = ["tests"]

[tool.suitekit.suites.unit]
paths = ["tests"]
workers = "auto"
"""

MACHINE = Calibration(
    serial_per_test=0.0005,
    xdist_per_test=0.0008,
    xdist_startup=0.6,
    startup_per_worker=0.15,
    cpus=2,
)


@pytest.fixture
def auto(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project whose suite's workers are auto, on a 2-CPU budget with a cached calibration."""
    pytester.makepyprojecttoml(PYPROJECT)
    cache = Path(pytester.path, "calibration.json")
    cache.write_text(json.dumps({fingerprint(): MACHINE.to_json()}), encoding="utf-8")
    monkeypatch.setenv("SUITEKIT_CALIBRATION", str(cache))
    monkeypatch.setenv("SUITEKIT_CPUS", "2")
    monkeypatch.delenv("SUITEKIT_WORKERS", raising=False)
    return pytester


def test_many_quick_tests_stay_in_one_process(
    auto: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "import pytest\n\n@pytest.mark.parametrize('n', range(3000))\ndef test_q(n):\n    pass\n"
    auto.makepyfile(**{"tests/test_quick": body})
    # Under this repo's own coverage (patch = subprocess) the run below would be traced, and
    # its tests would take milliseconds each: no longer the trivial tests this is about.
    monkeypatch.delenv("COVERAGE_PROCESS_CONFIG", raising=False)

    result = auto.runpytest_subprocess("--suitekit-suite=unit", "-n", "auto")

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3000)
    result.stdout.fnmatch_lines(
        [
            "suitekit: suite 'unit': paths tests; workers decided after collection (auto, 2 CPUs)",
            "suitekit: workers auto: -n 0 (from the first * tests of this run *",
        ]
    )
    assert "created: 2/2 workers" not in result.stdout.str()


def test_slow_tests_are_handed_to_workers_and_none_runs_twice(auto: pytest.Pytester) -> None:
    body = "import time\n\n" + "".join(
        f"def test_{n:02}():\n    time.sleep(0.25)\n\n" for n in range(40)
    )
    auto.makepyfile(**{"tests/test_slow": body})

    result = auto.runpytest_subprocess(
        "--suitekit-suite=unit", "-n", "auto", "-v", "--junitxml=out.xml"
    )

    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=40)
    result.stdout.fnmatch_lines(
        [
            "suitekit: workers auto: -n 2 (from the first * tests of this run *",
            "created: 2/2 workers",
        ]
    )
    passed = [line.split()[-1] for line in result.outlines if "PASSED" in line]
    ran = sorted(line.split("::")[-1].split()[0] for line in result.outlines if "PASSED" in line)
    assert len(passed) == 40
    assert ran == [f"test_{n:02}" for n in range(40)]  # each once: here or on a worker
    assert (auto.path / "out.xml").read_text(encoding="utf-8").count("<testcase") == 40


# The controller's count of the processes running beside it: given, so that the decision is the
# same on any machine and under any load (twice the CPUs: x2 or more for two workers).
RUNNING_NOW = """
import os

import suitekit.sharding

suitekit.sharding.running_others = lambda: {others}
"""


@pytest.mark.parametrize(
    ("others", "workers"),
    [pytest.param("0.0", 2, id="idle"), pytest.param("2.0 * os.cpu_count()", 0, id="busy")],
)
def test_recorded_durations_are_weighed_beside_the_processes_running_now(
    auto: pytest.Pytester, others: str, workers: int
) -> None:
    # 12 tests recorded at 0.25 s: -n 2 is predicted 2.1 s on the idle costs, plus the workers'
    # own collection, against 3.0 s serially; beside twice as many processes as CPUs, 3.3 s or
    # more on its slower costs alone (4.5 s or more with its start-up unsure too). So this is
    # about the count being read, whatever the collection took.
    auto.makepyfile(
        **{"tests/test_twelve": "".join(f"def test_{n}():\n    pass\n\n" for n in range(12))}
    )
    store = DurationStore().record(
        {"unit": {case_key(f"tests/test_twelve.py::test_{n}"): 0.25 for n in range(12)}},
        workers=1,
        cpus=2,
        measured_at=time.time(),
    )
    store.save(auto.path / DURATIONS_FILE)
    auto.makeconftest(RUNNING_NOW.format(others=others))

    result = auto.runpytest_subprocess("--suitekit-suite=unit", "-n", "auto")

    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=12)
    decision = f"suitekit: workers auto: -n {workers} (from durations of 12 tests: predicted *"
    result.stdout.fnmatch_lines([decision])
    busy = "xdist's costs counted beside * running processes (x* for -n 2; its start-up unsure))"
    if workers:
        result.stdout.no_fnmatch_line(f"*{busy}")
    else:
        result.stdout.fnmatch_lines([f"*; {busy}"])


def test_a_declared_worker_count_leaves_xdists_auto_alone(auto: pytest.Pytester) -> None:
    auto.makepyprojecttoml(PYPROJECT.replace('workers = "auto"', "workers = 2"))
    auto.makepyfile(**{"tests/test_one": "def test_one():\n    pass\n"})

    result = auto.runpytest_subprocess("--suitekit-suite=unit", "-n", "auto")

    assert result.ret == pytest.ExitCode.OK
    assert "workers decided after collection" not in result.stdout.str()


def test_the_calibration_times_a_real_xdist_run_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The calibration's own tests and conftest, run with 2 workers as measure() runs them
    # (untraced, as users run it): its conftest reports the session's start, each result, and
    # the end, which comes after xdist has stopped its workers.
    monkeypatch.delenv("COVERAGE_PROCESS_CONFIG", raising=False)
    _write_project(tmp_path)

    timed = _run(tmp_path, 2)

    assert timed.first > 0
    assert timed.per_test > 0
    assert timed.last_to_end > 0
