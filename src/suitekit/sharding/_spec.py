"""Which part of a suite a run takes: ``--shard K/N`` and ``SUITEKIT_SHARD``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from suitekit import _handoff, _layout
from suitekit._layout import split_of
from suitekit._model import Source, Sourced
from suitekit.errors import ConfigError

__all__ = ["ENV_SHARD", "SHARD_OPTION", "ShardSpec", "shard_from", "split_of"]

ENV_SHARD: Final = _handoff.ENV_SHARD
"""The environment variable that selects a shard when no ``--shard`` is given."""

SHARD_OPTION: Final = "--shard"
"""The option, to pytest or after ``--`` to a nox session, that selects a shard."""

_SPEC: Final = re.compile(r"^\s*(\d{1,4})\s*/\s*(\d{1,4})\s*$")
_FIX: Final = "write K/N with 1 <= K <= N, e.g. 2/4 for the second of four shards"


@dataclass(frozen=True, slots=True, kw_only=True)
class ShardSpec:
    """The ``index``-th of ``total`` shards of a suite (1-based, as CI matrices count).

    Raises:
        ValueError: ``index`` is not between 1 and ``total``.
    """

    index: int
    total: int

    def __post_init__(self) -> None:
        """Reject a shard that does not exist."""
        if not 1 <= self.index <= self.total:
            message = f"shard {self.index}/{self.total} does not exist: {_FIX}"
            raise ValueError(message)

    @classmethod
    def parse(cls, text: str, *, key: str) -> ShardSpec:
        """Read ``K/N``; ``key`` names where the text came from in the error.

        Raises:
            ConfigError: The text is not ``K/N`` with ``1 <= K <= N``.
        """
        match = _SPEC.match(text)
        if match is None or not 1 <= int(match[1]) <= int(match[2]):
            problem = f"{text!r} is not a shard"
            raise ConfigError(file=None, key=key, value=text, problem=problem, fix=_FIX)
        return cls(index=int(match[1]), total=int(match[2]))

    def __str__(self) -> str:
        """``K/N``, as it is written on the command line."""
        return f"{self.index}/{self.total}"

    @property
    def slug(self) -> str:
        """A file-name-safe form, ``shard-K-of-N``: JUnit files of shards get it."""
        return _layout.shard_slug(self.index, self.total)


def shard_from(args: Sequence[str], environ: Mapping[str, str]) -> Sourced[ShardSpec] | None:
    """The shard a command line (``--shard K/N``) or ``SUITEKIT_SHARD`` selects, if any.

    The command line wins over the environment, and its last ``--shard`` over earlier ones.
    ``None`` means the whole suite.

    Raises:
        ConfigError: The value is not ``K/N``, or ``--shard`` ends the command line.
    """
    given: str | None = None
    for position, arg in enumerate(args):
        if arg == SHARD_OPTION:
            if position + 1 == len(args):
                problem = f"{SHARD_OPTION} needs a value"
                raise ConfigError(file=None, key=SHARD_OPTION, problem=problem, fix=_FIX)
            given = args[position + 1]
        elif arg.startswith(SHARD_OPTION + "="):
            given = arg.partition("=")[2]
    if given is not None:
        spec = ShardSpec.parse(given, key=SHARD_OPTION)
        return Sourced(value=spec, source=Source.CLI, origin=SHARD_OPTION)
    if raw := environ.get(ENV_SHARD, "").strip():
        spec = ShardSpec.parse(raw, key=f"environment variable {ENV_SHARD}")
        return Sourced(value=spec, source=Source.ENV, origin=ENV_SHARD)
    return None
