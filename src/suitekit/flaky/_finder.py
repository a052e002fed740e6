"""``suitekit flaky`` / ``inv test.flaky``: run a suite several times, then explain the changes.

The search, step by step:

1. **Runs.** The suite's nox session runs N times (:func:`run_args`), each in another random order
   (``--suitekit-order-seed``, base seed + run index) and with another worker count (serial and
   parallel in turn, :func:`worker_counts`), retries off, each writing a run log and a JUnit file
   under ``reports/flaky/<suite>/``. A run that leaves no run log, ends with a nox exit code
   other than 0 (passed) or 1 (failed), or logs no test at all went wrong: the end of its output
   is printed and the search is incomplete (never "no flaky test").
2. **Comparison.** :func:`suitekit.flaky.compare` finds the tests whose outcome changed.
3. **Replays.** For each of them, the tests that ran before a failure on the same worker are
   replayed serially with the test last (the session's own interpreter, ``--suitekit-order-file``).
   If it fails after them twice and passes alone twice, it is order-dependent, and
   :func:`suitekit.flaky.ddmin` shrinks them to the fewest after which it still fails; that order
   is written to ``<slug>.order`` for anyone to replay. Otherwise its failure did not come back by
   order: chance, time, or tests running at the same moment on other workers.

A suite of another runner whose order a seed shuffles (Vitest, Jest) is searched by
:mod:`suitekit.flaky._external`: the same runs and comparison, without replays.

This module runs processes; what to run is computed by the pure functions at its top.
"""

from __future__ import annotations

import io
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Final

from suitekit import _layout, plan, services
from suitekit._files import write_text_atomic
from suitekit._handoff import OPT_ORDER_FILE, OPT_ORDER_SEED, OPT_PROJECT, OPT_RETRIES, OPT_SUITE
from suitekit._model import Project, Suite
from suitekit._naming import slug
from suitekit._runner import Outcome as JobOutcome
from suitekit._runner import Runner
from suitekit.config import pytest_suite, run_options
from suitekit.errors import ConfigError, ReportError
from suitekit.flaky import DEFAULT_RUNS
from suitekit.flaky._analysis import Cause, Finding, FlakyTest, Run, compare, failing
from suitekit.flaky._bisect import DEFAULT_MAX_CALLS, ddmin
from suitekit.reporting import Outcome, RunLog

__all__ = [
    "DEFAULT_RUNS",
    "FlakyOptions",
    "find",
    "flaky_folder",
    "order_text",
    "replay_args",
    "run_args",
    "seeds",
    "session_python",
    "worker_counts",
    "written",
]

MAX_WORKERS: Final = 8
"""The most xdist workers a run gets: more only adds start-up time to a search for flakiness."""
_TAIL_LINES: Final = 30
_CONFIRMATIONS: Final = 2  # replays that must agree before a test is called order-dependent
# nox's exit codes of a run that went right: its session passed, or a test failed. Anything
# else (nox's own errors, a signal, a cancelled job) says nothing about the tests.
_RAN: Final = frozenset({0, 1})


@dataclass(frozen=True, slots=True, kw_only=True)
class FlakyOptions:
    """What ``suitekit flaky`` was asked to do.

    Attributes:
        suite: The suite to search.
        runs: How many times to run it (at least 2: there is nothing to compare in one run).
        seed: The first run's order seed (run k gets seed + k - 1); random when ``None``.
        python: The Python version of the session to run; the suite's first by default.
        max_replays: The most serial replays spent explaining one flaky test.
    """

    suite: str
    runs: int = DEFAULT_RUNS
    seed: int | None = None
    python: str | None = None
    max_replays: int = DEFAULT_MAX_CALLS


def worker_counts(suite: Suite, runs: int, cpus: int) -> tuple[int, ...]:
    """Each run's xdist worker count: serial, 2, then up to the CPUs (at least 3), in turn.

    Serial runs show order dependence with the whole suite before a test; parallel ones, with
    fewer tests per process and other tests running at the same moment, show shared state
    between processes (a fixed path, a table, a port). A suite declared ``workers = 0`` is
    serial by design and only runs serially.
    """
    if suite.workers == 0:
        return (0,) * runs
    cycle = (0, 2, min(max(3, cpus), MAX_WORKERS))
    return tuple(cycle[index % len(cycle)] for index in range(runs))


def seeds(base: int, runs: int) -> tuple[int, ...]:
    """Each run's order seed: ``base``, ``base + 1``, ..."""
    return tuple(base + index for index in range(runs))


def run_args(suite: Suite, *, workers: int, seed: int) -> tuple[str, ...]:
    """The arguments after ``nox -s <session> --`` that make a run: its order and workers.

    Retries are off: a failure must show as a failure, not be retried away. The search adds
    where the run log and the JUnit file go; repeating a run needs only these.
    """
    dist = ("--dist", suite.dist) if workers > 0 else ()
    return ("-n", str(workers), *dist, f"{OPT_ORDER_SEED}={seed}", f"{OPT_RETRIES}=0")


def replay_args(project: Project, suite: Suite, *, order_file: Path, log: Path) -> tuple[str, ...]:
    """The arguments after ``python -m pytest`` for a serial replay of an order file."""
    return (
        f"{OPT_PROJECT}={project.config_file}",
        f"{OPT_SUITE}={suite.name}",
        "-n",
        "0",
        f"{OPT_RETRIES}=0",
        f"{OPT_ORDER_FILE}={order_file}",
        f"{plan.RUN_LOG_OPTION}={log}",
        "-p",
        "no:cacheprovider",
        "-q",
        *suite.pytest_args,
    )


def order_text(order: Sequence[str], *, comment: Sequence[str] = ()) -> str:
    """An order file: ``#`` comment lines, then one node id per line."""
    return "".join(f"# {line}\n" for line in comment) + "".join(f"{node}\n" for node in order)


def session_python(project: Project, session: str) -> Path | None:
    """The interpreter of a nox session's virtualenv (``None`` until nox has made it).

    It has the project's test dependencies, which collecting the suite imports. The folder name
    is nox's: the session name with anything but word characters, ``.`` and ``-`` replaced,
    then ``.`` replaced by ``-``.
    """
    folder = re.sub(r"[^\w.-]", "-", session).replace(".", "-")
    candidate = project.root / ".nox" / folder / "bin" / "python"
    return candidate if candidate.exists() else None


def _suite(project: Project, name: str) -> Suite:
    """The suite ``name``: pytest's, or another runner's with a seeded order.

    Raises:
        ConfigError: There is no such suite, or its runner cannot shuffle its tests by a seed.
    """
    other = next((s for s in project.suites if s.name == name and s.runner.kind != "pytest"), None)
    if other is not None:
        from suitekit.flaky._external import seeded_runner  # noqa: PLC0415 - another runner's

        seeded_runner(project, other)  # refuses a runner without a seeded order
        return other
    return pytest_suite(  # the unknown suite's error
        project,
        name,
        command="`suitekit flaky`",
        purpose="replays",
        fix="use one of the pytest suites: " + ", ".join(s.name for s in project.pytest_suites),
    )


def _check(project: Project, options: FlakyOptions) -> tuple[Suite, str]:
    """The suite and Python version to run.

    Raises:
        ConfigError: An unknown suite or Python version, or fewer than 2 runs.
    """
    suite = _suite(project, options.suite)
    if options.runs < 2:  # noqa: PLR2004 - two is the least that can differ
        raise ConfigError.option(
            "--runs",
            options.runs,
            f"{options.runs} run(s) cannot show a test whose outcome changes",
            "pass --runs 2 or more (5 is the default)",
        )
    if options.seed is not None and not 0 <= options.seed < 2**32 - options.runs:
        raise ConfigError.option(
            "--seed",
            options.seed,
            f"{options.seed} is not an order seed",
            f"pass a whole number from 0 to {2**32 - options.runs - 1}",
        )
    python = options.python or suite.python[0]
    if python not in suite.python:
        raise ConfigError(
            file=project.config_file,
            key=f"tool.suitekit.suites.{suite.name}.python",
            value=python,
            problem=f"suite {suite.name!r} does not run on Python {python}",
            fix=f"pass --python with one of: {', '.join(suite.python)}",
        )
    return suite, python


def _tail(text: str) -> str:
    lines = text.rstrip().splitlines()[-_TAIL_LINES:]
    return "\n".join(f"    | {line}" for line in lines)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class _BudgetSpentError(Exception):
    """The replays allowed for one test are used up."""


class _ReplayError(Exception):
    """A replay left no usable run log (the message says why)."""


@dataclass(slots=True)
class _Search:
    """One ``suitekit flaky`` search: the state the runs and the replays share.

    Attributes:
        env: The services' variables (the servers are shared by every run and replay).
        used: The replays spent on the test being explained.
        replay_env: The hash seed of the run whose order is being replayed.
    """

    project: Project
    suite: Suite
    python: str
    options: FlakyOptions
    environ: Mapping[str, str]
    out: IO[str]
    folder: Path
    session: str
    hashseed_from_seed: bool
    env: dict[str, str] = field(default_factory=dict)
    used: int = 0
    replay_env: dict[str, str] = field(default_factory=dict)

    def say(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def hashseed(self, seed: int) -> dict[str, str]:
        """The run's PYTHONHASHSEED: its order seed, unless the project or caller fixes one."""
        return {"PYTHONHASHSEED": str(seed % 2**32)} if self.hashseed_from_seed else {}

    def command(self, args: Sequence[str], seed: int) -> str:
        prefix = "".join(f"{key}={value} " for key, value in self.hashseed(seed).items())
        return prefix + shlex.join(["nox", "-s", self.session, "--", *args])

    # --- the runs -------------------------------------------------------------------------

    def run(self, number: int, seed: int, workers: int) -> Run | None:
        """Run the suite once; ``None`` when interrupted."""
        log = self.folder / f"run-{number}.json"
        junit = self.folder / f"run-{number}.xml"
        args = run_args(self.suite, workers=workers, seed=seed)
        files = (
            f"{plan.RUN_LOG_OPTION}={_relative(log, self.project.root)}",
            f"--junitxml={_relative(junit, self.project.root)}",
        )
        job = replace(
            plan.nox_job(self.project, self.session, kind="suite", posargs=(*args, *files)),
            title=self.suite.name,
            env=self.hashseed(seed),
            junit=junit,
            log=self.folder / f"run-{number}.log",
        )
        shown = f"run {number}/{self.options.runs} (-n {workers}, seed {seed})"
        self.say(f"suitekit flaky: {shown}: {self.command((*args, *files), seed)}")
        outcome = self.launch(job)
        if outcome.status == "interrupted":
            return None
        found, problem, what = _read_run(log, outcome.returncode, job.log)
        if problem:
            output = job.log.read_text(errors="replace") if job.log.exists() else ""
            self.say(f"suitekit flaky: {shown} {what}; the end of its output:")
            self.say(_tail(output))
        result = Run(
            number=number,
            seed=seed,
            workers=workers,
            command=self.command(args, seed),
            log=found,
            problem=problem,
        )
        self.say(f"suitekit flaky: {shown}: {result.counts()} in {outcome.seconds:.1f}s")
        return result

    def launch(self, job: plan.Job) -> JobOutcome:
        """Run one nox job to its end (a method, so that tests can put a fake in its place)."""
        # The runner stops the whole session tree on Ctrl-C; its own progress lines would only
        # repeat ours, so they go nowhere, and the session's output goes to the run's log file.
        # With the project, a warm session's pytest starts without nox (suitekit._runner._direct).
        (outcome,) = Runner(
            root=self.project.root,
            parallel=True,
            stream=io.StringIO(),
            extra_env=self.env,
            project=self.project,
        ).run([job])
        return outcome

    # --- the replays ----------------------------------------------------------------------

    def replay(self, python: Path, order: Sequence[str], target: str) -> Outcome:
        """Run ``order`` then ``target`` serially in one process; the target's outcome.

        Raises:
            _BudgetSpentError: The test's replays are used up.
            _ReplayError: The replay left no run log, or the log lacks the target.
        """
        if self.used >= self.options.max_replays:
            raise _BudgetSpentError
        self.used += 1
        return self.execute(python, order, target)

    def execute(self, python: Path, order: Sequence[str], target: str) -> Outcome:
        """One replay's pytest process, with the suite's environment and services.

        Raises:
            _ReplayError: The replay left no run log, or the log lacks the target.
        """
        with tempfile.TemporaryDirectory(prefix="suitekit-flaky-") as scratch:
            order_file = Path(scratch) / "order.txt"
            log = Path(scratch) / "run.json"
            order_file.write_text(order_text([*order, target]), encoding="utf-8")
            argv = [
                str(python),
                "-m",
                "pytest",
                *replay_args(self.project, self.suite, order_file=order_file, log=log),
            ]
            done = subprocess.run(
                argv,
                cwd=self.project.root,
                env={
                    **self.environ,
                    **plan.suite_env(self.project, self.suite),
                    **self.env,
                    **self.replay_env,
                },
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
            )
            try:
                outcome = RunLog.read(log).outcome_of(target)
            except ReportError as error:
                message = f"{error}; the end of its output:\n{_tail(done.stdout + done.stderr)}"
                raise _ReplayError(message) from None
        if outcome is None:
            message = f"the replay did not run {target}:\n{_tail(done.stdout + done.stderr)}"
            raise _ReplayError(message)
        return outcome

    def explain(self, test: FlakyTest, runs: Sequence[Run]) -> Cause:
        """Replay the failures of ``test`` serially, and shrink an order that reproduces one."""
        self.used = 0
        python = session_python(self.project, self.session)
        if python is None:
            return Cause(
                node_id=test.node_id,
                kind="unknown",
                detail=f"the session's virtualenv is missing (run `nox -s {self.session}`)",
            )
        notes: list[str] = []
        alone: list[Outcome] = []
        tried = sorted(test.failed_runs, key=lambda number: len(_before(runs, number, test)))
        try:
            for number in tried:
                prefix = _before(runs, number, test)
                self.replay_env = self.hashseed(runs[number - 1].seed)  # as in that run
                if not self.reproduces(python, test, number, prefix, notes):
                    continue
                while len(alone) < _CONFIRMATIONS:
                    alone.append(self.replay(python, (), test.node_id))
                alone_fails = sum(failing(outcome) for outcome in alone)
                if not alone_fails:
                    return self.shrink(python, test, number, prefix)
                notes.append(
                    f"run {number}: failed after its {len(prefix)} earlier tests, and alone "
                    f"too ({alone_fails} of {len(alone)} replays)"
                )
                break
        except _BudgetSpentError:
            notes.append(f"replay budget of {self.options.max_replays} spent")
        except _ReplayError as error:
            return Cause(node_id=test.node_id, kind="unknown", replays=self.used, detail=str(error))
        return Cause(
            node_id=test.node_id,
            kind="random",
            replays=self.used,
            capped=self.used >= self.options.max_replays,
            detail="; ".join(notes) or "no replay reproduced it",
        )

    def reproduces(
        self, python: Path, test: FlakyTest, number: int, prefix: Sequence[str], notes: list[str]
    ) -> bool:
        """Whether ``test`` fails in every confirming replay after ``prefix`` (else a note)."""
        if not prefix:
            notes.append(f"run {number}: it failed as the first test on its worker")
            return False
        self.say(
            f"suitekit flaky: replaying {test.node_id} after the {len(prefix)} tests before it "
            f"in run {number}"
        )
        for replay in range(_CONFIRMATIONS):
            if not failing(self.replay(python, prefix, test.node_id)):
                notes.append(
                    f"run {number}: passed after its {len(prefix)} earlier tests "
                    f"(replay {replay + 1} of {_CONFIRMATIONS})"
                )
                return False
        return True

    def shrink(self, python: Path, test: FlakyTest, number: int, prefix: Sequence[str]) -> Cause:
        """Delta-debug ``prefix``: the fewest of these tests after which ``test`` still fails."""

        def still_fails(subset: tuple[str, ...]) -> bool:
            return failing(self.replay(python, subset, test.node_id))

        budget = max(self.options.max_replays - self.used, 0)
        found = ddmin(prefix, still_fails, max_calls=budget)
        order_file = _order_file(self.folder, self.project.root, test.node_id)
        run = f"run {number}"
        args = ("-n", "0", f"{OPT_RETRIES}=0", f"{OPT_ORDER_FILE}={order_file}")
        command = shlex.join(["nox", "-s", self.session, "--", *args])
        write_text_atomic(
            self.project.root / order_file,
            order_text(
                [*found.items, test.node_id],
                comment=(
                    f"suitekit flaky: {test.node_id} (last) fails after the tests before it,",
                    f"found from {run} of suite {self.suite.name!r} ({self.session}).",
                    f"Replay: {command}",
                ),
            ),
        )
        return Cause(
            node_id=test.node_id,
            kind="order",
            run=number,
            prefix=found.items,
            replays=self.used,
            capped=found.capped,
            detail=(
                f"it passes alone; {len(found.items)} of the {len(prefix)} tests before it suffice"
                if len(found.items) < len(prefix)
                else "it passes alone; every test that ran before it is needed"
            ),
            order_file=order_file,
            command=command,
        )


def _read_run(
    log: Path,
    code: int | None,
    output: Path,
    *,
    read: Callable[[Path], RunLog] = RunLog.read,
    what: str = "run log",
) -> tuple[RunLog | None, str, str]:
    """A finished run's log, what went wrong (``""``: nothing), and that in a few words.

    The few words go on the run's progress line; the problem goes into the finding. ``read``
    and ``what``: another runner's run log is read from its JUnit report.
    """
    try:
        found = read(log)
    except ReportError as error:
        return None, f"{error} (exit code {code}; log: {output})", f"left no {what}"
    if code not in _RAN:
        problem = (
            f"nox exited with code {code}, not 0 (passed) or 1 (tests failed): "
            f"the run itself went wrong (log: {output})"
        )
        return found, problem, f"ended with exit code {code}"
    if not found.tests:
        problem = (
            f"{log.name} has no tests: the suite collected none (exit code {code}; log: {output})"
        )
        return found, problem, "ran no test"
    return found, "", ""


def flaky_folder(project: Project, suite: Suite) -> Path:
    """``reports/flaky/<suite>/``, emptied: a previous search's files would be read as ours."""
    folder = project.root / project.reports / "flaky" / suite.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _order_file(folder: Path, root: Path, node_id: str) -> str:
    """A new order file in ``folder`` for ``node_id``, relative to ``root`` where it can be."""
    stem = slug(node_id, 100) or "test"
    path = folder / f"{stem}.order"
    index = 2
    while path.exists():  # another flaky test with the same slug in this search
        path = folder / f"{stem}-{index}.order"
        index += 1
    return _relative(path, root)


def _before(runs: Sequence[Run], number: int, test: FlakyTest) -> tuple[str, ...]:
    log = runs[number - 1].log
    return log.before(test.node_id) if log is not None else ()


def find(
    project: Project,
    options: FlakyOptions,
    *,
    environ: Mapping[str, str],
    out: IO[str] | None = None,
    base_seed: Callable[[], int] = lambda: secrets.randbelow(1_000_000),
) -> Finding:
    """Run a suite ``options.runs`` times and find its flaky tests and their causes.

    Args:
        project: The project.
        options: The suite, runs, seed, Python version and replay budget.
        environ: The environment the runs start from.
        out: Where progress and the services' messages go (stdout by default).
        base_seed: Picks the first seed when ``options.seed`` is not given.

    Returns:
        The runs, the flaky tests and what the replays found; the caller prints
        :meth:`Finding.text` and turns :attr:`Finding.ok` into an exit code.

    Raises:
        ConfigError: An unknown suite or Python version, a bad run count or seed, or a
            runner without a seeded order.
        ServiceError: A service the suite needs can be neither found nor started.
        RunError: nox cannot be started.
    """
    suite, python = _check(project, options)
    if suite.runner.kind != "pytest":
        from suitekit.flaky import _external  # noqa: PLC0415 - another runner's suite only

        return _external.find(
            project, suite, python, options, environ=environ, out=out, base_seed=base_seed
        )
    session = _layout.session_name(suite.name, python)
    folder = flaky_folder(project, suite)
    search = _Search(
        project=project,
        suite=suite,
        python=python,
        options=options,
        environ=environ,
        out=out or sys.stdout,
        folder=folder,
        session=session,
        hashseed_from_seed=plan.fixed_hashseed(project, environ) is None,
    )
    base = options.seed if options.seed is not None else base_seed()
    cpus = run_options(environ).cpus.value
    schedule = list(
        zip(seeds(base, options.runs), worker_counts(suite, options.runs, cpus), strict=True)
    )
    runs: list[Run] = []
    with services.provide(project, suite.services, environ, say=search.say) as provided:
        search.env = dict(provided)
        for number, (seed, workers) in enumerate(schedule, start=1):
            run = search.run(number, seed, workers)
            if run is None:
                return _finding(
                    search, runs, compare([r.compared for r in runs]), (), interrupted=True
                )
            runs.append(run)
        flaky = compare([run.compared for run in runs])
        causes: list[Cause] = []
        try:
            for test in flaky:
                if test.failed_runs:
                    # One at a time, so that Ctrl-C keeps the causes found so far.
                    causes.append(search.explain(test, runs))  # noqa: PERF401
        except KeyboardInterrupt:
            return _finding(search, runs, flaky, causes, interrupted=True)
    return _finding(search, runs, flaky, causes, interrupted=False)


def _finding(
    search: _Search,
    runs: Sequence[Run],
    flaky: tuple[FlakyTest, ...],
    causes: Sequence[Cause],
    *,
    interrupted: bool,
) -> Finding:
    finding = Finding(
        suite=search.suite.name,
        session=search.session,
        runs=tuple(runs),
        flaky=flaky,
        causes=tuple(causes),
        interrupted=interrupted,
    )
    return written(finding, search.folder, search.say)


def written(finding: Finding, folder: Path, say: Callable[[str], None]) -> Finding:
    """``finding``, once its report is in ``folder/flaky.txt`` (or ``say`` said why not)."""
    try:
        write_text_atomic(folder / "flaky.txt", finding.text() + "\n")
    except ReportError as error:
        say(f"suitekit flaky: {error}")
    return finding
