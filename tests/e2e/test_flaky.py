"""``inv test.flaky`` / ``suitekit flaky`` through real nox sessions, pytest-xdist and replays."""

from __future__ import annotations

import random
import re
from pathlib import Path

from tests.e2e.helpers import PYPROJECT, Project

COIN = "tests/unit/test_coin.py::test_coin"
POLLUTER = "tests/unit/test_order.py::test_polluter"
VICTIM = "tests/unit/test_order.py::test_victim"
STABLE = tuple(f"tests/unit/test_stable.py::test_{name}" for name in ("add", "join", "sort"))
COLLECTED = (COIN, POLLUTER, VICTIM, *STABLE)  # pytest's order: by file, then by definition

SUITES = """\
[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = 2

[tool.suitekit.suites.stable]
paths = ["tests/stable"]
workers = 2
"""


def flaky_project(root: Path) -> Project:
    project = Project(root)
    project.write("pyproject.toml", PYPROJECT.format(extra=SUITES))
    project.write("src/demo/__init__.py", 'SETTINGS = {"currency": "GBP"}\n')
    project.write(
        "tests/unit/test_order.py",
        """\
        import demo


        def test_polluter():
            # Changes module state and leaves it changed: whatever runs after it in this
            # process sees euros.
            demo.SETTINGS["currency"] = "EUR"


        def test_victim():
            assert demo.SETTINGS["currency"] == "GBP"
        """,
    )
    project.write(
        "tests/unit/test_coin.py",
        """\
        import pathlib

        TOSSES = pathlib.Path(__file__).resolve().parents[2] / ".coin-tosses"


        def test_coin():
            # A seeded, reproducible stand-in for a random failure: the toss counter lives in a
            # file, and every other toss fails (tosses 2 and 4 of five runs). Two tosses in a
            # row never both fail, so no replay can mistake it for order dependence.
            toss = int(TOSSES.read_text()) + 1 if TOSSES.exists() else 1
            TOSSES.write_text(str(toss))
            assert toss % 2 == 1, f"unlucky toss {toss}"
        """,
    )
    project.write(
        "tests/unit/test_stable.py",
        """\
        def test_add():
            assert 1 + 1 == 2


        def test_join():
            assert "-".join("ab") == "a-b"


        def test_sort():
            assert sorted([3, 1, 2]) == [1, 2, 3]
        """,
    )
    project.write(
        "tests/stable/test_fine.py",
        """\
        import pytest


        @pytest.mark.parametrize("n", range(4))
        def test_square(n):
            assert n * n >= n
        """,
    )
    project.write("noxfile.py", "import suitekit.nox\n\nsuitekit.nox.register()\n")
    project.write("tasks.py", "from suitekit.invoke import ns as ns\n")
    return project


def polluter_first(seed: int) -> bool:
    """Whether a serial run with this order seed runs the polluter before the victim."""
    order = list(COLLECTED)
    random.Random(seed).shuffle(order)  # noqa: S311 - what --suitekit-order-seed does
    return order.index(POLLUTER) < order.index(VICTIM)


def test_flaky_finds_the_coin_and_the_victim_and_shrinks_the_victim_to_its_polluter(
    demo_root: Path,
) -> None:
    project = flaky_project(demo_root)
    # Runs 1 and 4 are serial (-n 0): the victim fails in the first and passes in the other,
    # whatever the parallel runs in between do.
    seed = next(s for s in range(1000) if polluter_first(s) and not polluter_first(s + 3))

    result = project.run("inv", "test.flaky", "unit", "--runs", "5", "--seed", str(seed))
    out = result.stdout
    assert result.returncode == 1, out + result.stderr

    assert f"suitekit flaky: suite 'unit' (unit-3.11), 5 runs: 2 of {len(COLLECTED)} tests" in out
    rows = re.findall(
        r"^(tests/\S+)\s+((?:(?:passed|FAILED|ERROR|FLAKY|skipped|-)\s*){5})$", out, re.MULTILINE
    )
    assert {row[0] for row in rows} == {COIN, VICTIM}, out
    coin_row = dict(rows)[COIN].split()
    assert coin_row == ["passed", "FAILED", "passed", "FAILED", "passed"], out
    victim_row = dict(rows)[VICTIM].split()
    assert victim_row[0] == "FAILED", out
    assert victim_row[3] == "passed", out
    for number, workers in enumerate((0, 2, 3, 0, 2), start=1):
        assert f"  run {number}: -n {workers}, seed {seed + number - 1}: " in out, out

    # The victim: order-dependent, after exactly the polluter.
    assert re.search(
        rf"^  {re.escape(VICTIM)}: order-dependent \(run \d's order, \d+ replays\): fails after\n"
        rf"      {re.escape(POLLUTER)}\n    it passes alone",
        out,
        re.MULTILINE,
    ), out
    order_file = (
        project.root / ".suitekit/reports/flaky/unit/tests_unit_test_order_py_test_victim.order"
    )
    lines = order_file.read_text().splitlines()
    assert [line for line in lines if not line.startswith("#")] == [POLLUTER, VICTIM]
    # The coin: its failure does not come back by order.
    assert f"  {COIN}: fails randomly (not reproduced by order)" in out, out
    assert f"  {COIN}: AssertionError: unlucky toss 2" in out, out
    assert out.rstrip().endswith("suitekit flaky: 2 flaky test(s) in suite 'unit'"), out
    # The reproduction command of a run, and the replay of the minimal order, as printed.
    assert (
        f"    run 2: PYTHONHASHSEED={seed + 1} nox -s unit-3.11 -- -n 2 --dist load "
        f"--suitekit-order-seed={seed + 1} --suitekit-retries=0"
    ) in out, out
    replay = re.search(r"^    replay: nox (.*)$", out, re.MULTILINE)
    assert replay is not None, out
    replayed = project.run("nox", *replay.group(1).split())
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    assert "1 failed, 1 passed" in replayed.stdout + replayed.stderr

    # A stable suite: the same outcomes in every run, serial and parallel (the fewest runs
    # allowed are one of each: -n 0, then -n 2).
    stable = project.run("suitekit", "flaky", "stable", "--runs", "2")
    assert stable.returncode == 0, stable.stdout + stable.stderr
    assert "suitekit flaky: suite 'stable' (stable-3.11), 2 runs: no flaky test among 4" in (
        stable.stdout
    )
    for number, workers in enumerate((0, 2), start=1):
        assert f"  run {number}: -n {workers}, seed " in stable.stdout, stable.stdout
    assert stable.stdout.rstrip().endswith(
        "suitekit flaky: suite 'stable' gave the same outcomes in all runs"
    )


def test_flaky_refuses_an_unknown_suite_with_exit_code_2(tmp_path: Path) -> None:
    project = flaky_project(tmp_path / "demo")  # refused before any session: nothing to warm

    result = project.run("inv", "test.flaky", "nope")

    assert result.returncode == 2
    assert "there is no suite called 'nope'" in result.stderr
