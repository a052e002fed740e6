"""Which suite owns which test: the selection rules and the partition check, without pytest.

A suite selects a test when the test's file lies under one of the suite's ``paths`` (or the suite
has none) *and* the test's markers satisfy the suite's ``marker`` expression (or it has none).
The suites of a project must partition its tests: every test under the project's ``tests``
roots belongs to exactly one suite.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Final

from suitekit._files import load_json
from suitekit._markexpr import NO_KWARGS, MarkerExpression, MarkKwargs
from suitekit._model import Project, Suite

__all__ = [
    "CollectedTest",
    "Collection",
    "PartitionReport",
    "SuiteSelector",
    "collected_roots",
    "crash_message",
    "partition",
    "partition_of_collections",
    "suites_at",
    "uncollected",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectedTest:
    """What the selection needs to know of one collected test.

    Attributes:
        node_id: pytest's node id.
        path: The test file, relative to the project root, with '/' separators.
        markers: The names of every marker on the test (own, class and module ones).
        kwargs: The keyword arguments of those of its marks that have any, by marker name,
            for expressions such as ``device(serial="1")`` (empty when no expression reads
            them: see :attr:`~suitekit._markexpr.MarkerExpression.uses_kwargs`).
    """

    node_id: str
    path: PurePosixPath
    markers: frozenset[str]
    # Not compared: a mark's arguments may be any object, equal to nothing or unhashable.
    kwargs: MarkKwargs = field(default_factory=lambda: NO_KWARGS, compare=False)


def _under(path: PurePosixPath, roots: tuple[PurePosixPath, ...]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _clean(path: str) -> PurePosixPath:
    return PurePosixPath(path.replace("\\", "/").removeprefix("./").rstrip("/") or ".")


@dataclass(frozen=True, slots=True)
class SuiteSelector:
    """A suite's selection rule, compiled once and applied to many tests."""

    suite: Suite
    roots: tuple[PurePosixPath, ...]
    expression: MarkerExpression | None

    @classmethod
    def of(cls, suite: Suite) -> SuiteSelector:
        """Compile ``suite``'s paths and marker expression."""
        expression = MarkerExpression.compile(suite.marker) if suite.marker else None
        cleaned = tuple(_clean(p) for p in suite.paths)
        # "." among the paths means the whole project: no path restriction at all.
        roots = () if PurePosixPath(".") in cleaned else cleaned
        return cls(suite, roots, expression)

    def selects(self, test: CollectedTest) -> bool:
        """Whether the suite owns ``test``."""
        if self.roots and not _under(test.path, self.roots):
            return False
        return self.expression is None or self.expression.matches(test.markers, test.kwargs)


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionReport:
    """How a project's collected tests fall into its suites.

    Attributes:
        counts: The number of tests per suite, in declaration order.
        unowned: Tests under the test roots that no suite selects.
        overlapping: Tests that more than one suite selects, with those suites' names.
        outside: How many collected tests lie outside the test roots (not checked).
    """

    counts: tuple[tuple[str, int], ...]
    unowned: tuple[str, ...]
    overlapping: tuple[tuple[str, tuple[str, ...]], ...]
    outside: int

    @property
    def ok(self) -> bool:
        """Every test under the test roots belongs to exactly one suite."""
        return not self.unowned and not self.overlapping

    def table(self) -> str:
        """A small text table: suite and the number of tests it owns."""
        width = max([len("suite"), *(len(name) for name, _ in self.counts)])
        lines = [f"{'suite':<{width}}  tests"]
        lines += [f"{name:<{width}}  {count:>5}" for name, count in self.counts]
        total = sum(count for _, count in self.counts)
        lines.append(f"{'total':<{width}}  {total:>5}")
        if self.outside:
            lines.append(f"({self.outside} collected test(s) outside the test roots: not checked)")
        return "\n".join(lines)


def partition(project: Project, tests: Iterable[CollectedTest]) -> PartitionReport:
    """Assign every test to the suites that select it and report gaps and overlaps."""
    selectors = [SuiteSelector.of(suite) for suite in project.pytest_suites]
    test_roots = tuple(_clean(root) for root in project.tests)
    counts = dict.fromkeys((suite.name for suite in project.pytest_suites), 0)
    unowned: list[str] = []
    overlapping: list[tuple[str, tuple[str, ...]]] = []
    outside = 0
    for test in tests:
        if not _under(test.path, test_roots) and PurePosixPath(".") not in test_roots:
            outside += 1
            continue
        owners = tuple(s.suite.name for s in selectors if s.selects(test))
        for owner in owners:
            counts[owner] += 1
        if not owners:
            unowned.append(test.node_id)
        elif len(owners) > 1:
            overlapping.append((test.node_id, owners))
    return PartitionReport(
        counts=tuple(counts.items()),
        unowned=tuple(unowned),
        overlapping=tuple(overlapping),
        outside=outside,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Collection:
    """What one suite session collected, as its pytest plugin recorded it for the guard.

    Attributes:
        suite: The suite's name.
        owned: The node ids (relative to the project root) the suite selects.
        others: The node ids it collected and does not select (a marker suite's other tests).
        complete: Whether the selection saw everything pytest collected from the suite's roots
            (no ``-k``, ``-m``, ``--deselect``, ``--lf`` or paths of the user's narrowed it).
        python_files: pytest's ``python_files`` patterns in that session.
        norecursedirs: pytest's ``norecursedirs`` patterns in that session.
        errors: What failed to collect, as (path relative to the project root, the error's
            message) pairs: a test module that does not import, a conftest that raises.
    """

    suite: str
    owned: tuple[str, ...]
    others: tuple[str, ...]
    complete: bool
    python_files: tuple[str, ...] = ()
    norecursedirs: tuple[str, ...] = ()
    errors: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> str:
        """The record as the session writes it for the runner."""
        return json.dumps({"version": _RECORD_VERSION, **dataclasses.asdict(self)})

    @classmethod
    def from_json(cls, text: str) -> Collection | None:
        """A record this version wrote, or ``None`` for anything else."""
        try:
            data = load_json(text)  # deep nesting and huge integers become ValueError
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("version") != _RECORD_VERSION:
            return None
        try:
            return cls(
                suite=str(data["suite"]),
                owned=tuple(str(node_id) for node_id in data["owned"]),
                others=tuple(str(node_id) for node_id in data["others"]),
                complete=bool(data["complete"]),
                python_files=tuple(str(pattern) for pattern in data["python_files"]),
                norecursedirs=tuple(str(pattern) for pattern in data["norecursedirs"]),
                errors=tuple((str(path), str(error)) for path, error in data.get("errors", ())),
            )
        except (KeyError, TypeError, ValueError):  # ValueError: an error pair of another length
            return None


_RECORD_VERSION: Final = 1


def collected_roots(project: Project) -> tuple[PurePosixPath, ...]:
    """The folders (or files) the suite sessions of ``project`` collect from, together.

    A suite collects its ``paths``; one with a marker and no paths collects every test root.
    """
    roots = [
        _clean(path) for suite in project.pytest_suites for path in suite.paths or project.tests
    ]
    return tuple(dict.fromkeys(roots))


def uncollected(project: Project, files: Iterable[str]) -> tuple[str, ...]:
    """Of ``files`` (test files under the test roots), those no suite session collects."""
    roots = collected_roots(project)
    if PurePosixPath(".") in roots:
        return ()
    return tuple(name for name in files if not _under(_clean(name), roots))


def partition_of_collections(
    project: Project, collections: Iterable[Collection]
) -> PartitionReport:
    """The partition check, from what every suite session collected and selected.

    It equals :func:`partition` over one collection of every test root whenever the sessions
    together collected every test file under the roots (see :func:`uncollected`) and each
    collection is complete: every session applies its suite's own rule to everything it
    collects, so a test no suite owns was still collected by some session.
    """
    test_roots = tuple(_clean(root) for root in project.tests)
    everywhere = PurePosixPath(".") in test_roots
    owners: dict[str, list[str]] = {}
    seen: dict[str, None] = {}
    for collection in collections:
        for node_id in collection.owned:
            names = owners.setdefault(node_id, [])
            if collection.suite not in names:  # one suite's sessions for several Pythons
                names.append(collection.suite)
        seen.update(dict.fromkeys(collection.others))
        seen.update(dict.fromkeys(collection.owned))
    order = {suite.name: index for index, suite in enumerate(project.pytest_suites)}
    counts = dict.fromkeys((suite.name for suite in project.pytest_suites), 0)
    unowned: list[str] = []
    overlapping: list[tuple[str, tuple[str, ...]]] = []
    outside = 0
    for node_id in sorted(seen):
        path = _clean(node_id.split("::", 1)[0])
        if not everywhere and not _under(path, test_roots):
            outside += 1
            continue
        names = sorted(owners.get(node_id, ()), key=lambda name: order.get(name, len(order)))
        for name in names:
            counts[name] = counts.get(name, 0) + 1
        if not names:
            unowned.append(node_id)
        elif len(names) > 1:
            overlapping.append((node_id, tuple(names)))
    return PartitionReport(
        counts=tuple(counts.items()),
        unowned=tuple(unowned),
        overlapping=tuple(overlapping),
        outside=outside,
    )


def suites_at(project: Project, path: str) -> tuple[str, ...]:
    """The suites whose collection reaches ``path`` (a file or folder under the project root).

    A suite reaches a path under one of its ``paths``, or a folder holding one of them (a
    conftest there is imported by the suite's collection); a suite without ``paths`` collects
    every test root.
    """
    where = _clean(path)
    names: list[str] = []
    for suite in project.pytest_suites:
        roots = tuple(_clean(p) for p in suite.paths or project.tests)
        if _under(where, roots) or any(_under(root, (where,)) for root in roots):
            names.append(suite.name)
    return tuple(names)


def crash_message(
    project: Project, errors: Iterable[tuple[str, str]], *, suite: str | None = None
) -> str:
    """Say that collection failed, the real error first, and in which suite.

    ``suite`` is the suite whose session failed; without it (the partition session collects
    every suite at once) the suites are found from the failing path (see :func:`suites_at`).

    Example: ``collection failed in suite 'integration': ModuleNotFoundError: No module named
    'django' (tests/integration/conftest.py)``.
    """
    listed = list(errors)
    if not listed:
        return f"collection failed in suite {suite!r}" if suite else "collection failed"
    path, error = listed[0]
    names = (suite,) if suite else suites_at(project, path)
    where = (
        f"suite {names[0]!r}"
        if len(names) == 1
        else f"suites {', '.join(map(repr, names))}"
        if names
        else "a path no suite collects"
    )
    more = f"; and {len(listed) - 1} more collection error(s)" if len(listed) > 1 else ""
    return f"collection failed in {where}: {error} ({path}){more}"
