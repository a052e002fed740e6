"""``runner = "command"``: any command that writes a JUnit file, by placeholders.

``run = "make test JUNIT={junit} SHARD={shard} JOBS={workers}"``: suitekit fills ``{junit}``,
``{workers}`` and ``{shard}`` (``K/N``; empty for the whole suite), then splits the line like a
shell would, without a shell. A command's test files cannot be listed, so such a suite is split
only by the command itself, through ``{shard}``. Nor can suitekit make it retry a failed test
(its ``retry_args`` is the default ``None``): that is the command's own business.
"""

from __future__ import annotations

import shlex
import string
from typing import Final, final

from suitekit._model import RunnerConfig
from suitekit.runners._protocol import Invocation, RunnerDefaults

__all__ = ["COMMAND", "CommandRunner"]


@final
class CommandRunner(RunnerDefaults):
    """See the module's docstring (its tests cannot be listed: suitekit never splits it)."""

    name = "command"

    def command(self, config: RunnerConfig, call: Invocation) -> tuple[str, ...]:
        """``run`` with its placeholders filled, and the user's arguments after it."""
        shard = f"{call.shard.index}/{call.shard.total}" if call.shard is not None else ""
        values = {"junit": str(call.junit), "workers": str(call.workers), "shard": shard}
        words = [string.Formatter().vformat(word, (), values) for word in shlex.split(config.run)]
        return (*words, *call.posargs)


COMMAND: Final = CommandRunner()
