"""How many xdist workers a suite session gets: declared, resolved, or a share of the CPUs."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final, Literal

from suitekit._model import Project, Source, Sourced, Suite, Workers

if TYPE_CHECKING:
    from suitekit.config import RunOptions

__all__ = [
    "chooses_workers",
    "declared_workers",
    "plugin_decides_workers",
    "recorded_work",
    "resolve_workers",
    "session_workers",
    "share_cpus",
]


def declared_workers(suite: Suite, options: RunOptions) -> Workers:
    """The worker count a suite asks for: ``SUITEKIT_WORKERS`` when set, else its ``workers``."""
    return options.workers.value if options.workers is not None else suite.workers


def plugin_decides_workers(suite: Suite, options: RunOptions) -> bool:
    """Whether the pytest plugin decides the worker count: ``"auto"`` on 2+ CPUs.

    The session then passes ``-n auto``; the plugin decides after collection, from recorded
    durations or the run's first tests (see :mod:`suitekit.sharding._workers`).
    """
    return declared_workers(suite, options) == "auto" and options.cpus.value > 1


def session_workers(
    suite: Suite, options: RunOptions, posargs: Sequence[str] = ()
) -> Sourced[int | Literal["auto"]]:
    """What a suite session passes to ``-n``, and where it came from (for the header).

    A count given after ``--`` wins (the plan then leaves ``-n`` out); else ``"auto"`` where
    :func:`plugin_decides_workers`, else :func:`resolve_workers`.
    """
    workers = resolve_workers(suite, options)
    if chooses_workers(posargs):
        return Sourced(value=workers.value, source=Source.CLI, origin="command line")
    if plugin_decides_workers(suite, options):
        return Sourced(value="auto", source=workers.source, origin=workers.origin)
    return Sourced(value=workers.value, source=workers.source, origin=workers.origin)


def resolve_workers(suite: Suite, options: RunOptions) -> Sourced[int]:
    """The xdist worker count a suite's ``-n`` would be without the plugin's decision, and why.

    ``"auto"`` is the CPU budget (one CPU means no xdist: a single worker only adds the cost
    of starting it); where :func:`plugin_decides_workers` holds, sessions pass ``-n auto`` and
    the plugin decides. ``"logical"`` is the machine's logical CPU count; an int is taken as
    is. An environment override wins over the declaration.
    """
    if options.workers is not None:
        chosen, source, origin = (
            options.workers.value,
            options.workers.source,
            options.workers.origin,
        )
    else:
        chosen, source, origin = suite.workers, Source.CONFIG, f"suites.{suite.name}.workers"
    if chosen == "auto":
        count = options.cpus.value if options.cpus.value > 1 else 0
        why = f"auto: {options.cpus.value} CPU(s) from {options.cpus.source.describe()}"
        return Sourced(value=count, source=source, origin=f"{origin} ({why})")
    if chosen == "logical":
        return Sourced(value=os.cpu_count() or 1, source=source, origin=f"{origin} (logical CPUs)")
    return Sourced(value=chosen, source=source, origin=origin)


def share_cpus(
    demands: Sequence[tuple[str, Workers]],
    budget: int,
    work: Mapping[str, float] | None = None,
    *,
    first: str | None = None,
) -> dict[str, int]:
    """Split a CPU budget between suites that run at the same time.

    CPUs are handed out to suites that still want more. A suite with a fixed ``workers = N``
    wants N; an ``"auto"`` or ``"logical"`` suite wants the whole budget; ``workers = 0`` wants
    none; the sum never exceeds the budget, and may stay below it (a CPU that could start xdist
    nowhere, by recorded work). A suite handed one CPU or none runs without xdist (a lone worker
    is pure cost).

    Which suite gets the next CPU:

    - when ``work`` gives the recorded seconds of every suite that wants CPUs (its tests' serial
      time), the one that would run longest with what it holds (``work / max(held, 1)``), so
      that it gets the workers and the short ones run beside it; its first step is two CPUs
      (see :func:`_share_by_work`);
    - otherwise max-min fairly ("water filling"): the one holding the fewest so far; with
      ``first`` (the session expected to run longest, from its target) that one gets what it
      wants first, and the others share the rest.

    Ties go to the suite that holds fewer, then to the one declared first.

    Args:
        demands: Each running suite session's name and declared worker count.
        budget: The CPUs to share.
        work: Recorded seconds of test time per session name, where known.
        first: A session served before the fair split (ignored when ``work`` decides).

    Returns:
        The worker count (for ``-n``) of each session, by name.
    """
    wants = {name: workers if isinstance(workers, int) else budget for name, workers in demands}
    held = dict.fromkeys(wants, 0)
    order = {name: index for index, name in enumerate(wants)}
    known = work or {}
    if known and all(name in known for name, want in wants.items() if want > 0):
        return _share_by_work(wants, held, budget, known, order)
    left = budget
    if first is not None and wants.get(first, 0) > 0:
        held[first] = min(wants[first], budget)
        left -= held[first]
    for _ in range(left):
        hungry = [name for name in wants if held[name] < wants[name]]
        if not hungry:
            break
        chosen = min(hungry, key=lambda n: (held[n], order[n]))
        held[chosen] += 1
    return {name: (count if count > 1 else 0) for name, count in held.items()}


_LEAST: Final = 2
"""The fewest CPUs that give a suite xdist: a lone worker only adds the cost of starting it."""


def _share_by_work(
    wants: Mapping[str, int],
    held: dict[str, int],
    budget: int,
    work: Mapping[str, float],
    order: Mapping[str, int],
) -> dict[str, int]:
    """CPUs, a step at a time, to the suite that would run longest (its work over its workers).

    A suite without xdist runs on one CPU whatever it holds, so its first step is two CPUs
    (xdist's two workers): one CPU handed to it alone would change nothing, and would be lost
    to the suite that needed it. (Handing out one CPU at a time split 2 CPUs between the two
    longest suites of the example project, and so gave xdist to neither.)
    """
    left = budget
    while left > 0:
        growing = [
            name
            for name, want in wants.items()
            if held[name] < want and (held[name] >= _LEAST or (want >= _LEAST and left >= _LEAST))
        ]
        if not growing:
            break
        chosen = max(growing, key=lambda n: (work[n] / max(held[n], 1), -held[n], -order[n]))
        step = 1 if held[chosen] else _LEAST
        held[chosen] += step
        left -= step
    return dict(held)


def recorded_work(project: Project) -> dict[str, float]:
    """Each suite's recorded test time, as if run serially (from the durations store).

    Empty when there is no store or it cannot be read (the suite sessions report a broken
    store themselves).
    """
    from suitekit.errors import SuitekitError  # noqa: PLC0415 - with the store only
    from suitekit.sharding import DURATIONS_FILE, DurationStore  # noqa: PLC0415

    try:
        store = DurationStore.load(project.root / DURATIONS_FILE)
    except SuitekitError:
        return {}
    return {
        suite: sum(measurement.serial_seconds for measurement in cases.values())
        for suite, cases in store.suites.items()
        if cases
    }


def chooses_workers(posargs: Sequence[str]) -> bool:
    """Whether arguments given on the command line set xdist's worker count themselves.

    Then the suite's own ``-n`` and ``--dist`` are left out, so the command line wins and the
    header does not credit the declaration for it.
    """
    return any(
        arg in ("-n", "--numprocesses")
        or arg.startswith("--numprocesses=")
        or (arg.startswith("-n") and arg[2:].isalnum())
        for arg in posargs
    )
