"""The names, limits and key tables of ``[tool.suitekit]``, and the did-you-mean of its errors.

Every other module of :mod:`suitekit.config` reads its allowed keys from here, so the keys a
table accepts are declared once, next to each other.
"""

from __future__ import annotations

import re
from typing import Final

from suitekit._kinds import KINDS

__all__ = [
    "ADD_TABLE",
    "BACKEND_KEYS",
    "CHECK_KEYS",
    "CI_KEYS",
    "COVERAGE_KEYS",
    "CUSTOM_FIELDS",
    "CUSTOM_SERVICE_KEYS",
    "DOCS",
    "ENV_NAME",
    "INSTALL_KEYS",
    "ISOLATION_KEYS",
    "MAX_RETRIES",
    "POSTGRES_FIELDS",
    "PYTEST_ONLY_KEYS",
    "PYTHON_VERSION",
    "QUARANTINE_KEYS",
    "REDIS_FIELDS",
    "RESERVED_NAMES",
    "ROOT_KEY",
    "RUNNER_KEYS",
    "SERVICE_KEYS",
    "SESSION_NAME",
    "SUITE_KEYS",
    "TOP_KEYS",
    "closest",
    "did_you_mean",
    "type_name",
]

ROOT_KEY: Final = "tool.suitekit"
DOCS: Final = "docs/configuration.md"
ADD_TABLE: Final = f"add a [tool.suitekit] table with at least one suite (see {DOCS})"

RESERVED_NAMES: Final = frozenset({"all", "partition", "report", "coverage", "clean", "flaky"})
"""Names suitekit uses for its own sessions and tasks; suites and checks may not take them."""

MAX_RETRIES: Final = 10
"""The most retries a suite's ``retries`` (or ``--suitekit-retries``) may ask for."""

SESSION_NAME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,47}$")
PYTHON_VERSION: Final = re.compile(r"^(?:pypy)?3\.\d{1,2}t?$")
ENV_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

TOP_KEYS: Final = (
    "python",
    "install",
    "source",
    "tests",
    "reports",
    "env",
    "suites",
    "checks",
    "services",
    "isolation",
    "coverage",
    "ci",
    "quarantine",
)
QUARANTINE_KEYS: Final = ("test", "reason", "release-after", "suite")
CI_KEYS: Final = ("github", "gitlab", "runner", "branches", "suitekit", "pin", "comment")
COVERAGE_KEYS: Final = ("fail-under",)
SERVICE_KEYS: Final = tuple(KINDS)
"""A table of ``[tool.suitekit.services]`` per service; each service's keys are its kind's."""
CUSTOM_SERVICE_KEYS: Final = (
    "run",
    "ready",
    "env",
    "scope",
    "timeout",
    "memory",
    "image",
    "install",
)
"""The keys of a service of the project's own (a table of ``[tool.suitekit.services]`` that
names no service suitekit provides)."""
CUSTOM_FIELDS: Final = ("port", "dir", "host", "worker")
"""The fields the templates of a service of the project's own may use (``run``, ``ready``,
``env``): its instance's port and private folder, ``127.0.0.1``, and the worker's id."""
ISOLATION_KEYS: Final = ("dirs", "ports", "hashseed")
POSTGRES_FIELDS: Final = KINDS["postgres"].fields
"""The fields a PostgreSQL ``env`` template may use (the services render them per worker)."""
REDIS_FIELDS: Final = KINDS["redis"].fields
"""The fields a Redis ``env`` template may use."""
SUITE_KEYS: Final = (
    "paths",
    "marker",
    "workers",
    "dist",
    "target-seconds",
    "services",
    "env",
    "pytest-args",
    "python",
    "install",
    "shards",
    "retries",
    "coverage",
    "timeout",
    "deadline",
    "runner",
    "cwd",
    "run",
    "backend",
)
PYTEST_ONLY_KEYS: Final = (
    "marker",
    "dist",
    "pytest-args",
    "coverage",
    "timeout",
    "deadline",
)
"""The keys of a suite that only pytest's suites take (pytest's selection, xdist, coverage).

``retries`` is not among them: the runners of ``RETRYING_RUNNERS`` take it too."""
RUNNER_KEYS: Final = ("cwd", "run", "backend")
"""The keys of a suite that only another runner's suites take."""
BACKEND_KEYS: Final = ("run", "ready", "env", "timeout", "memory", "install")
"""The keys of a Playwright suite's ``backend``: a service of the project's own, less what a
copy per Playwright worker makes moot (``scope``) or CI-only (``image``)."""
CHECK_KEYS: Final = ("run", "allow-failure", "services", "env", "python", "install")
INSTALL_KEYS: Final = (
    "project",
    "editable",
    "groups",
    "extras",
    "requirements",
    "packages",
    "lock",
)


def closest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """The one of ``choices`` close enough to ``word`` to be what was meant, if any."""
    import difflib  # noqa: PLC0415 - on error paths, and the marker check's unregistered names

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to ``word``, else ``""``."""
    close = closest(word, choices)
    return f" (did you mean {close!r}?)" if close is not None else ""


def type_name(value: object) -> str:
    """What ``value`` is, in TOML's words (``a string``, ``an array``), for messages."""
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
