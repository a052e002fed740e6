"""A warm suite session's record: what a runner needs to run its tests without starting nox.

A warm ``nox -s unit-3.11`` installs nothing (see :mod:`suitekit._install`), yet nox itself
costs about half a second before pytest starts (its import, the noxfile's, finding uv). The
runner (``inv test.all``, ``suitekit run``) starts one nox per session, so a small project's
parallel run spent more time starting nox than running tests.

So each suite session, once its virtualenv is current, records here how it runs pytest: the
virtualenv, the variables nox gives its commands there, and the fingerprint its install had.
The next run starts that session's pytest itself, with the same command and variables the
session would give it (:mod:`suitekit._runner._direct`), as long as every one of these holds:

- the record is this suitekit's, for that session and this project folder, no link, and only
  its owner (the user running) may write it and its folder;
- it points into a virtualenv in the project's ``.nox`` whose interpreter is there, with only
  that virtualenv's ``bin`` on ``PATH`` and only nox's own variables;
- the virtualenv's install fingerprint is the recorded one and is what the project's files,
  the suite's ``install`` and the installed suitekit make it now (a change goes through nox,
  which installs);
- the noxfile is the one the session ran from (a noxfile edited since may run it otherwise);
- no reinstall is asked for (``SUITEKIT_REINSTALL``), nor nox (``SUITEKIT_VIA_NOX=1``).

Anything else runs the nox session, as before. The record lives in the project's
``.suitekit/sessions`` folder, written atomically and read without following a link.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from suitekit import _install
from suitekit._files import (
    FileRefusedError,
    load_json,
    open_regular,
    read_bounded,
    write_text_atomic,
)
from suitekit._handoff import ENV_VIA_NOX
from suitekit._model import InstallSpec, Project
from suitekit.errors import SuitekitError

__all__ = ["Warm", "envdir", "forget", "load", "noxfile_digest", "save", "usable"]

_VERSION: Final = 1
_LIMIT: Final = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Warm:
    """How a suite session ran pytest in its current virtualenv.

    Attributes:
        root: The project folder the session ran in.
        session: The nox session, e.g. ``unit-3.11``.
        python: The session's Python, as nox gave it (``3.11``).
        venv: The session's virtualenv.
        bin: The folders nox puts first on ``PATH`` for the session's commands.
        venv_env: The variables nox sets (a string) or removes (``None``) for those commands.
        spec: The suite's ``install``, as it was (its ``repr``).
        args: The install's command and arguments, as fingerprinted.
        fingerprint: The fingerprint of the virtualenv's install.
        noxfile: The digest of the noxfile the session ran from.
    """

    root: Path
    session: str
    python: str
    venv: Path
    bin: tuple[str, ...]
    venv_env: Mapping[str, str | None]
    spec: str
    args: tuple[str, ...]
    fingerprint: str
    noxfile: str


def _path(project: Project, session: str) -> Path:
    return project.root / ".suitekit" / "sessions" / f"{session}.json"


def noxfile_digest(project: Project) -> str | None:
    """The digest of the project's ``noxfile.py`` (where the runner's nox finds it)."""
    try:
        data = read_bounded(project.root / "noxfile.py", limit=_LIMIT * 16, what="noxfile", fix="")
    except SuitekitError:
        return None
    return hashlib.sha256(data).hexdigest() if data is not None else None


def save(project: Project, warm: Warm) -> None:
    """Record ``warm`` for its session (best effort: without it, the runner starts nox)."""
    document = {
        "version": _VERSION,
        "root": str(warm.root),
        "session": warm.session,
        "python": warm.python,
        "venv": str(warm.venv),
        "bin": list(warm.bin),
        "venv_env": dict(warm.venv_env),
        "spec": warm.spec,
        "args": list(warm.args),
        "fingerprint": warm.fingerprint,
        "noxfile": warm.noxfile,
    }
    try:
        write_text_atomic(_path(project, warm.session), json.dumps(document), mode=0o600)
    except SuitekitError:
        forget(project, warm.session)


def forget(project: Project, session: str) -> None:
    """Remove the session's record: the runner starts it through nox."""
    with contextlib.suppress(OSError):
        _path(project, session).unlink(missing_ok=True)


def _read_private(path: Path) -> bytes | None:
    """The file's bytes if it and its folder are this user's and only this user may write them.

    The record names the program the runner starts: one that another local user could have
    written (or swapped in through a link) is not read at all.
    """
    try:
        folder = os.lstat(path.parent)
        if not stat.S_ISDIR(folder.st_mode) or not _owned(folder):
            return None
        with open_regular(path, limit=_LIMIT) as handle:
            if not _owned(os.fstat(handle.fileno())):
                return None
            return handle.read(_LIMIT + 1)
    except (OSError, FileRefusedError):
        return None


def _owned(status: os.stat_result) -> bool:
    return status.st_uid == os.geteuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load(project: Project, session: str) -> Warm | None:
    """The session's record; ``None`` when there is none or it is not one this suitekit wrote."""
    data = _read_private(_path(project, session))
    if data is None or len(data) > _LIMIT:
        return None
    try:
        document = load_json(data)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("version") != _VERSION:
        return None
    try:
        warm = Warm(
            root=Path(_text(document["root"])),
            session=_text(document["session"]),
            python=_text(document["python"]),
            venv=Path(_text(document["venv"])),
            bin=tuple(_text(item) for item in _list(document["bin"])),
            venv_env={
                _text(key): (None if value is None else _text(value))
                for key, value in _mapping(document["venv_env"]).items()
            },
            spec=_text(document["spec"]),
            args=tuple(_text(item) for item in _list(document["args"])),
            fingerprint=_text(document["fingerprint"]),
            noxfile=_text(document["noxfile"]),
        )
    except (KeyError, TypeError):
        return None
    return warm if warm.session == session else None


def usable(project: Project, warm: Warm, spec: InstallSpec, environ: Mapping[str, str]) -> bool:
    """Whether the session may run from ``warm`` without nox (see the module's list)."""
    via_nox = environ.get(ENV_VIA_NOX, "").strip().lower() in {"1", "true", "yes"}
    if via_nox or _install.forced(environ):
        return False
    if warm.root != project.root or warm.spec != repr(spec):
        return False
    if warm.noxfile != noxfile_digest(project) or not _the_sessions_own(project, warm):
        return False
    wanted = _install.fingerprint(project, spec, warm.args)
    return wanted == warm.fingerprint and _install.is_current(warm.venv, wanted)


def envdir(project: Project) -> Path:
    """Where nox, run from the project root with its defaults, keeps the sessions' virtualenvs."""
    return project.root / ".nox"


# What nox sets for a virtualenv's commands; any variable it only removes (None) is harmless.
_VENV_VARIABLES: Final = frozenset({"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_PYTHON"})


def _the_sessions_own(project: Project, warm: Warm) -> bool:
    """Whether the record points into a virtualenv of this project's nox, and nowhere else.

    The virtualenv is in the project's ``.nox``, its ``bin`` alone goes on ``PATH``, its
    interpreter is there (a link to a Python since removed is not), and the variables are nox's
    own, naming that virtualenv.
    """
    if warm.venv.parent != envdir(project) or warm.bin != (str(warm.venv / "bin"),):
        return False
    python = warm.venv / "bin" / "python"
    if not python.is_file() or not os.access(python, os.X_OK):
        return False
    return all(
        value is None
        or (name in _VENV_VARIABLES and value == str(warm.venv))
        or (name == "NOX_CURRENT_SESSION" and value == warm.session)
        for name, value in warm.venv_env.items()
    )


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise TypeError(value)
    return value


def _mapping(value: object) -> dict[object, object]:
    if not isinstance(value, dict):
        raise TypeError(value)
    return value
