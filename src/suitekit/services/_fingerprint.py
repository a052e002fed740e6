"""What a kept template is built from, as a fingerprint: its name changes when any of it does.

A kept template (see :mod:`suitekit.services._postgres`) outlives its run, so the next run must
be able to tell, before it connects, whether the template on the server is the one it would
build. Its name carries a hash of everything that decides the template's schema:

- for a **Django suite** (kept by default, :func:`django_inputs`): every file of every
  ``migrations`` folder under the project root (paths and contents), the ``setup`` steps if
  any, the files ``keep-template`` lists, Django's version and the settings module's path;
- for **another suite with a ``setup``** (kept only with ``keep-template``,
  :func:`setup_inputs`): the ``setup`` steps and the files ``keep-template`` lists. suitekit
  cannot know what an arbitrary command reads, so that suite says it; nothing is kept by
  default.

The walk for ``migrations`` folders skips what is not the project's own code: hidden folders
(``.git``, ``.nox``, ``.venv``, ``.tox``, caches), ``node_modules``, ``__pycache__``,
``site-packages`` and every virtualenv (a folder holding ``pyvenv.cfg``). Symbolic links are
never followed: a linked ``migrations`` folder or file, or a linked file that ``keep-template``
matches, makes the inputs unkeyable (:class:`Unkeyable`), and the run builds a template of its
own as if nothing were kept. Files are opened with ``O_NOFOLLOW``, so a file swapped for a link
after the walk is refused too.

Everything here is pure (files in, text out): no server, no Django import.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from suitekit._model import ServiceConfig

__all__ = [
    "KEY_LENGTH",
    "SKIPPED_FOLDERS",
    "TemplateInputs",
    "Unkeyable",
    "django_inputs",
    "listed_files",
    "migration_files",
    "setup_inputs",
]

KEY_LENGTH: Final = 24
"""Hex digits of a kept template's key (96 bits), as in its name ``sk_tpl_<key>``."""

SKIPPED_FOLDERS: Final = frozenset({"node_modules", "__pycache__", "site-packages"})
"""Folders never walked for ``migrations`` (besides hidden ones and virtualenvs)."""

_MIGRATIONS: Final = "migrations"
_COMPILED: Final = (".pyc", ".pyo")


class Unkeyable(Exception):  # noqa: N818 - a reason, not a failure: the run goes on unkept
    """The template's inputs cannot be fingerprinted safely (a symbolic link among them)."""

    def __init__(self, reason: str) -> None:
        """Keep the reason, said in the run's header."""
        super().__init__(reason)
        self.reason = reason


def _skipped(folder: Path, name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_FOLDERS or (folder / "pyvenv.cfg").exists()


def migration_files(root: Path) -> tuple[str, ...]:
    """Every file of every ``migrations`` folder under ``root``, as sorted relative POSIX paths.

    Compiled files (``__pycache__``, ``*.pyc``) are left out: they follow from the sources.

    Raises:
        Unkeyable: A ``migrations`` folder, or something inside one, is a symbolic link.
    """
    found: list[str] = []
    for current, folders, files in os.walk(root, followlinks=False):
        here = Path(current)
        inside = _MIGRATIONS in here.relative_to(root).parts
        kept = []
        for name in sorted(folders):
            path = here / name
            if path.is_symlink():
                if inside or name == _MIGRATIONS:
                    message = f"{path.relative_to(root).as_posix()} is a symbolic link"
                    raise Unkeyable(message)
                continue  # os.walk would not enter it either
            if not _skipped(path, name):
                kept.append(name)
        folders[:] = kept
        if not inside:
            continue
        for name in files:
            path = here / name
            if path.is_symlink():
                message = f"{path.relative_to(root).as_posix()} is a symbolic link"
                raise Unkeyable(message)
            if not name.endswith(_COMPILED):
                found.append(path.relative_to(root).as_posix())
    return tuple(sorted(found))


def listed_files(root: Path, patterns: Iterable[str]) -> tuple[str, ...]:
    """The files ``keep-template``'s patterns match under ``root``, sorted, relative, POSIX.

    Raises:
        Unkeyable: A matched file is a symbolic link.
    """
    found: set[str] = set()
    for pattern in patterns:
        for path in root.glob(pattern):
            if path.is_symlink():
                message = f"{path.relative_to(root).as_posix()} is a symbolic link"
                raise Unkeyable(message)
            if path.is_file():
                found.add(path.relative_to(root).as_posix())
    return tuple(sorted(found))


def _read(root: Path, relative: str) -> bytes:
    """The bytes of a regular file, never through a symbolic link (``O_NOFOLLOW``).

    Raises:
        Unkeyable: It is a link, not a regular file, or unreadable.
    """
    try:
        descriptor = os.open(root / relative, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        message = f"{relative} cannot be read safely: {error.strerror}"
        raise Unkeyable(message) from None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            message = f"{relative} is not a regular file"
            raise Unkeyable(message)
        return file.read()


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateInputs:
    """Everything that decides a kept template's schema, as its fingerprint reads it.

    Attributes:
        setup: The ``setup`` steps, each as written (``cmd:...`` or ``sql:...``).
        files: The files whose contents count, relative to the project root, sorted.
        django: Django's version ("" outside a Django suite).
        settings: Django's settings module ("" outside a Django suite).
    """

    setup: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    django: str = ""
    settings: str = ""

    def key(self, root: Path, *, role: str = "") -> str:
        """The fingerprint: :data:`KEY_LENGTH` hex digits of SHA-256 over every input.

        Each part is length-prefixed, so no two different inputs hash the same bytes. ``role``
        is the server role that owns the template: two roles sharing a server (a developer's
        and CI's) each keep their own, rather than one finding the other's and refusing it.

        Raises:
            Unkeyable: A file cannot be read without following a link.
        """
        digest = hashlib.sha256(b"suitekit-template-1")

        def part(data: bytes) -> None:
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)

        for text in (role, self.django, self.settings, *self.setup):
            part(text.encode("utf-8", "surrogatepass"))
        part(b"files")
        for relative in self.files:
            part(relative.encode("utf-8", "surrogatepass"))
            part(_read(root, relative))
        return digest.hexdigest()[:KEY_LENGTH]


def _steps(config: ServiceConfig) -> tuple[str, ...]:
    return tuple(
        f"cmd:{step.command}" if step.command is not None else f"sql:{step.sql}"
        for step in config.setup
    )


def setup_inputs(config: ServiceConfig, root: Path) -> TemplateInputs | None:
    """A suite's template inputs when ``keep-template`` lists files; ``None`` when it does not.

    Raises:
        Unkeyable: A listed file is a symbolic link.
    """
    if not config.keep_template or not config.keeps_template:
        return None
    return TemplateInputs(setup=_steps(config), files=listed_files(root, config.keep_template))


def django_inputs(
    config: ServiceConfig, root: Path, *, django: str, settings: str
) -> TemplateInputs:
    """A Django suite's template inputs: its migrations, setup, listed files, Django, settings.

    Raises:
        Unkeyable: A ``migrations`` folder or file, or a listed file, is a symbolic link.
    """
    files: Sequence[str] = sorted(
        {*migration_files(root), *listed_files(root, config.keep_template)}
    )
    return TemplateInputs(
        setup=_steps(config), files=tuple(files), django=django, settings=settings
    )
