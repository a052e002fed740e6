"""Services of the project's own under the plugin: an instance per worker, or one per run.

The service is a small Python script (``svc.py``): an HTTP server on ``{port}`` that also
starts a child process, and writes both pids and its ``{dir}`` where the test finds them. Each
run is a real subprocess with two xdist workers (the instances are started by the workers
themselves). After every run, passed or failed, no process of any instance is left, nor its
folder (its ``{dir}`` included) or record.
"""

from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

from suitekit.services import _custom

SERVICE: Final = """\
import http.server, os, subprocess, sys, time

port, worker, out, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
mode = os.environ.get("SVC_MODE", "serve")
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(os.path.join(out, f"{worker}-{os.getpid()}.dir"), "w") as dirs:
    dirs.write(folder)
with open(os.path.join(out, f"{worker}-{os.getpid()}.pids"), "w") as pids:
    pids.write(f"{os.getpid()} {child.pid}")
print("booting", flush=True)
print("loading the configuration", flush=True)
if mode == "exit":
    sys.exit(3)
if mode == "never":
    time.sleep(600)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path in ("/", "/ready") else 404)
        self.end_headers()
        self.wfile.write(f"{worker} {port} {os.getpid()}".encode())

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""

TESTS: Final = """\
import os
import urllib.request

import pytest


@pytest.mark.parametrize("n", range(4))
def test_its_own_instance(n):
    answer = urllib.request.urlopen(os.environ["SVC_URL"]).read().decode()
    worker, port, pid = answer.split()
    assert worker == os.environ["SVC_WORKER"]
    assert os.path.isdir(os.environ["SVC_DIR"])
    with open(os.path.join(os.environ["OUT"], f"seen-{n}"), "w") as seen:
        seen.write(f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')} {port} {pid}")
    assert os.environ.get("FAIL") != str(n)
"""


def _pyproject(
    out: Path, *, scope: str = "worker", ready: str = "http://{host}:{port}/ready"
) -> str:
    return textwrap.dedent(
        f"""
        [tool.suitekit]
        tests = ["tests"]

        [tool.suitekit.suites.it]
        paths = ["tests"]
        services = ["svc"]

        [tool.suitekit.services.svc]
        run = ["python", "svc.py", "{{port}}", "{{worker}}", "{out}", "{{dir}}"]
        ready = '''{ready}'''
        scope = "{scope}"
        timeout = 3

        [tool.suitekit.services.svc.env]
        SVC_URL = "http://{{host}}:{{port}}/"
        SVC_DIR = "{{dir}}"
        SVC_WORKER = "{{worker}}"
        """
    )


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setenv("OUT", str(folder))
    # Run under xdist, this test's own worker id would make the run under test a worker too.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    return folder


@pytest.fixture
def make(pytester: pytest.Pytester, out: Path) -> Callable[..., pytest.Pytester]:
    def make(**options: str) -> pytest.Pytester:
        pytester.makepyprojecttoml(_pyproject(out, **options))
        pytester.path.joinpath("svc.py").write_text(SERVICE)
        pytester.makepyfile(**{"tests/test_svc": TESTS})
        return pytester

    return make


def _pids(out: Path) -> list[int]:
    """Every pid an instance wrote: its own and its child's."""
    return [int(pid) for path in out.glob("*.pids") for pid in path.read_text().split()]


def _folders(out: Path) -> list[Path]:
    """Every instance's ``{dir}``, as it was given to it."""
    return [Path(path.read_text()) for path in out.glob("*.dir")]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _assert_nothing_left(out: Path) -> None:
    pids = _pids(out)
    assert pids, "no instance started"
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if _alive(pid)] == []
    # Nor its record (other tests' instances may be running meanwhile: only ours count).
    assert [record for record in _custom.records() if record.pid in pids] == []
    # Nor its folder: its {dir}, and the instance's folder around it (which holds its log).
    folders = _folders(out)
    assert len(folders) == len(pids) // 2, folders  # one per instance
    assert all(folder.name == "dir" for folder in folders), folders
    assert [folder.parent for folder in folders if folder.parent.exists()] == []


def _seen(out: Path) -> list[tuple[str, str, str]]:
    found = [path.read_text().split() for path in sorted(out.glob("seen-*"))]
    return [(worker, port, pid) for worker, port, pid in found]


def test_each_worker_gets_its_own_instance(make: Callable[..., pytest.Pytester], out: Path) -> None:
    result = make().runpytest_subprocess("--suitekit-suite=it", "-n", "2", "-v")

    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=4)
    seen = _seen(out)
    by_worker = {worker: (port, pid) for worker, port, pid in seen}
    assert set(by_worker) == {"gw0", "gw1"}, seen  # each worker ran tests
    assert len({port for port, _ in by_worker.values()}) == 2  # ... on its own instance
    assert len({pid for _, pid in by_worker.values()}) == 2
    assert all(by_worker[worker] == (port, pid) for worker, port, pid in seen)
    result.stdout.fnmatch_lines_random(["gw0: svc 127.0.0.1:*", "gw1: svc 127.0.0.1:*"])
    _assert_nothing_left(out)


def test_a_service_of_the_run_is_shared_and_stopped_after_a_failure(
    make: Callable[..., pytest.Pytester], out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIL", "2")
    # Ready by a command: a connection to the port (sys.executable: the venv's Python).
    probe = "python -c 'import socket; socket.create_connection((\"{host}\", {port}))'"
    pytester = make(scope="run", ready=probe)

    result = pytester.runpytest_subprocess("--suitekit-suite=it", "-n", "2")

    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.assert_outcomes(passed=3, failed=1)
    seen = _seen(out)
    assert {worker for worker, _, _ in seen} == {"gw0", "gw1"}, seen
    assert len({(port, pid) for _, port, pid in seen}) == 1  # one instance for both workers
    assert len(list(out.glob("*.pids"))) == 1
    _assert_nothing_left(out)


def test_a_service_that_is_not_ready_in_time_is_named_with_its_log(
    make: Callable[..., pytest.Pytester], out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SVC_MODE", "never")
    pytester = make()

    result = pytester.runpytest_subprocess("--suitekit-suite=it", "-n", "2")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stderr.str()
    port = re.search(r"GET http://127\.0\.0\.1:(\d+)/ready", text)
    assert port is not None, text
    expected = (
        "ERROR: suitekit: suite 'it': service 'svc' was not ready within 3 s: GET "
        f"http://127.0.0.1:{port[1]}/ready got no answer "
        '(ready = "http://{host}:{port}/ready" in [tool.suitekit.services.svc])\n'
        "  the last 2 lines of its log:\n"
        "  | booting\n"
        "  | loading the configuration\n"
        "  fix: see its log above; if it only needs longer to start, raise timeout in "
        "[tool.suitekit.services.svc] (now 3 s)\n"
    )
    assert expected in text, text
    assert text.count("was not ready") == 1  # the run stops at the first worker's message
    assert "crashed" not in result.stdout.str()  # no worker was replaced
    _assert_nothing_left(out)


def test_a_service_that_exits_says_so_without_xdist(
    make: Callable[..., pytest.Pytester], out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SVC_MODE", "exit")
    pytester = make(ready="tcp")

    result = pytester.runpytest_subprocess("--suitekit-suite=it", "-n", "0")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            (
                "ERROR: suitekit: suite 'it': service 'svc' exited with code 3 before it was ready "
                "(run in [[]tool.suitekit.services.svc[]])"
            ),
            "  the last 2 lines of its log:",
            "  | booting",
            "  | loading the configuration",
            "  fix: see its log above; the command was: python svc.py * main *",
        ]
    )
    _assert_nothing_left(out)


def test_a_missing_binary_gets_the_install_hint(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    pytester.makepyprojecttoml(
        textwrap.dedent(
            """
            [tool.suitekit]
            tests = ["tests"]

            [tool.suitekit.suites.it]
            paths = ["tests"]
            services = ["nats"]

            [tool.suitekit.services.nats]
            run = "no-such-nats-server -p {port}"
            install = "apt install nats-server (Debian/Ubuntu), brew install nats-server (macOS)"
            """
        )
    )
    pytester.makepyfile(**{"tests/test_x": "def test_x():\n    pass\n"})

    result = pytester.runpytest_subprocess("--suitekit-suite=it", "-n", "0")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            (
                "ERROR: suitekit: suite 'it': service 'nats': no-such-nats-server was not found "
                "(tool.suitekit.services.nats.run)"
            ),
            (
                "  fix: install it: apt install nats-server (Debian/Ubuntu), brew install "
                "nats-server (macOS)"
            ),
        ]
    )
