"""The JUnit vocabulary suitekit writes and reads: Surefire's attempt elements, the quarantine.

The pytest plugin writes these names into pytest's JUnit file (``_attempts``) and the merge
reads them back (``_merge``); both take them from here, so that the two can never disagree.

- Earlier, failed attempts of a retried test are children of its ``<testcase>``, in the form
  Maven Surefire writes: ``<flakyFailure>`` / ``<flakyError>`` when the test passed in the end,
  ``<rerunFailure>`` / ``<rerunError>`` when it failed in the end (``Failure`` for a failed
  call, ``Error`` for a failed setup or teardown).
- A quarantined test that failed has ``<skipped type="suitekit.quarantined">``, and every
  quarantined test is named by a suite property ``suitekit.quarantined`` whose value is JSON:
  ``{"test": "<classname::name>", "entry": "<the quarantine entry's test>"}``.
- A ``message`` attribute holds the first line of a message (:func:`first_line`).
"""

from __future__ import annotations

import json
from typing import Final

__all__ = [
    "ATTEMPT_ELEMENTS",
    "FLAKY_ERROR",
    "FLAKY_FAILURE",
    "LOCATION_PROPERTY",
    "QUARANTINED_PROPERTY",
    "QUARANTINED_TYPE",
    "RERUN_ERROR",
    "RERUN_FAILURE",
    "attempt_element",
    "first_line",
    "location_value",
]

FLAKY_FAILURE: Final = "flakyFailure"
"""A failed call of a test that passed on a later attempt."""

FLAKY_ERROR: Final = "flakyError"
"""A failed setup or teardown of a test that passed on a later attempt."""

RERUN_FAILURE: Final = "rerunFailure"
"""A failed call of a test that failed on its last attempt too."""

RERUN_ERROR: Final = "rerunError"
"""A failed setup or teardown of a test that failed on its last attempt too."""

ATTEMPT_ELEMENTS: Final = frozenset({FLAKY_FAILURE, FLAKY_ERROR, RERUN_FAILURE, RERUN_ERROR})
"""The children of a ``<testcase>`` that each record one earlier, failed attempt of it."""

QUARANTINED_TYPE: Final = "suitekit.quarantined"
"""The ``type`` of the ``<skipped>`` element of a quarantined test that failed."""

QUARANTINED_PROPERTY: Final = "suitekit.quarantined"
"""The name of the test-suite property that names one quarantined test (a JSON value)."""

LOCATION_PROPERTY: Final = "suitekit.location"
"""The name of the test-suite property that locates one test that failed in some attempt.

Its value is JSON: ``{"test": "<classname::name>", "node": "<node id>", "file": "<path>",
"line": <1-based line or null>}``, the node id and the path relative to the project's root.
pytest's JUnit family ``xunit2`` (its default, and the one ``junit-10.xsd`` describes) has no
``file`` or ``line`` on a ``<testcase>``, and no ``<properties>`` inside one; a test suite's
properties are valid, and the merge copies them byte for byte.
"""


def location_value(*, test: str, node_id: str, file: str, line: int | None) -> str:
    """The JSON value of one :data:`LOCATION_PROPERTY`."""
    return json.dumps({"test": test, "node": node_id, "file": file, "line": line})


def attempt_element(*, passed_in_the_end: bool, call: bool) -> str:
    """The element of one failed attempt.

    Args:
        passed_in_the_end: Whether the test's last attempt passed (``flaky…``, else ``rerun…``).
        call: Whether the attempt failed in its call (``…Failure``, else ``…Error``).
    """
    if passed_in_the_end:
        return FLAKY_FAILURE if call else FLAKY_ERROR
    return RERUN_FAILURE if call else RERUN_ERROR


def first_line(text: str) -> str:
    """The first non-blank line of ``text``, stripped (``""`` when there is none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
