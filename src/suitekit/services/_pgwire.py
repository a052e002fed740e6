"""suitekit's own PostgreSQL client, for its administration statements (services layer).

suitekit talks to a PostgreSQL server a few times a run: it creates, copies, marks and drops
databases, takes advisory locks and reads ``pg_database``. psycopg's import alone costs a
tenth of a second or more of CPU, paid in every process that does only that (the nox session
that checks the server, ``inv``, ``suitekit clean``). This module speaks the server's
frontend/backend protocol (version 3) for those statements: one simple ``Query`` message
each, over TCP to this machine, with no authentication, a password, MD5 or SCRAM-SHA-256
(RFC 5802, RFC 7677). Importing it and checking a server took 0.06 to 0.09 s here, against
0.15 to 0.20 s with psycopg.

It does only what it can do as libpq would. :func:`connect` uses psycopg instead (through
:class:`_Libpq`, with the same interface and errors) when:

- the server is not on this machine (libpq would negotiate TLS: ``sslmode=prefer``), or a
  local name led to an address that is not a loopback one;
- a libpq variable asks for what this client does not do (:data:`_LIBPQ_ONLY`, TLS modes,
  ``PGCHANNELBINDING=require``), or the password is not ASCII (libpq's SASLprep);
- the server refuses the connection at authentication and no password was given (libpq may
  find one in ``~/.pgpass``), or for another reason than the password (a rule that wants TLS):
  libpq then tries, and its error is the one said. A wrong password given is said at once.

Parameters are rendered client-side as literals (``%s`` placeholders, as psycopg spells
them): strings in the ``E'...'`` form, which means the same whatever the server's
``standard_conforming_strings``; integers, booleans and ``None``. Results come back as text
and are converted by type: booleans, integers, and text for the rest.

A ``KeyboardInterrupt`` or ``SystemExit`` from a signal's handler while the server works (a
Ctrl-C, suitekit's SIGTERM handler) asks the server to cancel the statement and reads its
answer, with signals held, before it is raised again: the connection stays usable for the
cleanup that follows, as psycopg's does. Any other exception there closes the connection,
cancelling the statement first.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import ipaddress
import math
import os
import re
import secrets
import select
import signal
import socket
import struct
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, NoReturn, Protocol

from suitekit._signals import signals_held

if TYPE_CHECKING:
    import psycopg

__all__ = ["Connection", "Error", "OperationalError", "Result", "connect", "identifier", "literal"]

_PROTOCOL: Final = 196608  # 3.0
_CANCEL_CODE: Final = 80877102
_CANCEL_WAIT_SECONDS: Final = 10.0
_CLOSE_CANCEL_SECONDS: Final = 2.0  # a cancel as a connection closes mid-statement
_SEND_SECONDS: Final = 60.0
_HEADER: Final = struct.Struct("!cI")
_SCRAM: Final = "SCRAM-SHA-256"
_AUTH_OK: Final = 0
_AUTH_CLEARTEXT: Final = 3
_AUTH_MD5: Final = 5
_AUTH_SASL: Final = 10
_AUTH_SASL_CONTINUE: Final = 11
_AUTH_SASL_FINAL: Final = 12
_BOOL: Final = 16
_INVALID_PASSWORD: Final = "28P01"  # noqa: S105 - a SQLSTATE, not a password
_INTEGERS: Final = frozenset({20, 21, 23, 26, 28})  # int8, int2, int4, oid, xid
_LIBPQ_ONLY: Final = (
    "PGSERVICE",  # a service file's settings
    "PGSERVICEFILE",
    "PGOPTIONS",  # options for the server's session
    "PGREQUIREAUTH",  # only some authentication methods
    "PGHOSTADDR",  # connect to this address, not the host's
    "PGREQUIRESSL",  # an old spelling of sslmode=require
    "PGSSLCERT",  # a client certificate
    "PGTARGETSESSIONATTRS",  # only a primary (or a standby)
)
_TLS_MODES: Final = frozenset({"require", "verify-ca", "verify-full"})
_LOCAL_NAMES: Final = frozenset({"localhost", "localhost.localdomain"})


class Error(Exception):
    """An error from the server (``sqlstate`` says which) or from the connection (``None``)."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class OperationalError(Error):
    """The connection could not be made, or broke."""


class _Unsupported(Exception):  # noqa: N818 - a signal for connect, never raised past it
    """What libpq does and this client does not: :func:`connect` uses psycopg."""


class Result(Protocol):
    """The rows of a statement (of the first statement that returned rows, as psycopg's)."""

    def fetchone(self) -> tuple[Any, ...] | None:
        """The first row, or ``None``."""
        ...

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every row."""
        ...


class Connection(Protocol):
    """A connection in autocommit: each :meth:`execute` is its own transaction."""

    @property
    def server_version(self) -> int:
        """The server's version as libpq gives it (``150020`` for 15.20)."""
        ...

    def execute(self, query: str | bytes, params: Sequence[object] = ()) -> Result:
        """Run ``query`` (one statement, or several without ``params``).

        Raises:
            Error: The server refused it, or the connection broke (:class:`OperationalError`).
        """
        ...

    def close(self) -> None:
        """Close the connection (closing a closed one does nothing)."""
        ...


def identifier(name: str) -> str:
    """``name`` quoted as an SQL identifier (always quoted, so its case is kept)."""
    if "\x00" in name:
        message = f"an identifier cannot hold a NUL character: {name!r}"
        raise ValueError(message)
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    """``value`` as an SQL literal: a string, an integer, a boolean or ``None``."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        number = int(value)  # not a subclass's own str()
        return f"({number})" if number < 0 else str(number)  # "1-%s" must not become a comment
    if isinstance(value, str):
        if "\x00" in value:
            message = "a string literal cannot hold a NUL character"
            raise ValueError(message)
        return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    message = f"no SQL literal for a {type(value).__name__}"
    raise TypeError(message)


def connect(
    *,
    host: str,
    port: int,
    user: str,
    dbname: str,
    password: str = "",
    connect_timeout: float = 10,
) -> Connection:
    """A connection to ``dbname``, in autocommit: this client's, else psycopg's (see above).

    Raises:
        OperationalError: The server does not answer, or refused the connection.
    """
    try:
        return _Wire.open(
            host=host,
            port=port,
            user=user,
            dbname=dbname,
            password=password or os.environ.get("PGPASSWORD", ""),
            timeout=connect_timeout,
        )
    except _Unsupported:
        return _Libpq.open(
            host=host,
            port=port,
            user=user,
            dbname=dbname,
            password=password,
            connect_timeout=int(connect_timeout),
        )


def _local(host: str) -> bool:
    """Whether ``host`` is this machine: a loopback address or name.

    A name is checked again once connected (:func:`_connected`): it must have led to a
    loopback address. (suitekit's hosts come from URLs: never a Unix socket's folder.)
    """
    return host in _LOCAL_NAMES or _loopback(host)


def _loopback(address: str) -> bool:
    """Whether ``address`` is a loopback IP address (``127.0.0.1``, ``::1``)."""
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _libpq_only(environ: Mapping[str, str]) -> bool:
    """Whether libpq's variables ask for what this client does not do."""
    if environ.get("PGSSLMODE", "") in _TLS_MODES or environ.get("PGGSSENCMODE") == "require":
        return True
    if environ.get("PGCHANNELBINDING") == "require":
        return True
    return any(environ.get(name) for name in _LIBPQ_ONLY)


def _connected(host: str, port: int, timeout: float | None) -> tuple[socket.socket, Any]:
    """A socket connected to the server, and its address (for a CancelRequest).

    Raises:
        OSError: No connection.
        _Unsupported: A local name led to an address that is not a loopback one (libpq's TLS
            rules apply there).
    """
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        address = sock.getpeername()[:2]
        loopback = _loopback(str(address[0]))
        if loopback:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    if not loopback:
        sock.close()
        raise _Unsupported
    return sock, address


class _Rows:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)


def _fields(body: bytes) -> dict[str, str]:
    """The fields of an ErrorResponse or NoticeResponse, by their one-letter code."""
    found = {}
    for part in body.split(b"\x00"):
        if part:
            found[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return found


def _version(text: str) -> int:
    """``server_version`` (``"15.20 (Debian ...)"``, ``"17beta1"``) as libpq's number (150020)."""
    numbers = []
    for part in text.split(maxsplit=1)[0].split(".") if text.strip() else ():
        digits = re.match(r"\d*", part)
        numbers.append(int(digits.group() or 0) if digits else 0)
        if not part.isdigit():
            break  # "17beta1": what follows the digits is not a minor version
    major = numbers[0] if numbers else 0
    if major >= 10:  # noqa: PLR2004 - two-part versions since PostgreSQL 10
        return major * 10000 + (numbers[1] if len(numbers) > 1 else 0)
    return major * 10000 + sum(n * m for n, m in zip(numbers[1:3], (100, 1), strict=False))


class _Wire:
    """A connection of this client's own (see the module's docstring).

    ``_busy`` is set from the moment a statement is sent until its ReadyForQuery is taken from
    the buffer: a ``KeyboardInterrupt`` while it is set cancels the statement and reads the
    rest of its answer; one after it has nothing to cancel. Bytes are sent, and read into the
    buffer once the socket has them, with signals held, so that an interrupt never leaves half
    a message sent or a chunk read but not kept; only the waits themselves are interruptible.
    """

    def __init__(self, sock: socket.socket, where: str) -> None:
        self._socket: socket.socket | None = sock
        self._where = where
        self._buffer = bytearray()
        self._parameters: dict[str, str] = {}
        self._key: bytes = b""
        self._address: Any = None
        self._startup_user = ""
        self._busy = False
        # When the wait for the server's data ends (time.monotonic()); None: as long as it
        # takes. A bound on the whole connection's start, or the whole drain after a cancel.
        self._deadline: float | None = None

    # Opening and authentication

    @classmethod
    def open(
        cls,
        *,
        host: str,
        port: int,
        user: str,
        dbname: str,
        password: str,
        timeout: float,
    ) -> _Wire:
        if not _local(host) or _libpq_only(os.environ) or not password.isascii():
            raise _Unsupported  # (libpq normalises a non-ASCII password first: SASLprep)
        where = f'connection to server at "{host}", port {port} failed'
        # 0: as long as it takes, as libpq's; else the connect and the whole start-up within
        # it, as libpq's connect_timeout
        deadline = time.monotonic() + timeout if timeout else None
        try:
            sock, address = _connected(host, port, timeout or None)
        except OSError as error:
            message = f"{where}: {error.strerror or error}"
            raise OperationalError(message) from None
        sock.settimeout(None)  # the waits are _fill's, within the deadline
        connection = cls(sock, where)
        connection._address = (sock.family, address)
        connection._deadline = deadline
        try:
            connection._start(user=user, dbname=dbname, password=password)
        except Error as error:  # "too many clients", a database that does not exist, a timeout
            connection.close()
            message = str(error)
            if not message.startswith(where):
                severity = "FATAL:  " if error.sqlstate else ""
                message = f"{where}: {severity}{message}"
            raise OperationalError(message, error.sqlstate) from None
        except BaseException:
            connection.close()
            raise
        connection._deadline = None
        return connection

    def _start(self, *, user: str, dbname: str, password: str) -> None:
        self._startup_user = user
        pairs = [("user", user), ("database", dbname), ("client_encoding", "UTF8")]
        body = struct.pack("!I", _PROTOCOL)
        body += b"".join(k.encode() + b"\x00" + v.encode() + b"\x00" for k, v in pairs) + b"\x00"
        self._send(struct.pack("!I", len(body) + 4) + body)
        scram: _Scram | None = None
        while True:
            kind, payload = self._message()
            if kind == b"R":
                (code,) = struct.unpack_from("!I", payload)
                if code == _AUTH_OK:
                    if scram is not None and not scram.verified:
                        message = f"{self._where}: the server did not prove it knows the password"
                        raise OperationalError(message)
                    break
                scram = self._authenticate(code, payload[4:], password, scram)
            elif kind == b"E":
                self._refused(_fields(payload), password=password)
            elif kind != b"N":
                raise _Unsupported
        self._read_until_ready()

    def _refused(self, fields: Mapping[str, str], *, password: str) -> NoReturn:
        """The server refused the connection before it was authenticated."""
        code = fields.get("C", "")
        # An authorization error is libpq's to try (TLS, ~/.pgpass), except a wrong password
        # given here: libpq would send the same one, and the server log a second failure.
        if code.startswith("28") and not (code == _INVALID_PASSWORD and password):
            raise _Unsupported
        message = f"{self._where}: {fields.get('S', 'FATAL')}:  {fields.get('M', '')}"
        raise OperationalError(message, code or None)

    def _authenticate(
        self, code: int, data: bytes, password: str, scram: _Scram | None
    ) -> _Scram | None:
        if code == _AUTH_CLEARTEXT and password:
            self._send_password(password.encode() + b"\x00")
            return None
        if code == _AUTH_MD5 and password:
            user = self._startup_user
            inner = hashlib.md5(password.encode() + user.encode(), usedforsecurity=False)
            outer = hashlib.md5(inner.hexdigest().encode() + data[:4], usedforsecurity=False)
            self._send_password(b"md5" + outer.hexdigest().encode() + b"\x00")
            return None
        if code == _AUTH_SASL and password:
            mechanisms = [m.decode() for m in data.split(b"\x00") if m]
            if _SCRAM not in mechanisms:
                raise _Unsupported
            scram = _Scram(password)
            first = scram.client_first().encode()
            self._send_password(_SCRAM.encode() + b"\x00" + struct.pack("!i", len(first)) + first)
            return scram
        if code == _AUTH_SASL_CONTINUE and scram is not None:
            try:
                final = scram.client_final(data.decode())
            except (ValueError, OverflowError):  # a salt or count that is not one
                final = ""
            if not final:
                message = f"{self._where}: the server's SCRAM challenge is not valid"
                raise OperationalError(message)
            self._send_password(final.encode())
            return scram
        if code == _AUTH_SASL_FINAL and scram is not None:
            if not scram.verify(data.decode(errors="replace")):
                message = f"{self._where}: the server's SCRAM signature does not match"
                raise OperationalError(message)
            return scram
        raise _Unsupported  # another method, or no password to give

    def _send_password(self, body: bytes) -> None:
        self._send(b"p" + struct.pack("!I", len(body) + 4) + body)

    # Statements

    @property
    def server_version(self) -> int:
        return _version(self._parameters.get("server_version", "0"))

    def execute(self, query: str | bytes, params: Sequence[object] = ()) -> Result:
        if params:
            text = query.decode() if isinstance(query, bytes) else query
            query = text % tuple(literal(value) for value in params)
        data = query.encode() if isinstance(query, str) else query
        if b"\x00" in data:
            message = "a query cannot hold a NUL character"
            raise ValueError(message)
        self._check_idle()
        try:
            self._send(b"Q" + struct.pack("!I", len(data) + 5) + data + b"\x00", statement=True)
            return self._read_until_ready()
        except (KeyboardInterrupt, SystemExit):  # a signal's handler: Ctrl-C, SIGTERM
            if self._busy:
                self._cancel_and_drain()
            raise
        except Error:
            raise  # the server's answer (the connection goes on), or a closed connection
        except BaseException:
            self.close()  # cancels a statement still running (another handler's exception)
            raise

    def _check_idle(self) -> None:
        """Refuse a statement on a connection another one left half-way (see execute)."""
        if self._busy:
            self.close()
            message = "the connection was left in the middle of a statement, and is closed"
            raise OperationalError(message)

    def _read_until_ready(self) -> _Rows:
        try:
            return self._answer()
        except (struct.error, ValueError, IndexError) as error:  # not the protocol
            self.close()
            message = f"the server's answer could not be read: {error}"
            raise OperationalError(message) from None

    def _answer(self) -> _Rows:
        rows: list[tuple[Any, ...]] = []
        types: list[int] = []
        error: dict[str, str] | None = None
        described = 0
        while True:
            try:
                kind, payload = self._message()
            except OperationalError:
                if error is None:
                    raise
                break  # a FATAL error ends the session: it is what to say
            if kind == b"Z":
                break
            if kind == b"T":
                described += 1
                if described == 1:  # the first result, as psycopg's cursor has it
                    types = _row_types(payload)
            elif kind == b"D" and described == 1:
                rows.append(_row(payload, types))
            elif kind == b"E":
                error = error or _fields(payload)
            else:
                self._aside(kind, payload)
        if error is not None:
            raise self._error(error)
        return _Rows(rows)

    def _error(self, fields: Mapping[str, str]) -> Error:
        """The error to raise for an ErrorResponse: one that ends the session is operational."""
        message, code = fields.get("M", "the server refused it"), fields.get("C")
        if self._socket is None or fields.get("S") in ("FATAL", "PANIC"):
            self._lost()
            return OperationalError(message, code)
        return Error(message, code)

    def _aside(self, kind: bytes, payload: bytes) -> None:
        """A message besides a statement's rows and errors."""
        if kind == b"S":
            name, value, _ = payload.split(b"\x00", 2)
            self._parameters[name.decode()] = value.decode()
        elif kind == b"K":
            self._key = bytes(payload[:8])
        elif kind == b"G":  # COPY FROM STDIN: not for this client
            body = b"COPY is not supported here\x00"
            self._send(b"f" + struct.pack("!I", len(body) + 4) + body)
        # C (done), I (empty), N (notice), A (notification), H/d/c (COPY TO): nothing to do

    def _cancel_and_drain(self) -> None:
        """Ask the server to cancel the statement, and read its answer (signals held).

        The request and the answer are waited for up to :data:`_CANCEL_WAIT_SECONDS` in all
        (so a cleanup after a Ctrl-C never waits longer on this connection, however the server
        sends its messages); a server that does not answer by then leaves the connection
        closed.
        """
        with signals_held(signal.SIGINT, signal.SIGTERM):
            self._deadline = deadline = time.monotonic() + _CANCEL_WAIT_SECONDS
            try:
                self._cancel(deadline)
                with contextlib.suppress(Error):  # an Error that ends the session closes it
                    self._read_until_ready()
            except OSError:
                self.close(cancel=False)
            finally:
                self._deadline = None

    def _left(self) -> float | None:
        """Seconds until :attr:`_deadline` (none left: 0); ``None`` without one."""
        if self._deadline is None:
            return None
        return max(self._deadline - time.monotonic(), 0.0)

    def _cancel(self, deadline: float) -> None:
        """Send the server a CancelRequest for the running statement by ``deadline`` (monotonic).

        Raises:
            OSError: It could not be sent in time.
        """
        if not self._key or self._address is None:
            return
        family, address = self._address
        with socket.socket(family, socket.SOCK_STREAM) as sock:

            def step() -> None:  # each step gets what is left (none left: it gives up at once)
                sock.settimeout(max(deadline - time.monotonic(), 0.0))

            step()
            sock.connect(address)
            step()
            sock.sendall(struct.pack("!II", 16, _CANCEL_CODE) + self._key)
            with contextlib.suppress(OSError):
                step()
                sock.recv(1)  # the server closes it once the request is handled

    # Bytes

    def _send(self, data: bytes, *, statement: bool = False) -> None:
        sock = self._alive()
        try:
            with signals_held(signal.SIGINT, signal.SIGTERM):
                self._busy = self._busy or statement
                # Mostly a few hundred bytes (a setup step's SQL may be more): a server that
                # stops reading does not hold the signals back for longer than this.
                sock.settimeout(_SEND_SECONDS)
                try:
                    sock.sendall(data)
                finally:
                    sock.settimeout(None)
        except OSError as error:
            self.close()
            message = f"the connection to the server broke: {error}"
            raise OperationalError(message) from None

    def _message(self) -> tuple[bytes, bytes]:
        while True:
            if len(self._buffer) >= _HEADER.size:
                kind, length = _HEADER.unpack_from(self._buffer)
                if length < 4:  # noqa: PLR2004 - the length counts itself
                    self.close()
                    message = "the server sent a message that is not one"
                    raise OperationalError(message)
                end = 1 + length
                if len(self._buffer) >= end:
                    payload = bytes(self._buffer[_HEADER.size : end])
                    if kind == b"Z":
                        with signals_held(signal.SIGINT, signal.SIGTERM):  # both, or neither
                            del self._buffer[:end]
                            self._busy = False
                    else:
                        del self._buffer[:end]
                    return kind, payload
            self._fill()

    def _fill(self) -> None:
        sock = self._alive()
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        left = self._left()
        # Time up, even if data keeps coming: a server that keeps sending does not hold it.
        if left == 0.0 or not poller.poll(None if left is None else math.ceil(left * 1000)):
            # Only a start-up (not busy) or a drain (its cancel sent) has a deadline.
            self.close(cancel=False)
            message = "timeout expired: the server did not answer in time"  # libpq's words
            raise OperationalError(message)
        try:
            with signals_held(signal.SIGINT, signal.SIGTERM):
                chunk = sock.recv(65536, socket.MSG_DONTWAIT)  # there is data: no wait
                self._buffer += chunk
        except BlockingIOError:
            return  # woken for nothing: wait again
        except OSError as error:
            self.close()
            message = f"the connection to the server broke: {error}"
            raise OperationalError(message) from None
        if not chunk:
            self._lost()
            message = "the server closed the connection unexpectedly"
            raise OperationalError(message)

    def _alive(self) -> socket.socket:
        if self._socket is None:
            message = "the connection is closed"
            raise OperationalError(message)
        return self._socket

    def _lost(self) -> None:
        """The server ended the session: no statement of it runs any longer."""
        self.close(cancel=False)

    def close(self, *, cancel: bool = True) -> None:
        """Close; with ``cancel``, a statement still running is cancelled first (bounded)."""
        sock, self._socket = self._socket, None
        busy, self._busy = self._busy, False
        if sock is None:
            return
        try:
            if busy and cancel:
                with contextlib.suppress(OSError):
                    self._cancel(time.monotonic() + _CLOSE_CANCEL_SECONDS)
        finally:
            with contextlib.suppress(OSError):  # Terminate, if the socket takes it now
                sock.send(b"X\x00\x00\x00\x04", socket.MSG_DONTWAIT)
            sock.close()


def _row_types(payload: bytes) -> list[int]:
    """The type OIDs of a RowDescription's columns."""
    (count,) = struct.unpack_from("!H", payload)
    offset = 2
    types = []
    for _ in range(count):
        offset = payload.index(b"\x00", offset) + 1  # the column's name
        # table OID (4), column number (2), type OID (4), size (2), modifier (4), format (2)
        types.append(struct.unpack_from("!I", payload, offset + 6)[0])
        offset += 18
    return types


def _row(payload: bytes, types: Sequence[int]) -> tuple[Any, ...]:
    (count,) = struct.unpack_from("!H", payload)
    offset = 2
    values: list[Any] = []
    for column in range(count):
        (length,) = struct.unpack_from("!i", payload, offset)
        offset += 4
        if length < 0:
            values.append(None)
            continue
        text = payload[offset : offset + length].decode("utf-8")
        offset += length
        kind = types[column] if column < len(types) else 0
        if kind == _BOOL:
            values.append(text == "t")
        elif kind in _INTEGERS:
            values.append(int(text))
        else:
            values.append(text)
    return tuple(values)


class _Scram:
    """The client's side of SCRAM-SHA-256 without channel binding (RFC 5802, RFC 7677).

    PostgreSQL takes the user from the startup message and ignores SCRAM's (sent empty).
    """

    def __init__(self, password: str, *, nonce: str | None = None, user: str = "") -> None:
        self._password = password.encode()
        self._nonce = nonce or base64.b64encode(secrets.token_bytes(18)).decode()
        self._first_bare = f"n={user},r={self._nonce}"
        self._signature = b""
        self.verified = False

    def client_first(self) -> str:
        return "n,," + self._first_bare

    def client_final(self, server_first: str) -> str:
        """The proof of the password; ``""`` for a challenge that is not a valid one."""
        parts = dict(item.split("=", 1) for item in server_first.split(",") if "=" in item)
        nonce, salt, iterations = parts.get("r", ""), parts.get("s", ""), parts.get("i", "")
        if not nonce.startswith(self._nonce) or not salt or not iterations.isdigit():
            return ""
        if int(iterations) < 1:
            return ""
        salted = hashlib.pbkdf2_hmac(
            "sha256", self._password, base64.b64decode(salt, validate=True), int(iterations)
        )
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c=biws,r={nonce}"
        signed = f"{self._first_bare},{server_first},{without_proof}".encode()
        signature = hmac.digest(stored_key, signed, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_key = hmac.digest(salted, b"Server Key", "sha256")
        self._signature = hmac.digest(server_key, signed, "sha256")
        return f"{without_proof},p={base64.b64encode(proof).decode()}"

    def verify(self, server_final: str) -> bool:
        """Whether the server's final message proves it knows the password."""
        parts = dict(item.split("=", 1) for item in server_final.split(",") if "=" in item)
        try:
            given = base64.b64decode(parts.get("v", ""), validate=True)
        except ValueError:
            return False
        self.verified = bool(self._signature) and hmac.compare_digest(given, self._signature)
        return self.verified


class _Libpq:
    """A psycopg connection behind this module's interface and errors."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    @classmethod
    def open(cls, **kwargs: str | int) -> _Libpq:
        import psycopg  # noqa: PLC0415 - only where this client cannot do it

        kwargs = {key: value for key, value in kwargs.items() if value != ""}
        try:
            return cls(psycopg.connect(**kwargs, autocommit=True))  # type: ignore[arg-type]
        except psycopg.Error as error:
            raise OperationalError(str(error), error.sqlstate) from None

    @property
    def server_version(self) -> int:
        return int(self._connection.info.server_version)

    def execute(self, query: str | bytes, params: Sequence[object] = ()) -> Result:
        import psycopg  # noqa: PLC0415 - loaded by open

        try:
            return self._connection.execute(query, tuple(params) if params else None)
        except psycopg.OperationalError as error:
            raise OperationalError(str(error), error.sqlstate) from None
        except psycopg.Error as error:
            raise Error(str(error), error.sqlstate) from None

    def close(self) -> None:
        import psycopg  # noqa: PLC0415 - loaded by open

        with contextlib.suppress(psycopg.Error):
            self._connection.close()
