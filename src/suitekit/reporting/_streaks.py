"""The quarantine streaks: how many runs in a row each quarantined test has passed.

A quarantined test runs in every run but cannot fail it; it may leave quarantine once it has
passed ``release-after`` runs in a row (see :class:`~suitekit._model.Quarantine`). Counting
those runs needs memory between runs: ``.suitekit/quarantine.json`` under the project root
(:data:`QUARANTINE_FILE`, beside the durations store), which ``suitekit report`` updates.

A *run* is one ``suitekit report`` over a set of JUnit files. For each quarantine entry and each
test it quarantined in that run (by its JUnit key, ``classname::name``):

- the test passed the run when it passed in every report that holds it and ran it (a test run
  on two Python versions is in two reports); a failure, an error or a flaky pass (one that
  needed a retry) in any of them is not a pass;
- a passed run adds one to its streak, any other run resets the streak to 0;
- a test that did not run keeps its streak: one that is not in the run (its suite did not run)
  and one that was skipped in every report of it (``skipif``, ``pytest.skip``, an xfail that
  failed as expected). A skip proves nothing either way, so a report that skipped the test
  is left out, as if the test were not in it.

Reporting the same files twice must not count as two runs: the store keeps a fingerprint of
the last run's inputs (their names, sizes and modification times), and a run with the same
fingerprint changes no streak. Entries that are no longer in the configuration are dropped, so
re-adding one starts again from 0.

As with the durations store, the file is written atomically and a corrupt file is reported,
never deleted or silently replaced.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from suitekit._files import (
    FormatError,
    frozen_table,
    json_table,
    read_versioned_json,
    write_text_atomic,
)

if TYPE_CHECKING:
    from suitekit._model import Quarantine
    from suitekit.reporting._results import QuarantinedCase

__all__ = ["QUARANTINE_FILE", "StreakStore", "fingerprint"]

QUARANTINE_FILE: Final = Path(".suitekit", "quarantine.json")
"""Where the streaks live, relative to the project root."""

_VERSION: Final = 1
_FIX: Final = (
    "  fix: delete it; the quarantined tests' passing streaks then start again from 0 "
    "(or restore it from version control or the CI cache)."
)


def fingerprint(inputs: Iterable[Path]) -> str:
    """What identifies a run's input files: a hash of their names, sizes and modification times.

    A file that cannot be examined counts with its error, so that it still tells runs apart.
    """
    digest = hashlib.sha256()
    for path in sorted(inputs):
        try:
            stat = path.stat()
        except OSError as error:
            line = f"{path.name}\0{type(error).__name__}\n"
        else:
            line = f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n"
        digest.update(line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class StreakStore:
    """Per quarantine entry, per test, how many runs in a row it passed.

    Every method returns a new store; a store never changes.

    Attributes:
        entries: The entry's ``test`` (as configured) -> test key (``classname::name``) ->
            passing runs in a row. Read-only; entries without tests are dropped.
        fingerprint: The fingerprint of the inputs of the last run recorded (``""`` for none).
    """

    entries: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    fingerprint: str = ""

    def __post_init__(self) -> None:
        """Freeze the mappings, so that the store is as immutable as it looks."""
        object.__setattr__(self, "entries", frozen_table(self.entries))

    @classmethod
    def load(cls, path: Path) -> StreakStore:
        """Read the streaks from ``path``; a missing file is an empty store.

        Raises:
            ReportError: The file exists but cannot be read or is not a streaks file. The file
                is left as it is.
        """
        found = read_versioned_json(
            path,
            version=_VERSION,
            reading="quarantine streaks",
            kind="quarantine streaks file",
            fix=_FIX,
            parse=_parse,
        )
        if found is None:
            return cls()
        entries, last = found
        return cls(entries=entries, fingerprint=last)

    def save(self, path: Path) -> None:
        """Write the streaks to ``path`` atomically, with sorted keys and ``"version": 1``.

        Raises:
            ReportError: The file cannot be written; an older file at ``path`` is left intact.
        """
        document = {
            "version": _VERSION,
            "fingerprint": self.fingerprint,
            "entries": {entry: dict(tests) for entry, tests in self.entries.items()},
        }
        write_text_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n")

    def streak(self, entry: str, test: str) -> int:
        """How many runs in a row ``test`` passed under ``entry`` (0 when never seen)."""
        return self.entries.get(entry, {}).get(test, 0)

    def record(
        self,
        quarantined: Sequence[QuarantinedCase],
        configured: Sequence[Quarantine],
        *,
        fingerprint: str,
    ) -> StreakStore:
        """Fold in one run; see the module's documentation for the rules.

        Args:
            quarantined: The run's quarantined cases, from every report merged.
            configured: The quarantine entries in the configuration now: the others are
                dropped, and cases of entries not among them are not counted.
            fingerprint: The run's :func:`fingerprint`; when it is the store's, the run was
                already recorded and no streak changes.

        Returns:
            The store after the run.
        """
        names = {entry.test for entry in configured}
        entries = {entry: dict(tests) for entry, tests in self.entries.items() if entry in names}
        if fingerprint == self.fingerprint:
            return StreakStore(entries=entries, fingerprint=fingerprint)
        passed: dict[tuple[str, str], bool] = {}
        for case in quarantined:
            # A skipped test did not run: the report says nothing about whether it passes.
            if case.entry in names and case.outcome != "skipped":
                ran = (case.entry, case.key)
                passed[ran] = passed.get(ran, True) and case.outcome == "passed"
        for (entry, test), clean in passed.items():
            tests = entries.setdefault(entry, {})
            tests[test] = tests.get(test, 0) + 1 if clean else 0
        return StreakStore(entries=entries, fingerprint=fingerprint)


def _parse(document: dict[str, object]) -> tuple[dict[str, dict[str, int]], str]:
    """Validate a decoded streaks file (its version checked): its entries and fingerprint."""
    last = document.get("fingerprint")
    if not isinstance(last, str):
        raise FormatError("'fingerprint' is not a string")
    parsed: dict[str, dict[str, int]] = {}
    for entry, tests in json_table(document, "entries").items():
        parsed[entry] = {}
        for test, streak in tests.items():
            # bool is an int to Python, but true/false is never a streak.
            if not isinstance(streak, int) or isinstance(streak, bool) or streak < 0:
                problem = f"entries.{entry}.{test} is {streak!r}, not a whole number >= 0"
                raise FormatError(problem)
            parsed[entry][test] = streak
    return parsed, last
