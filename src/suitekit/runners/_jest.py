"""``runner = "jest"``: Jest, with the ``jest-junit`` reporter, its worker cap and its shards.

Jest is installed as Vitest is (``npm ci`` in ``cwd`` when the lock file changed) and started
with ``npx --no-install jest``: the default reporter for the terminal and ``jest-junit`` (which
the project pins beside Jest) for the suite's report, ``--ci``, ``--maxWorkers`` and, without a
split by durations, its own ``--shard=K/N`` (Jest 28 and newer).

``jest-junit`` takes its settings from variables, which win over its reporter options and the
``"jest-junit"`` key of ``package.json`` (checked with 17.0): ``JEST_JUNIT_OUTPUT_FILE`` is the
report's full path (over ``..._OUTPUT_DIR`` and ``..._OUTPUT_NAME``), and
``JEST_JUNIT_CLASSNAME="{filepath}"`` makes each case's ``classname`` its test file, relative
to the folder Jest runs in (``jest-junit`` takes the path relative to its process's working
directory, which is ``cwd``): the unit the durations store and the split count by. A file that
fails to load is reported as an error (``JEST_JUNIT_REPORT_TEST_SUITE_ERRORS``), not dropped.

A split by recorded durations deals out whole test files, listed by ``jest --listTests --json``
(absolute paths, on its standard output). The shard's files are passed with
``--runTestsByPath``, which runs exactly the files named: without it Jest reads each argument
as a case-insensitive regular expression searched in the files' paths (``src/a.test.js`` would
also select ``src/a.test.jsx``), and a shard would run another shard's files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, final

from suitekit._model import RunnerConfig
from suitekit.runners._protocol import Invocation, RunnerDefaults, launcher, own_shard
from suitekit.runners._vitest import VITEST

__all__ = ["JEST", "JUNIT_FILE_VARIABLE", "JestRunner"]

_LAUNCHER: Final = ("npx", "--no-install", "jest")
"""Jest from the folder's own node_modules; never a download by npx."""
JUNIT_FILE_VARIABLE: Final = "JEST_JUNIT_OUTPUT_FILE"
"""Where ``jest-junit`` writes (a full path; checked with jest-junit 17.0)."""
_JUNIT_SETTINGS: Final = {
    # The case's classname: its file relative to the working directory (Jest's cwd).
    "JEST_JUNIT_CLASSNAME": "{filepath}",
    # A file that cannot load has no cases; reported, it is an error in the report.
    "JEST_JUNIT_REPORT_TEST_SUITE_ERRORS": "true",
}


@final
class JestRunner(RunnerDefaults):
    """See the module's docstring."""

    name = "jest"
    # Jest gives each file a fresh module registry and VM context and transforms it (cached):
    # about 0.04-0.065 s a file at one worker beyond its tests' own times, measured with 1 and
    # 41 one-test files (Jest 30.5, 2 CPUs). A file that imports much costs more.
    file_seconds = 0.05
    lists_to_stdout = True
    tools: tuple[str, ...] = ("node",)
    lock_files = VITEST.lock_files
    install_marker = VITEST.install_marker

    def install_command(self, present: Sequence[str]) -> tuple[str, ...] | None:
        """As for Vitest: ``npm ci`` with a lock file, else ``npm install``."""
        return VITEST.install_command(present)

    def env(self, call: Invocation) -> Mapping[str, str]:
        """Where ``jest-junit`` writes, and its classname: the test file."""
        return {JUNIT_FILE_VARIABLE: str(call.junit), **_JUNIT_SETTINGS}

    def command(self, config: RunnerConfig, call: Invocation) -> tuple[str, ...]:
        """``jest <paths> --ci``: ``jest-junit``, ``--maxWorkers``, ``--shard``.

        A split's files go with ``--runTestsByPath``: exactly those files run.
        """
        argv = [*launcher(config, _LAUNCHER)]
        if call.files is not None:
            argv += [*call.files, "--runTestsByPath"]
        else:
            argv += call.paths
        argv += [
            "--ci",
            f"--maxWorkers={max(call.workers, 1)}",
            "--reporters=default",
            "--reporters=jest-junit",
        ]
        shard = own_shard(call)
        # Jest's own shard of a suite with fewer files than shards gets none, and Jest fails a
        # run that finds no test: such a shard is empty, not failed (as Vitest's is).
        empty_ok = ["--passWithNoTests"] if shard else []
        return (*argv, *shard, *empty_ok, *call.posargs)

    def retry_args(self, retries: int) -> tuple[str, ...] | None:
        """None: Jest's retries are ``jest.retryTimes(N)`` in the tests, not an option."""
        del retries
        return None

    def shuffle_args(self, seed: int) -> tuple[str, ...] | None:
        """``--randomize --seed=N``: the tests in each file (Jest 30 shuffles no file order).

        Jest takes a seed from ``-0x80000000`` to ``0x7fffffff`` and prints it (``Seed:``).
        """
        return ("--randomize", f"--seed={seed}")

    def list_command(
        self, config: RunnerConfig, paths: Sequence[str], output: Path
    ) -> tuple[str, ...] | None:
        """``jest --listTests --json <paths>`` (on its standard output)."""
        del output
        return (*launcher(config, _LAUNCHER), "--listTests", "--json", *paths)

    def read_list(self, text: str) -> tuple[str, ...]:
        """The files of the JSON array of absolute paths that ``--listTests --json`` prints."""
        files = json.loads(text)
        if not isinstance(files, list) or not all(isinstance(file, str) for file in files):
            message = "expected a JSON array of test file paths"
            raise ValueError(message)
        return tuple(sorted(set(files)))


JEST: Final = JestRunner()
