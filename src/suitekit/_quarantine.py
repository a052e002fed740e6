"""Which tests a ``[[tool.suitekit.quarantine]]`` entry names.

An entry is a node id as pytest prints it, a test file, or a pattern in which ``*`` matches any
run of characters and ``?`` any one character. ``[`` and ``]`` are literal (they are part of
parametrized node ids), never character classes. An entry without ``[`` also matches every
parametrization of the tests it names, and an entry without ``::`` also matches every test of the
files it names. Pure functions of strings, in the core: the pytest plugin applies them to the
collection, the partition guard checks the entries against it, the report applies them to the
merged results; ``suitekit.flaky`` re-exports them.

An entry with a ``suite`` names tests of that suite of another runner, by the JUnit key
``classname::name`` of its report's cases (:func:`case_entry_for`); it is no concern of pytest's
(:func:`pytest_entries`): neither the plugin nor the partition guard applies it or judges it
stale.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from suitekit._model import Quarantine
from suitekit.errors import ConfigError

__all__ = [
    "case_entry_for",
    "entry_for",
    "matches",
    "matches_case",
    "pytest_entries",
    "stale_in_files",
    "suite_entries",
    "unmatched",
    "unmatched_error",
]


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), re.DOTALL)


def matches(entry: Quarantine, node_id: str) -> bool:
    """Whether ``entry`` names the test ``node_id``."""
    regex = _regex(entry.test)
    if regex.fullmatch(node_id):
        return True
    if "[" not in entry.test and "[" in node_id and regex.fullmatch(node_id.split("[", 1)[0]):
        return True
    return "::" not in entry.test and regex.fullmatch(node_id.split("::", 1)[0]) is not None


def pytest_entries(entries: Sequence[Quarantine]) -> tuple[Quarantine, ...]:
    """The entries that name pytest's tests (those without a ``suite``)."""
    return tuple(entry for entry in entries if not entry.suite)


def suite_entries(entries: Sequence[Quarantine], suite: str) -> tuple[Quarantine, ...]:
    """The entries that name tests of ``suite``, a suite of another runner."""
    return tuple(entry for entry in entries if entry.suite and entry.suite == suite)


def matches_case(entry: Quarantine, classname: str, name: str) -> bool:
    """Whether ``entry`` names the JUnit case ``classname::name`` of another runner's report.

    The whole key, the key without its ``[...]`` when the entry has no ``[`` (as a node id's
    parametrizations), or the whole classname: a classname may itself hold ``::`` (nextest's
    ``crate::binary``), so "every test of that classname" cannot be read off the key's first
    ``::`` as a pytest file is.
    """
    regex = _regex(entry.test)
    key = f"{classname}::{name}" if classname else name
    if regex.fullmatch(key) or regex.fullmatch(classname):
        return True
    bare = key.split("[", 1)[0]  # without the parametrization, as for a node id
    return "[" not in entry.test and "[" in key and regex.fullmatch(bare) is not None


def case_entry_for(entries: Sequence[Quarantine], classname: str, name: str) -> Quarantine | None:
    """The first entry that names the case ``classname::name``, or ``None``."""
    return next((entry for entry in entries if matches_case(entry, classname, name)), None)


def entry_for(entries: Sequence[Quarantine], node_id: str) -> Quarantine | None:
    """The first entry that names ``node_id``, or ``None`` when it is not quarantined."""
    return next((entry for entry in entries if matches(entry, node_id)), None)


def unmatched(entries: Sequence[Quarantine], node_ids: Iterable[str]) -> tuple[Quarantine, ...]:
    """The entries that name none of ``node_ids``."""
    left = list(entries)
    for node_id in node_ids:
        left = [entry for entry in left if not matches(entry, node_id)]
        if not left:
            break
    return tuple(left)


def stale_in_files(
    entries: Sequence[Quarantine], node_ids: Iterable[str]
) -> tuple[Quarantine, ...]:
    """The entries that name a file of ``node_ids`` but none of its tests.

    A run that collects only some files (a suite's folders) can judge an entry only by those
    files: an entry naming another file may name a test another run collects. ``node_ids``
    must be everything collected from those files, before any deselection.
    """
    ids = list(node_ids)
    files = {node_id.split("::", 1)[0] for node_id in ids}
    return tuple(
        entry
        for entry in unmatched(entries, ids)
        # The entry's file part (wildcards and all) against each collected file.
        if any(
            matches(dataclasses.replace(entry, test=entry.test.split("::", 1)[0]), file)
            for file in files
        )
    )


def unmatched_error(entries: Sequence[Quarantine], *, file: Path | None, where: str) -> ConfigError:
    """The error for quarantine entries that match no test (``where`` says what was searched).

    Args:
        entries: The entries that matched nothing (at least one).
        file: The configuration file.
        where: What was collected, e.g. ``"the tests under tests"``.
    """
    first = entries[0]
    others = "".join(f"\n  also unmatched: {e.key}.test = {e.test!r}" for e in entries[1:])
    return ConfigError(
        file=file,
        key=f"{first.key}.test",
        value=first.test,
        problem=f"{first.test!r} matches none of {where} (a stale quarantine hides nothing and "
        f"protects nothing){others}",
        fix=f"correct the test as the report of suite {first.suite!r} names it (classname::name)"
        ", or remove the entry if the test is gone"
        if first.suite
        else "correct the node id as `pytest --collect-only -q` prints it, or remove the entry "
        "if the test is gone",
    )
