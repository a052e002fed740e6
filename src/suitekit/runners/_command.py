"""``runner = "command"``: any command that writes a JUnit file, by placeholders.

``run = "make test JUNIT={junit} SHARD={shard} JOBS={workers}"``: suitekit fills ``{junit}``,
``{workers}`` and ``{shard}`` (``K/N``; empty for the whole suite), then splits the line like a
shell would, without a shell. A command's test files cannot be listed, so such a suite is split
only by the command itself, through ``{shard}``.
"""

from __future__ import annotations

import shlex
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, final

from suitekit._model import RunnerConfig
from suitekit.runners._protocol import Invocation

__all__ = ["COMMAND", "FIELDS", "CommandRunner"]

FIELDS: Final = ("junit", "workers", "shard")
"""The placeholders ``run`` may use."""


@final
class CommandRunner:
    """See the module's docstring."""

    name = "command"
    lists_to_stdout = False
    takes_paths = True
    packages: tuple[str, ...] = ()
    file_seconds = 0.0
    tools: tuple[str, ...] = ()
    lock_files: tuple[str, ...] = ()
    install_marker = ""

    def install_command(self, present: Sequence[str]) -> tuple[str, ...] | None:
        """None: a command installs what it needs itself."""
        del present
        return None

    def files(self, call: Invocation) -> Mapping[Path, str]:
        """None: its options say everything."""
        del call
        return {}

    def command(self, config: RunnerConfig, call: Invocation) -> tuple[str, ...]:
        """``run`` with its placeholders filled, and the user's arguments after it."""
        shard = f"{call.shard.index}/{call.shard.total}" if call.shard is not None else ""
        values = {"junit": str(call.junit), "workers": str(call.workers), "shard": shard}
        words = [string.Formatter().vformat(word, (), values) for word in shlex.split(config.run)]
        return (*words, *call.posargs)

    def list_command(
        self, config: RunnerConfig, paths: Sequence[str], output: Path
    ) -> tuple[str, ...] | None:
        """None: a command's tests cannot be listed."""
        del config, paths, output
        return None

    def read_list(self, text: str) -> tuple[str, ...]:
        """Never asked (see :meth:`list_command`)."""
        del text
        return ()

    def unit_of(self, classname: str) -> str:
        """The classname itself."""
        return classname

    def overlaps(self, chosen: Sequence[str], others: Sequence[str], root: Path) -> str | None:
        """Never asked: a command is never split by suitekit."""
        del chosen, others, root
        return None


COMMAND: Final = CommandRunner()
