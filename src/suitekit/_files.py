"""Files suitekit writes and reads back: atomic replacement, bounded reads, versioned JSON.

Everything suitekit reads from a folder it does not fully control (its stores under
``.suitekit/``, the JUnit files and run logs under ``reports/``, the records of a run) goes
through :func:`open_regular` or :func:`read_bounded`: such a file may have been replaced by
anything, and reading must neither block nor run away. So a file is opened without following a
symbolic link (``O_NOFOLLOW``) and without waiting for a writer (``O_NONBLOCK``: a FIFO opens at
once), checked with ``fstat`` to be a regular file, and read only up to a limit. JSON is decoded
with the parse errors Python raises for hostile input (nesting deeper than the recursion limit,
integers of more than 4300 digits) turned into the file's own error.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, Final, TypeVar

from suitekit.errors import ReportError, SuitekitError

__all__ = [
    "JUNIT_LIMIT",
    "STORE_LIMIT",
    "FileRefusedError",
    "FormatError",
    "ensure_writable",
    "frozen_table",
    "json_table",
    "load_json",
    "open_regular",
    "read_bounded",
    "read_versioned_json",
    "write_problem",
    "write_text_atomic",
]

T = TypeVar("T")

STORE_LIMIT: Final = 64 << 20
"""The largest store or record suitekit reads (64 MiB: a durations store of 100,000 tests is
about 18 MB)."""

JUNIT_LIMIT: Final = 1 << 30
"""The largest JUnit file suitekit reads (1 GiB: 100,000 test cases are about 18 MB)."""

_NOT_REGULAR: Final = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


class FileRefusedError(Exception):
    """A file suitekit will not read: not a regular file, or larger than its limit.

    Attributes:
        reason: What is wrong with it, e.g. ``it is a named pipe (FIFO), not a regular file``.
        fix: How to repair it, one sentence.
    """

    def __init__(self, reason: str, fix: str) -> None:
        """Keep the reason and the fix apart, so that callers can word their own message."""
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


def _kind(mode: int) -> str | None:
    """What a file that is not a regular file is, or ``None`` for a regular file."""
    return next((kind for test, kind in _NOT_REGULAR if test(mode)), None)


def _refuse_kind(kind: str) -> FileRefusedError:
    return FileRefusedError(
        f"it is {kind}, not a regular file",
        "replace it with a regular file (or remove it); suitekit reads only regular files there",
    )


def _refuse_size(size: int, limit: int) -> FileRefusedError:
    return FileRefusedError(
        f"it is larger than {limit:,} bytes ({size:,} at least), the most suitekit reads there",
        "remove it or replace it with the file suitekit wrote; nothing it writes is that large",
    )


def open_regular(path: Path, *, limit: int) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file of at most ``limit`` bytes.

    The file is checked twice: with ``lstat`` before it is opened (so that a device is never
    even opened) and with ``fstat`` on what was opened (so that a file swapped in between is
    caught too). It is opened with ``O_NOFOLLOW | O_NONBLOCK``: a symbolic link is refused, and a
    FIFO neither blocks the open nor any read. A file that grows past ``limit`` while it is read
    is the caller's to catch (:func:`read_bounded` does).

    Raises:
        FileRefusedError: It is not a regular file, or it is larger than ``limit``.
        OSError: It cannot be opened (``FileNotFoundError`` when it does not exist).
    """
    kind = _kind(os.lstat(path).st_mode)
    if kind is not None:
        raise _refuse_kind(kind)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW met a link put there since the lstat
            raise _refuse_kind("a symbolic link") from None
        raise
    try:
        _check_opened(descriptor, limit)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _check_opened(descriptor: int, limit: int) -> None:
    """Refuse what was opened unless it is a regular file of at most ``limit`` bytes."""
    status = os.fstat(descriptor)
    kind = _kind(status.st_mode)
    if kind is not None:
        raise _refuse_kind(kind)
    if status.st_size > limit:
        raise _refuse_size(status.st_size, limit)


def read_bounded(
    path: Path,
    *,
    limit: int,
    what: str,
    fix: str,
    failure: type[SuitekitError] = ReportError,
) -> bytes | None:
    """The bytes of a regular file of at most ``limit`` bytes; ``None`` when it does not exist.

    Args:
        path: The file.
        limit: The most bytes it may hold; a larger file (or one that grows past it while it
            is read) is refused without reading the rest.
        what: What the file holds, for "cannot read the <what>".
        fix: The line that says how to repair a file that cannot be read (e.g.
            ``"  fix: delete it"``).
        failure: The error to raise.

    Raises:
        SuitekitError: ``failure``, naming the file, when it cannot be read, is not a regular
            file or is larger than ``limit``.
    """
    try:
        with open_regular(path, limit=limit) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise _refuse_size(len(data), limit)
    except FileNotFoundError:
        return None
    except FileRefusedError as refused:
        message = f"{path}: cannot read the {what} ({refused.reason})\n{fix}"
        raise failure(message) from None
    except OSError as error:
        message = f"{path}: cannot read the {what} ({error.strerror or error})\n{fix}"
        raise failure(message) from None
    return data


def load_json(data: bytes | str) -> Any:  # noqa: ANN401 - what json.loads returns
    """Decode JSON, with every way hostile input fails as a :class:`ValueError`.

    Python's decoder raises :class:`RecursionError` on nesting deeper than the recursion limit
    (1000 by default) and :class:`ValueError` on an integer of more than 4300 digits; both, and
    undecodable bytes, come out as a ``ValueError`` that says what was wrong. Depth is thus
    bounded by the recursion limit, and each reader's own validation refuses any nesting its
    format does not have.

    Raises:
        ValueError: The data is not JSON this reader can take.
    """
    try:
        return json.loads(data)
    except RecursionError:
        message = "it is nested too deeply to be a file suitekit wrote"
        raise ValueError(message) from None
    except UnicodeDecodeError as error:
        message = f"it is not UTF-8 text ({error.reason} at byte {error.start})"
        raise ValueError(message) from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # e.g. an integer of more digits than int() converts
        message = f"it holds a value Python cannot read ({str(error).split(';')[0]})"
        raise ValueError(message) from None


def write_problem(path: Path, error: OSError, *, what: str = "") -> str:
    r"""Why ``path`` cannot be written, from the OS error, and how to fix it: a message's body.

    Returns:
        ``"<path>: cannot write [<what> ](<OS reason>)\n  fix: <what to do>"``, the fix chosen
        by the error number.
    """
    reason = error.strerror or str(error)
    code = error.errno
    if code == errno.EROFS:
        fix = (
            "its file system is mounted read-only: remount it read-write, or set `reports` in "
            "[tool.suitekit] to a folder on a writable one"
        )
    elif code in {errno.ENOSPC, errno.EDQUOT}:
        fix = (
            "free space on its file system (or raise your quota), or set `reports` in "
            "[tool.suitekit] to a folder on another one"
        )
    elif code in {errno.EACCES, errno.EPERM}:
        fix = "give your user write access to it (chmod/chown), or run as the user who owns it"
    elif code in {errno.EISDIR, errno.ENOTDIR, errno.EEXIST}:
        fix = "a file or folder of the other kind is in the way: move it, or remove it"
    else:
        fix = "make it writable, or set `reports` in [tool.suitekit] to a writable folder"
    written = f" {what}" if what else ""
    return f"{path}: cannot write{written} ({reason})\n  fix: {fix}"


def ensure_writable(
    folders: tuple[Path, ...], *, failure: type[SuitekitError] = ReportError
) -> None:
    """Create each folder and prove that a file can be written in it, or raise naming it.

    A run checks this before it starts anything, so that a read-only or full ``reports``
    folder is one clear error rather than a traceback (or a session that fails for no visible
    reason) later. The probe writes a few bytes and removes them again: on a full file system
    the write, not the creation, is what fails.

    Raises:
        SuitekitError: ``failure``, naming the first folder that cannot be written, with the
            OS reason and the fix.
    """
    for folder in folders:
        probe = folder / f".suitekit-probe.{os.getpid()}.{secrets.token_hex(4)}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(descriptor, b"suitekit write probe\n")
            finally:
                os.close(descriptor)
                with contextlib.suppress(OSError):
                    probe.unlink()
        except OSError as error:
            raise failure(write_problem(folder, error)) from None


def write_text_atomic(
    path: Path, text: str, *, failure: type[SuitekitError] = ReportError, mode: int = 0o666
) -> None:
    """Write ``text`` to ``path`` so that readers see the old content or the new, never a part.

    The text goes to a new file in the same folder (so that the final rename stays on one file
    system), is flushed to disk, and then replaces ``path`` with :func:`os.replace`. On any
    failure the temporary file is removed and ``path`` is left as it was. The temporary file is
    created with ``mode`` cut by the umask (by default the umask's permissions, where
    ``tempfile`` would make it private, so the result reads like any other file the user
    writes; 0o600 for a file only its owner may read), never through a link.

    Raises:
        SuitekitError: ``failure`` (a ReportError by default), when the folder cannot be created
            or the file cannot be written.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        descriptor = os.open(temporary, flags, mode)
    except OSError as error:
        raise failure(write_problem(path, error)) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)  # os.replace: atomic on POSIX and Windows
    except BaseException as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        if isinstance(error, OSError):
            problem, fix = write_problem(path, error).split("\n", 1)
            message = f"{problem}; the previous file is unchanged\n{fix}"
            raise failure(message) from None
        raise


class FormatError(Exception):
    """Well-formed JSON that is not the file expected; the message says where."""


def read_versioned_json(
    path: Path,
    *,
    version: int,
    reading: str,
    kind: str,
    fix: str,
    parse: Callable[[dict[str, object]], T],
) -> T | None:
    """Read one of suitekit's JSON files: a top-level object with ``"version": version``.

    Args:
        path: The file.
        version: The version this suitekit reads.
        reading: What the file holds, for "cannot read the <reading>".
        kind: What the file is, for "not a suitekit <kind>".
        fix: The line that says how to repair a broken file.
        parse: Builds the result from the checked document; raises :class:`FormatError`.

    Returns:
        What ``parse`` built, or ``None`` when the file does not exist.

    Raises:
        ReportError: The file exists but cannot be read, is not a regular file, is larger than
            :data:`STORE_LIMIT` or is not such a file; it is left as it is.
    """
    data = read_bounded(path, limit=STORE_LIMIT, what=reading, fix=fix)
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"{path}: cannot read the {reading} ({error})\n{fix}"
        raise ReportError(message) from None
    try:
        document = load_json(text)
        if not isinstance(document, dict):
            raise FormatError("the top level is not a JSON object")  # noqa: TRY301 - reported below
        if document.get("version") != version:
            problem = (
                f"version is {document.get('version')!r}; this suitekit reads version {version}"
            )
            raise FormatError(problem)  # noqa: TRY301 - reported below
        return parse(document)
    except (ValueError, FormatError) as error:
        message = f"{path}: not a suitekit {kind} ({error})\n{fix}"
        raise ReportError(message) from None


def frozen_table(table: Mapping[str, Mapping[str, T]]) -> Mapping[str, Mapping[str, T]]:
    """A store's two-level table as read-only copies in sorted order, without empty rows.

    Sorted and without empty rows so that two stores holding the same data compare equal.
    """
    return MappingProxyType(
        {
            key: MappingProxyType(dict(sorted(row.items())))
            for key, row in sorted(table.items())
            if row
        }
    )


def json_table(document: dict[str, object], key: str) -> dict[str, dict[str, object]]:
    """A store's two-level table, ``document[key]``: a JSON object of JSON objects.

    Raises:
        FormatError: It is not, or one of its rows is not, a JSON object.
    """
    table = document.get(key)
    if not isinstance(table, dict):
        problem = f"{key!r} is not a JSON object"
        raise FormatError(problem)
    for name, row in table.items():
        if not isinstance(row, dict):
            problem = f"{key}.{name} is not a JSON object"
            raise FormatError(problem)
    return table
