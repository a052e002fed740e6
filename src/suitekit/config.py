"""Read ``[tool.suitekit]`` from a pyproject.toml into a validated :class:`~suitekit.Project`.

Validation happens here and only here, in two passes in the manner of coverage.py's config:
first every table is read key by key (type checks, unknown keys with a did-you-mean), then
:func:`_post_process` checks what spans several keys (duplicate names, paths that exist,
dependency groups that are declared). Every error is a :class:`~suitekit.errors.ConfigError`
naming the file, the key path, the bad value and the fix.
"""

from __future__ import annotations

import math
import os
import re
import stat
import string
import sys
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, cast
from urllib.parse import urlsplit

from suitekit._markexpr import MarkerExpression, MarkerSyntaxError
from suitekit._model import (
    DEFAULT_REPORTS,
    DEFAULT_TIMEOUT,
    DIST_MODES,
    MAX_SECONDS,
    MAX_WORKERS,
    POSTGRES_PRESETS,
    REDIS_PRESETS,
    SERVICES,
    Check,
    CiConfig,
    DistMode,
    InstallSpec,
    Isolation,
    PostgresConfig,
    Project,
    Quarantine,
    RedisConfig,
    Service,
    SetupStep,
    Suite,
    Workers,
)
from suitekit._urls import redact
from suitekit.errors import ConfigError

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_RETRIES",
    "RESERVED_NAMES",
    "find_config",
    "load_project",
    "parse_project",
]

ROOT_KEY: Final = "tool.suitekit"
DOCS: Final = "docs/configuration.md"
_ADD_TABLE: Final = f"add a [tool.suitekit] table with at least one suite (see {DOCS})"

RESERVED_NAMES: Final = frozenset({"all", "partition", "report", "coverage", "clean", "flaky"})
"""Names suitekit uses for its own sessions and tasks; suites and checks may not take them."""

MAX_RETRIES: Final = 10
"""The most retries a suite's ``retries`` (or ``--suitekit-retries``) may ask for."""

MAX_CONFIG_BYTES: Final = 10 * 1024 * 1024
"""The largest pyproject.toml suitekit reads: real ones hold a few kilobytes, so a larger file
is a mistake (or something that never ends), and reading it whole would only use up memory."""

_MAX_PORTS: Final = 1000
_DEFAULT_PORTS: Final = {"postgresql": 5432, "redis": 6379}
_MAX_HASHSEED: Final = 4294967295  # what PYTHONHASHSEED accepts
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,47}$")
_PYTHON = re.compile(r"^(?:pypy)?3\.\d{1,2}t?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_TOP_KEYS = (
    "python",
    "install",
    "source",
    "tests",
    "reports",
    "env",
    "suites",
    "checks",
    "services",
    "isolation",
    "coverage",
    "ci",
    "quarantine",
)
_QUARANTINE_KEYS = ("test", "reason", "release-after")
_MAX_RELEASE_AFTER: Final = 1000
_RELEASE_AFTER: Final = 5  # passing runs in a row that end a quarantine, by default
_CI_KEYS = ("github", "gitlab", "runner", "branches", "suitekit")
_MAX_SHARDS: Final = 256
_COVERAGE_KEYS = ("fail-under",)
_SERVICE_KEYS = ("postgres", "redis")
_POSTGRES_KEYS = ("url", "env", "setup", "keep-template")
_REDIS_KEYS = ("url", "env")
_ISOLATION_KEYS = ("dirs", "ports", "hashseed")
_POSTGRES_FIELDS = ("url", "host", "port", "user", "password", "database", "netloc")
_REDIS_FIELDS = ("url", "host", "port", "db", "password")
_SUITE_KEYS = (
    "paths",
    "marker",
    "workers",
    "dist",
    "target-seconds",
    "services",
    "env",
    "pytest-args",
    "python",
    "install",
    "shards",
    "retries",
    "coverage",
    "timeout",
    "deadline",
)
_CHECK_KEYS = ("run", "allow-failure", "services", "env", "python", "install")
_INSTALL_KEYS = ("project", "editable", "groups", "extras", "requirements", "packages")


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
            document = _read_document(candidate)
        except ConfigError:
            return candidate  # load_project reports what is wrong with it
        tool = document.get("tool")
        if isinstance(tool, Mapping) and "suitekit" in tool:
            return candidate
        problem = "the project's pyproject.toml does not declare [tool.suitekit]"
        raise ConfigError(file=candidate, key=ROOT_KEY, problem=problem, fix=_ADD_TABLE)
    raise ConfigError(
        file=None,
        key=ROOT_KEY,
        problem=f"there is no pyproject.toml at or above {start}",
        fix=f"run from the project's folder, or {_ADD_TABLE}",
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
    return parse_project(_read_document(config_file), config_file=config_file)


def _read_document(config_file: Path) -> dict[str, Any]:
    """The parsed TOML of ``config_file``, every way of failing a :class:`ConfigError`."""
    text = _read_text(config_file)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        problem = f"not valid TOML: {error}"
        fix = "repair the TOML syntax at the line and column given"
    except RecursionError:
        # tomllib recurses once per level of nested arrays and inline tables.
        problem = "not readable: arrays or inline tables are nested hundreds of levels deep"
        fix = "flatten the nesting (no setting needs more than a few levels)"
    except ValueError as error:  # an integer of more than 4300 digits (sys.int_info)
        problem = f"not readable as TOML: {error}"
        fix = "shorten the number (TOML integers are 64-bit)"
    raise ConfigError(file=config_file, key="(file)", problem=problem, fix=fix)


def _read_text(config_file: Path) -> str:
    """The text of ``config_file``: a regular UTF-8 file of at most :data:`MAX_CONFIG_BYTES`.

    Opened without blocking (a FIFO in the file's place must not hang the run) and checked on
    the open descriptor, so what is checked is what is read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(config_file, flags)
    except OSError as error:
        raise ConfigError(
            file=config_file,
            key="(file)",
            problem=f"cannot be read: {error.strerror}",
            fix="check that the file exists and is readable",
        ) from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(
                file=config_file,
                key="(file)",
                problem=f"is {_file_kind(info.st_mode)}, not a regular file",
                fix="make pyproject.toml a regular file (not a folder, pipe or device, nor a "
                "link to one)",
            )
        with os.fdopen(descriptor, "rb", closefd=False) as stream:
            data = stream.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise ConfigError(
            file=config_file,
            key="(file)",
            problem=f"cannot be read: {error.strerror}",
            fix="check that the file is readable",
        ) from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            file=config_file,
            key="(file)",
            problem=f"is larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB, far more than a "
            "pyproject.toml holds",
            fix="check that it is the right file, and move large data out of it",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - data.rfind(b"\n", 0, error.start)
        problem = (
            f"byte {data[error.start]:#04x} at line {line}, column {column} (byte offset "
            f"{error.start}) is not UTF-8 text ({error.reason})"
        )
        fix = "save the file as UTF-8, as TOML requires (re-encode it, or retype the character)"
        raise ConfigError(file=config_file, key="(file)", problem=problem, fix=fix) from None


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((kind for test, kind in kinds if test(mode)), "an unknown kind of file")


def parse_project(document: Mapping[str, Any], *, config_file: Path) -> Project:
    """Validate a parsed pyproject document and build the :class:`~suitekit.Project`.

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
            fix=_ADD_TABLE,
        )
    for name, value in (("tool.suitekit", raw), *((n, document.get(n)) for n in _READ_TABLES)):
        _check_nesting(config_file, name, value)
    reader = _Reader(config_file)
    top = reader.table(raw, ROOT_KEY)
    top.finish(_TOP_KEYS)
    default_python = top.python_list("python", default=(_running_python(),))
    default_install = top.install("install", InstallSpec())
    source = top.str_list("source", default=())
    tests = top.str_list("tests", default=("tests",), allow_empty=False)
    reports = top.string("reports", default=DEFAULT_REPORTS)
    _literal_ci_value(top, "reports", reports)  # the CI files upload it by this path
    env = top.env("env")
    suites_raw = top.table("suites", required=True)
    checks_raw = top.table("checks", required=False)
    postgres, redis = _services(top.table("services", required=False))
    isolation = _isolation(top.table("isolation", required=False))
    ci = _ci(top.table("ci", required=False))
    quarantine = _quarantine(reader, top.raw.get("quarantine"))
    coverage = top.table("coverage", required=False)
    coverage.finish(_COVERAGE_KEYS)
    fail_under = coverage.raw.get("fail-under", 80)
    if (
        isinstance(fail_under, bool)
        or not isinstance(fail_under, int | float)
        or not (
            0 <= fail_under <= 100  # noqa: PLR2004 - percent
        )
    ):
        raise coverage._error(  # noqa: SLF001 - same module
            "fail-under",
            f"expected a percentage from 0 to 100, got {fail_under!r}",
            "write fail-under = 80",
        )

    if not suites_raw.raw:
        raise ConfigError(
            file=config_file,
            key=f"{ROOT_KEY}.suites",
            problem="no suite is declared",
            fix='declare one, e.g. [tool.suitekit.suites.unit] with paths = ["tests/unit"]',
        )
    suites = tuple(
        _suite(reader, suites_raw, name, default_python, default_install) for name in suites_raw.raw
    )
    checks = tuple(
        _check(reader, checks_raw, name, default_python[0], default_install)
        for name in checks_raw.raw
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
        fail_under=float(fail_under),
        suites=suites,
        checks=checks,
        postgres=postgres,
        redis=redis,
        isolation=isolation,
        ci=ci,
        quarantine=quarantine,
    )
    _post_process(project, document)
    return project


_READ_TABLES: Final = ("project", "dependency-groups")
"""The tables besides ``[tool.suitekit]`` that validation reads."""

MAX_NESTING: Final = 16
"""How deeply arrays and tables may nest in what suitekit reads (its deepest key, an
``include-group`` of an install of a check, is 7 levels down)."""


_MAX_INT_BITS: Final = 4096  # 1234 decimal digits; str() refuses from 4300 (sys.int_info)


def _check_nesting(file: Path, key: str, value: object) -> None:
    """Refuse nesting deeper than :data:`MAX_NESTING` before anything walks or prints it.

    Integers too large to print are refused on the way.

    Printing or comparing a value recurses once per level, so a value nested thousands deep
    would raise ``RecursionError`` from whatever touches it first. Walked with an explicit stack
    for the same reason.
    """
    stack: list[tuple[str, object, int]] = [(key, value, 0)]
    while stack:
        where, item, depth = stack.pop()
        if depth > MAX_NESTING:
            raise ConfigError(
                file=file,
                key=where,
                problem=f"arrays and tables are nested more than {MAX_NESTING} levels deep here",
                fix="flatten the value: no setting nests more than a few levels",
            )
        if isinstance(item, int) and item.bit_length() > _MAX_INT_BITS:
            # Only a mapping handed to parse_project can hold one (the TOML reader refuses
            # them), and Python refuses to print it, error messages included.
            raise ConfigError(
                file=file,
                key=where,
                problem=f"an integer of more than {_MAX_INT_BITS} bits",
                fix="write a number of a sensible size (TOML integers are 64-bit)",
            )
        if isinstance(item, Mapping):
            stack += ((f"{where}.{k}", v, depth + 1) for k, v in item.items())
        elif isinstance(item, list | tuple):
            stack += ((f"{where}[{i}]", v, depth + 1) for i, v in enumerate(item))


def _services(table: _Table) -> tuple[PostgresConfig, RedisConfig]:
    table.finish(_SERVICE_KEYS)
    pg = table.table("postgres", required=False)
    pg.finish(_POSTGRES_KEYS)
    postgres = PostgresConfig(
        url=pg.url("url", schemes=("postgresql", "postgres")),
        env=pg.service_env("env", _POSTGRES_FIELDS, POSTGRES_PRESETS, PostgresConfig().env),
        setup=pg.setup_steps("setup"),
        keep_template=pg.patterns("keep-template"),
    )
    rd = table.table("redis", required=False)
    rd.finish(_REDIS_KEYS)
    redis = RedisConfig(
        url=rd.url("url", schemes=("redis",)),
        env=rd.service_env("env", _REDIS_FIELDS, REDIS_PRESETS, RedisConfig().env),
    )
    return postgres, redis


def _isolation(table: _Table) -> Isolation:
    table.finish(_ISOLATION_KEYS)
    dirs = table.str_list("dirs", default=())
    for name in dirs:
        if not _ENV_NAME.fullmatch(name):
            raise table._error(  # noqa: SLF001 - same module
                "dirs",
                f"{name!r} is not an environment variable name",
                'name variables, e.g. dirs = ["MEDIA_ROOT"]',
            )
    seen: dict[str, str] = {}
    for name in dirs:
        if name.lower() in seen:
            raise table._error(  # noqa: SLF001 - same module
                "dirs",
                f"{name!r} is listed twice (as {seen[name.lower()]!r}; each variable gets a "
                "folder named after it in lower case)",
                "list each variable once",
            )
        seen[name.lower()] = name
    ports = table.raw.get("ports", 0)
    if isinstance(ports, bool) or not isinstance(ports, int) or not 0 <= ports <= _MAX_PORTS:
        raise table._error(  # noqa: SLF001 - same module
            "ports",
            f"expected a block size from 0 to {_MAX_PORTS}, got {ports!r}",
            "write ports = 10 (or 0 for no port block)",
        )
    seed = table.raw.get("hashseed")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= _MAX_HASHSEED
    ):
        raise table._error(  # noqa: SLF001 - same module
            "hashseed",
            f"expected an integer from 0 to {_MAX_HASHSEED}, got {seed!r}",
            "write hashseed = 1234, or leave it out for a random seed per run",
        )
    return Isolation(dirs=dirs, ports=ports, hashseed=seed)


_MAX_SPEC_DEPTH: Final = 2  # as str.format: a spec may hold fields, whose specs may not
_WIDE = re.compile(r"\d{4,}")


def _template_fields(formatter: string.Formatter, template: str, depth: int = 0) -> list[str]:
    """Every field a template uses, including those nested in format specs.

    Raises:
        ValueError: The template does not parse, nests specs deeper than ``str.format`` allows,
            or asks for a width of a thousand characters or more (rendering it would fill
            memory with padding).
    """
    if depth >= _MAX_SPEC_DEPTH:
        message = "format specs are nested too deeply"
        raise ValueError(message)
    used: list[str] = []
    for _, field_name, spec, _ in formatter.parse(template):
        if field_name is not None:
            used.append(field_name)
        if spec:
            if _WIDE.search(spec):
                message = f"the format spec {spec!r} asks for 1000 characters or more"
                raise ValueError(message)
            used += _template_fields(formatter, spec, depth + 1)
    return used


def _running_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _suite(
    reader: _Reader,
    suites: _Table,
    name: str,
    default_python: tuple[str, ...],
    default_install: InstallSpec,
) -> Suite:
    key = f"{suites.key}.{name}"
    reader.name(name, key)
    table = suites.table(name, required=True)
    table.finish(_SUITE_KEYS)
    paths = table.str_list("paths", default=())
    marker = table.marker("marker")
    if not paths and marker is None:
        raise ConfigError(
            file=reader.file,
            key=key,
            problem="the suite selects nothing: it has neither `paths` nor `marker`",
            fix='give it `paths = ["tests/<folder>"]`, a `marker = "<expression>"`, or both',
        )
    return Suite(
        name=name,
        paths=paths,
        marker=marker,
        workers=table.workers("workers"),
        dist=table.dist("dist"),
        target_seconds=table.positive_number("target-seconds"),
        services=table.services("services"),
        env=table.env("env"),
        pytest_args=table.str_list("pytest-args", default=(), split_string=True),
        python=table.python_list("python", default=default_python),
        install=table.install("install", default_install),
        shards=table.count("shards", maximum=_MAX_SHARDS, default=1),
        retries=table.whole("retries", maximum=MAX_RETRIES, default=0),
        coverage=table.boolean("coverage", default=True),
        timeout=table.seconds_or_off("timeout", default=DEFAULT_TIMEOUT) or 0.0,  # not None
        deadline=table.seconds_or_off("deadline", default=None),
    )


_QUARANTINE_EXAMPLE: Final = (
    '[[tool.suitekit.quarantine]] with test = "tests/unit/test_x.py::test_y" and '
    'reason = "fails one run in ten (issue 123)"'
)


def _quarantine(reader: _Reader, raw: object) -> tuple[Quarantine, ...]:
    """The ``[[tool.suitekit.quarantine]]`` array: node ids or patterns, each with a reason."""
    key = f"{ROOT_KEY}.quarantine"
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(
            file=reader.file,
            key=key,
            value=raw,
            problem=f"expected an array of tables, got {_type_name(raw)}",
            fix=f"write each entry as {_QUARANTINE_EXAMPLE}",
        )
    entries: list[Quarantine] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        table = reader.table(item, f"{key}[{index}]")
        table.finish(_QUARANTINE_KEYS)
        test = table.string("test", default="")
        if test != test.strip() or test.startswith(("/", "\\")) or ".." in test.split("/"):
            raise table._error(  # noqa: SLF001 - same module
                "test",
                f"{test!r} is not a node id or pattern relative to the project root",
                'write it as pytest prints it, e.g. "tests/unit/test_x.py::test_y" '
                'or "tests/unit/test_x.py::test_*"',
            )
        if test in seen:
            raise table._error(  # noqa: SLF001 - same module
                "test",
                f"{test!r} is already quarantined by {key}[{seen[test]}]",
                "keep one entry per test or pattern",
            )
        seen[test] = index
        reason = table.string("reason", default="")
        release_after = table.count(
            "release-after", maximum=_MAX_RELEASE_AFTER, default=_RELEASE_AFTER
        )
        entries.append(
            Quarantine(test=test, reason=reason, release_after=release_after, index=index)
        )
    return tuple(entries)


def _ci(table: _Table) -> CiConfig:
    table.finish(_CI_KEYS)
    default = CiConfig()
    paths = {
        name: table.string(name, default=getattr(default, name)) for name in ("github", "gitlab")
    }
    for name, value in paths.items():
        where = Path(value)
        if (
            not value
            or where.is_absolute()
            or ".." in where.parts
            or not value.endswith((".yml", ".yaml"))
        ):
            raise table._error(  # noqa: SLF001 - same module
                name,
                f"{value!r} is not a YAML file path inside the project",
                f'write a relative path ending in .yml, e.g. {name} = "{getattr(default, name)}"',
            )
    if Path(paths["github"]) == Path(paths["gitlab"]):
        raise table._error(  # noqa: SLF001 - same module
            "gitlab",
            f"{paths['gitlab']!r} is also the GitHub workflow's path",
            "give the two CI files different paths",
        )
    runner = table.string("runner", default=default.runner)
    branches = table.str_list("branches", default=default.branches, allow_empty=False)
    suitekit = table.string("suitekit", default="") if "suitekit" in table.raw else ""
    for name, value in (*paths.items(), ("runner", runner), ("suitekit", suitekit)):
        _literal_ci_value(table, name, value)
    for branch in branches:
        _literal_ci_value(table, "branches", branch)
    return CiConfig(
        github=paths["github"],
        gitlab=paths["gitlab"],
        runner=runner,
        branches=branches,
        # Empty (the default) means this suitekit's own version, from the index.
        suitekit=suitekit,
        configured=tuple(name for name in paths if name in table.raw),
    )


_LINE_BREAKING: Final = frozenset({"Cc", "Zl", "Zp"})
"""Control characters and the line and paragraph separators (YAML 1.1 breaks lines at some)."""


def _literal_ci_value(table: _Table, name: str, value: str) -> None:
    """Refuse what a CI file would not take literally: an expression, or a line break.

    These values are written into the generated YAML (``runs-on:``, ``branches:``, ``run:``).
    GitHub expands ``${{ ... }}`` there before any shell quoting applies, and a newline or
    another control character would end the YAML line or the shell command early.
    """
    if "${{" in value:
        raise table._error(  # noqa: SLF001 - same module
            name,
            f"{value!r} holds '${{{{', an expression GitHub would expand in the workflow "
            "(before the shell's quoting), so the value could run code there",
            "write the value itself; compute anything dynamic in the workflow, not here",
        )
    bad = next((char for char in value if unicodedata.category(char) in _LINE_BREAKING), None)
    if bad is not None:
        raise table._error(  # noqa: SLF001 - same module
            name,
            f"{value!r} holds the control or line-break character {bad!r}, which would break "
            "the line it is written on in the CI file",
            "write the value on one line, without control characters",
        )


def _check(
    reader: _Reader,
    checks: _Table,
    name: str,
    default_python: str,
    default_install: InstallSpec,
) -> Check:
    key = f"{checks.key}.{name}"
    reader.name(name, key)
    value = checks.raw[name]
    if isinstance(value, str | list):
        value = {"run": value}
    table = checks.table(name, required=True, value=value)
    table.finish(_CHECK_KEYS)
    run = table.str_list("run", default=(), split_string=False, single_string=True)
    if not run or any(not command.strip() for command in run):
        raise ConfigError(
            file=reader.file,
            key=f"{key}.run",
            value=table.raw.get("run"),
            problem="the check has no command to run",
            fix=f'give it one, e.g. {name} = "ruff check ." '
            f'or {name} = {{ run = ["cmd1", "cmd2"] }}',
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
        services=table.services("services"),
        env=table.env("env"),
        python=python[0],
        install=table.install("install", default_install),
    )


def _post_process(project: Project, document: Mapping[str, Any]) -> None:
    """Checks that span several keys: names, paths on disk, declared groups and extras."""
    _check_names(project)
    _check_paths(project)
    _check_installs(project, document)


def _check_names(project: Project) -> None:
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
                raise ConfigError(
                    file=file,
                    key=key,
                    value=name,
                    problem=f"the name {name!r} is already used by {seen[normal]} "
                    "(names are compared case-insensitively, with '_' read as '-', "
                    "as invoke and nox read them)",
                    fix="rename one of them",
                )
            seen[normal] = key


def _check_paths(project: Project) -> None:
    file = project.config_file
    _check_inside(project, f"{ROOT_KEY}.tests", project.tests, "a test root")
    for suite in project.suites:
        _check_inside(project, f"{ROOT_KEY}.suites.{suite.name}.paths", suite.paths, "a suite path")
    _check_reports(project)
    for root in project.tests:
        if not (project.root / root).exists():
            raise ConfigError(
                file=file,
                key=f"{ROOT_KEY}.tests",
                value=root,
                problem=f"the test root {root!r} does not exist under {project.root}",
                fix="name the folders that hold the project's tests (default: tests)",
            )
    for suite in project.suites:
        for path in suite.paths:
            if not (project.root / path).exists():
                raise ConfigError(
                    file=file,
                    key=f"{ROOT_KEY}.suites.{suite.name}.paths",
                    value=path,
                    problem=f"{path!r} does not exist under {project.root}, "
                    "so the suite would select nothing there",
                    fix="correct the path (it is relative to the pyproject.toml's folder)",
                )


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


def _check_installs(project: Project, document: Mapping[str, Any]) -> None:
    file = project.config_file
    groups = document.get("dependency-groups", {})
    package = document.get("project", {})
    extras = package.get("optional-dependencies", {}) if isinstance(package, Mapping) else {}
    declared = [(f"{ROOT_KEY}.install", project.install)]
    declared += [(f"{ROOT_KEY}.suites.{s.name}.install", s.install) for s in project.suites]
    declared += [(f"{ROOT_KEY}.checks.{c.name}.install", c.install) for c in project.checks]
    for key, spec in declared:
        _check_declared(file, f"{key}.groups", spec.groups, groups, "[dependency-groups]")
        _check_includes(file, f"{key}.groups", spec.groups, groups)
        if spec.project:
            _check_declared(
                file, f"{key}.extras", spec.extras, extras, "[project.optional-dependencies]"
            )
        for requirement in spec.requirements:
            if not (project.root / requirement).is_file():
                raise ConfigError(
                    file=file,
                    key=f"{key}.requirements",
                    value=requirement,
                    problem=f"the requirements file {requirement!r} does not exist",
                    fix="correct the path (it is relative to the pyproject.toml's folder)",
                )


def _check_declared(
    file: Path, key: str, names: tuple[str, ...], table: object, where: str
) -> None:
    known = list(table) if isinstance(table, Mapping) else []
    for name in names:
        if name not in known:
            hint = _did_you_mean(name, known)
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
                hint = _did_you_mean(included, list(groups))
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
            problem=f"the group (installed by {key}) is {_type_name(entries)}, not an array of "
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


def _did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    import difflib  # noqa: PLC0415 - only on an error path

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(value: object) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


@dataclass(frozen=True, slots=True)
class _Reader:
    """Shared context of one file's validation."""

    file: Path

    def table(self, raw: object, key: str) -> _Table:
        if not isinstance(raw, Mapping):
            raise ConfigError(
                file=self.file,
                key=key,
                value=raw,
                problem=f"expected a table, got {_type_name(raw)}",
                fix=f"write it as [{key}] with keys below it",
            )
        return _Table(self, key, cast("Mapping[str, object]", raw))

    def name(self, name: str, key: str) -> None:
        if name.lower().replace("_", "-") in RESERVED_NAMES:
            raise ConfigError(
                file=self.file,
                key=key,
                value=name,
                problem=f"{name!r} is reserved for suitekit's own sessions and tasks",
                fix=f"pick another name (reserved: {', '.join(sorted(RESERVED_NAMES))})",
            )
        if not _NAME.fullmatch(name):
            raise ConfigError(
                file=self.file,
                key=key,
                value=name,
                problem=f"{name!r} is not a usable name: it becomes a nox session and an invoke "
                "task, so it must start with a letter and hold only ASCII letters, digits, "
                "'_' and '-' (48 characters at most)",
                fix="rename it, e.g. 'unit', 'api-slow' or 'integration_db'",
            )


@dataclass(slots=True)
class _Table:
    """One TOML table under validation: typed getters that know the key path."""

    reader: _Reader
    key: str
    raw: Mapping[str, object]
    used: set[str] = field(default_factory=set)

    @property
    def file(self) -> Path:
        return self.reader.file

    def finish(self, allowed: tuple[str, ...]) -> None:
        for name in self.raw:
            if name in allowed:
                continue
            hint = _did_you_mean(name, allowed)
            raise ConfigError(
                file=self.file,
                key=f"{self.key}.{name}",
                value=self.raw[name],
                problem=f"unknown key {name!r}{hint}",
                fix=f"use one of: {', '.join(allowed)}",
            )

    def _error(self, name: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(
            file=self.file,
            key=f"{self.key}.{name}",
            value=self.raw.get(name),
            problem=problem,
            fix=fix,
        )

    def table(self, name: str, *, required: bool, value: object = None) -> _Table:
        raw = value if value is not None else self.raw.get(name)
        if raw is None:
            if required:
                raise self._error(name, "the table is missing", f"add [{self.key}.{name}]")
            return _Table(self.reader, f"{self.key}.{name}", {})
        return self.reader.table(raw, f"{self.key}.{name}")

    def string(self, name: str, *, default: str) -> str:
        value = self.raw.get(name, default)
        if not isinstance(value, str) or not value.strip():
            got = _type_name(value) if not isinstance(value, str) else "an empty string"
            raise self._error(
                name, f"expected a non-empty string, got {got}", f'write {name} = "..."'
            )
        self.text(name, value)
        return value

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            raise self._error(
                name, f"expected true or false, got {value!r}", f"write {name} = true or false"
            )
        return value

    def str_list(
        self,
        name: str,
        *,
        default: tuple[str, ...],
        allow_empty: bool = True,
        split_string: bool = False,
        single_string: bool = False,
    ) -> tuple[str, ...]:
        if name not in self.raw:
            return default
        value = self.raw[name]
        if isinstance(value, str) and (split_string or single_string):
            self.text(name, value)
            return self.split(name, value) if split_string else (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            shown = f"{_type_name(value)} {value!r}"
            raise self._error(
                name,
                f"expected an array of strings, got {shown}",
                f'write {name} = ["...", "..."]',
            )
        if not value and not allow_empty:
            raise self._error(
                name, "the array is empty", f'give at least one, e.g. {name} = ["tests"]'
            )
        for item in value:
            self.text(name, item)
        return tuple(cast("list[str]", value))

    def text(self, name: str, value: str) -> None:
        """Refuse a string that no argument, path or environment variable can hold.

        Every string suitekit reads ends up in an argv, a path or an environment variable, and
        the operating system ends each of them at a NUL byte (Python refuses them outright).

        Raises:
            ConfigError: ``value`` holds a NUL byte or is not Unicode text.
        """
        if "\0" in value:
            raise self._error(
                name,
                f"{value!r} holds a NUL byte (\\u0000), which no command argument, path or "
                "environment variable can hold",
                "remove the NUL byte",
            )
        try:
            value.encode()
        except UnicodeEncodeError as error:
            raise self._error(
                name,
                f"{value!r} is not Unicode text ({error.reason})",
                "write the text as UTF-8 characters",
            ) from None

    def split(self, name: str, command: str) -> tuple[str, ...]:
        """``command`` split into arguments as a shell would (and as suitekit runs it).

        Raises:
            ConfigError: A quote is not closed, or a backslash ends the text.
        """
        import shlex  # noqa: PLC0415 - only commands given as one string need it

        try:
            return tuple(shlex.split(command))
        except ValueError as error:
            raise self._error(
                name,
                f"{command!r} cannot be split into arguments ({str(error).lower()})",
                "close the quote, or escape the character with a backslash",
            ) from None

    def python_list(
        self, name: str, *, default: tuple[str, ...], single_string: bool = True
    ) -> tuple[str, ...]:
        versions = self.str_list(
            name, default=default, allow_empty=False, single_string=single_string
        )
        for version in versions:
            if not _PYTHON.fullmatch(version):
                raise self._error(
                    name,
                    f"{version!r} is not a Python version",
                    'write versions as "3.12" (or "3.13t", "pypy3.10")',
                )
        if len(set(versions)) != len(versions):
            raise self._error(name, "a version is listed twice", "list each version once")
        return versions

    def marker(self, name: str) -> str | None:
        if name not in self.raw:
            return None
        value = self.string(name, default="")
        try:
            MarkerExpression.compile(value)
        except MarkerSyntaxError as error:
            raise self._error(
                name,
                str(error),
                'write a pytest marker expression, e.g. "processing" or "slow and not db"',
            ) from None
        return value

    def workers(self, name: str) -> Workers:
        value = self.raw.get(name, "auto")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self._error(
                name,
                f'expected "auto", "logical" or an integer, got {_type_name(value)}',
                'write workers = "auto", workers = 4, or workers = 0 to run without xdist',
            )
        if isinstance(value, str):
            if value in ("auto", "logical"):
                return cast("Workers", value)
            hint = _did_you_mean(value, ["auto", "logical"])
            raise self._error(
                name,
                f"{value!r} is not a worker count{hint}",
                'write workers = "auto", workers = 4, or workers = 0 to run without xdist',
            )
        if value < 0:
            raise self._error(
                name,
                f"{value} is negative",
                "use 0 to run without xdist, or a positive worker count",
            )
        if value > MAX_WORKERS:
            raise self._error(
                name,
                f"{value} workers is more than suitekit starts (at most {MAX_WORKERS})",
                f'write a count of at most {MAX_WORKERS}, or workers = "auto" to fit the machine',
            )
        return value

    def dist(self, name: str) -> DistMode:
        value = self.raw.get(name, "load")
        if value not in DIST_MODES:
            hint = _did_you_mean(str(value), DIST_MODES)
            raise self._error(
                name,
                f"{value!r} is not an xdist distribution mode{hint}",
                f"use one of: {', '.join(DIST_MODES)}",
            )
        return cast("DistMode", value)

    def count(self, name: str, *, maximum: int, default: int) -> int:
        value = self.raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
            raise self._error(
                name,
                f"expected a whole number from 1 to {maximum}, got {value!r}",
                f"write {name} = 4 (or leave it out for {default})",
            )
        return value

    def whole(self, name: str, *, maximum: int, default: int) -> int:
        value = self.raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            raise self._error(
                name,
                f"expected a whole number from 0 to {maximum}, got {value!r}",
                f"write {name} = 2 (or leave it out for {default})",
            )
        return value

    def seconds_or_off(self, name: str, *, default: float | None) -> float | None:
        """A number of seconds up to :data:`MAX_SECONDS`, where ``0`` or ``false`` mean off."""
        value = self.raw.get(name, default)
        if value is False:
            return 0.0
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value <= MAX_SECONDS
        ):
            raise self._error(
                name,
                f"expected a number of seconds from 0 to {MAX_SECONDS:g}, got {value!r}",
                f"write {name} = 600, or {name} = 0 (or false) to turn it off",
            )
        return float(value)

    def positive_number(self, name: str) -> float | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value < math.inf
            or value > sys.float_info.max  # an integer too large for a float
        ):
            raise self._error(
                name,
                f"expected a positive number of seconds, got {value!r}",
                f"write {name} = 30",
            )
        return float(value)

    def services(self, name: str) -> tuple[Service, ...]:
        names = self.str_list(name, default=())
        for service in names:
            if service not in SERVICES:
                hint = _did_you_mean(service, SERVICES)
                raise self._error(
                    name,
                    f"unknown service {service!r}{hint}",
                    f"use the services suitekit provides: {', '.join(SERVICES)}",
                )
        if len(set(names)) != len(names):
            raise self._error(name, "a service is listed twice", "list each service once")
        return cast("tuple[Service, ...]", names)

    def env(self, name: str) -> Mapping[str, str]:
        return self.table(name, required=False).variables()

    def variables(self) -> Mapping[str, str]:
        """This table read as environment variables: names and string values."""
        result: dict[str, str] = {}
        for variable, value in self.raw.items():
            if not _ENV_NAME.fullmatch(variable):
                raise self._error(
                    variable,
                    f"{variable!r} is not an environment variable name",
                    "use letters, digits and '_', not starting with a digit",
                )
            if not isinstance(value, str):
                raise self._error(
                    variable,
                    f"expected a string, got {_type_name(value)} {value!r}",
                    f'quote it: {variable} = "{value}"',
                )
            self.text(variable, value)
            result[variable] = value
        return MappingProxyType(result)

    def url(self, name: str, *, schemes: tuple[str, ...]) -> str | None:
        if name not in self.raw:
            return None
        value = self.string(name, default="")
        shown_url = redact(value)  # errors end up in CI logs
        example = f'write {name} = "{schemes[0]}://user@host:port/..."'
        try:
            parts = urlsplit(value)
            hostname = parts.hostname
        except ValueError as error:  # e.g. an unclosed "[" of an IPv6 address
            raise self._error(name, f"{shown_url!r} is not a URL: {error}", example) from None
        scheme = parts.scheme.split("+", 1)[0]
        if scheme not in schemes or not hostname:
            raise self._error(name, f"{shown_url!r} is not a {schemes[0]}:// URL", example)
        # Checked here, as the services will read it, so that the error names this key rather
        # than surfacing when a session starts the service.
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:  # also what did not parse: out of range, or not digits
            shown = parts.netloc.rsplit("@", 1)[-1].rpartition(":")[2]
            raise self._error(
                name,
                f"{shown_url!r} has the port {shown!r}, which is not a TCP port number",
                f"give a port from 1 to 65535 after the host, e.g. {schemes[0]}://host:"
                f"{_DEFAULT_PORTS.get(schemes[0], 5432)}/..., or leave it out for the default",
            )
        return value

    def patterns(self, name: str) -> tuple[str, ...]:
        patterns = self.str_list(name, default=())
        for pattern in patterns:
            if not pattern.strip() or pattern.startswith(("/", "\\")) or ".." in pattern.split("/"):
                raise self._error(
                    name,
                    f"{pattern!r} is not a pattern of files inside the project",
                    'use patterns relative to the project root, e.g. ["migrations/**/*.py"]',
                )
        return patterns

    def service_env(
        self,
        name: str,
        fields: tuple[str, ...],
        presets: Mapping[str, Mapping[str, str]],
        default: Mapping[str, str],
    ) -> Mapping[str, str]:
        """A service's ``env``: a table of templates, a preset's name, or an array of both.

        In an array, later entries win over earlier ones for the same variable, so
        ``["url", "libpq"]`` sets ``DATABASE_URL`` and the ``PG*`` variables.
        """
        if name not in self.raw:
            return default
        value = self.raw[name]
        if isinstance(value, Mapping):
            return self.templates(name, fields)
        example = f'write {name} = "{next(iter(presets))}", {name} = {{ VARIABLE = "{{url}}" }}'
        parts = value if isinstance(value, list) else [value]
        if not isinstance(value, str | list) or not parts:
            got = "an empty array" if value == [] else _type_name(value)
            raise self._error(
                name,
                f"expected a preset's name, a table of templates or an array of them, got {got}",
                f"{example}, or an array of them",
            )
        result: dict[str, str] = {}
        for part in parts:
            if isinstance(part, str):
                if part not in presets:
                    hint = _did_you_mean(part, list(presets))
                    raise self._error(
                        name,
                        f"{part!r} is not a preset of this service{hint}",
                        f"use one of: {', '.join(presets)} (see docs/services.md), "
                        "or a table of templates",
                    )
                result.update(presets[part])
            elif isinstance(part, Mapping):
                result.update(self.templates(name, fields, raw=part))
            else:
                raise self._error(
                    name,
                    f"{part!r} is neither a preset's name nor a table of templates",
                    f"{example}, or an array of them",
                )
        return MappingProxyType(result)

    def templates(
        self, name: str, fields: tuple[str, ...], *, raw: Mapping[str, object] | None = None
    ) -> Mapping[str, str]:
        """The table ``name`` (or ``raw``, one table of its array) of templates of ``fields``."""
        env = (
            self.env(name)
            if raw is None
            else _Table(self.reader, f"{self.key}.{name}", raw).variables()
        )
        formatter = string.Formatter()
        for variable, template in env.items():
            try:
                used = _template_fields(formatter, template)
            except ValueError as error:
                raise self._error(
                    name,
                    f"{variable} = {template!r} is not a template: {error}",
                    "write {{ and }} for literal braces",
                ) from None
            for used_field in used:
                if used_field not in fields:
                    hint = _did_you_mean(used_field, fields)
                    raise self._error(
                        name,
                        f"{variable} = {template!r} uses an unknown field {{{used_field}}}{hint}",
                        f"use {', '.join('{' + f + '}' for f in fields)}",
                    )
            try:
                template.format_map(dict.fromkeys(fields, ""))
            except (ValueError, KeyError, IndexError, AttributeError) as error:
                raise self._error(
                    name,
                    f"{variable} = {template!r} cannot be rendered: {error}",
                    "use plain fields such as {url}, without conversions or format specs",
                ) from None
        return env

    def setup_steps(self, name: str) -> tuple[SetupStep, ...]:
        value = self.raw.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self._error(
                name,
                f"expected an array of commands and {{ sql = ... }}, got {_type_name(value)}",
                'write setup = ["alembic upgrade head", { sql = "CREATE EXTENSION hstore" }]',
            )
        steps: list[SetupStep] = []
        for item in value:
            if isinstance(item, str) and item.strip():
                self.text(name, item)
                self.split(name, item)  # as it will run
                steps.append(SetupStep(command=item))
            elif (
                isinstance(item, Mapping)
                and set(item) == {"sql"}
                and isinstance(item["sql"], str)
                and item["sql"].strip()
            ):
                self.text(name, item["sql"])  # PostgreSQL's text cannot hold NUL either
                steps.append(SetupStep(sql=item["sql"]))
            else:
                raise self._error(
                    name,
                    f'{item!r} is neither a command nor a {{ sql = "..." }} table',
                    'write setup = ["alembic upgrade head", { sql = "CREATE EXTENSION hstore" }]',
                )
        return tuple(steps)

    def install(self, name: str, default: InstallSpec) -> InstallSpec:
        if name not in self.raw:
            return default
        table = self.table(name, required=True)
        table.finish(_INSTALL_KEYS)
        spec = InstallSpec(
            project=table.boolean("project", default=True),
            editable=table.boolean("editable", default=True),
            groups=table.str_list("groups", default=()),
            extras=table.str_list("extras", default=()),
            requirements=table.str_list("requirements", default=()),
            packages=table.str_list("packages", default=()),
        )
        if spec.extras and not spec.project:
            raise table._error(  # noqa: SLF001 - same class
                "extras",
                "extras are the project's, but `project = false` does not install the project",
                "drop `extras`, or install the project (project = true)",
            )
        return spec
