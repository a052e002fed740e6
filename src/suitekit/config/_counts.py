"""Worker counts and CPU budgets, validated the same way wherever they come from.

A count reaches suitekit from ``[tool.suitekit]`` (a TOML value), from the environment
(``SUITEKIT_WORKERS``, ``SUITEKIT_CPUS``) or from the command line (``--cpus``). Each kind is
checked by one function here, and the error it raises speaks the language of the place the
value came from: a key path and a TOML fix for pyproject.toml, the variable to set or unset for
the environment, the option to pass for the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, cast

from suitekit._model import MAX_WORKERS, Source, Workers
from suitekit.config._keys import did_you_mean, type_name
from suitekit.errors import ConfigError

__all__ = ["cpu_budget", "worker_count"]

_WORDS: Final = ("auto", "logical")
"""The worker counts given by name rather than by number."""

_TOML_FIX: Final = 'write workers = "auto", workers = 4, or workers = 0 to run without xdist'


def worker_count(
    value: object, *, source: Source, origin: str, file: Path | None = None
) -> Workers:
    """A worker count: ``"auto"``, ``"logical"`` or a whole number from 0 (no xdist) up.

    In pyproject.toml (``source`` is :attr:`Source.CONFIG`) a number is a TOML integer, so the
    string ``"4"`` is refused; in the environment and on the command line the value is text, and
    digits are the number. Either way the count is at most :data:`MAX_WORKERS`.

    Args:
        value: The value as its origin gives it (any TOML value, or text).
        source: Where it came from; decides how it is read and what the error says.
        origin: The key path, environment variable or option that gave it.
        file: The pyproject.toml, for a value read from one.

    Raises:
        ConfigError: ``value`` is no worker count; the message names its origin and the fix.
    """
    if isinstance(value, str) and value in _WORDS:
        return cast("Workers", value)
    if source is Source.CONFIG:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_WORKERS:
            return value
        problem, fix = _toml_fault(value)
    else:
        if isinstance(value, str) and (count := _whole(value, minimum=0)) is not None:
            return count
        problem = f"{value!r} is not a worker count from 0 to {MAX_WORKERS}"
        fix = f'use "auto", "logical", or a whole number up to {MAX_WORKERS} (0: without xdist)'
    raise ConfigError(file=file, key=_key(source, origin), value=value, problem=problem, fix=fix)


def cpu_budget(value: str | int, *, source: Source, origin: str) -> int:
    """A CPU budget from 1 to :data:`MAX_WORKERS`: text from the environment, an int from an option.

    Raises:
        ConfigError: ``value`` is no CPU count; the fix says how to set or pass one.
    """
    count = _whole(value, minimum=1)
    if count is not None:
        return count
    if source is Source.ENV:
        fix = f"set {origin} to a whole number from 1 to {MAX_WORKERS}, or unset it"
    else:
        fix = f"pass {origin} a whole number from 1 to {MAX_WORKERS}, or leave it out"
    raise ConfigError(
        file=None,
        key=_key(source, origin),
        value=value,
        problem=f"{value!r} is not a CPU count from 1 to {MAX_WORKERS}",
        fix=fix,
    )


def _toml_fault(value: object) -> tuple[str, str]:
    """What is wrong with a TOML ``workers`` value that is no worker count, and the fix."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return f'expected "auto", "logical" or an integer, got {type_name(value)}', _TOML_FIX
    if isinstance(value, str):
        return f"{value!r} is not a worker count{did_you_mean(value, _WORDS)}", _TOML_FIX
    if value < 0:
        return f"{value} is negative", "use 0 to run without xdist, or a positive worker count"
    return (
        f"{value} workers is more than suitekit starts (at most {MAX_WORKERS})",
        f'write a count of at most {MAX_WORKERS}, or workers = "auto" to fit the machine',
    )


def _whole(value: str | int, *, minimum: int) -> int | None:
    """``value`` as a whole number from ``minimum`` to :data:`MAX_WORKERS`, or ``None``.

    Text is checked for ASCII digits and for its length before it is converted: a superscript
    digit is refused, and a string of thousands of digits without Python's own error for
    converting it.
    """
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit() and len(value) <= len(str(MAX_WORKERS))):
            return None
        value = int(value)
    if isinstance(value, bool) or not minimum <= value <= MAX_WORKERS:
        return None
    return value


def _key(source: Source, origin: str) -> str:
    """How an error names the origin of a value: an environment variable says it is one."""
    return f"environment variable {origin}" if source is Source.ENV else origin
