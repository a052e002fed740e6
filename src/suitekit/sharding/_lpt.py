"""Longest processing time first: the sharding strategy suitekit uses.

Units are taken longest first (ties by key) and each goes to the shard that is least loaded so
far, measured in predicted seconds; ties go to the shard with fewer units, then to the lower
index. This is Graham's LPT rule: its makespan is at most 4/3 of the optimum, and with many
small units behind a few large ones it is within a fraction of a percent of it.

Two properties follow from the tie-breaking, and are tested over random suites:

- every unit lands in exactly one shard (the shards partition the suite);
- while there are at least as many units as shards, no shard is empty: an empty shard has
  the smallest load and the smallest count, so it is always chosen before any other.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Protocol

from suitekit.sharding._units import Unit

__all__ = ["LongestFirst", "Strategy"]


class Strategy(Protocol):
    """How units are split into shards."""

    name: str

    def split(self, units: Sequence[Unit], count: int) -> tuple[tuple[Unit, ...], ...]:
        """Split ``units`` into ``count`` shards; each unit in exactly one."""
        ...


class LongestFirst:
    """Graham's LPT rule (see the module doc)."""

    name = "longest first"

    def split(self, units: Sequence[Unit], count: int) -> tuple[tuple[Unit, ...], ...]:
        """Longest unit first onto the least loaded shard."""
        shards: list[list[Unit]] = [[] for _ in range(count)]
        heap = [(0.0, 0, index) for index in range(count)]  # (load, units, index)
        for unit in sorted(units, key=lambda unit: (-unit.seconds, unit.key)):
            load, size, index = heapq.heappop(heap)
            shards[index].append(unit)
            heapq.heappush(heap, (load + unit.seconds, size + 1, index))
        return tuple(tuple(shard) for shard in shards)
