"""Throwaway servers only their owner can use: other local users are refused (issue 12, item 1).

Real servers, started by suitekit's own ``start_postgres`` and ``start_redis``; real clients
(``psql``, ``redis-cli``, ``cat``) run as other users of the machine (``nobody``, ``daemon``)
through ``setpriv`` (as root) or ``sudo -n setpriv`` (as a user with passwordless sudo, as on
CI runners).
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import psycopg
import pytest
import redis

from suitekit.services import _throwaway
from suitekit.services._endpoints import PostgresServer, RedisServer
from tests.e2e.isolation import CI, require_local_binaries

OTHERS: Final = ("nobody", "daemon")
WRONG: Final = "not-the-password"  # a password no server of suitekit has


@dataclass(frozen=True)
class Servers:
    postgres: _throwaway.Throwaway
    redis: _throwaway.Throwaway
    psql: str
    redis_cli: str

    @property
    def pg(self) -> PostgresServer:
        return PostgresServer.from_url(self.postgres.record.url)

    @property
    def rd(self) -> RedisServer:
        return RedisServer.from_url(self.redis.record.url)

    @property
    def socket_folder(self) -> Path:
        return Path(self.postgres.record.data_dir) / "socket"


def _client(name: str, beside: Path) -> str:
    found = beside / name if (beside / name).is_file() else shutil.which(name)
    if found is None:
        if CI:
            pytest.fail(f"CI must have {name} (it comes with the server packages)")
        pytest.skip(f"no {name} here")
    return str(found)


PLANTED = "SUITEKIT_TEST_PLANTED_SECRET"
PLANTED_VALUE = "postgresql://app:s3cr3t-of-the-run@db.internal/app"


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    require_local_binaries()
    bindir = _throwaway.find_postgres_bindir(os.environ)
    executable = _throwaway.find_redis_server(os.environ)
    assert bindir is not None
    assert executable is not None
    psql = _client("psql", bindir)
    redis_cli = _client("redis-cli", executable.parent)
    # A secret of the run's environment, as a DATABASE_URL or a CI token would be: the servers
    # must not carry it (their user, maybe a shared one, reads their environment in /proc).
    os.environ[PLANTED] = PLANTED_VALUE
    try:
        postgres = _throwaway.start_postgres(bindir, os.environ)
    finally:
        del os.environ[PLANTED]
    try:
        os.environ[PLANTED] = PLANTED_VALUE
        try:
            started = _throwaway.start_redis(executable, os.environ)
        finally:
            del os.environ[PLANTED]
        try:
            yield Servers(postgres=postgres, redis=started, psql=psql, redis_cli=redis_cli)
        finally:
            started.stop()
    finally:
        postgres.stop()


def run_as(user: str, argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run ``argv`` as ``user`` (no supplementary groups); its exit code and all its output."""
    entry = pwd.getpwnam(user)
    switch = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None or subprocess.run([sudo, "-n", "true"], check=False).returncode != 0:
            if CI:
                pytest.fail("CI must run these tests as root or with passwordless sudo")
            pytest.skip("running a command as another user needs root or passwordless sudo")
        switch = [sudo, "-n", *switch]
    base = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LC_ALL": "C"}
    result = subprocess.run(
        [*switch, *argv],
        env={**base, **(env or {})},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def server_user() -> str:
    """Who the servers run as: the unprivileged server user as root, else this user."""
    return "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def process_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    message = f"no Uid line in /proc/{pid}/status"
    raise AssertionError(message)


# -- PostgreSQL -----------------------------------------------------------------------------------


@pytest.mark.parametrize("user", OTHERS)
@pytest.mark.parametrize(
    ("password", "role", "refusal"),
    [
        pytest.param(None, "postgres", "fe_sendauth: no password supplied", id="no-password"),
        pytest.param(
            WRONG,
            "postgres",
            'password authentication failed for user "postgres"',
            id="wrong-password",
        ),
        pytest.param(
            WRONG, "nobody", 'password authentication failed for user "nobody"', id="other-role"
        ),
    ],
)
def test_another_user_cannot_connect_to_postgres_over_tcp(
    servers: Servers, user: str, password: str | None, role: str, refusal: str
) -> None:
    env = {"PGPASSWORD": password} if password else {}
    argv = [servers.psql, "-w", "-h", "127.0.0.1", "-p", str(servers.pg.port), "-U", role]
    code, output = run_as(user, [*argv, "-d", "postgres", "-c", "SELECT 1"], env)

    assert code != 0, output
    assert refusal in output


@pytest.mark.parametrize("user", OTHERS)
def test_another_user_cannot_connect_to_postgres_over_its_socket(
    servers: Servers, user: str
) -> None:
    assert stat.S_IMODE(servers.socket_folder.stat().st_mode) == 0o700
    argv = [servers.psql, "-w", "-h", str(servers.socket_folder), "-p", str(servers.pg.port)]
    code, output = run_as(user, [*argv, "-U", "postgres", "-d", "postgres", "-c", "SELECT 1"])

    assert code != 0, output
    # The server's own user reaches the socket and is asked for the password it does not
    # have; any other user does not even reach the socket.
    if user == server_user():
        assert "fe_sendauth: no password supplied" in output
    else:
        assert "Permission denied" in output


def test_the_owner_connects_with_the_urls_password(servers: Servers) -> None:
    assert servers.pg.password
    with psycopg.connect(servers.postgres.record.url) as connection:
        row = connection.execute("SELECT current_user").fetchone()
    assert row == ("postgres",)
    wrong = PostgresServer(host="127.0.0.1", port=servers.pg.port, password=WRONG)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(**wrong.connect_kwargs()).close()  # type: ignore[arg-type]


# -- Redis ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", OTHERS)
def test_another_user_cannot_use_redis(servers: Servers, user: str) -> None:
    argv = [servers.redis_cli, "-h", "127.0.0.1", "-p", str(servers.rd.port)]

    code, output = run_as(user, [*argv, "PING"])
    assert code == 0, output  # redis-cli exits 0 and prints the server's refusal
    assert output.strip() == "NOAUTH Authentication required."

    _, output = run_as(user, [*argv, "PING"], {"REDISCLI_AUTH": WRONG})
    assert "WRONGPASS invalid username-password pair" in output
    assert "PONG" not in output


def test_the_owner_uses_redis_with_the_urls_password(servers: Servers) -> None:
    assert servers.rd.password
    client = redis.Redis.from_url(servers.redis.record.url)
    try:
        assert client.ping() is True
    finally:
        client.close()
    anonymous = redis.Redis(host="127.0.0.1", port=servers.rd.port)
    try:
        # The client's first command is HELLO (recent redis-py) or PING: both refused.
        refused = "client already authenticated|Authentication required"
        with pytest.raises(redis.AuthenticationError, match=refused):
            anonymous.ping()
    finally:
        anonymous.close()


# -- what other users can see -------------------------------------------------------------------


@pytest.mark.parametrize("user", OTHERS)
@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_another_user_cannot_read_the_record_or_list_the_data(
    servers: Servers, user: str, kind: str
) -> None:
    record = servers.postgres.record if kind == "postgres" else servers.redis.record
    found = record.path.stat()
    assert stat.S_IMODE(found.st_mode) == 0o600
    assert found.st_uid == os.geteuid()

    code, output = run_as(user, ["cat", str(record.path)])
    assert code != 0
    assert "Permission denied" in output
    code, output = run_as(user, ["ls", str(Path(record.data_dir).parent)])
    assert code != 0
    assert "Permission denied" in output


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_no_password_on_a_command_line(servers: Servers, kind: str) -> None:
    """Every user can read ``/proc/<pid>/cmdline``: the password is never there."""
    record = servers.postgres.record if kind == "postgres" else servers.redis.record
    password = (servers.pg if kind == "postgres" else servers.rd).password
    code, output = run_as("nobody", ["cat", f"/proc/{record.server_pid}/cmdline"])

    assert code == 0, output
    shown = output.replace("\0", " ")
    # It was readable, and is the server's.
    assert ("postgres -D " if kind == "postgres" else "redis-server 127.0.0.1:") in shown
    assert password not in shown


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_a_server_carries_none_of_the_runs_environment(servers: Servers, kind: str) -> None:
    """Its own user reads ``/proc/<pid>/environ``: nothing of the run's is there."""
    record = servers.postgres.record if kind == "postgres" else servers.redis.record
    code, output = run_as(server_user(), ["cat", f"/proc/{record.server_pid}/environ"])

    assert code == 0, output
    assert PLANTED_VALUE not in output
    assert PLANTED not in output
    if kind == "postgres":  # Redis writes its process title over that memory: unreadable
        names = {entry.split("=", 1)[0] for entry in output.split("\0") if entry}
        assert names <= {"PATH", "LC_ALL", "TZ"}, names


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_the_servers_run_as_the_unprivileged_user_when_we_are_root(
    servers: Servers, kind: str
) -> None:
    record = servers.postgres.record if kind == "postgres" else servers.redis.record
    expected = pwd.getpwnam("nobody").pw_uid if os.geteuid() == 0 else os.geteuid()

    assert process_uid(record.server_pid) == expected
