"""The one exception tree of suitekit.

Library code raises these; only the edges (the CLI, nox sessions, invoke tasks and the pytest
plugin) turn them into exit codes or the host tool's own error type.
"""

from __future__ import annotations

from pathlib import Path
from typing import final

__all__ = [
    "CiError",
    "ConfigError",
    "PartitionError",
    "ReportError",
    "RunError",
    "ServiceError",
    "SuitekitError",
]


class SuitekitError(Exception):
    """Base of every error suitekit raises on purpose."""

    def __init__(self, message: str) -> None:
        """Keep the message so that ``str(error)`` is never empty."""
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        """The message, ready for a terminal."""
        return self.message


@final
class ConfigError(SuitekitError):
    """``[tool.suitekit]`` (or an override of it) is malformed.

    One error may report several independent mistakes of one file (see :meth:`together`): its
    attributes are the first mistake's, and :attr:`errors` holds each of them.

    Attributes:
        file: The configuration file, or ``None`` for an environment variable or option.
        key: The dotted key path, e.g. ``tool.suitekit.suites.unit.workers``.
        value: The offending value (``None`` where the problem is a missing key).
        problem: What is wrong.
        fix: One sentence saying how to repair it.
        others: The mistakes reported after the first, each an error of its own.
    """

    def __init__(
        self,
        *,
        file: Path | None,
        key: str,
        problem: str,
        fix: str,
        value: object = None,
        others: tuple[ConfigError, ...] = (),
    ) -> None:
        """Build the message from its parts: where, what, and how to fix it (then the others)."""
        where = f"{file}: " if file is not None else ""
        message = f"{where}{key}: {problem}\n  fix: {fix}"
        if others:
            listed = "\n".join(other.message for other in others)
            message = f"{message}\n{listed}\n({len(others) + 1} errors in {file or 'all'})"
        super().__init__(message)
        self.file = file
        self.key = key
        self.value = value
        self.problem = problem
        self.fix = fix
        self.others = others

    @property
    def errors(self) -> tuple[ConfigError, ...]:
        """Every mistake this error reports, the first one (this error's own) first."""
        first = ConfigError(
            file=self.file, key=self.key, problem=self.problem, fix=self.fix, value=self.value
        )
        return (first, *self.others) if self.others else (self,)

    @classmethod
    def together(cls, errors: tuple[ConfigError, ...]) -> ConfigError:
        """One error reporting every one of ``errors`` (at least one), in their order."""
        mistakes = tuple(mistake for error in errors for mistake in error.errors)
        first = mistakes[0]
        if len(mistakes) == 1:
            return first
        return cls(
            file=first.file,
            key=first.key,
            problem=first.problem,
            fix=first.fix,
            value=first.value,
            others=mistakes[1:],
        )

    @classmethod
    def option(cls, flag: str, value: object, problem: str, fix: str) -> ConfigError:
        """The error of a command-line option (``--seed``): no file, the flag as the key."""
        return cls(file=None, key=flag, value=value, problem=problem, fix=fix)


@final
class PartitionError(SuitekitError):
    """Tests under the project's test paths are owned by no suite, or by more than one.

    Attributes:
        unowned: Node ids that no suite selects.
        overlapping: Node ids with the names of the suites that all select them.
    """

    def __init__(
        self,
        *,
        unowned: tuple[str, ...],
        overlapping: tuple[tuple[str, tuple[str, ...]], ...],
        subject: str = "test",
        fix: str = "",
    ) -> None:
        """Build a message that lists every offending node id (or file: ``subject``)."""
        lines = [f"suitekit: every {subject} must belong to exactly one suite."]
        if unowned:
            lines.append(f"{len(unowned)} {subject}(s) belong to no suite:")
            lines.extend(f"  {node_id}" for node_id in unowned)
        if overlapping:
            lines.append(f"{len(overlapping)} {subject}(s) belong to more than one suite:")
            lines.extend(f"  {node_id}  ({', '.join(names)})" for node_id, names in overlapping)
        lines.append(
            "  fix: "
            + (
                fix
                or "add the file's folder to a suite's `paths`, or mark the test with a suite's "
                "marker; where two suites overlap, narrow one with a marker expression such as "
                '`marker = "not processing"`.'
            )
        )
        super().__init__("\n".join(lines))
        self.unowned = unowned
        self.overlapping = overlapping


@final
class CiError(SuitekitError):
    """A CI file cannot be generated, read or written."""


@final
class RunError(SuitekitError):
    """A command that suitekit runs could not be started or was misused."""


@final
class ReportError(SuitekitError):
    """A test report (JUnit XML, coverage data) is missing, unreadable or inconsistent."""


@final
class ServiceError(SuitekitError):
    """A service (PostgreSQL, Redis) cannot be provided, reached or prepared."""
