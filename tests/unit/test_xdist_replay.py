"""suitekit's replay of xdist's schedulers against xdist's own, run on fake workers.

xdist's ``LoadScheduling`` and ``WorkStealingScheduling`` classes run here unchanged; typed
fakes stand for the workers and their clock, as ``DSession`` and ``xdist.remote`` would drive
them (a worker starts a test once it holds the next one or was told to shut down; steals are
answered at once). Both must predict the same makespan for every suite.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence
from typing import Any, Final, Literal

import pytest
from xdist.scheduler import LoadScheduling, WorkStealingScheduling  # type: ignore[import-untyped]

from suitekit.sharding._simulate import PER_TEST_SECONDS, load_makespan, worksteal_makespan

Mode = Literal["load", "worksteal"]


class FakeGateway:
    """What xdist's schedulers read of a gateway: its id."""

    def __init__(self, name: str) -> None:
        """Name it as xdist does (``gw0``)."""
        self.id = name


class FakeWorker:
    """A worker as the schedulers see it: the tests it holds, running the first."""

    def __init__(self, name: str) -> None:
        """A worker that holds nothing yet."""
        self.gateway = FakeGateway(name)
        self.shutting_down = False
        self.held: list[int] = []
        self.running = False
        self.removed = False
        self.steals: list[list[int]] = []

    def send_runtest_some(self, indices: Sequence[int]) -> None:
        """Queue tests."""
        self.held.extend(indices)

    def shutdown(self) -> None:
        """No more tests will come: run what is held."""
        self.shutting_down = True

    def send_steal(self, indices: Sequence[int]) -> None:
        """A steal request, answered after the scheduler's call returns."""
        self.steals.append(list(indices))

    def answer_steal(self, indices: list[int]) -> list[int]:
        """Give up ``indices`` if the worker has not taken any of them yet (as xdist does)."""
        taken = 2 if self.running else 1  # the running test and the next one are taken
        if not set(indices) <= set(self.held[taken:]):
            return []
        self.held = [index for index in self.held if index not in indices]
        return indices


class FakeConfig:
    """What the schedulers read of pytest's config: the workers and ``--maxschedchunk``."""

    def __init__(self, workers: int, max_chunk: int | None) -> None:
        """Options as ``-n workers [--maxschedchunk max_chunk]`` give them."""
        self.workers = workers
        self.max_chunk = max_chunk

    def getvalue(self, name: str) -> list[str]:
        """``--tx``, as xdist derives it from ``-n``."""
        assert name == "tx"
        return [f"{self.workers}*popen"]

    def getoption(self, name: str) -> int | None:
        """``--maxschedchunk``."""
        assert name == "maxschedchunk"
        return self.max_chunk


class FakeSession:
    """What ``DSession`` does between a scheduler and its workers, on a clock of its own."""

    def __init__(self, seconds: Sequence[float], scheduler: Any, nodes: list[FakeWorker]) -> None:
        """Hand the collection to ``scheduler`` and let it send the first tests."""
        self.seconds = seconds
        self.scheduler = scheduler
        self.nodes = nodes
        self.events: list[tuple[float, int]] = []
        collection = [f"t.py::test_{index}" for index in range(len(seconds))]
        for node in nodes:
            scheduler.add_node(node)
        for node in nodes:
            scheduler.add_node_collection(node, collection)
        scheduler.schedule()

    def run(self) -> float:
        """Run every test; when the last worker finishes."""
        self.settle(0.0)
        end = 0.0
        while self.events:
            end, index = heapq.heappop(self.events)
            node = self.nodes[index]
            node.running = False
            done = node.held.pop(0)
            self.scheduler.mark_test_complete(node, done, self.seconds[done])
            self.settle(end)
        assert all(not node.held for node in self.nodes)
        return end

    def settle(self, now: float) -> None:
        """Answer steals, shut down when xdist would, start what can start, remove the done."""
        while any(node.steals for node in self.nodes):
            for node in self.nodes:
                while node.steals:
                    given = node.answer_steal(node.steals.pop(0))
                    self.scheduler.remove_pending_tests_from_node(node, given)
        if self.scheduler.tests_finished:  # what DSession does after every event
            for node in self.nodes:
                node.shutdown()
        for index, node in enumerate(self.nodes):
            if node.running or node.removed:
                continue
            if len(node.held) >= 2 or (node.held and node.shutting_down):
                node.running = True
                took = self.seconds[node.held[0]] + PER_TEST_SECONDS
                heapq.heappush(self.events, (now + took, index))
            elif not node.held and node.shutting_down:
                node.removed = True
                self.scheduler.remove_node(node)


def xdist_makespan(
    seconds: Sequence[float], *, mode: Mode, workers: int, max_chunk: int | None = None
) -> float:
    """Run xdist's own scheduler on fake workers; when the last one finishes."""
    config = FakeConfig(workers, max_chunk)
    scheduler = LoadScheduling(config) if mode == "load" else WorkStealingScheduling(config)
    nodes = [FakeWorker(f"gw{index}") for index in range(workers)]
    return FakeSession(seconds, scheduler, nodes).run()


def replay(
    seconds: Sequence[float], *, mode: Mode, workers: int, max_chunk: int | None = None
) -> float:
    """suitekit's prediction of the same run."""
    if mode == "load":
        return load_makespan(seconds, workers=workers, max_chunk=max_chunk)
    return worksteal_makespan(seconds, workers=workers)


SHAPES: Final = ("uniform", "lognormal", "one dominant", "slow tail")


def suite(shape: str, count: int, rng: random.Random) -> list[float]:
    """``count`` test durations of a given shape."""
    if shape == "uniform":
        return [rng.uniform(0.0, 0.3) for _ in range(count)]
    seconds = [rng.lognormvariate(-3.0, 1.0) for _ in range(count)]
    if shape == "one dominant":
        seconds[rng.randrange(count)] = sum(seconds) * 0.7
    elif shape == "slow tail":
        seconds[-max(1, count // 20) :] = [2.0] * max(1, count // 20)
    return seconds


@pytest.mark.parametrize("mode", ["load", "worksteal"])
@pytest.mark.parametrize("shape", SHAPES)
def test_the_replay_predicts_what_xdists_own_scheduler_does(mode: Mode, shape: str) -> None:
    rng = random.Random(f"{mode} {shape}")  # noqa: S311 - reproducible test data
    for _ in range(40):
        count = rng.choice([1, 2, 3, 5, 8, 13, 40, 120, 333])
        workers = rng.choice([2, 3, 4, 8])
        max_chunk = rng.choice([None, None, 1, 4]) if mode == "load" else None
        seconds = suite(shape, count, rng)

        expected = xdist_makespan(seconds, mode=mode, workers=workers, max_chunk=max_chunk)

        assert replay(seconds, mode=mode, workers=workers, max_chunk=max_chunk) == pytest.approx(
            expected
        ), (count, workers, max_chunk)


def test_a_load_worker_holds_its_first_block_behind_a_long_test() -> None:
    # 16 tests, 2 workers: blocks of 2 (16 // 2 // 4). Worker 1 gets the long test and the one
    # after it; the other runs everything else meanwhile.
    seconds = [4.0, 1.0] + [0.1] * 14

    predicted = load_makespan(seconds, workers=2)

    assert predicted == pytest.approx(5.0 + 2 * PER_TEST_SECONDS)
