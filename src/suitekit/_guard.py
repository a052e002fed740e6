"""The partition guard of a whole run, decided from what the suite sessions collected.

Every suite session of a whole run already collects its tests. When the runner names a
private folder in ``SUITEKIT_COLLECTIONS``, the pytest plugin of each session records there
which tests its suite selects and which it collected without selecting them (see
:class:`suitekit._selection.Collection`). When the sessions have ended, :func:`decide` checks the
partition from those records, with no virtualenv, no install and no pytest of its own.

The records settle the question only when, together, the sessions collected every test file
under the test roots: a file outside every suite's ``paths`` (with no marker-only suite, which
collects every root) was collected by none of them. :func:`decide` then says so, and the runner
runs the ``partition`` session, which collects every root in one pytest and names each test.

Suites of other runners are checked file by file, folder by folder (:func:`listed_suites`): a
session of such a suite lists, with its runner, the test files its ``paths`` select and every
test file the runner finds in its folder, and records both (:func:`runner_collection`). A file
the runner finds that no suite of that folder runs, or that two suites run (a Playwright spec
that Vitest also picks up), breaks the partition as an unowned or doubly owned test does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from suitekit import _quarantine
from suitekit._files import STORE_LIMIT, FileRefusedError, open_regular
from suitekit._model import PATHLESS_RUNNERS, Project, Suite
from suitekit._selection import (
    Collection,
    PartitionReport,
    collected_roots,
    crash_message,
    partition_of_collections,
    uncollected,
)
from suitekit.errors import PartitionError
from suitekit.plan import PARTITION_SESSION

__all__ = [
    "RunnerPartition",
    "Verdict",
    "collections_folder",
    "crash",
    "decide",
    "listed_suites",
    "runner_collection",
]

_DEFAULT_PYTHON_FILES: Final = ("test_*.py", "*_test.py")
_DEFAULT_NORECURSE: Final = (
    "*.egg",
    ".*",
    "_darcs",
    "build",
    "CVS",
    "dist",
    "node_modules",
    "venv",
    "{arch}",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunnerPartition:
    """What the listings of the suites of other runners say of their partition.

    Attributes:
        counts: Each suite checked, in the project's order, with how many of its units it
            runs and what they are (``files``; a cargo suite's ``test binaries``).
        problem: The error text when a file is run by no suite of its folder, or by two.
        unchecked: Why the listings cannot settle it ("": they can, or nothing needs them).
    """

    counts: tuple[tuple[str, int, str], ...] = ()
    problem: str = ""
    unchecked: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What the records say of the partition.

    Attributes:
        report: The partition of the pytest suites, or ``None`` when the records cannot
            settle it.
        problem: The error text when the partition is broken or a quarantine entry is stale.
        reason: Why the records cannot settle it (when ``report`` is ``None``).
        runners: The partition of the suites of other runners (see :func:`decide_runners`).
    """

    report: PartitionReport | None
    problem: str = ""
    reason: str = ""
    runners: RunnerPartition = RunnerPartition()

    @property
    def ok(self) -> bool:
        """The records settle the partition, and it holds."""
        return self.report is not None and not self.problem and not self.runners.problem


@contextlib.contextmanager
def collections_folder() -> Iterator[Path]:
    """A new private folder (mode 0700) for one run's records; removed with what it holds."""
    folder = Path(tempfile.mkdtemp(prefix="suitekit-collections-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _read(path: Path) -> Collection | None:
    """One record, or ``None`` when it is not a record this version wrote.

    Opened as every record is (see :func:`~suitekit._files.open_regular`): a FIFO or a device
    put in the records' folder is passed over, never waited on or read without end.
    """
    try:
        with open_regular(path, limit=STORE_LIMIT) as handle:
            return Collection.from_json(handle.read(STORE_LIMIT + 1).decode("utf-8"))
    except (OSError, FileRefusedError, UnicodeDecodeError):
        return None


def _test_files(project: Project, patterns: Sequence[str], skipped: Sequence[str]) -> Iterator[str]:
    """Files under the test roots, outside what the suites collect, that pytest would collect.

    Folders the suites collect are not searched, nor folders whose names match
    ``norecursedirs``; symbolic links are not followed. The result may hold a file pytest
    leaves out (a conftest's ``collect_ignore``): then the runner asks the partition session,
    which knows.
    """
    root = project.root
    covered = {str(root / path) for path in collected_roots(project)}
    for name in project.tests:
        start = root / name
        if str(start) in covered:
            continue
        if start.is_file() and not start.is_symlink():
            if any(fnmatch.fnmatch(start.name, pattern) for pattern in patterns):
                yield start.relative_to(root).as_posix()
            continue
        for folder, dirs, files in os.walk(start):
            dirs[:] = sorted(
                d
                for d in dirs
                if str(Path(folder) / d) not in covered
                and not any(fnmatch.fnmatch(d, p) for p in skipped)
            )
            for file in sorted(files):
                if any(fnmatch.fnmatch(file, pattern) for pattern in patterns):
                    yield (Path(folder) / file).relative_to(root).as_posix()


def _records(folder: Path) -> list[Collection]:
    return [c for c in map(_read, sorted(folder.glob("*.json"))) if c is not None]


def crash(project: Project | None, folder: Path) -> str | None:
    """What failed to collect, as the records in ``folder`` say; ``None`` when nothing did.

    A suite session records the errors of its own collection, and the partition session those
    of its collection of every test root (a conftest that raises on import, say, because it
    needs a variable no suite or project ``env`` gives). The first error comes first, with the
    suite it belongs to (see :func:`~suitekit._selection.crash_message`). Without the project,
    the suite is named only where the record is a suite's.
    """
    for record in _records(folder):
        if not record.errors:
            continue
        suite = None if record.suite == PARTITION_SESSION else record.suite
        if project is not None:
            return crash_message(project, record.errors, suite=suite)
        path, error = record.errors[0]
        where = f" in suite {suite!r}" if suite else ""
        return f"collection failed{where}: {error} ({path})"
    return None


def decide(project: Project, folder: Path) -> Verdict:
    """Check the partition from the records the suite sessions left in ``folder``.

    The pytest suites' (:func:`_decide_pytest`) and the other runners' (:func:`decide_runners`).
    """
    return dataclasses.replace(
        _decide_pytest(project, folder), runners=decide_runners(project, folder)
    )


def listed_suites(project: Project) -> tuple[Suite, ...]:
    """The suites of other runners whose share of their folder's tests the guard checks.

    Those whose runner can list its test files (not ``command``) and that name ``paths`` or
    share their folder (``cwd``) with another such suite, or hold its folder, or lie in it. A
    suite without ``paths`` and alone in its folder runs every test its runner finds there:
    there is nothing to check, and its session lists nothing.
    """
    from suitekit.runners import runner_for  # noqa: PLC0415 - projects with other runners only

    listable = [
        suite
        for suite in project.suites
        if suite.runner.kind != "pytest"
        # Asked with a path that is never written: a runner that cannot list says None.
        and runner_for(suite.runner.kind).list_command(suite.runner, (), Path(os.devnull))
        is not None
    ]
    return tuple(
        suite
        for suite in listable
        if suite.paths or any(_nested(suite, other) for other in listable if other is not suite)
    )


def _nested(one: Suite, other: Suite) -> bool:
    """Whether the two suites' folders are one, or one holds the other (``web``, ``web/e2e``).

    A runner in the outer folder may find the inner suite's files: both must say theirs.
    """
    a, b = (PurePosixPath(os.path.normpath(s.runner.cwd or ".")) for s in (one, other))
    return a == b or a in b.parents or b in a.parents


def runner_collection(suite: str, owned: Sequence[str], found: Sequence[str]) -> Collection:
    """The record of a session of another runner: the files its suite runs, and the others.

    Args:
        suite: The suite.
        owned: The test files its ``paths`` select, relative to the project root.
        found: Every test file its runner finds in its folder, relative to the project root.
    """
    mine = set(owned)
    return Collection(
        suite=suite,
        owned=tuple(sorted(mine)),
        others=tuple(sorted(set(found) - mine)),
        complete=True,
    )


def decide_runners(project: Project, folder: Path) -> RunnerPartition:
    """Check that each test file the other runners find is run by exactly one suite.

    From the records of the sessions of :func:`listed_suites`; a suite that recorded nothing
    (its session failed, or its runner could not list, as the session said) leaves the check
    unsettled.
    """
    suites = listed_suites(project)
    if not suites:
        return RunnerPartition()
    names = {suite.name for suite in suites}
    records = {c.suite: c for c in _records(folder) if c.suite in names}
    missing = next((suite.name for suite in suites if suite.name not in records), None)
    if missing is not None:
        return RunnerPartition(unchecked=f"suite {missing!r} listed no test files")
    owners: dict[str, list[str]] = {}
    for suite in suites:
        for unit in records[suite.name].owned:
            owners.setdefault(unit, []).append(suite.name)
    found = sorted({unit for c in records.values() for unit in (*c.owned, *c.others)})
    unowned = tuple(unit for unit in found if unit not in owners)
    overlapping = tuple(
        (unit, tuple(owners[unit])) for unit in found if len(owners.get(unit, ())) > 1
    )
    counts = tuple(
        (
            suite.name,
            len(records[suite.name].owned),
            "test binaries" if suite.runner.kind in PATHLESS_RUNNERS else "files",
        )
        for suite in suites
    )
    if not unowned and not overlapping:
        return RunnerPartition(counts=counts)
    broken = PartitionError(
        unowned=unowned,
        overlapping=overlapping,
        subject="test file",
        fix="add the file's folder to a suite's `paths` (relative to its `cwd`), or keep the "
        "runner from finding it (Vitest's `include` and `exclude`, Jest's `testMatch`, "
        "Playwright's `testDir`); where two suites run one file, narrow one's `paths`.",
    )
    return RunnerPartition(counts=counts, problem=str(broken))


def _decide_pytest(project: Project, folder: Path) -> Verdict:
    """Check the pytest suites' partition from the records in ``folder``.

    Every suite of the project must have recorded a complete collection, and no test file
    under the test roots may lie outside what the suites collect; otherwise the verdict has no
    report and says why. A quarantine entry that names none of the collected tests is stale,
    as in the partition session.
    """
    names = {suite.name for suite in project.pytest_suites}
    collections = [c for c in _records(folder) if c.suite in names]
    recorded = {collection.suite for collection in collections}
    missing = [suite.name for suite in project.pytest_suites if suite.name not in recorded]
    if missing:
        return Verdict(report=None, reason=f"suite {missing[0]!r} recorded no collection")
    crashed = next((c for c in collections if c.errors), None)
    narrowed = sorted({c.suite for c in collections if not c.complete})
    if crashed is not None or narrowed:
        reason = (
            crash_message(project, crashed.errors, suite=crashed.suite)
            if crashed is not None
            else f"suite {narrowed[0]!r} did not collect all of its tests "
            "(a collection error, or -k, -m, --deselect or --lf narrowed it)"
        )
        return Verdict(report=None, reason=reason)
    # Every session reads the same ini; a record without the patterns gets pytest's defaults.
    patterns = next((c.python_files for c in collections if c.python_files), _DEFAULT_PYTHON_FILES)
    skipped = next((c.norecursedirs for c in collections if c.norecursedirs), _DEFAULT_NORECURSE)
    outside = uncollected(project, _test_files(project, patterns, skipped))
    if outside:
        return Verdict(
            report=None,
            reason=f"{outside[0]} lies outside every suite's paths, so no suite collected it",
        )
    report = partition_of_collections(project, collections)
    if not report.ok:
        error = PartitionError(unowned=report.unowned, overlapping=report.overlapping)
        return Verdict(report=report, problem=str(error))
    if entries := _quarantine.pytest_entries(project.quarantine):
        ids = (node_id for c in collections for node_id in (*c.owned, *c.others))
        stale = _quarantine.unmatched(entries, ids)
        if stale:
            where = f"the tests under {', '.join(project.tests)}"
            stale_error = _quarantine.unmatched_error(stale, file=project.config_file, where=where)
            return Verdict(report=report, problem=str(stale_error))
    return Verdict(report=report)
