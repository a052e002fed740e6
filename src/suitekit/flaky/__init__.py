"""Flaky tests: quarantine matching, run logs, and finding unstable and order-dependent tests.

Pure functions and plain data; the pytest plugin (retries, quarantine, order, run logs) and
``suitekit flaky`` / ``inv test.flaky`` (:mod:`suitekit.flaky._finder`, which runs processes and
so is not imported here) adapt them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from suitekit._lazy import exports

if TYPE_CHECKING:
    from suitekit.flaky._analysis import Cause as Cause
    from suitekit.flaky._analysis import CauseKind as CauseKind
    from suitekit.flaky._analysis import Finding as Finding
    from suitekit.flaky._analysis import FlakyTest as FlakyTest
    from suitekit.flaky._analysis import Run as Run
    from suitekit.flaky._analysis import compare as compare
    from suitekit.flaky._analysis import consistent_failures as consistent_failures
    from suitekit.flaky._analysis import failing as failing
    from suitekit.flaky._bisect import Reduction as Reduction
    from suitekit.flaky._bisect import ddmin as ddmin
    from suitekit.flaky._quarantine import entry_for as entry_for
    from suitekit.flaky._quarantine import matches as matches
    from suitekit.flaky._quarantine import stale_in_files as stale_in_files
    from suitekit.flaky._quarantine import unmatched as unmatched
    from suitekit.flaky._quarantine import unmatched_error as unmatched_error
    from suitekit.flaky._runlog import OUTCOMES as OUTCOMES
    from suitekit.flaky._runlog import Outcome as Outcome
    from suitekit.flaky._runlog import RunLog as RunLog
    from suitekit.flaky._runlog import TestRun as TestRun

__all__ = [
    "DEFAULT_RUNS",
    "OUTCOMES",
    "Cause",
    "CauseKind",
    "Finding",
    "FlakyTest",
    "Outcome",
    "Reduction",
    "Run",
    "RunLog",
    "TestRun",
    "compare",
    "consistent_failures",
    "ddmin",
    "entry_for",
    "failing",
    "matches",
    "stale_in_files",
    "unmatched",
    "unmatched_error",
]

DEFAULT_RUNS: Final = 5
"""How many runs ``suitekit flaky`` and ``inv test.flaky`` make unless told (here, and not in
:mod:`suitekit.flaky._finder`, so that ``suitekit --help`` can show it without importing that)."""

# The plugin needs quarantine matching in a suite run only, and the run-log and analysis
# machinery only for ``suitekit flaky``: each module loads when a name from it is first read.
if not TYPE_CHECKING:
    __getattr__ = exports(
        __name__,
        {
            "Cause": "suitekit.flaky._analysis",
            "CauseKind": "suitekit.flaky._analysis",
            "Finding": "suitekit.flaky._analysis",
            "FlakyTest": "suitekit.flaky._analysis",
            "Run": "suitekit.flaky._analysis",
            "compare": "suitekit.flaky._analysis",
            "consistent_failures": "suitekit.flaky._analysis",
            "failing": "suitekit.flaky._analysis",
            "Reduction": "suitekit.flaky._bisect",
            "ddmin": "suitekit.flaky._bisect",
            "entry_for": "suitekit.flaky._quarantine",
            "matches": "suitekit.flaky._quarantine",
            "stale_in_files": "suitekit.flaky._quarantine",
            "unmatched": "suitekit.flaky._quarantine",
            "unmatched_error": "suitekit.flaky._quarantine",
            "OUTCOMES": "suitekit.flaky._runlog",
            "Outcome": "suitekit.flaky._runlog",
            "RunLog": "suitekit.flaky._runlog",
            "TestRun": "suitekit.flaky._runlog",
        },
    )
