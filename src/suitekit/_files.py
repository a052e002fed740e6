"""Files that other processes read while they are written: atomic replacement; versioned JSON."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from suitekit.errors import ReportError, SuitekitError

__all__ = ["FormatError", "read_versioned_json", "write_text_atomic"]

T = TypeVar("T")


def write_text_atomic(path: Path, text: str, *, failure: type[SuitekitError] = ReportError) -> None:
    """Write ``text`` to ``path`` so that readers see the old content or the new, never a part.

    The text goes to a new file in the same folder (so that the final rename stays on one file
    system), is flushed to disk, and then replaces ``path`` with :func:`os.replace`. On any
    failure the temporary file is removed and ``path`` is left as it was. The temporary file is
    created with the umask's permissions (``tempfile`` would make it private), so the result
    reads like any other file the user writes.

    Raises:
        SuitekitError: ``failure`` (a ReportError by default), when the folder cannot be created
            or the file cannot be written.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        message = f"{path}: cannot write ({error})"
        raise failure(message) from None
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
            message = f"{path}: cannot write ({error}); the previous file is unchanged"
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
        ReportError: The file exists but cannot be read or is not such a file; it is left as
            it is.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        message = f"{path}: cannot read the {reading} ({error})\n{fix}"
        raise ReportError(message) from None
    try:
        document = json.loads(text)
        if not isinstance(document, dict):
            raise FormatError("the top level is not a JSON object")  # noqa: TRY301 - reported below
        if document.get("version") != version:
            problem = (
                f"version is {document.get('version')!r}; this suitekit reads version {version}"
            )
            raise FormatError(problem)  # noqa: TRY301 - reported below
        return parse(document)
    except (json.JSONDecodeError, FormatError) as error:
        message = f"{path}: not a suitekit {kind} ({error})\n{fix}"
        raise ReportError(message) from None
