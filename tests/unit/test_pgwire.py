"""suitekit's own PostgreSQL client against a scripted server: authentication, errors, Ctrl-C.

The real servers (the machine's, a throwaway one with SCRAM) are in tests/e2e/test_pgwire.py.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import pytest

from suitekit.services import _pgwire

Script = Callable[["Peer"], None]
KEY = b"\x00\x00\x30\x39" + b"sec!"  # pid 12345, secret


class Peer:
    """The server's end of one connection."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def startup(self) -> dict[str, str]:
        (length,) = struct.unpack("!I", self._read(4))
        body = self._read(length - 4)
        parts = body[4:].split(b"\x00")
        return {parts[i].decode(): parts[i + 1].decode() for i in range(0, len(parts) - 2, 2)}

    def message(self) -> tuple[bytes, bytes]:
        kind = self._read(1)
        (length,) = struct.unpack("!I", self._read(4))
        return kind, self._read(length - 4)

    def send(self, kind: bytes, payload: bytes = b"") -> None:
        self.sock.sendall(kind + struct.pack("!I", len(payload) + 4) + payload)

    def auth(self, code: int, data: bytes = b"") -> None:
        self.send(b"R", struct.pack("!I", code) + data)

    def ready(self) -> None:
        """Authentication ok, the server's parameters and key, ready for a query."""
        self.auth(0)
        self.send(b"S", b"server_version\x0015.4 (scripted)\x00")
        self.send(b"K", KEY)
        self.send(b"Z", b"I")

    def until_cancelled(self, asked: threading.Event, cancelled: threading.Event) -> None:
        """Startup, then a statement taken (``asked``) that runs until a cancel request comes."""
        self.startup()
        self.ready()
        assert self.message()[0] == b"Q"
        asked.set()
        assert cancelled.wait(10), "no cancel request came"

    def scram_up_to_the_proof(self) -> None:
        """Startup, SCRAM-SHA-256 asked for, the challenge sent and the client's proof read."""
        self.startup()
        self.auth(10, b"SCRAM-SHA-256\x00\x00")
        _, first = self.message()
        nonce = first.split(b"r=", 1)[1].decode()
        salt = base64.b64encode(b"salt").decode()
        self.auth(11, f"r={nonce}server,s={salt},i=4096".encode())
        self.message()

    def error(self, code: str, text: str, severity: str = "ERROR") -> None:
        self.send(b"E", f"S{severity}\x00C{code}\x00M{text}\x00\x00".encode())

    def rows(self, *values: str | None, oid: int = 25) -> None:
        self.send(
            b"T", struct.pack("!H", 1) + b"x\x00" + struct.pack("!IHIhiH", 0, 0, oid, -1, -1, 0)
        )
        for value in values:
            cell = (
                struct.pack("!i", -1)
                if value is None
                else struct.pack("!i", len(value)) + value.encode()
            )
            self.send(b"D", struct.pack("!H", 1) + cell)
        self.send(b"C", b"SELECT\x00")
        self.send(b"Z", b"I")


class Server:
    """A listening socket; each connection runs the next script, in a thread of its own."""

    def __init__(self, *scripts: Script) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.scripts = list(scripts)
        self.failures: list[BaseException] = []
        self.threads = [threading.Thread(target=self._serve, daemon=True)]
        self.threads[0].start()

    def _serve(self) -> None:
        for script in self.scripts:
            sock, _ = self.listener.accept()
            thread = threading.Thread(target=self._run, args=(script, sock), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _run(self, script: Script, sock: socket.socket) -> None:
        with sock:
            try:
                script(Peer(sock))
            except EOFError:
                pass
            except BaseException as failure:  # noqa: BLE001 - said by the test
                self.failures.append(failure)

    def close(self) -> None:
        for thread in list(self.threads):
            thread.join(timeout=10)
        self.listener.close()
        assert not any(thread.is_alive() for thread in self.threads), "a script did not end"
        assert self.failures == []


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(*scripts: Script) -> Server:
        servers.append(Server(*scripts))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def no_libpq(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """psycopg is not used: each connection it would have made is recorded instead."""
    calls: list[dict[str, Any]] = []

    def fallback(**kwargs: Any) -> str:
        calls.append(kwargs)
        return "libpq"

    monkeypatch.setattr(_pgwire._Libpq, "open", staticmethod(fallback))
    for name in ("PGSSLMODE", "PGSERVICE", "PGOPTIONS", "PGPASSWORD", "PGGSSENCMODE"):
        monkeypatch.delenv(name, raising=False)
    return calls


def connect(server: Server, **kwargs: Any) -> Any:
    options = {"host": "127.0.0.1", "port": server.port, "user": "u", "dbname": "d", **kwargs}
    return _pgwire.connect(**options)


def test_identifiers_and_literals_cannot_change_the_statement() -> None:
    assert _pgwire.identifier('a"b') == '"a""b"'
    assert _pgwire.literal("it's \\ here") == "E'it''s \\\\ here'"
    assert [_pgwire.literal(v) for v in (None, True, False, 7, -7)] == [
        "NULL",
        "true",
        "false",
        "7",
        "(-7)",
    ]
    with pytest.raises(ValueError, match="NUL"):
        _pgwire.literal("a\x00b")
    with pytest.raises(TypeError, match="float"):
        _pgwire.literal(1.5)


def test_scram_matches_rfc_7677() -> None:
    # RFC 7677, section 3: user "user", password "pencil".
    scram = _pgwire._Scram("pencil", nonce="rOprNGfwEbeRWgbNEkqO", user="user")
    server_first = (
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    )

    assert scram.client_first() == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    assert scram.client_final(server_first) == (
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    )
    assert scram.verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    assert not scram.verify("v=" + base64.b64encode(b"x" * 32).decode())


def test_a_scram_server_with_a_forged_signature_is_refused(serve: Callable[..., Server]) -> None:
    def script(peer: Peer) -> None:
        peer.scram_up_to_the_proof()
        peer.auth(12, b"v=" + base64.b64encode(b"forged" * 5))

    server = serve(script)
    with pytest.raises(_pgwire.OperationalError, match="SCRAM signature does not match"):
        connect(server, password="pw")


def test_md5_and_cleartext_passwords_are_sent_as_the_protocol_says(
    serve: Callable[..., Server], no_libpq: list[dict[str, Any]]
) -> None:
    salt = b"\x01\x02\x03\x04"
    inner = hashlib.md5(b"pwu", usedforsecurity=False).hexdigest()
    expected = (
        b"md5" + hashlib.md5(inner.encode() + salt, usedforsecurity=False).hexdigest().encode()
    )
    seen: list[bytes] = []

    def md5(peer: Peer) -> None:
        assert peer.startup() == {"user": "u", "database": "d", "client_encoding": "UTF8"}
        peer.auth(5, salt)
        seen.append(peer.message()[1])
        peer.ready()
        assert peer.message() == (b"Q", b"SELECT 1\x00")
        peer.rows("1", oid=23)

    def cleartext(peer: Peer) -> None:
        peer.startup()
        peer.auth(3)
        seen.append(peer.message()[1])
        peer.ready()

    server = serve(md5, cleartext)
    connection = connect(server, password="pw")
    assert connection.server_version == 150004
    assert connection.execute("SELECT 1").fetchall() == [(1,)]
    connection.close()
    connect(server, password="pw").close()

    assert seen == [expected + b"\x00", b"pw\x00"]
    assert no_libpq == []


@pytest.mark.parametrize(
    ("auth", "password"),
    [
        pytest.param(struct.pack("!I", 5) + b"salt", "", id="md5-without-a-password"),
        pytest.param(struct.pack("!I", 2), "pw", id="kerberos"),
        pytest.param(
            struct.pack("!I", 10) + b"SCRAM-SHA-256-PLUS\x00\x00", "pw", id="channel-binding"
        ),
    ],
)
def test_what_only_libpq_does_goes_to_psycopg(
    serve: Callable[..., Server], no_libpq: list[dict[str, Any]], auth: bytes, password: str
) -> None:
    def script(peer: Peer) -> None:
        peer.startup()
        peer.send(b"R", auth)

    server = serve(script)

    assert connect(server, password=password) == "libpq"
    assert no_libpq[0]["port"] == server.port


def test_a_refused_authentication_is_left_to_psycopg_to_say(
    serve: Callable[..., Server], no_libpq: list[dict[str, Any]]
) -> None:
    def script(peer: Peer) -> None:
        peer.startup()
        peer.error("28P01", 'password authentication failed for user "u"', "FATAL")

    assert connect(serve(script)) == "libpq"
    assert len(no_libpq) == 1


def test_a_remote_server_or_a_tls_setting_goes_to_psycopg(
    no_libpq: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def where(host: str, password: str = "") -> object:
        return _pgwire.connect(host=host, port=5432, user="u", dbname="d", password=password)

    assert where("db.example.com") == "libpq"
    assert where("10.0.0.5") == "libpq"
    settings = [("PGSSLMODE", "require"), ("PGCHANNELBINDING", "require"), ("PGHOSTADDR", "::1")]
    for name, value in settings:
        monkeypatch.setenv(name, value)
        assert where("127.0.0.1") == "libpq"
        monkeypatch.delenv(name)
    # libpq normalises a non-ASCII password first (SASLprep).
    assert where("::1", password="pässword") == "libpq"
    local = ["127.0.0.1"] * len(settings)
    assert [call["host"] for call in no_libpq] == ["db.example.com", "10.0.0.5", *local, "::1"]


def test_a_server_starting_up_is_an_operational_error(
    serve: Callable[..., Server], no_libpq: list[dict[str, Any]]
) -> None:
    def script(peer: Peer) -> None:
        peer.startup()
        peer.error("57P03", "the database system is starting up", "FATAL")

    with pytest.raises(
        _pgwire.OperationalError, match="FATAL:  the database system is starting"
    ) as raised:
        connect(serve(script))
    assert raised.value.sqlstate == "57P03"
    assert no_libpq == []


def test_errors_keep_their_sqlstate_and_the_connection_goes_on(
    serve: Callable[..., Server], no_libpq: list[dict[str, Any]]
) -> None:
    def script(peer: Peer) -> None:
        peer.startup()
        peer.ready()
        peer.message()
        peer.send(b"N", b"SNOTICE\x00Mjust so\x00\x00")
        peer.error("55006", 'source database "t" is being accessed by other users')
        peer.send(b"Z", b"I")
        assert peer.message() == (b"Q", b"SELECT E't', NULL, E'a''b'\x00")
        peer.rows("t", None, oid=16)

    connection = connect(serve(script))
    with pytest.raises(_pgwire.Error, match="being accessed") as raised:
        connection.execute('CREATE DATABASE "x" TEMPLATE "t"')
    assert raised.value.sqlstate == "55006"
    assert not isinstance(raised.value, _pgwire.OperationalError)
    assert connection.execute("SELECT %s, %s, %s", ("t", None, "a'b")).fetchall() == [
        (True,),
        (None,),
    ]
    connection.close()
    assert no_libpq == []


def test_a_server_gone_mid_statement_breaks_the_connection(serve: Callable[..., Server]) -> None:
    def script(peer: Peer) -> None:
        peer.startup()
        peer.ready()
        peer.message()  # and the connection closes

    connection = connect(serve(script))
    with pytest.raises(_pgwire.OperationalError, match="closed the connection unexpectedly"):
        connection.execute("SELECT pg_advisory_lock(1)")
    with pytest.raises(_pgwire.OperationalError, match="the connection is closed"):
        connection.execute("SELECT 1")


def cancel_script(cancelled: threading.Event) -> Script:
    """The server's end of a CancelRequest for this module's KEY."""

    def cancel(peer: Peer) -> None:
        (length, code) = struct.unpack("!II", peer._read(8))
        assert (length, code) == (16, 80877102)
        assert peer._read(8) == KEY
        cancelled.set()

    return cancel


@contextlib.contextmanager
def signalled(
    signum: signal.Signals, raised: BaseException, when: threading.Event
) -> Iterator[None]:
    """``signum`` sent to the main thread once ``when`` is set; its handler raises ``raised``."""
    main = threading.main_thread().ident
    assert main is not None

    def handler(number: int, frame: FrameType | None) -> None:
        del number, frame
        raise raised

    def send() -> None:
        # To the main thread, blocked reading the answer (a terminal's Ctrl-C goes there).
        if when.wait(10):
            signal.pthread_kill(main, signum)

    previous = signal.signal(signum, handler)
    try:
        threading.Thread(target=send, daemon=True).start()
        yield
    finally:
        signal.signal(signum, previous)


@pytest.mark.parametrize(
    ("signum", "raised"),
    [
        pytest.param(signal.SIGINT, KeyboardInterrupt(), id="ctrl-c"),
        pytest.param(signal.SIGALRM, SystemExit(3), id="a-handler-that-exits"),
    ],
)
def test_an_interrupt_cancels_the_statement_and_the_connection_stays_usable(
    serve: Callable[..., Server], signum: signal.Signals, raised: BaseException
) -> None:
    cancelled = threading.Event()
    asked = threading.Event()

    def session(peer: Peer) -> None:
        peer.until_cancelled(asked, cancelled)
        peer.error("57014", "canceling statement due to user request")
        peer.send(b"Z", b"I")
        assert peer.message() == (b"Q", b"SELECT 2\x00")
        peer.rows("2", oid=23)

    connection = connect(serve(session, cancel_script(cancelled)))
    with signalled(signum, raised, asked), pytest.raises(type(raised)):
        connection.execute("SELECT pg_sleep(3600)")

    assert cancelled.is_set()
    assert connection.execute("SELECT 2").fetchone() == (2,)
    connection.close()


def test_another_exception_mid_statement_cancels_it_and_closes(
    serve: Callable[..., Server],
) -> None:
    cancelled = threading.Event()
    asked = threading.Event()

    def session(peer: Peer) -> None:
        peer.until_cancelled(asked, cancelled)

    connection = connect(serve(session, cancel_script(cancelled)))
    with (
        signalled(signal.SIGUSR1, RuntimeError("a handler of the project's"), asked),
        pytest.raises(RuntimeError),
    ):
        connection.execute("SELECT pg_sleep(3600)")

    assert cancelled.is_set()
    with pytest.raises(_pgwire.OperationalError, match="the connection is closed"):
        connection.execute("SELECT 1")


def test_a_fatal_error_after_authentication_names_the_server(
    serve: Callable[..., Server],
) -> None:
    def script(peer: Peer) -> None:
        peer.startup()
        peer.auth(0)
        peer.error("3D000", 'database "d" does not exist', "FATAL")

    server = serve(script)
    with pytest.raises(_pgwire.OperationalError) as raised:
        connect(server)
    assert str(raised.value) == (
        f'connection to server at "127.0.0.1", port {server.port} failed: '
        'FATAL:  database "d" does not exist'
    )
    assert raised.value.sqlstate == "3D000"


def test_a_scram_challenge_that_is_not_one_is_refused(serve: Callable[..., Server]) -> None:
    def script(peer: Peer) -> None:
        peer.startup()
        peer.auth(10, b"SCRAM-SHA-256\x00\x00")
        _, first = peer.message()
        nonce = first.split(b"r=", 1)[1].decode()
        peer.auth(11, f"r={nonce}server,s=!!not-base64!!,i=4096".encode())

    with pytest.raises(_pgwire.OperationalError, match="SCRAM challenge is not valid"):
        connect(serve(script), password="pw")


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("15.20 (Debian 15.20-0+deb12u1)", 150020),
        ("17beta1", 170000),
        ("12rc1", 120000),
        ("9.6.24", 90624),
        ("16.1", 160001),
    ],
)
def test_the_server_version_is_read_as_libpq_reads_it(text: str, number: int) -> None:
    assert _pgwire._version(text) == number


def test_a_wrong_password_given_is_said_and_not_tried_again(
    serve: Callable[..., Server], no_libpq: list[dict[str, Any]]
) -> None:
    def script(peer: Peer) -> None:
        peer.startup()
        peer.auth(3)
        peer.message()
        peer.error("28P01", 'password authentication failed for user "u"', "FATAL")

    with pytest.raises(_pgwire.OperationalError, match="password authentication failed"):
        connect(serve(script), password="wrong")
    assert no_libpq == []


def test_a_scram_server_that_skips_its_proof_is_refused(serve: Callable[..., Server]) -> None:
    def script(peer: Peer) -> None:
        peer.scram_up_to_the_proof()
        with contextlib.suppress(ConnectionError):  # the client hangs up at the first message
            peer.ready()  # AuthenticationOk without the server's signature

    with pytest.raises(_pgwire.OperationalError, match="did not prove it knows the password"):
        connect(serve(script), password="pw")


def test_a_session_the_server_ends_mid_statement_is_an_operational_error(
    serve: Callable[..., Server],
) -> None:
    def script(peer: Peer) -> None:
        peer.startup()
        peer.ready()
        peer.message()
        peer.error("57P01", "terminating connection due to administrator command", "FATAL")

    connection = connect(serve(script))
    with pytest.raises(_pgwire.OperationalError, match="terminating connection") as raised:
        connection.execute("SELECT pg_sleep(10)")
    assert raised.value.sqlstate == "57P01"


def test_a_query_the_server_does_not_read_is_given_up_and_cancelled(
    serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_pgwire, "_SEND_SECONDS", 0.5)
    cancelled = threading.Event()

    def session(peer: Peer) -> None:
        peer.startup()
        peer.ready()
        assert cancelled.wait(10), "no cancel request came"  # and never reads the query

    connection = connect(serve(session, cancel_script(cancelled)))
    started = time.monotonic()
    with pytest.raises(_pgwire.OperationalError, match="broke"):
        connection.execute("SELECT '" + "x" * 50_000_000 + "'")
    assert time.monotonic() - started < 8  # the send's limit, the cancel, and no blocked close
    assert cancelled.is_set()


def test_a_connection_left_in_the_middle_of_a_statement_is_refused(
    serve: Callable[..., Server],
) -> None:
    def session(peer: Peer) -> None:
        peer.startup()
        peer.ready()
        peer.message()  # a statement whose answer never came

    cancelled = threading.Event()
    connection = connect(serve(session, cancel_script(cancelled)))
    connection._busy = True  # as an exception no handler saw would leave it (see execute)
    with pytest.raises(_pgwire.OperationalError, match="left in the middle of a statement"):
        connection.execute("SELECT 1")
    assert cancelled.is_set()  # closing it asked the server to cancel that statement
    with pytest.raises(_pgwire.OperationalError, match="the connection is closed"):
        connection.execute("SELECT 1")


def trickle(peer: Peer, until: threading.Event, *, pause: float, size: int) -> None:
    """Notices of ``size`` bytes every ``pause`` s, never the end of the answer, until ``until``."""
    notice = b"SNOTICE\x00C00000\x00M" + b"x" * size + b"\x00\x00"
    while not until.wait(pause):
        try:
            peer.send(b"N", notice)
        except OSError:
            return


SERVERS_THAT_NEVER_END = [
    pytest.param({"pause": 0.1, "size": 10}, id="a-notice-now-and-then"),
    pytest.param({"pause": 0, "size": 8192}, id="a-flood-of-notices"),
]


@pytest.mark.parametrize("sends", SERVERS_THAT_NEVER_END)
def test_a_drain_after_a_cancel_ends_in_time_however_the_server_sends(
    serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch, sends: dict[str, float]
) -> None:
    monkeypatch.setattr(_pgwire, "_CANCEL_WAIT_SECONDS", 1.0)
    cancelled = threading.Event()
    asked = threading.Event()
    done = threading.Event()

    def session(peer: Peer) -> None:
        peer.until_cancelled(asked, cancelled)
        trickle(peer, done, pause=sends["pause"], size=int(sends["size"]))  # never ends

    server = serve(session, cancel_script(cancelled))
    connection = connect(server)
    started = time.monotonic()
    try:
        with signalled(signal.SIGINT, KeyboardInterrupt(), asked), pytest.raises(KeyboardInterrupt):
            connection.execute("SELECT pg_sleep(3600)")
        waited = time.monotonic() - started
    finally:
        done.set()
    assert cancelled.is_set()
    # The drain's whole wait is bounded by the 1 s (it was each read's: any message reset it),
    # and the connection is closed without a second cancel.
    assert waited < 2.5
    server.listener.settimeout(0.0)  # its two connections were taken: a third would wait
    with pytest.raises(BlockingIOError):
        server.listener.accept()[0].close()  # a second cancel request
    with pytest.raises(_pgwire.OperationalError, match="the connection is closed"):
        connection.execute("SELECT 1")


@pytest.mark.parametrize("sends", SERVERS_THAT_NEVER_END)
def test_a_start_up_that_never_ends_fails_within_the_connect_timeout(
    serve: Callable[..., Server], no_libpq: list[dict[str, Any]], sends: dict[str, float]
) -> None:
    done = threading.Event()

    def script(peer: Peer) -> None:
        peer.startup()
        peer.auth(0)
        trickle(peer, done, pause=sends["pause"], size=int(sends["size"]))  # no ReadyForQuery

    server = serve(script)
    started = time.monotonic()
    try:
        with pytest.raises(_pgwire.OperationalError, match="failed: timeout expired"):
            connect(server, connect_timeout=1)
        waited = time.monotonic() - started
    finally:
        done.set()
    assert waited < 2.5  # the connect and the whole start-up within the timeout, as libpq's
    assert no_libpq == []
