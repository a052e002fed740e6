"""Slow tests first on the xdist workers, so that a slow test never starts last.

pytest-xdist hands tests out in collection order. With ``--dist load`` each worker first gets a
chunk of consecutive tests, then more from the front of the queue as it finishes; with
``worksteal`` each worker gets an equal share of consecutive tests and idle workers steal from
the end of busy ones' queues; with ``loadscope``/``loadfile``/``loadgroup`` whole units are
handed out one after another. A slow test collected last therefore starts last, and the run
waits for it while the other workers idle.

This module orders the collection so that xdist's own scheduler does longest-first scheduling:

- units (see :mod:`suitekit.sharding._units`) go longest first;
- for ``load`` and ``worksteal``, whose first hand-out is a block of consecutive tests per
  worker, the longest tests are *dealt* round robin into those blocks (worker 1 gets the 1st,
  (n+1)th, ... longest; worker 2 the 2nd, (n+2)th, ...), so no worker starts with all the slow
  ones. The block sizes are computed as pytest-xdist 3 computes them; should a later version
  compute them otherwise, the order is still longest first, only less evenly dealt.

Tests within a unit keep their collection order (fixtures of a module stay warm).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from suitekit._model import DistMode
from suitekit.sharding._units import unit_key

__all__ = ["slowest_first"]

_MIN_CHUNK = 2  # xdist sends at least two tests per worker at first


def slowest_first(
    node_ids: Sequence[str],
    seconds: Mapping[str, float],
    *,
    dist: DistMode,
    workers: int,
    groups: Mapping[str, str] | None = None,
    max_chunk: int | None = None,
) -> list[str]:
    """The collection reordered for ``workers`` xdist workers (see the module doc).

    Args:
        node_ids: The tests in collection order.
        seconds: Their predicted seconds.
        dist: The xdist distribution mode.
        workers: How many xdist workers run them.
        groups: Node id -> ``xdist_group`` name, for ``loadgroup``.
        max_chunk: xdist's ``--maxschedchunk``, if given.

    Returns:
        The same node ids, in the order to run them.
    """
    groups = groups or {}
    units: dict[str, list[str]] = {}
    for node in node_ids:
        units.setdefault(unit_key(node, dist, groups.get(node)), []).append(node)
    position = {key: index for index, key in enumerate(units)}

    def unit_seconds(key: str) -> float:
        return sum(seconds.get(node, 0.0) for node in units[key])

    longest = sorted(units, key=lambda key: (-unit_seconds(key), position[key]))
    if dist not in ("load", "worksteal") or workers < 2:  # noqa: PLR2004 - two workers
        return [node for key in longest for node in units[key]]
    ordered = [node for key in longest for node in units[key]]
    return _deal(ordered, _first_blocks(len(ordered), workers, dist, max_chunk))


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


def _deal(ordered: list[str], sizes: list[int]) -> list[str]:
    """Deal ``ordered`` round robin into blocks of ``sizes``, then append the rest in order."""
    blocks: list[list[str]] = [[] for _ in sizes]
    taken = 0
    while taken < len(ordered) and any(len(b) < s for b, s in zip(blocks, sizes, strict=True)):
        for block, size in zip(blocks, sizes, strict=True):
            if len(block) < size and taken < len(ordered):
                block.append(ordered[taken])
                taken += 1
    return [node for block in blocks for node in block] + ordered[taken:]
