"""What one suite session does, decided before it runs; the nox adapter only carries it out.

:func:`suite_session` reads the session's inputs (its Python, the arguments after ``--``, the
environment) and returns a :class:`SuiteSession`: the pytest arguments, the variables, the
JUnit file, the stale files to remove first and whether the durations store learns from the
run. Nothing here touches the file system; the adapter globs, removes, writes the coverage
configuration and runs pytest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from suitekit import _handoff
from suitekit._layout import Measured
from suitekit._model import Project, Suite
from suitekit.config import run_options
from suitekit.plan._sessions import junit_path, session_name
from suitekit.plan._suite import (
    hashseed,
    measured,
    measures_coverage,
    probing,
    suite_env,
    suite_pytest_args,
)
from suitekit.plan._workers import session_workers

if TYPE_CHECKING:
    from suitekit.config import RunOptions
    from suitekit.sharding import ShardSpec

__all__ = [
    "SuiteSession",
    "Sweep",
    "reports_sweep",
    "requested",
    "suite_folders",
    "suite_session",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Sweep:
    """Stale files a suite session removes before it runs, so that the report sees only today's.

    Attributes:
        folder: Where the files are.
        pattern: A glob, in ``folder``, of the candidates.
        reports_of: When set, the candidates are this session's JUnit reports, and only those
            of another split than ``keep_split`` are stale (see
            :func:`suitekit.sharding.split_of`); when ``None``, every candidate is stale.
        keep_split: The split whose reports stay: 0 for the whole suite, N for shards of N.
        companions: Suffixes of the files removed with each stale one (``.measured.json``).
    """

    folder: Path
    pattern: str
    reports_of: str | None = None
    keep_split: int = 0
    companions: tuple[str, ...] = ()

    def stale(self, candidates: Iterable[Path]) -> tuple[Path, ...]:
        """Which of ``candidates`` (the matches of :attr:`pattern`) to remove, with companions."""
        from suitekit.sharding import split_of  # noqa: PLC0415 - with a suite session only

        found: list[Path] = []
        for path in candidates:
            if self.reports_of is not None:
                split = split_of(path.stem, self.reports_of)  # None: unit-3.11 seen from unit-3.1
                if split is None or split == self.keep_split:
                    continue
            found += [path, *(path.with_suffix(suffix) for suffix in self.companions)]
        return tuple(found)


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteSession:
    """Everything one suite session (``nox -s unit-3.11``) runs, decided up front.

    Attributes:
        args: The pytest arguments, without the command that starts pytest (see
            :meth:`command`).
        env: The variables pytest gets, before the services' own.
        junit: The JUnit file the run writes.
        shard: The part of the suite the run takes, or ``None`` for the whole suite.
        coverage: Whether the run measures coverage: the adapter then writes the session's
            coverage configuration and passes it to :meth:`command`.
        sweeps: The stale files to remove before pytest starts.
        records_durations: Whether the durations store learns the run's timings from
            :attr:`junit` afterwards: not for a probe of ``suitekit flaky``, nor for a shard
            (the other shards of its split must split the same figures).
    """

    args: tuple[str, ...]
    env: Mapping[str, str]
    junit: Path
    shard: ShardSpec | None
    coverage: bool
    sweeps: tuple[Sweep, ...]
    records_durations: bool

    def command(self, rcfile: Path | None) -> tuple[str, ...]:
        """The whole command line: pytest, under coverage with ``rcfile`` when one is given."""
        return measured(self.args, rcfile)


def requested(
    posargs: Sequence[str], environ: Mapping[str, str]
) -> tuple[RunOptions, ShardSpec | None]:
    """The run's options and the shard (``--shard K/N`` after ``--``, or ``SUITEKIT_SHARD``).

    Raises:
        ConfigError: A bad worker count, CPU budget or shard.
    """
    from suitekit.sharding import shard_from  # noqa: PLC0415 - with a suite session only

    given = shard_from(posargs, environ)
    return run_options(environ), given.value if given is not None else None


def reports_sweep(junit: Path, session: str) -> Sweep:
    """The session's JUnit reports of another split than ``junit``'s, with their sidecars."""
    from suitekit.sharding import split_of  # noqa: PLC0415 - with a suite session only

    split = split_of(junit.stem, session)
    return Sweep(
        folder=junit.parent,
        pattern=f"{session}*.xml",
        reports_of=session,
        keep_split=split if split is not None else 0,
        companions=(Measured.SUFFIX,),
    )


def suite_folders(project: Project, suite: Suite, python: str) -> tuple[Path, ...]:
    """The folders a suite session writes to, to check before its install.

    pytest would otherwise fail on the JUnit file only at the very end of the run.
    """
    junit_folder = junit_path(project, suite, python).parent
    if not project.source:
        return (junit_folder,)
    from suitekit.reporting import coverage_dir  # noqa: PLC0415 - reporting is lazy

    return (junit_folder, coverage_dir(project))


def suite_session(
    project: Project,
    suite: Suite,
    *,
    python: str,
    posargs: Sequence[str],
    environ: Mapping[str, str],
) -> SuiteSession:
    """Decide what a suite session runs from its Python, its arguments and the environment.

    The worker count and where it came from (see :func:`session_workers`), the shard
    (``--shard`` or ``SUITEKIT_SHARD``), coverage (see :func:`measures_coverage`), the hash
    seed, and the run id: the environment's, suffixed with ``-py<python>``, as one CI job may
    run a suite's Python versions at once and resources are named by run, suite and worker.

    A real run (not a probe of ``suitekit flaky``, which leaves the suite's reports alone)
    first removes the session's reports of another split (a whole-suite report beside this
    run's shards would count tests twice, shards of another count would be reported missing)
    and the session's coverage data from earlier runs (which would otherwise be combined with
    today's; a suite that measures nothing must be absent from the combined figure).

    Raises:
        ConfigError: The environment or the arguments hold a bad worker count, CPU budget or
            shard.
    """
    from suitekit.reporting import coverage_dir, session_key  # noqa: PLC0415

    options, shard = requested(posargs, environ)
    workers = session_workers(suite, options, posargs)
    args = suite_pytest_args(
        project, suite, python=python, workers=workers.value, posargs=posargs, shard=shard
    )
    run_id = _handoff.SessionEnv.from_env(environ).run_id
    handed = _handoff.SessionEnv(
        workers_origin=workers.origin,
        hashseed=hashseed(project, environ),
        run_id=f"{run_id}-py{python}" if run_id else None,
    )
    env = {**suite_env(project, suite), **handed.to_env()}
    junit = junit_path(project, suite, python, shard)
    probe = probing(posargs)
    sweeps: tuple[Sweep, ...] = ()
    if not probe:
        sweeps = (
            reports_sweep(junit, session_name(suite.name, python)),
            Sweep(
                folder=coverage_dir(project),
                pattern=f".coverage.{session_key(suite.name, python)}.*",
            ),
        )
    return SuiteSession(
        args=args,
        env=env,
        junit=junit,
        shard=shard,
        coverage=measures_coverage(project, suite, options, posargs),
        sweeps=sweeps,
        records_durations=not probe and shard is None,
    )
