"""Flaky tests: quarantine matching, run logs, and finding unstable and order-dependent tests.

Pure functions and plain data; the pytest plugin (retries, quarantine, order, run logs) and
``suitekit flaky`` / ``inv test.flaky`` (:mod:`suitekit.flaky._finder`, and
:mod:`suitekit.flaky._external` for Vitest and Jest suites, which run processes and so are not
imported here) adapt them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from suitekit._lazy import exports

if TYPE_CHECKING:
    from suitekit._quarantine import entry_for as entry_for
    from suitekit._quarantine import matches as matches
    from suitekit._quarantine import stale_in_files as stale_in_files
    from suitekit._quarantine import unmatched as unmatched
    from suitekit._quarantine import unmatched_error as unmatched_error
    from suitekit.flaky._analysis import Cause as Cause
    from suitekit.flaky._analysis import CauseKind as CauseKind
    from suitekit.flaky._analysis import Finding as Finding
    from suitekit.flaky._analysis import FlakyTest as FlakyTest
    from suitekit.flaky._analysis import Run as Run
    from suitekit.flaky._analysis import collection_error as collection_error
    from suitekit.flaky._analysis import compare as compare
    from suitekit.flaky._analysis import consistent_failures as consistent_failures
    from suitekit.flaky._analysis import failing as failing
    from suitekit.flaky._bisect import Reduction as Reduction
    from suitekit.flaky._bisect import ddmin as ddmin
    from suitekit.flaky._finder import FlakyOptions as FlakyOptions
    from suitekit.flaky._finder import find as find
    from suitekit.flaky._finder import session_python as session_python
    from suitekit.reporting import OUTCOMES as OUTCOMES
    from suitekit.reporting import Outcome as Outcome
    from suitekit.reporting import RunLog as RunLog
    from suitekit.reporting import TestRun as TestRun

__all__ = [
    "DEFAULT_RUNS",
    "OUTCOMES",
    "Cause",
    "CauseKind",
    "Finding",
    "FlakyOptions",
    "FlakyTest",
    "Outcome",
    "Reduction",
    "Run",
    "RunLog",
    "TestRun",
    "collection_error",
    "compare",
    "consistent_failures",
    "ddmin",
    "entry_for",
    "failing",
    "find",
    "matches",
    "session_python",
    "stale_in_files",
    "unmatched",
    "unmatched_error",
]

DEFAULT_RUNS: Final = 5
"""How many runs ``suitekit flaky`` and ``inv test.flaky`` make unless told (here, and not in
:mod:`suitekit.flaky._finder`, so that ``suitekit --help`` can show it without importing that)."""

# The plugin needs quarantine matching in a suite run only, and the run-log and analysis
# machinery only for ``suitekit flaky``: each module loads when a name from it is first read.
# The run log's format is owned by :mod:`suitekit.reporting` (the plugin's ledger writes it);
# its names are re-exported here, where ``suitekit flaky`` compares run logs.
if not TYPE_CHECKING:
    __getattr__ = exports(
        __name__,
        {
            "collection_error": "suitekit.flaky._analysis",
            "FlakyOptions": "suitekit.flaky._finder",
            "find": "suitekit.flaky._finder",
            "session_python": "suitekit.flaky._finder",
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
            "entry_for": "suitekit._quarantine",
            "matches": "suitekit._quarantine",
            "stale_in_files": "suitekit._quarantine",
            "unmatched": "suitekit._quarantine",
            "unmatched_error": "suitekit._quarantine",
            "OUTCOMES": "suitekit.reporting",
            "Outcome": "suitekit.reporting",
            "RunLog": "suitekit.reporting",
            "TestRun": "suitekit.reporting",
        },
    )
