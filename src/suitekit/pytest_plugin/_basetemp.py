"""A suite session's temporary folders under a root of its own, apart from other sessions'.

pytest gives every session a numbered folder (``pytest-N``) under one root per user,
``<tmp>/pytest-of-<user>``, and each session, as it ends, deletes the old numbered folders and
every ``garbage-*`` folder it finds there. Two sessions ending together (``inv test.all
--parallel`` starts every suite at once) delete the same folder: one of them warns ``(rm_rf)
error removing .../garbage-...: Directory not empty``, and a project that turns warnings into
errors fails a session whose tests all passed.

A suite run's controller takes its folders from a root of its own instead::

    <tmp>/suitekit-<uid>-pytest/<project folder>-<hash of its path>/<suite>-py<X.Y>[-shard-I-of-N]

where pytest keeps, as ever, the last three sessions' folders (``tmp_path_retention_count``),
now per suite, Python and shard, and makes its ``pytest-of-<user>`` folder. Two runs of the
same suite, Python and shard at once still share a root, as any two pytest runs did. Every
folder of that path is checked as suitekit's other private folders are (a real folder of this
user that no other user may enter, never a link). A run given ``--basetemp`` or
``PYTEST_DEBUG_TEMPROOT`` keeps what it was given, and xdist's workers keep theirs under the
controller's, as xdist gives them.

A project's folder there names the project in a file, so that a session removes the folders of
projects that are gone (a deleted checkout, a test's copied project) and have not been used for
an hour: pytest's shared root kept three sessions in all, and a root per project must not grow
without end.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest

from suitekit import services
from suitekit._files import write_text_atomic
from suitekit.errors import ServiceError, SuitekitError

if TYPE_CHECKING:
    from suitekit import sharding

__all__ = ["ENV_TEMPROOT", "SessionTemp", "prune_gone", "session_root", "session_temp"]

ENV_TEMPROOT: Final = "PYTEST_DEBUG_TEMPROOT"  # pytest's own: the folder its root goes in
_FIX: Final = (
    "remove it (`rm -rf {path}`; if another user made it, ask them or root), point TMPDIR at a "
    "folder of your own, or give pytest --basetemp"
)
_NAME_LENGTH: Final = 40  # of the project folder's name, in the root's name
_PROJECT_FILE: Final = "project"  # in a project's folder: the project's path
_DIGEST_LENGTH: Final = 12  # hex digits of the path's SHA-256, in the folder's name
_UNUSED_SECONDS: Final = 3600  # a gone project's folder stays while used this recently


def session_root(
    rootpath: Path, suite: str, shard: sharding.ShardSpec | None, *, temp: Path | None = None
) -> Path:
    """This suite session's private root for pytest's temporary folders, created if missing.

    Args:
        rootpath: The project's root (pytest's rootdir).
        suite: The suite's name.
        shard: The shard this process runs, if any: shards may run at once.
        temp: The system's temporary folder (:func:`tempfile.gettempdir` when ``None``).

    Raises:
        ServiceError: A folder of the path cannot be made, or is a link, another user's or
            open to others; the message names it and the fix.
    """
    base = Path(tempfile.gettempdir()) if temp is None else temp
    name = f"{suite}-py{sys.version_info.major}.{sys.version_info.minor}"
    if shard is not None:
        name += f"-shard-{shard.index}-of-{shard.total}"
    top = services.private_folder(base / f"suitekit-{os.geteuid()}-pytest", fix=_FIX)
    folder = f"{rootpath.name[:_NAME_LENGTH]}-{_digest(os.fsencode(rootpath))}"
    project = services.private_folder(top / folder, fix=_FIX)
    named = project / _PROJECT_FILE
    if services.read_private_file(named) != str(rootpath):
        # Whole or not at all: a folder whose file is missing or does not match its name is
        # never removed (nor is one of a path that is not UTF-8, which is not written).
        with contextlib.suppress(SuitekitError, UnicodeEncodeError):
            write_text_atomic(named, str(rootpath), failure=ServiceError, mode=0o600)
    return services.private_folder(project / name, fix=_FIX)


def _digest(path: bytes) -> str:
    return hashlib.sha256(path).hexdigest()[:_DIGEST_LENGTH]


def prune_gone(root: Path, *, now: float | None = None) -> None:
    """Remove the other projects' folders beside ``root``'s whose project is gone.

    A folder is removed only when its file names the path its name was made from, nothing is
    at that path (a path out of reach, or a drive not mounted, is not nothing), and no session
    started in it for an hour. A folder without the file (a session making it right now), or
    whose path is not UTF-8, stays.
    """
    project = root.parent
    started = time.time() if now is None else now
    try:
        entries = list(os.scandir(project.parent))
    except OSError:
        return
    for entry in entries:
        if entry.name == project.name or not entry.is_dir(follow_symlinks=False):
            continue
        folder = Path(entry.path)
        named = services.read_private_file(folder / _PROJECT_FILE)
        if (
            named
            and Path(named).is_absolute()
            and entry.name.endswith(f"-{_digest(os.fsencode(named))}")
            and _gone(Path(named))
            and started - _last_used(folder) > _UNUSED_SECONDS
        ):
            shutil.rmtree(folder, ignore_errors=True)


def _last_used(project: Path) -> float:
    """When a session last started in a project's folder (its numbered folders' parent changed).

    A folder that cannot be looked at (another session removing it right now) counts as in use.
    """
    try:
        times = [project.lstat().st_mtime]
    except OSError:
        return math.inf
    for used in project.glob("*/pytest-of-*"):
        with contextlib.suppress(OSError):
            times.append(used.lstat().st_mtime)
    return max(times)


def _gone(path: Path) -> bool:
    """Whether nothing is at ``path`` (not merely out of reach)."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def session_temp(
    config: pytest.Config, suite: str, shard: sharding.ShardSpec | None
) -> list[tuple[object, str]]:
    """The plugin to register for a suite run, where :meth:`SessionTemp.wanted` says so."""
    if SessionTemp.wanted(config):
        return [(SessionTemp(suite, shard), "suitekit-basetemp")]
    return []


class SessionTemp:
    """Makes the controller's base temporary folder under :func:`session_root`, before xdist.

    pytest reads ``PYTEST_DEBUG_TEMPROOT`` when the folder is first asked for: the variable is
    set only for that call, so no process this run starts inherits it.
    """

    def __init__(self, suite: str, shard: sharding.ShardSpec | None) -> None:
        """Remember which session this is."""
        self.suite = suite
        self.shard = shard

    @staticmethod
    def wanted(config: pytest.Config) -> bool:
        """Whether this process picks its folders: a controller running tests, given none."""
        return not (
            hasattr(config, "workerinput")
            or config.option.basetemp
            or os.environ.get(ENV_TEMPROOT)
            or config.option.collectonly
            or config.getoption("suitekit_plan_shards") is not None
        )

    @pytest.hookimpl(tryfirst=True)  # before xdist's controller hands workers their folders
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Create the session's base temporary folder under its own root.

        Raises:
            pytest.UsageError: The root is refused (see :func:`session_root`).
        """
        factory = getattr(session.config, "_tmp_path_factory", None)
        if factory is None:  # pytest's tmp_path plugin is off (-p no:tmpdir)
            return
        if getattr(factory, "_basetemp", None) is not None:
            return  # another plugin asked for the folder first: pytest keeps that one
        try:
            root = session_root(session.config.rootpath, self.suite, self.shard)
        except SuitekitError as error:
            message = f"suitekit: {error}"
            raise pytest.UsageError(message) from None
        prune_gone(root)
        before = os.environ.get(ENV_TEMPROOT)
        os.environ[ENV_TEMPROOT] = str(root)
        try:
            factory.getbasetemp()
        except OSError as error:
            message = (
                f"suitekit: {root}: pytest cannot make its temporary folder there "
                f"({error.strerror or error})\n  fix: free space there, point TMPDIR at a "
                "folder you can write, or give pytest --basetemp"
            )
            raise pytest.UsageError(message) from None
        finally:
            if before is None:
                del os.environ[ENV_TEMPROOT]
            else:
                os.environ[ENV_TEMPROOT] = before
