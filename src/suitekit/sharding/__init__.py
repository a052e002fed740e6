"""Sharding and scheduling: the durations store, shards, slow-tail order and worker counts.

Pure functions of node ids and stored durations (the calibration module alone runs pytest, to
measure the machine). The pytest plugin, the nox adapter and ``suitekit shards`` adapt them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from suitekit._lazy import exports

if TYPE_CHECKING:
    from suitekit.sharding._calibrate import obtain as obtain
    from suitekit.sharding._calibrate import running_others as running_others
    from suitekit.sharding._durations import DURATIONS_FILE as DURATIONS_FILE
    from suitekit.sharding._durations import DurationStore as DurationStore
    from suitekit.sharding._durations import Measurement as Measurement
    from suitekit.sharding._durations import update_store as update_store
    from suitekit.sharding._lpt import LongestFirst as LongestFirst
    from suitekit.sharding._lpt import Strategy as Strategy
    from suitekit.sharding._order import Ordering as Ordering
    from suitekit.sharding._order import choose_order as choose_order
    from suitekit.sharding._order import slowest_first as slowest_first
    from suitekit.sharding._plan import Shard as Shard
    from suitekit.sharding._plan import ShardPlan as ShardPlan
    from suitekit.sharding._plan import plan_shards as plan_shards
    from suitekit.sharding._spec import ENV_SHARD as ENV_SHARD
    from suitekit.sharding._spec import SHARD_OPTION as SHARD_OPTION
    from suitekit.sharding._spec import ShardSpec as ShardSpec
    from suitekit.sharding._spec import shard_from as shard_from
    from suitekit.sharding._spec import split_of as split_of
    from suitekit.sharding._units import Case as Case
    from suitekit.sharding._units import Estimates as Estimates
    from suitekit.sharding._units import Unit as Unit
    from suitekit.sharding._units import case_key as case_key
    from suitekit.sharding._units import estimate as estimate
    from suitekit.sharding._units import unit_key as unit_key
    from suitekit.sharding._workers import DEFAULT_CALIBRATION as DEFAULT_CALIBRATION
    from suitekit.sharding._workers import SAMPLE_SECONDS as SAMPLE_SECONDS
    from suitekit.sharding._workers import Calibration as Calibration
    from suitekit.sharding._workers import Sample as Sample
    from suitekit.sharding._workers import WorkerChoice as WorkerChoice
    from suitekit.sharding._workers import choose_workers as choose_workers
    from suitekit.sharding._workers import choose_workers_now as choose_workers_now
    from suitekit.sharding._workers import contention as contention
    from suitekit.sharding._workers import decide_from_sample as decide_from_sample
    from suitekit.sharding._workers import next_look as next_look

__all__ = [
    "DEFAULT_CALIBRATION",
    "DURATIONS_FILE",
    "ENV_SHARD",
    "SAMPLE_SECONDS",
    "SHARD_OPTION",
    "Calibration",
    "Case",
    "DurationStore",
    "Estimates",
    "LongestFirst",
    "Measurement",
    "Ordering",
    "Sample",
    "Shard",
    "ShardPlan",
    "ShardSpec",
    "Strategy",
    "Unit",
    "WorkerChoice",
    "case_key",
    "choose_order",
    "choose_workers",
    "choose_workers_now",
    "contention",
    "decide_from_sample",
    "estimate",
    "next_look",
    "obtain",
    "plan_shards",
    "running_others",
    "shard_from",
    "slowest_first",
    "split_of",
    "unit_key",
    "update_store",
]

# A run reads durations and plans shards only when it shards or orders by durations: each
# module loads when a name from it is first read.
if not TYPE_CHECKING:
    __getattr__ = exports(
        __name__,
        {
            "DEFAULT_CALIBRATION": "suitekit.sharding._workers",
            "SAMPLE_SECONDS": "suitekit.sharding._workers",
            "Sample": "suitekit.sharding._workers",
            "decide_from_sample": "suitekit.sharding._workers",
            "contention": "suitekit.sharding._workers",
            "choose_workers_now": "suitekit.sharding._workers",
            "next_look": "suitekit.sharding._workers",
            "obtain": "suitekit.sharding._calibrate",
            "running_others": "suitekit.sharding._calibrate",
            "unit_key": "suitekit.sharding._units",
            "update_store": "suitekit.sharding._durations",
            "DURATIONS_FILE": "suitekit.sharding._durations",
            "DurationStore": "suitekit.sharding._durations",
            "Measurement": "suitekit.sharding._durations",
            "LongestFirst": "suitekit.sharding._lpt",
            "Strategy": "suitekit.sharding._lpt",
            "Ordering": "suitekit.sharding._order",
            "choose_order": "suitekit.sharding._order",
            "slowest_first": "suitekit.sharding._order",
            "Shard": "suitekit.sharding._plan",
            "ShardPlan": "suitekit.sharding._plan",
            "plan_shards": "suitekit.sharding._plan",
            "ENV_SHARD": "suitekit.sharding._spec",
            "SHARD_OPTION": "suitekit.sharding._spec",
            "ShardSpec": "suitekit.sharding._spec",
            "shard_from": "suitekit.sharding._spec",
            "split_of": "suitekit.sharding._spec",
            "Case": "suitekit.sharding._units",
            "Estimates": "suitekit.sharding._units",
            "Unit": "suitekit.sharding._units",
            "case_key": "suitekit.sharding._units",
            "estimate": "suitekit.sharding._units",
            "Calibration": "suitekit.sharding._workers",
            "WorkerChoice": "suitekit.sharding._workers",
            "choose_workers": "suitekit.sharding._workers",
        },
    )
