"""What PostgreSQL's and MariaDB's databases of a run share, whatever the client library.

Both backends (:mod:`suitekit.services._postgres`, :mod:`suitekit.services._mysql`) mark every
database they create with a comment ``suitekit {...}`` (:func:`comment`, read back by
:func:`marks`), build a template once from the same setup steps (:func:`run_setup`, keyed by
:func:`template_key`), make a worker's database from it only once it is built
(:func:`wait_for_template`), and tell a server that does not answer the same way
(:func:`check`, :func:`admin`). The client library stays in its backend: what talks to the
server is passed in, as a callable and the library's error classes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol, TypeVar

from suitekit._handoff import (
    ENV_KEEP_TEMPLATE,
    ENV_REINSTALL,
    ENV_SCRIPTS,
    ENV_TEMPLATE_KEPT,
    ENV_TEMPLATE_SCHEMA,
)
from suitekit._model import ServiceConfig
from suitekit._urls import redact
from suitekit.errors import ServiceError
from suitekit.services import _endpoints
from suitekit.services._fingerprint import setup_inputs

__all__ = [
    "COMMENT_PREFIX",
    "ENV_KEEP_TEMPLATE",
    "ENV_TEMPLATE_KEPT",
    "ENV_TEMPLATE_SCHEMA",
    "Kept",
    "MarkedDatabase",
    "admin",
    "check",
    "comment",
    "keeping",
    "like_prefix",
    "marks",
    "project_mark",
    "rebuilding",
    "render_env",
    "run_setup",
    "template_key",
    "wait_for_template",
]

COMMENT_PREFIX: Final = "suitekit "
_REINSTALL: Final = ENV_REINSTALL  # --reinstall rebuilds a kept template too
_TRUE: Final = frozenset({"1", "true", "yes"})
_FALSE: Final = frozenset({"0", "false", "no"})
_NOT_ANSWERING_FIX: Final = (
    "\n  fix: start it, correct the URL, or unset it to let suitekit start one"
)


class _Closing(Protocol):
    def close(self) -> None: ...


_C = TypeVar("_C", bound=_Closing)


class _Server(Protocol):
    def fields(self, database: str) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkedDatabase:
    """A database that carries suitekit's comment.

    Attributes:
        name: Its name.
        info: The comment's fields: run, role, pid, host (and owner, suite, kept).
    """

    name: str
    info: Mapping[str, str]


def comment(run_id: str, role: str, extra: Mapping[str, str] | None = None) -> str:
    """The comment of a database of run ``run_id`` in ``role``, owned by this process."""
    info = {"run": run_id, "role": role, "pid": os.getpid(), "host": socket.gethostname()}
    info.update(extra or {})
    return COMMENT_PREFIX + json.dumps(info, sort_keys=True)


def marks(comment: object) -> dict[str, str] | None:
    """The fields of suitekit's comment, or ``None`` when ``comment`` is not one."""
    if not isinstance(comment, str) or not comment.startswith(COMMENT_PREFIX):
        return None
    try:
        info = json.loads(comment.removeprefix(COMMENT_PREFIX))
    except ValueError:
        return None
    return {str(k): str(v) for k, v in info.items()} if isinstance(info, dict) else None


def like_prefix(prefix: str) -> str:
    """A ``LIKE`` pattern matching names that start with ``prefix``, taken literally."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def render_env(config: ServiceConfig, server: _Server, database: str) -> dict[str, str]:
    """The variables a worker (or the template's setup) sees for ``database``."""
    return _endpoints.render_env(config.env, server.fields(database))


def template_key(config: ServiceConfig, root: Path, *, role: str = "") -> str | None:
    """The key of a kept template built by ``setup`` alone; ``None`` without ``keep-template``.

    A hash of the server ``role`` that owns it, the setup steps and the files
    ``keep-template`` lists (see :mod:`suitekit.services._fingerprint`).

    Raises:
        Unkeyable: A listed file is a symbolic link.
    """
    inputs = setup_inputs(config, root)
    return inputs.key(root, role=role) if inputs is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Kept:
    """A kept template: how it is marked, found again, and told apart from older ones.

    Attributes:
        project: :func:`project_mark` of the project that builds it.
        suite: The suite whose run builds it (older kept templates of the same project and
            suite are dropped when a new one is built).
        key: Its fingerprint (the end of its name).
        schema: For a Django suite, the digest of the settings and apps it is migrated for:
            a kept template with another one is rebuilt ("": not checked).
        rebuild: Build it again even if it is complete (``SUITEKIT_REINSTALL=1``).
    """

    project: str
    suite: str
    key: str
    schema: str = ""
    rebuild: bool = False

    def marks(self, state: str) -> dict[str, str]:
        """The comment's fields of a kept template in ``state`` (``building``, ``true``)."""
        marks = {"kept": state, "suite": self.suite, "project": self.project, "key": self.key}
        if self.schema:
            marks["schema"] = self.schema
        return marks

    def complete(self, info: Mapping[str, str]) -> bool:
        """Whether a template marked ``info`` is complete, and built for this schema."""
        if info.get("kept") != "true":
            return False
        return not self.schema or info.get("schema") == self.schema


def project_mark(root: Path) -> str:
    """The project a kept template belongs to: a digest of its root folder's path.

    A digest, not the path: database comments are readable by every role of the server.
    """
    return hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def keeping(config: ServiceConfig, environ: Mapping[str, str]) -> bool:
    """Whether this run may keep its template: not ``keep-template = false`` or ``0`` in env.

    Raises:
        ServiceError: ``SUITEKIT_KEEP_TEMPLATE`` is neither 0 nor 1.
    """
    value = environ.get(ENV_KEEP_TEMPLATE, "").strip().lower()
    if value and value not in _TRUE | _FALSE:
        message = (
            f"{ENV_KEEP_TEMPLATE}={environ[ENV_KEEP_TEMPLATE]!r} is neither 0 nor 1"
            f"\n  fix: set {ENV_KEEP_TEMPLATE}=0 to keep no template in this run, or unset it"
        )
        raise ServiceError(message)
    return config.keeps_template and value not in _FALSE


def rebuilding(environ: Mapping[str, str]) -> bool:
    """Whether a kept template is built again (``SUITEKIT_REINSTALL=1``, ``--reinstall``)."""
    return environ.get(_REINSTALL, "").strip().lower() in _TRUE


def check(url: str, what: str, probe: Callable[[], None], errors: type[Exception]) -> None:
    """Run ``probe`` (connect, ``SELECT 1``) against the ``what`` server at ``url``.

    Raises:
        ServiceError: It raised ``errors`` (the message says how, and the fix).
    """
    try:
        probe()
    except errors as error:
        message = (
            f"the {what} server at {redact(url)} does not answer: {error}".strip()
            + _NOT_ANSWERING_FIX
        )
        raise ServiceError(message) from None


@contextmanager
def admin(connect: Callable[[], _C], where: str, errors: type[Exception]) -> Iterator[_C]:
    """A connection from ``connect``, closed after; ``where`` names the server in the error.

    Raises:
        ServiceError: ``connect`` raised ``errors``.
    """
    try:
        connection = connect()
    except errors as error:
        message = f"cannot connect to {where}: {error}".strip() + _NOT_ANSWERING_FIX
        raise ServiceError(message) from None
    try:
        yield connection
    finally:
        with contextlib.suppress(errors):
            connection.close()


def wait_for_template(
    exists: Callable[[], bool], *, template: str, name: str, timeout: float
) -> None:
    """Wait until ``exists`` sees the template ``template`` complete, before copying it.

    ``exists`` looks under the template's build lock: a template that exists there is complete
    (its builder creates it only while holding the lock exclusively). One that does not exist
    yet is one whose builder has not taken that lock yet (the run's controller builds it while
    its workers start): it is looked for again, more and more slowly, for up to ``timeout``.

    Raises:
        ServiceError: The template never appeared (``name`` is the database that waited).
    """
    deadline = time.monotonic() + timeout
    pause = 0.005
    while not exists():
        if time.monotonic() > deadline:
            message = (
                f"cannot create {name}: the template database {template} was never "
                f"created (waited {timeout:.0f}s for the run's controller)"
                "\n  fix: see the controller's output above for why it did not build it"
            )
            raise ServiceError(message)
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def run_setup(
    config: ServiceConfig,
    env: Mapping[str, str],
    cwd: Path,
    *,
    run_sql: Callable[[str], None],
    errors: type[Exception],
) -> None:
    """Run the setup steps of ``config`` into the template database that ``env`` names.

    An SQL step goes to ``run_sql`` (a connection to the template database), a command runs in
    ``cwd`` with ``env``, its scripts taken from the environment that runs the tests.

    Raises:
        ServiceError: A step failed (``run_sql`` raised ``errors``, or a command failed).
    """
    env = dict(env)
    # Setup commands (alembic, manage.py) come from the environment that runs the tests, even
    # when its virtualenv is not activated: this interpreter's, or the one a session of another
    # runner (whose backends are prepared in nox's process) names.
    scripts = env.get(ENV_SCRIPTS) or str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([scripts, env.get("PATH", "")]).rstrip(os.pathsep)
    for step in config.setup:
        if step.sql is not None:
            try:
                run_sql(step.sql)
            except errors as error:
                message = f"setup SQL failed in the template database: {step.sql!r}: {error}"
                raise ServiceError(message) from None
            continue
        assert step.command is not None  # noqa: S101 - a step is one or the other
        argv = shlex.split(step.command)
        try:
            result = subprocess.run(
                argv, cwd=cwd, env=env, capture_output=True, text=True, check=False
            )
        except OSError as error:
            message = f"setup command {step.command!r} could not start: {error.strerror}"
            raise ServiceError(message) from None
        if result.returncode != 0:
            message = (
                f"setup command {step.command!r} failed with exit code {result.returncode} "
                f"in the template database:\n{result.stdout}{result.stderr}"
            )
            raise ServiceError(message)
