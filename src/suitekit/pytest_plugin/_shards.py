"""Sharding a suite run: this process's part of the suite, or the plan of all the parts.

The plan itself is :func:`suitekit.sharding.plan_shards` (balanced by the recorded durations);
this module only feeds it the collected items and says what it chose.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from suitekit import sharding
from suitekit._json import shards_document, write_document
from suitekit._model import Suite
from suitekit.errors import SuitekitError
from suitekit.pytest_plugin._shared import Durations, group

__all__ = ["ShardsPlugin"]


class ShardsPlugin:
    """The shard a suite run runs (``--shard K/N``), or its plan (``--suitekit-plan-shards``)."""

    def __init__(
        self,
        config: pytest.Config,
        suite: Suite,
        *,
        shard: sharding.ShardSpec | None,
        durations: Durations,
    ) -> None:
        """Keep the shard asked for; nothing is split yet."""
        self.config = config
        self.suite = suite
        self.shard = shard
        self.durations = durations
        self.line: str | None = None
        self.empty = False
        self.table: str | None = None
        # The seconds the plan predicts for this shard: for the sidecar (the report's balance).
        self.predicted: float | None = None

    def plan(self, items: list[pytest.Item], count: int) -> sharding.ShardPlan:
        """The shard plan of the suite's items."""
        sizes: dict[Path, int] = {}
        cases = []
        for item in items:
            if item.path not in sizes:
                try:
                    sizes[item.path] = item.path.stat().st_size
                except OSError:
                    sizes[item.path] = 0
            cases.append(
                sharding.Case(node_id=item.nodeid, file_bytes=sizes[item.path], group=group(item))
            )
        return sharding.plan_shards(
            cases, count=count, dist=self.suite.dist, stored=self.durations.get()
        )

    def print_plan(self, items: list[pytest.Item], count: int) -> None:
        """Keep the table of how ``count`` shards would split ``items`` (printed at the end).

        With ``--suitekit-json-out PATH`` (``suitekit shards --json``), the same plan goes to
        PATH as a JSON document too.

        Raises:
            pytest.UsageError: PATH cannot be written.
        """
        shard_plan = self.plan(items, count)
        self.table = shard_plan.table(self.suite.name)
        json_out: str | None = self.config.getoption("suitekit_json_out")
        if json_out:
            try:
                write_document(Path(json_out), shards_document(self.suite.name, shard_plan))
            except SuitekitError as error:
                raise pytest.UsageError(str(error)) from None

    def take(
        self, items: list[pytest.Item], shard: sharding.ShardSpec
    ) -> tuple[list[pytest.Item], list[pytest.Item]]:
        """Split the suite's items into this shard's and the others', by the shard plan."""
        shard_plan = self.plan(items, shard.total)
        mine = shard_plan.shard(shard.index)
        ids = mine.node_ids
        self.predicted = mine.seconds
        self.line = (
            f"suitekit: shard {shard}: {mine.tests} of {len(items)} tests in {len(mine.units)} "
            f"units, predicted {mine.seconds:.1f}s (max/mean of the {shard.total} shards "
            f"{shard_plan.imbalance:.2f}; {shard_plan.estimates.describe()})"
        )
        self.empty = not ids
        keep = [item for item in items if item.nodeid in ids]
        return keep, [item for item in items if item.nodeid not in ids]

    def nothing_to_run(self, exitstatus: int) -> bool:
        """Whether a run that collected nothing only planned, or ran an empty shard."""
        planned = self.table is not None or self.empty
        return planned and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED

    def pytest_report_collectionfinish(self, config: pytest.Config) -> list[str]:
        """After collection (without xdist): the shard's size and predicted seconds."""
        del config
        return [self.line] if self.line else []

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        """An xdist controller states the shard's size after the first worker's collection.

        The controller collects nothing itself, so this is the first moment it can.
        """
        del node
        if self.shard is None or self.line is not None:
            return
        cases = [sharding.Case(node_id=node_id) for node_id in ids]
        estimates = sharding.estimate(cases, self.durations.get())
        self.predicted = sum(estimates.seconds.values())
        self.line = (
            f"suitekit: shard {self.shard}: {len(ids)} tests, predicted "
            f"{sum(estimates.seconds.values()):.1f}s ({estimates.describe()})"
        )
        self.empty = not ids
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(self.line)
