"""``suitekit report``: one JUnit report, one summary, the durations and quarantine streaks.

Every suite session writes ``<reports>/junit/<suite>-<python>.xml`` (``<reports>`` is
``.suitekit/reports`` unless the project names a folder; and, beside it, a small JSON file
saying how many workers and CPUs measured its durations). This merges them into
``<reports>/junit.xml``, prints the summary, writes it as Markdown to ``<reports>/summary.md``
(and to ``$GITHUB_STEP_SUMMARY`` in GitHub Actions), folds the durations into
``.suitekit/durations.json``, and counts the quarantined tests' passing streaks in
``.suitekit/quarantine.json`` (see :mod:`suitekit.reporting._streaks`), so that the summary can
say which quarantine entries are ready to be removed. It also writes the run's HTML report,
``<reports>/index.html`` (:mod:`suitekit.reporting._html`): a timeline of the sessions and their
tests, from the sidecars, and the summary's tables, in one file that loads nothing.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, TypeVar

from suitekit import _layout
from suitekit._files import JUNIT_LIMIT, FileRefusedError, open_regular
from suitekit._handoff import ENV_CHECK_RESULTS
from suitekit._layout import Measured
from suitekit._model import Project
from suitekit.errors import ReportError
from suitekit.reporting._legacy import reading
from suitekit.reporting._outputs import HTML_REPORT, report_outputs

if TYPE_CHECKING:
    from suitekit.reporting._html_model import Link, SessionRecord
    from suitekit.reporting._results import CaseResult, MergeResult
    from suitekit.reporting._streaks import StreakStore
    from suitekit.reporting._summary import Expected, Summary

T = TypeVar("T")

__all__ = ["HTML_REPORT", "record_session", "report"]


def _conditions(project: Project, junit_dir: Path, suite: str) -> tuple[int, int, float]:
    """Workers, CPUs and time of the run that measured a suite's durations.

    Read from the sidecar of the suite's JUnit file (per Python version; the newest counts);
    without one: 1 worker, the machine's CPU count, and the JUnit file's modification time.
    """
    found: list[tuple[float, int, int]] = []
    for junit in _junit_files(project, junit_dir, suite):
        workers, cpus = _sidecar(Measured.path_for(junit)) or (1, os.cpu_count() or 1)
        found.append((junit.stat().st_mtime, workers, cpus))
    if not found:
        return 1, os.cpu_count() or 1, time.time()
    measured_at, workers, cpus = max(found)
    return workers, cpus, measured_at


def _junit_files(project: Project, junit_dir: Path, suite: str) -> list[Path]:
    """The suite's JUnit files in ``junit_dir``: one per Python version (and shard)."""
    pythons = project.suite(suite).python if suite in _names(project) else ()
    return [
        path
        for python in pythons
        for path in _layout.session_reports(junit_dir, _layout.session_name(suite, python))
        if path.is_file()
    ]


def _sidecar(path: Path) -> tuple[int, int] | None:
    """Workers and CPUs from a ``.measured.json`` file; ``None`` when it has none to give.

    The figures only refine the store, so a missing, unreadable or hostile sidecar (a FIFO, a
    link, a huge or deeply nested file) is passed over for the defaults, never waited on. Its
    timeline (a span a test) is left unread.
    """
    measured = Measured.read_path(path, timeline=False)
    return None if measured is None else (measured.workers, measured.cpus)


def _waits(junits: list[Path]) -> dict[str, float] | None:
    """Case key -> seconds waited for a CPU, from the sidecars' timelines; ``None``: none.

    A case in several files (Python versions) takes the wait of its longest span there: the
    JUnit merge keeps the largest time of a case, and the wait goes with the time it is part
    of. Tests whose wait was not measured (see :mod:`suitekit.pytest_plugin._waits`) have none.
    """
    from suitekit.sharding import case_key  # noqa: PLC0415 - see report()

    longest: dict[str, tuple[float, float]] = {}
    for junit in junits:
        measured = Measured.read(junit)
        if measured is None or measured.timeline is None:
            continue
        for span in measured.timeline.tests:
            if span.waited is None:
                continue
            key = case_key(span.node_id)
            if key not in longest or span.seconds > longest[key][0]:
                longest[key] = (span.seconds, span.waited)
    return {key: waited for key, (_, waited) in longest.items()} or None


def _names(project: Project) -> set[str]:
    return {suite.name for suite in project.suites}


def _expected_reports(session: str, inputs: list[Path]) -> list[str]:
    """The report names a suite session should have written.

    The session's own (``unit-3.11``), unless shards of it reported: then every shard of the
    largest shard count found (``unit-3.11.shard-1-of-4`` ... ``-4-of-4``), so that a CI shard
    that never uploaded its report fails the run instead of silently shrinking the suite.
    """
    totals = [total for path in inputs if (total := _layout.split_of(path.stem, session))]
    if not totals:
        return [session]
    return _layout.shard_stems(session, max(totals))


def report(
    project: Project,
    *,
    environ: Mapping[str, str],
    out: IO[str],
    slowest: int = 10,
    summarised: Callable[[Summary], None] = lambda _summary: None,
) -> int:
    """Merge, summarise, record durations and quarantine streaks; 0 when the run is green, else 1.

    Flaky tests and quarantined tests' failures do not make the run red. The streaks file is
    written only when the project quarantines tests or the file exists already (then entries no
    longer configured are dropped from it).

    Everything that can be written is written before any problem is raised: a broken durations
    or streaks store, or an output that cannot be written, still leaves the merged report, the
    Markdown summary (each when its own file can be written) and the summary on ``out``. A
    broken store is then left exactly as it was (not updated, not replaced).

    ``summarised`` gets the summary that was printed (``suitekit report --json``
    makes its document of it), before any problem is raised.

    Raises:
        ReportError: There is no JUnit file at all (nothing is written); or, after the rest,
            a store is broken or an output cannot be written: one error listing every problem.
    """
    # Here and not at the top: the pytest plugin imports this module for measured_with, in
    # every suite run, and needs none of the merging and summarising.
    from suitekit.reporting._markdown import write_markdown  # noqa: PLC0415
    from suitekit.reporting._merge import merge_junit  # noqa: PLC0415
    from suitekit.reporting._streaks import QUARANTINE_FILE, StreakStore, fingerprint  # noqa: PLC0415
    from suitekit.reporting._summary import Expected  # noqa: PLC0415
    from suitekit.reporting._terminal import render_terminal  # noqa: PLC0415
    from suitekit.sharding import DURATIONS_FILE, DurationStore  # noqa: PLC0415

    project, note = reading(project)
    if note is not None:
        out.write(note + "\n")
    reports = project.root / project.reports
    junit_dir = reports / _layout.JUNIT_FOLDER
    inputs = sorted(junit_dir.glob("*.xml")) if junit_dir.is_dir() else []
    if not inputs:
        message = (
            f"no JUnit files in {junit_dir}: run the suites first (inv test.all, nox -s <suite>)"
            ", or download the CI artifacts into that folder"
        )
        raise ReportError(message)
    problems: list[str] = []

    def attempt(step: Callable[[], T]) -> T | None:
        """Run one step; a ReportError is kept for the end instead of stopping the report."""
        try:
            return step()
        except ReportError as error:
            problems.append(str(error))
            return None

    durations_path = project.root / DURATIONS_FILE
    durations_ok = attempt(lambda: DurationStore.load(durations_path)) is not None
    streaks_path = project.root / QUARANTINE_FILE
    loaded = attempt(lambda: StreakStore.load(streaks_path))
    run = fingerprint(inputs)  # before the merge: it is of the files as they were merged
    # Where every reader of the reports folder looks for them (reporting/_outputs.py).
    where = {output.kind: output.path for output in report_outputs(reports)}
    result = attempt(lambda: merge_junit(inputs, where["junit"], slowest=slowest))
    if result is None:  # the report cannot be written: merge elsewhere, to summarise all the same
        result = _merge_aside(inputs, slowest=slowest)
    streaks = (loaded or StreakStore()).record(
        result.quarantined, project.quarantine, fingerprint=run
    )
    expected = [
        Expected(name=name, target_seconds=suite.target_seconds)
        for suite in project.suites
        for python in suite.python
        for name in _expected_reports(_layout.session_name(suite.name, python), inputs)
    ]
    summary = _summary(
        project, result, expected, streaks=streaks, checks=environ.get(ENV_CHECK_RESULTS, "")
    )
    if environ.get("GITHUB_ACTIONS") == "true":
        _annotate(project, summary, environ=environ, out=out)
    attempt(lambda: write_markdown(summary, where["summary"], environ=environ))
    if durations_ok:  # a broken store is reported above and left as it is
        attempt(lambda: _fold(project, junit_dir, result.durations))
    if loaded is not None and (project.quarantine or streaks_path.exists()):
        attempt(lambda: streaks.save(streaks_path))
    # Last: the page only shows the run, so a problem with it costs nothing else.
    attempt(lambda: _write_page(project, reports, inputs, summary, out=out))
    out.write(render_terminal(summary) + "\n")
    out.flush()
    summarised(summary)
    if problems:
        raise ReportError("\n".join(problems))
    return 0 if summary.ok else 1


def _write_page(
    project: Project, reports: Path, inputs: list[Path], summary: Summary, *, out: IO[str]
) -> Path:
    """Write ``<reports>/index.html``, atomically, and say where on ``out``; its path.

    Raises:
        ReportError: It cannot be written, or made: any error in making it (a bug, or a sidecar
            it did not foresee) is one, naming the page and the files it is made of.
    """
    from suitekit._files import write_text_atomic  # noqa: PLC0415 - see report()

    path = reports / HTML_REPORT
    try:
        text = _page_text(project, reports, inputs, summary)
    except Exception as error:  # the page only shows the run: its failure ends nothing else
        message = (
            f"{path}: cannot make the run report ({type(error).__name__}: {error}); the other "
            f"reports are written. It is made of the JUnit files in {inputs[0].parent} and "
            f"their {Measured.SUFFIX} sidecars: one changed by hand or by another tool may be "
            "the cause (delete it and run `suitekit report` again); else please report this as "
            "a suitekit bug"
        )
        raise ReportError(message) from error
    write_text_atomic(path, text)
    out.write(f"suitekit: run report {path}\n")
    return path


def _page_text(project: Project, reports: Path, inputs: list[Path], summary: Summary) -> str:
    """The run report's HTML (see :mod:`suitekit.reporting._html_model`)."""
    from suitekit.reporting._html import render_html  # noqa: PLC0415 - see report()
    from suitekit.reporting._html_model import build_page  # noqa: PLC0415

    # A session without a timeline is drawn as long as its own time, which its budget
    # measures: under xdist (or another runner's workers) its cases' sum is several times that.
    seconds = {row.name: row.budget_seconds for row in summary.rows}
    records = [_record(junit, seconds.get(junit.stem, 0.0)) for junit in inputs]
    logs_dir = reports / _layout.LOGS_FOLDER
    logs = sorted(path.stem for path in logs_dir.glob("*.log")) if logs_dir.is_dir() else []
    page = build_page(
        title=project.root.name,
        records=records,
        summary=summary,
        links=_links(project, reports, logs),
        logs={name: f"{_layout.LOGS_FOLDER}/{name}.log" for name in logs},
    )
    return render_html(page)


def _record(junit: Path, seconds: float) -> SessionRecord:
    """What the page needs of one JUnit file: its sidecar, else when it ran (see junit_started)."""
    from suitekit.reporting._html_model import SessionRecord, junit_started  # noqa: PLC0415

    measured = Measured.read(junit)
    started = 0.0
    if measured is None or measured.timeline is None:
        try:
            with open_regular(junit, limit=JUNIT_LIMIT) as handle:
                stopped = os.fstat(handle.fileno()).st_mtime
                head = handle.read(4096)
            started = junit_started(head, stopped=stopped, seconds=seconds)
        except (OSError, FileRefusedError):  # merged without it: the page shows no time
            started = time.time() - seconds
    return SessionRecord(stem=junit.stem, measured=measured, started=started, seconds=seconds)


def _links(project: Project, reports: Path, logs: list[str]) -> list[Link]:
    """The run's other files, linked from the page: :func:`report_outputs` but the page itself.

    Each session's log rather than their folder. Coverage's reports when the project measures
    coverage, or when they are there: `suitekit coverage` runs after the report in
    ``inv test.all``, so they are linked before they are written.
    """
    from suitekit.reporting._html_model import Link  # noqa: PLC0415

    links = []
    for output in report_outputs(reports):
        if output.kind == "html":
            continue  # the page itself
        if output.folder:
            links += [Link(label=f"log: {name}", href=f"{output.href}/{name}.log") for name in logs]
            continue
        present = output.path.is_file()
        if present or output.writer != "coverage" or project.source:
            links.append(Link(label=output.label, href=output.href, present=present))
    return links


def _summary(
    project: Project,
    result: MergeResult,
    expected: list[Expected],
    *,
    streaks: StreakStore,
    checks: str = "",
) -> Summary:
    """The summary of the merged results, with the coverage figures and the checks' results.

    ``checks``: ``SUITEKIT_CHECK_RESULTS`` as the runner or the CI job gave it ("": none).
    """
    from suitekit.reporting._coverage import figures  # noqa: PLC0415 - see report()
    from suitekit.reporting._summary import check_results, summarise  # noqa: PLC0415

    problem = ""
    try:
        coverage = figures(project)
    except ReportError as error:  # shown in the summary; the gate (suitekit coverage) fails
        coverage, problem = None, str(error)
    failed = tuple(_located(project, case) for case in result.failed)
    return summarise(
        replace(result, failed=failed),
        expected,
        quarantine=project.quarantine,
        streaks=streaks,
        coverage=coverage,
        coverage_problem=problem,
        checks=check_results(checks) if checks else (),
    )


def _annotate(
    project: Project, summary: Summary, *, environ: Mapping[str, str], out: IO[str]
) -> None:
    """Print the failed tests' GitHub annotations (workflow commands) on ``out``."""
    from suitekit.reporting._annotations import annotation_lines  # noqa: PLC0415

    base = _repository_folder(project.root, environ.get("GITHUB_WORKSPACE", ""))
    for line in annotation_lines(summary.failed, base=base):
        out.write(line + "\n")


def _located(project: Project, case: CaseResult) -> CaseResult:
    """Another runner's case with its test file relative to the project, when that file exists.

    Vitest, Jest and Playwright write a case's ``file`` (when they write one) and name its
    class after its test file relative to the folder the runner runs in (the suite's ``cwd``):
    either is made relative to the project root. The plugin's location (a pytest case's) is
    kept as it is.
    """
    if case.node_id:
        return case
    suite = next((suite for suite in project.suites if suite.name == case.suite), None)
    if suite is None or suite.runner.kind == "pytest":
        return case
    cwd = project.root / suite.runner.cwd
    for named in (case.file, case.classname):
        if not named:
            continue
        path = cwd / named  # an absolute one stays itself
        try:
            if not path.is_file():
                continue
            relative = path.resolve().relative_to(project.root.resolve())
        except (OSError, ValueError):  # a name too long for a path, or a file outside it
            continue
        return replace(case, file=relative.as_posix())
    return case


def _repository_folder(root: Path, workspace: str) -> str:
    """The project's folder relative to the repository (``GITHUB_WORKSPACE``); ``""`` at its root.

    A workflow command's file is relative to the repository's root; a project in a
    subfolder of it (a monorepo) prefixes its own paths with this.
    """
    if not workspace:
        return ""
    try:
        relative = root.resolve().relative_to(Path(workspace).resolve())
    except (OSError, ValueError):
        return ""
    posix = PurePosixPath(relative.as_posix()).as_posix()
    return "" if posix == "." else posix


def _merge_aside(inputs: list[Path], *, slowest: int) -> MergeResult:
    """Merge into a scratch folder: the results, when the report itself cannot be written.

    Raises:
        ReportError: Not even a scratch file can be written (the temporary folder is full too).
    """
    from suitekit.reporting._merge import merge_junit  # noqa: PLC0415 - see report()

    with tempfile.TemporaryDirectory(prefix="suitekit-report-") as scratch:
        return merge_junit(inputs, Path(scratch) / "junit.xml", slowest=slowest)


def _fold(
    project: Project,
    junit_dir: Path,
    durations: Mapping[str, Mapping[str, float]],
    *,
    only: Path | None = None,
) -> None:
    """Fold each suite's durations into the store, with how they were measured.

    The waits come from every JUnit file of the suite in ``junit_dir``, or from ``only``
    when the durations are that one file's.
    """
    from suitekit.sharding import (  # noqa: PLC0415 - see report()
        DURATIONS_FILE,
        DurationStore,
        update_store,
    )

    def change(store: DurationStore) -> DurationStore:
        for suite, cases in durations.items():
            workers, cpus, measured_at = _conditions(project, junit_dir, suite)
            waits = _waits([only] if only else _junit_files(project, junit_dir, suite))
            store = store.record(
                {suite: cases},
                workers=workers,
                cpus=cpus,
                measured_at=measured_at,
                waited=None if waits is None else {suite: waits},
            )
        return store

    update_store(project.root / DURATIONS_FILE, change)


def record_session(project: Project, junit: Path) -> None:
    """Fold the durations of one suite session's JUnit file into the durations store.

    A suite session does this when it ends, so that ``workers = "auto"`` and the shard split
    learn from every run of a suite (``nox -s unit`` alone too), not only from runs that end
    with ``suitekit report``. Recording the same file again changes nothing.

    Raises:
        ReportError: The store cannot be read, locked or written.
    """
    from suitekit.reporting._merge import merge_junit  # noqa: PLC0415 - see report()

    with tempfile.TemporaryDirectory(prefix="suitekit-durations-") as scratch:
        result = merge_junit([junit], Path(scratch) / "junit.xml", slowest=0)
    if result.durations:
        _fold(project, junit.parent, result.durations, only=junit)
