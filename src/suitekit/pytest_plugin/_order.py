"""The order a suite run's tests run in: an order file, a seed, or slow tests first under xdist.

Every xdist worker collects the same items and orders them the same way, so xdist sees the
same collection everywhere and hands the tests out in this order.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import pytest

from suitekit import sharding
from suitekit._handoff import OPT_ORDER_FILE
from suitekit._model import DIST_MODES, Suite
from suitekit.pytest_plugin._options import RunOptions
from suitekit.pytest_plugin._shared import Durations, group

__all__ = ["Ordering"]


class Ordering:
    """How a suite run orders its tests, and the line saying which order xdist was given."""

    def __init__(self, suite: Suite, run: RunOptions, durations: Durations) -> None:
        """Keep the order asked for (an order file, a seed, or none)."""
        self.suite = suite
        self.run = run
        self.durations = durations
        # Which order the workers gave xdist, and why (the same on every worker).
        self.line: str | None = None

    def order(
        self, items: list[pytest.Item]
    ) -> tuple[list[pytest.Item], list[pytest.Item], str | None]:
        """The suite's items in the run's order, the items the order file leaves out, a problem."""
        if self.run.order_file is not None:
            by_id = {item.nodeid: item for item in items}
            for number, node_id in self.run.order:
                if node_id not in by_id:
                    problem = (
                        f"{OPT_ORDER_FILE}={self.run.order_file}: line {number}: {node_id!r} "
                        f"is not a collected test of suite {self.suite.name!r}\n  fix: write node "
                        f"ids as `pytest --collect-only -q --suitekit-suite={self.suite.name}` "
                        "prints them, or remove the line"
                    )
                    return items, [], problem
            listed = {node_id for _, node_id in self.run.order}
            ordered = [by_id[node_id] for _, node_id in self.run.order]
            return ordered, [item for item in items if item.nodeid not in listed], None
        if self.run.seed is not None:
            shuffled = list(items)
            # Reproducible order from a seed, not cryptography.
            random.Random(self.run.seed).shuffle(shuffled)  # noqa: S311
            return shuffled, [], None
        return items, [], None

    def on_worker(
        self, config: pytest.Config, items: list[pytest.Item], workerinput: Mapping[str, Any]
    ) -> None:
        """An xdist worker's collection: without what the controller ran; slow tests first.

        Slow tests go first only where a replay of xdist's scheduler on the recorded durations
        says that makes the run clearly faster (see :func:`suitekit.sharding.choose_order`).
        """
        if workerinput.get("suitekit_ran"):
            # The controller ran these before it handed the rest of the suite to workers.
            ran = frozenset(workerinput["suitekit_ran"])
            items[:] = [item for item in items if item.nodeid not in ran]
        ordered = self.run.seed is not None or self.run.order_file is not None
        if not ordered and self.durations.get():
            dist = str(workerinput.get("suitekit_dist", "load"))
            self._xdist_order(config, items, int(workerinput.get("workercount", 1)), dist)

    def _xdist_order(
        self, config: pytest.Config, items: list[pytest.Item], workers: int, dist: str
    ) -> None:
        """Order the collection as :func:`suitekit.sharding.choose_order` decides."""
        cases = [sharding.Case(node_id=item.nodeid) for item in items]
        estimates = sharding.estimate(cases, self.durations.get())
        by_id = {item.nodeid: item for item in items}
        ordering = sharding.choose_order(
            [item.nodeid for item in items],
            estimates.seconds,
            dist=dist if dist in DIST_MODES else "load",  # type: ignore[arg-type]  # checked
            workers=workers,
            groups={item.nodeid: g for item in items if (g := group(item))},
            max_chunk=config.getoption("maxschedchunk", None),
        )
        items[:] = [by_id[node] for node in ordering.node_ids]
        self.line = f"suitekit: xdist order: {ordering.describe()}"
