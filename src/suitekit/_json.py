"""What the ``suitekit`` commands print with ``--json``: versioned documents.

Pure functions of what the text output is made from (the model, the run plan, the partition
report, the shard plan, the report's summary, the flaky search's finding), so that the text
and the JSON never disagree. Each document names its schema and version
(``"schema": "suitekit-plan", "version": 1``); the JSON Schemas ship in
``suitekit/schemas/`` (:func:`schema`). Within a version keys may be added; a key removed or
renamed, or whose meaning or type changes, gets a new version. A plan document lists every job
with its session, command and shards: enough to build a CI matrix (docs/guide.md shows how).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Final

from suitekit import _layout
from suitekit._urls import redact

if TYPE_CHECKING:
    from suitekit._model import Project
    from suitekit._selection import PartitionReport
    from suitekit.flaky import Finding, FlakyTest, Run
    from suitekit.plan import Job, RunPlan
    from suitekit.reporting import CaseResult, Summary
    from suitekit.sharding import ShardPlan

__all__ = [
    "CONFIG_SCHEMA",
    "FLAKY_SCHEMA",
    "PLAN_SCHEMA",
    "REPORT_SCHEMA",
    "SCHEMAS",
    "SHARDS_SCHEMA",
    "SUITES_SCHEMA",
    "VERSION",
    "Artifacts",
    "config_document",
    "flaky_document",
    "plan_document",
    "read_document",
    "report_document",
    "schema",
    "shards_document",
    "suites_document",
    "write_document",
]

CONFIG_SCHEMA: Final = "suitekit-config"
PLAN_SCHEMA: Final = "suitekit-plan"
SUITES_SCHEMA: Final = "suitekit-suites"
SHARDS_SCHEMA: Final = "suitekit-shards"
REPORT_SCHEMA: Final = "suitekit-report"
FLAKY_SCHEMA: Final = "suitekit-flaky"
SCHEMAS: Final = (
    CONFIG_SCHEMA,
    PLAN_SCHEMA,
    SUITES_SCHEMA,
    SHARDS_SCHEMA,
    REPORT_SCHEMA,
    FLAKY_SCHEMA,
)
"""Every document's name, in the order the commands are documented."""
VERSION: Final = 1
"""The version of every document's shape (their ``"version"``): all are at their first."""


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of document ``name`` (``suitekit-plan``), as shipped with suitekit."""
    path = Path(__file__).parent / "schemas" / f"{name}-{VERSION}.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def write_document(path: Path, document: Mapping[str, Any]) -> None:
    """Write ``document`` to ``path`` as the command prints it (atomically).

    The pytest plugin writes the partition's and the shard plan's this way, for
    ``suitekit suites --json`` and ``suitekit shards --json`` to print.

    Raises:
        ReportError: ``path`` cannot be written.
    """
    from suitekit._files import write_text_atomic  # noqa: PLC0415 - the plugin's --json only

    write_text_atomic(path, json.dumps(document, indent=2) + "\n")


def read_document(path: Path, name: str) -> dict[str, Any] | None:
    """The document ``name`` of this version that the plugin wrote to ``path``; else ``None``.

    ``None`` when the file is missing or holds anything else (a session that stopped before
    it wrote one, or a suitekit of another version in the session's virtualenv).
    """
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(loaded, dict) or (loaded.get("schema"), loaded.get("version")) != (
        name,
        VERSION,
    ):
        return None
    return loaded


def _plain(value: object) -> object:
    """``value`` as JSON data: dataclasses as objects of their public fields, paths as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {
            field.name: getattr(value, field.name)
            for field in dataclasses.fields(value)
            if not field.name.startswith("_")
        }
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(str(item) for item in value)  # names (markers): strings
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        # A server's URL may carry a password (a service's `url`, a suite's `env`): a document
        # made for CI logs and dashboards shows it as ***, as config errors do.
        return redact(value)
    return str(value) if isinstance(value, PurePath) else value


def config_document(project: Project) -> dict[str, Any]:
    """The project's declaration as suitekit resolved it (defaults filled in).

    A password in a URL is shown as ``***``, as in the configuration's errors.
    """
    body = _plain(project)
    assert isinstance(body, dict)  # noqa: S101 - a Project is a dataclass
    return {"schema": CONFIG_SCHEMA, "version": VERSION, **body}


def _job(project: Project, job: Job) -> dict[str, Any]:
    suite = next((s for s in project.suites if s.name == job.suite), None)
    pythons = suite.python if suite is not None else ()
    python = next(
        (py for py in pythons if _layout.session_name(job.title, py) == job.session), None
    )
    return {
        "session": job.session,
        "kind": job.kind,
        "name": job.title,
        "python": python,
        "runner": suite.runner.kind if suite is not None else None,
        "shards": suite.shards if suite is not None else 1,
        "command": list(job.command),
        "env": dict(job.env),
        "required": job.required,
        "services": list(job.services),
        "target_seconds": job.target_seconds,
    }


def plan_document(project: Project, run: RunPlan) -> dict[str, Any]:
    """What a run executes: the guard, the jobs, the finish, in order, with their commands.

    A suite job's ``shards`` says how many CI legs it has; leg ``K`` of ``N`` runs its
    ``command`` with ``-- --shard K/N`` appended (``nox -s unit-3.11 -- --shard 2/4``).
    """
    return {
        "schema": PLAN_SCHEMA,
        "version": VERSION,
        "parallel": run.parallel,
        "fail_fast": run.fail_fast,
        "env": dict(run.env),
        "guard": None if run.guard is None else _job(project, run.guard),
        "jobs": [_job(project, job) for job in run.jobs],
        "finish": [_job(project, job) for job in run.finish],
    }


def suites_document(report: PartitionReport) -> dict[str, Any]:
    """The partition ``suitekit suites`` checked: each suite's tests, and what breaks it."""
    return {
        "schema": SUITES_SCHEMA,
        "version": VERSION,
        "ok": report.ok,
        "suites": [{"name": name, "tests": count} for name, count in report.counts],
        "total": sum(count for _, count in report.counts),
        "unowned": list(report.unowned),
        "overlapping": [
            {"test": test, "suites": list(suites)} for test, suites in report.overlapping
        ],
        "outside": report.outside,
    }


def shards_document(suite: str, shard_plan: ShardPlan) -> dict[str, Any]:
    """How ``suitekit shards`` splits ``suite``: each shard's units, tests and seconds.

    Shard ``index`` of ``count`` is what ``--shard index/count`` runs (the plan is a function
    of the node ids and the stored durations, so every CI job computes the same one).
    """
    count = len(shard_plan.shards)
    estimates = shard_plan.estimates
    return {
        "schema": SHARDS_SCHEMA,
        "version": VERSION,
        "suite": suite,
        "count": count,
        "tests": sum(shard.tests for shard in shard_plan.shards),
        "strategy": shard_plan.strategy,
        "basis": estimates.basis,
        "known": estimates.known,
        "estimated": estimates.estimated,
        "imbalance": shard_plan.imbalance,
        "shards": [
            {
                "index": shard.index,
                "shard": f"{shard.index}/{count}",
                "tests": shard.tests,
                "seconds": shard.seconds,
                "units": [
                    {"key": unit.key, "seconds": unit.seconds, "node_ids": list(unit.node_ids)}
                    for unit in shard.units
                ],
            }
            for shard in shard_plan.shards
        ],
    }


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Artifacts:
    """The files ``suitekit report`` wrote, and the run's other reports, for its document.

    Attributes:
        junit: The merged JUnit report.
        summary: The summary as Markdown.
        durations: The durations store it folded the run's durations into.
        quarantine: The quarantine streaks, when the project has them; else ``None``.
        step_summary: ``$GITHUB_STEP_SUMMARY``, which the Markdown was appended to, if set.
        html: The run's HTML report, when it was written; else ``None``.
        coverage_html: Coverage's HTML report (its ``index.html``), when there is one; else
            ``None``. ``suitekit coverage`` writes it and coverage's JSON and XML reports: in
            ``inv test.all``, after the report.
        coverage_json: Coverage's JSON report, when there is one; else ``None``.
        coverage_xml: Coverage's XML report, when there is one; else ``None``.
        logs: The folder of the sessions' logs, when there is one; else ``None``.
    """

    junit: Path
    summary: Path
    durations: Path
    quarantine: Path | None
    step_summary: Path | None
    html: Path | None = None
    coverage_html: Path | None = None
    coverage_json: Path | None = None
    coverage_xml: Path | None = None
    logs: Path | None = None

    @classmethod
    def of(cls, project: Project, environ: Mapping[str, str]) -> Artifacts:
        """Where the report writes, and the reports folder's other reports that are there.

        Read after the report ran, from :func:`suitekit.reporting.report_outputs`: the merged
        report and the summary are named as the report wrote them; the others, and the
        streaks file, when they are there (the streaks are written only for a project that
        quarantines tests).
        """
        from suitekit.reporting import QUARANTINE_FILE, report_outputs  # noqa: PLC0415 - report only
        from suitekit.sharding import DURATIONS_FILE  # noqa: PLC0415 - report only

        outputs = report_outputs(project.root / project.reports)
        where = {output.kind: output.path for output in outputs}
        there = {kind: path for kind, path in where.items() if path.exists()}
        streaks = project.root / QUARANTINE_FILE
        step_summary = environ.get("GITHUB_STEP_SUMMARY", "")
        return cls(
            junit=where["junit"],
            summary=where["summary"],
            durations=project.root / DURATIONS_FILE,
            quarantine=streaks if streaks.is_file() else None,
            step_summary=Path(step_summary) if step_summary else None,
            html=there.get("html"),
            coverage_html=there.get("coverage_html"),
            coverage_json=there.get("coverage_json"),
            coverage_xml=there.get("coverage_xml"),
            logs=there.get("logs"),
        )


def _path(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _case(case: CaseResult) -> dict[str, Any]:
    """A test case of the report, with the command that runs it again (``None``: none)."""
    from suitekit.reporting import rerun_command  # noqa: PLC0415 - report only

    return {
        "test": case.test,
        "node_id": case.node_id or None,
        "suite": case.suite,
        "report": case.report or None,
        "classname": case.classname,
        "name": case.name,
        "outcome": case.outcome,
        "message": case.message,
        "attempts": case.attempts,
        "seconds": case.seconds,
        "file": case.file or None,
        "line": case.line,
        "rerun": rerun_command(case) or None,
    }


def report_document(summary: Summary, *, exit_code: int, artifacts: Artifacts) -> dict[str, Any]:
    """What ``suitekit report`` summarised, from the same :class:`Summary` its text shows.

    ``exit_code`` is the command's (0 green, 1 red); ``ok`` says the same as a boolean.
    """
    from suitekit.reporting import ready_to_release  # noqa: PLC0415 - report only

    totals = summary.totals
    coverage = summary.coverage
    return {
        "schema": REPORT_SCHEMA,
        "version": VERSION,
        "ok": summary.ok,
        "exit_code": exit_code,
        "totals": {
            "tests": totals.tests,
            "passed": totals.passed,
            "failures": totals.failures,
            "errors": totals.errors,
            "skipped": totals.skipped,
            "flaky": totals.flaky,
            "seconds": totals.seconds,
        },
        "suites": [
            {
                "name": row.name,
                "tests": row.tests,
                "passed": row.passed,
                "failed": row.failed,
                "errors": row.errors,
                "skipped": row.skipped,
                "flaky": row.flaky,
                "seconds": row.seconds,
                "budget_seconds": row.budget_seconds,
                "target_seconds": row.target_seconds,
                "over_budget": row.over_budget,
            }
            for row in summary.rows
        ],
        "failed": [_case(case) for case in summary.failed],
        "flaky": [_case(case) for case in summary.flaky],
        "quarantined": [
            {
                "suite": row.suite,
                "test": row.key,
                "outcome": row.outcome,
                "message": row.message,
                "entry": row.entry_test,
                "reason": row.entry.reason if row.entry is not None else None,
                "release_after": row.entry.release_after if row.entry is not None else None,
                "streak": row.streak,
                "ready": row.ready,
            }
            for row in summary.quarantined
        ],
        "ready_to_release": [
            {"entry": entry.test, "key": entry.key, "streak": streak}
            for entry, streak in ready_to_release(summary)
        ],
        "slowest": [_case(case) for case in summary.slowest],
        "missing": list(summary.missing),
        "missing_optional": list(summary.missing_optional),
        "unreadable": [
            {"file": str(path), "reason": reason} for path, reason in summary.unreadable
        ],
        "checks": [{"name": check.name, "status": check.status} for check in summary.checks],
        "coverage": None
        if coverage is None
        else {
            "percent": coverage.percent,
            "fail_under": coverage.fail_under,
            "ok": coverage.ok,
            "suites": [{"name": name, "percent": percent} for name, percent in coverage.per_suite],
        },
        "coverage_problem": summary.coverage_problem or None,
        "artifacts": {
            "junit": str(artifacts.junit),
            "summary": str(artifacts.summary),
            "durations": str(artifacts.durations),
            "quarantine": _path(artifacts.quarantine),
            "step_summary": _path(artifacts.step_summary),
            "html": _path(artifacts.html),
            "coverage_html": _path(artifacts.coverage_html),
            "coverage_json": _path(artifacts.coverage_json),
            "coverage_xml": _path(artifacts.coverage_xml),
            "logs": _path(artifacts.logs),
        },
    }


def _flaky_run(run: Run) -> dict[str, Any]:
    """One run of a flaky search: its seed, workers, command and outcome counts."""
    from suitekit.flaky import collection_error  # noqa: PLC0415 - flaky only

    counts: dict[str, int] | None = None
    errors = 0
    if run.log is not None:
        counts = {}
        for test in run.log.tests:
            if collection_error(test.node_id):
                errors += 1
            else:
                counts[test.outcome] = counts.get(test.outcome, 0) + 1
    return {
        "number": run.number,
        "seed": run.seed,
        "workers": run.workers,
        "command": run.command,
        "counts": counts,
        "collection_errors": errors,
        "problem": run.problem or None,
    }


def _flaky_test(finding: Finding, test: FlakyTest) -> dict[str, Any]:
    """A flaky test: its outcome in each run, the commands that repeat a failure, its cause."""
    from suitekit.flaky import collection_error  # noqa: PLC0415 - flaky only

    cause = next((cause for cause in finding.causes if cause.node_id == test.node_id), None)
    return {
        "test": test.node_id,
        "collection_error": collection_error(test.node_id),
        "outcomes": list(test.outcomes),
        "message": test.message,
        "failed_runs": list(test.failed_runs),
        "reproduce": [
            {"run": number, "command": finding.runs[number - 1].command}
            for number in test.failed_runs
        ],
        "cause": None
        if cause is None
        else {
            "kind": cause.kind,
            "run": cause.run,
            "polluters": list(cause.prefix),
            "replays": cause.replays,
            "capped": cause.capped,
            "detail": cause.detail,
            "order_file": cause.order_file or None,
            "command": cause.command or None,
        },
    }


def flaky_document(finding: Finding) -> dict[str, Any]:
    """What ``suitekit flaky`` found, from the same :class:`Finding` its text shows.

    Each run with its order seed and worker count; each flaky test with its outcome per run,
    the command of each run it failed in, and (pytest) the cause the serial replays found: for
    an order-dependent test, the fewest earlier tests (``polluters``) after which it fails.
    """
    from suitekit.flaky import consistent_failures  # noqa: PLC0415 - flaky only

    return {
        "schema": FLAKY_SCHEMA,
        "version": VERSION,
        "suite": finding.suite,
        "session": finding.session,
        "runner": finding.runner,
        "ok": finding.ok,
        "complete": finding.complete,
        "interrupted": finding.interrupted,
        "runs": [_flaky_run(run) for run in finding.runs],
        "flaky": [_flaky_test(finding, test) for test in finding.flaky],
        "broken": list(consistent_failures([run.compared for run in finding.runs])),
        "uncollected": list(finding.uncollected),
        "verdict": finding.verdict(),
    }
