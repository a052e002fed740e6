"""The second pass: checks that span several keys, run once the whole table has been read.

As coverage.py's ``post_process()``: names unique across suites and checks, paths that exist
inside the project, and dependency groups and extras that are declared (following each group's
``include-group`` entries).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any, Final

from suitekit._model import DEFAULT_REPORTS, InstallSpec, Project, Suite
from suitekit.config._keys import ROOT_KEY, did_you_mean, type_name
from suitekit.config._table import Reader
from suitekit.errors import ConfigError

__all__ = ["post_process"]

_RELATIVE: Final = "correct the path (it is relative to the pyproject.toml's folder)"


def post_process(project: Project, document: Mapping[str, Any], reader: Reader) -> None:
    """Checks that span several keys: names, paths on disk, declared groups and extras.

    Each check of a suite, a check's install or a top-level key notes its mistake with
    ``reader`` and the others go on; a key that could not be read (in ``reader.failed``) is not
    checked, and suites and checks that could not be read are not in ``project``.
    """
    attempt = reader.attempt
    _check_names(project, reader)
    tests_read = f"{ROOT_KEY}.tests" not in reader.failed
    if tests_read:
        attempt(
            partial(_check_inside, project, f"{ROOT_KEY}.tests", project.tests, "a test root"), None
        )
    for suite in project.suites:
        attempt(partial(_check_suite_paths, project, suite), None)
    if f"{ROOT_KEY}.reports" not in reader.failed:
        attempt(partial(_check_reports, project), None)
    if tests_read:
        attempt(partial(_check_test_roots, project), None)
    groups = document.get("dependency-groups", {})
    package = document.get("project", {})
    extras = package.get("optional-dependencies", {}) if isinstance(package, Mapping) else {}
    for key, spec in _installs(project):
        attempt(partial(_check_install, project, key, spec, groups, extras), None)


def _check_names(project: Project, reader: Reader) -> None:
    file = project.config_file
    seen: dict[str, str] = {}
    for kind, names in (
        ("suites", [s.name for s in project.suites]),
        ("checks", [c.name for c in project.checks]),
    ):
        for name in names:
            normal = name.lower().replace("_", "-")
            key = f"{ROOT_KEY}.{kind}.{name}"
            if normal in seen:
                reader.errors.append(
                    ConfigError(
                        file=file,
                        key=key,
                        value=name,
                        problem=f"the name {name!r} is already used by {seen[normal]} "
                        "(names are compared case-insensitively, with '_' read as '-', "
                        "as invoke and nox read them)",
                        fix="rename one of them",
                    )
                )
                continue
            seen[normal] = key


def _check_suite_paths(project: Project, suite: Suite) -> None:
    """A suite's ``cwd`` and ``paths``: inside the project, and there."""
    key = f"{ROOT_KEY}.suites.{suite.name}"
    if suite.runner.cwd:
        _check_inside(project, f"{key}.cwd", (suite.runner.cwd,), "a runner's folder")
        _check_exists(
            project,
            f"{key}.cwd",
            suite.runner.cwd,
            f"{suite.runner.cwd!r} is not a folder under {project.root}",
            "give the folder the runner runs in (its package.json's), relative to the root",
            is_dir=True,
        )
    paths = tuple(_under(suite.runner.cwd, path) for path in suite.paths)
    _check_inside(project, f"{key}.paths", paths, "a suite path")
    folder = project.root / suite.runner.cwd if suite.runner.cwd else project.root
    for path in suite.paths:
        _check_exists(
            project,
            f"{key}.paths",
            _under(suite.runner.cwd, path),
            f"{path!r} does not exist under {folder}, so the suite would select nothing there",
            _RELATIVE if not suite.runner.cwd else "give paths relative to the suite's cwd",
        )


def _check_test_roots(project: Project) -> None:
    for root in project.tests:
        _check_exists(
            project,
            f"{ROOT_KEY}.tests",
            root,
            f"the test root {root!r} does not exist under {project.root}",
            "name the folders that hold the project's tests (default: tests)",
        )


def _under(folder: str, path: str) -> str:
    """``path`` of a suite whose runner runs in ``folder`` (``""``: the root), from the root."""
    return f"{folder.rstrip('/')}/{path}" if folder and not Path(path).is_absolute() else path


def _check_exists(
    project: Project,
    key: str,
    path: str,
    problem: str,
    fix: str,
    *,
    is_file: bool = False,
    is_dir: bool = False,
) -> None:
    """Refuse ``path``, relative to the project root, when nothing (or no file) is there."""
    found = project.root / path
    there = found.is_file() if is_file else found.is_dir() if is_dir else found.exists()
    if not there:
        raise ConfigError(file=project.config_file, key=key, value=path, problem=problem, fix=fix)


def _resolved(project: Project, key: str, path: str) -> tuple[Path, Path]:
    """The project root and ``path`` under it, both with every symlink resolved."""
    try:
        root = project.root.resolve()
        return root, (root / path).resolve()
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop (Python < 3.13)
        raise ConfigError(
            file=project.config_file,
            key=key,
            value=path,
            problem=f"{path!r} cannot be resolved: {error}",
            fix="repair or remove the symbolic link on the way",
        ) from None


def _check_inside(project: Project, key: str, paths: tuple[str, ...], what: str) -> None:
    """Refuse paths that lead out of the project: absolute, through ``..``, or by a symlink.

    Suites run this project's tests and write under its folder; a path elsewhere would collect
    (and, with ``reports``, write into) someone else's files.
    """
    for path in paths:
        root, target = _resolved(project, key, path)
        if target == root or root in target.parents:
            continue
        how = "" if Path(path).is_absolute() or ".." in Path(path).parts else f" (to {target})"
        raise ConfigError(
            file=project.config_file,
            key=key,
            value=path,
            problem=f"{what} must be inside the project ({root}), but {path!r} leads out of "
            f"it{how}",
            fix="give a path relative to the pyproject.toml's folder, without '..', that does "
            "not pass through a symbolic link to somewhere else",
        )


def _check_reports(project: Project) -> None:
    """``reports`` is a folder inside the project (created when missing), not the root itself."""
    key = f"{ROOT_KEY}.reports"
    root, target = _resolved(project, key, project.reports)
    if target == root:
        raise ConfigError(
            file=project.config_file,
            key=key,
            value=project.reports,
            problem=f"{project.reports!r} is the project's own folder; reports need one of "
            "their own (`suitekit clean` and the CI files treat all of it as reports)",
            fix=f'name a folder inside the project, e.g. reports = "{DEFAULT_REPORTS}"',
        )
    _check_inside(project, key, (project.reports,), "the reports folder")
    for place in (target, *target.parents):
        if place == root:
            break
        if place.exists() and not place.is_dir():
            raise ConfigError(
                file=project.config_file,
                key=key,
                value=project.reports,
                problem=f"{project.reports!r} cannot be the reports folder: {place} is a file",
                fix="move the file away, or name another folder (it is created when missing)",
            )


def _installs(project: Project) -> list[tuple[str, InstallSpec]]:
    """Every ``install`` of the declaration, with its key path."""
    declared = [(f"{ROOT_KEY}.install", project.install)]
    declared += [(f"{ROOT_KEY}.suites.{s.name}.install", s.install) for s in project.suites]
    declared += [(f"{ROOT_KEY}.checks.{c.name}.install", c.install) for c in project.checks]
    return declared


def _check_install(
    project: Project, key: str, spec: InstallSpec, groups: object, extras: object
) -> None:
    """One ``install``: its groups and extras declared, its requirements files there."""
    file = project.config_file
    _check_declared(file, f"{key}.groups", spec.groups, groups, "[dependency-groups]")
    if isinstance(groups, Mapping):
        _check_includes(file, f"{key}.groups", spec.groups, groups)
    if spec.project:
        _check_declared(
            file, f"{key}.extras", spec.extras, extras, "[project.optional-dependencies]"
        )
    for requirement in spec.requirements:
        _check_exists(
            project,
            f"{key}.requirements",
            requirement,
            f"the requirements file {requirement!r} does not exist",
            _RELATIVE,
            is_file=True,
        )


def _check_declared(
    file: Path, key: str, names: tuple[str, ...], table: object, where: str
) -> None:
    known = list(table) if isinstance(table, Mapping) else []
    for name in names:
        if name not in known:
            hint = did_you_mean(name, known)
            raise ConfigError(
                file=file,
                key=key,
                value=name,
                problem=f"{name!r} is not declared in {where}{hint}",
                fix=f"declare it in {where} or remove it here",
            )


_INCLUDE_EXAMPLE: Final = 'test = ["pytest>=8", { include-group = "typing" }]'


def _group_name(name: str) -> str:
    """A dependency group's name as PEP 735 compares them (normalised as PEP 503 does)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _check_includes(
    file: Path, key: str, names: tuple[str, ...], groups: Mapping[str, object]
) -> None:
    """Follow the ``{include-group = ...}`` entries of the groups ``names`` asks for.

    Each group a session installs is resolved (by nox, at install time) by following its
    includes; a cycle or a missing group would fail there with no key named. Walked depth first
    with an explicit stack, so a long chain of includes cannot exhaust Python's recursion.

    Raises:
        ConfigError: A group includes itself, directly or through others (the message shows
            the cycle, ``a -> b -> a``), includes a group that is not declared, or holds an
            entry that is neither a requirement nor an include.
    """
    if not names or not isinstance(groups, Mapping):
        return  # no group asked for, or _check_declared has refused them
    declared = {_group_name(name): name for name in groups}
    done: set[str] = set()
    for start in names:
        path = [_group_name(start)]
        stack = [iter(_includes(file, key, groups, declared[path[0]]))]
        while stack:
            included = next(stack[-1], None)
            if included is None:
                done.add(path.pop())
                stack.pop()
                continue
            wanted = _group_name(included)
            group = declared[path[-1]]
            if wanted not in declared:
                hint = did_you_mean(included, list(groups))
                raise ConfigError(
                    file=file,
                    key=f"dependency-groups.{group}",
                    value=included,
                    problem=f"the group {group!r} (installed by {key}) includes {included!r}, "
                    f"which is not declared in [dependency-groups]{hint}",
                    fix=f"declare {included!r} in [dependency-groups] or remove the include-group",
                )
            if wanted in path:
                cycle = " -> ".join(declared[n] for n in [*path[path.index(wanted) :], wanted])
                what = "includes itself" if len(path) - path.index(wanted) == 1 else "is in a cycle"
                raise ConfigError(
                    file=file,
                    key=f"dependency-groups.{group}",
                    value=included,
                    problem=f"the group {group!r} (installed by {key}) {what} through "
                    f"include-group: {cycle}",
                    fix="remove one include-group of the cycle in [dependency-groups]",
                )
            if wanted not in done:
                path.append(wanted)
                stack.append(iter(_includes(file, key, groups, declared[wanted])))


def _includes(file: Path, key: str, groups: Mapping[str, object], group: str) -> list[str]:
    """The names a dependency group includes, after checking that each entry is well formed."""
    entries = groups[group]
    where = f"dependency-groups.{group}"
    if not isinstance(entries, list):
        raise ConfigError(
            file=file,
            key=where,
            value=entries,
            problem=f"the group (installed by {key}) is {type_name(entries)}, not an array of "
            "requirements and include-group tables",
            fix=f"write it as {_INCLUDE_EXAMPLE}",
        )
    included: list[str] = []
    for entry in entries:
        if isinstance(entry, str) and "\0" not in entry:
            continue
        if (
            isinstance(entry, Mapping)
            and set(entry) == {"include-group"}
            and isinstance(entry["include-group"], str)
        ):
            included.append(entry["include-group"])
            continue
        raise ConfigError(
            file=file,
            key=where,
            value=entry,
            problem=f"{entry!r} (in the group installed by {key}) is neither a requirement "
            'string nor an { include-group = "..." } table',
            fix=f"write the group as {_INCLUDE_EXAMPLE}, without NUL bytes",
        )
    return included
