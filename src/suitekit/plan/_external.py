"""What one suite session of another runner (Vitest, a command) does, decided before it runs.

The counterpart of :mod:`suitekit.plan._suite_session` for ``runner != "pytest"``: the runner's
folder, its variables, its worker count and shard, the JUnit file, the stale reports to
remove first, and a Playwright suite's backends (one per worker, see :class:`Backends`). The
nox adapter runs the install, the listing (for a split by durations), the backends and the
runner.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

from suitekit import _handoff
from suitekit._model import Project, Suite, UserService
from suitekit.config import MAX_RETRIES
from suitekit.errors import ConfigError
from suitekit.plan._sessions import junit_path, session_name
from suitekit.plan._suite import suite_env
from suitekit.plan._suite_session import Sweep, reports_sweep, requested
from suitekit.plan._workers import resolve_workers

if TYPE_CHECKING:
    from suitekit.runners import Invocation, Runner
    from suitekit.sharding import Measurement, ShardSpec

__all__ = ["BACKEND_URL_PREFIX", "Backends", "ExternalSession", "Split", "external_session"]

BACKEND_URL_PREFIX: Final = f"{_handoff.ENV_BACKEND_URL}_"
"""``SUITEKIT_BACKEND_URL_<i>``: the URL of Playwright worker ``i``'s own backend."""
_PLAIN_PATH: Final = re.compile(r"[\w./-]+")
"""A path that, read as a regular expression, matches itself (and ``.`` any one character)."""
BACKEND_WORKER_PREFIX: Final = "pw"
"""The worker ids of the backends (``pw0``, ``pw1``, ...), as pytest's are ``gw0``, ``gw1``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Backends:
    """The copies of a Playwright suite's ``backend`` a run starts: one per Playwright worker.

    Playwright gives each of its workers a parallel index, ``TEST_PARALLEL_INDEX``, from 0 to
    ``workers - 1`` (a worker started again after a failure keeps its index); copy ``i`` of
    the backend serves the worker of index ``i``, which finds its URL in
    ``SUITEKIT_BACKEND_URL_<i>``. Each copy is a worker of suitekit's isolation (``pw<i>``):
    its own database cloned from the run's template, Redis database, folders and ports, as a
    pytest worker gets them.

    Attributes:
        service: The backend: its command, readiness check, variables, timeout.
        workers: The copies' worker ids, in index order.
        run_id: The run's id (the environment's, suffixed with ``-py<python>``, as for a
            pytest suite), or ``None``: a new one.
    """

    service: UserService
    workers: tuple[str, ...]
    run_id: str | None

    def variable(self, index: int) -> str:
        """The variable that gives Playwright worker ``index`` its backend's URL."""
        return f"{BACKEND_URL_PREFIX}{index}"

    def url(self, host: str, port: int) -> str:
        """The URL of a copy that listens on ``host:port``."""
        return f"http://{host}:{port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Split:
    """A shard's files as suitekit split them, or why the runner's own ``--shard`` splits.

    Attributes:
        files: The shard's files (absolute; empty when it got none), or ``None``.
        why: Said in the session's log.
    """

    files: tuple[str, ...] | None
    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalSession:
    """Everything one session of a suite of another runner runs, decided up front.

    Attributes:
        runner: The runner.
        suite: The suite.
        cwd: The runner's folder (absolute).
        env: The variables the runner gets, before the services' own.
        call: The run, without a split by durations (see :meth:`command`).
        sweeps: The stale reports to remove first.
        records_durations: Whether the durations store learns the run's timings.
        backends: The backends to start before the runner (a Playwright suite's
            ``backend``), or ``None``.
    """

    runner: Runner
    suite: Suite
    cwd: Path
    env: Mapping[str, str]
    call: Invocation
    sweeps: tuple[Sweep, ...]
    records_durations: bool
    backends: Backends | None = None

    @property
    def junit(self) -> Path:
        """The JUnit file the run writes."""
        return self.call.junit

    @property
    def shard(self) -> ShardSpec | None:
        """The part of the suite the run takes, or ``None`` for the whole suite."""
        return self.call.shard

    def splits(self, stored: Mapping[str, Measurement]) -> bool:
        """Whether suitekit splits this run: a shard, with durations recorded for the suite.

        Without a record there is nothing to balance on, and the runner's own ``--shard``
        splits; the whole suite runs by its ``paths``.
        """
        return self.call.shard is not None and bool(stored)

    def list_command(self, output: Path) -> tuple[str, ...] | None:
        """The command listing the suite's files into ``output``; ``None``: it cannot list."""
        return self.runner.list_command(self.suite.runner, self.call.paths, output)

    def whole_list_command(self, output: Path) -> tuple[str, ...] | None:
        """The command listing every test file the runner finds in its folder, by no filter."""
        return self.runner.list_command(self.suite.runner, (), output)

    def listed_units(self, listed: str, root: Path) -> tuple[str, ...]:
        """The suite's units in a listing, relative to the project ``root``, sorted.

        A test file as a path (``web/src/cart.test.js``); a cargo test binary, which is no
        file, as its id in the crate's folder (``isbn/isbn::slow``).

        Raises:
            ValueError: ``listed`` is not what the runner writes.
        """
        folder = self.cwd.relative_to(root).as_posix() if self.cwd.is_relative_to(root) else ""
        units: set[str] = set()
        for unit in self.runner.read_list(listed):
            # Normalised: Playwright names a spec outside its testDir as rootDir/../x.spec.ts.
            path = Path(os.path.normpath(unit))
            if path.is_absolute():
                units.add(path.relative_to(root).as_posix() if path.is_relative_to(root) else unit)
            else:
                units.add(f"{folder}/{unit}" if folder not in ("", ".") else unit)
        return tuple(sorted(units))

    def paths_select_all(self, units: Sequence[str], root: Path) -> bool:
        """Whether the suite's ``paths`` surely select every one of ``units`` (from the root).

        True when each unit lies under one of the paths: a runner keeps a file whose path
        contains a filter (Vitest), or matches it as a regular expression (Jest, Playwright),
        and a plain path (letters, digits, ``_``, ``-``, ``.``, ``/``) matches itself. A unit
        outside every path may still be selected (``src`` also selects ``lib/src/x.test.js``):
        then only the runner's own listing says.
        """
        if not self.suite.paths or not all(_PLAIN_PATH.fullmatch(p) for p in self.suite.paths):
            return not self.suite.paths
        prefixes = [(self.cwd / path).resolve() for path in self.suite.paths]
        return all(
            any((root / unit).resolve().is_relative_to(prefix) for prefix in prefixes)
            for unit in units
        )

    def split(self, listed: str, stored: Mapping[str, Measurement]) -> Split:
        """This shard's files from what :meth:`list_command` wrote, split by durations.

        Raises:
            ValueError: ``listed`` is not what the runner writes.
        """
        from suitekit.runners import split_files  # noqa: PLC0415 - only a shard splits

        shard = self.call.shard
        if shard is None:
            return Split(files=None, why="the whole suite runs")
        every = self.runner.read_list(listed)
        parts = split_files(
            every,
            root=self.runner.units_root(listed, self.cwd),
            count=shard.total,
            stored=stored,
            unit_of=self.runner.unit_of,
            file_seconds=self.runner.file_seconds,
        )
        if parts is None:
            return Split(files=None, why="no test file has recorded durations")
        for index, part in enumerate(parts, start=1):
            others = [path for path in every if path not in part]
            if (other := self.runner.overlaps(part, others, self.cwd)) is not None:
                why = (
                    f"shard {index}'s files, passed as filters, would also select {other}, "
                    "which another shard runs"
                )
                return Split(files=None, why=why)
        return Split(files=parts[shard.index - 1], why="split by recorded durations")

    def install(
        self, locks: Mapping[str, bytes], marker: str, *, forced: bool
    ) -> tuple[tuple[str, ...], str] | None:
        """The runner's install command and the fingerprint to record, when one is due.

        Due when the fingerprint of the command and the lock files' contents differs from the
        one the last install left in the runner's install marker (``marker``: its text), or
        when ``forced`` (``SUITEKIT_REINSTALL=1``). ``None``: nothing to install.
        """
        command = self.runner.install_command(sorted(locks))
        if command is None:
            return None
        wanted = install_fingerprint(command, locks)
        if marker.strip() == wanted and not forced:
            return None
        return command, wanted

    def files_to_write(self) -> Mapping[Path, str]:
        """What the runner needs written before it runs (nextest's config), by path."""
        return self.runner.files(self.call)

    def command(self, files: Sequence[str] | None = None) -> tuple[str, ...]:
        """The runner's command line: this shard's ``files`` when a split gave them."""
        call = self.call if files is None else replace(self.call, files=tuple(files))
        return self.runner.command(self.suite.runner, call)


def install_fingerprint(command: Sequence[str], locks: Mapping[str, bytes]) -> str:
    """What a runner's install marker holds after ``command`` installed from ``locks``.

    The lock files' names and contents, and the command: another lock file, or another
    command, is another install.
    """
    digest = hashlib.sha256(" ".join(command).encode())
    for name in sorted(locks):
        digest.update(b"\0" + name.encode() + b"\0" + locks[name])
    return digest.hexdigest()


def external_session(
    project: Project,
    suite: Suite,
    *,
    python: str,
    posargs: Sequence[str],
    environ: Mapping[str, str],
) -> ExternalSession:
    """Decide what a session of ``suite`` (whose runner is not pytest) runs.

    Its worker count is the suite's, resolved as a pytest suite's is (``"auto"``: the CPU
    budget); its shard is ``--shard K/N`` after ``--`` or ``SUITEKIT_SHARD``, as for pytest;
    ``--shard`` is suitekit's and is not passed on.

    Raises:
        ConfigError: The environment or the arguments hold a bad worker count, CPU budget or
            shard.
    """
    from suitekit.runners import Invocation, runner_for  # noqa: PLC0415 - other runners only
    from suitekit.sharding import SHARD_OPTION  # noqa: PLC0415

    options, shard = requested(posargs, environ)
    junit = junit_path(project, suite, python, shard)
    runner = runner_for(suite.runner.kind)
    retries, rest = _retries(suite, runner, _without(posargs, SHARD_OPTION))
    call = Invocation(
        paths=suite.paths,
        junit=junit.resolve(),
        workers=max(resolve_workers(suite, options).value, 1),
        shard=shard,
        posargs=tuple(rest),
        retries=retries,
    )
    env = {**suite_env(project, suite), **runner.env(call)}
    backends = None
    if suite.runner.backend is not None:
        _refuse_workers(suite, posargs)
        run_id = _handoff.SessionEnv.from_env(environ).run_id
        backends = Backends(
            service=suite.runner.backend,
            workers=tuple(f"{BACKEND_WORKER_PREFIX}{index}" for index in range(call.workers)),
            run_id=f"{run_id}-py{python}" if run_id else None,
        )
    return ExternalSession(
        runner=runner,
        suite=suite,
        cwd=(project.root / suite.runner.cwd).resolve(),
        env=env,
        call=call,
        sweeps=(reports_sweep(junit, session_name(suite.name, python)),),
        records_durations=shard is None,
        backends=backends,
    )


def _refuse_workers(suite: Suite, posargs: Sequence[str]) -> None:
    """A worker count after ``--`` would start workers without a backend: refuse it.

    Raises:
        ConfigError: ``--workers``, ``-j`` or ``-jN`` is among ``posargs``.
    """
    for arg in posargs:
        if arg in ("--workers", "-j") or arg.startswith(("--workers=", "-j")):
            raise ConfigError.option(
                arg.split("=", 1)[0][:9],
                arg,
                f"suite {suite.name!r} starts one backend per worker, so its workers are "
                "decided before Playwright starts",
                f"set workers in [tool.suitekit.suites.{suite.name}] (or SUITEKIT_WORKERS) "
                "instead of passing it after --",
            )


def _without(args: Sequence[str], option: str) -> list[str]:
    """``args`` less ``option`` and its value (``--shard 2/3``, ``--shard=2/3``)."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == option:
            skip = True
        elif not arg.startswith(f"{option}="):
            kept.append(arg)
    return kept


def _retries(suite: Suite, runner: Runner, args: Sequence[str]) -> tuple[int | None, list[str]]:
    """The run's retries (see :class:`~suitekit.runners.Invocation`), and the other arguments.

    ``--suitekit-retries N`` after ``--`` (suitekit's, not passed on; 0 turns the runner's
    retries off, its config's too), else the suite's ``retries`` (0: ``None``, the runner's
    config decides). As for a pytest suite, the option overrides the suite's key for one run;
    ``suitekit flaky`` turns retries off with it, and the runner gets its own option once.

    Raises:
        ConfigError: The value is not a whole number from 0 to 10, or asks a runner without a
            retry option for retries.
    """
    values = [
        arg.split("=", 1)[1] if "=" in arg else (args[i + 1] if i + 1 < len(args) else "")
        for i, arg in enumerate(args)
        if arg == _handoff.OPT_RETRIES or arg.startswith(f"{_handoff.OPT_RETRIES}=")
    ]
    if not values:
        return suite.retries or None, list(args)
    value = values[-1]
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_RETRIES:
        raise ConfigError.option(
            _handoff.OPT_RETRIES,
            value,
            f"{value!r} is not a number of retries",
            f"pass a whole number from 0 to {MAX_RETRIES}",
        )
    if int(value) and runner.retry_args(int(value)) is None:
        raise ConfigError.option(
            _handoff.OPT_RETRIES,
            value,
            f"suite {suite.name!r} runs {runner.name}, which has no retry option",
            "pass 0, or leave the option out",
        )
    return int(value), _without(args, _handoff.OPT_RETRIES)
