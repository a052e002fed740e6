"""The GitLab CI renderer: a pipeline file from a :class:`~suitekit.ci._pipeline.Pipeline`.

GitLab specifics, and why:

- Every job runs in one of uv's images (``ghcr.io/astral-sh/uv:<uv>-python3.X-trixie-slim``,
  at the pinned uv version; uv publishes no bookworm images since 0.10): Python and uv are
  there, and a suite's matrix picks the image of its Python version. Other interpreters (PyPy,
  free-threaded builds) have no such image: those jobs use uv's plain Debian image and nox has
  uv download the interpreter.
- Services take a command, so PostgreSQL starts with its durability settings off; the runner
  waits for the service's port, and services are reached by their alias as host name.
- A job stops at its first failing script line, so jobs that must run every command (the
  lint with the guards, the report with the coverage gate) record failures and fail at the end.
- GitLab fails the pipeline itself when a job that may not fail fails, so the report job, which
  runs ``when: always``, does not repeat that judgement.
- uv's cache is keyed on the project's ``uv.lock`` (else pyproject.toml), so a changed lock
  starts a new cache rather than growing the old one.
- Merge requests show the suites' failed tests (``reports: junit`` of every suite job) and the
  combined coverage: the ``coverage`` regex reads the line the coverage session prints, and the
  Cobertura file (``coverage.xml``) marks the covered lines in the diff.
- The durations store comes from a cache with one key; the ``durations`` job only pulls it and
  hands it to the shards as an artifact, and the report job pushes the merged store back.
- ``interruptible`` jobs and ``auto_cancel: on_new_commit`` cancel superseded pipelines; the
  workflow rules run a branch pipeline or a merge request pipeline, never both for one push.
"""

from __future__ import annotations

import re
from typing import Final, final

from suitekit._kinds import KINDS
from suitekit._layout import JUNIT_FOLDER
from suitekit._model import Service
from suitekit.ci._pipeline import (
    PYTHON,
    SHARD,
    CiJob,
    Pipeline,
    Provider,
    header,
)
from suitekit.ci._yaml import Spaced, YamlValue, dump

__all__ = ["GitLab"]

UV_IMAGE: Final = "ghcr.io/astral-sh/uv:{uv}-python{python}-trixie-slim"
UV_PLAIN_IMAGE: Final = "ghcr.io/astral-sh/uv:{uv}-trixie-slim"
MATRIX_PYTHON: Final = "${PYTHON}"
MATRIX_SHARD: Final = "${SHARD}"
TEMPLATE: Final = ".suitekit-nox"
UV_CACHE_PREFIX: Final = "suitekit-uv"
DURATIONS_CACHE_KEY: Final = "suitekit-durations"
COVERAGE_REGEX: Final = r"/suitekit: combined coverage \d+\.\d+%/"
"""What GitLab reads the figure from: the verdict line of ``nox -s coverage``."""
COVERAGE_XML: Final = "coverage.xml"
"""The Cobertura report ``nox -s coverage`` writes into the reports folder."""
STAGES: Final = {"durations": "prepare", "report": "report"}

_CPYTHON: Final = re.compile(r"^3\.\d{1,2}$")


@final
class GitLab:
    """Renders the GitLab CI file (see the module's docstring)."""

    @property
    def provider(self) -> Provider:
        """``gitlab``."""
        return "gitlab"

    def render(self, pipeline: Pipeline) -> str:
        """The pipeline file."""
        document: Spaced = Spaced(
            {
                "workflow": {
                    "rules": [
                        {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'},
                        # A push to a branch with an open merge request runs the MR pipeline.
                        {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"},
                        *({"if": _branch_rule(branch)} for branch in pipeline.branches),
                        {"if": '$CI_PIPELINE_SOURCE == "web"'},
                    ],
                    "auto_cancel": {"on_new_commit": "interruptible"},
                },
                "stages": ["prepare", "test", "report"],
                "variables": {
                    "UV_CACHE_DIR": "$CI_PROJECT_DIR/.uv-cache",
                    # The cache and the environments are on different file systems.
                    "UV_LINK_MODE": "copy",
                },
                "default": {"image": _image(pipeline, pipeline.python), "interruptible": True},
                TEMPLATE: {
                    "before_script": [
                        pipeline.install,
                        'export PATH="$(uv tool dir --bin):$PATH"',
                    ],
                    "after_script": ["uv cache prune --ci"],
                    "cache": [_uv_cache(pipeline)],
                },
            }
        )
        for job in pipeline.jobs:
            document[job.id] = _job(pipeline, job)
        return dump(document, header=header("gitlab", path=pipeline.paths["gitlab"]))


def _branch_rule(branch: str) -> str:
    if "*" not in branch:
        return f'$CI_COMMIT_BRANCH == "{branch}"'
    # A GitHub-style glob: `*` within a path segment, `**` across segments.
    pattern = "".join(
        ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
        for part in re.split(r"(\*\*|\*)", branch)
    ).replace("/", r"\/")
    return f"$CI_COMMIT_BRANCH =~ /^{pattern}$/"


def _image(pipeline: Pipeline, python: str) -> str:
    uv = pipeline.pins.uv
    if _CPYTHON.fullmatch(python):
        return UV_IMAGE.format(uv=uv, python=python)
    return UV_PLAIN_IMAGE.format(uv=uv)


def _uv_cache(pipeline: Pipeline) -> dict[str, YamlValue]:
    return {
        "key": {"files": list(pipeline.cache_files), "prefix": UV_CACHE_PREFIX},
        "paths": [".uv-cache/"],
    }


def _job(pipeline: Pipeline, job: CiJob) -> dict[str, YamlValue]:
    body: dict[str, YamlValue] = {"stage": STAGES.get(job.kind, "test")}
    if job.kind != "durations":
        body["extends"] = TEMPLATE
    image = _job_image(pipeline, job)
    if image is not None:
        body["image"] = image
    body["needs"] = list(job.needs)
    if job.kind == "report":
        body["when"] = "always"
    body["timeout"] = f"{job.timeout_minutes} minutes"
    if not job.required:
        body["allow_failure"] = True
    if job.kind == "suite":
        matrix: dict[str, YamlValue] = {"PYTHON": list(job.python)}
        if job.shards > 1:
            matrix["SHARD"] = [str(shard) for shard in range(1, job.shards + 1)]
        body["parallel"] = {"matrix": [matrix]}
    body |= _services(pipeline, job)
    if job.kind in ("durations", "report"):
        body["cache"] = _durations_cache(pipeline, job)
    body["script"] = _script(job)
    if job.kind == "report" and pipeline.coverage:
        body["coverage"] = COVERAGE_REGEX
    artifacts = _artifacts(pipeline, job)
    if artifacts:
        body["artifacts"] = artifacts
    return body


def _job_image(pipeline: Pipeline, job: CiJob) -> str | None:
    """The job's image, when it is not the default one."""
    if job.kind == "suite":
        plain = all(_CPYTHON.fullmatch(python) for python in job.python)
        uv = pipeline.pins.uv
        return UV_IMAGE.format(uv=uv, python=MATRIX_PYTHON) if plain else _image(pipeline, "")
    if job.python and _image(pipeline, job.python[0]) != _image(pipeline, pipeline.python):
        return _image(pipeline, job.python[0])
    return None


def _services(pipeline: Pipeline, job: CiJob) -> dict[str, YamlValue]:
    """The job's service containers, and the variables that name their URLs."""
    if not job.services:
        return {}
    return {
        "services": [_service(pipeline, service) for service in job.services],
        "variables": {
            KINDS[service].provided_url: KINDS[service].ci.url(service) for service in job.services
        },
    }


def _service(pipeline: Pipeline, service: Service) -> dict[str, YamlValue]:
    container = KINDS[service].ci
    entry: dict[str, YamlValue] = {
        "name": pipeline.pins.image(container.image),
        "alias": service,
    }
    if container.variables:
        entry["variables"] = dict(container.variables)
    entry["command"] = list(container.command)
    return entry


def _script(job: CiJob) -> list[YamlValue]:
    commands = [
        step.run.replace(PYTHON, MATRIX_PYTHON).replace(SHARD, MATRIX_SHARD) for step in job.steps
    ]
    if not job.keep_going or len(commands) == 1:
        return list(commands)
    return ["failed=0", *(f"{command} || failed=1" for command in commands), 'test "$failed" = 0']


def _durations_cache(pipeline: Pipeline, job: CiJob) -> list[YamlValue]:
    if job.kind == "durations":
        policy = "pull"
    else:
        # With a durations job the store arrives as its artifact; else from the cache here.
        policy = "push" if pipeline.durations_job is not None else "pull-push"
    store: dict[str, YamlValue] = {
        "key": DURATIONS_CACHE_KEY,
        "paths": [pipeline.durations_file],
        "policy": policy,
    }
    if job.kind == "report":
        store["when"] = "always"
        return [_uv_cache(pipeline), store]
    return [store]


def _artifacts(pipeline: Pipeline, job: CiJob) -> dict[str, YamlValue]:
    if job.kind == "durations":
        return {"paths": [pipeline.durations_file], "expire_in": "1 day"}
    if job.kind == "suite":
        return {
            "when": "always",
            "name": "suitekit-reports-$CI_JOB_NAME_SLUG",
            "paths": [f"{pipeline.reports}/"],
            "reports": {"junit": f"{pipeline.reports}/{JUNIT_FOLDER}/*.xml"},
            "expire_in": "1 week",
        }
    if job.kind == "report":
        report: dict[str, YamlValue] = {
            "when": "always",
            "name": "suitekit-report",
            "paths": [f"{pipeline.reports}/"],
        }
        if pipeline.coverage:
            report["reports"] = {
                "coverage_report": {
                    "coverage_format": "cobertura",
                    "path": f"{pipeline.reports}/{COVERAGE_XML}",
                }
            }
        return report
    return {}
