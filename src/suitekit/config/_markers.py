"""The markers the suites' expressions name, checked for misspellings of registered ones.

suitekit registers with pytest every marker a suite's ``marker`` expression names (so that
``--strict-markers`` accepts them), so pytest itself never refuses a misspelt one: a suite with
``marker = "not slw"`` silently selects every test. A name that no one else registers is
normally a new marker of the suite, which suitekit's registration is all it needs; it is taken
for a typo only when it is close to a registered marker (the did-you-mean finds one):
``slw`` while ``slow`` is registered. The registered markers are those of pytest's
configuration file (``markers`` of ``[tool.pytest.ini_options]`` or ``[tool.pytest]`` in
pyproject.toml, ``[pytest]`` of pytest.toml, pytest.ini or tox.ini, ``[tool:pytest]`` of
setup.cfg, found as pytest finds it), pytest's own and the plugins':

- ``suitekit config`` reads the file (:func:`configured_markers`) and knows pytest's markers;
  it runs no pytest, so it cannot ask the project's plugins, and takes the markers of the
  plugins in :data:`PLUGIN_MARKERS` as registered;
- the pytest plugin knows every marker registered in the run, by conftest files and plugins
  included, and checks with :func:`misspelt_markers` before collecting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from suitekit._markexpr import MarkerExpression
from suitekit._model import Project
from suitekit.config._document import read_document
from suitekit.config._keys import ROOT_KEY, closest
from suitekit.errors import ConfigError

__all__ = [
    "PLUGIN_MARKERS",
    "PYTEST_MARKERS",
    "MisspeltMarker",
    "RegisteredMarkers",
    "check_registered_markers",
    "configured_markers",
    "marker_name",
    "markers_error",
    "markers_place",
    "misspelt_markers",
]

PYTEST_MARKERS: Final = (
    "filterwarnings",
    "parametrize",
    "skip",
    "skipif",
    "tryfirst",
    "trylast",
    "usefixtures",
    "xfail",
)
"""The markers pytest registers itself."""

PLUGIN_MARKERS: Final = (
    "anyio",  # anyio
    "asyncio",  # pytest-asyncio
    "benchmark",  # pytest-benchmark
    "django_db",  # pytest-django
    "flaky",  # pytest-rerunfailures
    "hypothesis",  # hypothesis
    "ignore_template_errors",  # pytest-django
    "order",  # pytest-order
    "timeout",  # pytest-timeout
    "urls",  # pytest-django
    "xdist_group",  # pytest-xdist
)
"""Markers that widely used plugins register, which ``suitekit config`` takes as registered.

``suitekit config`` runs no pytest, so it cannot ask the project's plugins. A plugin's marker
that no project marker resembles passes anyway (as every name close to nothing does); the list
keeps one that resembles a project's marker (``asyncio`` and a registered ``asyncio_db``) from
being taken for its misspelling. It is no source of did-you-means: a name close to a plugin
marker of a plugin the project may not use is no typo. The pytest plugin's own check knows
every plugin's markers and needs no such list."""

_FILES: Final = (
    "pytest.toml",
    ".pytest.toml",
    "pytest.ini",
    ".pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
)
"""pytest's configuration files, in the order pytest looks for them in each folder."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteredMarkers:
    """The markers a project registers in pytest's configuration file.

    Attributes:
        where: Where they are registered, for messages (``[tool.pytest.ini_options] markers
            of /p/pyproject.toml``).
        names: Their names, in the file's order.
    """

    where: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MisspeltMarker:
    """A marker of a suite's expression that is not registered and is close to one that is.

    Attributes:
        suite: The suite's name.
        expression: Its ``marker`` expression.
        name: The unregistered marker the expression names.
        meant: The registered marker closest to it.
    """

    suite: str
    expression: str
    name: str
    meant: str


def marker_name(line: str) -> str:
    """The marker a ``markers`` line registers: ``"slow(n): ..."`` registers ``slow``."""
    return line.split(":", 1)[0].split("(", 1)[0].strip()


def configured_markers(root: Path) -> RegisteredMarkers | None:
    """The markers registered in the pytest configuration file that governs ``root``.

    The file is the first of pytest's configuration files, in ``root`` or a folder above it,
    that holds pytest's configuration (as pytest finds it when run from ``root``); ``None``
    when there is none, or it cannot be read (pytest reports that itself).
    """
    for folder in (root, *root.parents):
        for name in _FILES:
            path = folder / name
            if not path.is_file():
                continue
            found = _read(path)
            if found is not None:
                return found
    return None


def _read(path: Path) -> RegisteredMarkers | None:
    """The markers of ``path`` if it holds pytest's configuration (else ``None``)."""
    return _read_toml(path) if path.suffix == ".toml" else _read_ini(path)


def _read_toml(path: Path) -> RegisteredMarkers | None:
    try:
        document = read_document(path)
    except ConfigError:
        return None
    if path.name != "pyproject.toml":  # pytest.toml: pytest's file, its table [pytest]
        table = document.get("pytest")
        return _markers(table if isinstance(table, Mapping) else {}, f"[pytest] markers of {path}")
    tool = document.get("tool")
    pytest = tool.get("pytest") if isinstance(tool, Mapping) else None
    if not isinstance(pytest, Mapping):
        return None
    ini = pytest.get("ini_options")
    if isinstance(ini, Mapping):
        return _markers(ini, f"[tool.pytest.ini_options] markers of {path}")
    return _markers(pytest, f"[tool.pytest] markers of {path}")


def _read_ini(path: Path) -> RegisteredMarkers | None:
    import configparser  # noqa: PLC0415 - as tomllib in _document: not on every pytest's path

    section = "tool:pytest" if path.name == "setup.cfg" else "pytest"
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=os.fspath(path))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    if parser.has_section(section):
        return _markers(dict(parser.items(section)), f"[{section}] markers of {path}")
    if path.name in {"pytest.ini", ".pytest.ini"}:  # pytest's file even without [pytest]
        return RegisteredMarkers(where=f"[pytest] markers of {path}", names=())
    return None


def _markers(table: Mapping[str, object], where: str) -> RegisteredMarkers:
    """The ``markers`` of ``table``: an array of lines (TOML), or lines in one string (INI)."""
    value = table.get("markers", ())
    lines = value.split("\n") if isinstance(value, str) else value
    names = (
        marker_name(line)
        for line in (lines if isinstance(lines, list | tuple) else ())
        if isinstance(line, str)
    )
    return RegisteredMarkers(where=where, names=tuple(dict.fromkeys(n for n in names if n)))


def markers_place(project: Project, inipath: Path | None = None) -> str:
    """Where the project registers a marker, for the fix of an error: a file's table.

    ``inipath`` is pytest's configuration file as pytest found it; without one, the file
    pytest would read from the project's root, else ``[tool.pytest.ini_options]`` of the
    project's pyproject.toml, where a project without pytest configuration would add it.
    """
    found = _read(inipath) if inipath is not None else configured_markers(project.root)
    if found is not None:
        return found.where
    return f"[tool.pytest.ini_options] markers of {project.config_file}"


def check_registered_markers(project: Project) -> None:
    """The marker check of ``suitekit config``: against pytest's configuration file, no pytest.

    The registered markers are the file's (:func:`configured_markers`) and pytest's own; those
    of :data:`PLUGIN_MARKERS` are accepted too.

    Raises:
        ConfigError: A suite's expression names a misspelt marker (:func:`misspelt_markers`).
    """
    registered = configured_markers(project.root)
    names = registered.names if registered is not None else ()
    misspelt = misspelt_markers(project, (*names, *PYTEST_MARKERS), accepted=PLUGIN_MARKERS)
    if misspelt:
        where = registered.where if registered is not None else markers_place(project)
        raise markers_error(project, misspelt, where=where)


def misspelt_markers(
    project: Project, registered: Iterable[str], *, accepted: Iterable[str] = ()
) -> tuple[MisspeltMarker, ...]:
    """The markers of the suites' expressions that look like misspellings of registered ones.

    A name is misspelt when it is neither registered nor accepted, and a registered name is
    close to it (:func:`~suitekit.config._keys.closest`, the did-you-mean of every error). A
    name close to no registered one is a new marker, which suitekit registers itself.

    Args:
        project: The project.
        registered: The markers registered otherwise than by suitekit for the suites: the
            project's, pytest's own, the plugins' and conftest files' where known.
        accepted: Other names to take as registered, which no name is taken as a
            misspelling of (see :data:`PLUGIN_MARKERS`).

    Returns:
        Every misspelt marker of every suite, in the order of the suites and their names.
    """
    choices = tuple(dict.fromkeys(registered))
    known = frozenset((*choices, *accepted))
    found: list[MisspeltMarker] = []
    for suite in project.pytest_suites:
        if suite.marker is None:
            continue
        for name in MarkerExpression.compile(suite.marker).names:
            meant = None if name in known else closest(name, choices)
            if meant is not None:
                found.append(
                    MisspeltMarker(
                        suite=suite.name, expression=suite.marker, name=name, meant=meant
                    )
                )
    return tuple(found)


def markers_error(
    project: Project, misspelt: Iterable[MisspeltMarker], *, where: str
) -> ConfigError:
    """The error reporting every misspelt marker, each as an error of its suite's ``marker``.

    Args:
        project: The project.
        misspelt: What :func:`misspelt_markers` found (at least one).
        where: Where the project registers its markers (see :func:`markers_place`), for the
            fix of a name that is a new marker after all.
    """
    errors = tuple(
        ConfigError(
            file=project.config_file,
            key=f"{ROOT_KEY}.suites.{found.suite}.marker",
            value=found.expression,
            problem=f"the marker {found.name!r} of {found.expression!r} is not registered "
            f"(did you mean {found.meant!r}?), and a misspelt marker selects as if no test "
            "carried it",
            fix=f"fix the spelling, or register {found.name!r} in {where} if it is a new marker",
        )
        for found in misspelt
    )
    return ConfigError.together(errors)
