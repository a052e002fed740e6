"""A throwaway PostgreSQL is ready when its postmaster.pid says so and its port answers."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from suitekit.services._endpoints import PostgresServer
from suitekit.services._postgres import _accepting

PID = 4242
LINES = [str(PID), "/data", "1700000000", "{port}", "/sock", "127.0.0.1", "  1234  5678"]


@pytest.fixture
def listening() -> Iterator[PostgresServer]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        yield PostgresServer(host="127.0.0.1", port=port, user="postgres", password="x")


def write_pid_file(pgdata: Path, port: int, status: str | None) -> None:
    lines = [line.format(port=port) for line in LINES]
    if status is not None:
        lines.append(status.ljust(8))
    (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")


def test_ready_with_its_port_answering(tmp_path: Path, listening: PostgresServer) -> None:
    write_pid_file(tmp_path, listening.port, "ready")

    _accepting(tmp_path, listening, pid=PID)


@pytest.mark.parametrize("status", ["starting", "stopping", None])
def test_not_ready_until_the_status_says_so(
    tmp_path: Path, listening: PostgresServer, status: str | None
) -> None:
    write_pid_file(tmp_path, listening.port, status)

    with pytest.raises(OSError, match="not ready"):
        _accepting(tmp_path, listening, pid=PID)


def test_no_pid_file_yet_is_not_ready(tmp_path: Path, listening: PostgresServer) -> None:
    with pytest.raises(FileNotFoundError):
        _accepting(tmp_path, listening, pid=PID)


def test_ready_but_the_port_refuses(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    write_pid_file(tmp_path, port, "ready")

    server = PostgresServer(host="127.0.0.1", port=port, user="p", password="x")
    with pytest.raises(ConnectionRefusedError):
        _accepting(tmp_path, server, pid=PID)


def test_a_link_or_a_fifo_is_never_read(tmp_path: Path, listening: PostgresServer) -> None:
    """The cluster's folder is the server user's: a link planted there is not followed."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_pid_file(elsewhere, listening.port, "ready")
    pgdata = tmp_path / "data"
    pgdata.mkdir()
    (pgdata / "postmaster.pid").symlink_to(elsewhere / "postmaster.pid")

    with pytest.raises(OSError) as refused:  # noqa: PT011 - the errno says which
        _accepting(pgdata, listening, pid=PID)
    assert refused.value.errno == errno.ELOOP  # O_NOFOLLOW

    (pgdata / "postmaster.pid").unlink()
    os.mkfifo(pgdata / "postmaster.pid")  # no writer: a blocking open would hang here
    with pytest.raises(OSError, match="not a regular file"):
        _accepting(pgdata, listening, pid=PID)


def test_a_stale_pid_file_of_another_server_is_not_read_as_ready(
    tmp_path: Path, listening: PostgresServer
) -> None:
    write_pid_file(tmp_path, listening.port, "ready")

    with pytest.raises(OSError, match="not ready"):
        _accepting(tmp_path, listening, pid=PID + 1)
