"""``runner = "vitest"``: Vitest, with its JUnit reporter, its worker cap and its shards.

The suite's ``paths`` are Vitest's filters, relative to ``cwd``. A split by recorded durations
passes the shard's files as absolute paths. Vitest keeps a file when its path starts with an
absolute filter, or when its path (lower-cased) contains the filter's path relative to the
root: ``src/a.test.ts`` also selects ``src/a.test.tsx`` and ``lib/src/a.test.ts``. Where a
shard's filters would select another shard's file (:meth:`VitestRunner.overlaps`), the split
is not used and Vitest's own ``--shard`` splits instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Final, final

from suitekit._model import RunnerConfig
from suitekit.runners._protocol import (
    Invocation,
    RunnerDefaults,
    launcher,
    own_retries,
    own_shard,
    relative,
)

__all__ = ["VITEST", "VitestRunner"]

_LAUNCHER: Final = ("npx", "--no-install", "vitest")
"""Vitest from the folder's own node_modules; never a download by npx."""


@final
class VitestRunner(RunnerDefaults):
    """See the module's docstring."""

    name = "vitest"
    # Vitest imports, transforms and isolates each file in a worker before its first test:
    # about 0.1-0.2 s a file at one worker on this project's benchmark machine (2 CPUs), which
    # its JUnit times leave out (benchmarks/bench_frontend_shards.py).
    file_seconds = 0.15
    tools: tuple[str, ...] = ("node",)
    lock_files = ("package-lock.json", "npm-shrinkwrap.json", "package.json")
    install_marker = "node_modules/.suitekit-install"

    def install_command(self, present: Sequence[str]) -> tuple[str, ...] | None:
        """``npm ci`` with a lock file (exactly what it pins), else ``npm install``."""
        quiet = ("--no-audit", "--no-fund")
        if {"package-lock.json", "npm-shrinkwrap.json"} & set(present):
            return ("npm", "ci", *quiet)
        return ("npm", "install", *quiet) if "package.json" in present else None

    def command(self, config: RunnerConfig, call: Invocation) -> tuple[str, ...]:
        """``vitest run``: JUnit and the terminal's reporter, ``--maxWorkers``, ``--retry``."""
        argv = [*launcher(config, _LAUNCHER), "run"]
        argv += call.files if call.files is not None else call.paths
        argv += [
            "--reporter=default",
            "--reporter=junit",
            f"--outputFile.junit={call.junit}",
            f"--maxWorkers={max(call.workers, 1)}",
        ]
        return (*argv, *own_shard(call), *own_retries(self, call), *call.posargs)

    def retry_args(self, retries: int) -> tuple[str, ...] | None:
        """``--retry=N``: its JUnit report shows a test that passed on a retry as passed."""
        return (f"--retry={retries}",)

    def shuffle_args(self, seed: int) -> tuple[str, ...] | None:
        """``--sequence.shuffle --sequence.seed=N``: its files and the tests in each file.

        The same seed gives the same order of the tests in each file, whatever the worker
        count (checked with 4.1). Vitest refuses an option given twice (``--retry`` too).
        """
        return ("--sequence.shuffle", f"--sequence.seed={seed}")

    def list_command(
        self, config: RunnerConfig, paths: Sequence[str], output: Path
    ) -> tuple[str, ...] | None:
        """``vitest list --filesOnly --json <output>``."""
        return (*launcher(config, _LAUNCHER), "list", "--filesOnly", "--json", str(output), *paths)

    def read_list(self, text: str) -> tuple[str, ...]:
        """The ``file`` of each entry of the JSON array Vitest wrote."""
        entries = json.loads(text)
        if not isinstance(entries, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("file"), str) for entry in entries
        ):
            message = 'expected a JSON array of {"file": ...} objects'
            raise ValueError(message)
        return tuple(sorted({entry["file"] for entry in entries}))

    def overlaps(self, chosen: Sequence[str], others: Sequence[str], root: Path) -> str | None:
        """The first of ``others`` that Vitest's filter matching would select with ``chosen``."""
        for path in chosen:
            absolute, within = path.lower(), relative(path, root).lower()
            for other in others:
                folded = other.lower()
                if other.startswith(path) or absolute in folded or within in folded:
                    return other
        return None


VITEST: Final = VitestRunner()
