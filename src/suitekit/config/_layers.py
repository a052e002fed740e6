"""The run's options: the layers over ``[tool.suitekit]``, each value with its provenance.

The order is defaults < ``[tool.suitekit]`` < environment < command line. The declaration is
read into the model by the rest of this package (a suite's ``workers`` and ``coverage``);
:func:`run_options` reads the layers of a run over it, in one place:

1. the defaults: the machine's CPU count, no worker count of the run's own, coverage as each
   suite declares it;
2. the environment: ``SUITEKIT_CPUS``, ``SUITEKIT_WORKERS``, ``SUITEKIT_COVERAGE``;
3. the command line: what an adapter's options give (:class:`CliOverrides`).

The plan applies the resulting :class:`RunOptions` over each suite's own keys
(:func:`suitekit.plan.resolve_workers`, :func:`suitekit.plan.measures_coverage`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

from suitekit import _handoff
from suitekit._model import Source, Sourced, Workers
from suitekit.config._counts import cpu_budget, worker_count

__all__ = ["ENV_COVERAGE", "ENV_CPUS", "ENV_WORKERS", "CliOverrides", "RunOptions", "run_options"]

ENV_WORKERS: Final = _handoff.ENV_WORKERS
"""Overrides the worker count of the suite a session runs (``auto``, ``logical`` or an int)."""

ENV_CPUS: Final = _handoff.ENV_CPUS
"""The CPU budget that ``workers = "auto"`` fills; the machine's CPU count by default."""

ENV_COVERAGE: Final = _handoff.ENV_COVERAGE
"""``0`` turns coverage off for a run (``inv test.all --no-coverage``, ``suitekit run
--no-coverage``); any other value, or none, leaves each suite's ``coverage`` key in charge."""

_OFF: Final = frozenset({"0", "false", "no"})
"""The values of :data:`ENV_COVERAGE` that turn coverage off."""

_DECLARED: Final = Sourced(value=True, source=Source.DEFAULT, origin="each suite's coverage key")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """Run-time overrides of the declaration, each with its provenance.

    Made by :func:`run_options`; a test may build one directly.

    Attributes:
        workers: Overrides every selected suite's ``workers`` when set.
        cpus: The CPU budget that ``"auto"`` worker counts fill.
        coverage: False when the run measures no coverage at all; true leaves each suite's
            ``coverage`` key in charge.
    """

    workers: Sourced[Workers] | None = None
    cpus: Sourced[int]
    coverage: Sourced[bool] = _DECLARED

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, cpu_count: int | None = None) -> RunOptions:
        """The defaults and the environment: :func:`run_options` without a command line.

        Raises:
            ConfigError: A variable holds something that is not a worker or CPU count.
        """
        return run_options(environ, cpu_count=cpu_count)

    # The two methods below are the command-line layer alone, over options a caller already
    # holds (the unit tests build theirs without an environment); adapters pass a CliOverrides
    # to run_options instead.

    def without_coverage(self, off: bool = True) -> RunOptions:  # noqa: FBT001, FBT002 - a flag's value
        """These options with coverage turned off when ``off`` (``--no-coverage``)."""
        return _command_line(self, CliOverrides(no_coverage=off))

    def with_cpus(self, cpus: int | None, *, origin: str) -> RunOptions:
        """These options with a CPU budget from the option ``origin`` (``None`` keeps the current).

        Raises:
            ConfigError: ``cpus`` is not from 1 to :data:`~suitekit._model.MAX_WORKERS`.
        """
        return _command_line(self, CliOverrides(cpus=cpus, cpus_option=origin))


@dataclass(frozen=True, slots=True, kw_only=True)
class CliOverrides:
    """What an adapter's command line sets over the environment (``None``/false: nothing).

    Attributes:
        cpus: The CPU budget given by an option.
        cpus_option: That option's name, for provenance and errors.
        no_coverage: Whether the run measures no coverage (``--no-coverage``).
    """

    cpus: int | None = None
    cpus_option: str = "--cpus"
    no_coverage: bool = False


def run_options(
    environ: Mapping[str, str],
    *,
    cli: CliOverrides | None = None,
    cpu_count: int | None = None,
) -> RunOptions:
    """The run's options: defaults < environment < command line, each value with its source.

    Args:
        environ: The environment to read ``SUITEKIT_*`` from.
        cli: What the command line sets, if the run has one.
        cpu_count: The machine's CPU count (default: :func:`os.cpu_count`).

    Raises:
        ConfigError: A variable or an option holds something that is not a worker or CPU
            count; the message names the variable or the option and the fix.
    """
    options = _defaults(cpu_count)  # 1.
    options = _environment(options, environ)  # 2.
    return _command_line(options, cli) if cli is not None else options  # 3.


def _defaults(cpu_count: int | None) -> RunOptions:
    detected = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
    return RunOptions(cpus=Sourced(value=detected, source=Source.DEFAULT, origin="CPU count"))


def _environment(options: RunOptions, environ: Mapping[str, str]) -> RunOptions:
    # Blank variables are unset ones: CI templates often pass every variable, empty or not.
    if raw := environ.get(ENV_CPUS, "").strip():
        cpus = cpu_budget(raw, source=Source.ENV, origin=ENV_CPUS)
        options = replace(options, cpus=Sourced(value=cpus, source=Source.ENV, origin=ENV_CPUS))
    if raw := environ.get(ENV_WORKERS, "").strip():
        workers = worker_count(raw, source=Source.ENV, origin=ENV_WORKERS)
        options = replace(
            options, workers=Sourced(value=workers, source=Source.ENV, origin=ENV_WORKERS)
        )
    if environ.get(ENV_COVERAGE, "").strip().lower() in _OFF:
        off = Sourced(value=False, source=Source.ENV, origin=ENV_COVERAGE)
        options = replace(options, coverage=off)
    return options


def _command_line(options: RunOptions, cli: CliOverrides) -> RunOptions:
    if cli.cpus is not None:
        cpus = cpu_budget(cli.cpus, source=Source.CLI, origin=cli.cpus_option)
        options = replace(
            options, cpus=Sourced(value=cpus, source=Source.CLI, origin=cli.cpus_option)
        )
    if cli.no_coverage:
        off = Sourced(value=False, source=Source.CLI, origin="--no-coverage")
        options = replace(options, coverage=off)
    return options
