"""Totals of a JUnit XML file, as pytest writes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from suitekit._files import JUNIT_LIMIT, read_bounded
from suitekit.errors import ReportError

__all__ = ["Totals", "read_totals"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    """Counts of one or more test runs.

    Attributes:
        tests: Test cases run.
        failures: Test cases that failed.
        errors: Test cases that errored (in setup or teardown, or collection).
        skipped: Test cases skipped (xfail included, as pytest writes them).
        flaky: Test cases that failed and then passed on a retry. They are not counted as
            passed: a test that needs a retry to pass is a problem to fix, not a success.
        seconds: The time the runs report.
    """

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        """Test cases that neither failed, errored, were skipped nor were flaky."""
        return self.tests - self.failures - self.errors - self.skipped - self.flaky

    def __add__(self, other: Totals) -> Totals:
        """The totals of both runs together."""
        return Totals(
            tests=self.tests + other.tests,
            failures=self.failures + other.failures,
            errors=self.errors + other.errors,
            skipped=self.skipped + other.skipped,
            flaky=self.flaky + other.flaky,
            seconds=self.seconds + other.seconds,
        )


def read_totals(path: Path) -> Totals:
    """Sum the counts of every test suite in a JUnit XML file.

    The counts are the ``<testsuite>`` attributes, which have none for flaky tests: those are
    counted as passed here (:func:`~suitekit.reporting._merge.merge_junit` tells them apart).

    Raises:
        ReportError: The file does not exist, cannot be read, is not a regular file, is larger than
            :data:`~suitekit._files.JUNIT_LIMIT` or is not JUnit XML.
    """
    from junitparser import JUnitXml, JUnitXmlError, TestSuite  # noqa: PLC0415 - kept off the import path

    # Read through read_bounded, not by junitparser: a FIFO there would block the run.
    data = read_bounded(path, limit=JUNIT_LIMIT, what="JUnit report", fix="  fix: run it again")
    if data is None:
        message = f"{path}: not a readable JUnit XML file (there is no such file)"
        raise ReportError(message)
    total = Totals()
    try:
        # fromstring returns a TestSuite when the root element is <testsuite>, whatever its
        # annotation says; hence the widening to object.
        document: object = JUnitXml.fromstring(data)
        suites = [document] if isinstance(document, TestSuite) else list(cast("JUnitXml", document))
        for suite in suites:
            total += Totals(
                tests=int(suite.tests or 0),
                failures=int(suite.failures or 0),
                errors=int(suite.errors or 0),
                skipped=int(suite.skipped or 0),
                seconds=float(suite.time or 0.0),
            )
    except (JUnitXmlError, SyntaxError, ValueError, TypeError, RecursionError) as error:
        # ValueError: a count that is not a number, or of more digits than int() converts.
        message = f"{path}: not a readable JUnit XML file ({str(error)[:200]})"
        raise ReportError(message) from None
    return total
