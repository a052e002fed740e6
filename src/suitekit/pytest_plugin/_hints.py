"""What the plugin checks and hints in every run of a suitekit project, a plain ``pytest`` too.

:class:`ProjectChecks` does two things:

- before anything is collected, it checks that no marker the suites' expressions name is a
  misspelling of a registered one (:func:`suitekit.config.misspelt_markers`), against every
  marker this run knows: the project's configuration, pytest's own, the plugins' and the
  conftest files'. suitekit's own registrations of the suites' markers are not among them:
  the markers registered before them are noted when the object is made, and those after
  them when the object is registered (pytest calls its ``pytest_configure`` then);
- in a run without ``--suitekit-suite`` (a plain ``pytest``), a test or a test module that
  fails with ``KeyError: 'DATABASE_URL'`` for a variable that a suite's service would set gets
  a hint: the variable is suitekit's to set, for that suite, and how to run the suite.

:func:`note_early` gives the same hint when a conftest loaded before the plugin is configured
fails so.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

import pytest

from suitekit._model import Project
from suitekit._selection import SuiteSelector, suites_at
from suitekit.config import (
    PYTEST_MARKERS,
    find_config,
    load_project,
    marker_name,
    markers_error,
    markers_place,
    misspelt_markers,
)
from suitekit.errors import SuitekitError
from suitekit.pytest_plugin._shared import Describer

__all__ = ["ProjectChecks", "hint_for", "note_early", "service_variables"]

_MAX_CHAIN: Final = 20  # how far down __cause__ / __context__ a KeyError is looked for


def service_variables(project: Project) -> Mapping[str, tuple[tuple[str, str], ...]]:
    """Each variable the suites' services set, with the (service, suite) pairs that set it."""
    found: dict[str, list[tuple[str, str]]] = {}
    own = {service.name: service for service in project.custom_services}
    for suite in project.pytest_suites:
        sets = [(service, project.services[service].env) for service in suite.services]
        sets += [(name, own[name].env) for name in suite.custom_services if name in own]
        for service, env in sets:
            for variable in env:
                found.setdefault(variable, []).append((service, suite.name))
    return {variable: tuple(pairs) for variable, pairs in found.items()}


def _missing_variables(error: BaseException) -> Iterator[tuple[BaseException, str]]:
    """The ``KeyError`` s of ``error``'s chain whose key is a string, with that key."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < _MAX_CHAIN:
        seen.add(id(current))
        if isinstance(current, KeyError) and current.args and isinstance(current.args[0], str):
            yield current, current.args[0]
        cause = getattr(current, "cause", None)  # pytest's ConftestImportFailure
        current = (
            current.__cause__
            or current.__context__
            or (cause if isinstance(cause, BaseException) else None)
        )


def hint_for(
    variables: Mapping[str, tuple[tuple[str, str], ...]],
    variable: str,
    *,
    owners: tuple[str, ...] = (),
) -> str | None:
    """The hint for a test that found ``variable`` unset, or ``None`` if no service sets it.

    ``owners`` are the suites that own the failing test (or reach its file), which the hint
    names first when their services set the variable.
    """
    pairs = variables.get(variable)
    if not pairs:
        return None
    ranked = sorted(pairs, key=lambda pair: pair[1] not in owners)  # stable: owners first
    service, suite = ranked[0]
    others = list(dict.fromkeys(name for _, name in ranked[1:] if name != suite))
    also = f" (also set for suite(s) {', '.join(map(repr, others))})" if others else ""
    return (
        f"{variable} is set by suitekit's {service} service for suite {suite!r}{also}: run "
        f"`pytest --suitekit-suite={suite}` (or `nox -s {suite}`)"
    )


def _note(
    error: BaseException,
    variables: Mapping[str, tuple[tuple[str, str], ...]],
    owners: tuple[str, ...] = (),
) -> str | None:
    """Add the hint to the first ``KeyError`` of ``error``'s chain it applies to; return it."""
    for key_error, variable in _missing_variables(error):
        if variable in os.environ:
            continue  # the variable is set: this KeyError is some mapping's own
        hint = hint_for(variables, variable, owners=owners)
        if hint is None:
            continue
        if hint not in getattr(key_error, "__notes__", ()):  # a fixture's cached error
            key_error.add_note(hint)
        return hint
    return None


def note_early(early_config: pytest.Config, error: BaseException) -> None:
    """Give the hint to an error raised while pytest loaded the first conftest files.

    The plugin is not configured yet, so the project is read here, on this error's path only.
    Nothing happens when it cannot be read, or in a suite's run (whose services set the
    variables): pytest's own report of ``error`` is what counts.
    """
    options = early_config.known_args_namespace
    if getattr(options, "suitekit_suite", None) or getattr(options, "suitekit_partition", False):
        return
    if not any(variable not in os.environ for _, variable in _missing_variables(error)):
        return
    try:
        explicit = getattr(options, "suitekit_project", None)
        root = Path(explicit).resolve() if explicit else early_config.rootpath
        if explicit is None:
            find_config(root)
        project = load_project(root)
    except SuitekitError:
        return
    _note(error, service_variables(project))


class ProjectChecks:
    """The marker check of every run, and the hints of a run without a suite."""

    def __init__(self, config: pytest.Config, project: Project) -> None:
        """Note the markers registered so far, before suitekit's (see the module's doc)."""
        self.config = config
        self.project = project
        self.plain = config.getoption("suitekit_suite") is None and not config.getoption(
            "suitekit_partition"
        )
        self._before = Counter(_lines(config))
        self._suitekit: Counter[str] = Counter()
        self._variables: Mapping[str, tuple[tuple[str, str], ...]] | None = None
        self._describe = Describer(project)

    def pytest_configure(self, config: pytest.Config) -> None:
        """Note the markers suitekit registered for the suites (called on registration)."""
        self._suitekit = Counter(_lines(config)) - self._before

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Check the suites' markers for misspellings of registered ones, before collecting.

        Raises:
            pytest.UsageError: A suite's expression names a marker that is not registered
                (but by suitekit) and is close to one that is.
        """
        config = session.config
        if hasattr(config, "workerinput"):
            return  # the controller checks
        others = Counter(_lines(config)) - self._suitekit
        names = (marker_name(line) for line in others.elements())
        registered = sorted({name for name in names if name} | set(PYTEST_MARKERS))
        misspelt = misspelt_markers(self.project, registered)
        if misspelt:
            where = markers_place(self.project, config.inipath)
            error = markers_error(self.project, misspelt, where=where)
            raise pytest.UsageError(str(error))

    @property
    def variables(self) -> Mapping[str, tuple[tuple[str, str], ...]]:
        """What :func:`service_variables` says of the project, worked out when first needed."""
        if self._variables is None:
            self._variables = service_variables(self.project)
        return self._variables

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> None:
        """Hint at the suite to run when a test fails for a variable a service sets.

        The hint is a note of the ``KeyError``, added before pytest's own report is made of it,
        so it shows under the error wherever the report goes (an xdist controller, JUnit).
        """
        if not self.plain or call.excinfo is None:
            return
        if not any(True for _ in _missing_variables(call.excinfo.value)):
            return
        test = self._describe(item)
        owners = tuple(
            suite.name
            for suite in self.project.pytest_suites
            if SuiteSelector.of(suite).selects(test)
        )
        _note(call.excinfo.value, self.variables, owners)

    def pytest_exception_interact(
        self,
        node: pytest.Item | pytest.Collector,
        call: pytest.CallInfo[object],
        report: pytest.CollectReport | pytest.TestReport,
    ) -> None:
        """The same hint for a test module that fails to import, under its report."""
        if not self.plain or call.excinfo is None or not isinstance(report, pytest.CollectReport):
            return
        try:
            where = node.path.resolve().relative_to(self.project.root.resolve()).as_posix()
        except ValueError:  # outside the project
            where = None
        owners = suites_at(self.project, where) if where is not None else ()
        hint = _note(call.excinfo.value, self.variables, owners)
        if hint is None:
            return
        # The report was made before this hook: the hint joins it as a section of its own.
        longrepr = report.longrepr
        addsection = getattr(longrepr, "addsection", None)  # pytest's ExceptionRepr
        if callable(addsection):
            addsection("suitekit", hint)
        elif isinstance(longrepr, str):
            report.longrepr = f"{longrepr}\n\nsuitekit: {hint}"


def _lines(config: pytest.Config) -> list[str]:
    value = config.getini("markers")
    return [line for line in value if isinstance(line, str)] if isinstance(value, list) else []
