"""Installs from the project's ``uv.lock``, and which suitekit CI installs; pure functions only.

A project with a ``uv.lock`` at its root gets its sessions' dependencies from it: ``uv sync
--locked`` into the session's virtualenv (:func:`locked_sync`), with the groups and extras of
the session's ``install``. The sync is inexact, so what suitekit installs after it (the spec's
``packages`` and ``requirements``, and suitekit itself unless the sync installs the version the
lock pins) stays in place. ``install = { lock = false }`` goes back to ``uv pip install``.

The callers read the files (:mod:`suitekit._install`) and run the commands (the nox adapter);
here the lock and pyproject.toml are plain mappings, as ``tomllib`` gives them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from suitekit._model import InstallSpec

__all__ = [
    "LOCK_FILE",
    "LockedSync",
    "ci_suitekit_requirement",
    "lock_outdated",
    "locked_sync",
    "outdated_lock_message",
    "sync_command",
]

LOCK_FILE: Final = "uv.lock"
"""The lock file, at the project's root, that sessions install from."""

_SUITEKIT: Final = "suitekit"
# What `uv sync --locked` prints (uv 0.5 to 0.13) when pyproject.toml changed without `uv lock`:
# "The lockfile at `uv.lock` needs to be updated, but `--locked` was provided."
# uv wraps its messages to the terminal's width (80 columns when it cannot tell), anywhere.
_OUTDATED: Final = re.compile(r"needs\s+to\s+be\s+updated,\s+but\s+`--locked`\s+was\s+provided")
# A PEP 508 requirement's name, at its start.
_NAME: Final = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")

Table = Mapping[str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedSync:
    """How a session installs from the lock.

    Attributes:
        command: ``uv sync --locked ...``, run in the project's root with the session's
            virtualenv as uv's project environment.
        suitekit: The version of suitekit the sync installs (the lock pins it, and the
            session's selection of the project, groups and extras reaches it); ``None``: the
            sync does not install suitekit, so a session that needs it installs it after.
    """

    command: tuple[str, ...]
    suitekit: str | None = None


def sync_command(spec: InstallSpec) -> tuple[str, ...] | None:
    """The ``uv sync`` that installs what ``spec`` takes from the lock; ``None``: nothing.

    The project (with its dependencies and ``extras``) unless ``project = false``, and the
    ``groups``; never uv's default groups (``dev``), which the spec would name. ``--inexact``
    keeps what is installed beside the lock's packages. With ``project = false`` only the
    groups come from the lock (``--only-group``): a spec with neither installs nothing from it.
    """
    command = ["uv", "sync", "--locked", "--inexact", "--no-default-groups"]
    if spec.project:
        command += [f"--extra={extra}" for extra in spec.extras]
        command += [f"--group={group}" for group in spec.groups]
        if not spec.editable:
            command.append("--no-editable")
    elif spec.groups:
        command += [f"--only-group={group}" for group in spec.groups]
    else:
        return None
    return tuple(command)


def locked_sync(spec: InstallSpec, *, pyproject: Table, lock: Table | None) -> LockedSync | None:
    """How a session installs ``spec`` from the lock, or ``None``: as without one.

    ``None`` when the spec opts out (``lock = false``), when there is no lock, and when the
    spec takes nothing from it (see :func:`sync_command`).

    Args:
        spec: What the session installs.
        pyproject: The project's pyproject.toml.
        lock: The project's ``uv.lock``, or ``None`` when it has none. An empty mapping is a
            lock that cannot be read (uv names its fault when the sync runs) or that the
            caller did not parse, having found no suitekit in it.
    """
    if not spec.lock or lock is None:
        return None
    command = sync_command(spec)
    if command is None:
        return None
    root = _project_name(pyproject)
    selected = _selection(lock, root, spec) if root is not None else {}
    return LockedSync(command=command, suitekit=selected.get(_SUITEKIT))


def lock_outdated(output: str) -> bool:
    """Whether ``uv sync --locked`` failed, as it printed ``output``, on an out-of-date lock."""
    return _OUTDATED.search(output) is not None


def outdated_lock_message(file: Path, key: str) -> str:
    """The error of a session whose ``uv sync --locked`` found the lock out of date."""
    return (
        f"{file}: {key}: {LOCK_FILE} is out of date with pyproject.toml (`uv sync --locked` "
        f"refused it); fix: run `uv lock` and commit {LOCK_FILE}"
    )


def ci_suitekit_requirement(
    *, pyproject: Table, lock: Table | None, configured: str, installed: str
) -> tuple[str, str | None]:
    """What CI installs as suitekit next to nox, and a warning to print, if any.

    In this order:

    1. the version the project's ``uv.lock`` pins (``suitekit==X``; a suitekit locked from a
       folder, such as suitekit's own checkout, is that folder: ``.`` for the project itself;
       from Git or a URL, that source);
    2. the requirement the project declares, in ``[project] dependencies``, an extra or a
       dependency group (``suitekit>=0.2,<0.3``, its environment marker dropped);
    3. ``[tool.suitekit.ci] suitekit``;
    4. the installed version (``suitekit==<installed>``), with a warning: it must be
       installable from the index CI uses.

    When the project declares suitekit and also sets ``[tool.suitekit.ci] suitekit``, the
    declaration wins and the warning says that the setting is not used.

    Args:
        pyproject: The project's pyproject.toml.
        lock: Its ``uv.lock``, or ``None``.
        configured: ``[tool.suitekit.ci] suitekit``; empty when not given.
        installed: The version of the suitekit that runs.
    """
    found = _locked_source(lock) if lock is not None else None
    if found is None:
        found = _declared(pyproject)
    if found is not None:
        if configured and configured != found:
            return found, (
                f"[tool.suitekit.ci] suitekit = {configured!r} is not used: the project "
                f"declares suitekit, and CI installs what it declares ({found}); fix: remove "
                "the setting, or the declaration"
            )
        return found, None
    if configured:
        return configured, None
    requirement = f"{_SUITEKIT}=={installed}"
    return requirement, (
        f"CI installs {requirement}, the version that runs here, which CI must be able to "
        "install from its package index; fix: declare suitekit in a dependency group (and "
        "`uv lock`), or set [tool.suitekit.ci] suitekit"
    )


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str | None:
    match = _NAME.match(requirement)
    return _normalized(match.group(1)) if match else None


def _project_name(pyproject: Table) -> str | None:
    table = pyproject.get("project")
    name = table.get("name") if isinstance(table, Mapping) else None
    return _normalized(name) if isinstance(name, str) else None


def _packages(lock: Table) -> dict[str, list[Table]]:
    """The lock's packages by name (a name may be locked at several versions, by marker)."""
    found: dict[str, list[Table]] = {}
    entries = lock.get("package")
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            found.setdefault(_normalized(entry["name"]), []).append(entry)
    return found


def _edges(table: object) -> list[Table]:
    return [edge for edge in table if isinstance(edge, Mapping)] if isinstance(table, list) else []


def _named(table: object, names: Iterable[str]) -> list[Table]:
    if not isinstance(table, Mapping):
        return []
    return [edge for name in names for edge in _edges(table.get(name))]


def _selection(lock: Table, root: str, spec: InstallSpec) -> dict[str, str]:
    """The packages (name to version) ``uv sync`` installs for ``spec``: a walk of the lock.

    From the project's own entry: the project and its dependencies with the spec's extras
    (unless ``project = false``), and its dependency groups' packages (uv records each group,
    its ``include-group`` entries followed, under ``dev-dependencies``); then every
    dependency of those, with the extras each edge asks for. Markers are not evaluated: a
    package locked for some platform only counts as selected.
    """
    packages = _packages(lock)
    own = packages.get(root, [])
    pending: list[tuple[str, Sequence[str], object]] = []
    selected: dict[str, str] = {}
    for entry in own:
        if spec.project:
            pending.append((root, spec.extras, entry.get("version")))
        edges = _named(entry.get("dev-dependencies"), spec.groups)
        pending += [_edge(edge) for edge in edges]
    seen: set[tuple[str, tuple[str, ...], object]] = set()
    while pending:
        name, extras, version = pending.pop()
        key = (name, tuple(extras), version)
        if key in seen:
            continue
        seen.add(key)
        for entry in packages.get(name, []):
            if version is not None and entry.get("version") != version:
                continue
            selected.setdefault(name, str(entry.get("version", "")))
            edges = [
                *_edges(entry.get("dependencies")),
                *_named(entry.get("optional-dependencies"), extras),
            ]
            pending += [_edge(edge) for edge in edges]
    return selected


def _edge(edge: Table) -> tuple[str, Sequence[str], object]:
    extras = edge.get("extra")
    wanted = (
        [extra for extra in extras if isinstance(extra, str)] if isinstance(extras, list) else []
    )
    return _normalized(str(edge.get("name", ""))), wanted, edge.get("version")


def _locked_source(lock: Table) -> str | None:
    """How to install the suitekit the lock pins, or ``None``: it pins none (or several)."""
    entries = _packages(lock).get(_SUITEKIT, [])
    if len(entries) != 1:
        return None  # several versions by marker: no one requirement says which
    entry = entries[0]
    version = entry.get("version")
    source = entry.get("source")
    source = source if isinstance(source, Mapping) else {}
    for kind in ("editable", "directory", "path"):
        folder = source.get(kind)
        if isinstance(folder, str):
            return folder if folder.startswith((".", "/")) else f"./{folder}"
    git = source.get("git")
    if isinstance(git, str):
        # uv records `<url>?rev=...#<commit>`, without `git+`: pin the commit.
        location, _, commit = git.partition("#")
        url = location.split("?", 1)[0]
        return f"{_SUITEKIT} @ git+{url}@{commit}" if commit else f"{_SUITEKIT} @ git+{url}"
    archive = source.get("url")
    if isinstance(archive, str):
        return f"{_SUITEKIT} @ {archive}"
    return f"{_SUITEKIT}=={version}" if isinstance(version, str) else None


def _declared(pyproject: Table) -> str | None:
    """The project's own requirement of suitekit, as declared, without its marker."""
    table = pyproject.get("project")
    project = table if isinstance(table, Mapping) else {}
    lists: list[object] = [project.get("dependencies")]
    for source in (project.get("optional-dependencies"), pyproject.get("dependency-groups")):
        if isinstance(source, Mapping):
            lists += list(source.values())
    for entries in lists:
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, str) and _requirement_name(entry) == _SUITEKIT:
                return entry.split(";", 1)[0].strip()
    return None
