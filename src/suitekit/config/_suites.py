"""Reading the suites, the checks and the quarantine, with the getters of their values.

Also the ``install`` tables, which the project, each suite and each check may declare.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import partial
from typing import Final, cast

from suitekit._kinds import NAMES
from suitekit._markexpr import MarkerExpression, MarkerSyntaxError
from suitekit._model import (
    DEFAULT_TIMEOUT,
    DIST_MODES,
    PATHLESS_RUNNERS,
    PYTEST_RUNNER,
    RETRYING_RUNNERS,
    RUNNER_KINDS,
    SERVICES,
    Check,
    DistMode,
    InstallSpec,
    Quarantine,
    RunnerConfig,
    RunnerKind,
    Service,
    Source,
    Suite,
    UserService,
    Workers,
)
from suitekit.config._counts import worker_count
from suitekit.config._keys import (
    BACKEND_KEYS,
    CHECK_KEYS,
    CUSTOM_FIELDS,
    INSTALL_KEYS,
    MAX_RETRIES,
    PYTEST_ONLY_KEYS,
    QUARANTINE_KEYS,
    ROOT_KEY,
    RUNNER_KEYS,
    SUITE_KEYS,
    did_you_mean,
)
from suitekit.config._services import _command_templates as command_templates
from suitekit.config._services import _memory as memory_limit
from suitekit.config._services import _ready as ready_check
from suitekit.config._services import _ready_timeout as ready_timeout
from suitekit.config._services import _templates as templates
from suitekit.config._table import Reader, Table, model_default
from suitekit.errors import ConfigError

__all__ = ["read_check", "read_install", "read_quarantine", "read_suite"]

_WORKERS: Final = cast("Workers", model_default(Suite, "workers"))
_DIST: Final = cast("DistMode", model_default(Suite, "dist"))
_MAX_SHARDS: Final = 256
_MAX_RELEASE_AFTER: Final = 1000
_RELEASE_AFTER: Final = 5  # passing runs in a row that end a quarantine, by default
_NO_RETRIES: Final = {
    "jest": (
        "Jest has no command-line option for retries: they are jest.retryTimes() in the tests",
        "remove retries; call jest.retryTimes(N) at the top of the test files that need it",
    ),
    "command": (
        "suitekit cannot tell a command to run failed tests again",
        "remove retries; have the command retry (an option of its test runner, in run)",
    ),
}
"""Why a runner outside ``RETRYING_RUNNERS`` refuses ``retries``, and the fix."""


def read_suite(
    reader: Reader,
    suites: Table,
    name: str,
    default_python: tuple[str, ...],
    default_install: InstallSpec,
    *,
    custom_services: tuple[str, ...] = (),
) -> Suite:
    """The suite ``name`` of ``[tool.suitekit.suites]``.

    ``custom_services`` are the names of the project's own services, which ``services`` may list.
    """
    key = f"{suites.key}.{name}"
    reader.attempt(partial(reader.name, name, key), None)
    table = suites.table(name, required=True)
    table.finish(SUITE_KEYS)
    runner = _runner(table)
    if runner.kind != "pytest":
        return _external_suite(
            table,
            name,
            runner,
            default_python=default_python,
            default_install=default_install,
            custom_services=custom_services,
        )
    # Each key on its own: a mistake in one is noted, and the others are still checked.
    attempt = reader.attempt
    known = len(reader.errors)
    paths: tuple[str, ...] = attempt(lambda: table.str_list("paths", default=()), ())
    marker = attempt(partial(_marker, table, "marker"), None)
    if not paths and marker is None and len(reader.errors) == known:
        raise reader.error(
            key,
            None,
            "the suite selects nothing: it has neither `paths` nor `marker`",
            'give it `paths = ["tests/<folder>"]`, a `marker = "<expression>"`, or both',
        )
    none: tuple[tuple[Service, ...], tuple[str, ...]] = ((), ())
    services, custom = attempt(partial(_services, table, "services", custom_services), none)
    no_env: Mapping[str, str] = {}
    no_args: tuple[str, ...] = ()
    return Suite(
        name=name,
        paths=paths,
        marker=marker,
        workers=attempt(partial(_workers, table, "workers"), _WORKERS),
        dist=attempt(partial(_dist, table, "dist"), _DIST),
        target_seconds=attempt(partial(table.positive_number, "target-seconds"), None),
        services=services,
        custom_services=custom,
        env=attempt(partial(table.env, "env"), no_env),
        pytest_args=attempt(
            partial(table.str_list, "pytest-args", default=(), split_string=True), no_args
        ),
        python=attempt(
            partial(table.python_list, "python", default=default_python), default_python
        ),
        install=attempt(partial(read_install, table, "install", default_install), default_install),
        shards=attempt(partial(table.count, "shards", maximum=_MAX_SHARDS, default=1), 1),
        retries=attempt(partial(table.whole, "retries", maximum=MAX_RETRIES, default=0), 0),
        coverage=attempt(partial(table.boolean, "coverage", default=True), True),  # noqa: FBT003
        timeout=attempt(
            lambda: table.seconds_or_off("timeout", default=DEFAULT_TIMEOUT) or 0.0,  # not None
            DEFAULT_TIMEOUT,
        ),
        deadline=attempt(partial(table.seconds_or_off, "deadline", default=None), None),
    )


def _runner(table: Table) -> RunnerConfig:
    """``runner``, ``cwd`` and ``run``: what runs the suite's tests (pytest unless named)."""
    kind = table.raw.get("runner", "pytest")
    if kind not in RUNNER_KINDS:
        hint = did_you_mean(str(kind), RUNNER_KINDS)
        raise table.error(
            "runner",
            f"{kind!r} is not a test runner suitekit runs{hint}",
            f"use one of: {', '.join(RUNNER_KINDS)} (see docs/runners.md)",
        )
    if kind == "pytest":
        for name in RUNNER_KEYS:
            if name in table.raw:
                runner = "playwright" if name == "backend" else "vitest"
                raise table.error(
                    name,
                    f"{name} is a key of suites of another runner; pytest runs in the project root",
                    f'remove {name}, or name the runner: runner = "{runner}"',
                )
        return PYTEST_RUNNER
    cwd = table.raw.get("cwd", "")
    if cwd != "":
        cwd = table.string("cwd", default="")
        if cwd.startswith(("/", "\\")) or ".." in cwd.replace("\\", "/").split("/"):
            raise table.error(
                "cwd",
                f"{cwd!r} is not a folder inside the project",
                'give a folder relative to the project root, e.g. cwd = "frontend"',
            )
    run = table.raw.get("run", "")
    if run != "" or kind == "command":
        run = table.string("run", default="")
        _run_template(table, run, kind)
    backend = None
    if "backend" in table.raw:
        if kind != "playwright":
            raise table.error(
                "backend",
                f"runner = {kind!r} takes no backend: suitekit starts a backend per worker for "
                "Playwright's workers only",
                "remove backend, or start the server in the suite's services or run command",
            )
        backend = _backend(table)
    return RunnerConfig(kind=cast("RunnerKind", kind), cwd=cwd, run=run, backend=backend)


def _backend(suite: Table) -> UserService:
    """``backend``: the application server a Playwright suite needs, one copy per worker.

    Read and validated as a service of the project's own is (its ``run``, ``ready``, ``env``
    templates of ``{port}``, ``{dir}``, ``{host}``, ``{worker}``, its ``timeout`` and
    ``memory``), without ``scope``: there is always a copy per Playwright worker.
    """
    table = suite.table("backend", required=True)
    if "run" not in table.raw:
        raise table.error(
            "run",
            "the backend has no command that starts it",
            'write backend = { run = "python app.py --port {port}", '
            'ready = "http://{host}:{port}/health" }',
        )
    table.finish(BACKEND_KEYS)
    ready_kind, ready = ready_check(table)
    return UserService(
        name="backend",
        run=command_templates(table, "run", required=True),
        ready_kind=ready_kind,
        ready=ready,
        env=templates(table, "env", CUSTOM_FIELDS) if "env" in table.raw else {},
        timeout=ready_timeout(table),
        memory=memory_limit(table),
        install=table.string("install", default="-") if "install" in table.raw else "",
        table=table.key,
    )


def _run_template(table: Table, run: str, kind: str) -> None:
    """Refuse a ``run`` that cannot be split, or that uses a placeholder suitekit does not fill."""
    words = table.split("run", run)
    if kind != "command":
        return
    fields = ("junit", "workers", "shard")
    for word in words:
        try:
            used = [field for _, field, _, _ in string.Formatter().parse(word) if field is not None]
        except ValueError as error:
            raise table.error(
                "run", f"{run!r} is not a template: {error}", "write {{ and }} for literal braces"
            ) from None
        for field in used:
            if field not in fields:
                hint = did_you_mean(field, fields)
                raise table.error(
                    "run",
                    f"{run!r} uses an unknown placeholder {{{field}}}{hint}",
                    f"use {', '.join('{' + f + '}' for f in fields)}",
                )
    if not any("{junit}" in word for word in words):
        raise table.error(
            "run",
            f"{run!r} does not say where the JUnit report goes",
            'pass {junit} to the command, e.g. run = "./run-tests --junit-xml {junit}"',
        )


def _external_suite(
    table: Table,
    name: str,
    runner: RunnerConfig,
    *,
    default_python: tuple[str, ...],
    default_install: InstallSpec,
    custom_services: tuple[str, ...],
) -> Suite:
    """A suite of another runner: pytest's keys are refused, its own are read."""
    for key in PYTEST_ONLY_KEYS:
        if key in table.raw:
            raise table.error(
                key,
                f"{key} is a key of pytest's suites; runner = {runner.kind!r} does not take it",
                "remove it (see docs/runners.md for what each runner takes)",
            )
    if "install" in table.raw and runner.backend is None:
        raise table.error(
            "install",
            f"runner = {runner.kind!r} installs its own dependencies (in cwd); install is for "
            "pytest's suites and a Playwright suite's backend",
            "remove install",
        )
    if "retries" in table.raw and runner.kind not in RETRYING_RUNNERS:
        reason, fix = _NO_RETRIES.get(runner.kind, ("it has no retry option", "remove retries"))
        raise table.error("retries", f"runner = {runner.kind!r} cannot retry: {reason}", fix)
    if runner.kind in PATHLESS_RUNNERS and "paths" in table.raw:
        raise table.error(
            "paths",
            f"runner = {runner.kind!r} runs every test of its folder; it takes no paths",
            "remove paths; point cwd at the crate, and pass test filters after -- if needed",
        )
    services, custom = _services(table, "services", custom_services)
    if custom:
        raise table.error(
            "services",
            f"{custom[0]!r} is a service of the project's own, which suitekit starts for "
            f"pytest's workers; runner = {runner.kind!r} gets only suitekit's services",
            f"start {custom[0]} in the suite's run command, or test it from a pytest suite",
        )
    return Suite(
        name=name,
        paths=table.str_list("paths", default=()),
        workers=_workers(table, "workers"),
        target_seconds=table.positive_number("target-seconds"),
        services=services,
        env=table.env("env"),
        python=table.python_list("python", default=default_python),
        install=read_install(table, "install", default_install),
        shards=table.count("shards", maximum=_MAX_SHARDS, default=1),
        retries=table.whole("retries", maximum=MAX_RETRIES, default=0),
        coverage=False,
        timeout=0.0,
        runner=runner,
    )


def read_check(
    reader: Reader,
    checks: Table,
    name: str,
    default_python: str,
    default_install: InstallSpec,
    *,
    custom_services: tuple[str, ...] = (),
) -> Check:
    """The check ``name`` of ``[tool.suitekit.checks]``: a command line, an array, or a table."""
    key = f"{checks.key}.{name}"
    reader.attempt(partial(reader.name, name, key), None)
    value = checks.raw[name]
    if isinstance(value, str | list):
        value = {"run": value}
    table = checks.table(name, required=True, value=value)
    table.finish(CHECK_KEYS)
    run = table.str_list("run", default=(), split_string=False, single_string=True)
    if not run or any(not command.strip() for command in run):
        raise table.error(
            "run",
            "the check has no command to run",
            f'give it one, e.g. {name} = "ruff check ." or {name} = {{ run = ["cmd1", "cmd2"] }}',
        )
    for command in run:
        table.split("run", command)  # as the check's session will run it
    python = table.python_list("python", default=(default_python,), single_string=True)
    if len(python) != 1:
        raise ConfigError(
            file=reader.file,
            key=f"{key}.python",
            value=list(python),
            problem="a check runs on one Python version",
            fix='give one version, e.g. python = "3.12"',
        )
    return Check(
        name=name,
        run=run,
        allow_failure=table.boolean("allow-failure", default=False),
        services=_services(table, "services", custom_services, checks=True)[0],
        env=table.env("env"),
        python=python[0],
        install=read_install(table, "install", default_install),
    )


_QUARANTINE_EXAMPLE: Final = (
    '[[tool.suitekit.quarantine]] with test = "tests/unit/test_x.py::test_y" and '
    'reason = "fails one run in ten (issue 123)"'
)


_NO_QUARANTINE: Final = {
    "vitest": "Vitest exits with 1 for failed tests and for errors outside any test alike "
    "(an unhandled error after a test ended, a coverage threshold), and its JUnit report "
    "records only the failed tests: a run whose failures were all quarantined could hide such "
    "an error",
    "jest": "Jest exits with 1 for failed tests and for errors outside any test alike (a failed "
    "globalTeardown, a coverage threshold), which its JUnit report does not record: a run whose "
    "failures were all quarantined could hide such an error",
    "playwright": "Playwright exits with 1 for failed tests and for errors outside any test "
    "alike (a failed global teardown), which its JUnit report does not record: a run whose "
    "failures were all quarantined could hide such an error",
    "command": "suitekit cannot tell from a command's exit code that only tests failed",
}
"""Why a runner refuses quarantine (its ``Runner.failure_codes`` are empty): config does not
import the runners, so a unit test checks that the two agree."""


def read_quarantine(
    reader: Reader, raw: object, suites: tuple[Suite, ...]
) -> tuple[Quarantine, ...]:
    """The ``[[tool.suitekit.quarantine]]`` array: node ids or patterns, each with a reason.

    An entry with a ``suite`` names tests of that suite, which ``suites`` must hold, run by a
    runner other than pytest that can take quarantined tests.
    """
    key = f"{ROOT_KEY}.quarantine"
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise reader.wrong_type(
            key, raw, "an array of tables", f"write each entry as {_QUARANTINE_EXAMPLE}"
        )
    entries: list[Quarantine] = []
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(raw):
        entry = reader.attempt(
            partial(_quarantine_entry, reader, key, index, item, suites=suites, seen=seen), None
        )
        if entry is not None:
            entries.append(entry)
    return tuple(entries)


def _quarantine_entry(
    reader: Reader,
    key: str,
    index: int,
    item: object,
    *,
    suites: tuple[Suite, ...],
    seen: dict[tuple[str, str], int],
) -> Quarantine:
    """The entry ``index`` of the quarantine (``seen``: the entries before it, by test)."""
    table = reader.table(item, f"{key}[{index}]")
    table.finish(QUARANTINE_KEYS)
    suite = _quarantine_suite(table, suites)
    test = table.string("test", default="")
    if test != test.strip() or test.startswith(("/", "\\")) or ".." in test.split("/"):
        raise table.error(
            "test",
            f"{test!r} is not a node id or pattern relative to the project root",
            f"write it as the report of suite {suite!r} names the test (classname::name)"
            if suite
            else 'write it as pytest prints it, e.g. "tests/unit/test_x.py::test_y" '
            'or "tests/unit/test_x.py::test_*"',
        )
    if (suite, test) in seen:
        raise table.error(
            "test",
            f"{test!r} is already quarantined by {key}[{seen[suite, test]}]",
            "keep one entry per test or pattern",
        )
    seen[suite, test] = index
    reason = table.string("reason", default="")
    release_after = table.count("release-after", maximum=_MAX_RELEASE_AFTER, default=_RELEASE_AFTER)
    return Quarantine(
        test=test, reason=reason, release_after=release_after, index=index, suite=suite
    )


def _quarantine_suite(table: Table, suites: tuple[Suite, ...]) -> str:
    """An entry's ``suite``: one of another runner that can take quarantined tests."""
    if "suite" not in table.raw:
        return ""
    name = table.string("suite", default="")
    suite = next((suite for suite in suites if suite.name == name), None)
    if suite is None and f"{ROOT_KEY}.suites.{name}" in table.reader.failed:
        return name  # the suite's own mistakes are reported: nothing more to check here
    if suite is None:
        names = [suite.name for suite in suites]
        raise table.error(
            "suite",
            f"there is no suite {name!r}{did_you_mean(name, names)}",
            f"name one of the suites ({', '.join(names)}), or drop `suite` for pytest's tests",
        )
    kind = suite.runner.kind
    if kind == "pytest":
        raise table.error(
            "suite",
            f"suite {name!r} is pytest's, whose node ids already say where a test is",
            'drop `suite` and write the node id, e.g. test = "tests/unit/test_x.py::test_y"',
        )
    if kind in _NO_QUARANTINE:
        raise table.error(
            "suite",
            f"suite {name!r} runs {kind}, which cannot take quarantined tests: "
            f"{_NO_QUARANTINE[kind]}",
            "fix the test, or skip it by the runner's own means, or remove the entry",
        )
    return name


def read_install(parent: Table, name: str, default: InstallSpec) -> InstallSpec:
    """The ``install`` table ``name`` of ``parent`` (the project, a suite or a check)."""
    if name not in parent.raw:
        return default
    table = parent.table(name, required=True)
    table.finish(INSTALL_KEYS)
    spec = InstallSpec(
        project=table.boolean("project", default=True),
        editable=table.boolean("editable", default=True),
        groups=table.str_list("groups", default=()),
        extras=table.str_list("extras", default=()),
        requirements=table.str_list("requirements", default=()),
        packages=table.str_list("packages", default=()),
        lock=table.boolean("lock", default=True),
    )
    if spec.extras and not spec.project:
        raise table.error(
            "extras",
            "extras are the project's, but `project = false` does not install the project",
            "drop `extras`, or install the project (project = true)",
        )
    return spec


def _marker(table: Table, name: str) -> str | None:
    if name not in table.raw:
        return None
    value = table.string(name, default="")
    try:
        MarkerExpression.compile(value)
    except MarkerSyntaxError as error:
        raise table.error(
            name,
            str(error),
            'write a pytest marker expression, e.g. "processing" or "slow and not db"',
        ) from None
    return value


def _workers(table: Table, name: str) -> Workers:
    return worker_count(
        table.raw.get(name, _WORKERS),
        source=Source.CONFIG,
        origin=f"{table.key}.{name}",
        file=table.file,
    )


def _dist(table: Table, name: str) -> DistMode:
    value = table.raw.get(name, _DIST)
    if value not in DIST_MODES:
        hint = did_you_mean(str(value), DIST_MODES)
        raise table.error(
            name,
            f"{value!r} is not an xdist distribution mode{hint}",
            f"use one of: {', '.join(DIST_MODES)}",
        )
    return cast("DistMode", value)


def _services(
    table: Table, name: str, custom: tuple[str, ...] = (), *, checks: bool = False
) -> tuple[tuple[Service, ...], tuple[str, ...]]:
    """The services a suite or check needs: suitekit's, and the project's own.

    suitekit's are given by their own names (``mariadb`` is ``mysql``); ``custom`` names the
    project's own services.

    A check runs commands, not pytest workers: it cannot have a service of the project's own.
    """
    given = table.str_list(name, default=())
    builtin: list[Service] = []
    own: list[str] = []
    for service in given:
        if service in NAMES:
            builtin.append(NAMES[service])
        elif service in custom and not checks:
            own.append(service)
        elif service in custom:
            raise table.error(
                name,
                f"{service!r} is a service of the project's own, which suitekit starts for "
                "pytest workers only; a check's commands cannot have one",
                "start it in the check's commands yourself, or test against it in a suite",
            )
        else:
            known = [*NAMES, *custom]
            hint = did_you_mean(service, known)
            fix = f"use the services suitekit provides: {', '.join(SERVICES)}"
            if custom and not checks:
                fix += f", or those of the project's own: {', '.join(custom)}"
            else:
                fix += (
                    f", or declare a service of your own in [tool.suitekit.services.{service}] "
                    "with its run command"
                )
            raise table.error(name, f"unknown service {service!r}{hint}", fix)
    names = (*builtin, *own)
    if len(set(names)) != len(names):
        raise table.error(name, "a service is listed twice", "list each service once")
    return tuple(builtin), tuple(own)
