"""From a project and a selection to the exact commands that run it; pure functions only.

Every adapter asks this module what to do: the nox adapter which sessions exist and which pytest
command a suite session runs; the invoke adapter and the CLI which nox commands make up a run and
how many xdist workers each suite gets when several run at once. The same function gives the
command a developer runs and the one CI runs, so the two cannot drift apart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from suitekit import _handoff
from suitekit._model import (
    DEADLINE_FACTOR,
    DEADLINE_FLOOR,
    DEFAULT_TIMEOUT,
    MAX_WORKERS,
    Check,
    Project,
    Service,
    Source,
    Sourced,
    Suite,
    Workers,
)
from suitekit.errors import ConfigError

if TYPE_CHECKING:
    # The durations store and the shard parser: what every adapter imports stays small.
    from suitekit.sharding import ShardSpec

__all__ = [
    "ENV_COVERAGE",
    "ENV_CPUS",
    "ENV_REINSTALL",
    "ENV_WORKERS",
    "PARTITION_SESSION",
    "PYTEST",
    "RUN_LOG_OPTION",
    "YIELDING_NICE",
    "Job",
    "RunOptions",
    "RunPlan",
    "SessionSpec",
    "check_env",
    "chooses_workers",
    "collection_suite",
    "declared_workers",
    "env_conflicts",
    "fixed_hashseed",
    "hashseed",
    "jobs",
    "junit_path",
    "measured",
    "measures_coverage",
    "nox_command",
    "plugin_decides_workers",
    "probing",
    "recorded_work",
    "report_jobs",
    "resolve_workers",
    "run_plan",
    "session_deadline",
    "session_workers",
    "sessions",
    "share_cpus",
    "suite_env",
    "suite_pytest_args",
    "test_timeout",
]

ENV_WORKERS: Final = _handoff.ENV_WORKERS
"""Overrides the worker count of the suite a session runs (``auto``, ``logical`` or an int)."""

ENV_CPUS: Final = _handoff.ENV_CPUS
"""The CPU budget that ``workers = "auto"`` fills; the machine's CPU count by default."""

ENV_REINSTALL: Final = _handoff.ENV_REINSTALL
"""``1`` makes every session install its virtualenv again (``inv ... --reinstall``)."""

ENV_COVERAGE: Final = _handoff.ENV_COVERAGE
"""``0`` turns coverage off for a run (``inv test.all --no-coverage``, ``suitekit run
--no-coverage``); any other value, or none, leaves each suite's ``coverage`` key in charge."""

ENV_COLLECTIONS: Final = _handoff.ENV_COLLECTIONS
"""A private folder where each suite session of a whole run records what it collected and
selected; the runner decides the partition guard from those records (no session of its own)."""

PARTITION_SESSION: Final = "partition"
"""The session that checks that every test belongs to exactly one suite."""

SUITE_TAG: Final = "suites"
CHECK_TAG: Final = "checks"

JobKind = Literal["suite", "check", "partition", "report", "coverage"]

REPORT_SESSION: Final = "report"
"""The session that merges the run's JUnit files and writes the summary."""

COVERAGE_SESSION: Final = "coverage"
"""The session that combines the run's coverage data and applies the gate."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """Run-time overrides of the declaration, each with its provenance.

    Attributes:
        workers: Overrides every selected suite's ``workers`` when set.
        cpus: The CPU budget that ``"auto"`` worker counts fill.
        coverage: ``False`` when the run measures no coverage at all.
    """

    workers: Sourced[Workers] | None = None
    cpus: Sourced[int]
    coverage: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, cpu_count: int | None = None) -> RunOptions:
        """Read ``SUITEKIT_WORKERS``, ``SUITEKIT_CPUS`` and ``SUITEKIT_COVERAGE``.

        Raises:
            ConfigError: A variable holds something that is not a worker or CPU count.
        """
        detected = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
        cpus = Sourced(value=detected, source=Source.DEFAULT, origin="CPU count")
        if raw := environ.get(ENV_CPUS, "").strip():
            if not _count(raw, minimum=1):
                raise ConfigError(
                    file=None,
                    key=f"environment variable {ENV_CPUS}",
                    value=raw,
                    problem=f"{raw!r} is not a CPU count from 1 to {MAX_WORKERS}",
                    fix=f"set {ENV_CPUS} to a whole number from 1 to {MAX_WORKERS}, or unset it",
                )
            cpus = Sourced(value=int(raw), source=Source.ENV, origin=ENV_CPUS)
        workers: Sourced[Workers] | None = None
        if raw := environ.get(ENV_WORKERS, "").strip():
            workers = Sourced(
                value=parse_workers(raw, key=f"environment variable {ENV_WORKERS}"),
                source=Source.ENV,
                origin=ENV_WORKERS,
            )
        coverage = environ.get(ENV_COVERAGE, "").strip().lower() not in {"0", "false", "no"}
        return cls(workers=workers, cpus=cpus, coverage=coverage)

    def without_coverage(self, off: bool = True) -> RunOptions:  # noqa: FBT001, FBT002 - a flag's value
        """These options with coverage turned off when ``off`` (``--no-coverage``)."""
        return replace(self, coverage=False) if off else self

    def with_cpus(self, cpus: int | None, *, origin: str) -> RunOptions:
        """These options with a CPU budget from the command line (``None`` keeps the current).

        Raises:
            ConfigError: ``cpus`` is less than 1.
        """
        if cpus is None:
            return self
        if not 1 <= cpus <= MAX_WORKERS:
            raise ConfigError(
                file=None,
                key=origin,
                value=cpus,
                problem=f"{cpus} is not a CPU count from 1 to {MAX_WORKERS}",
                fix=f"pass {origin} a whole number from 1 to {MAX_WORKERS}, or leave it out",
            )
        return replace(self, cpus=Sourced(value=cpus, source=Source.CLI, origin=origin))


def parse_workers(raw: str, *, key: str) -> Workers:
    """Read a worker count given as text (an environment variable or an option).

    Raises:
        ConfigError: ``raw`` is not ``auto``, ``logical`` or a whole number >= 0.
    """
    if raw in ("auto", "logical"):
        return raw  # type: ignore[return-value]  # narrowed by the membership test
    if _count(raw, minimum=0):
        return int(raw)
    raise ConfigError(
        file=None,
        key=key,
        value=raw,
        problem=f"{raw!r} is not a worker count from 0 to {MAX_WORKERS}",
        fix=f'use "auto", "logical", or a whole number up to {MAX_WORKERS} (0: without xdist)',
    )


def _count(raw: str, *, minimum: int) -> bool:
    """Whether ``raw`` is a whole number from ``minimum`` to :data:`MAX_WORKERS`.

    Its length is checked before it is converted: a string of thousands of digits is refused
    without Python's own error for converting it.
    """
    return (
        raw.isascii()
        and raw.isdigit()
        and len(raw) <= len(str(MAX_WORKERS))
        and minimum <= int(raw) <= MAX_WORKERS
    )


def declared_workers(suite: Suite, options: RunOptions) -> Workers:
    """The worker count a suite asks for: ``SUITEKIT_WORKERS`` when set, else its ``workers``."""
    return options.workers.value if options.workers is not None else suite.workers


def plugin_decides_workers(suite: Suite, options: RunOptions) -> bool:
    """Whether the pytest plugin decides the worker count: ``"auto"`` on 2+ CPUs.

    The session then passes ``-n auto``; the plugin decides after collection, from recorded
    durations or the run's first tests (see :mod:`suitekit.sharding._workers`).
    """
    return declared_workers(suite, options) == "auto" and options.cpus.value > 1


def session_workers(
    suite: Suite, options: RunOptions, posargs: Sequence[str] = ()
) -> Sourced[int | Literal["auto"]]:
    """What a suite session passes to ``-n``, and where it came from (for the header).

    A count given after ``--`` wins (the plan then leaves ``-n`` out); else ``"auto"`` where
    :func:`plugin_decides_workers`, else :func:`resolve_workers`.
    """
    workers = resolve_workers(suite, options)
    if chooses_workers(posargs):
        return Sourced(value=workers.value, source=Source.CLI, origin="command line")
    if plugin_decides_workers(suite, options):
        return Sourced(value="auto", source=workers.source, origin=workers.origin)
    return Sourced(value=workers.value, source=workers.source, origin=workers.origin)


def resolve_workers(suite: Suite, options: RunOptions) -> Sourced[int]:
    """The xdist worker count a suite's ``-n`` would be without the plugin's decision, and why.

    ``"auto"`` is the CPU budget (one CPU means no xdist: a single worker only adds the cost
    of starting it); where :func:`plugin_decides_workers` holds, sessions pass ``-n auto`` and
    the plugin decides. ``"logical"`` is the machine's logical CPU count; an int is taken as
    is. An environment override wins over the declaration.
    """
    if options.workers is not None:
        chosen, source, origin = (
            options.workers.value,
            options.workers.source,
            options.workers.origin,
        )
    else:
        chosen, source, origin = suite.workers, Source.CONFIG, f"suites.{suite.name}.workers"
    if chosen == "auto":
        count = options.cpus.value if options.cpus.value > 1 else 0
        why = f"auto: {options.cpus.value} CPU(s) from {options.cpus.source.describe()}"
        return Sourced(value=count, source=source, origin=f"{origin} ({why})")
    if chosen == "logical":
        return Sourced(value=os.cpu_count() or 1, source=source, origin=f"{origin} (logical CPUs)")
    return Sourced(value=chosen, source=source, origin=origin)


def share_cpus(
    demands: Sequence[tuple[str, Workers]],
    budget: int,
    work: Mapping[str, float] | None = None,
) -> dict[str, int]:
    """Split a CPU budget between suites that run at the same time.

    CPUs are handed out one at a time to a suite that still wants more. A suite with a fixed
    ``workers = N`` wants N; an ``"auto"`` or ``"logical"`` suite wants the whole budget;
    ``workers = 0`` wants none; the sum never exceeds the budget. A suite handed one CPU or none
    runs without xdist (a lone worker is pure cost).

    Which suite gets the next CPU:

    - when ``work`` gives the recorded seconds of every suite that wants CPUs (its tests' serial
      time), the one with the most work per CPU it would hold (``work / (held + 1)``), so that
      the suite that would run longest gets the workers and the short ones run beside it;
    - otherwise max-min fairly ("water filling"): the one holding the fewest so far.

    Ties go to the suite that holds fewer, then to the one declared first.

    Args:
        demands: Each running suite session's name and declared worker count.
        budget: The CPUs to share.
        work: Recorded seconds of test time per session name, where known.

    Returns:
        The worker count (for ``-n``) of each session, by name.
    """
    wants = {name: workers if isinstance(workers, int) else budget for name, workers in demands}
    held = dict.fromkeys(wants, 0)
    order = {name: index for index, name in enumerate(wants)}
    known = work or {}
    weighted = all(name in known for name, want in wants.items() if want > 0)
    for _ in range(budget):
        hungry = [name for name in wants if held[name] < wants[name]]
        if not hungry:
            break
        if weighted:
            chosen = max(hungry, key=lambda n: (known[n] / (held[n] + 1), -held[n], -order[n]))
        else:
            chosen = min(hungry, key=lambda n: (held[n], order[n]))
        held[chosen] += 1
    return {name: (count if count > 1 else 0) for name, count in held.items()}


def recorded_work(project: Project) -> dict[str, float]:
    """Each suite's recorded test time, as if run serially (from the durations store).

    Empty when there is no store or it cannot be read (the suite sessions report a broken
    store themselves).
    """
    from suitekit.errors import SuitekitError  # noqa: PLC0415 - with the store only
    from suitekit.sharding._durations import DURATIONS_FILE, DurationStore  # noqa: PLC0415

    try:
        store = DurationStore.load(project.root / DURATIONS_FILE)
    except SuitekitError:
        return {}
    return {
        suite: sum(measurement.serial_seconds for measurement in cases.values())
        for suite, cases in store.suites.items()
        if cases
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSpec:
    """A nox session suitekit registers.

    Attributes:
        name: The session's base name (nox appends ``-<python>`` to parametrized ones).
        python: The Python versions (a tuple: parametrized) or one version (not parametrized).
        tags: nox tags (``suites``, ``checks``).
        description: The line ``nox -l`` shows.
        kind: What the session runs.
    """

    name: str
    python: tuple[str, ...] | str
    tags: tuple[str, ...]
    description: str
    kind: JobKind


def test_timeout(
    suite: Suite, *, option: float | None, environ: Mapping[str, str], ini: str
) -> Sourced[float] | None:
    """The per-test timeout suitekit gives pytest-timeout in a suite run; ``None``: the user's.

    A timeout the user gives pytest-timeout directly wins over the suite's, as pytest-timeout
    ranks them: ``--timeout`` (``option``), then ``PYTEST_TIMEOUT``, then the ``timeout`` ini
    setting; a ``@pytest.mark.timeout`` on a test wins over all of them. Only when none is given
    does the suite's ``timeout`` (default :data:`~suitekit._model.DEFAULT_TIMEOUT`) apply;
    ``0`` means no timeout.
    """
    if option is not None or environ.get("PYTEST_TIMEOUT", "").strip() or ini.strip():
        return None
    return Sourced(
        value=suite.timeout,
        source=Source.DEFAULT if suite.timeout == DEFAULT_TIMEOUT else Source.CONFIG,
        origin=f"suites.{suite.name}.timeout",
    )


def session_deadline(suite: Suite) -> Sourced[float]:
    """How long a suite's pytest session may run before suitekit stops it; ``0``: no limit.

    The suite's ``deadline`` when it sets one; else :data:`~suitekit._model.DEADLINE_FACTOR`
    times its ``target-seconds``, but never less than :data:`~suitekit._model.DEADLINE_FLOOR`.
    The per-test timeout names a hung test; the deadline is for what it cannot see: a hang in
    collection, in a session fixture, in xdist, or in a test whose timeout is off.
    """
    origin = f"suites.{suite.name}.deadline"
    if suite.deadline is not None:
        return Sourced(value=suite.deadline, source=Source.CONFIG, origin=origin)
    budget = DEADLINE_FACTOR * (suite.target_seconds or 0.0)
    return Sourced(value=float(max(budget, DEADLINE_FLOOR)), source=Source.DEFAULT, origin=origin)


def _suite_description(suite: Suite) -> str:
    parts = []
    if suite.paths:
        parts.append(", ".join(suite.paths))
    if suite.marker:
        parts.append(f"-m {suite.marker!r}")
    workers = "no xdist" if suite.workers == 0 else f"workers={suite.workers}, dist={suite.dist}"
    extra = f"; services: {', '.join(suite.services)}" if suite.services else ""
    budget = f"; target {suite.target_seconds:g}s" if suite.target_seconds else ""
    return f"Suite {suite.name!r}: pytest {' '.join(parts)} ({workers}{extra}{budget})"


def _check_description(check: Check) -> str:
    advisory = " (advisory: may fail)" if check.allow_failure else ""
    return f"Check {check.name!r}: {' && '.join(check.run)}{advisory}"


def sessions(project: Project) -> tuple[SessionSpec, ...]:
    """Every session the project gets: one per suite, one per check, and the partition guard."""
    specs = [
        SessionSpec(
            name=suite.name,
            python=suite.python,
            tags=(SUITE_TAG,),
            description=_suite_description(suite),
            kind="suite",
        )
        for suite in project.suites
    ]
    specs += [
        SessionSpec(
            name=check.name,
            python=check.python,
            tags=(CHECK_TAG,),
            description=_check_description(check),
            kind="check",
        )
        for check in project.checks
    ]
    specs.append(
        SessionSpec(
            name=REPORT_SESSION,
            python=project.python[0],
            tags=(),
            description="Merge the run's JUnit files into one report; print and write the summary",
            kind="report",
        )
    )
    if project.source:
        specs.append(
            SessionSpec(
                name=COVERAGE_SESSION,
                python=project.python[0],
                tags=(),
                description=f"Combine the suites' coverage; fail under {project.fail_under:g}%",
                kind="coverage",
            )
        )
    specs.append(
        SessionSpec(
            name=PARTITION_SESSION,
            python=project.python[0],
            tags=(),
            description="Check that every test belongs to exactly one suite; count each suite",
            kind="partition",
        )
    )
    return tuple(specs)


def junit_path(project: Project, suite: Suite, python: str, shard: ShardSpec | None = None) -> Path:
    """Where a suite session writes its JUnit XML: unique per suite, Python and shard.

    ``unit-3.11.xml`` for the whole suite, ``unit-3.11.shard-2-of-4.xml`` for a shard, so that
    the CI artifacts of every shard can be downloaded into one folder and merged.
    """
    stem = f"{suite.name}-{python}" + (f".{shard.slug}" if shard is not None else "")
    return project.root / project.reports / "junit" / f"{stem}.xml"


def log_path(project: Project, session: str) -> Path:
    """Where a run keeps a session's output."""
    return project.root / project.reports / "logs" / f"{session}.log"


def suite_pytest_args(
    project: Project,
    suite: Suite,
    *,
    python: str,
    workers: int | Literal["auto"],
    posargs: Sequence[str] = (),
    shard: ShardSpec | None = None,
) -> tuple[str, ...]:
    """The pytest command line of a suite session, without the leading ``pytest``.

    The suite's own selection (paths and marker) is applied by the pytest plugin from
    ``--suitekit-suite``, so that paths given in ``posargs`` narrow the suite instead of adding
    to it.
    """
    junit = junit_path(project, suite, python, shard).relative_to(project.root)
    args = [*_handoff.PluginArgs(suite=suite.name).to_argv()]
    if not chooses_workers(posargs):
        # "auto": the pytest plugin decides after collection (pytest_xdist_auto_num_workers).
        args += ["-n", str(workers)]
        if workers == "auto" or workers > 0:
            args += ["--dist", suite.dist]
    args += [
        f"--junitxml={junit.as_posix()}",
        "-o",
        f"junit_suite_name={suite.name}",
        *suite.pytest_args,
        *posargs,
    ]
    return tuple(args)


def chooses_workers(posargs: Sequence[str]) -> bool:
    """Whether arguments given on the command line set xdist's worker count themselves.

    Then the suite's own ``-n`` and ``--dist`` are left out, so the command line wins and the
    header does not credit the declaration for it.
    """
    return any(
        arg in ("-n", "--numprocesses")
        or arg.startswith("--numprocesses=")
        or (arg.startswith("-n") and arg[2:].isalnum())
        for arg in posargs
    )


RUN_LOG_OPTION: Final = _handoff.OPT_RUN_LOG
"""The pytest option that makes a suite run a probe of ``suitekit flaky``."""


def probing(posargs: Sequence[str]) -> bool:
    """Whether a suite session is one of ``suitekit flaky``'s runs (it writes a run log).

    Such a run measures no coverage and leaves the suite's own reports alone: its JUnit file
    goes elsewhere, and the suite's coverage data and shard reports from the last real run must
    survive it.
    """
    return any(arg == RUN_LOG_OPTION or arg.startswith(f"{RUN_LOG_OPTION}=") for arg in posargs)


def fixed_hashseed(project: Project, environ: Mapping[str, str]) -> str | None:
    """The ``PYTHONHASHSEED`` the environment or the config fixes; ``None`` when neither does."""
    given = environ.get("PYTHONHASHSEED", "")
    if given and given != "random":
        return given
    if project.isolation.hashseed is not None:
        return str(project.isolation.hashseed)
    return None


def hashseed(project: Project, environ: Mapping[str, str]) -> str:
    """The run's ``PYTHONHASHSEED``: the environment's, else the config's, else a random one.

    One seed for every process of a run makes xdist workers collect the same tests (a set in a
    parametrize would otherwise be ordered differently in each) and lets a failure be replayed.
    """
    fixed = fixed_hashseed(project, environ)
    if fixed is not None:
        return fixed
    import secrets  # noqa: PLC0415 - hmac and OpenSSL load for this one number

    return str(secrets.randbelow(2**32))


def measures_coverage(
    project: Project, suite: Suite, options: RunOptions, posargs: Sequence[str] = ()
) -> bool:
    """Whether a suite session runs under coverage.

    Only when the project names a ``source``, the suite keeps ``coverage = true`` (the
    default), the run did not turn coverage off (``SUITEKIT_COVERAGE=0``), and the session is
    not one of ``suitekit flaky``'s probes (see :func:`probing`).
    """
    return bool(project.source) and suite.coverage and options.coverage and not probing(posargs)


PYTEST: Final = ("python", "-m", "pytest")
"""How every session starts pytest (suites and the partition guard): ``python -m pytest``.

Run from the project root, it puts the root first on ``sys.path``, as ``coverage run -m pytest``
(a suite measuring coverage) always did: a project whose tests import its own top-level
modules or packages (a flat layout, Django's ``manage.py`` layout with its settings package)
runs without ``PYTHONPATH``, and the same whether coverage is on or off. The bare ``pytest``
script puts its own folder there instead, and the root only when pytest imports a rootdir
``conftest.py`` or a test package (``prepend`` import mode): too late for a plugin that imports
the project's code at start-up, as pytest-django does with its settings module.
The cost is runpy's: a few milliseconds of start-up, within noise (docs/reports.md).
"""


def measured(command: Sequence[str], rcfile: Path | None) -> tuple[str, ...]:
    """``python -m pytest ...``, run under coverage with suitekit's configuration when given.

    Both forms put the project root first on ``sys.path`` (see :data:`PYTEST`).
    """
    if rcfile is None:
        return (*PYTEST, *command)
    return ("coverage", "run", f"--rcfile={rcfile}", "-m", "pytest", *command)


def report_jobs(project: Project, *, coverage: bool = True) -> tuple[Job, ...]:
    """The jobs that end a run: the merged report, then the coverage gate (with a source).

    Args:
        project: The project.
        coverage: ``False`` when the run measured no coverage: then there is no gate to apply.
    """
    names = [REPORT_SESSION] + ([COVERAGE_SESSION] if project.source and coverage else [])
    return tuple(
        Job(
            session=name,
            kind="report" if name == REPORT_SESSION else "coverage",
            title=name,
            command=nox_command(name),
            env={},
            required=True,
            junit=None,
            log=log_path(project, name),
            target_seconds=None,
        )
        for name in names
    )


def nox_command(session: str) -> tuple[str, ...]:
    """The command that runs one nox session, run from the project root.

    Developers (``inv``), suitekit's parallel runner and generated CI all run exactly this.
    """
    return ("nox", "-s", session)


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """One session to run as part of a larger run (``inv test.all``).

    Attributes:
        session: The nox session's full name, e.g. ``unit-3.11`` or ``lint``.
        kind: What the session runs.
        title: The suite's or check's name.
        command: The command line (see :func:`nox_command`).
        env: Variables to add to the command's environment.
        required: Whether its failure fails the run (advisory checks are not required).
        junit: The suite's JUnit file, or ``None`` for a check.
        log: Where the run keeps the session's output.
        target_seconds: The suite's time budget.
        services: The services the session needs.
        suite: The suite a suite session runs (``None`` for other jobs).
        nice: How much lower than the run's own the session's CPU priority is (a Unix nice
            increment): in a parallel run, the sessions beside the one expected to run longest
            yield the CPU to it.
    """

    session: str
    kind: JobKind
    title: str
    command: tuple[str, ...]
    env: Mapping[str, str]
    required: bool
    junit: Path | None
    log: Path
    target_seconds: float | None
    services: tuple[Service, ...] = ()
    suite: str | None = None
    nice: int = 0


YIELDING_NICE: Final = 5
"""The nice increment of the sessions beside a parallel run's longest one."""


def _session_name(name: str, python: str) -> str:
    return f"{name}-{python}"


def jobs(
    project: Project,
    *,
    suites: Sequence[str] | None = None,
    checks: Sequence[str] | None = None,
    parallel: bool = False,
    options: RunOptions | None = None,
    work: Mapping[str, float] | None = None,
) -> tuple[Job, ...]:
    """The jobs of a run: the chosen suites (per Python version) and checks.

    Args:
        project: The project.
        suites: Names of the suites to run; all by default.
        checks: Names of the checks to run; all by default.
        parallel: Whether the jobs run at the same time; then the CPU budget is shared between
            the suites (see :func:`share_cpus`) and passed to each through ``SUITEKIT_WORKERS``,
            unless the run's options already fix the worker count.
        options: The run's overrides (CPU budget, worker count); none by default.
        work: Each suite's recorded test time (see :func:`recorded_work`), which decides who
            gets the CPUs of a parallel run when every suite has one.

    Raises:
        ConfigError: A name is neither a suite nor a check.
    """
    chosen_suites = _pick(project, "suite", suites, [s.name for s in project.suites])
    chosen_checks = _pick(project, "check", checks, [c.name for c in project.checks])
    options = options or RunOptions(cpus=Sourced(value=os.cpu_count() or 1, source=Source.DEFAULT))
    suite_runs = [
        (project.suite(name), python)
        for name in chosen_suites
        for python in project.suite(name).python
    ]
    demands = [(_session_name(suite.name, python), suite.workers) for suite, python in suite_runs]
    share = parallel and options.workers is None  # an explicit worker count wins
    by_session = {
        _session_name(suite.name, python): work[suite.name]
        for suite, python in suite_runs
        if work is not None and suite.name in work
    }
    shares = share_cpus(demands, options.cpus.value, by_session) if share else {}
    # The session expected to run longest sets the run's wall time: the others yield the CPU
    # to it (known only when every suite has recorded work).
    position = {name: index for index, (name, _) in enumerate(demands)}
    longest = (
        max(
            by_session,
            key=lambda name: (by_session[name] / max(shares[name], 1), -position[name]),
        )
        if share and demands and all(name in by_session for name, _ in demands)
        else None
    )
    result: list[Job] = []
    for suite, python in suite_runs:
        session = _session_name(suite.name, python)
        env: dict[str, str] = {}
        if share:
            # An "auto" suite gets a CPU budget and may take fewer (its durations may show
            # that xdist does not pay); a declared count gets its share as a worker count.
            variable = ENV_CPUS if suite.workers == "auto" else ENV_WORKERS
            env = {
                variable: str(max(shares[session], 1) if variable == ENV_CPUS else shares[session])
            }
        result.append(
            Job(
                session=session,
                kind="suite",
                title=suite.name if len(suite.python) == 1 else session,
                command=nox_command(session),
                env=env,
                required=True,
                junit=junit_path(project, suite, python),
                log=log_path(project, session),
                target_seconds=suite.target_seconds,
                services=suite.services,
                suite=suite.name,
                nice=YIELDING_NICE if longest not in (None, session) else 0,
            )
        )
    for name in chosen_checks:
        check = project.check(name)
        result.append(
            Job(
                session=check.name,
                kind="check",
                title=check.name,
                command=nox_command(check.name),
                env={},
                required=not check.allow_failure,
                junit=None,
                log=log_path(project, check.name),
                target_seconds=None,
                services=check.services,
                nice=0 if longest is None else YIELDING_NICE,
            )
        )
    return tuple(result)


def suite_env(project: Project, suite: Suite) -> dict[str, str]:
    """The variables a suite's pytest run gets from the config: the project's, then its own.

    The suite's ``env`` wins over the project-wide ``env``; what suitekit sets itself (the
    hash seed, the services' variables, the ``dirs``) wins over both, where the session adds it.
    """
    return {**project.env, **suite.env}


def check_env(project: Project, check: Check) -> dict[str, str]:
    """The variables a check's commands get from the config: the project's, then its own."""
    return {**project.env, **check.env}


def collection_suite(project: Project) -> Suite:
    """The pseudo-suite the partition guard collects as: every test root, service and ``env``.

    Collection imports every conftest; those that read a service's variables, or a suite's
    ``env`` (``DJANGO_SETTINGS_MODULE``, say), at import time must find them, so the guard gets
    (empty) services like a suite run does, and the ``env`` of every suite. A variable that
    suites set to different values has the first one's value (see :func:`env_conflicts`):
    one process cannot hold both, and the whole run's guard is decided from the suites' own
    collections, each with its own ``env``, anyway.
    """
    env: dict[str, str] = {}
    for suite in project.suites:
        env.update((name, value) for name, value in suite.env.items() if name not in env)
    return Suite(
        name=PARTITION_SESSION,
        paths=project.tests,
        workers=0,
        services=tuple(dict.fromkeys(s for suite in project.suites for s in suite.services)),
        env=env,
    )


def env_conflicts(project: Project) -> tuple[str, ...]:
    """The variables that suites set to different values, each with what the guard uses.

    One line per variable, for the partition session to say (see :func:`collection_suite`).
    """
    first: dict[str, tuple[str, str]] = {}
    lines: list[str] = []
    for suite in project.suites:
        for name, value in suite.env.items():
            if name not in first:
                first[name] = (suite.name, value)
            elif first[name][1] != value and first[name][0] != "":
                owner, kept = first[name]
                lines.append(
                    f"{name}: suite {suite.name!r} sets {value!r}, suite {owner!r} {kept!r}; "
                    f"the partition guard collects with {kept!r}"
                )
                first[name] = ("", kept)  # one line per variable
    return tuple(lines)


def partition_job(project: Project) -> Job:
    """The job that runs the partition guard."""
    return Job(
        session=PARTITION_SESSION,
        kind="partition",
        title=PARTITION_SESSION,
        command=nox_command(PARTITION_SESSION),
        env={},
        required=True,
        junit=None,
        log=log_path(project, PARTITION_SESSION),
        target_seconds=None,
        services=collection_suite(project).services,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunPlan:
    """Everything one run executes, built once here and only carried out by the adapters.

    Attributes:
        guard: The partition guard, or ``None``. In a sequential run it runs before everything
            else; in a parallel run beside the sessions, which it stops if it fails.
        jobs: The suite and check sessions.
        finish: What ends the run when every session has ended: the merged report, then the
            coverage gate. The runner carries these out in its own process.
        parallel: Whether the sessions run at the same time.
        fail_fast: Whether the first required failure stops the rest.
        env: Variables every session gets (``SUITEKIT_COVERAGE=0``, ``SUITEKIT_REINSTALL=1``).
    """

    guard: Job | None
    jobs: tuple[Job, ...]
    finish: tuple[Job, ...] = ()
    parallel: bool = False
    fail_fast: bool = False
    env: Mapping[str, str] = field(default_factory=dict)


def run_plan(
    project: Project,
    *,
    suites: Sequence[str] | None = None,
    checks: Sequence[str] | None = None,
    whole: bool,
    guard: bool = True,
    parallel: bool = False,
    fail_fast: bool = False,
    options: RunOptions | None = None,
    reinstall: bool = False,
) -> RunPlan:
    """The run ``inv test.all``, ``inv test.<suite>`` or ``suitekit run`` executes.

    Args:
        project: The project.
        suites: The suites to run (all by default).
        checks: The checks to run (all by default).
        whole: Whether this is the project's whole pipeline: then the partition guard (unless
            ``guard`` is false), the merged report and, when coverage is measured, the gate.
        guard: Whether a whole run checks the partition.
        parallel: Run the sessions at once, sharing the CPUs (see :func:`jobs`).
        fail_fast: Stop at the first required failure.
        options: The run's overrides; ``options.coverage`` false measures no coverage.
        reinstall: Install every session's virtualenv again, whatever its fingerprint.

    Raises:
        ConfigError: A name is neither a suite nor a check.
    """
    options = options or RunOptions(cpus=Sourced(value=os.cpu_count() or 1, source=Source.DEFAULT))
    env: dict[str, str] = {}
    if not options.coverage:
        env[ENV_COVERAGE] = "0"
    if reinstall:
        env[ENV_REINSTALL] = "1"
    return RunPlan(
        guard=partition_job(project) if whole and guard else None,
        jobs=jobs(
            project,
            suites=suites,
            checks=checks,
            parallel=parallel,
            options=options,
            work=recorded_work(project) if parallel else None,
        ),
        finish=report_jobs(project, coverage=options.coverage) if whole else (),
        parallel=parallel,
        fail_fast=fail_fast,
        env=env,
    )


def _pick(project: Project, kind: str, names: Sequence[str] | None, known: list[str]) -> list[str]:
    if names is None:
        return known
    for name in names:
        if name not in known:
            import difflib  # noqa: PLC0415 - only on this error path

            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                file=project.config_file,
                key=f"tool.suitekit.{kind}s",
                value=name,
                problem=f"there is no {kind} called {name!r}{hint}",
                fix=f"use one of: {', '.join(known) or '(none declared)'}",
            )
    return list(dict.fromkeys(names))  # a name given twice runs once
