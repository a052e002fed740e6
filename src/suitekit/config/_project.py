"""Layer 1: find pyproject.toml, read ``[tool.suitekit]`` table by table, then post-process.

Each section has its reader (:mod:`~suitekit.config._suites`, :mod:`~suitekit.config._services`,
:mod:`~suitekit.config._ci`); :func:`parse_project` calls them in the order of the table and
hands the finished :class:`~suitekit.Project` to :func:`~suitekit.config._post.post_process`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar, cast

from suitekit._model import (
    DEFAULT_REPORTS,
    CiConfig,
    InstallSpec,
    Isolation,
    Project,
    Quarantine,
)
from suitekit.config._ci import literal_ci_value, read_ci
from suitekit.config._document import READ_TABLES, check_nesting, read_document
from suitekit.config._keys import ADD_TABLE, COVERAGE_KEYS, ROOT_KEY, TOP_KEYS
from suitekit.config._post import post_process
from suitekit.config._services import read_custom_services, read_isolation, read_services
from suitekit.config._suites import read_check, read_install, read_quarantine, read_suite
from suitekit.config._table import Reader, Table, model_default
from suitekit.errors import ConfigError

__all__ = ["find_config", "load_project", "parse_project"]

T = TypeVar("T")

_FAIL_UNDER: Final = cast("float", model_default(Project, "fail_under"))


def find_config(start: Path) -> Path:
    """Find the project's pyproject.toml: the nearest one at or above ``start``.

    As with pytest's and ruff's own configuration, the nearest pyproject.toml is the project's;
    a project nested in another does not inherit the outer one's suites.

    Raises:
        ConfigError: There is no pyproject.toml, or the nearest does not declare
            ``[tool.suitekit]``.
    """
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        # lexists, not is_file: a directory, a pipe or a dangling link in the project's place is
        # the project's file gone wrong, to report, not to walk past into an outer project.
        if not os.path.lexists(candidate):
            continue
        try:
            document = read_document(candidate)
        except ConfigError:
            return candidate  # load_project reports what is wrong with it
        tool = document.get("tool")
        if isinstance(tool, Mapping) and "suitekit" in tool:
            return candidate
        problem = "the project's pyproject.toml does not declare [tool.suitekit]"
        raise ConfigError(file=candidate, key=ROOT_KEY, problem=problem, fix=ADD_TABLE)
    raise ConfigError(
        file=None,
        key=ROOT_KEY,
        problem=f"there is no pyproject.toml at or above {start}",
        fix=f"run from the project's folder, or {ADD_TABLE}",
    )


def load_project(start: Path | None = None) -> Project:
    """Find, read and validate the project's declaration.

    Args:
        start: A folder at or below the project root, or the pyproject.toml itself; the current
            folder by default.

    Raises:
        ConfigError: The file is missing, is not a regular file, is too large, is not UTF-8
            TOML, or the declaration is malformed.
    """
    start = start or Path.cwd()
    if os.path.lexists(start) and not start.is_dir():
        # The file itself. Only its folder is resolved: a pyproject.toml that is a link belongs
        # to the folder it is in, and a link to a device must still be seen (and refused) as
        # the file it claims to be, not as /dev/zero.
        config_file = start.absolute().parent.resolve() / start.name
    else:
        config_file = find_config(start.resolve())
    return parse_project(read_document(config_file), config_file=config_file)


def parse_project(document: Mapping[str, Any], *, config_file: Path) -> Project:
    """Validate a parsed pyproject document and build the :class:`~suitekit.Project`.

    Every independent mistake of the file is reported at once, in one :class:`ConfigError`
    (see :class:`~suitekit.config._table.Reader`): each unknown key, and the first bad value of
    each top-level key, each pytest suite's key, each other runner's suite, each check, each
    service, each quarantine entry, and then each check of :func:`post_process`.

    Some mistakes stop validation at once, since nothing after them could be checked: a missing
    ``[tool.suitekit]`` table, or one that is not a table; values nested too deeply; and no
    ``[tool.suitekit.suites]`` table, or an empty one. A suite whose ``runner`` is wrong is
    not read further (the runner decides which keys it takes). :func:`post_process` skips what
    could not be read.

    Raises:
        ConfigError: The declaration is malformed.
    """
    tool = document.get("tool", {})
    raw = tool.get("suitekit") if isinstance(tool, Mapping) else None
    if raw is None:
        raise ConfigError(
            file=config_file,
            key=ROOT_KEY,
            problem="the table is missing",
            fix=ADD_TABLE,
        )
    for name, value in (("tool.suitekit", raw), *((n, document.get(n)) for n in READ_TABLES)):
        check_nesting(config_file, name, value)
    reader = Reader(config_file)
    top = reader.table(raw, ROOT_KEY)
    top.finish(TOP_KEYS)
    try:
        suites_raw = top.table("suites", required=True)
    except ConfigError as error:
        reader.stop(error)
    if not suites_raw.raw:
        reader.stop(
            ConfigError(
                file=config_file,
                key=f"{ROOT_KEY}.suites",
                problem="no suite is declared",
                fix='declare one, e.g. [tool.suitekit.suites.unit] with paths = ["tests/unit"]',
            )
        )
    attempt = reader.attempt

    def key(name: str) -> str:
        return f"{ROOT_KEY}.{name}"

    default_python: tuple[str, ...] = attempt(
        lambda: top.python_list("python", default=(_running_python(),)),
        (_running_python(),),
    )
    default_install = attempt(
        lambda: read_install(top, "install", InstallSpec()), InstallSpec(), key=key("install")
    )
    source: tuple[str, ...] = attempt(lambda: top.str_list("source", default=()), ())
    tests: tuple[str, ...] = attempt(
        lambda: top.str_list("tests", default=("tests",), allow_empty=False),
        ("tests",),
        key=key("tests"),
    )

    def read_reports() -> str:
        reports = top.string("reports", default=DEFAULT_REPORTS)
        literal_ci_value(top, "reports", reports)  # the CI files upload it by this path
        return reports

    reports = attempt(read_reports, DEFAULT_REPORTS, key=key("reports"))
    env: Mapping[str, str] = attempt(lambda: top.env("env"), {})
    checks_raw = attempt(
        lambda: top.table("checks", required=False), Table(reader, key("checks"), {})
    )
    services_raw = attempt(
        lambda: top.table("services", required=False), Table(reader, key("services"), {})
    )
    services = read_services(services_raw)
    custom_services = read_custom_services(services_raw)
    custom_names = tuple(service.name for service in custom_services)
    isolation = attempt(lambda: read_isolation(top.table("isolation", required=False)), Isolation())
    ci = attempt(lambda: read_ci(top.table("ci", required=False)), CiConfig())
    fail_under = attempt(lambda: _fail_under(top.table("coverage", required=False)), _FAIL_UNDER)

    suites = tuple(
        _each(
            reader,
            suites_raw,
            partial(
                read_suite,
                default_python=default_python,
                default_install=default_install,
                custom_services=custom_names,
            ),
        )
    )
    no_quarantine: tuple[Quarantine, ...] = ()
    quarantine = attempt(
        partial(read_quarantine, reader, top.raw.get("quarantine"), suites), no_quarantine
    )
    checks = tuple(
        _each(
            reader,
            checks_raw,
            partial(
                read_check,
                default_python=default_python[0],
                default_install=default_install,
                custom_services=custom_names,
            ),
        )
    )
    project = Project(
        root=config_file.parent,
        config_file=config_file,
        python=default_python,
        install=default_install,
        source=source,
        tests=tests,
        reports=reports,
        env=env,
        fail_under=fail_under,
        suites=suites,
        checks=checks,
        services=services,
        custom_services=custom_services,
        isolation=isolation,
        ci=ci,
        quarantine=quarantine,
    )
    post_process(project, document, reader)
    reader.raise_errors()
    return project


def _each(reader: Reader, table: Table, read: Callable[[Reader, Table, str], T]) -> Iterator[T]:
    """``read`` of each entry of ``table`` (each suite, each check) that can be read.

    The mistakes of the others are noted with ``reader``, each entry's key in its ``failed``.
    """
    for name in table.raw:
        entry = reader.attempt(partial(read, reader, table, name), None, key=f"{table.key}.{name}")
        if entry is not None:
            yield entry


def _running_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _fail_under(coverage: Table) -> float:
    """``[tool.suitekit.coverage]``: the percentage of covered code below which a run fails."""
    coverage.finish(COVERAGE_KEYS)
    fail_under = coverage.raw.get("fail-under", _FAIL_UNDER)
    if (
        isinstance(fail_under, bool)
        or not isinstance(fail_under, int | float)
        or not (
            0 <= fail_under <= 100  # noqa: PLR2004 - percent
        )
    ):
        raise coverage.error(
            "fail-under",
            f"expected a percentage from 0 to 100, got {fail_under!r}",
            "write fail-under = 80",
        )
    return float(fail_under)
