"""What pytest-xdist's ``load`` and ``worksteal`` schedulers do with a collection, replayed.

Given the tests' predicted seconds in collection order, each function replays one xdist 3
scheduler (``xdist/scheduler/load.py``, ``worksteal.py``) event by event and returns the
predicted makespan: when the last worker finishes. Two facts of xdist's protocol shape it:

- the controller keeps, per worker, the tests it sent and the worker has not finished (the
  running one first); a worker starts a test only once it holds the test after it, or was told
  to shut down (pytest needs ``nextitem`` to tear fixtures down);
- the controller reacts to each finished test (``mark_test_complete``).

``load``
    First each worker gets a block of ``max(2, min(n // workers // 4, maxschedchunk))``
    consecutive tests (or, with fewer than two tests per worker, one test each, round robin).
    When a worker finishes a test and holds fewer than ``max(2, left // workers // 4)`` tests,
    it gets the next tests of the collection up to ``max(2, left // workers // 2)`` (``left``:
    the tests not yet sent), unless the finished test took 0.1 s or more and it still holds
    two. With nothing left to send, the worker is told to shut down.
``worksteal``
    Whenever some worker holds fewer than two tests, the tests not yet sent are split evenly,
    in consecutive runs, among such workers (at first: everything among all workers). With
    nothing left to send, the worker holding the most tests gives up the last half of them
    (keeping two), and they are split in turn; when no worker can give any, the idle workers
    are told to shut down. A steal is taken to succeed at once (xdist's takes a round trip).

Each test costs a worker :data:`PER_TEST_SECONDS` more than its own time. Nothing here models
fixture setup shared between neighbouring tests, or workers that start at different times.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence

__all__ = ["PER_TEST_SECONDS", "least_makespan", "load_makespan", "worksteal_makespan"]

PER_TEST_SECONDS = 0.001
"""What a test costs an xdist worker besides its own time (the report to the controller)."""

_MIN_PENDING = 2  # the running test and the next one
_LONG_TEST = 0.1  # xdist's load scheduler lets a worker busy with tests this long run dry


class _Replay:
    """Workers, their queues and the clock; a subclass is the controller's scheduler."""

    def __init__(self, seconds: Sequence[float], workers: int) -> None:
        self.seconds = seconds
        self.unsent: deque[int] = deque(range(len(seconds)))
        self.queues: list[deque[int]] = [deque() for _ in range(workers)]
        self.shut = [False] * workers
        self.running = [False] * workers
        self.events: list[tuple[float, int]] = []

    def send(self, worker: int, count: int) -> None:
        """Send the next ``count`` unsent tests (or what is left) to ``worker``."""
        for _ in range(min(max(count, 0), len(self.unsent))):
            self.queues[worker].append(self.unsent.popleft())

    def finished(self, worker: int, took: float) -> None:
        """The controller's reaction to ``worker`` finishing a test of ``took`` seconds."""
        raise NotImplementedError

    def run(self) -> float:
        """Run the tests the first hand-out sent; when the last worker finishes."""
        self.start(0.0)
        end = 0.0
        while self.events:
            end, worker = heapq.heappop(self.events)
            self.running[worker] = False
            self.finished(worker, self.seconds[self.queues[worker].popleft()])
            self.start(end)
        return end

    def start(self, now: float) -> None:
        """Each idle worker that holds its next test too, or was told to stop, starts a test."""
        for worker, queue in enumerate(self.queues):
            ready = len(queue) >= _MIN_PENDING or (queue and self.shut[worker])
            if ready and not self.running[worker]:
                self.running[worker] = True
                took = self.seconds[queue[0]] + PER_TEST_SECONDS
                heapq.heappush(self.events, (now + took, worker))


class _Load(_Replay):
    """xdist's ``LoadScheduling``."""

    def __init__(self, seconds: Sequence[float], workers: int, max_chunk: int | None) -> None:
        super().__init__(seconds, workers)
        total = len(seconds)
        self.cap = max_chunk if max_chunk is not None else total
        if total < _MIN_PENDING * workers:
            for index in range(total):
                self.send(index % workers, 1)
        else:
            for worker in range(workers):
                self.send(worker, max(min(total // workers // 4, self.cap), _MIN_PENDING))
        if not self.unsent:
            self.shut = [True] * workers

    def finished(self, worker: int, took: float) -> None:
        """Top the worker up from the front of the collection, or tell it to stop."""
        left, held, workers = len(self.unsent), len(self.queues[worker]), len(self.queues)
        if self.shut[worker]:
            return
        if not left:
            self.shut[worker] = True
        elif held < max(_MIN_PENDING, left // workers // 4):
            if took >= _LONG_TEST and held >= _MIN_PENDING:
                return  # busy with long tests: it may run dry first
            most = max(_MIN_PENDING, left // workers // 2)
            self.send(worker, min(most - held, max(_MIN_PENDING - held, self.cap)))


class _Worksteal(_Replay):
    """xdist's ``WorkStealingScheduling``."""

    def __init__(self, seconds: Sequence[float], workers: int) -> None:
        super().__init__(seconds, workers)
        self.finished(0, 0.0)  # the first hand-out: every worker is idle

    def idle(self) -> list[int]:
        """The workers still running that hold fewer than two tests."""
        return [
            worker
            for worker, queue in enumerate(self.queues)
            if not self.shut[worker] and len(queue) < _MIN_PENDING
        ]

    def finished(self, worker: int, took: float) -> None:
        """Split what is unsent among idle workers; steal for them; or tell them to stop."""
        del worker, took  # xdist reschedules every worker alike
        while waiting := self.idle():
            for index, idle in enumerate(waiting):
                self.send(idle, len(self.unsent) // (len(waiting) - index))
            if not (waiting := self.idle()):
                return
            up = [index for index in range(len(self.queues)) if not self.shut[index]]
            queue = self.queues[max(up, key=lambda index: len(self.queues[index]))]
            steal = min(len(queue) // 2, max(0, len(queue) - _MIN_PENDING))
            if not steal:
                for idle in waiting:
                    self.shut[idle] = True
                return
            stolen = [queue.pop() for _ in range(steal)]
            self.unsent.extend(reversed(stolen))


def load_makespan(seconds: Sequence[float], *, workers: int, max_chunk: int | None = None) -> float:
    """The seconds until xdist's ``--dist load`` has run ``seconds`` (see the module doc).

    Args:
        seconds: Each test's predicted seconds, in collection order.
        workers: How many xdist workers run them.
        max_chunk: xdist's ``--maxschedchunk``, if given.

    Returns:
        When the last worker finishes, in seconds from the first hand-out.
    """
    return _Load(seconds, workers, max_chunk).run()


def worksteal_makespan(seconds: Sequence[float], *, workers: int) -> float:
    """The seconds until xdist's ``--dist worksteal`` has run ``seconds`` (see the module doc).

    Args:
        seconds: Each test's predicted seconds, in collection order.
        workers: How many xdist workers run them.

    Returns:
        When the last worker finishes, in seconds from the first hand-out.
    """
    return _Worksteal(seconds, workers).run()


def least_makespan(seconds: Sequence[float], *, workers: int) -> float:
    """A bound no order's replay goes below: the work spread evenly, or the longest test.

    Each worker of a replay runs its tests one after another, each taking its seconds and
    :data:`PER_TEST_SECONDS`, and every test runs once: the last worker cannot finish before
    an even share of all that work is done, nor before the longest test is.

    Args:
        seconds: Each test's predicted seconds, in any order.
        workers: How many xdist workers run them.
    """
    if not seconds:
        return 0.0
    total = math.fsum(seconds) + PER_TEST_SECONDS * len(seconds)  # no drift over many tests
    return max(total / workers, max(seconds) + PER_TEST_SECONDS)
