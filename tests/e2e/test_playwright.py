"""A Playwright suite through real nox: the system's Chromium, a backend per worker, shards.

The fixture (tests/fixtures/browser) pins @playwright/test; its backend, app.py, keeps rows in
its DATABASE_URL. At two workers each Playwright worker must reach its own copy of the backend,
each copy must have its own database cloned by suitekit, and a row one worker writes must be
invisible to the other. After the run, and after Ctrl-C, no copy, port lock, database, folder
or record may be left.

Its shards (``--shard K/N``), by Playwright's own ``--shard`` and then by recorded durations,
must each time partition the suite exactly, and a failing browser test must fail the session,
by name, and count as a failure in the JUnit report.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from suitekit.reporting import read_totals
from suitekit.services._custom import records
from suitekit.services._state import state_root
from suitekit.services._worker import work_folders
from tests.e2e.helpers import BIN, Project, clean_env, make_project, need, npm_installed
from tests.e2e.isolation import MACHINE_POSTGRES, suitekit_databases

FIXTURE = Path(__file__).parents[1] / "fixtures" / "browser"
JUNIT = Path(".suitekit/reports/junit")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

SUITE = """\
[tool.suitekit.suites.browser]
runner = "playwright"
cwd = "browser"
workers = 2
services = ["postgres"]

[tool.suitekit.suites.browser.backend]
run = [{python}, "browser/app.py", "{{port}}"]
ready = "http://{{host}}:{{port}}/health"
timeout = 60

[tool.suitekit.isolation]
dirs = ["UPLOADS"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    need(shutil.which("npm") is not None, "Node.js and npm are not installed")
    need(Path(CHROMIUM).exists(), f"Chromium is not installed ({CHROMIUM}; apt install chromium)")
    need(bool(MACHINE_POSTGRES), "no PostgreSQL server is given (SUITEKIT_TEST_POSTGRES_URL)")
    made = make_project(tmp_path / "shop", SUITE.format(python=json.dumps(sys.executable)))
    shutil.copytree(
        FIXTURE,
        made.root / "browser",
        ignore=shutil.ignore_patterns("node_modules", "test-results", "README.md"),
    )
    return made


@pytest.fixture
def out(tmp_path: Path) -> dict[str, Path]:
    folders = {"seen": tmp_path / "seen", "pids": tmp_path / "pids"}
    for folder in folders.values():
        folder.mkdir()
    return folders


@pytest.fixture
def run_id() -> str:
    return f"pw{secrets.token_hex(4)}"


def _env(out: dict[str, Path], run_id: str, hold_ms: int) -> dict[str, str]:
    return {
        "DATABASE_URL": MACHINE_POSTGRES,  # the server the suite's postgres service is given
        "SUITEKIT_RUN_ID": run_id,
        "SEEN_DIR": str(out["seen"]),
        "APP_PIDS": str(out["pids"]),
        "HOLD_MS": str(hold_ms),
        "CHROMIUM": CHROMIUM,
    }


@pytest.fixture
def runs() -> Iterator[list[subprocess.Popen[str]]]:
    """Background runs; whatever the test's outcome, none outlives it."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate(timeout=60)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _port_locked(port: int) -> bool:
    path = state_root() / "ports" / f"{port}.lock"
    if not path.exists():
        return False
    with path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
    return False


def _backends(out: dict[str, Path]) -> dict[int, dict[str, object]]:
    return {int(path.name): json.loads(path.read_text()) for path in out["pids"].iterdir()}


def _assert_nothing_left(out: dict[str, Path], run_id: str) -> None:
    backends = _backends(out)
    assert len(backends) == 2, backends
    for port, facts in backends.items():
        assert not _alive(int(str(facts["pid"]))), f"the backend on {port} still runs"
        assert not _port_locked(port), f"port {port} is still locked"
        assert facts["uploads"], facts
        assert not Path(str(facts["uploads"])).exists(), facts
    assert suitekit_databases(run_id, prefix=True) == []
    assert [
        folder for folder, owner in work_folders() if str(owner.get("run")).startswith(run_id)
    ] == []
    assert [record for record in records() if record.run.startswith(run_id)] == []


def test_each_playwright_worker_has_its_own_backend_and_database(
    project: Project, out: dict[str, Path], run_id: str
) -> None:
    started = time.monotonic()
    result = project.run("nox", "-s", "browser", env=_env(out, run_id, 1500), timeout=600)
    output = result.stdout + result.stderr

    assert result.returncode == 0, output
    assert "2 passed" in output
    seen = {path.stem: json.loads(path.read_text()) for path in out["seen"].glob("*.json")}
    assert sorted(seen) == ["alpha", "beta"], output
    assert {entry["index"] for entry in seen.values()} == {"0", "1"}  # ran side by side ...
    assert len({entry["backend"] for entry in seen.values()}) == 2  # ... on backends of their own
    assert len({entry["database"] for entry in seen.values()}) == 2  # ... with their own databases
    for name, entry in seen.items():
        assert entry["rows"] == [f"{name}-{entry['index']}"], entry  # the other's row unseen
    junit = next((project.root / ".suitekit" / "reports" / "junit").glob("browser-*.xml"))
    cases = ET.parse(junit).getroot().iter("testcase")  # noqa: S314 - the run's own report
    assert sorted(str(case.get("classname")) for case in cases) == ["alpha.spec.js", "beta.spec.js"]
    assert "suitekit: backend pw0: 127.0.0.1:" in output
    _assert_nothing_left(out, run_id)
    print(f"whole run: {time.monotonic() - started:.1f} s")  # noqa: T201 - for the report


def _holding(
    project: Project, out: dict[str, Path], run_id: str, runs: list[subprocess.Popen[str]]
) -> subprocess.Popen[str]:
    """A run whose two tests hold (two minutes), each on its own backend."""
    process = subprocess.Popen(
        [str(BIN / "nox"), "-s", "browser"],
        cwd=project.root,
        env=clean_env(_env(out, run_id, 120_000)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    runs.append(process)
    deadline = time.monotonic() + 300
    while len(list(out["seen"].glob("*.started"))) < 2:
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the tests did not start"
        time.sleep(0.1)
    assert all(_alive(int(str(facts["pid"]))) for facts in _backends(out).values())
    assert suitekit_databases(run_id, prefix=True) != []
    return process


def test_ctrl_c_stops_the_backends_and_gives_everything_back(
    project: Project, out: dict[str, Path], run_id: str, runs: list[subprocess.Popen[str]]
) -> None:
    process = _holding(project, out, run_id, runs)

    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    output = process.communicate(timeout=120)[0]

    assert process.returncode != 0, output
    _assert_nothing_left(out, run_id)


def test_suitekit_clean_removes_what_a_killed_run_left(
    project: Project, out: dict[str, Path], run_id: str, runs: list[subprocess.Popen[str]]
) -> None:
    process = _holding(project, out, run_id, runs)
    os.killpg(process.pid, signal.SIGKILL)  # nox, Playwright, Chromium; the backends live on
    process.communicate(timeout=60)
    assert all(_alive(int(str(facts["pid"]))) for facts in _backends(out).values())

    cleaned = project.run("suitekit", "clean", env={"DATABASE_URL": MACHINE_POSTGRES})

    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert cleaned.stdout.count("stopped a left-behind backend instance (127.0.0.1:") == 2
    _assert_nothing_left(out, run_id)


# -- shards and a failing test -------------------------------------------------------------------

# A third spec file, so that two shards have an uneven suite to split: quick, and without the
# backend (alpha and beta each hold for HOLD_MS on theirs).
GAMMA = """\
const { test, expect } = require("@playwright/test");

test("gamma renders a page of its own", async ({ page }) => {
  await page.setContent('<p id="word">gamma</p>');
  await expect(page.locator("#word")).toHaveText("gamma");
});

test("gamma adds without a page", async () => {
  expect(1 + 1).toBe(2);
});
"""

BROKEN = """\
const { test, expect } = require("@playwright/test");

test("finds the broken price", async ({ page }) => {
  await page.setContent('<p id="price">12</p>');
  await expect(page.locator("#price")).toHaveText("13", { timeout: 500 });
});
"""

WHOLE = [
    "alpha.spec.js::alpha sees its own backend and only its own rows",
    "beta.spec.js::beta sees its own backend and only its own rows",
    "gamma.spec.js::gamma adds without a page",
    "gamma.spec.js::gamma renders a page of its own",
]


@pytest.fixture(scope="session")
def installed_browser(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture with its node_modules, installed once by `npm ci` (the registry).

    Its install marker holds the fingerprint suitekit records after its own `npm ci` of the
    same lock file, so the sessions of a project linked to these node_modules skip the install.
    """
    return npm_installed(FIXTURE, tmp_path_factory.mktemp("playwright") / "browser", "playwright")


@pytest.fixture
def linked(project: Project, installed_browser: Path) -> Project:
    """The project, its node_modules those installed once for the session."""
    (project.root / "browser" / "node_modules").symlink_to(installed_browser / "node_modules")
    return project


def _cases(path: Path) -> list[str]:
    """``classname::name`` of every test case of a JUnit file."""
    root = ET.parse(path).getroot()  # noqa: S314 - the run's own report
    return sorted(f"{case.get('classname')}::{case.get('name')}" for case in root.iter("testcase"))


def _report(project: Project, shard: int | None = None) -> Path:
    pattern = "browser-*.xml" if shard is None else f"browser-*.shard-{shard}-of-2.xml"
    found = [
        path for path in (project.root / JUNIT).glob(pattern) if shard or "shard" not in path.name
    ]
    assert len(found) == 1, found
    return found[0]


def test_playwright_shards_partition_the_suite_by_playwright_then_by_durations(
    linked: Project, out: dict[str, Path], run_id: str
) -> None:
    linked.write("browser/tests/gamma.spec.js", GAMMA)
    started = time.monotonic()

    def shards(tag: str) -> tuple[list[list[str]], list[str]]:
        runs = [
            linked.run(
                "nox",
                "-s",
                "browser",
                "--",
                "--shard",
                f"{k}/2",
                env=_env(out, f"{run_id}{tag}{k}", 200),
                timeout=600,
            )
            for k in (1, 2)
        ]
        outputs = [run.stdout + run.stderr for run in runs]
        for run, output in zip(runs, outputs, strict=True):
            assert run.returncode == 0, output
            assert "npm ci" not in output  # the session's node_modules are current
        return [_cases(_report(linked, k)) for k in (1, 2)], outputs

    # No durations yet: Playwright's own --shard splits, and the shards are the whole suite.
    parts, outputs = shards("a")
    for k, output in enumerate(outputs, start=1):
        assert f"--shard={k}/2" in output, output
        assert "split by recorded durations" not in output
    assert all(parts), parts
    assert not set(parts[0]) & set(parts[1])
    assert sorted(parts[0] + parts[1]) == WHOLE
    unsplit = time.monotonic()

    # A whole run records every spec file's time; then suitekit deals the files out.
    whole = linked.run("nox", "-s", "browser", env=_env(out, f"{run_id}w", 200), timeout=600)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    assert _cases(_report(linked)) == WHOLE
    store = json.loads((linked.root / ".suitekit" / "durations.json").read_text())
    assert sorted(store["suites"]["browser"]) == WHOLE
    recorded = time.monotonic()

    parts, outputs = shards("d")
    tests = linked.root / "browser" / "tests"
    for output in outputs:
        assert "split by recorded durations" in output, output
        assert "--shard=" not in output
        assert str(tests) in output  # the shard's spec files, as absolute paths
    assert all(parts), parts
    assert not set(parts[0]) & set(parts[1])
    assert sorted(parts[0] + parts[1]) == WHOLE
    for part in parts:  # whole spec files: a file's tests are never split between shards
        files = {case.split("::")[0] for case in part}
        assert not files & {case.split("::")[0] for case in WHOLE if case not in part}
    print(  # noqa: T201 - for the report
        f"Playwright's shards: {unsplit - started:.1f} s, whole run: {recorded - unsplit:.1f} s, "
        f"shards by durations: {time.monotonic() - recorded:.1f} s"
    )


def test_a_failing_browser_test_fails_the_session_by_name(
    linked: Project, out: dict[str, Path], run_id: str
) -> None:
    linked.write("browser/tests/broken.spec.js", BROKEN)  # in this test's copy only
    started = time.monotonic()

    result = linked.run("nox", "-s", "browser", env=_env(out, run_id, 200), timeout=600)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "finds the broken price" in output
    report = _report(linked)
    totals = read_totals(report)
    assert (totals.tests, totals.failures) == (3, 1), output
    failed = [
        f"{case.get('classname')}::{case.get('name')}"
        for case in ET.parse(report).getroot().iter("testcase")  # noqa: S314 - the run's own
        if case.find("failure") is not None
    ]
    assert failed == ["broken.spec.js::finds the broken price"]
    _assert_nothing_left(out, run_id)  # a failed run gives its backends back too
    print(f"failing run: {time.monotonic() - started:.1f} s")  # noqa: T201 - for the report
