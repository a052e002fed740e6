"""One Ctrl-C of `nox -s`, `inv` or `suitekit run` on a server the run was given: no database left.

nox gives a command 0.3 s after Ctrl-C before it kills it (0.5 s with SIGTERM): too little for a
pytest run to stop its workers and drop its template and clones, which a kill leaves on a
persistent server. These runs use the server named for the tests (SUITEKIT_TEST_POSTGRES_URL),
with database names of their own run id, and are interrupted once the workers have their
databases, while the tests run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import BIN, SUITES, clean_env, make_project
from tests.e2e.isolation import (
    databases_named_for,
    machine_env,
    redis_leases,
    require_machine_services,
    suitekit_databases,
)

SUITE_ON_A_SERVER = (
    SUITES.replace(
        'paths = ["tests/unit"]\nworkers = 2\n',
        'paths = ["tests/unit"]\nworkers = 2\nservices = ["postgres", "redis"]\n',
    )
    + """
[tool.suitekit.services.postgres]
setup = [{ sql = "CREATE TABLE items (id integer PRIMARY KEY)" }]
"""
)

WAITING_TEST = """\
import os
import time


def test_wait():
    if os.environ.get("WAIT") == "1":
        time.sleep(120)
"""

# Real suites take a moment to wind down (connections closed, fixtures torn down): here a
# second and a half, more than nox's own 0.5 s before it kills its command.
SLOW_TEARDOWN = """\
import time

import pytest


@pytest.fixture(scope="session", autouse=True)
def winds_down_slowly():
    yield
    time.sleep(1.5)
"""

COMMANDS = {
    "nox": ["nox", "-s", "unit-3.11"],
    "inv": ["inv", "test.unit"],
    "suitekit-run": ["suitekit", "run", "unit"],
}
DATABASES = 3  # the run's template and a clone per worker


@pytest.mark.parametrize("tool", list(COMMANDS))
def test_one_ctrl_c_leaves_no_database_on_a_given_server(demo_root: Path, tool: str) -> None:
    require_machine_services()
    project = make_project(demo_root, SUITE_ON_A_SERVER)
    project.write("tests/unit/test_wait.py", WAITING_TEST)
    project.write("tests/unit/conftest.py", SLOW_TEARDOWN)
    run_id = f"once{tool.replace('-', '')}{os.getpid()}"
    command = [str(BIN / COMMANDS[tool][0]), *COMMANDS[tool][1:]]
    env = {**machine_env(), "SUITEKIT_RUN_ID": run_id, "WAIT": "1"}
    process = subprocess.Popen(
        command, cwd=project.root, env=clean_env(env), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        # nox names the run "<id>-py3.11": every database of it starts with the given id.
        deadline = time.monotonic() + 180
        while len(suitekit_databases(run_id, prefix=True)) < DATABASES:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the run never gave its workers their databases"
            time.sleep(0.05)
        time.sleep(1)  # the tests are running
        os.killpg(process.pid, signal.SIGINT)  # one Ctrl-C, as a terminal sends it
        output = process.communicate(timeout=120)[0]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode != 0, output
    assert suitekit_databases(run_id, prefix=True) == [], output
    assert databases_named_for(f"{run_id}-py3.11", "unit") == [], output
    assert redis_leases(run_id, prefix=True) == [], output
    assert "Traceback" not in output, output
