"""suitekit's state on this machine: folders only this user can use, files only it can read.

Server records (which hold the servers' passwords), per-worker folders and port locks live
under one *state root* per user:

- ``$XDG_RUNTIME_DIR/suitekit`` when ``XDG_RUNTIME_DIR`` names a private folder of this user
  (the login manager makes ``/run/user/<uid>``, mode 0700, on a RAM disk);
- else ``<tmp>/suitekit-<uid>``, ``<tmp>`` being :func:`tempfile.gettempdir` (``$TMPDIR``,
  usually ``/tmp``).

Throwaway servers keep their data under a *data root*, ``/dev/shm/suitekit-<uid>`` (a RAM disk;
``<tmp>/suitekit-<uid>-data`` without one).

``/tmp`` and ``/dev/shm`` are shared by every user of the machine, and anyone may create a
name there first, so a folder is used only after checking what is actually there: a real
folder (not a symbolic link), owned by this user, that no other user may write in (nor enter,
for the state root). Anything else is refused with an error naming the path and the fix;
suitekit never changes the mode of a path it reached through a link, and never makes a folder
writable by others. Files in these folders are opened with ``O_NOFOLLOW`` (and ``O_EXCL`` when
new), mode 0600, and read back only when they are regular files of this user.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar, cast

from suitekit._files import write_text_atomic
from suitekit.errors import ServiceError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    _Record = TypeVar("_Record", bound=DataclassInstance)

__all__ = [
    "ENV_RUNTIME_DIR",
    "RAM_DISK",
    "PrivateRecord",
    "create_private_file",
    "data_root",
    "is_private_folder",
    "open_lock_file",
    "private_folder",
    "read_private_file",
    "read_record",
    "record_json",
    "records_in",
    "state_root",
]

ENV_RUNTIME_DIR: Final = "XDG_RUNTIME_DIR"
RAM_DISK: Final = Path("/dev/shm")  # noqa: S108 - the RAM disk is the point
_OTHERS_WRITE: Final = stat.S_IWGRP | stat.S_IWOTH
_OTHERS_ANY: Final = stat.S_IRWXG | stat.S_IRWXO
_MAX_FILE: Final = 1 << 16  # records and owner files are a few hundred bytes
_STATE_FIX: Final = (
    "remove it (`rm -rf {path}`; if another user made it, ask them or root), or point TMPDIR "
    "(or XDG_RUNTIME_DIR) at a folder of your own"
)


def state_root() -> Path:
    """This user's private folder for records, per-worker folders and port locks (mode 0700).

    Raises:
        ServiceError: The folder is a link, not a folder, another user's, or open to others.
    """
    runtime = os.environ.get(ENV_RUNTIME_DIR, "")
    if runtime and Path(runtime).is_absolute() and is_private_folder(Path(runtime)):
        return private_folder(Path(runtime) / "suitekit", fix=_STATE_FIX)
    base = Path(tempfile.gettempdir())
    return private_folder(base / f"suitekit-{os.geteuid()}", fix=_STATE_FIX)


def data_root() -> Path:
    """This user's folder for throwaway servers' data, on the RAM disk when there is one.

    As root the servers run as an unprivileged user, which must pass through this folder to
    its own (randomly named, mode 0700) server folder: the folder is then 0711 (others may
    pass, not list); else 0700.

    Raises:
        ServiceError: The folder is a link, not a folder, another user's, or open to others.
    """
    if RAM_DISK.is_dir() and os.access(RAM_DISK, os.W_OK):
        path = RAM_DISK / f"suitekit-{os.geteuid()}"
        fix = "remove it (`rm -rf {path}`; if another user made it, ask them or root)"
    else:
        path = Path(tempfile.gettempdir()) / f"suitekit-{os.geteuid()}-data"
        fix = _STATE_FIX
    return private_folder(path, 0o711 if os.geteuid() == 0 else 0o700, fix=fix)


def is_private_folder(path: Path) -> bool:
    """Whether ``path`` is a real folder (not a link) of this user that no other user may enter."""
    try:
        found = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(found.st_mode)
        and found.st_uid == os.geteuid()
        and not found.st_mode & _OTHERS_ANY
    )


def private_folder(path: Path, mode: int = 0o700, *, fix: str = "") -> Path:
    """``path`` as a folder of this user with ``mode``, created if missing, checked if not.

    The folder must be a real folder (a link is refused, whatever it points to), owned by the
    effective user, with no write access for others, and, for a mode without access for
    others, no access for others at all. Its mode is then set to ``mode`` through a
    descriptor opened without following links, so no other path can be changed by it (mkdir's
    mode is cut by the umask, and 0711 needs setting again).

    Args:
        path: The folder.
        mode: 0700, or 0711 for a folder another user must pass through.
        fix: How to repair a refused folder (``{path}`` is replaced); removing it by default.

    Raises:
        ServiceError: The folder cannot be created, or is refused; the message says why and how
            to fix it.
    """
    fix = (fix or "remove it (`rm -rf {path}`)").format(path=path)
    try:
        path.mkdir(mode=0o700)  # never wider than private while it is checked
    except FileExistsError:
        pass
    except OSError as error:
        message = (
            f"{path}: cannot create suitekit's private folder ({error.strerror})\n"
            f"  fix: point TMPDIR at a folder you can write"
        )
        raise ServiceError(message) from None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        raise _refusal(path, _what_is_wrong(path, error), fix) from None
    try:
        found = os.fstat(fd)  # what was opened, not what the name points to a moment later
        problem = _folder_problem(found, mode)
        if problem:
            raise _refusal(path, problem, fix)
        if stat.S_IMODE(found.st_mode) != mode:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)
    return path


def _folder_problem(found: os.stat_result, mode: int) -> str:
    if found.st_uid != os.geteuid():
        return f"is owned by uid {found.st_uid}, not by you (uid {os.geteuid()})"
    current = stat.S_IMODE(found.st_mode)
    if current & _OTHERS_WRITE:
        return f"has mode 0o{current:o}: other users may write in it"
    if not mode & _OTHERS_ANY and current & _OTHERS_ANY:
        return f"has mode 0o{current:o}: other users may enter it"
    return ""


def _what_is_wrong(path: Path, error: OSError) -> str:
    """Why a folder could not be opened without following links, in words."""
    try:
        found = path.lstat()
    except OSError:
        return f"cannot be opened ({error.strerror})"
    if stat.S_ISLNK(found.st_mode):
        try:
            return f"is a symbolic link to {path.readlink()}, not a folder"
        except OSError:
            return "is a symbolic link, not a folder"
    if not stat.S_ISDIR(found.st_mode):
        return "is not a folder"
    return f"cannot be opened ({error.strerror})"


def _refusal(path: Path, problem: str, fix: str) -> ServiceError:
    message = (
        f"{path}: {problem}; suitekit keeps private state there and will not use it\n  fix: {fix}"
    )
    return ServiceError(message)


def create_private_file(path: Path, content: bytes = b"") -> None:
    """Create ``path`` as a new file only this user can read (mode 0600), with ``content``.

    ``O_EXCL`` refuses any name that exists, a link included; nothing is ever written through
    a name someone else chose.

    Raises:
        OSError: The name exists, or the file cannot be written.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def open_lock_file(path: Path) -> int:
    """A descriptor of the lock file ``path``, created 0600 if missing, never through a link.

    Raises:
        OSError: ``path`` is a link (``ELOOP``), or is not a regular file of this user.
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    fd = os.open(path, flags, 0o600)
    found = os.fstat(fd)
    if not stat.S_ISREG(found.st_mode) or found.st_uid != os.geteuid():
        os.close(fd)
        message = f"{path} is not a regular file of this user"
        raise OSError(message)
    return fd


def read_private_file(path: Path) -> str | None:
    """The text of ``path`` if it is a regular file of this user (at most 64 KiB), else ``None``.

    Links, FIFOs, devices and files of other users are not read: they are not suitekit's.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode) or found.st_uid != os.geteuid():
            return None
        data = os.read(fd, _MAX_FILE + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > _MAX_FILE:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# How a record's field is read back, by its declared type; any other type is taken as written.
_FIELD_READERS: Final[Mapping[str, Callable[[Any], object]]] = {"str": str, "int": int}


class PrivateRecord:
    """A record kept in a private file of this user: a frozen dataclass with a ``path`` field.

    Its file holds its other fields as a JSON object (:func:`record_json`), read back by
    :func:`read_record`.
    """

    __slots__ = ()

    path: Path  # the dataclass's field: the record's own file

    @staticmethod
    def new_path(folder: Path, name: str) -> Path:
        """A new record's file in ``folder``, named ``name`` and a random part.

        The random part keeps a record from ever replacing another; the folder is this user's
        alone.
        """
        return folder / f"{name}-{secrets.token_hex(8)}.json"

    def write(self) -> None:
        """Write the record to its file, atomically, mode 0600 (a record may hold a password).

        Raises:
            ServiceError: It could not be written.
        """
        write_text_atomic(self.path, self.to_json(), failure=ServiceError, mode=0o600)

    def to_json(self) -> str:
        """The record as written to its file."""
        return record_json(cast("DataclassInstance", self))

    @classmethod
    def from_file(cls, path: Path) -> Self | None:
        """Read a record; ``None`` if it is not a readable record of this user (left alone).

        Only a regular file of this user is read: a record names a process to signal and a
        folder to delete, so a link, or a file someone else could have written, is not one.
        """
        return cast("Self | None", read_record(cast("type[DataclassInstance]", cls), path))


def record_json(record: DataclassInstance) -> str:
    """A record's fields as a JSON object, in their declared order, but for its own ``path``."""
    fields = dataclasses.fields(record)
    return json.dumps({f.name: getattr(record, f.name) for f in fields if f.name != "path"})


def read_record(kind: type[_Record], path: Path) -> _Record | None:
    """The record of dataclass ``kind`` that :func:`record_json` wrote to ``path``, or ``None``.

    Each field but ``path`` (``path`` itself) is read from the key of its name, converted by
    its declared type (``str``, ``int``); a field with a default may be missing. ``None`` when
    ``path`` is not a regular file of this user (:func:`read_private_file`) or not such a
    record: it is then left alone.
    """
    text = read_private_file(path)
    if text is None:
        return None
    try:
        data = json.loads(text)
        values: dict[str, object] = {"path": path}
        for field in dataclasses.fields(kind):
            if field.name == "path" or (
                field.name not in data and field.default is not dataclasses.MISSING
            ):
                continue
            read = _FIELD_READERS.get(str(field.type), _as_written)
            values[field.name] = read(data[field.name])
        return kind(**values)
    except (ValueError, KeyError, TypeError):
        return None


def _as_written(value: object) -> object:
    return value


def records_in(folder: Path, kind: type[_Record]) -> list[_Record]:
    """Every readable record of ``kind`` in ``folder`` (``*.json``), by file name."""
    found = [read_record(kind, path) for path in sorted(folder.glob("*.json"))]
    return [record for record in found if record is not None]
