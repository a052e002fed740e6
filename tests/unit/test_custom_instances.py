"""Instances of the project's services, started for real: where ``run`` is found, which port
an instance gets when another program took one, a process that exited although its port
answered, and what ``suitekit clean`` may signal.

Every process here is a small Python program or ``sleep`` that the test starts itself; each is
stopped by the test (or by what is under test) before it ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

import pytest

from suitekit import Project, Suite
from suitekit._model import UserService
from suitekit.errors import ServiceError
from suitekit.services import _custom, _instances, _worker
from suitekit.services._state import create_private_file

RUN_ID: Final = "20260101-000000-ports"
LISTEN: Final = (
    "import socket, sys, time\n"
    "s = socket.socket()\n"
    "s.bind(('127.0.0.1', int(sys.argv[1])))\n"
    "s.listen()\n"
    "time.sleep(60)\n"
)


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``XDG_RUNTIME_DIR`` at a private folder of the test: its records and locks alone."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    return runtime / "suitekit"


@pytest.fixture
def stops() -> Iterator[list[Callable[[], None]]]:
    """The stops of the instances a test started, run at its end whatever happens."""
    found: list[Callable[[], None]] = []
    yield found
    for stop in reversed(found):
        stop()


def start(
    service: UserService, root: Path, stops: list[Callable[[], None]], port: int = 20999
) -> _custom.Running:
    return _custom.start(
        service,
        port=port,
        worker="gw0",
        run_id=RUN_ID,
        suite="unit",
        root=root,
        environ=dict(os.environ),
        on_start=stops.append,
    )


# -- run[0] as a path: from the project root ----------------------------------------------------


@pytest.fixture
def project_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with ``bin/svc``, while this process works in another folder."""
    root = tmp_path / "project"
    (root / "bin").mkdir(parents=True)
    program = root / "bin" / "svc"
    program.write_text("#!/bin/sh\nexec sleep 60\n")
    program.chmod(0o755)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return root


def test_a_relative_program_is_found_from_the_project_root(
    project_root: Path, stops: list[Callable[[], None]]
) -> None:
    service = UserService(name="svc", run=("./bin/svc",), ready_kind="command", ready=("true",))

    running = start(service, project_root, stops)

    assert running.process is not None
    assert running.process.poll() is None  # it runs: found and started from the root


def test_a_relative_program_missing_from_the_root_is_named(
    project_root: Path, stops: list[Callable[[], None]]
) -> None:
    service = UserService(name="svc", run=("./bin/nope",), ready_kind="command", ready=("true",))

    with pytest.raises(ServiceError) as caught:
        start(service, project_root, stops)

    assert str(caught.value) == (
        "service 'svc': ./bin/nope was not found (tool.suitekit.services.svc.run)"
        "\n  fix: install ./bin/nope, or give its full path in run"
    )
    assert stops == []


# -- an instance must still run once ready ------------------------------------------------------


def test_an_instance_that_exited_while_its_ready_check_passed_is_not_ready(
    tmp_path: Path, stops: list[Callable[[], None]]
) -> None:
    """As one that failed on EADDRINUSE while another program answered on its port."""
    # The instance exits only once its ready check has begun (the check leaves a file), and the
    # check passes after that: whatever the machine's load, the exit falls inside the check.
    began = tmp_path / "check-began"
    exits = (
        "import os, sys, time\n"
        f"while not os.path.exists({str(began)!r}): time.sleep(0.01)\n"
        "print('address in use'); sys.exit(7)"
    )
    checks = f"import pathlib, time; pathlib.Path({str(began)!r}).touch(); time.sleep(0.5)"
    service = UserService(
        name="svc",
        run=(sys.executable, "-c", exits),
        ready_kind="command",
        ready=(sys.executable, "-c", checks),  # passes, slowly
        timeout=10,
    )

    with pytest.raises(ServiceError) as caught:
        start(service, tmp_path, stops, port=20998)

    assert str(caught.value).startswith(
        "service 'svc' exited with code 7 although its ready check passed (another program "
        "may answer on 127.0.0.1:20998) (run in [tool.suitekit.services.svc])\n"
        "  the last 1 lines of its log:\n"
        "  | address in use\n"
    )


# -- a port another program took is not the instance's -----------------------------------------


def test_a_port_that_already_accepts_connections_is_not_given_to_an_instance(
    tmp_path: Path,
) -> None:
    service = UserService(
        name="svc", run=(sys.executable, "-c", LISTEN, "{port}"), env={"SVC_PORT": "{port}"}
    )
    project = Project(
        root=tmp_path,
        config_file=tmp_path / "pyproject.toml",
        python=("3.11",),
        custom_services=(service,),
    )
    suite = Suite(name="unit", paths=("tests",), custom_services=("svc",))
    environ = {**os.environ, "SUITEKIT_RUN_ID": RUN_ID}
    acquired = _worker.acquire(project, suite, worker="gw0", environ=environ)
    try:
        (locked,) = acquired.service_ports
        # Another program takes the locked port before the instance starts.
        with socket.socket() as other:
            other.bind(("127.0.0.1", locked))
            other.listen()

            _worker.start_services(acquired, project, suite, environ)

            port = int(acquired.resources.env["SVC_PORT"])
            assert port != locked
            assert acquired.resources.given == {"svc": f"127.0.0.1:{port}"}
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass  # the instance's own listener
    finally:
        acquired.release()


# -- what `suitekit clean` may signal -----------------------------------------------------------


@pytest.fixture
def orphan() -> Iterator[subprocess.Popen[bytes]]:
    """A process leading a session of its own, as an instance does; killed at the end."""
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def record_of(orphan: subprocess.Popen[bytes], folder: Path, *, started: str) -> Path:
    """Record ``orphan`` as an instance whose owner (a process that ended) is gone."""
    owner = subprocess.Popen(["true"])
    owner.wait()
    path = _instances.records_folder() / "svc-0123456789abcdef.json"
    record = _instances.InstanceRecord(
        service="svc",
        host=socket.gethostname(),
        owner_pid=owner.pid,
        pid=orphan.pid,
        started=started,
        folder=str(folder),
        run=RUN_ID,
        suite="unit",
        worker="gw3",
        port=21003,
        path=path,
    )
    create_private_file(path, record.to_json().encode())
    return path


def test_clean_never_signals_an_instance_it_cannot_tell_from_a_reused_pid(
    tmp_path: Path, orphan: subprocess.Popen[bytes]
) -> None:
    """No start time (no /proc, as on macOS): named, with how to stop it, never signalled."""
    path = record_of(orphan, tmp_path, started="")
    said: list[str] = []

    assert _custom.left_behind(said.append) == 0

    assert orphan.poll() is None  # not signalled
    expected = (
        f"left a svc instance alone (127.0.0.1:21003, run {RUN_ID}, worker gw3, pid "
        f"{orphan.pid}): without /proc suitekit cannot tell it from a later process given the "
        f"same pid, so it signals neither\n  fix: if `ps -p {orphan.pid}` shows it is still "
        f"your svc, stop it: kill -TERM -- -{orphan.pid}"
    )
    assert said == [expected]
    assert not path.exists()  # named once


def test_the_controller_leaves_such_an_instance_to_clean(
    tmp_path: Path, orphan: subprocess.Popen[bytes]
) -> None:
    path = record_of(orphan, tmp_path, started="")

    _custom.finish_run(RUN_ID, "unit")

    assert orphan.poll() is None
    assert path.exists()  # for `suitekit clean` to name


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="start times come from /proc")
def test_clean_stops_an_instance_whose_start_time_matches(
    tmp_path: Path, orphan: subprocess.Popen[bytes]
) -> None:
    path = record_of(orphan, tmp_path, started=_instances.start_time(orphan.pid))
    said: list[str] = []

    assert _custom.left_behind(said.append) == 1

    assert orphan.wait(timeout=10) == -signal.SIGTERM
    assert said == [
        f"stopped a left-behind svc instance (127.0.0.1:21003, run {RUN_ID}, worker gw3)"
    ]
    assert not path.exists()


def test_an_answer_that_is_not_http_is_not_ready_and_raises_nothing() -> None:
    # What a probe reads on a connection the kernel made to itself (its own request, on a port
    # nothing listens on yet) is no HTTP status line: polling goes on.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def answer() -> None:
            connection, _ = server.accept()
            with connection:
                connection.recv(1024)
                connection.sendall(b"GET /health HTTP/1.1\r\n\r\n")

        thread = threading.Thread(target=answer)
        thread.start()
        try:
            why = _custom._probe_http(f"http://127.0.0.1:{port}/health", 5.0)
        finally:
            thread.join(timeout=5)
    assert why == f"GET http://127.0.0.1:{port}/health got no answer"
