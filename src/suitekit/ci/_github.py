"""The GitHub Actions renderer: a workflow file from a :class:`~suitekit.ci._pipeline.Pipeline`.

GitHub specifics, and why:

- Service containers cannot be given a command, so PostgreSQL's data goes on a tmpfs through
  ``options`` and its durability settings are switched off by a step (``ALTER SYSTEM``, then a
  configuration reload), once the health check says it is up.
- ``actions/upload-artifact`` skips hidden files by default, and coverage data files are
  ``.coverage.*``: every upload of reports sets ``include-hidden-files``.
- The report job reads each required job's result explicitly: with ``continue-on-error`` on
  advisory checks and ``!cancelled()`` on the report job, the workflow's own status would
  otherwise depend on the order GitHub evaluates them in.
- The durations store travels from the ``durations`` job to the shards as an artifact, and the
  merged store goes back into the cache under a key per run attempt; restoring takes the newest
  key with the ``suitekit-durations-`` prefix (caches are immutable, so every save needs a new
  key).
- Every action is pinned by commit, its version in a comment (see :mod:`suitekit.ci._pins`),
  uv by version; setup-uv's cache is keyed on the project's ``uv.lock`` (else pyproject.toml)
  and left to ``enable-cache: auto``, which setup-uv turns off for release and tag pushes.
- Matrix values reach ``run`` scripts only through ``env`` (as ``MATRIX_PYTHON`` and
  ``MATRIX_SHARD``): an expression inside a script is pasted into it before the shell parses it.
- The pull request comment (``[tool.suitekit.ci] comment``) is a second workflow, triggered by
  ``workflow_run`` when the main one completes: a pull request from a fork runs the main
  workflow with a read-only token, and its code never runs with the comment workflow's
  ``pull-requests: write`` token, which only downloads the merged report and calls the API.
  Everything in that report came from the pull request's run: the number is used only when it
  is digits and the pull request is at the commit the run tested; the summary is only data.
"""

from __future__ import annotations

import shlex
from typing import Final, final

from suitekit._handoff import ENV_CHECK_RESULTS
from suitekit._kinds import KINDS, CiContainer
from suitekit.ci._pipeline import (
    PYTHON,
    SHARD,
    CiJob,
    Pipeline,
    Provider,
    header,
)
from suitekit.ci._yaml import Commented, Spaced, YamlValue, dump

__all__ = ["ACTIONS_USED", "COMMENT_MARKER", "PR_NUMBER_FILE", "WORKFLOW_NAME", "GitHub"]

CHECKOUT: Final = "actions/checkout"
SETUP_PYTHON: Final = "actions/setup-python"
SETUP_UV: Final = "astral-sh/setup-uv"
UPLOAD: Final = "actions/upload-artifact"
DOWNLOAD: Final = "actions/download-artifact"
CACHE_RESTORE: Final = "actions/cache/restore"
CACHE_SAVE: Final = "actions/cache/save"
ACTIONS_USED: Final = (
    CHECKOUT,
    SETUP_PYTHON,
    SETUP_UV,
    UPLOAD,
    DOWNLOAD,
    CACHE_RESTORE,
    CACHE_SAVE,
)
"""Every action a generated workflow may use: each must have a pin."""

MATRIX_PYTHON: Final = "${{ matrix.python }}"
MATRIX_SHARD: Final = "${{ matrix.shard }}"
# What a `run` script reads the matrix's values from (set by the step's `env`).
MATRIX_ENV: Final = {"MATRIX_PYTHON": MATRIX_PYTHON, "MATRIX_SHARD": MATRIX_SHARD}

DURATIONS_ARTIFACT: Final = "suitekit-durations"
REPORTS_ARTIFACT: Final = "suitekit-reports"
REPORT_ARTIFACT: Final = "suitekit-report"
PR_NUMBER_FILE: Final = "pr-number"
"""The file of the merged report that names the pull request the run tested."""
WORKFLOW_NAME: Final = "suitekit"
COMMENT_MARKER: Final = "<!-- suitekit-summary -->"
"""The first line of suitekit's pull request comment: how the next run finds it to update it."""
COMMENT_LIMIT: Final = 65536
"""GitHub's limit on a comment's length, in characters."""
CACHE_PREFIX: Final = "suitekit-durations-"
CACHE_KEY: Final = CACHE_PREFIX + "${{ github.run_id }}-${{ github.run_attempt }}"

NOT_CANCELLED: Final = "${{ !cancelled() }}"
AFTER_INSTALL: Final = "${{ !cancelled() && steps.install.outcome == 'success' }}"
INTERMEDIATE_DAYS: Final = 7


@final
class GitHub:
    """Renders the GitHub Actions workflow (see the module's docstring)."""

    @property
    def provider(self) -> Provider:
        """``github``."""
        return "github"

    def render(self, pipeline: Pipeline) -> str:
        """The workflow file."""
        document: dict[str, YamlValue] = {
            "name": WORKFLOW_NAME,
            "on": {
                "push": {"branches": list(pipeline.branches)},
                "pull_request": None,
                "workflow_dispatch": None,
            },
            "permissions": {"contents": "read"},
            # A newer push to a pull request supersedes its running checks; runs of pushed
            # branches all finish, as they feed the durations cache.
            "concurrency": {
                "group": "${{ github.workflow }}-"
                "${{ github.event.pull_request.number || github.ref }}",
                "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
            },
            "jobs": Spaced({job.id: _job(pipeline, job) for job in pipeline.jobs}),
        }
        return dump(document, header=header("github", path=pipeline.paths["github"]))

    def render_comment(self, pipeline: Pipeline) -> str:
        """The workflow that posts the report's summary on the pull request (see the module)."""
        report = "${{ runner.temp }}/" + REPORT_ARTIFACT
        document: dict[str, YamlValue] = {
            "name": f"{WORKFLOW_NAME} comment",
            "on": {"workflow_run": {"workflows": [WORKFLOW_NAME], "types": ["completed"]}},
            "permissions": {},
            "jobs": {
                "comment": {
                    "name": "Comment the summary on the pull request",
                    "if": "${{ github.event.workflow_run.event == 'pull_request' && "
                    "github.event.workflow_run.conclusion != 'cancelled' }}",
                    "runs-on": pipeline.runner,
                    "timeout-minutes": 5,
                    "permissions": {"actions": "read", "pull-requests": "write"},
                    "steps": [
                        {
                            "name": "Download the merged report of the run",
                            "uses": _uses(pipeline, DOWNLOAD),
                            "with": {
                                "name": REPORT_ARTIFACT,
                                "path": report,
                                "run-id": "${{ github.event.workflow_run.id }}",
                                "github-token": "${{ github.token }}",
                            },
                        },
                        {
                            "name": "Post or update the comment",
                            "env": {
                                "GH_TOKEN": "${{ github.token }}",
                                "REPORT": report,
                                "HEAD_SHA": "${{ github.event.workflow_run.head_sha }}",
                            },
                            "run": _COMMENT_SCRIPT,
                        },
                    ],
                }
            },
        }
        return dump(document, header=header("github", path=pipeline.paths["github"]))


# The number and the summary come from a run of the pull request's code: the number is used
# only when it is digits and names a pull request at the commit that run tested, and the
# summary is sent as JSON data (jq builds it), never read by the shell.
_COMMENT_SCRIPT: Final = rf"""
if [ ! -f "$REPORT/{PR_NUMBER_FILE}" ] || [ ! -f "$REPORT/summary.md" ]; then
  echo "::notice::The report names no pull request or has no summary: no comment."
  exit 0
fi
pr="$(head -c 32 "$REPORT/{PR_NUMBER_FILE}" | tr -d '\n')"
case "$pr" in
  '' | *[!0-9]*)
    echo "::error::The report's pull request number is not a number."
    exit 1
    ;;
esac
head="$(gh api "repos/$GITHUB_REPOSITORY/pulls/$pr" --jq .head.sha)"
if [ "$head" != "$HEAD_SHA" ]; then
  echo "::notice::Pull request $pr is not at the commit the run tested: no comment."
  exit 0
fi
marker={shlex.quote(COMMENT_MARKER)}
jq -Rs --arg marker "$marker" --argjson limit {COMMENT_LIMIT} \
  '($marker + "\n" + .) as $body
  | if ($body | length) > $limit
    then $body[:($limit - 100)] + "\n\n(cut at the comment length limit)"
    else $body end
  | {{body: .}}' \
  "$REPORT/summary.md" > "$RUNNER_TEMP/comment.json"
existing="$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$pr/comments" \
  --jq ".[] | select(.user.login == \"github-actions[bot]\")
    | select(.body | startswith(\"$marker\")) | .id" | head -n 1)"
if [ -n "$existing" ]; then
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$existing" \
    --input "$RUNNER_TEMP/comment.json" > /dev/null
else
  gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$pr/comments" \
    --input "$RUNNER_TEMP/comment.json" > /dev/null
fi
""".removeprefix("\n")  # raw: a backslash ends a shell line here, as in the script


def _job(pipeline: Pipeline, job: CiJob) -> dict[str, YamlValue]:
    body: dict[str, YamlValue] = {"name": _title(job)}
    if job.needs:
        body["needs"] = list(job.needs)
    if job.kind == "report":
        body["if"] = NOT_CANCELLED
    body["runs-on"] = pipeline.runner
    body["timeout-minutes"] = job.timeout_minutes
    if not job.required:
        body["continue-on-error"] = True
    if job.kind == "suite":
        matrix: dict[str, YamlValue] = {"python": list(job.python)}
        if job.shards > 1:
            matrix["shard"] = list(range(1, job.shards + 1))
        body["strategy"] = {"fail-fast": False, "matrix": matrix}
    if job.services:
        body["services"] = {
            service: _service(pipeline, KINDS[service].ci) for service in job.services
        }
        body["env"] = {
            KINDS[service].provided_url: KINDS[service].ci.url("127.0.0.1")
            for service in job.services
        }
    body["steps"] = _durations_steps(pipeline) if job.kind == "durations" else _steps(pipeline, job)
    return body


def _title(job: CiJob) -> str:
    if job.kind != "suite":
        return job.title
    if job.shards > 1:
        return f"{job.title} ({MATRIX_PYTHON}, shard {MATRIX_SHARD}/{job.shards})"
    return f"{job.title} ({MATRIX_PYTHON})"


def _matrix(text: str) -> str:
    return text.replace(PYTHON, MATRIX_PYTHON).replace(SHARD, MATRIX_SHARD)


def _matrix_script(text: str) -> tuple[str, dict[str, YamlValue]]:
    """``text`` reading the matrix's values from variables, and the ``env`` that sets them."""
    script = text.replace(PYTHON, '"${MATRIX_PYTHON}"').replace(SHARD, '"${MATRIX_SHARD}"')
    env: dict[str, YamlValue] = {
        name: value for name, value in MATRIX_ENV.items() if f"${{{name}}}" in script
    }
    return script, env


def _uses(pipeline: Pipeline, action: str) -> YamlValue:
    reference, version = pipeline.pins.uses(action)
    return Commented(reference, version) if version else reference


def _durations_steps(pipeline: Pipeline) -> list[YamlValue]:
    job = pipeline.durations_job
    assert job is not None  # noqa: S101 - only called for that job
    return [
        _restore_store(pipeline),
        *({"name": step.name, "run": step.run} for step in job.steps),
        {
            "name": "Hand the store to the shards",
            "uses": _uses(pipeline, UPLOAD),
            "with": {
                "name": DURATIONS_ARTIFACT,
                "path": pipeline.durations_file,
                "include-hidden-files": True,
                "retention-days": 1,
            },
        },
    ]


def _restore_store(pipeline: Pipeline) -> dict[str, YamlValue]:
    return {
        "name": "Restore the newest durations store",
        "uses": _uses(pipeline, CACHE_RESTORE),
        "with": {
            "path": pipeline.durations_file,
            "key": CACHE_KEY,
            "restore-keys": CACHE_PREFIX,
        },
    }


def _steps(pipeline: Pipeline, job: CiJob) -> list[YamlValue]:
    steps: list[YamlValue] = [
        {
            "name": "Check out",
            "uses": _uses(pipeline, CHECKOUT),
            "with": {"persist-credentials": False},
        },
    ]
    if job.python:
        # setup-python makes the last version listed the default `python`: the job's own.
        versions = MATRIX_PYTHON if job.kind == "suite" else "\n".join(reversed(job.python))
        if "\n" in versions:
            versions += "\n"
        steps.append(
            {
                "name": "Set up Python",
                "uses": _uses(pipeline, SETUP_PYTHON),
                "with": {"python-version": versions},
            }
        )
    steps += [
        {
            "name": "Set up uv",
            "uses": _uses(pipeline, SETUP_UV),
            "with": {
                "version": pipeline.pins.uv,
                # `auto`: on, except for release and tag pushes (cache poisoning).
                "enable-cache": "auto",
                "cache-dependency-glob": "\n".join(pipeline.cache_files),
            },
        },
        {
            "name": "Install nox and suitekit",
            "id": "install",
            "run": f'{pipeline.install}\nuv tool dir --bin >> "$GITHUB_PATH"\n',
        },
    ]
    if job.kind == "suite" and pipeline.durations_job is not None and job.needs:
        steps.append(_download_store(pipeline, optional=False))
    if job.kind == "report":
        steps += _report_inputs(pipeline)
    steps += _tunings(job)
    for number, step in enumerate(job.steps):
        entry: dict[str, YamlValue] = {"name": _matrix(step.name)}
        if job.keep_going and (number or job.kind == "report"):
            entry["if"] = AFTER_INSTALL
        script, env = _matrix_script(step.run)
        # The first step runs the report: it names the checks' results in the summary.
        env.update(_check_results(pipeline) if job.kind == "report" and not number else {})
        if env:
            entry["env"] = env
        entry["run"] = script
        steps.append(entry)
    if job.kind == "suite":
        steps.append(_upload_reports(pipeline, job))
    if job.kind == "report":
        steps += _report_outputs(pipeline)
    return steps


def _download_store(pipeline: Pipeline, *, optional: bool) -> dict[str, YamlValue]:
    step: dict[str, YamlValue] = {
        "name": "Download the durations store",
        "uses": _uses(pipeline, DOWNLOAD),
    }
    if optional:
        # Without it the report starts a new store; it must not stop the report.
        step["continue-on-error"] = True
    step["with"] = {"name": DURATIONS_ARTIFACT, "path": _folder(pipeline.durations_file)}
    return step


def _folder(path: str) -> str:
    return path.rpartition("/")[0] or "."


def _service(pipeline: Pipeline, container: CiContainer) -> dict[str, YamlValue]:
    entry: dict[str, YamlValue] = {"image": pipeline.pins.image(container.image)}
    if container.variables:
        entry["env"] = dict(container.variables)
    entry["ports"] = [f"{container.port}:{container.port}"]
    entry["options"] = container.options
    return entry


def _tunings(job: CiJob) -> list[YamlValue]:
    """A step per service container that is tuned once it answers (PostgreSQL's settings)."""
    return [
        {
            "name": tuning.name,
            "env": {f"{service.upper()}_CONTAINER": f"${{{{ job.services.{service}.id }}}}"},
            "run": tuning.script,
        }
        for service in job.services
        if (tuning := KINDS[service].ci.tuning)
    ]


def _upload_reports(pipeline: Pipeline, job: CiJob) -> dict[str, YamlValue]:
    name = f"{REPORTS_ARTIFACT}-{job.id}-{MATRIX_PYTHON}"
    if job.shards > 1:
        name += f"-shard-{MATRIX_SHARD}"
    return {
        "name": "Upload the reports",
        "if": NOT_CANCELLED,
        "uses": _uses(pipeline, UPLOAD),
        "with": {
            "name": name,
            "path": f"{pipeline.reports}/",
            # Coverage data files are .coverage.*; hidden files are skipped by default.
            "include-hidden-files": True,
            "retention-days": INTERMEDIATE_DAYS,
        },
    }


def _report_inputs(pipeline: Pipeline) -> list[YamlValue]:
    steps: list[YamlValue] = [
        {
            "name": "Download every suite job's reports",
            "uses": _uses(pipeline, DOWNLOAD),
            "with": {
                "pattern": f"{REPORTS_ARTIFACT}-*",
                "merge-multiple": True,
                "path": pipeline.reports,
            },
        }
    ]
    if pipeline.durations_job is not None:
        steps.append(_download_store(pipeline, optional=True))
    else:
        steps.append(_restore_store(pipeline))
    return steps


def _report_outputs(pipeline: Pipeline) -> list[YamlValue]:
    required = [job for job in pipeline.jobs if job.required and job.kind != "report"]
    results = "".join(f' \\\n    "{job.id}=${_variable(job)}"' for job in required)
    check = (
        "status=0\n"
        f"for result in{results}; do\n"
        '  case "$result" in\n'
        "    *=success) ;;\n"
        '    *) echo "::error::${result%%=*} did not succeed: ${result#*=}"; status=1 ;;\n'
        "  esac\n"
        "done\n"
        'exit "$status"\n'
    )
    steps: list[YamlValue] = []
    if pipeline.comment:
        # The comment workflow reads the pull request's number from the report it downloads.
        steps.append(
            {
                "name": "Name the pull request in the report",
                "if": "${{ !cancelled() && github.event_name == 'pull_request' }}",
                "env": {"PR_NUMBER": "${{ github.event.pull_request.number }}"},
                "run": f"mkdir -p {shlex.quote(pipeline.reports)}\n"
                f"printf '%s\\n' \"$PR_NUMBER\" > "
                f"{shlex.quote(f'{pipeline.reports}/{PR_NUMBER_FILE}')}\n",
            }
        )
    return [
        *steps,
        {
            "name": "Upload the merged report",
            "if": NOT_CANCELLED,
            "uses": _uses(pipeline, UPLOAD),
            "with": {
                "name": REPORT_ARTIFACT,
                "path": f"{pipeline.reports}/",
                "include-hidden-files": True,
            },
        },
        {
            "name": "Save the merged durations store",
            "if": f"${{{{ !cancelled() && hashFiles('{pipeline.durations_file}') != '' }}}}",
            "uses": _uses(pipeline, CACHE_SAVE),
            "with": {"path": pipeline.durations_file, "key": CACHE_KEY},
        },
        {
            "name": "Fail when a required job did not succeed",
            "if": NOT_CANCELLED,
            "env": {_variable(job): f"${{{{ needs.{job.id}.result }}}}" for job in required},
            "run": check,
        },
    ]


def _check_results(pipeline: Pipeline) -> dict[str, YamlValue]:
    """``SUITEKIT_CHECK_RESULTS`` for the report step: each check's job result, by check.

    The results are GitHub's own words (``success``, ``failure``, ``cancelled``, ``skipped``);
    they reach the shell through ``env``, never through the script.
    """
    checks = [job for job in pipeline.jobs if job.kind == "check"]
    if not checks:
        return {}
    pairs = ", ".join(f'"{job.name}": "${{{{ needs.{job.id}.result }}}}"' for job in checks)
    return {ENV_CHECK_RESULTS: "{" + pairs + "}"}


def _variable(job: CiJob) -> str:
    return "RESULT_" + job.id.upper().replace("-", "_")
