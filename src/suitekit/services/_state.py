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

import os
import stat
import tempfile
from pathlib import Path
from typing import Final

from suitekit.errors import ServiceError

__all__ = [
    "ENV_RUNTIME_DIR",
    "RAM_DISK",
    "create_private_file",
    "data_root",
    "is_private_folder",
    "open_lock_file",
    "private_folder",
    "read_private_file",
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
