"""The example project's generated GitLab pipeline, run by a real runner engine.

gitlab-ci-local (from the npm registry) runs bookshop's ``.gitlab-ci.yml``, as ``suitekit ci
gitlab`` writes it, with its shell executor: every job in a build folder of its own
(``--shell-isolation``), its artifacts and caches handed between jobs and stages as GitLab
hands them, against this machine's PostgreSQL and Redis. Every job must pass, the report job
must merge the JUnit files and coverage data that every suite job uploaded, and GitLab's
``coverage`` regex must read the combined figure.

Shell mode has no containers, so gitlab-ci-local is given a view of the file without what only
containers give (see :func:`shell_view`); the scripts, needs, stages, matrices, caches and
artifacts are the generated ones, and the generated file itself must pass gitlab-ci-local's
schema check. The jobs run on this machine, so a few variables keep them off its own state:
uv's tools in a folder of this test, and no kept template on the shared server.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import yaml

from tests.e2e.helpers import BIN, clean_env, need
from tests.e2e.isolation import MACHINE_POSTGRES, MACHINE_REDIS

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "bookshop"
IGNORED = shutil.ignore_patterns(
    ".nox", "reports", ".suitekit", ".venv*", "__pycache__", ".*_cache", "node_modules", "target",
    "test-results",
)  # fmt: skip
# The last release that runs on Node 20 (Debian's): later ones (4.75.1 was tried) call
# Set.prototype.union, which Node has only from 22 on.
GITLAB_CI_LOCAL = "gitlab-ci-local@4.64.1"
# What gitlab-ci-local's shell executor cannot take (see shell_view).
DROPPED_KEYS = ("image", "services", "after_script")
SERVICE_URLS = {"postgres": "SUITEKIT_POSTGRES_URL", "redis": "SUITEKIT_REDIS_URL"}
MACHINE = {"SUITEKIT_POSTGRES_URL": MACHINE_POSTGRES, "SUITEKIT_REDIS_URL": MACHINE_REDIS}
RESERVED = frozenset({"workflow", "stages", "variables", "default", "include"})
# suitekit's run ids (a timestamp and 6 hex digits), as its logs and database names show them.
RUN_ID = re.compile(r"(?<![0-9a-f])20\d{12}[0-9a-f]{6}(?![0-9a-f])")
JOB_RESULT = re.compile(r"^ (PASS|FAIL) +(\S.*?) *$", re.MULTILINE)


@pytest.fixture(scope="session")
def gitlab_ci_local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gitlab-ci-local, installed from the npm registry into a folder of this test run."""
    need(shutil.which("npm") is not None, "Node.js and npm are not installed")
    prefix = tmp_path_factory.mktemp("gitlab-ci-local")
    subprocess.run(
        ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", GITLAB_CI_LOCAL],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return prefix / "node_modules" / ".bin" / "gitlab-ci-local"


def shell_view(document: dict[str, Any]) -> dict[str, Any]:
    """The pipeline as gitlab-ci-local's shell executor can run it: three keys less.

    - ``services``: the shell executor starts no containers (gitlab-ci-local creates a Docker
      network for them and fails). A job that declared them gets this machine's servers in
      the variables that named the containers (``postgres:5432`` -> the machine's URL).
    - ``image``: with one, gitlab-ci-local sets ``CI_PROJECT_DIR`` to the container's
      ``/builds/<group>/<project>`` even with ``--force-shell-executor``, so the jobs' uv cache
      (``$CI_PROJECT_DIR/.uv-cache``) would land in the machine's ``/builds``.
    - ``after_script`` (``uv cache prune --ci``): with ``--shell-isolation`` gitlab-ci-local
      syncs the git-tracked files into the job's build folder again before it, with
      ``rsync --delete``, which removes the job's reports before its artifacts are collected.
    """
    view: dict[str, Any] = {}
    for name, body in document.items():
        if not isinstance(body, dict) or name in RESERVED - {"default"}:
            view[name] = body
            continue
        job = {key: value for key, value in body.items() if key not in DROPPED_KEYS}
        services = [service["alias"] for service in body.get("services", [])]
        if services:
            named = {SERVICE_URLS[alias] for alias in services}
            for alias in services:  # the generated URL names the container by its alias
                url = job["variables"][SERVICE_URLS[alias]]
                assert re.search(rf"[/@]{alias}:\d+/", url), (name, url)
            job["variables"] = {**job["variables"], **{key: MACHINE[key] for key in named}}
        view[name] = job
    return view


def expected_jobs(document: dict[str, Any]) -> set[str]:
    """The names gitlab-ci-local gives the pipeline's jobs (``unit: [3.11]``, matrices expanded)."""
    names: set[str] = set()
    for name, body in document.items():
        if name in RESERVED or name.startswith(".") or not isinstance(body, dict):
            continue
        matrix = body.get("parallel", {}).get("matrix")
        if not matrix:
            names.add(name)
            continue
        for row in matrix:
            combos: list[list[str]] = [[]]
            for values in row.values():
                combos = [[*combo, str(value)] for combo in combos for value in values]
            names.update(f"{name}: [{','.join(combo)}]" for combo in combos)
    return names


def _xml(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - the reports of our own run


def _testcases(junit: Path) -> list[str]:
    return [f"{case.get('classname')}::{case.get('name')}" for case in _xml(junit).iter("testcase")]


def _our_databases(run_ids: set[str], projects: set[str]) -> list[str]:
    """Databases on the machine's server made by this pipeline's runs (by run id or folder)."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
        ).fetchall()
    ours = []
    for name, comment in rows:
        marked = isinstance(comment, str) and comment.startswith("suitekit ")
        info = json.loads(comment.removeprefix("suitekit ")) if marked else {}
        run = str(info.get("run", ""))
        if any(run_id in name or run.startswith(run_id) for run_id in run_ids) or (
            info.get("project") in projects
        ):
            ours.append(name)
    return ours


def test_generated_gitlab_pipeline_passes_in_gitlab_ci_local(
    tmp_path: Path, gitlab_ci_local: Path
) -> None:
    """Every job of bookshop's pipeline passes; the report merges what every suite job sent."""
    need(bool(MACHINE_POSTGRES and MACHINE_REDIS), "no PostgreSQL and Redis servers are given")
    for tool in ("cargo", "chromium", "git", "rsync"):
        need(shutil.which(tool) is not None, f"the pipeline's jobs need {tool}")
    root = tmp_path / "bookshop"
    shutil.copytree(EXAMPLE, root, ignore=IGNORED)
    try:
        _run_and_check(root, tmp_path, gitlab_ci_local)
    finally:
        # Gigabytes: a build folder per job, each with its virtualenvs, node_modules and cargo
        # target, and the cache and artifact copies.
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(tmp_path / "uv-tools", ignore_errors=True)


def _run_and_check(root: Path, tmp_path: Path, gitlab_ci_local: Path) -> None:
    # CI installs this checkout: suitekit is not on the package index.
    config = root / "pyproject.toml"
    config.write_text(config.read_text() + f'\n[tool.suitekit.ci]\nsuitekit = "{REPO}"\n')
    env = clean_env(
        {
            # gitlab-ci-local reads the commit and branch (the workflow rules run branch
            # pipelines of main) and copies the git-tracked files into each job's folder.
            "GIT_CONFIG_COUNT": "2",
            "GIT_CONFIG_KEY_0": "user.name",
            "GIT_CONFIG_VALUE_0": "suitekit tests",
            "GIT_CONFIG_KEY_1": "user.email",
            "GIT_CONFIG_VALUE_1": "tests@suitekit.invalid",
            "FORCE_COLOR": "0",  # the job results are read from gitlab-ci-local's output
        }
    )
    generated = subprocess.run(
        [str(BIN / "suitekit"), "ci", "gitlab"],
        cwd=root, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    document = yaml.safe_load((root / ".gitlab-ci.yml").read_text())
    assert f"--with-editable {REPO} " in document[".suitekit-nox"]["before_script"][0]
    view = root / ".gitlab-ci-shell.yml"
    view.write_text(yaml.safe_dump(shell_view(document), sort_keys=False))
    for git in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "bookshop"]):
        subprocess.run(["git", *git], cwd=root, env=env, check=True, capture_output=True)

    # The generated file itself, containers and all, passes gitlab-ci-local's schema check.
    listed = subprocess.run(
        [str(gitlab_ci_local), "--list"],
        cwd=root, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "json schema validated" in listed.stderr + listed.stdout
    names = {re.split(r"\s{2,}", line)[0] for line in listed.stdout.splitlines()[1:] if line}
    assert names == expected_jobs(document), listed.stdout

    # In shell mode `uv tool install` would install into the machine's tools: into ours instead.
    tools = tmp_path / "uv-tools"
    # The uv cache every other nested run of these tests uses (this machine's), rather than the
    # file's $CI_PROJECT_DIR/.uv-cache, which gitlab-ci-local copies into and out of every job
    # (its `cache:`): the jobs start at once here, so each would download and unpack everything,
    # and the copies alone cost a minute of CPU. A warm cache took this test from 129 s to
    # 107 s alone on an idle machine (193 to 164 CPU-s). uv locks its cache for concurrent use,
    # and nothing here prunes it (the file's `uv cache prune --ci` is in the dropped
    # after_script).
    uv_cache = subprocess.run(
        [str(BIN / "uv"), "cache", "dir"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    run = subprocess.run(
        [
            str(gitlab_ci_local), "--file", view.name, "--shell-isolation",
            "--variable", f"UV_TOOL_DIR={tools}", "--variable", f"UV_TOOL_BIN_DIR={tools}/bin",
            "--variable", f"UV_CACHE_DIR={uv_cache}",
            # A kept template on the machine's server would outlive the copy of the project.
            "--variable", "SUITEKIT_KEEP_TEMPLATE=0",
        ],
        cwd=root, env=env, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    out = run.stdout + run.stderr
    state = root / ".gitlab-ci-local"
    logs = "".join(log.read_text() for log in sorted((state / "output").glob("*.log")))
    builds = {
        hashlib.sha256(str(build.resolve()).encode()).hexdigest()[:16]
        for build in (state / "builds").iterdir()
    }
    results = {name: verdict for verdict, name in JOB_RESULT.findall(out)}
    jobs = expected_jobs(document)
    assert {"durations", "guard", "report", "frontend: [3.11,1]", "frontend: [3.11,2]"} <= jobs
    assert run.returncode == 0, out[-20000:]
    assert {re.sub(r" +\d+\.\d+% coverage$", "", name) for name in results} == jobs, out
    assert set(results.values()) == {"PASS"}, results
    # Every database the jobs' sessions made on the machine's server is gone.
    run_ids = set(RUN_ID.findall(logs))
    assert len(run_ids) >= 3, logs  # one per session that used the servers, at least
    assert _our_databases(run_ids, builds) == []
    _check_reports(document, state, out, logs)


def _check_reports(document: dict[str, Any], state: Path, out: str, logs: str) -> None:
    # Artifacts between stages: the report job got every suite job's JUnit files, as uploaded.
    artifacts = state / "artifacts"
    report = artifacts / "report" / ".suitekit" / "reports"
    uploaded = {
        junit.name: _testcases(junit)
        for junit in artifacts.glob("*/.suitekit/reports/junit/*.xml")
        if junit.parents[3].name != "report"
    }
    suites = {name for name, body in document.items() if "parallel" in body}
    assert {name.split("-3.11")[0] for name in uploaded} == suites
    assert {junit.name for junit in (report / "junit").glob("*.xml")} == set(uploaded)
    # The shards read the durations job's store: together they ran each test exactly once.
    shards = [set(cases) for name, cases in uploaded.items() if ".shard-" in name]
    assert len(shards) == 2, uploaded.keys()
    assert all(shards)
    assert not shards[0] & shards[1]
    assert "was empty" not in logs

    # The merged JUnit holds every uploaded test once, none failed.
    merged = _xml(report / "junit.xml")
    every = [case for cases in uploaded.values() for case in cases]
    assert int(merged.get("tests", -1)) == len(every) > 0
    assert (merged.get("failures"), merged.get("errors")) == ("0", "0")
    assert f"suitekit: {len(every)} passed, 0 failed, 0 skipped" in logs

    # Coverage: the pytest suites' data combined; GitLab's regex reads the figure of coverage.json.
    totals = json.loads((report / "coverage.json").read_text())
    percent = f"{totals['totals']['percent_covered']:.2f}%"
    assert f"suitekit: combined coverage {percent} passes" in logs
    assert re.search(rf"^ PASS +report +{re.escape(percent)} coverage$", out, re.MULTILINE)
    for suite in ("unit", "processing", "integration"):
        assert re.search(rf"^report +> {suite} +\d+\.\d+%$", out, re.MULTILINE), suite
    source = state.parent / "src" / "bookshop"
    modules = {str(path.relative_to(state.parent)) for path in source.rglob("*.py")}
    assert set(totals["files"]) == modules
    cobertura = _xml(report / "coverage.xml")
    assert cobertura.tag == "coverage"
    assert len(list(cobertura.iter("class"))) == len(modules)
