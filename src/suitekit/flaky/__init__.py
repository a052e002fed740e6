"""Flaky tests: quarantine matching, run logs, and finding unstable and order-dependent tests.

Pure functions and plain data; the pytest plugin (retries, quarantine, order, run logs) and
``suitekit flaky`` / ``inv test.flaky`` adapt them.
"""

from __future__ import annotations

from suitekit.flaky._quarantine import entry_for as entry_for
from suitekit.flaky._quarantine import matches as matches
from suitekit.flaky._quarantine import unmatched as unmatched
from suitekit.flaky._quarantine import unmatched_error as unmatched_error
from suitekit.flaky._runlog import OUTCOMES as OUTCOMES
from suitekit.flaky._runlog import Outcome as Outcome
from suitekit.flaky._runlog import RunLog as RunLog
from suitekit.flaky._runlog import TestRun as TestRun

__all__ = [
    "OUTCOMES",
    "Outcome",
    "RunLog",
    "TestRun",
    "entry_for",
    "matches",
    "unmatched",
    "unmatched_error",
]
