"""Test results of a run: JUnit totals and merging, summaries, run logs, durations, streaks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from suitekit._lazy import exports

if TYPE_CHECKING:
    from suitekit.reporting._attempts import WASXFAIL_PREFIX as WASXFAIL_PREFIX
    from suitekit.reporting._attempts import Ledger as Ledger
    from suitekit.reporting._attempts import PhaseReport as PhaseReport
    from suitekit.reporting._attempts import junit_key as junit_key
    from suitekit.reporting._attempts import rewrite_junit as rewrite_junit
    from suitekit.reporting._coverage import combine as combine
    from suitekit.reporting._coverage import coverage_dir as coverage_dir
    from suitekit.reporting._coverage import session_key as session_key
    from suitekit.reporting._coverage import write_rcfile as write_rcfile
    from suitekit.reporting._figures import budget_cell as budget_cell
    from suitekit.reporting._figures import over_budget as over_budget
    from suitekit.reporting._figures import ready_to_release as ready_to_release
    from suitekit.reporting._figures import rerun_command as rerun_command
    from suitekit.reporting._junit import Totals as Totals
    from suitekit.reporting._junit import junit_root as junit_root
    from suitekit.reporting._junit import read_totals as read_totals
    from suitekit.reporting._junit import retitle_junit as retitle_junit
    from suitekit.reporting._merge import failed_cases as failed_cases
    from suitekit.reporting._merge import merge_junit as merge_junit
    from suitekit.reporting._outputs import HTML_REPORT as HTML_REPORT
    from suitekit.reporting._outputs import OutputKind as OutputKind
    from suitekit.reporting._outputs import ReportOutput as ReportOutput
    from suitekit.reporting._outputs import report_outputs as report_outputs
    from suitekit.reporting._quarantine_junit import quarantine_junit as quarantine_junit
    from suitekit.reporting._quarantine_junit import quarantine_verdict as quarantine_verdict
    from suitekit.reporting._report import record_session as record_session
    from suitekit.reporting._report import report as report
    from suitekit.reporting._results import CaseResult as CaseResult
    from suitekit.reporting._results import MergeResult as MergeResult
    from suitekit.reporting._results import QuarantinedCase as QuarantinedCase
    from suitekit.reporting._runlog import OUTCOMES as OUTCOMES
    from suitekit.reporting._runlog import Outcome as Outcome
    from suitekit.reporting._runlog import RunLog as RunLog
    from suitekit.reporting._runlog import TestRun as TestRun
    from suitekit.reporting._streaks import QUARANTINE_FILE as QUARANTINE_FILE
    from suitekit.reporting._streaks import StreakStore as StreakStore
    from suitekit.reporting._summary import Summary as Summary
    from suitekit.reporting._summary import summarise as summarise
    from suitekit.reporting._surefire import LOCATION_PROPERTY as LOCATION_PROPERTY
    from suitekit.reporting._surefire import first_line as first_line
    from suitekit.reporting._surefire import location_value as location_value
    from suitekit.sharding import DurationStore as DurationStore
    from suitekit.sharding import Measurement as Measurement

__all__ = [
    "HTML_REPORT",
    "LOCATION_PROPERTY",
    "OUTCOMES",
    "QUARANTINE_FILE",
    "WASXFAIL_PREFIX",
    "CaseResult",
    "DurationStore",
    "Ledger",
    "Measurement",
    "MergeResult",
    "Outcome",
    "OutputKind",
    "PhaseReport",
    "QuarantinedCase",
    "ReportOutput",
    "RunLog",
    "StreakStore",
    "Summary",
    "TestRun",
    "Totals",
    "budget_cell",
    "combine",
    "coverage_dir",
    "failed_cases",
    "first_line",
    "junit_key",
    "junit_root",
    "location_value",
    "merge_junit",
    "over_budget",
    "quarantine_junit",
    "quarantine_verdict",
    "read_totals",
    "ready_to_release",
    "record_session",
    "report",
    "report_outputs",
    "rerun_command",
    "retitle_junit",
    "rewrite_junit",
    "session_key",
    "summarise",
    "write_rcfile",
]

# Merging, summaries and streaks run at the end of a run only: each module loads when a name
# from it is first read.
if not TYPE_CHECKING:
    __getattr__ = exports(
        __name__,
        {
            "HTML_REPORT": "suitekit.reporting._outputs",
            "QUARANTINE_FILE": "suitekit.reporting._streaks",
            "CaseResult": "suitekit.reporting._results",
            "ready_to_release": "suitekit.reporting._figures",
            "budget_cell": "suitekit.reporting._figures",
            "over_budget": "suitekit.reporting._figures",
            "OutputKind": "suitekit.reporting._outputs",
            "ReportOutput": "suitekit.reporting._outputs",
            "report_outputs": "suitekit.reporting._outputs",
            "Ledger": "suitekit.reporting._attempts",
            "PhaseReport": "suitekit.reporting._attempts",
            "WASXFAIL_PREFIX": "suitekit.reporting._attempts",
            "combine": "suitekit.reporting._coverage",
            "coverage_dir": "suitekit.reporting._coverage",
            "first_line": "suitekit.reporting._surefire",
            "LOCATION_PROPERTY": "suitekit.reporting._surefire",
            "location_value": "suitekit.reporting._surefire",
            "junit_key": "suitekit.reporting._attempts",
            "record_session": "suitekit.reporting._report",
            "report": "suitekit.reporting._report",
            "rewrite_junit": "suitekit.reporting._attempts",
            "session_key": "suitekit.reporting._coverage",
            "write_rcfile": "suitekit.reporting._coverage",
            "Totals": "suitekit.reporting._junit",
            "read_totals": "suitekit.reporting._junit",
            "junit_root": "suitekit.reporting._junit",
            "retitle_junit": "suitekit.reporting._junit",
            "MergeResult": "suitekit.reporting._results",
            "QuarantinedCase": "suitekit.reporting._results",
            "merge_junit": "suitekit.reporting._merge",
            "failed_cases": "suitekit.reporting._merge",
            "rerun_command": "suitekit.reporting._figures",
            "quarantine_junit": "suitekit.reporting._quarantine_junit",
            "quarantine_verdict": "suitekit.reporting._quarantine_junit",
            "OUTCOMES": "suitekit.reporting._runlog",
            "Outcome": "suitekit.reporting._runlog",
            "RunLog": "suitekit.reporting._runlog",
            "TestRun": "suitekit.reporting._runlog",
            "StreakStore": "suitekit.reporting._streaks",
            "Summary": "suitekit.reporting._summary",
            "summarise": "suitekit.reporting._summary",
            "DurationStore": "suitekit.sharding",
            "Measurement": "suitekit.sharding",
        },
    )
