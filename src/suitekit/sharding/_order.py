"""The order in which xdist gets a suite's tests: slow tests first, where that is faster.

pytest-xdist hands tests out in collection order. With ``--dist load`` each worker first gets a
chunk of consecutive tests, then more from the front of the queue as it finishes; with
``worksteal`` each worker gets an equal share of consecutive tests and idle workers steal from
the end of busy ones' queues; with ``loadscope``/``loadfile``/``loadgroup`` whole units are
handed out one after another. A slow test collected last therefore starts last, and the run
waits for it while the other workers idle.

Moving slow tests to the front is no sure cure, though: a chunk is committed to its worker, so
the tests dealt into the chunk that starts with the longest test all wait behind it. On a suite
whose longest test took 40 % of the time, dealing all the tests longest first made a two-worker
run 16 % slower than xdist's own order: the 3rd, 5th, ... longest tests queued behind the
longest on one worker while the other ran out of work.

So for ``load`` and ``worksteal`` (:func:`choose_order`) the order is a prediction's choice:

1. The candidates are the collection order itself and, for ``k`` = 1, 2, 4, ..., the number
   of workers, and every test: the ``k`` longest tests placed at the front of the blocks xdist
   first hands each worker, longest first, each into the block whose moved tests have the
   fewest seconds so far (Graham's rule, so no worker starts with all the slow ones), and the
   other tests in collection order around them.
2. Each candidate's run is predicted by replaying xdist's own scheduler on the predicted
   seconds (:mod:`suitekit.sharding._simulate`).
3. The candidate predicted fastest is taken only if it beats the collection order by at least
   :data:`MARGIN` of its time and :data:`MIN_GAIN_SECONDS`; otherwise the collection order
   stays, as xdist would run it alone. Ties go to fewer moved tests.

When the collection order's prediction is already within that much of the least any order
can take (:func:`~suitekit.sharding._simulate.least_makespan`: the work spread evenly, or the
longest test), no candidate can win, and none is replayed: on a suite of 20,000 tests the
seventeen replays took each xdist worker 0.5-1 s before its first test.

The prediction is xdist's algorithm on the recorded durations, so an order that is taken is
slower than xdist's own only if the tests' real times stray from the recorded ones by more than
the margin (or xdist changes its scheduler). The block sizes are computed as pytest-xdist 3
computes them.

Units of ``loadscope``, ``loadfile`` and ``loadgroup`` go longest first (:func:`slowest_first`),
tests within a unit in collection order (fixtures of a module stay warm); these modes are not
predicted. With fewer than two workers the order cannot shorten the run: the collection order
stays.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from suitekit._model import DistMode
from suitekit.sharding._simulate import least_makespan, load_makespan, worksteal_makespan
from suitekit.sharding._units import unit_key

__all__ = ["MARGIN", "MIN_GAIN_SECONDS", "Ordering", "choose_order", "slowest_first"]

MARGIN = 0.05
"""The share of the collection order's predicted time a reordering must save to be taken."""

MIN_GAIN_SECONDS = 0.25
"""The seconds a reordering must save to be taken: less is lost in a run's own noise."""

_MIN_CHUNK = 2  # xdist sends at least two tests per worker at first


@dataclass(frozen=True, slots=True, kw_only=True)
class Ordering:
    """The order xdist gets, and the predictions it was chosen by.

    Attributes:
        node_ids: The tests, in the order to hand them to xdist.
        moved: How many of the longest tests go to the front (0: the collection order).
        plain: The predicted seconds of xdist's run in collection order (``None`` for the
            modes that are not predicted, and for fewer than two workers).
        reordered: The predicted seconds of the fastest reordering, taken or not (``None``
            when none was replayed).
        least: The least seconds any order can take, when that showed that no reordering
            could save enough and none was replayed.
    """

    node_ids: tuple[str, ...]
    moved: int
    plain: float | None = None
    reordered: float | None = None
    least: float | None = None

    def describe(self) -> str:
        """``the 2 longest first: predicted 8.1s against 9.3s in collection order``."""
        if self.plain is not None and self.least is not None:
            return (
                f"collection order: predicted {self.plain:.1f}s; no order can save "
                f"{MARGIN:.0%} and {MIN_GAIN_SECONDS}s (none takes less than {self.least:.1f}s)"
            )
        if self.plain is None or self.reordered is None:
            return "longest units first" if self.moved else "collection order"
        if self.moved:
            which = "every test" if self.moved == len(self.node_ids) else f"the {self.moved}"
            return (
                f"{which} longest first: predicted {self.reordered:.1f}s "
                f"against {self.plain:.1f}s in collection order"
            )
        return (
            f"collection order: predicted {self.plain:.1f}s; the longest tests first "
            f"({self.reordered:.1f}s) would not save {MARGIN:.0%} and {MIN_GAIN_SECONDS}s"
        )


def choose_order(
    node_ids: Sequence[str],
    seconds: Mapping[str, float],
    *,
    dist: DistMode,
    workers: int,
    groups: Mapping[str, str] | None = None,
    max_chunk: int | None = None,
) -> Ordering:
    """The order for ``workers`` xdist workers: the fastest predicted, if it clearly is.

    See the module doc for the candidates and the rule.

    Args:
        node_ids: The tests in collection order.
        seconds: Their predicted seconds.
        dist: The xdist distribution mode.
        workers: How many xdist workers run them.
        groups: Node id -> ``xdist_group`` name, for ``loadgroup``.
        max_chunk: xdist's ``--maxschedchunk``, if given.

    Returns:
        The order, how many tests it moved and the predictions behind it.
    """
    if workers < 2 or not node_ids:  # noqa: PLR2004 - one worker runs every order alike
        return Ordering(node_ids=tuple(node_ids), moved=0)
    if dist not in ("load", "worksteal"):
        order = slowest_first(node_ids, seconds, dist=dist, workers=workers, groups=groups)
        moved = len(order) if order != list(node_ids) else 0
        return Ordering(node_ids=tuple(order), moved=moved)

    def predict(order: Sequence[str]) -> float:
        times = [seconds.get(node, 0.0) for node in order]
        if dist == "worksteal":
            return worksteal_makespan(times, workers=workers)
        return load_makespan(times, workers=workers, max_chunk=max_chunk)

    plain = predict(node_ids)
    needed = max(MARGIN * plain, MIN_GAIN_SECONDS)
    least = least_makespan([seconds.get(node, 0.0) for node in node_ids], workers=workers)
    # A replay adds its times up test by test: its rounding grows with the number of tests.
    rounding = plain * (len(node_ids) + 1) * 2 * sys.float_info.epsilon
    if plain - least < needed - rounding:
        return Ordering(node_ids=tuple(node_ids), moved=0, plain=plain, least=least)
    sizes = _first_blocks(len(node_ids), workers, dist, max_chunk)
    ranked = _ranked(node_ids, seconds)
    best: tuple[float, int, list[str]] | None = None
    for count in _head_counts(len(node_ids), workers):
        order = _heads_first(node_ids, ranked[:count], sizes, seconds)
        predicted = predict(order)
        if best is None or predicted < best[0]:
            best = (predicted, count, order)
    assert best is not None  # noqa: S101 - there is always one count (1)
    reordered, count, order = best
    if plain - reordered >= needed:
        return Ordering(node_ids=tuple(order), moved=count, plain=plain, reordered=reordered)
    return Ordering(node_ids=tuple(node_ids), moved=0, plain=plain, reordered=reordered)


def slowest_first(
    node_ids: Sequence[str],
    seconds: Mapping[str, float],
    *,
    dist: DistMode,
    workers: int,
    groups: Mapping[str, str] | None = None,
    max_chunk: int | None = None,
) -> list[str]:
    """Every unit longest first, dealt into xdist's first blocks, whether or not that helps.

    Units (see :mod:`suitekit.sharding._units`) go longest first; for ``load`` and
    ``worksteal`` with two workers or more, the longest tests are dealt round robin into the
    blocks xdist first sends each worker. :func:`choose_order` decides whether to use it, and
    documents the arguments, which are its own.

    Returns:
        The same node ids, in that order.
    """
    groups = groups or {}
    units: dict[str, list[str]] = {}
    for node in node_ids:
        units.setdefault(unit_key(node, dist, groups.get(node)), []).append(node)
    position = {key: index for index, key in enumerate(units)}

    def unit_seconds(key: str) -> float:
        return sum(seconds.get(node, 0.0) for node in units[key])

    longest = sorted(units, key=lambda key: (-unit_seconds(key), position[key]))
    ordered = [node for key in longest for node in units[key]]
    if dist not in ("load", "worksteal") or workers < 2:  # noqa: PLR2004 - two workers
        return ordered
    return _heads_first([], ordered, _first_blocks(len(ordered), workers, dist, max_chunk))


def _ranked(node_ids: Sequence[str], seconds: Mapping[str, float]) -> list[str]:
    """The tests longest first, ties in collection order."""
    position = {node: index for index, node in enumerate(node_ids)}
    return sorted(node_ids, key=lambda node: (-seconds.get(node, 0.0), position[node]))


def _head_counts(total: int, workers: int) -> list[int]:
    """How many longest tests each candidate moves: 1, 2, 4, ..., ``workers`` and all."""
    counts = {workers, total}
    count = 1
    while count < total:
        counts.add(count)
        count *= 2
    return sorted(count for count in counts if 0 < count <= total)


def _first_blocks(total: int, workers: int, dist: DistMode, max_chunk: int | None) -> list[int]:
    """The sizes of the consecutive blocks xdist first sends to each worker, in order."""
    if dist == "worksteal":
        sizes, left = [], total
        for index in range(workers):
            sizes.append(left // (workers - index))
            left -= sizes[-1]
        return sizes
    if total < _MIN_CHUNK * workers:
        return [1] * min(total, workers)  # then xdist sends one test to each, round robin
    chunk = max(min(total // workers // 4, max_chunk or total), _MIN_CHUNK)
    return [chunk] * workers


def _heads_first(
    node_ids: Sequence[str],
    heads: Sequence[str],
    sizes: Sequence[int],
    seconds: Mapping[str, float] | None = None,
) -> list[str]:
    """``heads`` dealt to the front of blocks of ``sizes``, the other tests around them.

    Without ``seconds`` the heads are dealt round robin; with them, each goes to the block
    whose heads have the fewest seconds so far (then the fewest heads, then the first block):
    Graham's longest-first rule within the blocks. Each block then fills up with the other
    tests of ``node_ids`` in their order; heads that found no place follow the blocks, in
    their order, and the other tests follow them.
    """
    blocks: list[list[str]] = [[] for _ in sizes]
    loads = [0.0 for _ in sizes]
    dealt = 0
    while dealt < len(heads):
        room = [index for index, size in enumerate(sizes) if len(blocks[index]) < size]
        if not room:
            break
        if seconds is None:  # round robin: the next block after the last one dealt to
            index = min(room, key=lambda index: (len(blocks[index]), index))
        else:
            index = min(room, key=lambda index: (loads[index], len(blocks[index]), index))
            loads[index] += seconds.get(heads[dealt], 0.0)
        blocks[index].append(heads[dealt])
        dealt += 1
    moved = set(heads)
    others = [node for node in node_ids if node not in moved]
    taken = 0
    for block, size in zip(blocks, sizes, strict=True):
        room_left = others[taken : taken + size - len(block)]
        block.extend(room_left)
        taken += len(room_left)
    return [node for block in blocks for node in block] + [*heads[dealt:], *others[taken:]]
