"""The sessions a project gets, their names, commands and files, and the partition guard's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from suitekit import _layout
from suitekit._model import Check, Project, Suite

if TYPE_CHECKING:
    # The shard parser: what every adapter imports stays small.
    from suitekit.sharding import ShardSpec

__all__ = [
    "CHECK_TAG",
    "COVERAGE_SESSION",
    "PARTITION_SESSION",
    "REPORT_SESSION",
    "SUITE_TAG",
    "JobKind",
    "SessionSpec",
    "check_env",
    "collection_suite",
    "env_conflicts",
    "junit_path",
    "log_path",
    "nox_command",
    "session_name",
    "sessions",
]


PARTITION_SESSION: Final = "partition"
"""The session that checks that every test belongs to exactly one suite."""

SUITE_TAG: Final = "suites"
"""The nox tag of every suite session (``nox -t suites``)."""
CHECK_TAG: Final = "checks"
"""The nox tag of every check session (``nox -t checks``)."""

JobKind = Literal["suite", "check", "partition", "report", "coverage"]

REPORT_SESSION: Final = "report"
"""The session that merges the run's JUnit files and writes the summary."""

COVERAGE_SESSION: Final = "coverage"
"""The session that combines the run's coverage data and applies the gate."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSpec:
    """A nox session suitekit registers.

    Attributes:
        name: The session's base name (nox appends ``-<python>`` to parametrized ones).
        python: The Python versions (a tuple: parametrized) or one version (not parametrized).
        tags: nox tags (``suites``, ``checks``).
        description: The line ``nox -l`` shows.
        kind: What the session runs.
    """

    name: str
    python: tuple[str, ...] | str
    tags: tuple[str, ...]
    description: str
    kind: JobKind


def _suite_description(suite: Suite) -> str:
    parts = []
    if suite.paths:
        parts.append(", ".join(suite.paths))
    if suite.marker:
        parts.append(f"-m {suite.marker!r}")
    extra = f"; services: {', '.join(suite.services)}" if suite.services else ""
    budget = f"; target {suite.target_seconds:g}s" if suite.target_seconds else ""
    if suite.runner.kind != "pytest":
        runs = " ".join([f"{suite.runner.kind} in {suite.runner.cwd or '.'}", *parts])
        return f"Suite {suite.name!r}: {runs} (workers={suite.workers}{extra}{budget})"
    workers = "no xdist" if suite.workers == 0 else f"workers={suite.workers}, dist={suite.dist}"
    return f"Suite {suite.name!r}: pytest {' '.join(parts)} ({workers}{extra}{budget})"


def _check_description(check: Check) -> str:
    advisory = " (advisory: may fail)" if check.allow_failure else ""
    return f"Check {check.name!r}: {' && '.join(check.run)}{advisory}"


def sessions(project: Project) -> tuple[SessionSpec, ...]:
    """Every session the project gets: one per suite, one per check, and the partition guard."""
    specs = [
        SessionSpec(
            name=suite.name,
            python=suite.python,
            tags=(SUITE_TAG,),
            description=_suite_description(suite),
            kind="suite",
        )
        for suite in project.suites
    ]
    specs += [
        SessionSpec(
            name=check.name,
            python=check.python,
            tags=(CHECK_TAG,),
            description=_check_description(check),
            kind="check",
        )
        for check in project.checks
    ]
    specs.append(
        SessionSpec(
            name=REPORT_SESSION,
            python=project.python[0],
            tags=(),
            description="Merge the run's JUnit files into one report; print and write the summary",
            kind="report",
        )
    )
    if project.source:
        specs.append(
            SessionSpec(
                name=COVERAGE_SESSION,
                python=project.python[0],
                tags=(),
                description=f"Combine the suites' coverage; fail under {project.fail_under:g}%",
                kind="coverage",
            )
        )
    specs.append(
        SessionSpec(
            name=PARTITION_SESSION,
            python=project.python[0],
            tags=(),
            description="Check that every test belongs to exactly one suite; count each suite",
            kind="partition",
        )
    )
    return tuple(specs)


def junit_path(project: Project, suite: Suite, python: str, shard: ShardSpec | None = None) -> Path:
    """Where a suite session writes its JUnit XML: unique per suite, Python and shard.

    ``unit-3.11.xml`` for the whole suite, ``unit-3.11.shard-2-of-4.xml`` for a shard, so that
    the CI artifacts of every shard can be downloaded into one folder and merged.
    """
    split = (shard.index, shard.total) if shard is not None else None
    return _layout.junit_file(
        project.root / project.reports, session_name(suite.name, python), split
    )


def log_path(project: Project, session: str) -> Path:
    """Where a run keeps a session's output."""
    return _layout.log_file(project.root / project.reports, session)


def nox_command(session: str) -> tuple[str, ...]:
    """The command that runs one nox session, run from the project root.

    Developers (``inv``), suitekit's parallel runner and generated CI all run exactly this.
    """
    return ("nox", "-s", session)


def session_name(name: str, python: str) -> str:
    """The full name of a parametrized session: ``unit-3.11``."""
    return _layout.session_name(name, python)


def check_env(project: Project, check: Check) -> dict[str, str]:
    """The variables a check's commands get from the config: the project's, then its own."""
    return {**project.env, **check.env}


def collection_suite(project: Project) -> Suite:
    """The pseudo-suite the partition guard collects as: every test root, service and ``env``.

    Collection imports every conftest; those that read a service's variables, or a suite's
    ``env`` (``DJANGO_SETTINGS_MODULE``, say), at import time must find them, so the guard gets
    (empty) services like a suite run does, and the ``env`` of every suite. A variable that
    suites set to different values has the first one's value (see :func:`env_conflicts`):
    one process cannot hold both, and the whole run's guard is decided from the suites' own
    collections, each with its own ``env``, anyway.
    """
    env: dict[str, str] = {}
    for suite in project.pytest_suites:
        env.update((name, value) for name, value in suite.env.items() if name not in env)
    return Suite(
        name=PARTITION_SESSION,
        paths=project.tests,
        workers=0,
        services=tuple(dict.fromkeys(s for suite in project.pytest_suites for s in suite.services)),
        env=env,
    )


def env_conflicts(project: Project) -> tuple[str, ...]:
    """The variables that suites set to different values, each with what the guard uses.

    One line per variable, for the partition session to say (see :func:`collection_suite`).
    """
    first: dict[str, tuple[str, str]] = {}
    lines: list[str] = []
    for suite in project.pytest_suites:
        for name, value in suite.env.items():
            if name not in first:
                first[name] = (suite.name, value)
            elif first[name][1] != value and first[name][0] != "":
                owner, kept = first[name]
                lines.append(
                    f"{name}: suite {suite.name!r} sets {value!r}, suite {owner!r} {kept!r}; "
                    f"the partition guard collects with {kept!r}"
                )
                first[name] = ("", kept)  # one line per variable
    return tuple(lines)
