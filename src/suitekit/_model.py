"""The frozen, typed model of a project's suites and checks.

Everything here is plain data: :mod:`suitekit.config` builds it from ``[tool.suitekit]`` and
validates it; :mod:`suitekit.plan` turns it into commands. Nothing here reads files or runs
anything.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Final, Generic, Literal, TypeVar, get_args

from suitekit._kinds import KINDS, POSTGRES_PRESETS, REDIS_PRESETS

__all__ = [
    "DEADLINE_FACTOR",
    "DEADLINE_FLOOR",
    "DEFAULT_REPORTS",
    "DEFAULT_TIMEOUT",
    "DIST_MODES",
    "LEGACY_REPORTS",
    "MAX_SECONDS",
    "MAX_WORKERS",
    "PATHLESS_RUNNERS",
    "POSTGRES_PRESETS",
    "PYTEST_RUNNER",
    "READY_KINDS",
    "REDIS_PRESETS",
    "RETRYING_RUNNERS",
    "RUNNER_KINDS",
    "SERVICES",
    "SERVICE_SCOPES",
    "Check",
    "CiConfig",
    "DistMode",
    "InstallSpec",
    "Isolation",
    "PostgresConfig",
    "Project",
    "Quarantine",
    "ReadyKind",
    "RedisConfig",
    "RunnerConfig",
    "RunnerKind",
    "Service",
    "ServiceConfig",
    "ServiceScope",
    "SetupStep",
    "Source",
    "Sourced",
    "Suite",
    "UserService",
    "Workers",
    "frozen_mapping",
    "named",
]

DistMode = Literal["load", "loadscope", "loadfile", "loadgroup", "worksteal"]
"""The pytest-xdist distribution modes a suite may use (``each`` would run every test N times)."""

DIST_MODES: tuple[str, ...] = get_args(DistMode)
MAX_WORKERS: Final = 1024
"""The most xdist workers, and the largest CPU budget, suitekit takes (far beyond any machine a
suite runs on; a larger figure is a typo, and would start that many processes)."""

DEFAULT_TIMEOUT: Final = 300.0
"""A suite's per-test timeout in seconds unless it sets ``timeout``: far above what a healthy
test takes (a slow integration test runs for seconds, rarely a minute), yet a hang is named
within five minutes rather than when CI gives up on the job (GitHub's limit is six hours)."""

DEADLINE_FACTOR: Final = 10
"""A suite's session deadline is this many times its ``target-seconds`` ..."""

DEADLINE_FLOOR: Final = 1800.0
"""... and never less than this: half an hour, so that even a suite without a budget ends with
suitekit's message and cleanup before GitLab's default one-hour job timeout kills it silently."""

MAX_SECONDS: Final = 7 * 24 * 3600.0
"""The longest timeout or deadline a suite may set (a week: anything longer is a typo)."""

DEFAULT_REPORTS: Final = ".suitekit/reports"
"""The reports folder unless ``reports`` names one: hidden, beside suitekit's other state. A
top-level ``reports/`` folder is a package to setuptools' flat-layout discovery, which then
refuses to build the project ("Multiple top-level packages discovered"); a dot-folder is never
one (setuptools excludes ``.*``, and no back-end takes a name that is not an identifier)."""

LEGACY_REPORTS: Final = "reports"
"""The former default reports folder (see :data:`DEFAULT_REPORTS`): ``suitekit report`` still
merges it when the project names no folder and the new one has no JUnit file (see
:func:`suitekit.reporting._legacy.reading`)."""

T = TypeVar("T")

Service = str
"""The name of a service suitekit knows how to provide: a key of :data:`suitekit._kinds.KINDS`."""

SERVICES: tuple[str, ...] = tuple(KINDS)

Workers = int | Literal["auto", "logical"]
"""An xdist worker count: an int (0 = no xdist), ``"auto"`` (the CPU budget) or ``"logical"``."""


def frozen_mapping(env: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(env or {}))


def named(items: Iterable[T], name: str, key: Callable[[T], str]) -> T:
    """The first of ``items`` whose ``key`` is ``name``.

    Raises:
        KeyError: There is no such item.
    """
    for item in items:
        if key(item) == name:
            return item
    raise KeyError(name)


class Source(enum.IntEnum):
    """Where a setting's value came from; a later source overrides an earlier one."""

    DEFAULT = 0
    CONFIG = 1
    ENV = 2
    CLI = 3

    def describe(self) -> str:
        """A short phrase for headers and error messages."""
        return {
            Source.DEFAULT: "default",
            Source.CONFIG: "pyproject.toml",
            Source.ENV: "environment",
            Source.CLI: "command line",
        }[self]


@dataclass(frozen=True, slots=True, kw_only=True)
class Sourced(Generic[T]):
    """A value together with where it came from (for headers and diagnostics)."""

    value: T
    source: Source
    origin: str = ""
    """The precise origin: a key path, an environment variable or an option name."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallSpec:
    """How a session's virtual environment gets the project and its tools.

    Attributes:
        project: Install the project itself.
        editable: Install the project in editable mode (coverage then reports ``src/`` paths).
        groups: PEP 735 dependency groups from the project's pyproject.toml.
        extras: The project's optional-dependency extras.
        requirements: Requirement files, relative to the project root.
        packages: Extra requirement specifiers, e.g. ``"ruff>=0.8"``.
        lock: Install the project, groups and extras from the project's ``uv.lock`` with
            ``uv sync --locked`` when it has one (see :mod:`suitekit.plan._lock`).
    """

    project: bool = True
    editable: bool = True
    groups: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    lock: bool = True


RunnerKind = Literal["pytest", "vitest", "cargo", "command", "playwright", "jest"]
"""The test runners a suite may use (see :mod:`suitekit.runners`)."""

RUNNER_KINDS: tuple[str, ...] = get_args(RunnerKind)

PATHLESS_RUNNERS: Final = ("cargo",)
"""The runners that run every test of their folder: a suite of theirs takes no ``paths``."""

RETRYING_RUNNERS: Final = ("vitest", "playwright", "cargo")
"""The runners with a retry option of their own (``Runner.retry_args``): a suite of theirs
takes ``retries``. Kept here, as :data:`PATHLESS_RUNNERS` is, so that config need not import
the runners; a unit test checks that the two agree."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunnerConfig:
    """What runs a suite's tests, when it is not pytest: ``runner = "vitest"`` and its keys.

    Attributes:
        kind: The runner.
        cwd: The folder the runner runs in, relative to the project root (``frontend``, a
            crate's folder); the suite's ``paths`` are relative to it.
        run: The command that starts the runner: for ``command``, the whole command line,
            with ``{junit}``, ``{workers}``, ``{shard}`` (``K/N``, empty for the whole suite)
            and ``{files}`` (the shard's test files, when a split by durations gives them);
            for the others, what starts them instead of the default (``npx vitest``).
        install: A command run in ``cwd`` when its lock file changed since the last install
            (``npm ci``); empty: none.
        backend: For ``playwright``, the application server to start once per Playwright
            worker (``backend = {run = ..., ready = ...}``), each copy on its own port with
            its own per-worker resources; ``None``: none.
    """

    kind: RunnerKind = "pytest"
    cwd: str = ""
    run: str = ""
    install: str = ""
    backend: UserService | None = None


PYTEST_RUNNER: Final = RunnerConfig()
"""The runner of every suite that names none."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Suite:
    """A named set of tests, run by pytest with its own selection, workers and services.

    Attributes:
        name: The suite's name (``unit``); nox sessions are called ``<name>-<python>``.
        paths: Folders or files the suite collects, relative to the project root.
        marker: A pytest marker expression the tests must match, e.g. ``"processing"``.
        workers: The xdist worker count (see :data:`Workers`).
        dist: The xdist distribution mode.
        target_seconds: A time budget; exceeding it is reported, not fatal.
        services: Services the suite needs (those suitekit provides).
        custom_services: Services of the project's own the suite needs (the names of
            :attr:`Project.custom_services`), each started per worker or once per run.
        env: Extra environment variables for the pytest run.
        pytest_args: Extra pytest arguments, before any the user passes on the command line.
        python: Python versions the suite's sessions run on.
        install: How the suite's sessions install the project.
        shards: How many parts CI splits the suite into (a matrix job each); 1: no split.
        retries: How many times a failed test is run again; a test that fails and then passes
            is reported as flaky, with every attempt kept in the JUnit report. Another runner
            (one of :data:`RETRYING_RUNNERS`) gets it as its own retry option.
        coverage: Whether the suite's sessions measure coverage (when the project names a
            ``source``); a suite without it is absent from the combined figure.
        timeout: Seconds one test (its setup, call and teardown) may take before it fails with
            its stack, enforced by pytest-timeout; 0 turns it off.
        deadline: Seconds the whole pytest session may take before suitekit stops it (with
            the stacks of what still runs, and the usual cleanup); 0 turns it off, ``None``
            derives it from ``target_seconds`` (see :func:`suitekit.plan.session_deadline`).
        runner: What runs the tests: pytest (the default) or another test runner.
    """

    name: str
    paths: tuple[str, ...] = ()
    marker: str | None = None
    workers: Workers = "auto"
    dist: DistMode = "load"
    target_seconds: float | None = None
    services: tuple[Service, ...] = ()
    custom_services: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=frozen_mapping)
    pytest_args: tuple[str, ...] = ()
    python: tuple[str, ...] = ()
    install: InstallSpec = field(default_factory=InstallSpec)
    shards: int = 1
    retries: int = 0
    coverage: bool = True
    timeout: float = DEFAULT_TIMEOUT
    deadline: float | None = None
    runner: RunnerConfig = field(default_factory=lambda: PYTEST_RUNNER)

    def __post_init__(self) -> None:
        """Freeze ``env`` whatever mapping the caller passed."""
        object.__setattr__(self, "env", frozen_mapping(self.env))


@dataclass(frozen=True, slots=True, kw_only=True)
class Quarantine:
    """One entry of ``[[tool.suitekit.quarantine]]``: tests that run but cannot fail the run.

    Attributes:
        test: A node id (``tests/unit/test_x.py::test_y``), a file (``tests/unit/test_x.py``)
            or a pattern in which ``*`` and ``?`` are wildcards; an entry without ``[`` also
            matches every parametrization of the tests it names. With ``suite``: the JUnit
            key ``classname::name`` of a case of that suite's report, or a pattern of keys; an
            entry that is a whole classname names every case of it.
        reason: Why the tests are quarantined (an issue link, say); shown wherever they are.
        release_after: How many passing runs in a row make a test ready to leave quarantine.
        index: The entry's position in the array, for messages (``quarantine[2]``).
        suite: The suite of another runner whose tests the entry names; ``""`` for pytest's
            tests, which node ids place by themselves.
    """

    test: str
    reason: str
    release_after: int = 5
    index: int = 0
    suite: str = ""

    @property
    def key(self) -> str:
        """The entry's key path in the configuration, e.g. ``tool.suitekit.quarantine[0]``."""
        return f"tool.suitekit.quarantine[{self.index}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """A named non-pytest command list: lint, typecheck, migrations, a security scan.

    Attributes:
        name: The check's name; its nox session has the same name.
        run: Commands, run in order; each is split like a shell would (no shell is used).
        allow_failure: An advisory check: its failure is reported but does not fail the run.
        services: Services the check needs.
        env: Extra environment variables for the commands.
        python: The Python version of the check's session.
        install: How the check's session installs the project and tools.
    """

    name: str
    run: tuple[str, ...]
    allow_failure: bool = False
    services: tuple[Service, ...] = ()
    env: Mapping[str, str] = field(default_factory=frozen_mapping)
    python: str = ""
    install: InstallSpec = field(default_factory=InstallSpec)

    def __post_init__(self) -> None:
        """Freeze ``env`` whatever mapping the caller passed."""
        object.__setattr__(self, "env", frozen_mapping(self.env))


@dataclass(frozen=True, slots=True, kw_only=True)
class SetupStep:
    """One step of preparing the template database: a command, or an SQL statement.

    Attributes:
        command: A command line, split like a shell would (no shell is used), run in the project
            root with the worker variables pointing at the template database.
        sql: An SQL statement run in the template database.
    """

    command: str | None = None
    sql: str | None = None


_KIND_DEFAULT: Final[Mapping[str, str]] = MappingProxyType({})
"""The ``env`` of a :class:`ServiceConfig` not given one (told apart by identity from an
``env = {}`` that sets no variable): its kind's default."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceConfig:
    """How suites that need a service get it: ``[tool.suitekit.services.<name>]``.

    Attributes:
        service: The service's name (a key of :data:`suitekit._kinds.KINDS`).
        url: A server to use; the kind's ``user_url`` variable (``DATABASE_URL``,
            ``REDIS_URL``) in the environment wins.
        env: Variables each worker gets, as templates of its endpoint (the kind's ``fields``,
            e.g. ``{url}``, ``{host}``, ``{database}``; a preset is expanded into its templates
            when the config is read); the kind's ``url`` preset unless given.
        setup: For a kind with a template: steps run once per run into a template database
            that every worker's database is copied from (migrate once, copy per worker).
        keep_template: File patterns whose contents key the template; when given, the template
            is kept between runs on a persistent server and rebuilt only when they change (a
            Django suite's template is kept without them, keyed on its migrations; these files
            are then keyed too).
        keeps_template: ``False`` (``keep-template = false``): never keep the template, not
            even a Django suite's.
    """

    service: Service
    url: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: _KIND_DEFAULT)
    setup: tuple[SetupStep, ...] = ()
    keep_template: tuple[str, ...] = ()
    keeps_template: bool = True

    def __post_init__(self) -> None:
        """Freeze ``env``, the kind's default when none is given."""
        env = KINDS[self.service].default_env if self.env is _KIND_DEFAULT else self.env
        object.__setattr__(self, "env", frozen_mapping(env))


PostgresConfig: Final = partial(ServiceConfig, service="postgres")
"""``[tool.suitekit.services.postgres]``'s settings (a :class:`ServiceConfig`)."""

RedisConfig: Final = partial(ServiceConfig, service="redis")
"""``[tool.suitekit.services.redis]``'s settings (a :class:`ServiceConfig`)."""


def _default_services() -> Mapping[Service, ServiceConfig]:
    return MappingProxyType({name: ServiceConfig(service=name) for name in KINDS})


ReadyKind = Literal["tcp", "http", "command"]
"""How suitekit sees that a service of the project's own is ready (see :class:`UserService`)."""

READY_KINDS: tuple[str, ...] = get_args(ReadyKind)

ServiceScope = Literal["worker", "run"]
"""Whether a service of the project's own runs once per pytest worker or once per run."""

SERVICE_SCOPES: tuple[str, ...] = get_args(ServiceScope)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserService:
    """A service of the project's own: ``[tool.suitekit.services.<name>]`` with ``run``.

    suitekit starts ``run`` itself (no shell), with a free port and a private folder per
    instance, once per worker (``scope = "worker"``) or once per run (``"run"``), waits until
    it is ready, hands ``env`` to the tests and stops the instance's whole process session at
    the end. Every template may use ``{port}``, ``{dir}``, ``{host}`` and ``{worker}`` (see
    :data:`suitekit.config._keys.CUSTOM_FIELDS`).

    Attributes:
        name: The table's name, as suites list it in ``services``.
        run: The command's arguments, as templates (split like a shell would when read).
        ready_kind: ``tcp`` (a connection to ``{port}`` is accepted), ``http`` (a GET of the
            URL in :attr:`ready` answers 2xx) or ``command`` (:attr:`ready` exits 0).
        ready: The URL template (``http``) or the command's argument templates (``command``);
            empty for ``tcp``.
        env: Variables the tests get, as templates.
        scope: ``worker``: an instance per pytest worker; ``run``: one the workers share.
        timeout: Seconds the instance may take to become ready.
        memory: A limit on its address space in bytes (``RLIMIT_AS``), or ``None``.
        image: A container image that has its binary, for the CI documentation and messages.
        install: How to install its binary, shown when the binary is not found.
        table: The key of its table, when it is not ``tool.suitekit.services.<name>`` (a
            Playwright suite's ``backend``).
    """

    name: str
    run: tuple[str, ...]
    ready_kind: ReadyKind = "tcp"
    ready: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=frozen_mapping)
    scope: ServiceScope = "worker"
    timeout: float = 30.0
    memory: int | None = None
    image: str = ""
    install: str = ""
    table: str = ""

    def __post_init__(self) -> None:
        """Freeze ``env`` whatever mapping the caller passed."""
        object.__setattr__(self, "env", frozen_mapping(self.env))

    @property
    def key(self) -> str:
        """The service's table, e.g. ``tool.suitekit.services.nats``."""
        return self.table or f"tool.suitekit.services.{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Isolation:
    """Per-worker resources besides services.

    Attributes:
        dirs: Environment variables that each get a fresh per-worker directory.
        ports: The size of each worker's block of free ports (0: none).
        hashseed: The ``PYTHONHASHSEED`` of every run; random per run when ``None``.
    """

    dirs: tuple[str, ...] = ()
    ports: int = 0
    hashseed: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CiConfig:
    """How ``suitekit ci`` writes the project's CI files (``[tool.suitekit.ci]``).

    Attributes:
        github: Where the GitHub Actions workflow goes, relative to the root.
        gitlab: Where the GitLab CI file goes, relative to the root.
        runner: The GitHub runner label (``runs-on``) of every job.
        branches: The branches whose pushes run the workflow (pull requests always do).
        suitekit: How CI installs suitekit next to nox: a requirement (``suitekit==0.1.0``)
            or a path to a checkout (``.``), which is installed editable.
        configured: The providers (``github``, ``gitlab``) whose path the table gives
            explicitly: ``suitekit ci check`` requires their files, and checks the others only
            where they exist.
        pin: How the GitHub workflow names actions: ``sha``, the commit with its version as a
            comment (the default), or ``tag``, the version's tag.
        comment: Whether ``suitekit ci github`` also writes the workflow that posts the report's
            summary as a pull request comment (a ``workflow_run`` workflow beside the main one).
    """

    github: str = ".github/workflows/suitekit.yml"
    gitlab: str = ".gitlab-ci.yml"
    runner: str = "ubuntu-latest"
    branches: tuple[str, ...] = ("main",)
    suitekit: str = ""
    configured: tuple[str, ...] = ()
    pin: Literal["sha", "tag"] = "sha"
    comment: bool = False

    @property
    def comment_path(self) -> str:
        """Where the pull request comment workflow goes, relative to the root.

        ``suitekit-comment.yml`` beside the GitHub workflow; written only when ``comment`` is on.
        """
        folder = self.github.rpartition("/")[0]
        return f"{folder}/suitekit-comment.yml" if folder else "suitekit-comment.yml"


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A project's whole suitekit declaration.

    Attributes:
        root: The folder holding the configuration file.
        config_file: The pyproject.toml the declaration was read from.
        python: The default Python versions of suites.
        install: The default install specification.
        source: What coverage measures.
        tests: The test roots: every test collected under them must belong to exactly one suite.
        reports: The folder for JUnit files and logs, relative to the root.
        env: Variables every suite, check and the partition guard get, under their own ``env``
            (see :func:`suitekit.plan.suite_env`).
        fail_under: The combined coverage gate, in percent (coverage is measured when ``source``
            is given).
        suites: The suites, in declaration order.
        checks: The checks, in declaration order.
        services: Each service's settings, by name (every service suitekit knows has one).
        custom_services: The services of the project's own, in declaration order.
        isolation: Per-worker directories, ports and the hash seed.
        ci: How the CI files are generated.
        quarantine: Tests that still run but whose failures do not fail the run.
    """

    root: Path
    config_file: Path
    python: tuple[str, ...]
    install: InstallSpec = field(default_factory=InstallSpec)
    source: tuple[str, ...] = ()
    tests: tuple[str, ...] = ("tests",)
    reports: str = DEFAULT_REPORTS
    env: Mapping[str, str] = field(default_factory=frozen_mapping)
    fail_under: float = 80.0
    suites: tuple[Suite, ...] = ()
    checks: tuple[Check, ...] = ()
    services: Mapping[Service, ServiceConfig] = field(default_factory=_default_services)
    custom_services: tuple[UserService, ...] = ()
    isolation: Isolation = field(default_factory=Isolation)
    ci: CiConfig = field(default_factory=CiConfig)
    quarantine: tuple[Quarantine, ...] = ()

    def __post_init__(self) -> None:
        """Freeze the mappings; a service not given gets its defaults."""
        object.__setattr__(self, "env", frozen_mapping(self.env))
        given = {**_default_services(), **self.services}
        object.__setattr__(self, "services", MappingProxyType(given))

    @property
    def postgres(self) -> ServiceConfig:
        """PostgreSQL's settings."""
        return self.services["postgres"]

    @property
    def redis(self) -> ServiceConfig:
        """Redis's settings."""
        return self.services["redis"]

    @property
    def pytest_suites(self) -> tuple[Suite, ...]:
        """The suites pytest runs: the only ones the partition guard and pytest's plugin see."""
        return tuple(suite for suite in self.suites if suite.runner.kind == "pytest")

    def suite(self, name: str) -> Suite:
        """The suite called ``name`` (``KeyError`` if there is none, see :func:`named`)."""
        return named(self.suites, name, lambda suite: suite.name)

    def check(self, name: str) -> Check:
        """The check called ``name`` (``KeyError`` if there is none, see :func:`named`)."""
        return named(self.checks, name, lambda check: check.name)

    def custom_service(self, name: str) -> UserService:
        """The service of the project's own called ``name`` (``KeyError`` if there is none)."""
        return named(self.custom_services, name, lambda service: service.name)
