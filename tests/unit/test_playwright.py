"""``runner = "playwright"``: its keys, its backend, its command lines and its split."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Final

import pytest

from suitekit import ConfigError
from suitekit._model import RunnerConfig, UserService
from suitekit.ci import render
from suitekit.ci._pipeline import TOOLS
from suitekit.plan import external_session
from suitekit.runners import Invocation, runner_for
from suitekit.sharding import ShardSpec
from tests.unit.test_ci import VERSION, loaded, tool, write_project
from tests.unit.test_runners import config_error, measured, project_with

JUNIT: Final = Path("/work/shop/.suitekit/reports/junit/web-3.11.xml")
KEY: Final = "tool.suitekit.suites.web"
BACKEND: Final = {"run": "python app.py --port {port}", "ready": "http://{host}:{port}/health"}


def playwright(**keys: Any) -> dict[str, Any]:
    return {"runner": "playwright", "cwd": "frontend", **keys}


# -- config -----------------------------------------------------------------------------------


def test_a_playwright_suite_is_read_with_its_backend(tmp_path: Path) -> None:
    suite = project_with(
        playwright(workers=3, backend={**BACKEND, "env": {"API": "{host}:{port}"}, "timeout": 5}),
        tmp_path,
    ).suite("web")
    backend = suite.runner.backend
    assert isinstance(backend, UserService)
    assert backend.run == ("python", "app.py", "--port", "{port}")
    assert (backend.ready_kind, backend.ready) == ("http", ("http://{host}:{port}/health",))
    assert (dict(backend.env), backend.timeout) == ({"API": "{host}:{port}"}, 5.0)
    assert backend.key == f"{KEY}.backend"  # what its start's messages name
    assert project_with(playwright(), tmp_path).suite("web").runner == RunnerConfig(
        kind="playwright", cwd="frontend"
    )


@pytest.mark.parametrize(
    ("backend", "key", "message"),
    [
        ({"ready": "tcp"}, "backend.run", "the backend has no command that starts it"),
        ({**BACKEND, "run": "app {prot}"}, "backend.run", "unknown field {prot} (did you mean"),
        ({**BACKEND, "ready": "http"}, "backend.ready", "'http' is neither \"tcp\", an http://"),
        ({**BACKEND, "timeout": 0}, "backend.timeout", "expected a positive number of seconds"),
        ({**BACKEND, "scope": "run"}, "backend.scope", "scope"),
        ({**BACKEND, "env": {"A": "{url}"}}, "backend.env", "unknown field {url}"),
        ({**BACKEND, "memory": "lots"}, "backend.memory", "expected a size of at least 1M"),
        ("python app.py", "backend", "table"),
    ],
)
def test_a_bad_backend_is_refused_with_its_key(
    tmp_path: Path, backend: object, key: str, message: str
) -> None:
    error = config_error(playwright(backend=backend), tmp_path)
    assert error.key == f"{KEY}.{key}"
    assert message in str(error)


def test_a_backend_is_refused_on_other_runners_and_on_pytest(tmp_path: Path) -> None:
    vitest = config_error({"runner": "vitest", "cwd": "frontend", "backend": BACKEND}, tmp_path)
    assert vitest.key == f"{KEY}.backend"
    assert "runner = 'vitest' takes no backend" in str(vitest)
    pytest_suite = config_error({"paths": ["tests"], "backend": BACKEND}, tmp_path)
    assert pytest_suite.key == f"{KEY}.backend"
    assert 'runner = "playwright"' in str(pytest_suite)


def test_pytest_keys_are_refused_on_a_playwright_suite(tmp_path: Path) -> None:
    error = config_error(playwright(marker="slow"), tmp_path)
    assert "marker is a key of pytest's suites; runner = 'playwright'" in str(error)


# -- command lines ----------------------------------------------------------------------------


def test_playwright_runs_its_paths_with_both_reporters_workers_and_its_own_shard() -> None:
    runner = runner_for("playwright")
    config = RunnerConfig(kind="playwright", cwd="frontend")
    call = Invocation(
        paths=("e2e",), junit=JUNIT, workers=2, shard=ShardSpec(index=1, total=3), posargs=("-x",)
    )
    output = JUNIT.parent.parent / "playwright" / JUNIT.stem  # one per session and shard
    assert runner.command(config, call) == (
        "npx", "--no-install", "playwright", "test", "e2e",
        "--reporter=list,junit", "--workers=2", f"--output={output}", "--shard=1/3", "-x",
    )  # fmt: skip
    assert runner.env(call) == {"PLAYWRIGHT_JUNIT_OUTPUT_FILE": str(JUNIT)}
    split = Invocation(paths=("e2e",), junit=JUNIT, workers=0, files=("/f/a.spec.ts",))
    assert runner.command(config, split)[3:] == (
        "test", "/f/a.spec.ts", "--reporter=list,junit", "--workers=1", f"--output={output}",
    )  # fmt: skip
    custom = RunnerConfig(kind="playwright", cwd="frontend", run="pnpm exec playwright")
    assert runner.command(custom, call)[:4] == ("pnpm", "exec", "playwright", "test")
    assert runner.list_command(config, ("e2e",), Path("/unused")) == (
        "npx", "--no-install", "playwright", "test", "--list", "--reporter=json", "e2e",
    )  # fmt: skip


def test_playwright_installs_as_vitest_does_and_needs_node_and_chromium_in_ci() -> None:
    runner = runner_for("playwright")
    assert runner.install_command(["package-lock.json", "package.json"]) == (
        "npm", "ci", "--no-audit", "--no-fund",
    )  # fmt: skip
    assert runner.install_marker == "node_modules/.suitekit-install"
    assert runner.tools == ("node", "chromium")
    step = TOOLS["chromium"]
    assert "apt-get install -y --no-install-recommends chromium" in step.run
    assert step.run.startswith("command -v chromium >/dev/null ||")
    assert "playwright install" not in step.run  # never a downloaded browser build


def _listing(root: Path, *files: str) -> str:
    suites = [{"title": file, "file": file, "specs": []} for file in files]
    return json.dumps({"config": {"rootDir": str(root)}, "suites": suites})


def test_playwright_reads_its_listing_relative_to_its_test_dir() -> None:
    runner = runner_for("playwright")
    root = Path("/work/shop/frontend/e2e")
    text = _listing(root, "b.spec.ts", "a.spec.ts", "a.spec.ts")
    assert runner.read_list(text) == (str(root / "a.spec.ts"), str(root / "b.spec.ts"))
    assert runner.units_root(text, Path("/work/shop/frontend")) == root
    assert runner.unit_of("a.spec.ts") == "a.spec.ts"
    with pytest.raises(ValueError, match=r"config\.rootDir"):
        runner.read_list("[]")


def test_a_playwright_shard_gets_its_files_by_their_recorded_times(tmp_path: Path) -> None:
    project = project_with(playwright(workers=2), tmp_path)
    run = external_session(
        project, project.suite("web"), python="3.11", posargs=["--shard", "2/2"], environ={}
    )
    test_dir = tmp_path / "frontend" / "e2e"  # Playwright's testDir: its classnames' root
    listed = _listing(test_dir, "slow.spec.ts", "one.spec.ts", "two.spec.ts")
    stored = {
        "slow.spec.ts::checkout": measured(9.0),
        "one.spec.ts::login": measured(2.0),
        "two.spec.ts::logout": measured(2.0),
    }
    split = run.split(listed, stored)
    assert split.why == "split by recorded durations"
    assert split.files == (str(test_dir / "one.spec.ts"), str(test_dir / "two.spec.ts"))
    assert run.env["PLAYWRIGHT_JUNIT_OUTPUT_FILE"] == str(run.junit)


def test_a_split_whose_filters_are_patterns_of_another_shards_file_is_not_used() -> None:
    runner = runner_for("playwright")
    root = Path("/f/e2e")
    # Playwright searches each filter, as a case-insensitive expression, in the file's path.
    assert runner.overlaps([f"{root}/a.spec.ts"], [f"{root}/A.spec.ts.bak.spec.ts"], root)
    assert runner.overlaps([f"{root}/a.spec.ts"], [f"{root}/b.spec.ts"], root) is None
    assert runner.overlaps(["/x+/"], ["/f/xx.spec.ts"], root) == "/f/xx.spec.ts"


# -- backends ---------------------------------------------------------------------------------


def test_a_backend_per_worker_is_planned_with_the_runs_id(tmp_path: Path) -> None:
    project = project_with(playwright(workers=3, backend=BACKEND), tmp_path)
    run = external_session(
        project, project.suite("web"), python="3.11", posargs=[], environ={"SUITEKIT_RUN_ID": "r1"}
    )
    backends = run.backends
    assert backends is not None
    assert backends.workers == ("pw0", "pw1", "pw2")
    assert backends.run_id == "r1-py3.11"
    assert [backends.variable(index) for index in range(3)] == [
        "SUITEKIT_BACKEND_URL_0",
        "SUITEKIT_BACKEND_URL_1",
        "SUITEKIT_BACKEND_URL_2",
    ]
    assert backends.url("127.0.0.1", 31000) == "http://127.0.0.1:31000"
    capped = external_session(
        project, project.suite("web"), python="3.11", posargs=[], environ={"SUITEKIT_WORKERS": "1"}
    )
    assert capped.backends is not None
    assert capped.backends.run_id is None
    assert capped.backends.workers == ("pw0",)
    assert capped.call.workers == 1
    with pytest.raises(ConfigError, match="one backend per worker"):
        external_session(
            project, project.suite("web"), python="3.11", posargs=["--workers=4"], environ={}
        )
    with pytest.raises(ConfigError, match="one backend per worker"):
        external_session(
            project, project.suite("web"), python="3.11", posargs=["-j", "4"], environ={}
        )
    plain = project_with(playwright(), tmp_path)
    assert (
        external_session(plain, plain.suite("web"), python="3.11", posargs=[], environ={}).backends
        is None
    )


def test_the_playwright_job_installs_node_and_chromium_before_its_tests(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    project = write_project(
        tmp_path,
        '[project]\nname = "shop"\nversion = "1"\n\n[tool.suitekit]\npython = ["3.12"]\n\n'
        '[tool.suitekit.suites.browser]\nrunner = "playwright"\ncwd = "web"\n',
    )
    github = render(project, "github", version=VERSION)
    steps = [step.get("run", "") for step in loaded(github)["jobs"]["browser"]["steps"]]
    nox = steps.index('nox -s browser-"${MATRIX_PYTHON}"')
    assert steps.index(TOOLS["node"].run) < nox
    assert steps.index(TOOLS["chromium"].run) < nox
    script = loaded(render(project, "gitlab", version=VERSION))["browser"]["script"]
    assert script.index(TOOLS["chromium"].run) < len(script) - 1
    path = tmp_path / "browser.github.yml"
    path.write_text(github, encoding="utf-8")
    argv: list[str | Path] = [
        tool("actionlint"),
        "-no-color",
        "-shellcheck",
        tool("shellcheck"),
        path,
    ]
    checked = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
