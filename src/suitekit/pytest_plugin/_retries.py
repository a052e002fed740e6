"""Retries and the ledger of attempts: FLAKY tests, every attempt in the JUnit file, run logs.

A failed test runs again up to the suite's ``retries`` times; a test that passes after failed
attempts is reported as FLAKY. The controller (or the only process) of a suite run gathers the
reports it needs in a ledger, adds every attempt to pytest's JUnit file at the end and writes
the run log read by ``suitekit flaky``. The ledger and ElementTree load only in that process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _pytest.runner import runtestprotocol

from suitekit.errors import SuitekitError
from suitekit.pytest_plugin._options import RunOptions
from suitekit.pytest_plugin._quarantine import QuarantineCheck
from suitekit.pytest_plugin._shared import failure_line, mark, worker_of
from suitekit.reporting import first_line

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter

    from suitekit.reporting import Ledger, PhaseReport

__all__ = ["RetriesPlugin"]


class RetriesPlugin:
    """A suite run's retries, and (in its controller) the ledger of what the tests did."""

    def __init__(self, run: RunOptions, quarantine: QuarantineCheck) -> None:
        """Keep the run's options; the ledger starts with the session."""
        self.run = run
        self.quarantine = quarantine
        self.ledger: Ledger | None = None
        self.finish_error: str | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """The controller (or the only process) of a suite run starts gathering the reports."""
        if not hasattr(session.config, "workerinput"):
            from suitekit.reporting import Ledger  # noqa: PLC0415 - see the docstring

            self.ledger = Ledger()

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A file that fails to collect goes into the ledger as an error of its own.

        So the run log (and ``suitekit flaky``) sees a suite that fails to collect.
        """
        if not report.failed or getattr(report, "suitekit_usage_error", None):
            return
        if self.ledger is not None:
            from suitekit.reporting import PhaseReport  # noqa: PLC0415

            self.ledger.add(
                PhaseReport(
                    node_id=report.nodeid,
                    when="collect",
                    outcome="failed",
                    worker=worker_of(report),
                    message=failure_line(report),
                    details=report.longreprtext,
                )
            )

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> bool | None:
        """Run a test up to ``1 + retries`` times, until an attempt does not fail.

        Of a failed attempt that will run again, only its first failed report is logged, as a
        ``rerun``: its duration moves to ``suitekit_seconds`` so that JUnit times and the
        durations store count the final attempt alone. The final attempt logs every report;
        its passing call says how many attempts failed before it (``suitekit_flaky``). Each
        attempt tears down as pytest would before ``nextitem``, so it starts from fresh
        function-scoped fixtures; a wider fixture (or collector) that failed is set up again
        (see :func:`_forget_failed_setup`). A quarantined test's failure, which
        :meth:`pytest_runtest_makereport` turned into a skip, is retried as a failure.
        """
        if not self.run.retries:
            return None  # pytest's own protocol runs it
        ihook = item.ihook
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        for attempt in range(1, self.run.retries + 2):
            if attempt > 1:
                _forget_failed_setup(item)
                _rearm_timeout(item)
            # Captured output is kept on the item: an attempt reports its own output only.
            item._report_sections.clear()  # noqa: SLF001 - pytest keeps no public handle on it
            reports = runtestprotocol(item, nextitem=nextitem, log=False)
            failed = next((report for report in reports if _failed(report)), None)
            stopping = item.session.shouldfail or item.session.shouldstop
            if failed is not None and attempt <= self.run.retries and not stopping:
                seconds, failed.duration = failed.duration, 0.0
                # "rerun" is no outcome pytest knows: no plugin counts it as a failure.
                failed.outcome = "rerun"  # type: ignore[assignment]
                mark(failed, suitekit_attempt=attempt, suitekit_seconds=seconds)
                ihook.pytest_runtest_logreport(report=failed)
                continue
            for report in reports:
                if attempt > 1:
                    mark(report, suitekit_attempt=attempt)
                    if failed is None and report.when == "call" and report.passed:
                        mark(report, suitekit_flaky=attempt - 1)
                ihook.pytest_runtest_logreport(report=report)
            break
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Name a failure's exception type; turn a quarantined test's failure into a skip.

        One wrapper, in this order: the type is named while the report is still a failure.
        """
        report = yield
        if not report.failed:
            return report
        if call.excinfo is not None:
            mark(report, suitekit_type=call.excinfo.typename)
        self.quarantine.hide(report, item.nodeid)
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(
        self, report: pytest.CollectReport | pytest.TestReport
    ) -> tuple[str, str, tuple[str, Mapping[str, bool]]] | None:
        """RERUN for a failed attempt, FLAKY for a pass after one, QUARANTINED for a hidden one."""
        outcome: str = report.outcome  # "rerun" is our own outcome, unknown to pytest's types
        if outcome == "rerun":
            return "rerun", "R", ("RERUN", {"yellow": True})
        if report.skipped and getattr(report, "suitekit_quarantined", None):
            return "quarantined", "q", ("QUARANTINED", {"yellow": True})
        if getattr(report, "when", None) == "call" and getattr(report, "suitekit_flaky", 0):
            return "flaky", "f", ("FLAKY", {"yellow": True})
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """The controller (or the only process) of a suite run keeps the reports it needs.

        Without a run log only retried and quarantined tests reach the ledger (its flaky and
        quarantine sections and the JUnit rewrite need nothing else): a plain pass or failure
        costs nothing here, as in pytest without suitekit.
        """
        if self.ledger is None:
            return
        outcome: str = report.outcome  # "rerun" is our own outcome, unknown to pytest's types
        if (
            self.run.run_log is not None
            or outcome == "rerun"
            or getattr(report, "suitekit_attempt", 1) != 1
            or self.quarantine.entry(report.nodeid) is not None
        ):
            self.ledger.add(_phase(report, self.quarantine))

    def sections(self, terminalreporter: TerminalReporter) -> None:
        """The flaky tests, the quarantined tests, and what could not be written."""
        if self.ledger is None:
            return
        if lines := self.ledger.flaky_lines():
            terminalreporter.section("suitekit flaky", yellow=True)
            for line in lines:
                terminalreporter.write_line(line)
        if lines := self.ledger.quarantine_lines():
            terminalreporter.section("suitekit quarantine", yellow=True)
            for line in lines:
                terminalreporter.write_line(line)
        if self.finish_error is not None:
            terminalreporter.write_line(self.finish_error, red=True, bold=True)

    def finish(self, session: pytest.Session) -> None:
        """Add every attempt to pytest's JUnit file and write the run log (the controller)."""
        ledger = self.ledger
        if ledger is None:
            return
        junit = session.config.option.xmlpath
        try:
            if junit and ledger.needs_rewrite():
                from suitekit.reporting import rewrite_junit  # noqa: PLC0415

                prefix = session.config.option.junitprefix
                rewrite_junit(Path(junit), ledger.tests(), prefix=prefix)
            if self.run.run_log is not None:
                workers = int(getattr(session.config.option, "numprocesses", None) or 0)
                ledger.run_log(seed=self.run.seed, workers=workers).write(self.run.run_log)
        except SuitekitError as error:
            self.finish_error = f"suitekit: {error}"
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR


def _phase(report: pytest.TestReport, quarantine: QuarantineCheck) -> PhaseReport:
    """The plain data of a report, for the ledger."""
    from suitekit.reporting import PhaseReport  # noqa: PLC0415 - see the docstring

    quarantined = bool(getattr(report, "suitekit_quarantined", None))
    outcome: str = report.outcome
    if outcome in {"failed", "rerun"} or quarantined:
        message = failure_line(report)
    elif report.skipped:
        reason = getattr(report, "wasxfail", None)
        if reason is None and isinstance(report.longrepr, tuple):
            reason = report.longrepr[2]
        message = first_line(str(reason if reason is not None else report.longrepr))
    else:
        message = ""
    return PhaseReport(
        node_id=report.nodeid,
        when=report.when,
        outcome=report.outcome,
        worker=worker_of(report),
        attempt=int(getattr(report, "suitekit_attempt", 1)),
        message=message,
        error_type=str(getattr(report, "suitekit_type", "pytest.failure")),
        details=str(getattr(report, "suitekit_failure", ""))
        or (report.longreprtext if report.longrepr is not None else ""),
        stdout=report.capstdout,
        stderr=report.capstderr,
        quarantine=quarantine.entry(report.nodeid),
        quarantined_failure=quarantined,
    )


def _failed(report: pytest.TestReport) -> bool:
    """Whether a report failed, a quarantined failure (reported as a skip) included."""
    return report.failed or bool(getattr(report, "suitekit_quarantined", None))


def _forget_failed_setup(item: pytest.Item) -> None:
    """Make the next attempt of ``item`` run again what failed to set it up.

    pytest keeps a fixture's exception until the fixture's scope ends, and a collector's
    failed setup until the collector is torn down; an attempt tears down only what ``nextitem``
    does not share, so a failed module, class or session fixture (or a failed package setup)
    would fail every retry again without running. This finishes each failed fixture of the
    item (running its finalizers, as the end of its scope would) and tears down the
    collectors whose setup failed. pytest has no public API for either.
    """
    info = getattr(item, "_fixtureinfo", None)
    failed = [
        fixturedef
        for fixturedefs in getattr(info, "name2fixturedefs", {}).values()
        for fixturedef in fixturedefs
        # (value, cache key, exception): a failed fixture keeps its exception.
        if fixturedef.cached_result is not None and fixturedef.cached_result[2] is not None
    ]
    if failed:
        if getattr(item, "_request", None) is False:
            # runtestprotocol drops the item's request after each run and makes a new one
            # before the next: make it now, for the fixtures' finalizers.
            item._initrequest()  # type: ignore[attr-defined]  # noqa: SLF001 - see above
        request = getattr(item, "_request", None)
        for fixturedef in failed if request is not None else ():  # functions and doctests
            # Its setup failed part way: what its finalizers find to complain of is no
            # outcome of this test, and the retry reports what setting it up again does.
            with contextlib.suppress(Exception):
                fixturedef.finish(request)
    stack = getattr(getattr(item.session, "_setupstate", None), "stack", None)
    if not isinstance(stack, dict):
        return
    # {collector: (finalizers, exception)}, outermost first; nothing is set up below a
    # collector whose setup failed, so it is the last one.
    broken = next((node for node, (_, error) in stack.items() if error is not None), None)
    while broken is not None and broken in stack:
        _, (finalizers, _) = stack.popitem()
        while finalizers:
            with contextlib.suppress(Exception):  # as for a failed fixture, above
                finalizers.pop()()


def _rearm_timeout(item: pytest.Item) -> None:
    """Give a retried attempt its own per-test timeout.

    pytest-timeout arms one timer around the whole run protocol, which here holds every
    attempt: the first attempt's timeout would spend it, and a retry that hangs would hang.
    Its ``pytest_timeout_*_timer`` hooks are its documented way to arm a timer.
    """
    timeout = item.config.pluginmanager.get_plugin("timeout")
    if timeout is None:
        return
    # Its settings of the item (marker, option, ini): it has no public function for them.
    settings = timeout._get_item_settings(item)  # noqa: SLF001 - see above
    if settings.timeout and not settings.func_only:  # func_only timers are per call already
        item.ihook.pytest_timeout_cancel_timer(item=item)
        item.ihook.pytest_timeout_set_timer(item=item, settings=settings)
