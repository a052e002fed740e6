"""Files that other processes read while they are written: atomic replacement."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from suitekit.errors import ReportError, SuitekitError

__all__ = ["write_text_atomic"]


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
