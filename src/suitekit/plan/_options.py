"""The run's overrides of the declaration, read from the environment or the command line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

from suitekit import _handoff
from suitekit._model import MAX_WORKERS, Source, Sourced, Workers
from suitekit.errors import ConfigError

__all__ = [
    "ENV_COLLECTIONS",
    "ENV_COVERAGE",
    "ENV_CPUS",
    "ENV_REINSTALL",
    "ENV_WORKERS",
    "RunOptions",
    "parse_workers",
]

ENV_WORKERS: Final = _handoff.ENV_WORKERS
"""Overrides the worker count of the suite a session runs (``auto``, ``logical`` or an int)."""

ENV_CPUS: Final = _handoff.ENV_CPUS
"""The CPU budget that ``workers = "auto"`` fills; the machine's CPU count by default."""

ENV_REINSTALL: Final = _handoff.ENV_REINSTALL
"""``1`` makes every session install its virtualenv again (``inv ... --reinstall``)."""

ENV_COVERAGE: Final = _handoff.ENV_COVERAGE
"""``0`` turns coverage off for a run (``inv test.all --no-coverage``, ``suitekit run
--no-coverage``); any other value, or none, leaves each suite's ``coverage`` key in charge."""

ENV_COLLECTIONS: Final = _handoff.ENV_COLLECTIONS
"""A private folder where each suite session of a whole run records what it collected and
selected; the runner decides the partition guard from those records (no session of its own)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """Run-time overrides of the declaration, each with its provenance.

    Attributes:
        workers: Overrides every selected suite's ``workers`` when set.
        cpus: The CPU budget that ``"auto"`` worker counts fill.
        coverage: ``False`` when the run measures no coverage at all.
    """

    workers: Sourced[Workers] | None = None
    cpus: Sourced[int]
    coverage: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, cpu_count: int | None = None) -> RunOptions:
        """Read ``SUITEKIT_WORKERS``, ``SUITEKIT_CPUS`` and ``SUITEKIT_COVERAGE``.

        Raises:
            ConfigError: A variable holds something that is not a worker or CPU count.
        """
        detected = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
        cpus = Sourced(value=detected, source=Source.DEFAULT, origin="CPU count")
        if raw := environ.get(ENV_CPUS, "").strip():
            if not _count(raw, minimum=1):
                raise ConfigError(
                    file=None,
                    key=f"environment variable {ENV_CPUS}",
                    value=raw,
                    problem=f"{raw!r} is not a CPU count from 1 to {MAX_WORKERS}",
                    fix=f"set {ENV_CPUS} to a whole number from 1 to {MAX_WORKERS}, or unset it",
                )
            cpus = Sourced(value=int(raw), source=Source.ENV, origin=ENV_CPUS)
        workers: Sourced[Workers] | None = None
        if raw := environ.get(ENV_WORKERS, "").strip():
            workers = Sourced(
                value=parse_workers(raw, key=f"environment variable {ENV_WORKERS}"),
                source=Source.ENV,
                origin=ENV_WORKERS,
            )
        coverage = environ.get(ENV_COVERAGE, "").strip().lower() not in {"0", "false", "no"}
        return cls(workers=workers, cpus=cpus, coverage=coverage)

    def without_coverage(self, off: bool = True) -> RunOptions:  # noqa: FBT001, FBT002 - a flag's value
        """These options with coverage turned off when ``off`` (``--no-coverage``)."""
        return replace(self, coverage=False) if off else self

    def with_cpus(self, cpus: int | None, *, origin: str) -> RunOptions:
        """These options with a CPU budget from the command line (``None`` keeps the current).

        Raises:
            ConfigError: ``cpus`` is less than 1.
        """
        if cpus is None:
            return self
        if not 1 <= cpus <= MAX_WORKERS:
            raise ConfigError(
                file=None,
                key=origin,
                value=cpus,
                problem=f"{cpus} is not a CPU count from 1 to {MAX_WORKERS}",
                fix=f"pass {origin} a whole number from 1 to {MAX_WORKERS}, or leave it out",
            )
        return replace(self, cpus=Sourced(value=cpus, source=Source.CLI, origin=origin))


def parse_workers(raw: str, *, key: str) -> Workers:
    """Read a worker count given as text (an environment variable or an option).

    Raises:
        ConfigError: ``raw`` is not ``auto``, ``logical`` or a whole number >= 0.
    """
    if raw in ("auto", "logical"):
        return raw  # type: ignore[return-value]  # narrowed by the membership test
    if _count(raw, minimum=0):
        return int(raw)
    raise ConfigError(
        file=None,
        key=key,
        value=raw,
        problem=f"{raw!r} is not a worker count from 0 to {MAX_WORKERS}",
        fix=f'use "auto", "logical", or a whole number up to {MAX_WORKERS} (0: without xdist)',
    )


def _count(raw: str, *, minimum: int) -> bool:
    """Whether ``raw`` is a whole number from ``minimum`` to :data:`MAX_WORKERS`.

    Its length is checked before it is converted: a string of thousands of digits is refused
    without Python's own error for converting it.
    """
    return (
        raw.isascii()
        and raw.isdigit()
        and len(raw) <= len(str(MAX_WORKERS))
        and minimum <= int(raw) <= MAX_WORKERS
    )
