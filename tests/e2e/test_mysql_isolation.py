"""Per-worker isolation on MariaDB for real: a database per worker copied from a template.

The server: ``SUITEKIT_TEST_MYSQL_URL`` when set (CI names the machine's MariaDB there), else a
throwaway ``mariadbd`` these tests start from local binaries, as suitekit starts one for a run.
Never whatever listens on 3306 unless named. Without either, the tests skip (fail in CI) and
say what to install. The e2e suite does not list ``mysql`` in its own ``services``: that would
make every e2e run need MariaDB, on a laptop that only works on the PostgreSQL side too.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pymysql
import pytest

from suitekit import _naming
from suitekit._handoff import ENV_MYSQL_TEMPLATE
from suitekit.services import _mysql
from suitekit.services._endpoints import MySQLServer
from suitekit.services._mysql_backend import MYSQL
from suitekit.services._mysql_server import find_mariadbd, start_mariadb
from suitekit.services._throwaway import records
from tests.e2e.helpers import Project, clean_env

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
GIVEN = os.environ.get("SUITEKIT_TEST_MYSQL_URL", "")
SUITE = ("--suitekit-suite=integration", "-n", "4")
PAIR = ("--suitekit-suite=integration", "-n", "2")
DATABASES_OF_A_PAIR = 3  # the run's template and one copy per worker

PYPROJECT = """\
[project]
name = "collide"
version = "0.1"

[tool.pytest.ini_options]
addopts = ["--strict-markers", "-p", "no:cacheprovider"]

[tool.suitekit]

[tool.suitekit.suites.integration]
paths = ["tests/integration"]
workers = 4
dist = "load"
services = ["mariadb"]

[tool.suitekit.services.mysql]
setup = [
  { sql = "CREATE TABLE items (id int PRIMARY KEY, owner varchar(40) NOT NULL)" },
  "python seed.py",
]
env = ["url", { APP_DB_NAME = "{database}" }]
"""

CONNECT = """\
import os
from urllib.parse import unquote, urlsplit

import pymysql


def connect():
    url = urlsplit(os.environ["MYSQL_URL"])
    return pymysql.connect(
        host=url.hostname, port=url.port, user=unquote(url.username),
        password=unquote(url.password or ""), database=url.path.lstrip("/"), autocommit=True,
    )
"""

SEED = """\
from db import connect

with connect() as db, db.cursor() as cursor:
    cursor.execute("INSERT INTO items VALUES (0, 'seed')")
"""

TESTS = """\
import os
import time

import pytest

from db import connect

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]


@pytest.mark.parametrize("word", WORDS)
def test_fixed_row(word):
    with connect() as db, db.cursor() as cursor:
        cursor.execute("INSERT INTO items VALUES (1, %s)", (word,))
        time.sleep(0.1)
        cursor.execute("SELECT owner FROM items WHERE id > 0")
        rows = cursor.fetchall()
        cursor.execute("DELETE FROM items WHERE id = 1")
    assert rows == ((word,),)


def test_import_time_the_worker_has_its_own_copy(suitekit_worker):
    database = suitekit_worker.given["mysql"]
    assert os.environ["MYSQL_URL"].rsplit("/", 1)[1] == database == os.environ["APP_DB_NAME"]
    with connect() as db, db.cursor() as cursor:
        cursor.execute("SELECT DATABASE()")
        assert cursor.fetchone() == (database,)
        # the setup ran once into the template, and every copy has its seed row
        cursor.execute("SELECT owner FROM items WHERE id = 0")
        assert cursor.fetchone() == ("seed",)
"""

CRASH_TESTS = """

def test_zz_fail():
    assert os.environ.get("FAIL") != "1"


def test_zz_wait():
    if os.environ.get("WAIT") == "1":
        time.sleep(120)
"""


@contextlib.contextmanager
def cursor_on(server: MySQLServer, database: str | None = None) -> Iterator[pymysql.cursors.Cursor]:
    """A cursor on ``database`` (none: the server), autocommitting."""
    kwargs = server.connect_kwargs(database)
    with pymysql.connect(**kwargs, autocommit=True) as db, db.cursor() as cursor:  # type: ignore[call-overload]
        yield cursor


def _unavailable(reason: str) -> None:
    if CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def mysql_url() -> Iterator[str]:
    """The MariaDB these tests use: the one named for them, else a throwaway of their own."""
    if GIVEN:
        try:
            _mysql.check(GIVEN)
        except Exception as error:  # noqa: BLE001 - said as the reason
            _unavailable(f"the MariaDB named by SUITEKIT_TEST_MYSQL_URL does not answer: {error}")
        yield GIVEN
        return
    mariadbd = find_mariadbd(os.environ)
    if mariadbd is None:
        _unavailable(
            "no MariaDB for these tests: set SUITEKIT_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/"
            f"test to name a server, or {MYSQL.install_hint}"
        )
        return
    throwaway = start_mariadb(mariadbd, os.environ)
    try:
        yield throwaway.record.url
    finally:
        throwaway.stop()


def make_project(root: Path, *, extra_tests: str = "") -> Project:
    project = Project(root)
    project.write("pyproject.toml", PYPROJECT)
    project.write("db.py", CONNECT)
    project.write("seed.py", SEED)
    project.write("tests/integration/conftest.py", "import sys, pathlib\n"
                  "sys.path.insert(0, str(pathlib.Path(__file__).parents[2]))\n")  # fmt: skip
    project.write("tests/integration/test_collide.py", TESTS + extra_tests)
    return project


def _env(extra: Mapping[str, str]) -> dict[str, str]:
    env = clean_env(extra)
    if "MYSQL_URL" not in extra:
        env.pop("MYSQL_URL", None)  # a contributor's own server must not be taken
    env["PYTHONPATH"] = ""
    return env


def run_pytest(project: Project, *args: str, env: Mapping[str, str]) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=project.root,
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def start_pytest(
    project: Project, args: tuple[str, ...], env: Mapping[str, str]
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", *args],
        cwd=project.root,
        env=_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def databases_of(url: str, run_id: str) -> list[str]:
    """The databases of one run on the server: marked ones, and any named for it."""
    server = MySQLServer.from_url(url)
    marked = [d.name for d in _mysql.marked_databases(server) if d.info.get("run") == run_id]
    named = _mysql.databases_with_prefix(server, _naming.database_prefix(run_id, "integration"))
    return sorted({*marked, *named})


@pytest.fixture
def runs(mysql_url: str) -> Iterator[list[subprocess.Popen[str]]]:
    """Runs a test starts in the background: none outlives it, whatever the outcome."""
    started: list[subprocess.Popen[str]] = []
    yield started
    alive = [process for process in started if process.poll() is None]
    for process in alive:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
    if alive:
        from suitekit.services import clean  # noqa: PLC0415

        clean(None, {})  # their throwaway servers and folders
        MYSQL.clean(mysql_url, lambda _: None)


def test_isolated_runs_pass_five_times_and_a_shared_database_fails(
    tmp_path: Path, mysql_url: str
) -> None:
    project = make_project(tmp_path / "collide")
    passed = "11 passed"
    # Five runs on one server: two started together, then three one after the other.
    run_ids = [f"myfive{attempt}{os.getpid()}" for attempt in range(5)]
    together = [
        start_pytest(project, SUITE, {"MYSQL_URL": mysql_url, "SUITEKIT_RUN_ID": run_id})
        for run_id in run_ids[:2]
    ]
    for run_id, process in zip(run_ids[:2], together, strict=True):
        output = process.communicate(timeout=300)[0]
        assert process.returncode == 0, output
        assert passed in output, output
        assert databases_of(mysql_url, run_id) == []
    for run_id in run_ids[2:]:
        env = {"MYSQL_URL": mysql_url, "SUITEKIT_RUN_ID": run_id}
        args = SUITE
        if run_id == run_ids[-1]:
            # Without xdist: the one process sets its own database up (the tests check the seed
            # row), and a template an outer run named in the environment is not this run's.
            args = ("--suitekit-suite=integration", "-n", "0")
            env[ENV_MYSQL_TEMPLATE] = f"sk_outer{os.getpid()}_integration_tpl_0"
        code, output = run_pytest(project, *args, env=env)
        assert code == 0, output
        assert passed in output, output
        assert databases_of(mysql_url, run_id) == []

    # The same tests, same 4 workers, without suitekit: one database for all of them.
    server = MySQLServer.from_url(mysql_url)
    shared = f"shared_{os.getpid()}"
    with cursor_on(server) as cursor:
        cursor.execute(f"CREATE DATABASE {shared}")
    try:
        url = server.url(shared)
        with cursor_on(server, shared) as cursor:
            cursor.execute("CREATE TABLE items (id int PRIMARY KEY, owner varchar(40) NOT NULL)")
            cursor.execute("INSERT INTO items VALUES (0, 'seed')")
        code, output = run_pytest(
            project, "tests/integration", "-n", "4", "-p", "no:suitekit", "-k", "fixed_row",
            env={"MYSQL_URL": url},
        )  # fmt: skip
        assert code == 1, output
        assert re.search(r"\d+ failed", output.splitlines()[-1]), output
    finally:
        with cursor_on(server) as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {shared}")  # not suitekit's to drop


@pytest.mark.parametrize("how", ["failure", "sigint"])
def test_nothing_is_left_behind(
    tmp_path: Path, mysql_url: str, how: str, runs: list[subprocess.Popen[str]]
) -> None:
    project = make_project(tmp_path / how, extra_tests=CRASH_TESTS)
    run_id = f"myleft{how}{os.getpid()}"
    env = {"MYSQL_URL": mysql_url, "SUITEKIT_RUN_ID": run_id}
    if how == "sigint":
        process = start_pytest(project, PAIR, {**env, "WAIT": "1"})
        runs.append(process)
        deadline = time.monotonic() + 120
        while len(databases_of(mysql_url, run_id)) < DATABASES_OF_A_PAIR:
            assert time.monotonic() < deadline, "the run never set up its workers"
            time.sleep(0.2)
        time.sleep(2)
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        output = process.communicate(timeout=120)[0]
        assert process.returncode == 2, output  # pytest's "interrupted"
    else:
        code, output = run_pytest(project, *PAIR, env={**env, "FAIL": "1"})
        assert code == 1, output
    assert databases_of(mysql_url, run_id) == []


def test_clean_removes_what_killed_runs_left_and_nothing_else(
    tmp_path: Path, mysql_url: str, runs: list[subprocess.Popen[str]]
) -> None:
    if find_mariadbd(os.environ) is None:
        _unavailable(f"no MariaDB binaries for a throwaway server: {MYSQL.install_hint}")
    project = make_project(tmp_path / "killed", extra_tests=CRASH_TESTS)
    run_id = f"mykilled{os.getpid()}"
    server = MySQLServer.from_url(mysql_url)
    # Look-alikes that are not suitekit's: a name without the comment, a foreign comment.
    lookalikes = {f"sk_not_ours_{os.getpid()}": "", f"sk_foreign_{os.getpid()}": "mine"}
    with cursor_on(server) as cursor:
        for name, comment in lookalikes.items():
            cursor.execute(f"CREATE DATABASE {name} COMMENT %s", (comment,))
    try:
        # One run on the named server, one on a throwaway MariaDB of its own; both killed.
        killed = [
            start_pytest(project, PAIR, {"MYSQL_URL": mysql_url, "SUITEKIT_RUN_ID": run_id,
                                         "WAIT": "1"}),
            start_pytest(project, PAIR, {"SUITEKIT_RUN_ID": run_id + "t", "WAIT": "1"}),
        ]  # fmt: skip
        runs += killed
        deadline = time.monotonic() + 120
        while len(databases_of(mysql_url, run_id)) < DATABASES_OF_A_PAIR or not [
            r for r in records() if r.kind == "mysql" and r.owner_pid == killed[1].pid
        ]:
            assert time.monotonic() < deadline, "the runs never set up their workers"
            time.sleep(0.2)
        time.sleep(3)
        for process in killed:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate(timeout=60)
        # The template and the waiting worker's copy (the other worker may have ended).
        assert len(databases_of(mysql_url, run_id)) >= DATABASES_OF_A_PAIR - 1

        result = project.run("suitekit", "clean", env={"MYSQL_URL": mysql_url})
        assert result.returncode == 0, result.stdout + result.stderr
        assert re.search(
            r"stopped a left-behind mysql server \(mysql://root:\*\*\*@", result.stdout
        ), result.stdout
        assert f"dropped MariaDB database sk_{run_id}" in result.stdout, result.stdout
        assert databases_of(mysql_url, run_id) == []
        assert not [r for r in records() if r.owner_pid in {p.pid for p in killed}]
        left = set(_mysql.databases_with_prefix(server, "sk_"))
        assert set(lookalikes) <= left
    finally:
        with cursor_on(server) as cursor:
            for name in lookalikes:
                cursor.execute(f"DROP DATABASE IF EXISTS {name}")  # not suitekit's to drop


def test_a_throwaway_mariadb_serves_the_run_unprivileged_and_is_gone_after(
    tmp_path: Path,
) -> None:
    if find_mariadbd(os.environ) is None:
        _unavailable(f"no MariaDB binaries for a throwaway server: {MYSQL.install_hint}")
    project = make_project(tmp_path / "throwaway")
    project.write(
        "tests/integration/test_server.py",
        """\
        import os
        import pwd

        from db import connect


        def test_the_server_runs_unprivileged_with_a_password():
            with connect() as db, db.cursor() as cursor:
                cursor.execute("SELECT @@datadir, @@bind_address, @@socket")
                datadir, bind, sock = cursor.fetchone()
                cursor.execute(
                    "SELECT user, host FROM mysql.user"
                    " WHERE user <> 'mariadb.sys' ORDER BY host"
                )
                users = cursor.fetchall()
            assert bind == "127.0.0.1"
            assert datadir.startswith("/dev/shm/") or "-data/" in datadir
            assert users == (("root", "127.0.0.1"), ("root", "localhost"))
            owner = os.stat(os.path.dirname(sock)).st_uid
            assert os.stat(os.path.dirname(sock)).st_mode & 0o777 == 0o700
            if os.geteuid() == 0:
                assert owner != 0, pwd.getpwuid(owner)
            assert ":" in os.environ["MYSQL_URL"].split("@")[0].split("//")[1]  # a password
        """,
    )
    process = start_pytest(project, (*PAIR, "-v"), {"SUITEKIT_RUN_ID": f"mythrow{os.getpid()}"})
    out = process.communicate(timeout=300)[0]
    assert process.returncode == 0, out
    assert "12 passed" in out, out
    assert [r for r in records() if r.owner_pid == process.pid] == []
    (port,) = re.findall(r"mysql 127\.0\.0\.1:(\d+)", out)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(port))) != 0


def test_a_copy_keeps_keys_indexes_defaults_counters_rows_views_and_triggers(
    mysql_url: str,
) -> None:
    server = MySQLServer.from_url(mysql_url)
    tag = f"{os.getpid()}_{int(time.monotonic() * 1000) % 100000}"
    template, copy = f"sk_copytest_{tag}_tpl", f"sk_copytest_{tag}_copy"
    # The trigger and procedure on `log` are created without NO_AUTO_VALUE_ON_ZERO: an id of 0
    # is a new counter value there, as in the template, whatever mode the rows were copied in.
    schema = """\
SET @mode = @@sql_mode;
SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO');
CREATE TABLE authors (id int AUTO_INCREMENT PRIMARY KEY,
  name varchar(50) NOT NULL DEFAULT 'anon', UNIQUE KEY author_name (name));
CREATE TABLE books (id int AUTO_INCREMENT PRIMARY KEY, author_id int NOT NULL,
  title varchar(80), price decimal(8,2) DEFAULT 9.99, doubled decimal(9,2) AS (price * 2),
  KEY book_title (title), CONSTRAINT book_author FOREIGN KEY (author_id)
  REFERENCES authors (id) ON DELETE CASCADE);
INSERT INTO authors VALUES (0, 'zero'), (1, 'one'), (5, 'five');
INSERT INTO books (author_id, title) VALUES (1, 'a'), (5, 'b');
CREATE VIEW titles AS SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id;
CREATE VIEW title_list AS SELECT title FROM titles;
CREATE TRIGGER shout BEFORE INSERT ON authors FOR EACH ROW SET NEW.name = UPPER(NEW.name);
CREATE VIEW notes AS SELECT 'see `TEMPLATE`.books' AS note, title FROM books WHERE id = 1;
SET SESSION sql_mode = @mode;
CREATE TABLE events (v int);
CREATE TABLE log (id int AUTO_INCREMENT PRIMARY KEY, v int);
CREATE TRIGGER logged AFTER INSERT ON events FOR EACH ROW INSERT INTO log (id, v) VALUES (0, NEW.v);
CREATE PROCEDURE add_log(v int) INSERT INTO log (id, v) VALUES (0, v);
"""
    from suitekit._model import ServiceConfig, SetupStep  # noqa: PLC0415

    schema = schema.replace("TEMPLATE", template)  # a string literal that names it
    config = ServiceConfig(service="mysql", setup=(SetupStep(sql=schema),))
    try:
        _mysql.ensure_template(server, config, suite="s", name=template, run_id="copytest",
                               kept=None, cwd=Path(), environ=os.environ)  # fmt: skip
        _mysql.clone(server, template, copy, "copytest", "here:1", suite="s")
        with cursor_on(server, copy) as cursor:
            cursor.execute("SHOW CREATE TABLE books")
            (_, ddl) = cursor.fetchone() or ("", "")
            assert "CONSTRAINT `book_author` FOREIGN KEY (`author_id`) REFERENCES `authors`" in ddl
            assert "KEY `book_title` (`title`)" in ddl
            assert "DEFAULT 9.99" in ddl
            assert "AUTO_INCREMENT=3" in ddl
            cursor.execute("SELECT id, name FROM authors ORDER BY id")
            assert cursor.fetchall() == ((0, "zero"), (1, "one"), (5, "five"))
            cursor.execute("SELECT title, doubled FROM books ORDER BY id")
            assert [(t, float(d)) for t, d in cursor.fetchall()] == [("a", 19.98), ("b", 19.98)]
            cursor.execute("SELECT title FROM title_list ORDER BY title")
            assert cursor.fetchall() == (("a",), ("b",))
            cursor.execute("INSERT INTO authors (name) VALUES ('new')")
            cursor.execute("SELECT id, name FROM authors WHERE id > 5")
            assert cursor.fetchall() == ((6, "NEW"),)  # the counter, and the trigger
            with pytest.raises(pymysql.err.IntegrityError):
                cursor.execute("INSERT INTO books (author_id) VALUES (99)")
            with pytest.raises(pymysql.err.IntegrityError):
                cursor.execute("INSERT INTO authors (name) VALUES ('ONE')")
            _check_code_and_literals(cursor, template, copy)
            cursor.execute("DELETE FROM authors WHERE id = 1")
            cursor.execute("SELECT count(*) FROM books")
            assert cursor.fetchone() == (1,)  # ON DELETE CASCADE
        # The template is untouched by what the copy went through.
        with cursor_on(server, template) as cursor:
            cursor.execute("SELECT count(*) FROM books")
            assert cursor.fetchone() == (2,)
    finally:
        _mysql.drop(server, copy)
        _mysql.drop(server, template)


def _check_code_and_literals(cursor: pymysql.cursors.Cursor, template: str, copy: str) -> None:
    """The copy's view kept its string literal; its trigger and routine, their ``sql_mode``."""
    cursor.execute("SELECT note, title FROM notes")
    assert cursor.fetchall() == ((f"see `{template}`.books", "a"),)  # not renamed to the copy
    # Created without NO_AUTO_VALUE_ON_ZERO, they insert id 0 as the next counter value.
    cursor.execute("INSERT INTO events VALUES (1), (2)")
    cursor.execute("CALL add_log(3)")
    cursor.execute("SELECT id, v FROM log ORDER BY id")
    assert cursor.fetchall() == ((1, 1), (2, 2), (3, 3))
    modes = (
        "SELECT TRIGGER_NAME, SQL_MODE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s"
        " UNION ALL SELECT ROUTINE_NAME, SQL_MODE FROM information_schema.ROUTINES"
        " WHERE ROUTINE_SCHEMA = %s ORDER BY 1"
    )
    cursor.execute(modes, (copy, copy))
    copied = cursor.fetchall()
    cursor.execute(modes, (template, template))
    assert copied == cursor.fetchall()
    assert [name for name, _ in copied] == ["add_log", "logged", "shout"]


def _create_foreign(server: MySQLServer, name: str, comment: str = "") -> None:
    """A database that is not suitekit's, with a table in it (its data)."""
    with cursor_on(server) as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` COMMENT %s", (comment,))
        cursor.execute(f"CREATE TABLE `{name}`.mine (id int)")


def _survived(server: MySQLServer, name: str) -> bool:
    with cursor_on(server) as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s"
            " AND TABLE_NAME = 'mine'",
            (name,),
        )
        return cursor.fetchone() is not None


def _drop_foreign(server: MySQLServer, *names: str) -> None:
    with cursor_on(server) as cursor:
        for name in names:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def test_a_database_named_like_suitekits_without_its_mark_is_never_dropped(
    tmp_path: Path, mysql_url: str
) -> None:
    from suitekit._model import ServiceConfig, Suite  # noqa: PLC0415
    from suitekit.errors import ServiceError  # noqa: PLC0415

    server = MySQLServer.from_url(mysql_url)
    run_id = f"mynotours{os.getpid()}"
    worker = _naming.database_name(run_id, "integration", "gw0")
    template = _naming.template_name(run_id, "integration", None)
    for name in (worker, template):
        _create_foreign(server, name)
    try:
        refused = r"database {} exists without suitekit's comment.*\n  fix: a database of yours"
        with pytest.raises(ServiceError, match=refused.format(worker)):
            _mysql.drop(server, worker)
        config = ServiceConfig(service="mysql")
        with pytest.raises(ServiceError, match=refused.format(template)):
            _mysql.ensure_template(
                server, config, suite="integration", name=template, run_id=run_id,
                kept=None, cwd=Path(), environ=os.environ,
            )  # fmt: skip
        MYSQL.finish_run(Suite(name="integration"), run_id, mysql_url)  # finds neither by name
        assert _survived(server, worker)
        assert _survived(server, template)

        # A run given that run id: its worker gw0 stops, naming the database and the fix (xdist
        # then replaces the worker: the plugin's policy, whatever stopped it).
        _drop_foreign(server, template)
        project = make_project(tmp_path / "notours")
        _, output = run_pytest(
            project, *PAIR, env={"MYSQL_URL": mysql_url, "SUITEKIT_RUN_ID": run_id}
        )
        assert f"database {worker} exists without suitekit's comment" in output, output
        assert _survived(server, worker)
        assert databases_of(mysql_url, run_id) == [worker]  # the run's own are gone
    finally:
        _drop_foreign(server, worker, template)


def test_a_live_runs_database_is_never_dropped_by_another_with_the_same_run_id(
    mysql_url: str,
) -> None:
    import json  # noqa: PLC0415

    from suitekit.errors import ServiceError  # noqa: PLC0415

    server = MySQLServer.from_url(mysql_url)
    run_id = f"mytwice{os.getpid()}"
    name = _naming.database_name(run_id, "integration", "gw0")
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as live:
        try:
            for pid in (live.pid, ended.pid):
                info = {"run": run_id, "role": "worker", "pid": pid, "host": socket.gethostname()}
                _create_foreign(server, name, _mysql.COMMENT_PREFIX + json.dumps(info))
                if pid == live.pid:
                    with pytest.raises(ServiceError, match="another run with the same run id"):
                        _mysql.drop(server, name)
                    assert _survived(server, name)
                    _drop_foreign(server, name)
                else:  # a crashed predecessor's: dropped
                    _mysql.drop(server, name)
                    assert not _survived(server, name)
        finally:
            live.kill()
            _drop_foreign(server, name)
