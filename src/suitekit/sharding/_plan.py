"""A suite split into shards: which tests each shard runs and how long it should take."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from suitekit._model import DistMode
from suitekit.sharding._durations import Measurement
from suitekit.sharding._lpt import LongestFirst, Strategy
from suitekit.sharding._units import Case, Estimates, Unit, estimate, group_units

__all__ = ["Shard", "ShardPlan", "plan_shards"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Shard:
    """One shard of a plan.

    Attributes:
        index: 1-based, as in ``--shard K/N``.
        units: Its units, longest first.
    """

    index: int
    units: tuple[Unit, ...]

    @property
    def seconds(self) -> float:
        """The predicted seconds of its tests, run one after another."""
        return sum(unit.seconds for unit in self.units)

    @property
    def node_ids(self) -> frozenset[str]:
        """Its tests."""
        return frozenset(node for unit in self.units for node in unit.node_ids)

    @property
    def tests(self) -> int:
        """How many tests it runs."""
        return sum(len(unit.node_ids) for unit in self.units)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShardPlan:
    """A suite's tests split into shards.

    Attributes:
        shards: The shards, in index order.
        estimates: The predicted seconds the split was balanced on.
        strategy: The name of the strategy that split it.
    """

    shards: tuple[Shard, ...]
    estimates: Estimates
    strategy: str

    def shard(self, index: int) -> Shard:
        """The shard with 1-based ``index``."""
        return self.shards[index - 1]

    @property
    def imbalance(self) -> float:
        """Predicted max/mean of the shards' seconds: 1.0 is a perfect split."""
        loads = [shard.seconds for shard in self.shards]
        mean = statistics.fmean(loads) if loads else 0.0
        return max(loads) / mean if mean > 0 else 1.0

    def table(self, suite: str) -> str:
        """The plan as ``suitekit shards`` prints it."""
        total = sum(s.tests for s in self.shards)
        title = (
            f"suite {suite!r}: {total} tests in {len(self.shards)} shards "
            f"({self.strategy}; {self.estimates.describe()})"
        )
        lines = [
            title,
            f"{'shard':>7}  {'tests':>6}  {'units':>6}  {'predicted s':>11}",
        ]
        lines += [
            f"{f'{s.index}/{len(self.shards)}':>7}  {s.tests:>6}  {len(s.units):>6}  "
            f"{s.seconds:>11.2f}"
            for s in self.shards
        ]
        loads = [s.seconds for s in self.shards]
        mean = statistics.fmean(loads) if loads else 0.0
        lines.append(
            f"max {max(loads, default=0.0):.2f} s, mean {mean:.2f} s, max/mean {self.imbalance:.3f}"
        )
        return "\n".join(lines)


def plan_shards(
    cases: Sequence[Case],
    *,
    count: int,
    dist: DistMode,
    stored: Mapping[str, Measurement],
    strategy: Strategy | None = None,
) -> ShardPlan:
    """Split a suite's collected tests into ``count`` shards, balanced by predicted seconds.

    The result depends only on the node ids (not their order), the file sizes and the stored
    durations, so every CI job of a run computes the same split on its own.

    Args:
        cases: The suite's collected tests.
        count: How many shards (at least 1).
        dist: The suite's xdist mode: it decides which tests must stay together.
        stored: The suite's measurements in the durations store (case key -> measurement).
        strategy: How to split the units; :class:`LongestFirst` by default.
    """
    chosen = strategy or LongestFirst()
    estimates = estimate(cases, stored)
    units = group_units(cases, dist, estimates)
    split = chosen.split(units, count)
    shards = tuple(
        Shard(index=index, units=tuple(sorted(part, key=lambda u: (-u.seconds, u.key))))
        for index, part in enumerate(split, start=1)
    )
    return ShardPlan(shards=shards, estimates=estimates, strategy=chosen.name)
