"""What suitekit needs of a test runner other than pytest: the :class:`Runner` protocol.

One module per runner implements it (:mod:`suitekit.runners._vitest`,
:mod:`suitekit.runners._command`), as pytest-xdist puts one scheduler per module. Everything
here is pure: a runner turns a suite's settings and one run's figures into command lines; the
nox adapter runs them.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from suitekit._model import RunnerConfig

if TYPE_CHECKING:
    from suitekit.sharding import ShardSpec

__all__ = [
    "Invocation",
    "Runner",
    "RunnerDefaults",
    "launcher",
    "own_retries",
    "own_shard",
    "relative",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Invocation:
    """One run of a suite's runner.

    Attributes:
        paths: The suite's ``paths``, relative to the runner's folder (filters of its tests).
        junit: The JUnit file to write (absolute).
        workers: How many tests run at once (1: one at a time).
        shard: The part of the suite to run when the runner splits it itself (``--shard``).
        files: The test files to run (absolute), when suitekit split the suite by its
            recorded durations; ``None``: the runner selects by ``paths`` (and ``shard``).
        posargs: What the user passed after ``--``, appended as given.
        retries: How many times the runner runs a failed test again: the suite's
            ``retries``, or ``--suitekit-retries`` for one run (0 included: retries off);
            ``None``: suitekit passes no retry option, and the runner's own config decides.
    """

    paths: tuple[str, ...]
    junit: Path
    workers: int
    shard: ShardSpec | None = None
    files: tuple[str, ...] | None = None
    posargs: tuple[str, ...] = ()
    retries: int | None = None


class Runner(Protocol):
    """A test runner a suite may name in ``runner = "..."``."""

    @property
    def name(self) -> str:
        """Its name in ``runner = "..."``."""

    @property
    def takes_paths(self) -> bool:
        """Whether the suite's ``paths`` mean something to it (test files to filter by)."""

    @property
    def packages(self) -> tuple[str, ...]:
        """Python packages it needs in the suite's nox session (a runner shipped on PyPI)."""

    def files(self, call: Invocation) -> Mapping[Path, str]:
        """Files a run needs written first (its configuration), by path; removed after."""

    def env(self, call: Invocation) -> Mapping[str, str]:
        """Variables a run needs set (where Playwright's JUnit reporter writes)."""

    @property
    def file_seconds(self) -> float:
        """What one test file costs the runner beyond its tests' own times (JUnit's).

        The split by durations counts it for every file: a runner that loads, transforms and
        isolates each file spends that time outside any test.
        """

    @property
    def tools(self) -> tuple[str, ...]:
        """What a CI job must install before it runs (``node``), besides nox and suitekit."""

    @property
    def lock_files(self) -> tuple[str, ...]:
        """The files in its folder whose change means its dependencies must be installed."""

    @property
    def install_marker(self) -> str:
        """Where, in its folder, the fingerprint of the last install is kept ("": nowhere)."""

    def install_command(self, present: Sequence[str]) -> tuple[str, ...] | None:
        """How to install its dependencies, given which :attr:`lock_files` exist.

        ``None``: there is nothing to install.
        """

    def retry_args(self, retries: int) -> tuple[str, ...] | None:
        """The options that make it run a failed test up to ``retries`` more times.

        ``None``: it has no such option, and a suite of it refuses ``retries`` (the runner's
        name is then absent from ``suitekit._model.RETRYING_RUNNERS``).
        """

    def shuffle_args(self, seed: int) -> tuple[str, ...] | None:
        """The options that run its tests in an order shuffled by ``seed``, for ``suitekit flaky``.

        The same seed gives the same order. ``None``: it has no seeded order, and ``suitekit
        flaky`` refuses its suites.
        """

    @property
    def failure_codes(self) -> frozenset[int]:
        """The exit codes by which it says that tests failed, and nothing else went wrong.

        A run whose only failures are quarantined tests passes when the runner exited with
        one of these. Empty: the runner's exit codes say nothing so precise, and a suite of it
        cannot take quarantined tests.
        """

    def command(self, config: RunnerConfig, call: Invocation) -> tuple[str, ...]:
        """The command line of one run.

        Raises:
            ConfigError: The suite's ``run`` cannot be made into a command line.
        """

    def list_command(
        self, config: RunnerConfig, paths: Sequence[str], output: Path
    ) -> tuple[str, ...] | None:
        """A command that writes the suite's test files to ``output``; ``None``: cannot list.

        A suite whose files can be listed is split by recorded durations, file by file.
        """

    @property
    def lists_to_stdout(self) -> bool:
        """Whether :meth:`list_command` prints the list (else it writes it to its ``output``)."""

    def read_list(self, text: str) -> tuple[str, ...]:
        """The test files (absolute) in what :meth:`list_command` wrote.

        Raises:
            ValueError: The text is not such a list.
        """

    def unit_of(self, classname: str) -> str:
        """The file, relative to :meth:`units_root`, a JUnit ``classname`` belongs to."""

    def units_root(self, listed: str, cwd: Path) -> Path:
        """The folder the units of :meth:`unit_of` are relative to, given the listing.

        The runner's folder ``cwd`` for most; Playwright's classnames are relative to its
        ``testDir``, which its listing names.
        """

    def overlaps(self, chosen: Sequence[str], others: Sequence[str], root: Path) -> str | None:
        """A file of ``others`` that passing ``chosen`` as filters would also run, or ``None``.

        A split is passed as file filters; a runner that matches a filter as a part of a path
        would run another shard's file too, and the shards would no longer partition the suite.
        """


def relative(path: str, root: Path) -> str:
    """``path`` relative to ``root`` (with ``/``), or as given when it is not under it."""
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def launcher(config: RunnerConfig, default: tuple[str, ...]) -> tuple[str, ...]:
    """What starts the runner: the suite's ``run`` split as a shell would, else ``default``."""
    return tuple(shlex.split(config.run)) if config.run else default


def own_shard(call: Invocation) -> list[str]:
    """``--shard=K/N`` when the runner splits the suite itself (a shard and no files given)."""
    if call.shard is None or call.files is not None:
        return []
    return [f"--shard={call.shard.index}/{call.shard.total}"]


def own_retries(runner: Runner, call: Invocation) -> tuple[str, ...]:
    """The runner's retry options for ``call.retries``; none for ``None`` (its config decides).

    0 turns a runner's retries off (``--retry=0``, over a ``retry`` in its config); a runner
    with no retry option gets nothing for 0: there is nothing to turn off from its command line.

    Raises:
        ValueError: The runner cannot retry (config refuses ``retries`` on its suites).
    """
    if call.retries is None:
        return ()
    options = runner.retry_args(call.retries)
    if options is None:
        if not call.retries:
            return ()
        message = f"runner {runner.name!r} has no retry option"
        raise ValueError(message)
    return options


class RunnerDefaults:
    """What a runner that needs nothing special does: the defaults a runner module overrides.

    No install, no packages or tools, no files to write, its tests not listable (so never split
    by suitekit), a JUnit classname that is its unit, no retries.
    """

    takes_paths = True
    packages: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    lock_files: tuple[str, ...] = ()
    install_marker = ""
    lists_to_stdout = False
    file_seconds = 0.0
    failure_codes: frozenset[int] = frozenset()

    def install_command(self, present: Sequence[str]) -> tuple[str, ...] | None:
        """None: nothing to install."""
        del present
        return None

    def files(self, call: Invocation) -> Mapping[Path, str]:
        """None: its options say everything."""
        del call
        return {}

    def env(self, call: Invocation) -> Mapping[str, str]:
        """None: its options say everything."""
        del call
        return {}

    def retry_args(self, retries: int) -> tuple[str, ...] | None:
        """None: it has no retry option."""
        del retries
        return None

    def shuffle_args(self, seed: int) -> tuple[str, ...] | None:
        """None: it has no seeded order."""
        del seed
        return None

    def units_root(self, listed: str, cwd: Path) -> Path:
        """The runner's folder."""
        del listed
        return cwd

    def list_command(
        self, config: RunnerConfig, paths: Sequence[str], output: Path
    ) -> tuple[str, ...] | None:
        """None: its tests cannot be listed."""
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
        """None: a split it is given selects exactly what it names."""
        del chosen, others, root
        return None
