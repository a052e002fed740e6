"""The markers the suites' expressions name, checked against those the project registers.

suitekit registers with pytest every marker a suite's ``marker`` expression names (so that
``--strict-markers`` accepts them), so pytest itself never refuses a misspelt one: a suite with
``marker = "not slw"`` silently selects every test. This check compares the names with the
markers the project registers in pytest's configuration file (``markers`` of
``[tool.pytest.ini_options]`` or ``[tool.pytest]`` in pyproject.toml, ``[pytest]`` of
pytest.toml, pytest.ini or tox.ini, ``[tool:pytest]`` of setup.cfg, found as pytest finds
it), with pytest's own markers and those of plugins:

- ``suitekit config`` reads the file (:func:`configured_markers`) and knows the markers of
  pytest and of the plugins listed in :data:`PLUGIN_MARKERS`;
- the pytest plugin knows every marker registered in the run, by conftest files and plugins
  included, and checks with :func:`check_markers` before collecting.

A project that registers no marker in pytest's configuration file is not checked: its suites'
markers are then registered by suitekit alone, which is what makes ``--strict-markers`` work
for them, and there is nothing to tell a misspelt name from a new one.
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
from suitekit.config._keys import ROOT_KEY, did_you_mean
from suitekit.errors import ConfigError

__all__ = [
    "PLUGIN_MARKERS",
    "PYTEST_MARKERS",
    "RegisteredMarkers",
    "check_markers",
    "check_registered_markers",
    "configured_markers",
    "marker_name",
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
"""Markers that widely used plugins register, which ``suitekit config`` takes as known.

``suitekit config`` runs no pytest, so it cannot ask the project's plugins; the pytest plugin's
own check knows every plugin's markers and needs no such list."""

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
        return _markers(table if isinstance(table, Mapping) else {}, f"[pytest] of {path}")
    tool = document.get("tool")
    pytest = tool.get("pytest") if isinstance(tool, Mapping) else None
    if not isinstance(pytest, Mapping):
        return None
    ini = pytest.get("ini_options")
    if isinstance(ini, Mapping):
        return _markers(ini, f"[tool.pytest.ini_options] of {path}")
    return _markers(pytest, f"[tool.pytest] of {path}")


def _read_ini(path: Path) -> RegisteredMarkers | None:
    import configparser  # noqa: PLC0415 - as tomllib in _document: not on every pytest's path

    section = "tool:pytest" if path.name == "setup.cfg" else "pytest"
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=os.fspath(path))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    if parser.has_section(section):
        return _markers(dict(parser.items(section)), f"[{section}] of {path}")
    if path.name in {"pytest.ini", ".pytest.ini"}:  # pytest's file even without [pytest]
        return RegisteredMarkers(where=f"[pytest] of {path}", names=())
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
    return RegisteredMarkers(
        where=f"markers of {where}", names=tuple(dict.fromkeys(n for n in names if n))
    )


def check_registered_markers(project: Project) -> None:
    """:func:`check_markers` against the markers of pytest's configuration file (no pytest).

    What ``suitekit config`` checks: the project's registered markers, pytest's own and
    those of :data:`PLUGIN_MARKERS`.

    Raises:
        ConfigError: A suite's expression names a marker that is not registered.
    """
    registered = configured_markers(project.root)
    check_markers(project, registered, known=(*PYTEST_MARKERS, *PLUGIN_MARKERS))


def check_markers(
    project: Project, registered: RegisteredMarkers | None, *, known: Iterable[str] = ()
) -> None:
    """Refuse a marker of a suite's expression that the project does not register.

    Args:
        project: The project.
        registered: The markers the project registers in pytest's configuration file
            (nothing is checked when it registers none).
        known: The other markers known to be registered: pytest's own and the plugins'.

    Raises:
        ConfigError: A suite's expression names a marker that is not registered; every such
            marker of every suite is reported, each with the closest registered one.
    """
    if registered is None or not registered.names:
        return
    choices = list(dict.fromkeys((*registered.names, *known)))
    allowed = frozenset(choices)
    errors: list[ConfigError] = []
    for suite in project.pytest_suites:
        if suite.marker is None:
            continue
        for name in MarkerExpression.compile(suite.marker).names:
            if name in allowed:
                continue
            hint = did_you_mean(name, choices)
            errors.append(
                ConfigError(
                    file=project.config_file,
                    key=f"{ROOT_KEY}.suites.{suite.name}.marker",
                    value=suite.marker,
                    problem=f"the marker {name!r} of {suite.marker!r} is not registered"
                    f"{hint}, so the expression selects as if no test carried it",
                    fix=f"correct the name, or register the marker in the {registered.where}",
                )
            )
    if errors:
        raise ConfigError.together(tuple(errors))
