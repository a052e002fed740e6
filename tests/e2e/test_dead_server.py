"""A throwaway server that dies during the run: its tests fail, it is named once, no traceback."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from tests.e2e.helpers import SUITES, Project, make_project
from tests.e2e.isolation import require_local_binaries, run_pytest

PYPROJECT = """\
[project]
name = "dead"
version = "0.1"

[tool.pytest.ini_options]
addopts = ["-p", "no:cacheprovider"]

[tool.suitekit]

[tool.suitekit.suites.integration]
paths = ["tests"]
workers = 2
services = ["postgres", "redis"]
"""

TESTS = """\
import os
import pathlib
import signal
import time

import psycopg
import pytest
import redis


def _kill(name, port):
    # This run's server, found by its port (as root, root may signal the server's user); its
    # folder noted first, for the test to check that it is gone after the run.
    for process in pathlib.Path("/proc").iterdir():
        try:
            command = (process / "cmdline").read_bytes().replace(b"\\0", b" ").decode()
            folder = (process / "cwd").readlink()
        except (OSError, ValueError):
            continue
        if name in command and f"{port}" in command:
            with open(os.environ["SERVER_FOLDERS_FILE"], "a") as noted:
                noted.write(f"{folder.parent}\\n")  # pg-*/data, redis-*/data: the server's folder
            os.kill(int(process.name), signal.SIGKILL)


def test_a_kill_the_servers():
    _kill("postgres", psycopg.conninfo.conninfo_to_dict(os.environ["DATABASE_URL"])["port"])
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    _kill("redis-server", client.connection_pool.connection_kwargs["port"])
    time.sleep(0.5)


@pytest.mark.parametrize("n", range(4))
def test_b_needs_the_database(n):
    time.sleep(0.3)
    with psycopg.connect(os.environ["DATABASE_URL"]) as connection:
        connection.execute("SELECT 1")
"""


def _shared_memory_segments() -> set[str]:
    """The POSIX shared memory segments of PostgreSQL servers of the throwaway servers' user."""
    user = os.geteuid() or pwd.getpwnam("nobody").pw_uid
    ram_disk = Path("/dev/shm")
    if not ram_disk.is_dir():
        return set()
    return {p.name for p in ram_disk.glob("PostgreSQL.*") if p.stat().st_uid == user}


# The same suite as the demo project's warm "unit" suite, for the run through inv.
DEMO_SUITES = SUITES.replace(
    'paths = ["tests/unit"]\nworkers = 2\n',
    'paths = ["tests/unit"]\nworkers = 2\nservices = ["postgres", "redis"]\n',
)


@pytest.mark.parametrize("how", ["pytest -n 0", "pytest -n 2", "inv"])
def test_a_server_that_dies_mid_run_is_named_and_fails_the_run(
    tmp_path: Path, demo_root: Path, how: str
) -> None:
    require_local_binaries()
    state = tmp_path / "state"  # the run's own state folder: its server records are there
    state.mkdir(mode=0o700)
    folders = tmp_path / "server-folders"
    segments_before = _shared_memory_segments()
    env = {"XDG_RUNTIME_DIR": str(state), "SERVER_FOLDERS_FILE": str(folders)}
    if how == "inv":
        # The runner starts the servers here, and the suite's pytest only finds them.
        project = make_project(demo_root, DEMO_SUITES)
        project.write("tests/unit/test_dead.py", TESTS)
        result = project.run("inv", "test.unit", env=env)
        counts = "4 failed, 4 passed"  # the demo's own three tests pass too
    else:
        project = Project(tmp_path / "dead")
        project.write("pyproject.toml", PYPROJECT)
        project.write("tests/test_dead.py", TESTS)
        workers = how.rsplit(" ", 1)[1]
        result = run_pytest(project, "--suitekit-suite=integration", "-n", workers, env=env)
        counts = "4 failed, 1 passed"
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    # A killed PostgreSQL leaves its /dev/shm segments; suitekit's keep theirs in their folder.
    assert _shared_memory_segments() <= segments_before
    assert counts in output
    for name in ("PostgreSQL", "Redis"):
        assert f"suitekit: the {name} server at " in output
    assert output.count("stopped answering during the run") == 2, output
    assert "the tests that needed it failed" in output
    # Said once: no traceback, and not a cleanup error for every step that reached it.
    assert "Traceback" not in output
    assert "suitekit: cleanup:" not in output
    assert "ServiceError" not in output
    assert "redis.exceptions" not in output
    # Both stopped servers' records and folders are gone, as after any run.
    assert list((state / "suitekit" / "servers").iterdir()) == []
    killed = folders.read_text().split()
    assert len(killed) == 2, killed
    assert [folder for folder in killed if Path(folder).exists()] == []
