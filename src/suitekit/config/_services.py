"""Reading ``[tool.suitekit.services]`` and ``[tool.suitekit.isolation]``.

The services' URLs, their ``env`` templates and presets, PostgreSQL's setup steps; and what
each worker gets to itself (folders, a block of ports, the hash seed).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from functools import partial
from types import MappingProxyType
from typing import Final, cast
from urllib.parse import urlsplit

from suitekit._kinds import KINDS, NAMES, ServiceKind
from suitekit._model import (
    MAX_SECONDS,
    SERVICE_SCOPES,
    Isolation,
    ReadyKind,
    Service,
    ServiceConfig,
    ServiceScope,
    SetupStep,
    UserService,
)
from suitekit._urls import redact
from suitekit.config._keys import (
    CUSTOM_FIELDS,
    CUSTOM_SERVICE_KEYS,
    ENV_NAME,
    ISOLATION_KEYS,
    SESSION_NAME,
    did_you_mean,
    type_name,
)
from suitekit.config._table import Table

__all__ = ["read_custom_services", "read_isolation", "read_services"]

_MAX_PORTS: Final = 1000
_MAX_HASHSEED: Final = 4294967295  # what PYTHONHASHSEED accepts
_DEFAULT_READY_TIMEOUT: Final = 30.0
_MIN_MEMORY: Final = 1 << 20  # below a mebibyte of address space no program even starts
_MEMORY = re.compile(r"^(\d+)\s*([KMGT]?)(?:I?B)?$", re.IGNORECASE)
_UNITS: Final = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def read_services(table: Table) -> Mapping[Service, ServiceConfig]:
    """``[tool.suitekit.services]``: each built-in service's settings, by its kind's keys.

    A table named after no service suitekit provides is a service of the project's own, read
    by :func:`read_custom_services`.
    """
    for name in table.raw:
        if name in NAMES and name not in KINDS:
            table.reader.errors.append(
                table.error(
                    name,
                    f"{name!r} is another name of the service {NAMES[name]!r}, whose settings "
                    f"are read from [{table.key}.{NAMES[name]}]",
                    f"rename the table to [{table.key}.{NAMES[name]}]",
                )
            )
    attempt = table.reader.attempt
    return MappingProxyType(
        {
            name: attempt(partial(_service, table, kind), ServiceConfig(service=kind.name))
            for name, kind in KINDS.items()
        }
    )


def _service(services: Table, kind: ServiceKind) -> ServiceConfig:
    table = services.table(kind.name, required=False)
    if "run" in table.raw:
        raise table.error(
            "run",
            f"{kind.name!r} is a service suitekit provides itself, so its table takes no "
            "`run`: a service of your own needs a name of its own",
            f"rename the table, e.g. [{services.key}.my-{kind.name}], and list that name in "
            "the suites' services",
        )
    table.finish(kind.keys)
    url = _url(table, "url", kind=kind)
    env = _service_env(table, "env", kind.fields, kind.presets, kind.default_env)
    if not kind.template:
        return ServiceConfig(service=kind.name, url=url, env=env)
    return ServiceConfig(
        service=kind.name,
        url=url,
        env=env,
        setup=_setup_steps(table, "setup"),
        keep_template=_patterns(table, "keep-template"),
        keeps_template=table.raw.get("keep-template") is not False,
    )


def _url(table: Table, name: str, *, kind: ServiceKind) -> str | None:
    if name not in table.raw:
        return None
    schemes = kind.schemes
    value = table.string(name, default="")
    shown_url = redact(value)  # errors end up in CI logs
    example = f'write {name} = "{schemes[0]}://user@host:port/..."'
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError as error:  # e.g. an unclosed "[" of an IPv6 address
        raise table.error(name, f"{shown_url!r} is not a URL: {error}", example) from None
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in schemes or not hostname:
        raise table.error(name, f"{shown_url!r} is not a {schemes[0]}:// URL", example)
    # Checked here, as the services will read it, so that the error names this key rather
    # than surfacing when a session starts the service.
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:  # also what did not parse: out of range, or not digits
        shown = parts.netloc.rsplit("@", 1)[-1].rpartition(":")[2]
        raise table.error(
            name,
            f"{shown_url!r} has the port {shown!r}, which is not a TCP port number",
            f"give a port from 1 to 65535 after the host, e.g. {schemes[0]}://host:"
            f"{kind.default_port}/..., or leave it out for the default",
        )
    return value


def _patterns(table: Table, name: str) -> tuple[str, ...]:
    value = table.raw.get(name)
    if value is False:  # keep-template = false: the opt-out (a Django suite's is on by default)
        return ()
    if value is True:
        raise table.error(
            name,
            "true does not say which files the template is built from (a Django suite keeps "
            "its template without this key, keyed on its migrations)",
            'list the files the setup reads, e.g. keep-template = ["migrations/**/*.py"], or '
            "write keep-template = false to never keep it",
        )
    patterns = table.str_list(name, default=())
    for pattern in patterns:
        if not pattern.strip() or pattern.startswith(("/", "\\")) or ".." in pattern.split("/"):
            raise table.error(
                name,
                f"{pattern!r} is not a pattern of files inside the project",
                'use patterns relative to the project root, e.g. ["migrations/**/*.py"]',
            )
    return patterns


def _service_env(
    table: Table,
    name: str,
    fields: tuple[str, ...],
    presets: Mapping[str, Mapping[str, str]],
    default: Mapping[str, str],
) -> Mapping[str, str]:
    """A service's ``env``: a table of templates, a preset's name, or an array of both.

    In an array, later entries win over earlier ones for the same variable, so
    ``["url", "libpq"]`` sets ``DATABASE_URL`` and the ``PG*`` variables.
    """
    if name not in table.raw:
        return default
    value = table.raw[name]
    if isinstance(value, Mapping):
        return _templates(table, name, fields)
    example = f'write {name} = "{next(iter(presets))}", {name} = {{ VARIABLE = "{{url}}" }}'
    parts = value if isinstance(value, list) else [value]
    if not isinstance(value, str | list) or not parts:
        got = "an empty array" if value == [] else type_name(value)
        raise table.error(
            name,
            f"expected a preset's name, a table of templates or an array of them, got {got}",
            f"{example}, or an array of them",
        )
    result: dict[str, str] = {}
    for part in parts:
        if isinstance(part, str):
            if part not in presets:
                hint = did_you_mean(part, list(presets))
                raise table.error(
                    name,
                    f"{part!r} is not a preset of this service{hint}",
                    f"use one of: {', '.join(presets)} (see docs/services.md), "
                    "or a table of templates",
                )
            result.update(presets[part])
        elif isinstance(part, Mapping):
            result.update(_templates(table, name, fields, raw=part))
        else:
            raise table.error(
                name,
                f"{part!r} is neither a preset's name nor a table of templates",
                f"{example}, or an array of them",
            )
    return MappingProxyType(result)


def _templates(
    table: Table, name: str, fields: tuple[str, ...], *, raw: Mapping[str, object] | None = None
) -> Mapping[str, str]:
    """The table ``name`` (or ``raw``, one table of its array) of templates of ``fields``."""
    env = (
        table.env(name)
        if raw is None
        else Table(table.reader, f"{table.key}.{name}", raw).variables()
    )
    for variable, template in env.items():
        _check_template(
            table, name, template, fields, shown=f"{variable} = {template!r}", example="{url}"
        )
    return env


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


def _setup_steps(table: Table, name: str) -> tuple[SetupStep, ...]:
    value = table.raw.get(name, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise table.error(
            name,
            f"expected an array of commands and {{ sql = ... }}, got {type_name(value)}",
            'write setup = ["alembic upgrade head", { sql = "CREATE EXTENSION hstore" }]',
        )
    steps: list[SetupStep] = []
    for item in value:
        if isinstance(item, str) and item.strip():
            table.text(name, item)
            table.split(name, item)  # as it will run
            steps.append(SetupStep(command=item))
        elif (
            isinstance(item, Mapping)
            and set(item) == {"sql"}
            and isinstance(item["sql"], str)
            and item["sql"].strip()
        ):
            table.text(name, item["sql"])  # PostgreSQL's text cannot hold NUL either
            steps.append(SetupStep(sql=item["sql"]))
        else:
            raise table.error(
                name,
                f'{item!r} is neither a command nor a {{ sql = "..." }} table',
                'write setup = ["alembic upgrade head", { sql = "CREATE EXTENSION hstore" }]',
            )
    return tuple(steps)


def read_isolation(table: Table) -> Isolation:
    """``[tool.suitekit.isolation]``: what each worker gets to itself."""
    table.finish(ISOLATION_KEYS)
    dirs = table.str_list("dirs", default=())
    for name in dirs:
        if not ENV_NAME.fullmatch(name):
            raise table.error(
                "dirs",
                f"{name!r} is not an environment variable name",
                'name variables, e.g. dirs = ["MEDIA_ROOT"]',
            )
    seen: dict[str, str] = {}
    for name in dirs:
        if name.lower() in seen:
            raise table.error(
                "dirs",
                f"{name!r} is listed twice (as {seen[name.lower()]!r}; each variable gets a "
                "folder named after it in lower case)",
                "list each variable once",
            )
        seen[name.lower()] = name
    ports = table.raw.get("ports", 0)
    if isinstance(ports, bool) or not isinstance(ports, int) or not 0 <= ports <= _MAX_PORTS:
        raise table.error(
            "ports",
            f"expected a block size from 0 to {_MAX_PORTS}, got {ports!r}",
            "write ports = 10 (or 0 for no port block)",
        )
    seed = table.raw.get("hashseed")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= _MAX_HASHSEED
    ):
        raise table.error(
            "hashseed",
            f"expected an integer from 0 to {_MAX_HASHSEED}, got {seed!r}",
            "write hashseed = 1234, or leave it out for a random seed per run",
        )
    return Isolation(dirs=dirs, ports=ports, hashseed=seed)


def read_custom_services(table: Table) -> tuple[UserService, ...]:
    """The services of the project's own, each with the command that runs it.

    They are the tables of ``[tool.suitekit.services]`` that name no service suitekit provides.
    """
    services = (
        table.reader.attempt(partial(_custom_service, table, name), None)
        for name in table.raw
        if name not in NAMES
    )
    return tuple(service for service in services if service is not None)


def _custom_service(services: Table, name: str) -> UserService:
    table = services.table(name, required=True)
    if "run" not in table.raw:
        hint = did_you_mean(name, list(NAMES))
        raise services.error(
            name,
            f"unknown service {name!r}{hint}: it is none of suitekit's services, and has no "
            "run command to be one of your own",
            f"use one of suitekit's services: {', '.join(KINDS)}; or give a service of your "
            'own its command, e.g. run = "nats-server -a {host} -p {port}" (see '
            "docs/services.md)",
        )
    if not SESSION_NAME.fullmatch(name):
        raise services.error(
            name,
            f"{name!r} is not a usable service name: it names the service in messages, "
            "folders and records, so it must start with a letter and hold only ASCII letters, "
            "digits, '_' and '-' (48 characters at most)",
            "rename the table, e.g. [tool.suitekit.services.nats]",
        )
    table.finish(CUSTOM_SERVICE_KEYS)
    run = _command_templates(table, "run", required=True)
    ready_kind, ready = _ready(table)
    env = _templates(table, "env", CUSTOM_FIELDS) if "env" in table.raw else {}
    return UserService(
        name=name,
        run=run,
        ready_kind=ready_kind,
        ready=ready,
        env=env,
        scope=_scope(table),
        timeout=_ready_timeout(table),
        memory=_memory(table),
        image=table.string("image", default="-") if "image" in table.raw else "",
        install=table.string("install", default="-") if "install" in table.raw else "",
    )


def _command_templates(table: Table, name: str, *, required: bool) -> tuple[str, ...]:
    """A command as a string (split like a shell would) or an array of its arguments.

    Each argument is a template of :data:`CUSTOM_FIELDS`; splitting comes first, so a
    ``{dir}`` with a space in it stays one argument.
    """
    value = table.raw.get(name)
    example = f'write {name} = "nats-server -a {{host}} -p {{port}}"'
    if isinstance(value, str):
        table.text(name, value)
        arguments = table.split(name, value)
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        for item in value:
            table.text(name, item)
        arguments = tuple(value)
    else:
        got = type_name(value) if value is not None else "nothing"
        raise table.error(
            name, f"expected a command line or an array of its arguments, got {got}", example
        )
    if required and (not arguments or not arguments[0].strip()):
        raise table.error(name, "the command is empty", example)
    for argument in arguments:
        _check_custom_template(table, name, argument)
    return arguments


def _check_template(
    table: Table,
    name: str,
    template: str,
    fields: tuple[str, ...],
    *,
    shown: str,
    example: str,
) -> None:
    """Refuse a template that uses a field not in ``fields``, or cannot be rendered.

    Built-in services' ``env`` templates and the templates of the project's own services are
    checked alike; the message shows the template as ``shown`` (with its variable, for an
    ``env`` entry), and its fix names ``example`` as a plain field.
    """
    try:
        used = _template_fields(string.Formatter(), template)
    except ValueError as error:
        raise table.error(
            name, f"{shown} is not a template: {error}", "write {{ and }} for literal braces"
        ) from None
    for used_field in used:
        if used_field not in fields:
            hint = did_you_mean(used_field, fields)
            raise table.error(
                name,
                f"{shown} uses an unknown field {{{used_field}}}{hint}",
                f"use {', '.join('{' + f + '}' for f in fields)}",
            )
    try:
        template.format_map(dict.fromkeys(fields, ""))
    except (ValueError, KeyError, IndexError, AttributeError) as error:
        raise table.error(
            name,
            f"{shown} cannot be rendered: {error}",
            f"use plain fields such as {example}, without conversions or format specs",
        ) from None


def _check_custom_template(table: Table, name: str, template: str) -> None:
    """:func:`_check_template` for a template of a service of the project's own."""
    _check_template(table, name, template, CUSTOM_FIELDS, shown=repr(template), example="{port}")


def _ready(table: Table) -> tuple[ReadyKind, tuple[str, ...]]:
    """``ready``: ``"tcp"`` (the default), an ``http://`` URL template, or a command."""
    if "ready" not in table.raw:
        return "tcp", ()
    value = table.raw["ready"]
    if value == "tcp":
        return "tcp", ()
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        table.text("ready", value)
        _check_custom_template(table, "ready", value)
        sample = value.format_map(dict.fromkeys(CUSTOM_FIELDS, "1"))
        try:
            has_host = bool(urlsplit(sample).hostname)
        except ValueError:
            has_host = False
        if not has_host:
            raise table.error(
                "ready",
                f"{value!r} is not an http:// URL",
                'write ready = "http://{host}:{port}/healthz"',
            )
        return "http", (value,)
    if isinstance(value, str) and value.strip().lower() in {"http", "https", "tcp:", "port"}:
        raise table.error(
            "ready",
            f'{value!r} is neither "tcp", an http:// URL nor a command',
            'write ready = "tcp", ready = "http://{host}:{port}/healthz" or a command that '
            "exits 0 once the service is ready",
        )
    return "command", _command_templates(table, "ready", required=True)


def _scope(table: Table) -> ServiceScope:
    value = table.raw.get("scope", "worker")
    if value not in SERVICE_SCOPES:
        hint = did_you_mean(value, SERVICE_SCOPES) if isinstance(value, str) else ""
        raise table.error(
            "scope",
            f'expected "worker" or "run", got {value!r}{hint}',
            'write scope = "worker" (an instance per pytest worker, the default) or '
            'scope = "run" (one instance that every worker of the run shares)',
        )
    return cast("ServiceScope", value)


def _ready_timeout(table: Table) -> float:
    value = table.raw.get("timeout", _DEFAULT_READY_TIMEOUT)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= MAX_SECONDS
    ):
        raise table.error(
            "timeout",
            f"expected a positive number of seconds up to {MAX_SECONDS:g}, got {value!r}",
            f"write timeout = 60 (or leave it out for {_DEFAULT_READY_TIMEOUT:g})",
        )
    return float(value)


def _memory(table: Table) -> int | None:
    """``memory``: bytes (an integer) or a size with a unit (``"512M"``, ``"2G"``)."""
    if "memory" not in table.raw:
        return None
    value = table.raw["memory"]
    size = None
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str) and (match := _MEMORY.fullmatch(value.strip())):
        size = int(match[1]) * _UNITS[match[2].upper()]
    if size is None or size < _MIN_MEMORY:
        shown = f"{type_name(value)} {value!r}" if not isinstance(value, int | str) else repr(value)
        raise table.error(
            "memory",
            f'expected a size of at least 1M, such as "512M" or "2G", got {shown}',
            'write memory = "512M" (K, M, G and T are powers of 1024), or leave it out for '
            "no limit",
        )
    return size
