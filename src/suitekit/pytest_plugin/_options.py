"""suitekit's command-line options, and the checked choices a run makes from them.

:func:`add_options` declares them; :class:`Mode` is what ``pytest_configure`` reads from them
against the project (the suite, the partition check, the shard, retries, order, run log).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Final

import pytest

from suitekit import plan, sharding
from suitekit._handoff import (
    OPT_JSON_OUT,
    OPT_ORDER_FILE,
    OPT_ORDER_SEED,
    OPT_PARTITION,
    OPT_PLAN_SHARDS,
    OPT_RETRIES,
    OPT_RUN_LOG,
    OPT_SUITE,
    OPTIONS,
)
from suitekit._markexpr import MarkerExpression
from suitekit._model import Project, Suite
from suitekit.config import MAX_RETRIES, find_config, load_project, run_options
from suitekit.errors import ConfigError, SuitekitError

__all__ = ["Mode", "RunOptions", "add_options", "auto_suite", "load", "read_order", "shard_of"]

_DEBUGGERS: Final = (("usepdb", "--pdb"), ("trace", "--trace"))
_SUITE_OPTIONS: Final = (
    ("suitekit_retries", OPT_RETRIES),
    ("suitekit_order_seed", OPT_ORDER_SEED),
    ("suitekit_order_file", OPT_ORDER_FILE),
    ("suitekit_run_log", OPT_RUN_LOG),
)


def add_options(parser: pytest.Parser) -> None:
    """Declare suitekit's options, from their one table (:data:`suitekit._handoff.OPTIONS`)."""
    group = parser.getgroup("suitekit", "suitekit: suites declared in [tool.suitekit]")
    for option in OPTIONS:
        flags = (*option.aliases, option.flag)
        if option.kind == "flag":
            group.addoption(
                *flags, dest=option.dest, action="store_true", default=False, help=option.help
            )
        else:
            group.addoption(
                *flags,
                dest=option.dest,
                metavar=option.metavar,
                type=int if option.kind == "int" else str,
                default=None,
                help=option.help,
            )


PROJECT_KEY: Final = pytest.StashKey[Project]()
"""The project of this run, once read (the hooks that need it read it once a process)."""


def project_of(config: pytest.Config, *, found: Path | None = None) -> Project:
    """The project of this run: ``--suitekit-project``, else the one at pytest's rootdir.

    Read once a process (kept under :data:`PROJECT_KEY`): the hooks that need it ask for it
    at several moments, and each read parsed the pyproject.toml twice.

    Args:
        config: The run's configuration (early or not).
        found: The project's pyproject.toml, when the caller has just found it.

    Raises:
        SuitekitError: It cannot be found or read, or is malformed.
    """
    project = config.stash.get(PROJECT_KEY, None)
    if project is None:
        explicit = getattr(config.known_args_namespace, "suitekit_project", None)
        if explicit is not None:
            start = Path(explicit).resolve()
        else:
            start = found if found is not None else find_config(config.rootpath)
        project = load_project(start)  # the file itself: read once, not looked for again
        config.stash[PROJECT_KEY] = project
    return project


def load(config: pytest.Config) -> Project | None:
    """The project of this run; ``None`` when it is no suitekit project and nothing asks for one.

    Raises:
        pytest.UsageError: The configuration is wrong, or missing while an option needs it.
    """
    explicit = config.getoption("suitekit_project")
    wanted = config.getoption("suitekit_suite") is not None or config.getoption(
        "suitekit_partition"
    )
    try:
        found = None
        if explicit is None and PROJECT_KEY not in config.stash:
            try:
                found = find_config(config.rootpath)
            except ConfigError:
                if wanted:
                    raise
                return None  # not a suitekit project: the plugin stays out of the way
        return project_of(config, found=found)
    except SuitekitError as error:
        raise pytest.UsageError(str(error)) from None


def auto_suite(suite: Suite) -> bool:
    """Whether the suite's worker count (or ``SUITEKIT_WORKERS``) is ``"auto"``."""
    try:
        options = run_options(os.environ)
    except SuitekitError:
        return False  # reported by the nox session, or taken as xdist's own "auto"
    return plan.declared_workers(suite, options) == "auto"


def shard_of(config: pytest.Config) -> sharding.ShardSpec | None:
    """The shard ``--shard`` or ``SUITEKIT_SHARD`` selects, if any.

    Raises:
        pytest.UsageError: The value is not ``K/N``.
    """
    given = config.getoption("suitekit_shard")
    try:
        found = sharding.shard_from(
            [f"{sharding.SHARD_OPTION}={given}"] if given is not None else [], os.environ
        )
    except SuitekitError as error:
        raise pytest.UsageError(str(error)) from None
    return None if found is None else found.value


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """How a suite run treats flaky tests: retries, order and run log (from the options).

    Attributes:
        retries: How many times a failed test runs again (0: never).
        seed: The ``--suitekit-order-seed``, or ``None`` for pytest's order.
        order_file: The ``--suitekit-order-file``, or ``None``.
        order: The node ids of the order file, with their line numbers.
        run_log: Where the controller writes the run log, or ``None``.
        debugger: The debugging option (``--pdb``, ``--trace``) that turned the retries
            off, or ``None``.
    """

    retries: int = 0
    seed: int | None = None
    order_file: Path | None = None
    order: tuple[tuple[int, str], ...] = ()
    run_log: Path | None = None
    debugger: str | None = None

    @classmethod
    def of(cls, config: pytest.Config, suite: Suite | None) -> RunOptions:
        """The options of this run, checked.

        Raises:
            pytest.UsageError: An option without ``--suitekit-suite``, a retry count out of
                range, or an order file that cannot be read.
        """
        if suite is None:
            given = [flag for dest, flag in _SUITE_OPTIONS if config.getoption(dest) is not None]
            if given:
                message = f"{given[0]} needs --suitekit-suite: it applies to a suite run"
                raise pytest.UsageError(message)
            return cls()
        retries: int | None = config.getoption("suitekit_retries")
        if retries is not None and not 0 <= retries <= MAX_RETRIES:
            message = f"{OPT_RETRIES}={retries}: expected a whole number from 0 to {MAX_RETRIES}"
            raise pytest.UsageError(message)
        here = config.invocation_params.dir
        order_file: str | None = config.getoption("suitekit_order_file")
        run_log: str | None = config.getoption("suitekit_run_log")
        path = here / order_file if order_file is not None else None
        if retries is None:
            retries = suite.retries
        # The debugger would open on every failed attempt: a debugged test runs once.
        debugged = (flag for dest, flag in _DEBUGGERS if config.getoption(dest, default=False))
        debugger = next(debugged, None) if retries else None
        return cls(
            retries=0 if debugger is not None else retries,
            debugger=debugger,
            seed=config.getoption("suitekit_order_seed"),
            order_file=path,
            order=read_order(path) if path is not None else (),
            run_log=here / run_log if run_log is not None else None,
        )


def read_order(path: Path) -> tuple[tuple[int, str], ...]:
    """The node ids of an order file with their line numbers (blank and ``#`` lines skipped).

    Raises:
        pytest.UsageError: The file cannot be read, or names a test twice.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        message = f"{OPT_ORDER_FILE}={path}: cannot read it ({error})"
        raise pytest.UsageError(message) from None
    order: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        node_id = line.strip()
        if not node_id or node_id.startswith("#"):
            continue
        if node_id in seen:
            message = (
                f"{OPT_ORDER_FILE}={path}: line {number}: {node_id!r} is listed twice "
                f"(first on line {seen[node_id]})\n  fix: keep one of the two lines"
            )
            raise pytest.UsageError(message)
        seen[node_id] = number
        order.append((number, node_id))
    return tuple(order)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Mode:
    """What this run does, from the options checked against the project.

    Attributes:
        project: The project.
        suite: The suite of a suite run (``--suitekit-suite``), or ``None``.
        check_partition: ``--suitekit-partition``: collect every test root, run nothing.
        shard: The shard of the suite this process runs, or ``None``.
        plan_shards: ``--suitekit-plan-shards``: print how that many shards split the suite.
        run: Retries, order and run log.
    """

    project: Project
    suite: Suite | None
    check_partition: bool
    shard: sharding.ShardSpec | None
    plan_shards: int | None
    run: RunOptions

    @classmethod
    def of(cls, config: pytest.Config, project: Project) -> Mode:
        """Validate the options against the project, register markers, redirect collection.

        Raises:
            pytest.UsageError: An unknown suite, or options that cannot go together.
        """
        name: str | None = config.getoption("suitekit_suite")
        check_partition: bool = config.getoption("suitekit_partition")
        suite = _named_suite(project, name) if name is not None else None
        if suite is not None and check_partition:
            message = f"{OPT_SUITE} and {OPT_PARTITION} cannot go together"
            raise pytest.UsageError(message)
        shard = shard_of(config)
        count: int | None = config.getoption("suitekit_plan_shards")
        if count is not None and (suite is None or count < 1):
            message = f"{OPT_PLAN_SHARDS} needs {OPT_SUITE} and a count of at least 1"
            raise pytest.UsageError(message)
        if shard is not None and suite is None:
            message = f"--shard {shard} needs --suitekit-suite: only a suite can be sharded"
            raise pytest.UsageError(message)
        if config.getoption("suitekit_json_out") and not check_partition and count is None:
            message = f"{OPT_JSON_OUT} needs {OPT_PARTITION} or {OPT_PLAN_SHARDS}"
            raise pytest.UsageError(message)
        if check_partition and (getattr(config.option, "numprocesses", None) or 0) > 0:
            message = f"{OPT_PARTITION} collects in one process: pass -n 0 (or drop -n)"
            raise pytest.UsageError(message)
        _register_markers(config, project)
        if config.args_source != pytest.Config.ArgsSource.ARGS:
            if suite is not None:
                roots = suite.paths or project.tests  # a marker-only suite looks in every root
            else:
                roots = project.tests if check_partition else ()
            if roots:
                config.args[:] = [str(project.root / root) for root in roots]
        run = RunOptions.of(config, suite)
        return cls(
            project=project,
            suite=suite,
            check_partition=check_partition,
            shard=shard,
            plan_shards=count,
            run=run,
        )


def _register_markers(config: pytest.Config, project: Project) -> None:
    owners: dict[str, list[str]] = {}
    for suite in project.suites:
        if suite.marker:
            for name in MarkerExpression.compile(suite.marker).names:
                owners.setdefault(name, []).append(suite.name)
    for name, suites in owners.items():
        config.addinivalue_line(
            "markers", f"{name}: selects tests for the suitekit suite(s) {', '.join(suites)}"
        )


def _named_suite(project: Project, name: str) -> Suite:
    """The suite ``--suitekit-suite`` names, which pytest must run.

    Raises:
        pytest.UsageError: The project declares no such suite, or another runner runs it.
    """
    try:
        suite = project.suite(name)
    except KeyError:
        known = ", ".join(s.name for s in project.suites)
        message = (
            f"{OPT_SUITE}={name}: {project.config_file} declares no suite {name!r}; "
            f"declared: {known}"
        )
        raise pytest.UsageError(message) from None
    if suite.runner.kind != "pytest":
        message = (
            f"{OPT_SUITE}={name}: suite {name!r} runs {suite.runner.kind}, not pytest; "
            f"run it with nox -s {name}"
        )
        raise pytest.UsageError(message)
    return suite
