"""``suitekit report``: one JUnit report, one summary, the durations and quarantine streaks.

Every suite session writes ``reports/junit/<suite>-<python>.xml`` (and, beside it, a small
JSON file saying how many workers and CPUs measured its durations). This merges them into
``reports/junit.xml``, prints the summary, writes it as Markdown to ``reports/summary.md``
(and to ``$GITHUB_STEP_SUMMARY`` in GitHub Actions), folds the durations into
``.suitekit/durations.json``, and counts the quarantined tests' passing streaks in
``.suitekit/quarantine.json`` (see :mod:`suitekit.reporting._streaks`), so that the summary can
say which quarantine entries are ready to be removed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from suitekit._model import Project
from suitekit.errors import ReportError
from suitekit.sharding._spec import split_of

__all__ = ["measured_with", "record_session", "report"]


def measured_with(junit: Path) -> Path:
    """The JSON file beside a JUnit file that says how its durations were measured."""
    return junit.with_suffix(".measured.json")


def _conditions(project: Project, junit_dir: Path, suite: str) -> tuple[int, int, float]:
    """Workers, CPUs and time of the run that measured a suite's durations.

    Read from the sidecar of the suite's JUnit file (per Python version; the newest counts);
    without one: 1 worker, the machine's CPU count, and the JUnit file's modification time.
    """
    found: list[tuple[float, int, int]] = []
    pythons = project.suite(suite).python if suite in _names(project) else ()
    for junit in (
        path
        for python in pythons
        for path in (
            junit_dir / f"{suite}-{python}.xml",
            *sorted(junit_dir.glob(f"{suite}-{python}.shard-*.xml")),
        )
    ):
        if not junit.is_file():
            continue
        workers, cpus = 1, os.cpu_count() or 1
        try:
            data = json.loads(measured_with(junit).read_text(encoding="utf-8"))
            workers, cpus = max(int(data["workers"]), 1), max(int(data["cpus"]), 1)
        except (OSError, ValueError, KeyError, TypeError):
            pass
        found.append((junit.stat().st_mtime, workers, cpus))
    if not found:
        return 1, os.cpu_count() or 1, time.time()
    measured_at, workers, cpus = max(found)
    return workers, cpus, measured_at


def _names(project: Project) -> set[str]:
    return {suite.name for suite in project.suites}


def _expected_reports(session: str, inputs: list[Path]) -> list[str]:
    """The report names a suite session should have written.

    The session's own (``unit-3.11``), unless shards of it reported: then every shard of the
    largest shard count found (``unit-3.11.shard-1-of-4`` ... ``-4-of-4``), so that a CI shard
    that never uploaded its report fails the run instead of silently shrinking the suite.
    """
    totals = [total for path in inputs if (total := split_of(path.stem, session))]
    if not totals:
        return [session]
    return [f"{session}.shard-{index}-of-{max(totals)}" for index in range(1, max(totals) + 1)]


def report(project: Project, *, environ: Mapping[str, str], out: IO[str], slowest: int = 10) -> int:
    """Merge, summarise, record durations and quarantine streaks; 0 when the run is green, else 1.

    Flaky tests and quarantined tests' failures do not make the run red. The streaks file is
    written only when the project quarantines tests or the file exists already (then entries no
    longer configured are dropped from it).

    Raises:
        ReportError: There is no JUnit file at all, the durations or streaks file is broken, or
            an output cannot be written.
    """
    # Here and not at the top: the pytest plugin imports this module for measured_with, in
    # every suite run, and needs none of the merging and summarising.
    from suitekit.reporting._merge import merge_junit  # noqa: PLC0415
    from suitekit.reporting._streaks import QUARANTINE_FILE, StreakStore, fingerprint  # noqa: PLC0415
    from suitekit.reporting._summary import (  # noqa: PLC0415
        Expected,
        render_terminal,
        summarise,
        write_markdown,
    )
    from suitekit.sharding._durations import DURATIONS_FILE, DurationStore  # noqa: PLC0415

    reports = project.root / project.reports
    junit_dir = reports / "junit"
    inputs = sorted(junit_dir.glob("*.xml")) if junit_dir.is_dir() else []
    if not inputs:
        message = (
            f"no JUnit files in {junit_dir}: run the suites first (inv test.all, nox -s <suite>)"
            ", or download the CI artifacts into that folder"
        )
        raise ReportError(message)
    DurationStore.load(project.root / DURATIONS_FILE)  # first: a broken store stops it early
    streaks_path = project.root / QUARANTINE_FILE
    streaks = StreakStore.load(streaks_path)
    run = fingerprint(inputs)  # before the merge: it is of the files as they were merged
    result = merge_junit(inputs, reports / "junit.xml", slowest=slowest)
    streaks = streaks.record(result.quarantined, project.quarantine, fingerprint=run)
    expected = [
        Expected(name=name, target_seconds=suite.target_seconds)
        for suite in project.suites
        for python in suite.python
        for name in _expected_reports(f"{suite.name}-{python}", inputs)
    ]
    summary = summarise(result, expected, quarantine=project.quarantine, streaks=streaks)
    write_markdown(summary, reports / "summary.md", environ=environ)
    _fold(project, junit_dir, result.durations)
    if project.quarantine or streaks_path.exists():
        streaks.save(streaks_path)
    out.write(render_terminal(summary) + "\n")
    out.flush()
    return 0 if summary.ok else 1


def _fold(project: Project, junit_dir: Path, durations: Mapping[str, Mapping[str, float]]) -> None:
    """Fold each suite's durations into the store, with how they were measured."""
    from suitekit.sharding._durations import (  # noqa: PLC0415 - see report()
        DURATIONS_FILE,
        DurationStore,
        update_store,
    )

    def change(store: DurationStore) -> DurationStore:
        for suite, cases in durations.items():
            workers, cpus, measured_at = _conditions(project, junit_dir, suite)
            store = store.record(
                {suite: cases}, workers=workers, cpus=cpus, measured_at=measured_at
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
    import tempfile  # noqa: PLC0415 - only here

    from suitekit.reporting._merge import merge_junit  # noqa: PLC0415 - see report()

    with tempfile.TemporaryDirectory(prefix="suitekit-durations-") as scratch:
        result = merge_junit([junit], Path(scratch) / "junit.xml", slowest=0)
    if result.durations:
        _fold(project, junit.parent, result.durations)
