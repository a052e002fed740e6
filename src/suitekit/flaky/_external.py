"""``suitekit flaky`` on a suite of another runner whose order a seed shuffles: Vitest, Jest.

The search, step by step:

1. **Runs.** The suite's nox session runs N times, each with the runner's own shuffle options
   after ``--`` (:func:`run_args`: ``--sequence.shuffle --sequence.seed=S`` for Vitest,
   ``--randomize --seed=S`` for Jest; S is the base seed + the run's index) and another worker
   count, in turn: one, two, then as many as the CPUs (:func:`worker_counts`). The count goes
   in ``SUITEKIT_WORKERS`` (:func:`run_env`), which the session reads as it reads the suite's
   ``workers``: after ``--`` it would be a second ``--maxWorkers``, which Vitest refuses. Each
   run's JUnit report (the session's, ``reports/junit/<session>.xml``) is copied to
   ``reports/flaky/<suite>/run-K.xml`` and read as a run log (:func:`run_log`). A run that
   leaves no readable report, reports no test, or ends with a nox exit code other than 0 or 1
   went wrong, as a pytest run does: the search is then incomplete.
2. **Comparison.** :func:`suitekit.flaky.compare`, as for pytest.
3. **No replays.** The runner can shuffle a whole run by a seed, but not run a given order of
   tests, so no cause is searched: the finding names the runs (and seeds) each flaky test
   failed in, and the command that repeats each of them.

Pure functions at the top; the runs below.
"""

from __future__ import annotations

import io
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

from suitekit import _layout, plan, services
from suitekit._files import JUNIT_LIMIT, read_bounded
from suitekit._handoff import OPT_RETRIES
from suitekit._model import RUNNER_KINDS, Project, Suite
from suitekit._runner import Outcome as JobOutcome
from suitekit._runner import Runner as JobRunner
from suitekit.config import run_options
from suitekit.errors import ConfigError, ReportError
from suitekit.flaky import _finder
from suitekit.flaky._analysis import Finding, Run, compare
from suitekit.flaky._finder import FlakyOptions, flaky_folder, seeds, written
from suitekit.reporting import Outcome, RunLog, TestRun, first_line, junit_root
from suitekit.runners import Runner, runner_for

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

__all__ = [
    "MAX_SEED",
    "command",
    "find",
    "read_report",
    "run_args",
    "run_env",
    "run_log",
    "seeded_runner",
    "seeded_runners",
    "worker_counts",
]

MAX_SEED: Final = 0x7FFFFFFF
"""The largest seed of another runner's shuffle: Jest refuses more; Vitest gets the same limit,
so that ``--seed`` means the same whatever the runner."""
WORKER: Final = "main"
"""The worker of every test of a runner's run log: its JUnit report says which worker ran
none of them (and in what order neither; see :func:`run_log`)."""
# A case's outcome from its children, first match wins, as the merged report counts it.
_CHILDREN: Final[tuple[tuple[str, Outcome], ...]] = (
    ("failure", "failed"),
    ("error", "error"),
    ("skipped", "skipped"),
)
# A passed case with one of these failed before it passed (Surefire's retries).
_FLAKY_CHILDREN: Final = frozenset({"flakyFailure", "flakyError"})


def seeded_runners() -> tuple[str, ...]:
    """The runners ``suitekit flaky`` searches: pytest, and those that shuffle by a seed."""
    others = (kind for kind in RUNNER_KINDS if kind != "pytest")
    return ("pytest", *(kind for kind in others if runner_for(kind).shuffle_args(0) is not None))


def seeded_runner(project: Project, suite: Suite) -> Runner:
    """The runner of ``suite`` (not pytest), when it can run its tests in a seeded order.

    Raises:
        ConfigError: It cannot (Playwright, cargo, a command): the runs could not differ in
            order, and a failure could not be repeated.
    """
    kind = suite.runner.kind
    runner = runner_for(kind)
    if runner.shuffle_args(0) is not None:
        return runner
    working = seeded_runners()
    searchable = [s.name for s in project.suites if s.runner.kind in working]
    raise ConfigError(
        file=project.config_file,
        key=f"tool.suitekit.suites.{suite.name}.runner",
        value=kind,
        problem=(
            f"suite {suite.name!r} runs {kind}, which has no seeded test order: `suitekit "
            f"flaky` runs a suite in another order each run and repeats a failing run by its "
            f"seed, and {kind} cannot shuffle its tests by a seed"
        ),
        fix=(
            f"search a suite of {', '.join(working)} (this project's: "
            f"{', '.join(searchable) or 'none'}); for this one, run `nox -s {suite.name}` "
            "several times and compare its reports"
        ),
    )


def worker_counts(suite: Suite, runs: int, cpus: int) -> tuple[int, ...]:
    """Each run's worker count: one, two, then up to the CPUs (at least 3), in turn.

    pytest's counts (:func:`suitekit.flaky._finder.worker_counts`), with its serial ``-n 0``
    as one worker, the fewest another runner has; a suite declared ``workers = 0`` stays at one.
    """
    return tuple(max(workers, 1) for workers in _finder.worker_counts(suite, runs, cpus))


def run_args(runner: Runner, seed: int) -> tuple[str, ...]:
    """The arguments after ``nox -s <session> --`` of a run: the runner's shuffle by ``seed``.

    Retries are off (``--suitekit-retries=0``, which the session reads in place of the
    suite's ``retries``): a failure must show as a failure, not be retried away.

    Raises:
        ValueError: The runner has no seeded order (:func:`seeded_runner` refuses its suites).
    """
    args = runner.shuffle_args(seed)
    if args is None:
        message = f"runner {runner.name!r} has no seeded order"
        raise ValueError(message)
    return (*args, f"{OPT_RETRIES}=0")


def run_env(workers: int) -> dict[str, str]:
    """The variables of a run: its worker count, which the session resolves as the suite's."""
    return {plan.ENV_WORKERS: str(workers)}


def command(session: str, args: Sequence[str], workers: int) -> str:
    """The command that repeats a run: the same seed and worker count."""
    prefix = "".join(f"{key}={value} " for key, value in run_env(workers).items())
    return prefix + shlex.join(["nox", "-s", session, "--", *args])


def run_log(data: bytes | str, *, seed: int, workers: int) -> RunLog:
    """The run log of a runner's JUnit report.

    Each ``<testcase>`` is a test whose id is its ``classname::name`` (the name alone without a
    classname), as the merged report and the summary call it, its name stripped as the session
    leaves it. Its outcome is its first child among ``failure``, ``error`` and ``skipped``, else
    passed (``flaky`` when it failed before it passed, as Surefire's ``flakyFailure`` says),
    with the first line of that child's message. Its position is its place in the report, and
    its worker :data:`WORKER`: a runner's JUnit report gives no execution order (Vitest's lists
    a file's tests as they are declared, whatever order they ran in), which is why a runner's
    failures are never replayed from a run log.

    Raises:
        ValueError: ``data`` is not JUnit XML (the message says why).
    """
    root = junit_root(data)
    tests = []
    for position, case in enumerate(root.iter("testcase")):
        classname = case.get("classname") or ""
        name = (case.get("name") or "").strip()
        outcome, message = _outcome(case)
        tests.append(
            TestRun(
                node_id=f"{classname}::{name}" if classname else name,
                outcome=outcome,
                worker=WORKER,
                position=position,
                message=message,
            )
        )
    return RunLog(seed=seed, workers=workers, tests=tuple(tests))


def read_report(path: Path, *, seed: int, workers: int) -> RunLog:
    """The run log of the JUnit report at ``path`` (see :func:`run_log`).

    Raises:
        ReportError: The file is missing, is not a regular file, is larger than
            :data:`~suitekit._files.JUNIT_LIMIT` or is not JUnit XML.
    """
    fix = "  fix: see the run's output (the end of it is above)"
    data = read_bounded(path, limit=JUNIT_LIMIT, what="JUnit report", fix=fix)
    if data is None:
        message = f"{path}: cannot read the JUnit report: there is no such file\n{fix}"
        raise ReportError(message)
    try:
        return run_log(data, seed=seed, workers=workers)
    except ValueError as error:
        message = f"{path}: cannot read the JUnit report: {error}"
        raise ReportError(message) from None


def _outcome(case: Element) -> tuple[Outcome, str]:
    """A case's outcome and message (see :func:`run_log`)."""
    for tag, outcome in _CHILDREN:
        child = case.find(tag)
        if child is not None:
            return outcome, first_line(child.get("message") or child.text or "")
    flaky = next((child for child in case if child.tag in _FLAKY_CHILDREN), None)
    if flaky is not None:
        return "flaky", first_line(flaky.get("message") or flaky.text or "")
    return "passed", ""


def _check_seed(options: FlakyOptions, runner: Runner) -> None:
    """Refuse a base seed whose last run's seed the runner would refuse.

    Raises:
        ConfigError: The last run's seed is over :data:`MAX_SEED`.
    """
    last = MAX_SEED - options.runs + 1
    if options.seed is not None and options.seed > last:
        raise ConfigError.option(
            "--seed",
            options.seed,
            f"{options.seed} is not an order seed of {runner.name} (at most {MAX_SEED} for the "
            "last run)",
            f"pass a whole number from 0 to {last}",
        )


@dataclass(slots=True)
class _Search:
    """One search of another runner's suite: what its runs share.

    Attributes:
        report: The session's own JUnit report, which each run writes afresh.
        env: The services' variables (the servers are shared by every run).
    """

    project: Project
    suite: Suite
    runner: Runner
    options: FlakyOptions
    out: IO[str]
    folder: Path
    session: str
    report: Path
    env: dict[str, str] = field(default_factory=dict)

    def say(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def run(self, number: int, seed: int, workers: int) -> Run | None:
        """Run the suite once; ``None`` when interrupted."""
        args = run_args(self.runner, seed)
        job = replace(
            plan.nox_job(self.project, self.session, kind="suite", posargs=args),
            title=self.suite.name,
            env=run_env(workers),
            junit=self.report,
            log=self.folder / f"run-{number}.log",
        )
        shown = f"run {number}/{self.options.runs} ({workers} worker(s), seed {seed})"
        repeat = command(self.session, args, workers)
        self.say(f"suitekit flaky: {shown}: {repeat}")
        self.report.unlink(missing_ok=True)  # an earlier run's would be read as this one's
        outcome = self.launch(job)
        if outcome.status == "interrupted":
            return None
        copy = self.folder / f"run-{number}.xml"
        found, problem, what = _finder._read_run(  # noqa: SLF001 - the same judgement as pytest's
            copy,
            outcome.returncode,
            job.log,
            read=lambda path: self.keep(path, seed=seed, workers=workers),
            what="JUnit report",
        )
        if problem:
            output = job.log.read_text(errors="replace") if job.log.exists() else ""
            self.say(f"suitekit flaky: {shown} {what}; the end of its output:")
            self.say(_finder._tail(output))  # noqa: SLF001 - as pytest's runs print it
        result = Run(
            number=number, seed=seed, workers=workers, command=repeat, log=found, problem=problem
        )
        self.say(f"suitekit flaky: {shown}: {result.counts()} in {outcome.seconds:.1f}s")
        return result

    def keep(self, copy: Path, *, seed: int, workers: int) -> RunLog:
        """Copy the session's report to ``copy`` and read that as the run's log.

        Raises:
            ReportError: The session wrote no report, it cannot be copied, or it is no JUnit.
        """
        try:
            shutil.copyfile(self.report, copy)
        except FileNotFoundError:
            message = f"{self.report}: the session wrote no JUnit report"
            raise ReportError(message) from None
        except OSError as error:
            message = f"{self.report}: cannot copy it to {copy} ({error.strerror or error})"
            raise ReportError(message) from None
        return read_report(copy, seed=seed, workers=workers)

    def launch(self, job: plan.Job) -> JobOutcome:
        """Run one nox job to its end (a method, so that tests can put a fake in its place)."""
        # As for pytest's runs: the runner stops the session tree on Ctrl-C, its progress
        # lines would repeat ours, and the session's output goes to the run's log file.
        (outcome,) = JobRunner(
            root=self.project.root, parallel=True, stream=io.StringIO(), extra_env=self.env
        ).run([job])
        return outcome

    def finding(self, runs: Sequence[Run], *, interrupted: bool) -> Finding:
        """The finding of these runs, also written to ``flaky.txt``."""
        finding = Finding(
            suite=self.suite.name,
            session=self.session,
            runs=tuple(runs),
            flaky=compare([run.compared for run in runs]),
            interrupted=interrupted,
            runner=self.runner.name,
        )
        return written(finding, self.folder, self.say)


def find(
    project: Project,
    suite: Suite,
    python: str,
    options: FlakyOptions,
    *,
    environ: Mapping[str, str],
    out: IO[str] | None,
    base_seed: Callable[[], int],
) -> Finding:
    """Run another runner's suite ``options.runs`` times in seeded orders and compare the runs.

    :func:`suitekit.flaky._finder.find` calls it with the suite and Python version it checked.

    Raises:
        ConfigError: The suite's runner has no seeded order, or the seed is too large for it.
        ServiceError: A service the suite needs can be neither found nor started.
        RunError: nox cannot be started.
    """
    runner = seeded_runner(project, suite)
    _check_seed(options, runner)
    session = _layout.session_name(suite.name, python)
    search = _Search(
        project=project,
        suite=suite,
        runner=runner,
        options=options,
        out=out or sys.stdout,
        folder=flaky_folder(project, suite),
        session=session,
        report=plan.junit_path(project, suite, python),
    )
    base = options.seed if options.seed is not None else base_seed()
    cpus = run_options(environ).cpus.value
    schedule = zip(seeds(base, options.runs), worker_counts(suite, options.runs, cpus), strict=True)
    runs: list[Run] = []
    with services.provide(project, suite.services, environ, say=search.say) as provided:
        search.env = dict(provided)
        for number, (seed, workers) in enumerate(schedule, start=1):
            run = search.run(number, seed, workers)
            if run is None:
                return search.finding(runs, interrupted=True)
            runs.append(run)
    return search.finding(runs, interrupted=False)
