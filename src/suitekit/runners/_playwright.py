"""``runner = "playwright"``: ``@playwright/test``, with its JUnit reporter, workers and shards.

Playwright is installed as Vitest is (``npm ci`` in ``cwd`` when the lock file changed) and
started with ``npx --no-install playwright test``: the list reporter for the terminal, the
JUnit reporter into the suite's report (its file named by ``PLAYWRIGHT_JUNIT_OUTPUT_FILE``,
which Playwright's reporters read as ``PLAYWRIGHT_<REPORTER>_OUTPUT_FILE``; ``..._OUTPUT_NAME``
would be a name inside its output folder), ``--workers`` and, without a split by durations,
its own ``--shard=K/N``.

A split by recorded durations deals out whole spec files. Playwright's JUnit ``classname`` is
the spec file relative to the project's ``testDir`` (``checkout.spec.ts``), and so are the
files of its JSON listing (``playwright test --list --reporter=json``: ``suites[].file``,
relative to ``config.rootDir``, which is that ``testDir``): the listing says the folder the
units are relative to (:meth:`PlaywrightRunner.units_root`). The shard's files are passed back
as absolute paths; Playwright takes each argument as a regular expression (case-insensitive)
searched in a file's absolute path, so a split is used only when no shard's filters would also
select another shard's file (:meth:`PlaywrightRunner.overlaps`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, final

from suitekit._model import RunnerConfig
from suitekit.runners._protocol import (
    Invocation,
    RunnerDefaults,
    launcher,
    own_retries,
    own_shard,
)
from suitekit.runners._vitest import VITEST

__all__ = ["JUNIT_FILE_VARIABLE", "PLAYWRIGHT", "PlaywrightRunner"]

_LAUNCHER: Final = ("npx", "--no-install", "playwright")
"""Playwright from the folder's own node_modules; never a download by npx."""
JUNIT_FILE_VARIABLE: Final = "PLAYWRIGHT_JUNIT_OUTPUT_FILE"
"""Where Playwright's JUnit reporter writes (an absolute path; checked with 1.65)."""
_JUNIT_RETRIES_VARIABLE: Final = "PLAYWRIGHT_JUNIT_INCLUDE_RETRIES"
"""With it, the JUnit reporter writes a retried test's failed attempts as Surefire's
``<flakyFailure>`` / ``<rerunFailure>`` (checked with 1.65), which the merged report counts."""
_REGEX_LITERAL: Final = re.compile(r"^/(.*)/([gi]*)$")  # how Playwright tells a /regex/ filter


@final
class PlaywrightRunner(RunnerDefaults):
    """See the module's docstring."""

    name = "playwright"
    # A spec file costs a worker its import and, per test, a fresh browser context: about
    # 0.2 s a file beyond its tests' own times with the system's Chromium (2 CPUs).
    file_seconds = 0.2
    lists_to_stdout = True
    tools: tuple[str, ...] = ("node", "chromium")
    lock_files = VITEST.lock_files
    install_marker = VITEST.install_marker

    def install_command(self, present: Sequence[str]) -> tuple[str, ...] | None:
        """As for Vitest: ``npm ci`` with a lock file, else ``npm install``.

        Playwright's npm packages download no browser; suitekit never runs
        ``playwright install`` (the project's config points Chromium at the system's).
        """
        return VITEST.install_command(present)

    def env(self, call: Invocation) -> Mapping[str, str]:
        """The JUnit reporter's output file; with retries, its failed attempts in it too.

        Only with the suite's ``retries``: the option also changes how a failure that was
        never retried is written (its first attempt's error, not the test's).
        """
        env = {JUNIT_FILE_VARIABLE: str(call.junit)}
        if call.retries:
            env[_JUNIT_RETRIES_VARIABLE] = "1"
        return env

    def command(self, config: RunnerConfig, call: Invocation) -> tuple[str, ...]:
        """``playwright test``: list and JUnit reporters, workers, shard and retries."""
        argv = [*launcher(config, _LAUNCHER), "test"]
        argv += call.files if call.files is not None else call.paths
        options = ["--reporter=list,junit", f"--workers={max(call.workers, 1)}"]
        # Its test-results folder is emptied at each start: one per session and shard, beside
        # the JUnit reports, so that two sessions at once (two Pythons, two shards) keep theirs.
        options.append(f"--output={call.junit.parent.parent / 'playwright' / call.junit.stem}")
        return (*argv, *options, *own_shard(call), *own_retries(self, call), *call.posargs)

    def retry_args(self, retries: int) -> tuple[str, ...] | None:
        """``--retries=N`` (over the config's ``retries``)."""
        return (f"--retries={retries}",)

    def list_command(
        self, config: RunnerConfig, paths: Sequence[str], output: Path
    ) -> tuple[str, ...] | None:
        """``playwright test --list --reporter=json`` (on its standard output)."""
        del output
        return (*launcher(config, _LAUNCHER), "test", "--list", "--reporter=json", *paths)

    def read_list(self, text: str) -> tuple[str, ...]:
        """The spec files (absolute) of the JSON report of a ``--list`` run."""
        root, files = _listing(text)
        return tuple(sorted({str(root / file) for file in files}))

    def units_root(self, listed: str, cwd: Path) -> Path:
        """``config.rootDir`` of the listing: the ``testDir`` JUnit classnames are relative to."""
        try:
            return _listing(listed)[0]
        except ValueError:
            return cwd

    def overlaps(self, chosen: Sequence[str], others: Sequence[str], root: Path) -> str | None:
        """The first of ``others`` that a filter of ``chosen``, as Playwright reads it, selects."""
        del root
        for path in chosen:
            pattern = _filter(path)
            for other in others:
                if pattern.search(other):
                    return other
        return None


def _listing(text: str) -> tuple[Path, tuple[str, ...]]:
    """The root folder and the spec files (relative to it) of a ``--list`` JSON report."""
    report = json.loads(text)
    config = report.get("config") if isinstance(report, dict) else None
    suites = report.get("suites") if isinstance(report, dict) else None
    root = config.get("rootDir") if isinstance(config, dict) else None
    if not isinstance(root, str) or not isinstance(suites, list):
        message = 'expected Playwright\'s JSON report, with "config.rootDir" and "suites"'
        raise ValueError(message)  # noqa: TRY004 - the text is what is wrong, not a type
    files = tuple(
        suite["file"]
        for suite in suites
        if isinstance(suite, dict) and isinstance(suite.get("file"), str)
    )
    return Path(root), files


def _filter(argument: str) -> re.Pattern[str]:
    """A file filter as ``playwright test`` compiles it (its ``forceRegExp``).

    A case-insensitive regular expression, or the expression of a ``/.../`` literal.
    """
    literal = _REGEX_LITERAL.match(argument)
    try:
        if literal is not None:
            flags = re.IGNORECASE if "i" in literal[2] else 0
            return re.compile(literal[1], flags)
        return re.compile(argument, re.IGNORECASE)
    except re.error:
        # What Python cannot compile may still be a JavaScript expression: match it as text.
        return re.compile(re.escape(argument), re.IGNORECASE)


PLAYWRIGHT: Final = PlaywrightRunner()
