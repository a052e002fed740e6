"""The invoke adapter: one import in a tasks.py gives a task per suite and per check.

Usage, in the project's ``tasks.py``::

    from suitekit.invoke import ns as ns

which gives ``inv test.<suite>``, ``inv check.<name>``, ``inv test.all``,
``inv test.all --parallel`` and ``inv test.flaky SUITE --runs N``. Every task runs the matching
nox session as a subprocess: the exact command CI runs (:func:`suitekit.plan.nox_command`);
``test.flaky`` runs it several times (:mod:`suitekit.flaky._finder`). Projects that want tasks of
their own build the namespace with :func:`namespace` and add to it.

This is the only module of suitekit that imports invoke.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import Task

from suitekit import plan, services
from suitekit._model import Project
from suitekit.config import CliOverrides, load_project, run_options
from suitekit.errors import ConfigError, SuitekitError
from suitekit.flaky import DEFAULT_RUNS

# Every `inv` start builds the namespace; what only a task's run needs (the runner, the flaky
# finder) is imported when the task runs.

__all__ = ["namespace"]


def namespace(root: Path | str | None = None) -> Collection:
    """Build the task collection of the project at ``root`` (found from the current folder).

    Raises:
        invoke.exceptions.Exit: The declaration is malformed (the message says where and how).
    """
    try:
        project = load_project(Path(root) if root is not None else None)
    except SuitekitError as error:
        message = f"suitekit: {error}"
        raise Exit(message, code=2) from None
    test = Collection("test")
    for suite in project.suites:
        test.add_task(_suite_task(project, suite.name), name=suite.name)
    test.add_task(_all_task(project), name="all", default=False)
    test.add_task(_flaky_task(project), name="flaky")
    check = Collection("check")
    for item in project.checks:
        check.add_task(_check_task(project, item.name), name=item.name)
    root_collection = Collection()
    root_collection.add_task(_clean_task(project), name="clean")
    for job in plan.report_jobs(project):
        root_collection.add_task(_session_task(project, job), name=job.session)
    root_collection.add_collection(test)
    if project.checks:
        root_collection.add_collection(check)
    return root_collection


def _task(
    body: Callable[..., None],
    doc: str,
    help_: dict[str, str] | None = None,
    *,
    short_flags: bool = True,
) -> Task[Any]:
    """A task; ``short_flags=False``: long flags only (see :func:`_flaky_task`)."""
    body.__doc__ = doc
    return Task(body, help=help_ or {}, auto_shortflags=short_flags)


def _exit_code(code: int) -> None:
    if code:
        raise Exit(code=code)


_REINSTALL_HELP = "install each session's virtualenv again, even when nothing it depends on changed"
_NO_COVERAGE_HELP = "measure no coverage (faster; no coverage gate at the end)"


def _suite_task(project: Project, name: str) -> Task[Any]:
    spec = next(s for s in plan.sessions(project) if s.name == name)

    def run(c: Context, reinstall: bool = False, no_coverage: bool = False) -> None:  # noqa: FBT001, FBT002 - invoke maps these to flags
        _exit_code(
            _run(
                project,
                suites=[name],
                checks=[],
                reinstall=reinstall,
                coverage=not no_coverage,
                posargs=_remainder(c),
            )
        )

    return _task(
        run,
        f"{spec.description.rstrip('.')}; runs `nox -s {name}-<python>`; arguments after `--` "
        "go to its runner (`inv test.unit -- -k isbn -x`).",
        {"reinstall": _REINSTALL_HELP, "no-coverage": _NO_COVERAGE_HELP},
    )


def _remainder(c: Context) -> tuple[str, ...]:
    """What was given after ``--`` on the command line, as its separate arguments.

    invoke keeps it as one string joined by blanks (``c.remainder``), which loses the quoting
    of an argument with a blank in it (``-k "isbn and not slow"``); the words after the first
    ``--`` of ``sys.argv`` are the same arguments, unjoined, whenever they join into it.
    """
    if not c.remainder:
        return ()
    argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    if " ".join(argv) == c.remainder:
        return tuple(argv)
    try:
        return tuple(shlex.split(c.remainder))
    except ValueError:  # an unbalanced quote: the words as invoke joined them
        return tuple(c.remainder.split())


def _check_task(project: Project, name: str) -> Task[Any]:
    spec = next(s for s in plan.sessions(project) if s.name == name)

    def run(c: Context, reinstall: bool = False) -> None:  # noqa: FBT001, FBT002 - invoke maps these to flags
        del c
        _exit_code(_run(project, suites=[], checks=[name], reinstall=reinstall))

    return _task(
        run,
        f"{spec.description.rstrip('.')}; runs `nox -s {name}`.",
        {"reinstall": _REINSTALL_HELP},
    )


def _all_task(project: Project) -> Task[Any]:
    def run(  # noqa: PLR0917 - invoke passes a task's flags by keyword or position
        c: Context,
        parallel: bool = False,  # noqa: FBT001, FBT002 - invoke maps these to flags
        fail_fast: bool = False,  # noqa: FBT001, FBT002
        cpus: int = 0,
        no_coverage: bool = False,  # noqa: FBT001, FBT002
        reinstall: bool = False,  # noqa: FBT001, FBT002
        quiet: bool = False,  # noqa: FBT001, FBT002
        verbose: bool = False,  # noqa: FBT001, FBT002
    ) -> None:
        if c.remainder:
            message = (
                f"suitekit: inv test.all takes no arguments after -- ({c.remainder!r}): they "
                "would go to every suite's runner; give them to one suite: inv test.<suite> -- ..."
            )
            raise Exit(message, code=2)
        code = _run(
            project,
            suites=None,
            checks=None,
            whole=True,
            parallel=parallel,
            fail_fast=fail_fast,
            cpus=cpus if cpus != 0 else None,
            coverage=not no_coverage,
            reinstall=reinstall,
            verbosity=int(verbose) - int(quiet),
        )
        _exit_code(code)

    return _task(
        run,
        "Every suite and check, then the partition guard (from what the suites collected), "
        "the report and the coverage gate.",
        {
            "parallel": "run every suite and check at once, sharing the CPUs between suites",
            "fail-fast": "stop everything as soon as a required session fails",
            "cpus": "the CPU budget the suites share (default: SUITEKIT_CPUS, else the CPU count)",
            "no-coverage": _NO_COVERAGE_HELP,
            "reinstall": _REINSTALL_HELP,
            "quiet": "say only failures and the summary",
            "verbose": "also a progress line per running session every few seconds (where no "
            "live status is drawn, e.g. in a CI log)",
        },
    )


def _flaky_task(project: Project) -> Task[Any]:
    def run(
        c: Context, suite: str, runs: int = DEFAULT_RUNS, seed: str = "", python: str = ""
    ) -> None:
        del c
        try:
            from suitekit.flaky import FlakyOptions, find  # noqa: PLC0415 - see the top

            options = FlakyOptions(suite=suite, runs=runs, seed=_seed(seed), python=python or None)
            finding = find(project, options, environ=os.environ, out=sys.stdout)
        except SuitekitError as error:
            message = f"suitekit: {error}"
            raise Exit(message, code=2) from None
        print(finding.text())  # noqa: T201 - the task's output
        _exit_code(130 if finding.interrupted else 0 if finding.ok else 1)

    return _task(
        run,
        "Run a suite (pytest, Vitest or Jest) N times in random orders and worker counts; "
        "report its flaky tests, how to reproduce each failure, and, for pytest, the fewest "
        "earlier tests an order-dependent one needs.",
        {
            "suite": "the suite to run",
            "runs": f"how many runs (default {DEFAULT_RUNS}; at least 2)",
            "seed": "the first run's order seed; run k gets seed + k - 1 (default: random)",
            "python": "the Python version of the suite's session (default: its first)",
        },
        # invoke would make --python -p and --runs -r, which are --parallel and --reinstall
        # in the other tasks: a short flag means one thing in every task, or is not offered.
        short_flags=False,
    )


def _seed(text: str) -> int | None:
    """The ``--seed`` option: empty for a random seed, else a whole number.

    Raises:
        ConfigError: ``text`` is not a whole number.
    """
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise ConfigError.option(
            "--seed",
            text,
            f"{text!r} is not an order seed",
            "pass a whole number of 0 or more, or leave --seed out for a random one",
        )
    return int(text)


def _session_task(project: Project, job: plan.Job) -> Task[Any]:
    spec = next(s for s in plan.sessions(project) if s.name == job.session)

    def run(c: Context) -> None:
        del c
        try:
            from suitekit._runner import Runner  # noqa: PLC0415 - see the top

            (outcome,) = Runner(root=project.root, project=project).run([job])
        except SuitekitError as error:
            message = f"suitekit: {error}"
            raise Exit(message, code=2) from None
        _exit_code(0 if outcome.status == "passed" else 1)

    return _task(run, f"{spec.description}; runs `{' '.join(job.command)}`.")


def _clean_task(project: Project) -> Task[Any]:
    def run(c: Context) -> None:
        del c
        try:
            report = services.clean(project, os.environ, say=print)
        except SuitekitError as error:
            message = f"suitekit: {error}"
            raise Exit(message, code=2) from None
        print(report.summary())  # noqa: T201 - the task's output

    return _task(run, "Remove servers, databases, Redis leases and folders that killed runs left.")


def _run(
    project: Project,
    *,
    suites: list[str] | None,
    checks: list[str] | None,
    whole: bool = False,
    parallel: bool = False,
    fail_fast: bool = False,
    cpus: int | None = None,
    coverage: bool = True,
    reinstall: bool = False,
    posargs: tuple[str, ...] = (),
    verbosity: int = 0,
) -> int:
    try:
        cli = CliOverrides(cpus=cpus, no_coverage=not coverage)
        options = run_options(os.environ, cli=cli)
        run = plan.run_plan(
            project,
            suites=suites,
            checks=checks,
            whole=whole,
            parallel=parallel,
            fail_fast=fail_fast,
            options=options,
            reinstall=reinstall,
            posargs=posargs,
        )
        from suitekit._runner import execute  # noqa: PLC0415 - see the top

        return execute(project, run, verbosity=verbosity)
    except SuitekitError as error:
        message = f"suitekit: {error}"
        raise Exit(message, code=2) from None


def __getattr__(name: str) -> Collection:
    """``from suitekit.invoke import ns``: the namespace of the project in the current folder."""
    if name == "ns":
        return namespace()
    message = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(message)
