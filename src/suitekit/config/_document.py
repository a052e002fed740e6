"""Reading pyproject.toml safely: a regular UTF-8 file of bounded size and nesting.

Layer 0 of :mod:`suitekit.config`: whatever is wrong with the file itself (a folder, a pipe, a
device, too large, not UTF-8, not TOML, nested too deeply) becomes a
:class:`~suitekit.errors.ConfigError` on the key ``(file)`` before any table is read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from suitekit.errors import ConfigError

__all__ = ["MAX_CONFIG_BYTES", "MAX_NESTING", "READ_TABLES", "check_nesting", "read_document"]

MAX_CONFIG_BYTES: Final = 10 * 1024 * 1024
"""The largest pyproject.toml suitekit reads: real ones hold a few kilobytes, so a larger file
is a mistake (or something that never ends), and reading it whole would only use up memory."""

READ_TABLES: Final = ("project", "dependency-groups")
"""The tables besides ``[tool.suitekit]`` that validation reads."""

MAX_NESTING: Final = 16
"""How deeply arrays and tables may nest in what suitekit reads (its deepest key, an
``include-group`` of an install of a check, is 7 levels down)."""

_MAX_INT_BITS: Final = 4096  # 1234 decimal digits; str() refuses from 4300 (sys.int_info)


def read_document(config_file: Path) -> dict[str, Any]:
    """The parsed TOML of ``config_file``, every way of failing a :class:`ConfigError`."""
    # Imported here: it is a third of this package's import time, and the pytest plugin imports
    # this package in every pytest run, including those of projects without [tool.suitekit].
    import tomllib  # noqa: PLC0415

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
        raise _unreadable(
            config_file, error, "check that the file exists and is readable"
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
        raise _unreadable(config_file, error, "check that the file is readable") from None
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


def _unreadable(config_file: Path, error: OSError, fix: str) -> ConfigError:
    """The error for a config file that the system refused to open or read."""
    problem = f"cannot be read: {error.strerror}"
    return ConfigError(file=config_file, key="(file)", problem=problem, fix=fix)


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((kind for test, kind in kinds if test(mode)), "an unknown kind of file")


def check_nesting(file: Path, key: str, value: object) -> None:
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
