"""Per-worker isolation for real: PostgreSQL, Redis, folders and ports, with cleanup."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

from suitekit import _naming, load_project
from suitekit._handoff import ENV_TEMPLATE
from suitekit.services import _postgres_server as _throwaway
from suitekit.services import _redis, clean
from suitekit.services._endpoints import RedisServer
from suitekit.services._postgres import template_key
from suitekit.services._throwaway import records, state_root
from suitekit.services._worker import work_folders
from tests.e2e.isolation import (
    MACHINE_POSTGRES,
    MACHINE_REDIS,
    machine_env,
    make_collide_project,
    redis_leases,
    require_local_binaries,
    require_machine_services,
    run_pytest,
    start_pytest,
    suitekit_databases,
)

SUITE = ("--suitekit-suite=integration", "-n", "4")
# Where the point is what a run sets up and removes rather than whether its tests collide, two
# workers show every per-worker resource as well as the project's four, and start faster.
PAIR = ("--suitekit-suite=integration", "-n", "2")
DATABASES_OF_A_PAIR = 3  # the run's template and one clone per worker


def _leftover_work(run_id: str) -> list[Path]:
    return [folder for folder, owner in work_folders() if owner.get("run") == run_id]


@pytest.fixture
def runs() -> Iterator[list[subprocess.Popen[str]]]:
    """Runs a test starts in the background; whatever the test's outcome, none outlives it.

    A test that fails half-way (a run that never set up, an assertion before the kill) would
    otherwise leave the run going, with its databases, leases and throwaway servers: its
    process group is killed and ``suitekit clean`` removes what it left, on the given servers.
    """
    started: list[subprocess.Popen[str]] = []
    yield started
    alive = [process for process in started if process.poll() is None]
    for process in alive:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
    if alive:
        # The killed runs' throwaway servers and folders, and their databases and leases on
        # the given servers (a project's config names no server: any project will do).
        clean(load_project(Path(__file__).parents[2]), machine_env())


def _assert_passed_and_left_nothing(run_id: str, returncode: int, output: str) -> None:
    assert returncode == 0, output
    assert "21 passed" in output
    assert suitekit_databases(run_id) == []
    assert redis_leases(run_id) == []
    assert _leftover_work(run_id) == []


def test_isolated_runs_pass_five_times_and_a_shared_database_fails(tmp_path: Path) -> None:
    require_machine_services()
    project = make_collide_project(tmp_path / "collide")
    # Five runs on the same server: the first two started together (two runs, each with its own
    # template and clones, at the same moment), then three one after the other.
    run_ids = [f"fivefold{attempt}{os.getpid()}" for attempt in range(5)]
    together = [
        start_pytest(project, SUITE, {**machine_env(), "SUITEKIT_RUN_ID": run_id})
        for run_id in run_ids[:2]
    ]
    outputs = [run.communicate(timeout=300)[0] for run in together]
    for run_id, run, output in zip(run_ids[:2], together, outputs, strict=True):
        _assert_passed_and_left_nothing(run_id, run.returncode, output)
    for run_id in run_ids[2:]:
        result = run_pytest(project, *SUITE, env={**machine_env(), "SUITEKIT_RUN_ID": run_id})
        _assert_passed_and_left_nothing(run_id, result.returncode, result.stdout + result.stderr)

    # The same tests, same 4 workers, without suitekit: one database, one keyspace, one folder.
    shared = f"shared_{os.getpid()}"
    media = tmp_path / "shared-media"
    media.mkdir()
    # A Redis database of our own, leased as suitekit's workers lease theirs: never one that
    # somebody else may be using, and emptied (by the release) when the test is done.
    redis_server = RedisServer.from_url(MACHINE_REDIS)
    tag = _redis.owner_tag(f"shared{os.getpid()}", "e2e", "shared")
    redis_db = _redis.lease(redis_server, tag)
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {shared}")
    try:
        url = MACHINE_POSTGRES.rsplit("/", 1)[0] + "/" + shared
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("CREATE TABLE items (id integer PRIMARY KEY, owner text NOT NULL)")
            db.execute("INSERT INTO items VALUES (0, 'seed')")
        env = {
            "DATABASE_URL": url,
            "APP_DB_URL": url,
            "APP_DB_NAME": shared,
            "REDIS_URL": redis_server.url(redis_db),
            "MEDIA_ROOT": str(media),
            "PYTHONHASHSEED": "0",  # so that collection agrees and only the collisions remain
        }
        result = run_pytest(
            project, "tests/integration", "-n", "4", "-p", "no:suitekit", "-k", "not import_time",
            env=env,
        )  # fmt: skip
        assert result.returncode == 1, result.stdout
        assert " failed" in result.stdout.splitlines()[-1]
    finally:
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {shared} WITH (FORCE)")
        _redis.release(redis_server, redis_db, tag)


def test_throwaway_servers_serve_the_run_and_are_gone_after(tmp_path: Path) -> None:
    require_local_binaries()
    project = make_collide_project(tmp_path / "throwaway")
    process = start_pytest(project, (*PAIR, "-v"), {"SUITEKIT_RUN_ID": f"throw{os.getpid()}"})
    out = process.communicate(timeout=300)[0]
    assert process.returncode == 0, out
    assert "21 passed" in out
    assert "suitekit workers" in out  # -v lists what each worker got
    # No record of a server this run started is left (other tests' servers may come and go).
    assert [r for r in records() if r.owner_pid == process.pid] == []
    # The servers the header named are gone (other tests may run servers of their own now).
    ports = re.findall(r"(?:postgres|redis) 127\.0\.0\.1:(\d+)", out)
    assert len(ports) == 2, out
    for port in ports:
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", int(port))) != 0


def test_a_serial_run_sets_its_own_database_up_with_no_template(tmp_path: Path) -> None:
    """Without xdist the only process runs the setup steps into its own database.

    A template would be copied once and dropped: one database is created rather than two. The
    tests see the setup's table and seed row in their database, and a test that lists the run's
    databases while it runs sees that one alone.
    """
    require_machine_services()
    seen = tmp_path / "seen.json"
    listing = """

def test_zz_the_runs_databases():
    run = os.environ["SUITEKIT_RUN_ID"]
    with _db() as db:
        names = [row[0] for row in db.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"sk\\\\_{run}%",)
        )]
    pathlib.Path(os.environ["SEEN"]).write_text(json.dumps(names))
"""
    project = make_collide_project(tmp_path / "collide", extra_tests=listing)
    project.write(
        "tests/integration/test_collide.py",
        "import json\n" + (project.root / "tests/integration/test_collide.py").read_text(),
    )
    run_id = f"alone{os.getpid()}"
    # A template an outer run named in the environment is not this run's.
    outer = f"sk_outer{os.getpid()}_integration_tpl_0"
    env = {**machine_env(), "SUITEKIT_RUN_ID": run_id, "SEEN": str(seen), ENV_TEMPLATE: outer}
    result = run_pytest(project, "--suitekit-suite=integration", "-n", "0", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "22 passed" in output
    assert " template " not in output  # the header names none
    names = json.loads(seen.read_text())
    assert len(names) == 1, names
    assert names[0].startswith(f"sk_{run_id}_integration_main_"), names
    assert suitekit_databases(run_id) == []
    assert redis_leases(run_id) == []
    assert _leftover_work(run_id) == []


def _crash_tests() -> str:
    return """

def test_zz_crash_a_worker():
    if os.environ.get("CRASH") == "1":
        os._exit(3)


def test_zz_fail():
    assert os.environ.get("FAIL") != "1"


def test_zz_wait():
    if os.environ.get("WAIT") == "1":
        time.sleep(120)
"""


@pytest.mark.parametrize("how", ["failure", "crashed-worker", "sigint"])
def test_nothing_is_left_behind(
    tmp_path: Path, how: str, runs: list[subprocess.Popen[str]]
) -> None:
    require_machine_services()
    project = make_collide_project(tmp_path / how, extra_tests=_crash_tests())
    run_id = f"left{how.replace('-', '')}{os.getpid()}"
    env = {**machine_env(), "SUITEKIT_RUN_ID": run_id}
    if how == "sigint":
        process = start_pytest(project, PAIR, {**env, "WAIT": "1"})
        runs.append(process)
        deadline = time.monotonic() + 120
        while len(suitekit_databases(run_id)) < DATABASES_OF_A_PAIR:
            assert time.monotonic() < deadline, "the run never set up its workers"
            time.sleep(0.05)
        time.sleep(2)
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        output = process.communicate(timeout=120)[0]
        assert process.returncode == 2, output  # pytest's "interrupted"
    else:
        flag = {"failure": "FAIL", "crashed-worker": "CRASH"}[how]
        result = run_pytest(project, *PAIR, env={**env, flag: "1"})
        assert result.returncode == 1, result.stdout + result.stderr
        if how == "crashed-worker":
            assert "crashed" in result.stdout.lower()
    assert suitekit_databases(run_id) == []
    assert redis_leases(run_id) == []
    assert _leftover_work(run_id) == []


def test_hostile_run_ids_neither_break_nor_inject(tmp_path: Path) -> None:
    require_machine_services()
    project = make_collide_project(tmp_path / "hostile")
    run_id = 'x\'; DROP DATABASE postgres; -- "quoted" spaces ünïcødé ' + "z" * 40
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        names_before = {row[0] for row in admin.execute("SELECT datname FROM pg_database")}
    result = run_pytest(project, *PAIR, env={**machine_env(), "SUITEKIT_RUN_ID": run_id})
    assert result.returncode == 0, result.stdout + result.stderr
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        names_after = {row[0] for row in admin.execute("SELECT datname FROM pg_database")}
    # Nothing was dropped (other runs, the shared-database test and the Django test running
    # beside this one may have created and dropped databases of their own meanwhile: sk_*,
    # shared_*, test_*), nothing is left.
    others = {n for n in names_before if n.startswith(("sk_", "shared_", "test_"))}
    assert names_before - names_after <= others
    assert "postgres" in names_after
    assert suitekit_databases(run_id) == []


def test_clean_removes_what_a_killed_run_left_and_nothing_else(
    tmp_path: Path, runs: list[subprocess.Popen[str]]
) -> None:
    require_machine_services()
    require_local_binaries()
    project = make_collide_project(tmp_path / "killed", extra_tests=_crash_tests())
    run_id = f"killed{os.getpid()}"
    # A database and a key that are not suitekit's, though they look alike.
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE sk_not_ours_{os.getpid()}")
    client = redis.Redis.from_url(MACHINE_REDIS)
    client.set(f"suitekit-lookalike-{os.getpid()}", "mine")
    try:
        # One run on the machine's servers, one on its own throwaway servers; both killed.
        killed = [
            start_pytest(project, PAIR, {**machine_env(), "SUITEKIT_RUN_ID": run_id, "WAIT": "1"}),
            start_pytest(project, PAIR, {"SUITEKIT_RUN_ID": run_id + "t", "WAIT": "1"}),
        ]
        runs += killed
        deadline = time.monotonic() + 120
        while len(suitekit_databases(run_id)) < DATABASES_OF_A_PAIR or len(records()) == 0:
            assert time.monotonic() < deadline, "the runs never set up their workers"
            time.sleep(0.05)
        time.sleep(3)
        for process in killed:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate(timeout=60)
        assert suitekit_databases(run_id)
        assert redis_leases(run_id)
        assert _leftover_work(run_id)

        result = project.run("suitekit", "clean", env=machine_env())
        assert result.returncode == 0, result.stdout + result.stderr
        assert "suitekit clean:" in result.stdout
        # The killed run's throwaway servers, named without their passwords.
        assert re.search(
            r"stopped a left-behind postgres server \(postgresql://postgres:\*\*\*@", result.stdout
        ), result.stdout
        assert re.search(r"stopped a left-behind redis server \(redis://:\*\*\*@", result.stdout), (
            result.stdout
        )
        assert suitekit_databases(run_id) == []
        assert redis_leases(run_id) == []
        assert _leftover_work(run_id) == []
        assert not [r for r in records() if r.owner_pid in {p.pid for p in killed}]
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
            row = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (f"sk_not_ours_{os.getpid()}",)
            ).fetchone()
        assert row is not None
        assert client.get(f"suitekit-lookalike-{os.getpid()}") == b"mine"
    finally:
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS sk_not_ours_{os.getpid()}")
        client.delete(f"suitekit-lookalike-{os.getpid()}")
        client.close()


def test_no_url_no_binaries_no_docker_names_all_three_ways_out(tmp_path: Path) -> None:
    project = make_collide_project(tmp_path / "nothing")
    env = {"SUITEKIT_POSTGRES_BINDIR": "", "SUITEKIT_REDIS_SERVER": "", "SUITEKIT_DOCKER": "0"}
    result = run_pytest(project, *SUITE, env=env)
    assert result.returncode == 4, result.stdout + result.stderr
    message = result.stderr
    assert "cannot provide postgres; tried:" in message
    assert "1. a URL: DATABASE_URL is not set" in message
    assert (
        "2. a throwaway server from local binaries: initdb and postgres were not found" in message
    )
    assert "3. a Docker container: not tried (SUITEKIT_DOCKER=0)" in message
    assert "apt install postgresql" in message


def test_clean_trusts_no_record_that_names_a_foreign_process_or_folder(tmp_path: Path) -> None:
    """A record whose pid is no longer the server, and whose folder is not a server folder."""
    bystander = subprocess.Popen(["sleep", "60"])
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    record = state_root() / "servers" / f"postgres-forged{os.getpid()}.json"
    record.write_text(
        json.dumps(
            {
                "kind": "postgres",
                "url": "postgresql://postgres@127.0.0.1:1/postgres",
                "owner_pid": 999_999_999,
                "server_pid": bystander.pid,
                "container": "",
                "data_dir": str(folder),
            }
        )
    )
    try:
        clean(None, {})
        assert bystander.poll() is None  # not signalled: it is not the server
        assert (folder / "keep.txt").read_text() == "mine"
        assert not record.exists()
    finally:
        bystander.kill()
        bystander.wait()
        record.unlink(missing_ok=True)


def test_a_conftest_that_fails_to_import_leaves_nothing_behind(tmp_path: Path) -> None:
    require_machine_services()
    project = make_collide_project(tmp_path / "badconftest")
    project.write("tests/integration/conftest.py", "import no_such_module_here\n")
    run_id = f"badconf{os.getpid()}"
    result = run_pytest(project, "--suitekit-suite=integration", "-n", "0",
                        env={**machine_env(), "SUITEKIT_RUN_ID": run_id})  # fmt: skip
    assert result.returncode != 0
    assert "no_such_module_here" in result.stdout + result.stderr
    assert suitekit_databases(run_id) == []
    assert redis_leases(run_id) == []


def test_a_half_built_kept_template_is_rebuilt(tmp_path: Path) -> None:
    require_machine_services()
    project = make_collide_project(tmp_path / "kept")
    config = project.root / "pyproject.toml"
    config.write_text(
        config.read_text().replace('  "python seed.py",\n]', '  "python seed.py",\n]\n'
                                   'keep-template = ["seed.py"]')
    )  # fmt: skip
    key_project = load_project(project.root)
    name = _naming.template_name(
        "",
        "integration",
        template_key(
            key_project.postgres, project.root, role=urlsplit(MACHINE_POSTGRES).username or ""
        ),
    )
    with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')  # as a run killed mid-setup leaves it
        admin.execute(
            f"""COMMENT ON DATABASE "{name}" IS 'suitekit {{"kept": "building", "run": "x"}}'"""
        )
    try:
        result = run_pytest(project, *PAIR, env={**machine_env(), "SUITEKIT_KEEP_TEMPLATE": "1"})
        assert result.returncode == 0, result.stdout + result.stderr
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
            row = admin.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                (name,),
            ).fetchone()
        # The same name (the key the run computes), built again and complete.
        assert row is not None
        assert '"kept": "true"' in str(row[0]), row
    finally:
        with psycopg.connect(MACHINE_POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_pdb_with_auto_workers_is_refused_rather_than_sharing_a_database(tmp_path: Path) -> None:
    require_machine_services()
    project = make_collide_project(tmp_path / "pdb")
    result = run_pytest(project, "--suitekit-suite=integration", "-n", "auto", "--pdb",
                        env=machine_env())  # fmt: skip
    assert result.returncode == 4, result.stdout + result.stderr
    assert "pass -n 0 to debug one process" in result.stderr


def test_a_throwaway_postgres_starts_from_a_kept_cluster_only_a_private_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_local_binaries()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    bindir = _throwaway.find_postgres_bindir(os.environ)
    assert bindir is not None
    initdb_runs: list[str] = []
    real_run = _throwaway._run

    def counting_run(argv: list[str], **kwargs: object) -> None:
        if Path(argv[0]).name == "initdb":  # not the single-user run that sets the password
            initdb_runs.append(argv[0])
        real_run(argv, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_throwaway, "_run", counting_run)

    def answers() -> None:
        server = _throwaway.start_postgres(bindir, os.environ)
        try:
            with psycopg.connect(server.record.url) as connection:
                assert connection.execute("SELECT 1").fetchone() == (1,)
        finally:
            server.stop()
        assert not Path(server.record.data_dir).exists()

    answers()  # initdb, and the new cluster is kept
    (kept,) = (tmp_path / "cache" / "suitekit" / "postgres-clusters").iterdir()
    assert kept.stat().st_mode & 0o777 == 0o700
    assert len(initdb_runs) == 1
    answers()  # a copy of the kept cluster: no initdb
    assert len(initdb_runs) == 1
    kept.chmod(0o755)  # another user could have changed it: not used, and replaced
    answers()
    assert len(initdb_runs) == 2
    assert kept.stat().st_mode & 0o777 == 0o700
    answers()
    assert len(initdb_runs) == 2
