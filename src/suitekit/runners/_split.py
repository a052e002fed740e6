"""A suite of another runner split into shards file by file, balanced by recorded durations.

Vitest, Jest and Playwright split ``--shard K/N`` by file count or by a hash of the path, so
one shard can get every slow file. suitekit instead sums each file's recorded test times
(the durations store keeps them per JUnit case, ``classname::name``, and these runners'
classname is the file), gives a file without a record the median of the known files, and
deals the files out longest first onto the least loaded shard (Graham's LPT rule, as
:mod:`suitekit.sharding` does for pytest). The split depends only on the sorted file list and
the store, so every CI job computes the same one on its own. Each file also counts what the
runner spends on it outside its tests (``Runner.file_seconds``): importing and isolating a file
is not in any test's time, and a shard of many quick files would otherwise be underrated.
With no record of any file there is nothing to balance on: the runner's own ``--shard`` is
used.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from suitekit.runners._protocol import relative
from suitekit.sharding import LongestFirst, Measurement, Unit

__all__ = ["split_files"]


def split_files(
    files: Sequence[str],
    *,
    root: Path,
    count: int,
    stored: Mapping[str, Measurement],
    unit_of: Callable[[str], str],
    file_seconds: float = 0.0,
) -> tuple[tuple[str, ...], ...] | None:
    """The files of each of ``count`` shards, or ``None`` when no file has a record.

    Args:
        files: The suite's test files, absolute.
        root: The runner's folder: a file's key in the store is its path relative to it.
        count: How many shards.
        stored: The suite's measurements (case key ``classname::name`` -> measurement).
        unit_of: The file (relative to ``root``) a JUnit classname belongs to.
        file_seconds: What a file costs beyond its tests (see ``Runner.file_seconds``).
    """
    names = {path: relative(path, root) for path in sorted(set(files))}
    listed = set(names.values())
    seconds: dict[str, float] = {}
    for key, measurement in stored.items():
        unit = _unit(key, listed, unit_of)
        if unit is not None:
            seconds[unit] = seconds.get(unit, 0.0) + measurement.serial_seconds
    known = [seconds[name] for name in names.values() if name in seconds]
    if not known:
        return None
    typical = statistics.median(known)
    units = [
        Unit(key=path, node_ids=(path,), seconds=seconds.get(name, typical) + file_seconds)
        for path, name in names.items()
    ]
    return tuple(
        tuple(sorted(unit.key for unit in shard)) for shard in LongestFirst().split(units, count)
    )


def _unit(key: str, listed: set[str], unit_of: Callable[[str], str]) -> str | None:
    """The listed unit a case key ``classname::name`` belongs to, or ``None``.

    Either part may hold ``::`` itself (nextest's ``isbn::slow`` binary, a Rust unit test
    ``tests::accepts``), so the classname is the longest leading part of the key that names a
    listed unit: ``isbn::tests::accepts`` belongs to ``isbn``, not to ``isbn::tests``.
    """
    parts = key.split("::")
    for cut in range(len(parts) - 1, 0, -1):
        unit = unit_of("::".join(parts[:cut]))
        if unit in listed:
            return unit
    return None
