"""A service of the project's own, for real: the machine's ``nats-server``, one per worker.

The tests of the project under test all talk to "their" NATS over a raw socket (``CONNECT``,
``SUB``, ``PUB``, ``PING``/``PONG``: no client library) on one fixed subject, ``orders``: each
subscribes, publishes its own tag for a second and a half, and fails if it received a message
it did not publish, a message of another worker's test. With an instance per worker
(``scope = "worker"``) they all pass; with one instance for the run (``scope = "run"``), the
same tests see each other's messages and fail, as tests/e2e/test_isolation.py shows for
PostgreSQL.

Each instance is started with a name (``-n``) that holds a token of the test, which is how the
test finds every ``nats-server`` it caused, and checks that none is left: after a passing run,
a failing run, a Ctrl-C, and, once ``suitekit clean`` ran, a run killed with SIGKILL. The
machine's own NATS (port 4222) is never used.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from tests.e2e.helpers import BIN, Project, clean_env
from tests.e2e.isolation import run_pytest, start_pytest

WORKERS: Final = 3
RUN: Final = ("--suitekit-suite=pubsub", "-n", str(WORKERS), "-p", "no:cacheprovider")

PYPROJECT: Final = """\
[tool.suitekit]
tests = ["tests"]

[tool.suitekit.suites.pubsub]
paths = ["tests"]
services = ["nats"]

[tool.suitekit.services.nats]
run = "{server} -a {{host}} -p {{port}} -n sk-{{worker}}-{token}"
scope = "{scope}"
env = {{ NATS_URL = "nats://{{host}}:{{port}}" }}
install = "apt install nats-server (Debian/Ubuntu), brew install nats-server (macOS)"
image = "nats:2"
"""

TESTS: Final = '''\
import os
import socket
import time
from pathlib import Path

import pytest

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


class Nats:
    """Just enough of NATS's text protocol: subscribe, publish, and read what arrives."""

    def __init__(self, url):
        host, port = url.removeprefix("nats://").rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.buffer = b""
        self.messages = []
        assert self.line().startswith(b"INFO ")
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false}\\r\\n')

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("NATS closed the connection")
        self.buffer += chunk

    def line(self):
        while b"\\r\\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\\r\\n", 1)
        return line

    def payload(self, size):
        while len(self.buffer) < size + 2:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size + 2 :]
        return data

    def ping(self):
        """Round trip: the server has handled everything sent before; keep what arrived."""
        self.sock.sendall(b"PING\\r\\n")
        while (line := self.line()) != b"PONG":
            if line == b"PING":
                self.sock.sendall(b"PONG\\r\\n")
            elif line.startswith(b"MSG "):
                self.messages.append(self.payload(int(line.split()[-1])).decode())
            elif line.startswith(b"-ERR"):
                raise AssertionError(line.decode())

    def subscribe(self, subject):
        self.sock.sendall(f"SUB {subject} 1\\r\\n".encode())
        self.ping()

    def publish(self, subject, text):
        data = text.encode()
        self.sock.sendall(f"PUB {subject} {len(data)}\\r\\n".encode() + data + b"\\r\\n")


@pytest.mark.parametrize("n", range(6))
def test_only_my_own_messages(n):
    url = os.environ["NATS_URL"]
    out = Path(os.environ["OUT"])
    (out / f"{WORKER}-{n}").write_text(url)
    if os.environ.get("WAIT") == "1":
        time.sleep(120)
    nats = Nats(url)
    nats.subscribe("orders")
    me = f"{WORKER}/{n}"
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        nats.publish("orders", me)
        time.sleep(0.05)
        nats.ping()
    assert me in nats.messages
    foreign = sorted({message for message in nats.messages if message != me})
    assert not foreign, f"{me} saw other workers' messages: {foreign}"
'''


def _nats_server() -> str:
    found = shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin")
    if found is None:
        pytest.skip("nats-server is not installed")
    return found


@pytest.fixture
def token() -> str:
    """What every nats-server of this test carries in its command line (its name)."""
    return secrets.token_hex(6)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def runs(token: str) -> Iterator[list[subprocess.Popen[str]]]:
    """Background runs; whatever the test's outcome, none of them, nor a NATS of theirs, lasts."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    for pid in _servers(token):
        os.kill(pid, signal.SIGKILL)


def _project(root: Path, token: str, scope: str) -> Project:
    project = Project(root)
    project.write(
        "pyproject.toml", PYPROJECT.format(server=_nats_server(), token=token, scope=scope)
    )
    project.write("tests/test_pubsub.py", TESTS)
    return project


def _servers(token: str) -> list[int]:
    """The running nats-server processes whose name holds ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if f"-{token}".encode() in command and b"nats-server" in command and state != "Z":
            found.append(int(entry.name))
    return found


def _urls(out: Path) -> dict[str, set[str]]:
    """The NATS URL each worker's tests were given."""
    found: dict[str, set[str]] = {}
    for path in out.iterdir():
        found.setdefault(path.name.rsplit("-", 1)[0], set()).add(path.read_text())
    return found


def _wait_for_tests(out: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while len(list(out.iterdir())) < count:
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the tests did not start"
        time.sleep(0.05)


def test_each_worker_has_its_own_nats_and_sees_only_its_own_messages(
    tmp_path: Path, token: str, out: Path
) -> None:
    project = _project(tmp_path / "own", token, "worker")

    result = run_pytest(project, *RUN, "-v", env={"OUT": str(out)})

    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout
    urls = _urls(out)
    assert sorted(urls) == [f"gw{n}" for n in range(WORKERS)], urls
    assert all(len(given) == 1 for given in urls.values())  # one instance per worker ...
    assert len(set.union(*urls.values())) == WORKERS  # ... each its own
    assert "nats://127.0.0.1:4222" not in set.union(*urls.values())
    assert _servers(token) == []


def test_one_shared_nats_mixes_the_workers_messages_and_is_stopped_after_the_failure(
    tmp_path: Path, token: str, out: Path
) -> None:
    project = _project(tmp_path / "shared", token, "run")

    result = run_pytest(project, *RUN, env={"OUT": str(out)})

    assert result.returncode == 1, result.stdout + result.stderr
    assert "saw other workers' messages" in result.stdout
    urls = _urls(out)
    assert len(urls) == WORKERS
    assert len(set.union(*urls.values())) == 1  # one instance for the whole run
    assert _servers(token) == []


def test_ctrl_c_stops_every_workers_nats(
    tmp_path: Path, token: str, out: Path, runs: list[subprocess.Popen[str]]
) -> None:
    project = _project(tmp_path / "interrupted", token, "worker")
    process = start_pytest(project, RUN, {"OUT": str(out), "WAIT": "1"})
    runs.append(process)
    _wait_for_tests(out, WORKERS, process)
    assert len(_servers(token)) == WORKERS

    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    output = process.communicate(timeout=120)[0]

    assert process.returncode == 2, output  # pytest's "interrupted"
    assert _servers(token) == []


def test_suitekit_clean_stops_the_nats_of_a_killed_run(
    tmp_path: Path, token: str, out: Path, runs: list[subprocess.Popen[str]]
) -> None:
    project = _project(tmp_path / "killed", token, "worker")
    process = start_pytest(project, RUN, {"OUT": str(out), "WAIT": "1"})
    runs.append(process)
    _wait_for_tests(out, WORKERS, process)
    os.killpg(process.pid, signal.SIGKILL)  # pytest and its workers; the servers live on
    process.communicate(timeout=60)
    assert len(_servers(token)) == WORKERS

    cleaned = subprocess.run(
        [str(BIN / "suitekit"), "clean"],
        cwd=project.root,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert cleaned.stdout.count("stopped a left-behind nats instance (127.0.0.1:") >= WORKERS
    assert _servers(token) == []
