"""When a session's virtualenv must be installed again, and when its install can be skipped.

A warm ``nox -s unit`` used to run ``uv pip install`` every time: a second or more per session
even when nothing changed. A session now records a fingerprint of everything its install depends
on in a file inside its virtualenv, and installs again only when the fingerprint differs:

- the install command's arguments (the spec, the resolved dependency groups, the suitekit
  requirement);
- the project's dependency metadata: the ``[build-system]``, ``[project]`` and
  ``[dependency-groups]`` tables of its pyproject.toml (not ``[tool.*]``: editing suitekit's
  own table must not reinstall);
- the text of every requirement file the spec names, and of the lock files at the root
  (``uv.lock``, ``pylock.toml``, ``poetry.lock``, ``pdm.lock``);
- the installed suitekit's version and requirements.

A project installed without ``editable`` is copied into the virtualenv, so a change to any of
its files would be missed: such sessions always install. A new virtualenv has no fingerprint, so
it always installs. ``SUITEKIT_REINSTALL=1`` (``inv ... --reinstall``) forces an install.

The marker is removed before an install starts and written only after it succeeded: a failed
install (an out-of-date ``uv.lock``, a package missing from the index) leaves a virtualenv that
installs again next time, whatever the files then say.

A project with a ``uv.lock`` installs from it (:func:`locked`, decided by
:func:`suitekit.plan.locked_sync`): the ``uv sync`` command is among the fingerprinted
arguments, and the lock's text is fingerprinted as every lock file is.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Final

from suitekit._model import InstallSpec, Project
from suitekit.plan import (
    ENV_REINSTALL,
    LOCK_FILE,
    LockedSync,
    ci_suitekit_requirement,
    locked_sync,
)

__all__ = [
    "MARKER",
    "fingerprint",
    "forced",
    "forget",
    "is_current",
    "locked",
    "record",
    "suitekit_for_ci",
]


MARKER: Final = ".suitekit-install"
"""The file, inside a session's virtualenv, that holds the fingerprint of its last install."""

_LOCK_FILES: Final = ("uv.lock", "pylock.toml", "poetry.lock", "pdm.lock")
_METADATA_TABLES: Final = ("build-system", "project", "dependency-groups")


def forced(environ: Mapping[str, str]) -> bool:
    """Whether the environment asks for an install whatever the fingerprint says."""
    return environ.get(ENV_REINSTALL, "").strip().lower() in {"1", "true", "yes"}


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "<missing>"


def _suitekit_metadata() -> list[str]:
    try:
        distribution = importlib.metadata.distribution("suitekit")
    except importlib.metadata.PackageNotFoundError:
        return ["suitekit: not installed"]
    return [distribution.version, *sorted(distribution.requires or [])]


def _parsed(text: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except (ValueError, RecursionError):
        # ValueError: bad TOML, or an integer past Python's digit limit. Loading the project
        # refused a bad pyproject.toml already; uv names a bad lock's fault when it reads it.
        return {}


def _toml(path: Path) -> dict[str, object] | None:
    """The TOML file at ``path``; ``None`` when it is missing, ``{}`` when it is not TOML."""
    try:
        return _parsed(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


# How uv writes the entry of a locked package named suitekit (a plain substring search: a
# regular expression over a large lock takes milliseconds).
_LOCKS_SUITEKIT: Final = '\n[[package]]\nname = "suitekit"\n'


def locked(project: Project, spec: InstallSpec) -> LockedSync | None:
    """How a session installs ``spec`` from the project's ``uv.lock``; ``None``: without it."""
    if not spec.lock:
        return None  # not even read
    try:
        text = (project.root / LOCK_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # A lock of a few hundred packages takes tens of milliseconds to parse, in every warm
    # session; only one that pins suitekit needs its graph walked (see LockedSync.suitekit).
    lock = _parsed(text) if _LOCKS_SUITEKIT in text else {}
    return locked_sync(spec, pyproject=_toml(project.config_file) or {}, lock=lock)


def suitekit_for_ci(project: Project, *, installed: str) -> tuple[str, str | None]:
    """What CI installs as suitekit next to nox, and a warning to print (or ``None``).

    The project's ``uv.lock``, else its declared requirement, else ``[tool.suitekit.ci]
    suitekit``, else ``suitekit==<installed>`` with a warning (see
    :func:`suitekit.plan.ci_suitekit_requirement`, which decides from the files read here).

    Args:
        project: The project.
        installed: The version of the suitekit that runs.
    """
    return ci_suitekit_requirement(
        pyproject=_toml(project.config_file) or {},
        lock=_toml(project.root / LOCK_FILE),
        configured=project.ci.suitekit,
        installed=installed,
    )


def fingerprint(project: Project, spec: InstallSpec, args: Sequence[str]) -> str | None:
    """The fingerprint of an install, or ``None`` when it cannot be skipped safely.

    Args:
        project: The project.
        spec: What the session installs.
        args: The install command's arguments, as the session passes them.
    """
    if spec.project and not spec.editable:
        return None  # a copy of the project's files: any edit needs a new install
    try:
        pyproject = tomllib.loads(_text(project.config_file))
    except (ValueError, RecursionError):
        # Loading the project refused these already; a file edited since then only costs a
        # fresh install (ValueError: bad TOML, or an integer past Python's digit limit).
        pyproject = {}
    parts: dict[str, object] = {
        "args": list(args),
        "metadata": {name: pyproject.get(name) for name in _METADATA_TABLES},
        "requirements": {name: _text(project.root / name) for name in spec.requirements},
        # Digests, not texts: a lock runs to hundreds of kilobytes, which every warm session
        # would otherwise encode here.
        "locks": {
            name: hashlib.sha256(_text(project.root / name).encode()).hexdigest()
            for name in _LOCK_FILES
            if (project.root / name).is_file()
        },
        "suitekit": _suitekit_metadata(),
    }
    encoded = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def is_current(venv: Path, expected: str | None) -> bool:
    """Whether the virtualenv at ``venv`` was last installed with fingerprint ``expected``."""
    if expected is None:
        return False
    try:
        with _open_marker(venv, os.O_RDONLY) as descriptor:
            return os.read(descriptor, 256).decode(errors="replace").strip() == expected
    except OSError:
        return False


def record(venv: Path, value: str | None) -> None:
    """Remember ``value`` as the fingerprint of the install just done (best effort).

    A marker that cannot be written only means the next session installs again.
    """
    if value is None:
        return
    temporary = venv / f"{MARKER}.{os.getpid()}.tmp"
    try:
        with _open_marker(
            venv, os.O_WRONLY | os.O_CREAT | os.O_EXCL, name=temporary.name
        ) as descriptor:
            os.write(descriptor, f"{value}\n".encode())
        temporary.replace(venv / MARKER)
    except OSError:
        temporary.unlink(missing_ok=True)


def forget(venv: Path) -> None:
    """Remove the fingerprint of ``venv``'s last install, before an install that may fail."""
    with contextlib.suppress(OSError):
        (venv / MARKER).unlink(missing_ok=True)


@contextlib.contextmanager
def _open_marker(venv: Path, flags: int, *, name: str = MARKER) -> Iterator[int]:
    """A descriptor of a marker file in ``venv``, opened without following a symlink."""
    descriptor = os.open(venv / name, flags | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        yield descriptor
    finally:
        os.close(descriptor)
