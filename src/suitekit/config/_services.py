"""Reading ``[tool.suitekit.services]`` and ``[tool.suitekit.isolation]``.

The services' URLs, their ``env`` templates and presets, PostgreSQL's setup steps; and what
each worker gets to itself (folders, a block of ports, the hash seed).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

from suitekit._kinds import KINDS, ServiceKind
from suitekit._model import Isolation, Service, ServiceConfig, SetupStep
from suitekit._urls import redact
from suitekit.config._keys import (
    ENV_NAME,
    ISOLATION_KEYS,
    SERVICE_KEYS,
    did_you_mean,
    type_name,
)
from suitekit.config._table import Table

__all__ = ["read_isolation", "read_services"]

_MAX_PORTS: Final = 1000
_MAX_HASHSEED: Final = 4294967295  # what PYTHONHASHSEED accepts


def read_services(table: Table) -> Mapping[Service, ServiceConfig]:
    """``[tool.suitekit.services]``: each service's settings, by its kind's keys."""
    table.finish(SERVICE_KEYS)
    return MappingProxyType({name: _service(table, kind) for name, kind in KINDS.items()})


def _service(services: Table, kind: ServiceKind) -> ServiceConfig:
    table = services.table(kind.name, required=False)
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
    formatter = string.Formatter()
    for variable, template in env.items():
        try:
            used = _template_fields(formatter, template)
        except ValueError as error:
            raise table.error(
                name,
                f"{variable} = {template!r} is not a template: {error}",
                "write {{ and }} for literal braces",
            ) from None
        for used_field in used:
            if used_field not in fields:
                hint = did_you_mean(used_field, fields)
                raise table.error(
                    name,
                    f"{variable} = {template!r} uses an unknown field {{{used_field}}}{hint}",
                    f"use {', '.join('{' + f + '}' for f in fields)}",
                )
        try:
            template.format_map(dict.fromkeys(fields, ""))
        except (ValueError, KeyError, IndexError, AttributeError) as error:
            raise table.error(
                name,
                f"{variable} = {template!r} cannot be rendered: {error}",
                "use plain fields such as {url}, without conversions or format specs",
            ) from None
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
