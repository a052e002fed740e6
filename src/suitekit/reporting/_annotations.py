"""GitHub Actions annotations of the failed tests, as workflow commands.

``suitekit report`` prints these lines when it runs in GitHub Actions (``GITHUB_ACTIONS=true``);
the runner turns each ``::error`` line into an annotation on the run, the pull request's
checks and, with a file and line, the test's own line in the diff. No third-party action is
needed: a workflow command is a line on the step's output.

Each failed or errored test gets one line, in the merge's order::

    ::error file=tests/unit/test_isbn.py,line=12,title=<test> failed in unit-3.11::<message>

The file and line are the plugin's (``suitekit.location``: the test function's file and its
1-based line), or another runner's own ``file`` attribute, or none: the annotation is then
on the run alone. A file is relative to the repository's root, which the runner resolves it
against: ``base`` is the project's folder in the repository (``""`` at its root).

GitHub shows at most 10 error annotations (and 10 warnings) per step and drops the rest
silently, so :data:`ANNOTATION_LIMIT` lines are printed, then one ``::warning`` saying how many
more failed; the step summary lists them all. Everything here is pure.

Escaping is the runner's own (``@actions/core``'s ``escapeData`` and ``escapeProperty``): in
the message ``%``, CR and LF become ``%25``, ``%0D`` and ``%0A``; in a property
(file, title) ``:`` and ``,`` also become ``%3A`` and ``%2C``, as they end a property.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Final

from suitekit.reporting._figures import rerun_command
from suitekit.reporting._results import CaseResult

__all__ = ["ANNOTATION_LIMIT", "annotation_lines", "escape_data", "escape_property"]

ANNOTATION_LIMIT: Final = 10
"""Error annotations printed: what GitHub shows of one step (it drops the others silently)."""

_DATA: Final = str.maketrans({"%": "%25", "\r": "%0D", "\n": "%0A"})
_PROPERTY: Final = str.maketrans({"%": "%25", "\r": "%0D", "\n": "%0A", ":": "%3A", ",": "%2C"})


def escape_data(text: str) -> str:
    """Text as a workflow command's data (after ``::``)."""
    return text.translate(_DATA)


def escape_property(text: str) -> str:
    """Text as a workflow command's property value (``file=``, ``title=``)."""
    return text.translate(_PROPERTY)


def annotation_lines(
    failed: Sequence[CaseResult], *, base: str = "", limit: int = ANNOTATION_LIMIT
) -> list[str]:
    """The workflow command lines that annotate the failed tests (see the module's docs).

    Args:
        failed: The failed and errored cases, in the order to annotate them.
        base: The project's folder relative to the repository's root, POSIX style (``""``
            when the project is the repository): prefixed to each file.
        limit: How many ``::error`` lines at most; one ``::warning`` line counts the rest.

    Raises:
        ValueError: ``limit`` is negative.
    """
    if limit < 0:
        message = f"limit must be 0 or more, not {limit}"
        raise ValueError(message)
    lines = [_error(case, base) for case in failed[:limit]]
    rest = len(failed) - limit
    if rest > 0:
        noun = "test" if rest == 1 else "tests"
        text = (
            f"{rest} more failed {noun} not annotated (GitHub shows {limit} error annotations "
            "per step); the job's summary lists every failed test"
        )
        lines.append(f"::warning title=suitekit report::{escape_data(text)}")
    return lines


def _error(case: CaseResult, base: str) -> str:
    where = case.report or case.suite
    verb = "errored" if case.outcome == "error" else "failed"
    attempts = f" after {case.attempts} attempts" if case.attempts > 1 else ""
    properties = []
    if case.file:
        path = PurePosixPath(base, case.file).as_posix() if base else case.file
        properties.append(f"file={escape_property(path)}")
        if case.line is not None:
            properties.append(f"line={case.line}")
    properties.append(f"title={escape_property(f'{case.test} {verb} in {where}{attempts}')}")
    message = case.message or f"the test {verb}"
    rerun = rerun_command(case)
    if rerun:
        message += f"\nRun it again: {rerun}"
    return f"::error {','.join(properties)}::{escape_data(message)}"
