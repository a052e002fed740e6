"""``--shard K/N``: each shard runs its part of a suite; the parts partition the suite.

Every run happens in this process; with xdist, its workers are subprocesses (tests.plugin.helpers).
"""

from __future__ import annotations

import textwrap
import time

import pytest

from suitekit.sharding import DURATIONS_FILE, DurationStore, case_key, choose_order
from tests.plugin.helpers import run

PYPROJECT = """
[tool.suitekit]
tests = ["tests"]

[tool.suitekit.suites.unit]
paths = ["tests"]
dist = "{dist}"
"""

MODULES = 4
TESTS = 6


@pytest.fixture
def sharded(pytester: pytest.Pytester) -> pytest.Pytester:
    """A suite of 4 modules with 2 classes of 3 tests each; durations vary by module."""
    pytester.makepyprojecttoml(PYPROJECT.format(dist="load"))
    for module in range(MODULES):
        pytester.makepyfile(
            **{
                f"tests/test_m{module}": textwrap.dedent(
                    """
                    class TestA:
                        def test_1(self): pass
                        def test_2(self): pass
                        def test_3(self): pass

                    class TestB:
                        def test_1(self): pass
                        def test_2(self): pass
                        def test_3(self): pass
                    """
                )
            }
        )
    return pytester


def _record(pytester: pytest.Pytester, seconds: dict[str, float]) -> None:
    store = DurationStore().record(
        {"unit": {case_key(node): value for node, value in seconds.items()}},
        workers=1,
        cpus=2,
        measured_at=time.time(),
    )
    store.save(pytester.path / DURATIONS_FILE)


def _all_ids() -> list[str]:
    return [
        f"tests/test_m{module}.py::{cls}::test_{n}"
        for module in range(MODULES)
        for cls in ("TestA", "TestB")
        for n in (1, 2, 3)
    ]


def _ran(result: pytest.RunResult) -> set[str]:
    """The node ids that passed, from the short summary ``-rA`` prints."""
    return {line.split()[1] for line in result.outlines if line.startswith("PASSED ")}


def _varied(sharded: pytest.Pytester) -> None:
    """Record durations that vary from test to test."""
    _record(sharded, {node: 0.1 * (1 + position % 5) for position, node in enumerate(_all_ids())})


def _shard(sharded: pytest.Pytester, workers: str, index: int) -> set[str]:
    """What shard ``index`` of 3 runs, after checking the lines that describe it."""
    result = run(sharded, workers, "--suitekit-suite=unit", f"--shard={index}/3", "-rA")
    assert result.ret == pytest.ExitCode.OK
    ran = _ran(result)
    assert ran, result.stdout.str()
    result.stdout.fnmatch_lines([f"suitekit: suite 'unit': paths tests; shard {index}/3 *"])
    result.stdout.fnmatch_lines([f"suitekit: shard {index}/3: *predicted *"])
    return ran


def test_the_shards_partition_the_suite(sharded: pytest.Pytester) -> None:
    _varied(sharded)

    seen = [node for index in (1, 2, 3) for node in _shard(sharded, "0", index)]

    assert sorted(seen) == sorted(_all_ids())


def test_with_xdist_a_shard_runs_what_it_runs_serially(sharded: pytest.Pytester) -> None:
    # The workers select the shard, each from its own collection; the controller, which collects
    # nothing, states its size. A shard is a function of the node ids and the durations only, so
    # one shard run both ways stands for the partition above (each xdist run costs two workers).
    _varied(sharded)

    assert _shard(sharded, "2", 2) == _shard(sharded, "0", 2)


def test_loadscope_keeps_a_class_in_one_shard(sharded: pytest.Pytester) -> None:
    (sharded.path / "pyproject.toml").write_text(PYPROJECT.format(dist="loadscope"))

    owners: dict[str, set[int]] = {}
    for index in (1, 2, 3):
        result = run(sharded, "0", "--suitekit-suite=unit", f"--shard={index}/3", "-rA")
        for node in _ran(result):
            owners.setdefault(node.rsplit("::", 1)[0], set()).add(index)

    assert len(owners) == MODULES * 2
    assert all(len(shards) == 1 for shards in owners.values())


def test_the_environment_variable_selects_a_shard(
    sharded: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUITEKIT_SHARD", "2/2")

    result = sharded.runpytest("--suitekit-suite=unit", "-rA")

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=12, deselected=12)
    result.stdout.fnmatch_lines(["suitekit: shard 2/2: 12 of 24 tests in 12 units, predicted *"])


def test_more_shards_than_tests_leaves_an_empty_shard_that_passes(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml(PYPROJECT.format(dist="load"))
    pytester.makepyfile(**{"tests/test_one": "def test_only(): pass"})

    empty = pytester.runpytest("--suitekit-suite=unit", "--shard=2/2")
    full = pytester.runpytest("--suitekit-suite=unit", "--shard=1/2")

    assert empty.ret == pytest.ExitCode.OK
    empty.assert_outcomes(deselected=1)
    assert full.ret == pytest.ExitCode.OK
    full.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--suitekit-suite=unit", "--shard=5/4"], "*--shard: '5/4' is not a shard*"),
        (["--shard=1/2"], "*--shard 1/2 needs --suitekit-suite*"),
        (["--suitekit-plan-shards=2"], "*--suitekit-plan-shards needs --suitekit-suite*"),
    ],
)
def test_bad_shard_options_are_usage_errors(
    sharded: pytest.Pytester, args: list[str], message: str
) -> None:
    result = sharded.runpytest(*args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_the_plan_shows_every_shard_and_runs_nothing(sharded: pytest.Pytester) -> None:
    _record(sharded, dict.fromkeys(_all_ids(), 0.5))

    result = sharded.runpytest("--suitekit-suite=unit", "--suitekit-plan-shards=4")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*suitekit shards*",
            "suite 'unit': 24 tests in 4 shards (longest first; 24 known durations)",
            "  shard   tests   units  predicted s",
            "    1/4       6       6         3.00",
            "    2/4       6       6         3.00",
            "    3/4       6       6         3.00",
            "    4/4       6       6         3.00",
            "max 3.00 s, mean 3.00 s, max/mean 1.000",
        ]
    )
    result.assert_outcomes(deselected=24)


# No --dist is xdist's "load" (it sets that mode itself whenever -n is given). The slow tests are
# collected last, in numbers for which the prediction moves them (xdist's own order handles two
# slow tests of this suite well enough: then it stays, see tests/unit/test_sharding.py).
@pytest.mark.parametrize(("dist", "slow"), [(None, [3.0, 2.0, 2.0]), ("worksteal", [3.0, 3.0])])
def test_xdist_workers_run_the_order_the_prediction_chose(
    sharded: pytest.Pytester, dist: str | None, slow: list[float]
) -> None:
    ids = _all_ids()
    seconds = dict.fromkeys(ids, 0.01) | dict(zip(reversed(ids), slow, strict=False))
    _record(sharded, seconds)
    mode = ["--dist", dist] if dist else []
    ordering = choose_order(ids, seconds, dist="worksteal" if dist else "load", workers=2)

    result = run(sharded, "2", "--suitekit-suite=unit", *mode, "-v")

    # Whatever the distribution mode (xdist tells its workers "no"), they order alike.
    assert result.ret == pytest.ExitCode.OK
    assert ordering.moved > 0
    result.stdout.fnmatch_lines([f"suitekit: xdist order: {ordering.describe()}"])
    ran: dict[str, list[str]] = {}  # each worker's tests, in the order it ran them
    for line in result.outlines:
        if line.startswith("[gw") and "PASSED" in line:
            ran.setdefault(line.split("]", 1)[0], []).append(line.split()[-1])
    assert sorted(node for tests in ran.values() for node in tests) == sorted(ids)
    # Each worker starts with the first test of the block xdist first sends it: 3 tests each
    # for load (24 // 2 // 4), 12 for worksteal (24 // 2).
    second = 12 if dist else 3
    firsts = {tests[0] for tests in ran.values()}
    assert firsts == {ordering.node_ids[0], ordering.node_ids[second]}, result.stdout.str()
    assert seconds[ordering.node_ids[0]] == max(slow)
    if not dist:  # load: what a worker gets, it runs in the order given (worksteal steals)
        for tests in ran.values():
            assert tests == [node for node in ordering.node_ids if node in tests]
