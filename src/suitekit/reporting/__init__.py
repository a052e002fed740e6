"""Test results of a run: JUnit totals and merging, summaries, run logs, durations, streaks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from suitekit._lazy import exports

if TYPE_CHECKING:
    from suitekit.reporting._junit import Totals as Totals
    from suitekit.reporting._junit import read_totals as read_totals
    from suitekit.reporting._merge import merge_junit as merge_junit
    from suitekit.reporting._results import MergeResult as MergeResult
    from suitekit.reporting._results import QuarantinedCase as QuarantinedCase
    from suitekit.reporting._runlog import OUTCOMES as OUTCOMES
    from suitekit.reporting._runlog import Outcome as Outcome
    from suitekit.reporting._runlog import RunLog as RunLog
    from suitekit.reporting._runlog import TestRun as TestRun
    from suitekit.reporting._streaks import StreakStore as StreakStore
    from suitekit.reporting._summary import Summary as Summary
    from suitekit.reporting._summary import summarise as summarise
    from suitekit.sharding._durations import DurationStore as DurationStore
    from suitekit.sharding._durations import Measurement as Measurement

__all__ = [
    "OUTCOMES",
    "DurationStore",
    "Measurement",
    "MergeResult",
    "Outcome",
    "QuarantinedCase",
    "RunLog",
    "StreakStore",
    "Summary",
    "TestRun",
    "Totals",
    "merge_junit",
    "read_totals",
    "summarise",
]

# Merging, summaries and streaks run at the end of a run only: each module loads when a name
# from it is first read.
if not TYPE_CHECKING:
    __getattr__ = exports(
        __name__,
        {
            "Totals": "suitekit.reporting._junit",
            "read_totals": "suitekit.reporting._junit",
            "MergeResult": "suitekit.reporting._results",
            "QuarantinedCase": "suitekit.reporting._results",
            "merge_junit": "suitekit.reporting._merge",
            "OUTCOMES": "suitekit.reporting._runlog",
            "Outcome": "suitekit.reporting._runlog",
            "RunLog": "suitekit.reporting._runlog",
            "TestRun": "suitekit.reporting._runlog",
            "StreakStore": "suitekit.reporting._streaks",
            "Summary": "suitekit.reporting._summary",
            "summarise": "suitekit.reporting._summary",
            "DurationStore": "suitekit.sharding._durations",
            "Measurement": "suitekit.sharding._durations",
        },
    )
