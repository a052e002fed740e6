"""Typed getters over one TOML table under validation, each error naming its key path.

:class:`Table` holds the getters every section shares (strings, arrays, numbers, environment
variables); the getters of one section's values live with that section's reader
(:mod:`suitekit.config._suites`, :mod:`suitekit.config._services`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NoReturn, TypeVar, cast

from suitekit._model import MAX_SECONDS
from suitekit.config._keys import (
    ENV_NAME,
    PYTHON_VERSION,
    RESERVED_NAMES,
    SESSION_NAME,
    did_you_mean,
    type_name,
)
from suitekit.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["Reader", "Table", "model_default"]

T = TypeVar("T")


def model_default(model: type[DataclassInstance], name: str) -> object:
    """The default of the field ``name`` of ``model``: the one place a model's default is kept.

    Readers use it for a key the file leaves out, and as the stand-in for a key they cannot read.

    Raises:
        TypeError: ``model`` has no field ``name`` with a default (a programming error).
    """
    for found in fields(model):
        if found.name == name and found.default is not MISSING:
            return found.default
    message = f"{model.__name__} has no field {name!r} with a default"
    raise TypeError(message)


@dataclass(slots=True)  # not frozen: it gathers the file's mistakes as reading goes on
class Reader:
    """Shared context of one file's validation, and the mistakes found in it so far.

    Independent parts of the file (a top-level key, a suite's key, a check, a service) are read
    through :meth:`attempt`, which notes a part's error and goes on with the next part;
    :meth:`raise_errors` then reports every mistake at once. A part whose error makes the rest
    of it meaningless (a suite's ``runner``, which decides the keys it takes) is read as one.

    Attributes:
        file: The configuration file.
        errors: The mistakes noted so far, in the order they were found.
        failed: The key paths :meth:`attempt` could not read, which checks spanning several
            keys skip (their value is a stand-in).
    """

    file: Path
    errors: list[ConfigError] = field(default_factory=list, compare=False)
    failed: set[str] = field(default_factory=set, compare=False)

    def attempt(self, read: Callable[[], T], default: T, *, key: str = "") -> T:
        """What ``read()`` reads; on a :class:`ConfigError`, note it and give ``default``.

        Args:
            read: Reads one independent part of the file.
            default: The stand-in value that lets reading go on.
            key: The part's key path, noted in :attr:`failed` when it cannot be read.
        """
        try:
            return read()
        except ConfigError as error:
            self.errors.append(error)
            if key:
                self.failed.add(key)
            return default

    def stop(self, error: ConfigError) -> NoReturn:
        """Raise ``error``, which makes reading further meaningless, after the noted ones."""
        self.errors.append(error)
        raise ConfigError.together(tuple(self.errors))

    def raise_errors(self) -> None:
        """Raise one :class:`ConfigError` reporting every mistake noted, if there is any."""
        if self.errors:
            raise ConfigError.together(tuple(self.errors))

    def error(self, key: str, value: object, problem: str, fix: str) -> ConfigError:
        """The error, to raise, for the key path ``key`` of this file and its ``value``."""
        return ConfigError(file=self.file, key=key, value=value, problem=problem, fix=fix)

    def wrong_type(self, key: str, raw: object, expected: str, fix: str) -> ConfigError:
        """The error of a value of another type than ``expected`` (``a table``)."""
        return self.error(key, raw, f"expected {expected}, got {type_name(raw)}", fix)

    def table(self, raw: object, key: str) -> Table:
        if not isinstance(raw, Mapping):
            raise self.wrong_type(key, raw, "a table", f"write it as [{key}] with keys below it")
        return Table(self, key, cast("Mapping[str, object]", raw))

    def name(self, name: str, key: str) -> None:
        if name.lower().replace("_", "-") in RESERVED_NAMES:
            raise self.error(
                key,
                name,
                f"{name!r} is reserved for suitekit's own sessions and tasks",
                f"pick another name (reserved: {', '.join(sorted(RESERVED_NAMES))})",
            )
        if not SESSION_NAME.fullmatch(name):
            raise self.error(
                key,
                name,
                f"{name!r} is not a usable name: it becomes a nox session and an invoke task, so "
                "it must start with a letter and hold only ASCII letters, digits, '_' and '-' "
                "(48 characters at most)",
                "rename it, e.g. 'unit', 'api-slow' or 'integration_db'",
            )


@dataclass(slots=True)
class Table:
    """One TOML table under validation: typed getters that know the key path."""

    reader: Reader
    key: str
    raw: Mapping[str, object]
    used: set[str] = field(default_factory=set)

    @property
    def file(self) -> Path:
        return self.reader.file

    def finish(self, allowed: tuple[str, ...]) -> None:
        """Note every key of the table that is not ``allowed``; reading goes on past them."""
        for name in self.raw:
            if name in allowed:
                continue
            hint = did_you_mean(name, allowed)
            self.reader.errors.append(
                self.error(name, f"unknown key {name!r}{hint}", f"use one of: {', '.join(allowed)}")
            )

    def error(self, name: str, problem: str, fix: str) -> ConfigError:
        """The error, to raise, for the key ``name`` of this table and its value."""
        return self.reader.error(f"{self.key}.{name}", self.raw.get(name), problem, fix)

    def table(self, name: str, *, required: bool, value: object = None) -> Table:
        raw = value if value is not None else self.raw.get(name)
        if raw is None:
            if required:
                raise self.error(name, "the table is missing", f"add [{self.key}.{name}]")
            return Table(self.reader, f"{self.key}.{name}", {})
        return self.reader.table(raw, f"{self.key}.{name}")

    def string(self, name: str, *, default: str) -> str:
        value = self.raw.get(name, default)
        if not isinstance(value, str) or not value.strip():
            got = type_name(value) if not isinstance(value, str) else "an empty string"
            raise self.error(
                name, f"expected a non-empty string, got {got}", f'write {name} = "..."'
            )
        self.text(name, value)
        return value

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            raise self.error(
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
            shown = f"{type_name(value)} {value!r}"
            raise self.error(
                name,
                f"expected an array of strings, got {shown}",
                f'write {name} = ["...", "..."]',
            )
        if not value and not allow_empty:
            raise self.error(
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
            raise self.error(
                name,
                f"{value!r} holds a NUL byte (\\u0000), which no command argument, path or "
                "environment variable can hold",
                "remove the NUL byte",
            )
        try:
            value.encode()
        except UnicodeEncodeError as error:
            raise self.error(
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
            raise self.error(
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
            if not PYTHON_VERSION.fullmatch(version):
                raise self.error(
                    name,
                    f"{version!r} is not a Python version",
                    'write versions as "3.12" (or "3.13t", "pypy3.10")',
                )
        if len(set(versions)) != len(versions):
            raise self.error(name, "a version is listed twice", "list each version once")
        return versions

    def count(self, name: str, *, maximum: int, default: int) -> int:
        value = self.raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
            raise self.error(
                name,
                f"expected a whole number from 1 to {maximum}, got {value!r}",
                f"write {name} = 4 (or leave it out for {default})",
            )
        return value

    def whole(self, name: str, *, maximum: int, default: int) -> int:
        value = self.raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            raise self.error(
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
            raise self.error(
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
            raise self.error(
                name,
                f"expected a positive number of seconds, got {value!r}",
                f"write {name} = 30",
            )
        return float(value)

    def env(self, name: str) -> Mapping[str, str]:
        return self.table(name, required=False).variables()

    def variables(self) -> Mapping[str, str]:
        """This table read as environment variables: names and string values."""
        result: dict[str, str] = {}
        for variable, value in self.raw.items():
            if not ENV_NAME.fullmatch(variable):
                raise self.error(
                    variable,
                    f"{variable!r} is not an environment variable name",
                    "use letters, digits and '_', not starting with a digit",
                )
            if not isinstance(value, str):
                raise self.error(
                    variable,
                    f"expected a string, got {type_name(value)} {value!r}",
                    f'quote it: {variable} = "{value}"',
                )
            self.text(variable, value)
            result[variable] = value
        return MappingProxyType(result)
