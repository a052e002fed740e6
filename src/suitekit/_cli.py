"""The ``suitekit`` command (and ``python -m suitekit``).

Subcommands:

- ``suitekit config``: validate ``[tool.suitekit]`` and show what it declares;
- ``suitekit plan``: the exact commands a run executes (the ones CI runs too);
- ``suitekit suites``: run the partition guard: which suite owns how many tests;
- ``suitekit run``: run suites and checks (what ``inv test.all`` does);
- ``suitekit shards SUITE --count N``: how N shards would split a suite, by recorded durations;
- ``suitekit flaky SUITE --runs N``: run a suite N times in random orders and worker counts,
  report the tests whose outcome changed and the fewest earlier tests a failure needs (pytest;
  a Vitest or Jest suite is shuffled by the runner's seed, and not replayed);
- ``suitekit clean``: remove what killed runs left (servers, databases, leases, folders);
- ``suitekit ci github|gitlab``: write the CI file; ``suitekit ci check``: fail when stale.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from suitekit._handoff import PluginArgs
from suitekit._layout import session_name
from suitekit.errors import CiError, ConfigError, ReportError, RunError, SuitekitError
from suitekit.flaky import DEFAULT_RUNS

# Each command imports what it runs: `suitekit --help` loads argparse and little else, and
# `suitekit plan` never loads the runner, services, reporting or CI code.
if TYPE_CHECKING:
    from suitekit import ci, plan
    from suitekit._model import Project

__all__ = ["main"]

_INTERRUPTED: Final = 130
"""The exit code of a command stopped by Ctrl-C (or SIGTERM)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="suitekit",
        description="One declaration of a project's test suites, run the same way everywhere.",
    )
    parser.add_argument(
        "--project",
        type=Path,
        default=None,
        help="the project folder or its pyproject.toml (default: found from the current folder)",
    )
    parser.add_argument("--version", action=_Version, help="print suitekit's version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    config = commands.add_parser(
        "config", help="validate [tool.suitekit] and show what it declares"
    )
    plan_parser = commands.add_parser("plan", help="print the commands a run executes")
    suites = commands.add_parser("suites", help="check the partition; count each suite's tests")
    commands.add_parser(
        "coverage", help="combine the suites' coverage data, report it, apply fail-under"
    )
    report = commands.add_parser(
        "report", help="merge the run's JUnit files; print and write the summary"
    )
    report.add_argument(
        "--slowest", type=_count, default=10, help="how many slow tests to list (0 or more)"
    )
    clean = commands.add_parser(
        "clean", help="remove servers, databases, leases and folders that killed runs left"
    )
    clean.add_argument(
        "--templates",
        action="store_true",
        help="also drop this project's kept template databases (rebuilt by the next run)",
    )
    shards = commands.add_parser(
        "shards", help="print how a suite splits into shards by its recorded durations"
    )
    shards.add_argument("suite", help="the suite to split")
    shards.add_argument(
        "--count", type=int, default=None, help="how many shards (default: the suite's shards)"
    )
    flaky = commands.add_parser(
        "flaky",
        help=(
            "run a suite (pytest, Vitest or Jest) N times in random orders and worker counts; "
            "report its flaky tests"
        ),
    )
    flaky.add_argument("suite", help="the suite to run")
    flaky.add_argument(
        "--runs", type=_count, default=DEFAULT_RUNS, help=f"how many runs (default {DEFAULT_RUNS})"
    )
    flaky.add_argument(
        "--seed", type=_count, default=None, help="the first run's order seed (default: random)"
    )
    flaky.add_argument(
        "--python", default=None, help="the Python version to run (default: the suite's first)"
    )
    ci_parser = commands.add_parser(
        "ci", help="write the CI files [tool.suitekit] generates, or check them for drift"
    )
    ci_commands = ci_parser.add_subparsers(dest="ci_command", required=True, metavar="ACTION")
    for provider, name in (("github", "GitHub Actions workflow"), ("gitlab", "GitLab CI file")):
        writer = ci_commands.add_parser(provider, help=f"write the {name}")
        writer.add_argument("--stdout", action="store_true", help="print it instead")
    ci_commands.add_parser(
        "check", help="fail, with a diff, when a CI file differs from what it would be now"
    )
    for sub in (config, plan_parser, suites, report, shards, flaky):
        sub.add_argument(
            "--json",
            action="store_true",
            help="print the result as JSON (a versioned document: see docs/guide.md); what "
            "the command says besides goes to stderr",
        )
    run = commands.add_parser("run", help="run suites and checks, then print a summary")
    for sub in (plan_parser, run):
        sub.add_argument("names", nargs="*", help="suites and checks to run (default: all of them)")
        sub.add_argument("--parallel", action="store_true", help="run them all at once")
        sub.add_argument("--cpus", type=int, default=None, help="the CPU budget to share")
        sub.add_argument(
            "--no-coverage", action="store_true", help="measure no coverage (no gate at the end)"
        )
    run.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    loudness = run.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="count", default=0, help="say only failures and the summary"
    )
    loudness.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="also a progress line per running session every few seconds (where no live "
        "status is drawn)",
    )
    run.add_argument(
        "--reinstall",
        action="store_true",
        help="install each session's virtualenv again, even when nothing it depends on changed",
    )
    run.add_argument(
        "--no-guard", action="store_true", help="skip the partition guard of a whole run"
    )
    return parser


def _count(text: str) -> int:
    if not text.isdigit():
        message = f"{text!r} is not a whole number of 0 or more"
        raise argparse.ArgumentTypeError(message)
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    from suitekit.config import load_project  # noqa: PLC0415 - not for --help or a usage error

    try:
        project = load_project(args.project)
        return _COMMANDS[args.command](project, args)
    except SuitekitError as error:
        print(f"suitekit: {error}", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `suitekit plan --json | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


class _Version(argparse.Action):
    """``--version``: looked up only when asked, not on every start."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str) -> None:  # noqa: A002
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        del namespace, values, option_string
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            found = version("suitekit")
        except PackageNotFoundError:  # a checkout on sys.path, not installed
            found = "(not installed)"
        print(f"suitekit {found}")  # noqa: T201
        parser.exit()


def _print_json(document: object) -> None:
    import json  # noqa: PLC0415 - --json only

    print(json.dumps(document, indent=2))  # noqa: T201 - the command's output


def _config(project: Project, args: argparse.Namespace) -> int:
    from suitekit.config import check_registered_markers  # noqa: PLC0415 - this command's

    check_registered_markers(project)
    if args.json:
        from suitekit import _json  # noqa: PLC0415 - --json only

        _print_json(_json.config_document(project))
        return 0
    print(describe(project))  # noqa: T201 - the command's output
    return 0


def _clean(project: Project, args: argparse.Namespace) -> int:
    from suitekit import services  # noqa: PLC0415 - each command imports what it runs

    print(services.clean(project, os.environ, say=print).summary())  # noqa: T201
    if args.templates:
        count = services.clean_templates(project, os.environ, say=print)
        print(f"suitekit clean: {count} kept template(s) dropped")  # noqa: T201
    return 0


def _coverage(project: Project, args: argparse.Namespace) -> int:
    del args
    from suitekit.reporting import combine  # noqa: PLC0415 - only this command needs it

    result = combine(project)
    print(result.report)  # noqa: T201
    print(result.summary())  # noqa: T201
    return 0 if result.ok else 1


def _report(project: Project, args: argparse.Namespace) -> int:
    from suitekit.reporting import report  # noqa: PLC0415 - only this command needs it

    if not args.json:
        with _file_faults():
            return report(project, environ=os.environ, out=sys.stdout, slowest=args.slowest)
    from suitekit import _json  # noqa: PLC0415 - --json only
    from suitekit.reporting import Summary  # noqa: PLC0415 - --json only, for the type

    # The report writes its files and its text as ever (the text to stderr); the document is
    # made of the summary that text shows, and printed only when the report raised nothing.
    summaries: list[Summary] = []
    with _file_faults():
        code = report(
            project,
            environ=os.environ,
            out=sys.stderr,
            slowest=args.slowest,
            summarised=summaries.append,
        )
    artifacts = _json.Artifacts.of(project, os.environ)
    _print_json(_json.report_document(summaries[-1], exit_code=code, artifacts=artifacts))
    return code


@contextlib.contextmanager
def _file_faults() -> Iterator[None]:
    """Turn a file system fault that escaped the library into a ReportError (exit 2).

    The report and the runner turn the faults they expect (a full or read-only ``reports``
    folder, a broken store) into errors that say what to do; this is the net under them, so
    that a fault nobody foresaw is still one line that names the file, not a traceback.
    """
    from suitekit._files import write_problem  # noqa: PLC0415 - only these commands need it

    try:
        yield
    except OSError as error:
        where = f"{os.fsdecode(error.filename)}: " if error.filename else ""
        _, fix = write_problem(Path(), error).split("\n", 1)
        message = f"{where}{error.strerror or error}\n{fix}"
        raise ReportError(message) from None


def _suites(project: Project, args: argparse.Namespace) -> int:
    from suitekit import plan  # noqa: PLC0415 - only this command needs it
    from suitekit._runner import run_jobs  # noqa: PLC0415

    guard = plan.partition_job(project)
    if not args.json:
        return run_jobs(project.root, [], guard=guard)
    import dataclasses  # noqa: PLC0415 - --json only

    # The partition session's pytest writes the document (--suitekit-json-out) beside the
    # table it prints; the session's output goes to stderr.
    with _json_scratch() as document_path:
        extra = PluginArgs(json_out=str(document_path)).to_argv()
        separator = () if "--" in guard.command else ("--",)
        job = dataclasses.replace(guard, command=(*guard.command, *separator, *extra))
        code = run_jobs(project.root, [], guard=job, stream=sys.stderr)
        session = f"the partition session (nox -s {plan.PARTITION_SESSION})"
        return _relay(document_path, "suites", code, what=session)


@contextlib.contextmanager
def _json_scratch() -> Iterator[Path]:
    """A private file name, in a folder removed afterwards, for a session's document."""
    import tempfile  # noqa: PLC0415 - --json only

    with tempfile.TemporaryDirectory(prefix="suitekit-json-") as scratch:
        yield Path(scratch) / "document.json"


def _relay(path: Path, command: str, code: int, *, what: str, failed: bool = False) -> int:
    """Print the document the plugin wrote to ``path``; return ``code``.

    ``failed``: the session failed in a way that leaves its document incomplete (a collection
    error leaves tests out of a shard plan): it is not printed, as if there were none.

    Raises:
        RunError: There is none (the session stopped before it checked anything, or failed:
            its output, on stderr, says why); not raised when the run was interrupted.
    """
    from suitekit import _json  # noqa: PLC0415 - --json only

    document = None if failed else _json.read_document(path, f"suitekit-{command}")
    if document is None:
        if code == _INTERRUPTED:
            return code
        ended = (
            f"failed (exit code {code}), so its JSON document would leave tests out"
            if failed
            else f"ended (exit code {code}) without writing the JSON document"
        )
        message = (
            f"{what} {ended}; its output above says why: fix that, or run "
            f"`suitekit {command}` without --json to see it"
        )
        raise RunError(message)
    _print_json(document)
    return code


def _shards(project: Project, args: argparse.Namespace) -> int:
    """Collect the suite in this Python (as ``pytest`` would) and print its shard plan."""
    from suitekit.config import pytest_suite  # noqa: PLC0415 - this command only

    runs = f"nox -s {args.suite} -- --shard K/N"
    suite = pytest_suite(
        project,
        args.suite,
        command="`suitekit shards`",
        purpose="plans",
        fix=f"its shards are split when they run: {runs} (see docs/runners.md)",
    )
    count = args.count if args.count is not None else max(suite.shards, 1)
    if count < 1:
        raise ConfigError.option(
            "--count",
            count,
            f"{count} is not a shard count",
            "pass --count 2 or more (or leave it out for the suite's shards)",
        )
    with _json_scratch() as document_path:
        handoff = PluginArgs(
            project=str(project.config_file),
            suite=suite.name,
            plan_shards=count,
            json_out=str(document_path) if args.json else None,
        )
        command = [
            str(_suite_python(project, suite.name, suite.python[0])),
            "-m",
            "pytest",
            *handoff.to_argv(),
            "-n",
            "0",
            "-q",
            "-p",
            "no:cacheprovider",
            *suite.pytest_args,
        ]
        code = _collect(project, command, json=args.json)
        # pytest's 5, "no tests", is an empty plan, not a failure; 130 is a Ctrl-C.
        failed = code not in (0, 5, _INTERRUPTED)
        if failed:
            print(  # noqa: T201
                f"suitekit: collecting suite {suite.name!r} with {command[0]} failed; run "
                f"`nox -s {suite.name}-{suite.python[0]}` once so that its virtualenv exists, "
                "or install the project's test dependencies here",
                file=sys.stderr,
            )
        if args.json:
            # As `suites --json`: the document, else an error that says why there is none. A
            # plan is written despite a collection error: of the tests that did collect.
            what = f"collecting suite {suite.name!r} with {command[0]}"
            return _relay(document_path, "shards", code, what=what, failed=failed)
    return code


def _collect(project: Project, command: Sequence[str], *, json: bool) -> int:
    """Run the collection that prints the shard plan; with ``json``, its output to stderr."""
    import subprocess  # noqa: PLC0415 - only this command needs it

    # The plan needs collection only; the plugin prints it and runs nothing.
    if not json:
        return subprocess.run(command, cwd=project.root, check=False).returncode
    ran = subprocess.run(
        command,
        cwd=project.root,
        check=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    sys.stderr.write(ran.stdout)
    return ran.returncode


def _suite_python(project: Project, suite: str, python: str) -> Path:
    """The suite session's own interpreter, or this one when nox has not made it yet.

    The session's virtualenv has the project's test dependencies, which collection imports.
    """
    from suitekit.flaky import session_python  # noqa: PLC0415 - only this command needs it

    return session_python(project, session_name(suite, python)) or Path(sys.executable)


def _flaky(project: Project, args: argparse.Namespace) -> int:
    from suitekit.flaky import FlakyOptions, find  # noqa: PLC0415 - only this command needs it

    options = FlakyOptions(suite=args.suite, runs=args.runs, seed=args.seed, python=args.python)
    out = sys.stderr if args.json else sys.stdout
    finding = find(project, options, environ=os.environ, out=out)
    print(finding.text(), file=out)  # the command's output (with --json, for people)
    if args.json:
        from suitekit import _json  # noqa: PLC0415 - --json only

        _print_json(_json.flaky_document(finding))
    if finding.interrupted:
        return _INTERRUPTED
    return 0 if finding.ok else 1


def _run_plan(project: Project, args: argparse.Namespace) -> plan.RunPlan:
    from suitekit import plan  # noqa: PLC0415 - only the commands that plan a run need it
    from suitekit.config import CliOverrides, run_options  # noqa: PLC0415 - as above

    suites, checks = _split_names(project, args.names)
    cli = CliOverrides(cpus=args.cpus, no_coverage=args.no_coverage)
    options = run_options(os.environ, cli=cli)
    return plan.run_plan(
        project,
        suites=suites,
        checks=checks,
        whole=not args.names,
        guard=not getattr(args, "no_guard", False),
        parallel=args.parallel,
        fail_fast=getattr(args, "fail_fast", False),
        options=options,
        reinstall=getattr(args, "reinstall", False),
    )


def _plan(project: Project, args: argparse.Namespace) -> int:
    run = _run_plan(project, args)
    if args.json:
        from suitekit import _json  # noqa: PLC0415 - --json only

        _print_json(_json.plan_document(project, run))
        return 0
    shared = " ".join(f"{key}={value}" for key, value in run.env.items())
    for job in run.jobs:
        env = " ".join(part for part in (shared, *(f"{k}={v}" for k, v in job.env.items())) if part)
        print(f"{env + ' ' if env else ''}{' '.join(job.command)}")  # noqa: T201
    return 0


def _run(project: Project, args: argparse.Namespace) -> int:
    from suitekit._runner import execute  # noqa: PLC0415 - only this command runs sessions

    with _file_faults():
        return execute(project, _run_plan(project, args), verbosity=args.verbose - args.quiet)


def _ci(project: Project, args: argparse.Namespace) -> int:
    if args.ci_command == "check":
        return _ci_check(project)
    from suitekit import ci  # noqa: PLC0415 - only this command needs it
    from suitekit._files import write_text_atomic  # noqa: PLC0415

    provider: ci.Provider = args.ci_command
    text = ci.render(project, provider)
    _, warning = ci.suitekit_source(project)
    if warning:
        print(f"suitekit: warning: {warning}", file=sys.stderr)  # noqa: T201
    if args.stdout:
        sys.stdout.write(text)
        return 0
    files = [(ci.output_path(project, provider), text)]
    comment = ci.comment_output_path(project) if provider == "github" else None
    if comment is not None:
        files.append((comment, ci.render_comment(project)))
    for path, content in files:
        shown = path.relative_to(project.root).as_posix()
        try:
            unchanged = path.read_text(encoding="utf-8") == content
        except (OSError, UnicodeDecodeError):
            unchanged = False
        if unchanged:
            print(f"suitekit: {shown} is already up to date")  # noqa: T201
            continue
        write_text_atomic(path, content, failure=CiError)
        lines = len(content.splitlines())
        print(f"suitekit: wrote {shown} ({lines} lines); commit it")  # noqa: T201
    return 0


def _ci_check(project: Project) -> int:
    from suitekit import ci  # noqa: PLC0415 - only this command needs it

    states = ci.check(project)
    stale = [state for state in states if state.state != "current"]
    for state in stale:
        sys.stdout.write(state.diff)
        print(f"suitekit: {state.describe()}")  # noqa: T201
    if stale:
        return 1
    print(f"suitekit: CI files are up to date: {', '.join(s.path for s in states)}")  # noqa: T201
    for line in ci.bumped_pins(project):
        print(f"suitekit: kept the committed pin {line}: check it is that release")  # noqa: T201
    return 0


_COMMANDS: Final[Mapping[str, Callable[[Project, argparse.Namespace], int]]] = {
    "config": _config,
    "coverage": _coverage,
    "clean": _clean,
    "suites": _suites,
    "plan": _plan,
    "report": _report,
    "run": _run,
    "shards": _shards,
    "flaky": _flaky,
    "ci": _ci,
}


def _split_names(
    project: Project, names: Sequence[str]
) -> tuple[list[str] | None, list[str] | None]:
    if not names:
        return None, None
    suite_names = {suite.name for suite in project.suites}
    check_names = {check.name for check in project.checks}
    unknown = [name for name in names if name not in suite_names | check_names]
    if unknown:
        raise ConfigError(
            file=project.config_file,
            key="tool.suitekit",
            value=unknown[0],
            problem=f"{unknown[0]!r} is neither a suite nor a check",
            fix=f"use one of: {', '.join(sorted(suite_names | check_names))}",
        )
    return [n for n in names if n in suite_names], [n for n in names if n in check_names]


def describe(project: Project) -> str:
    """A readable account of the declaration, as the sessions will see it."""
    from suitekit import plan  # noqa: PLC0415 - only this command needs it

    lines = [f"project: {project.root}", f"config: {project.config_file}"]
    lines.append(f"python: {', '.join(project.python)}; test roots: {', '.join(project.tests)}")
    lines.append("sessions:")
    lines.extend(f"  {spec.name}: {spec.description}" for spec in plan.sessions(project))
    return "\n".join(lines)
