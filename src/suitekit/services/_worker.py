"""What one worker of one suite gets: its database, Redis keyspace, folders and ports.

The controller of a run (the pytest process, or the xdist controller) calls :func:`prepare_run`
once: it fixes the run id and hash seed, and builds the template database (migrate once). Each
worker (each xdist worker, or the single process of a run without xdist) calls :func:`acquire`
before any conftest is imported, so that code reading ``DATABASE_URL`` at import time sees the
worker's own database, and :meth:`Acquired.release` at its end. Values cross processes through
environment variables and :class:`WorkerResources` round-trips through JSON.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from suitekit import _naming, plan
from suitekit._handoff import ENV_PORTS, ENV_RUN_ID, ENV_TEMPLATE
from suitekit._model import Check, Project, Service, Suite, UserService
from suitekit._signals import HELD, signals_held
from suitekit.errors import ServiceError
from suitekit.services import _custom, _ports
from suitekit.services._backend import BACKENDS, Backend
from suitekit.services._fingerprint import TemplateInputs
from suitekit.services._resources import WorkerResources, current, export
from suitekit.services._state import (
    create_private_file,
    private_folder,
    read_private_file,
    state_root,
)

__all__ = [
    "ENV_RUN_ID",
    "ENV_TEMPLATE",
    "Acquired",
    "WorkerResources",
    "acquire",
    "check_resources",
    "current",
    "export",
    "finish_run",
    "prepare_run",
    "run_services",
    "start_services",
    "work_folders",
    "work_root",
]

_OWNER_FILE: Final = ".suitekit-owner"


def work_root() -> Path:
    """Where per-worker folders live (each holds a file naming its owner process)."""
    return private_folder(state_root() / "work")


def prepare_run(
    project: Project,
    suite: Suite,
    environ: Mapping[str, str],
    *,
    template: bool = True,
    build: bool = True,
    inputs: Mapping[Service, TemplateInputs] | None = None,
    alone: bool = False,
) -> dict[str, str]:
    """The controller's part: fix the run id and hash seed, build the template database.

    With ``template=False`` (collection only, as the partition guard does) workers get empty
    databases and no migrations run. With ``build=False`` the template is only named: the
    caller builds it later with :func:`suitekit.services._postgres.building` (Django's
    migrate, once the xdist workers are starting); their clones wait until it exists.
    ``inputs`` key a service's kept template (a Django suite's migrations, see
    :mod:`suitekit.services._fingerprint`). With ``alone`` (the controller is the run's only
    process) a template that would only be copied once is left out: :func:`acquire` with
    ``alone`` sets the process's own database up instead.

    Returns:
        Variables to export before workers start (the caller sets them in ``os.environ``).

    Raises:
        ServiceError: The template's setup failed, or a needed server is not provided.
    """
    env: dict[str, str] = {}
    run_id = environ.get(ENV_RUN_ID) or _naming.new_run_id()
    env[ENV_RUN_ID] = run_id
    env["PYTHONHASHSEED"] = plan.hashseed(project, environ)
    if template:
        for backend in _backends(suite.services):
            env.update(
                backend.prepare_run(
                    project,
                    suite,
                    {**environ, **env},
                    url=functools.partial(_provided, environ, backend),
                    run_id=run_id,
                    build=build,
                    inputs=(inputs or {}).get(backend.kind.name),
                    alone=alone,
                )
            )
    return env


def finish_run(project: Project, suite: Suite, environ: Mapping[str, str]) -> None:
    """The controller's cleanup: remove what is left of this run and suite.

    That is what workers that crashed (or were killed) could not give back themselves: their
    databases, Redis leases and folders; and the run's template unless it is kept.
    """
    run_id = environ.get(ENV_RUN_ID, "")
    if not run_id:
        return
    for backend in _backends(suite.services):
        if backend.kind.provided_url in environ:
            backend.finish_run(suite, run_id, environ[backend.kind.provided_url])
    if project.isolation.dirs:
        for folder, owner in work_folders():
            if owner.get("run") == run_id and owner.get("suite") == suite.name:
                shutil.rmtree(folder, ignore_errors=True)
        for folder in _ownerless_folders(run_id, suite.name):
            shutil.rmtree(folder, ignore_errors=True)
    if suite.custom_services:
        _custom.finish_run(run_id, suite.name)


def work_folders() -> list[tuple[Path, Mapping[str, object]]]:
    """Every per-worker folder with its owner (run, suite, host, pid); unreadable ones skipped.

    Only real folders of this user count, with an owner file that is a regular file of this
    user: anything else is not a folder suitekit made, and is never removed.
    """
    found: list[tuple[Path, Mapping[str, object]]] = []
    for folder in sorted(work_root().iterdir()):
        try:
            facts = folder.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(facts.st_mode) or facts.st_uid != os.geteuid():
            continue
        text = read_private_file(folder / _OWNER_FILE)
        try:
            owner = json.loads(text) if text is not None else None
        except ValueError:
            continue
        if isinstance(owner, dict):
            found.append((folder, owner))
    return found


def _ownerless_folders(run_id: str, suite: str) -> list[Path]:
    """This run's per-worker folders of ``suite``, found by name: owner file or not.

    A worker killed between making its folder and writing its owner file (or half-way through
    writing it) leaves one that :func:`work_folders` cannot read. Its name is this run's,
    suite's and worker's (:func:`suitekit._naming.work_folder`, whose digest covers all three;
    xdist's worker ids, ``gwN``, are their own slug) and a random tail; it is a real folder of
    this user in the private work folder, where no one else can make anything.
    """
    found: list[Path] = []
    for folder in sorted(work_root().iterdir()):
        head, dash, tail = folder.name.rpartition("-")
        parts = head.split("_")
        if not dash or not tail or len(parts) < 2:  # noqa: PLR2004 - ..._<worker>_<digest>
            continue
        if head != _naming.work_folder(run_id, suite, parts[-2]):
            continue
        try:
            facts = folder.lstat()
        except OSError:
            continue
        if stat.S_ISDIR(facts.st_mode) and facts.st_uid == os.geteuid():
            found.append(folder)
    return found


def _backends(services: Collection[Service]) -> list[Backend]:
    """The backends of ``services``, in the registry's order (the order of work)."""
    return [backend for service, backend in BACKENDS.items() if service in services]


def _provided(environ: Mapping[str, str], backend: Backend) -> str:
    variable = backend.kind.provided_url
    url = environ.get(variable)
    if not url:
        message = f"no {backend.kind.name} server is provided ({variable} is not set)"
        raise ServiceError(message)
    return url


@dataclass(slots=True)
class Acquired:
    """A worker's resources and what releases them."""

    resources: WorkerResources
    _releases: list[Callable[[], None]]
    _pending: Callable[[], None] | None = None
    service_ports: tuple[int, ...] = ()  # for the worker's own services (start_services)

    def on_release(self, step: Callable[[], None]) -> None:
        """Run ``step`` on :meth:`release` (steps run newest first)."""
        self._releases.append(step)

    def defer(self, make: Callable[[], None]) -> None:
        """Leave ``make`` (creating what :func:`acquire` only named) to :meth:`materialize`."""
        self._pending = make

    def materialize(self) -> None:
        """Create the database that :func:`acquire` only named (``clone_later``), once.

        Raises:
            ServiceError: The clone could not be made.
        """
        pending, self._pending = self._pending, None
        if pending is not None:
            pending()

    def release(self) -> None:
        """Give everything back: drop the database, flush the keyspace, remove the folders.

        Every step runs even when an earlier one fails; the first failure is raised after.
        """
        failures: list[BaseException] = []
        while self._releases:
            step = self._releases.pop()
            try:
                step()
            except Exception as error:  # noqa: BLE001 - collected and re-raised below
                failures.append(error)
        if failures:
            raise failures[0]


def acquire(
    project: Project,
    suite: Suite,
    *,
    worker: str,
    environ: Mapping[str, str],
    clone_later: bool = False,
    alone: bool = False,
) -> Acquired:
    """The worker's part: its own database, Redis keyspace, folders and ports.

    With ``clone_later`` the database is named (its variables are set) but cloned only by
    :meth:`Acquired.materialize`: in a Django suite, before the worker's first test, so its
    start-up (conftests, Django's set-up, collection) goes on while
    the controller still builds the template (or, without xdist, after this process built it).
    With ``alone`` (the run's only process, after :func:`prepare_run` with ``alone``) a
    database that no template was named for gets the template's setup steps itself.

    Raises:
        ServiceError: A resource could not be had (what was acquired so far is released).
    """
    run_id = environ.get(ENV_RUN_ID) or _naming.new_run_id()
    releases: list[Callable[[], None]] = []
    acquired = Acquired(
        WorkerResources(run_id=run_id, suite=suite.name, worker=worker, hashseed=""), releases
    )
    env: dict[str, str] = {}
    try:
        for backend in _backends(suite.services):
            url = _provided(environ, backend)
            env.update(
                backend.acquire(
                    project,
                    suite,
                    acquired,
                    url=url,
                    environ=environ,
                    clone_later=clone_later,
                    alone=alone,
                )
            )
        dirs: dict[str, str] = {}
        if project.isolation.dirs:
            # Named after the worker to be recognisable, with a random tail (mkdtemp) so that
            # no one can know the name in advance, even with a known run id.
            prefix = _naming.work_folder(run_id, suite.name, worker) + "-"
            marker = {"host": socket.gethostname(), "pid": os.getpid(), "run": run_id}
            owner_text = json.dumps({**marker, "suite": suite.name})
            # Ctrl-C held from the folder's making until its release is known and its owner
            # file written: a Ctrl-C in between (the interrupt trials found one) left a folder
            # that neither this worker's release nor the controller's finish_run knew of.
            with signals_held(*HELD):
                base = Path(tempfile.mkdtemp(prefix=prefix, dir=work_root()))
                releases.append(functools.partial(shutil.rmtree, base, ignore_errors=True))
                create_private_file(base / _OWNER_FILE, owner_text.encode())
            for variable in project.isolation.dirs:
                path = base / variable.lower()
                path.mkdir()
                dirs[variable] = str(path)
        env.update(dirs)
        ports: tuple[int, ...] = ()
        # The worker's own services (see start_services) get the ports after its block: one
        # block, each of its ports locked, holds them all.
        own = _custom_services(project, suite, "worker")
        if project.isolation.ports or own:
            size = project.isolation.ports + len(own)
            block = _ports.take(size, f"{run_id}/{suite.name}/{worker}")
            releases.append(block.close)
            first = block.first
            ports = tuple(range(first, first + project.isolation.ports))
            if ports:
                env[ENV_PORTS] = f"{ports[0]}-{ports[-1]}"
            acquired.service_ports = tuple(range(first + project.isolation.ports, first + size))
    except BaseException:
        acquired.release()
        raise
    acquired.resources = dataclasses.replace(
        acquired.resources,
        hashseed=environ.get("PYTHONHASHSEED", ""),
        dirs=dirs,
        ports=ports,
        env=env,
    )
    return acquired


def _custom_services(project: Project, suite: Suite, scope: str) -> list[UserService]:
    """The suite's services of the project's own that run once per ``scope``."""
    found = (project.custom_service(name) for name in suite.custom_services)
    return [service for service in found if service.scope == scope]


def start_services(
    acquired: Acquired, project: Project, suite: Suite, environ: Mapping[str, str]
) -> None:
    """Start the worker's instances of the suite's services of the project's own.

    Apart from :func:`acquire`, so that a worker whose instance does not start keeps the
    resources it got (its database, its folders): the caller can tell the run why, while
    nothing of the worker's reaches the shared servers. Their variables join the worker's
    resources; their stops join its releases.

    Raises:
        ServiceError: An instance could not be started (its stop is already a release).
    """
    own = _custom_services(project, suite, "worker")
    if not own:
        return
    resources = acquired.resources
    env = dict(resources.env)
    given = _start_custom(
        project,
        own,
        acquired.service_ports[0],
        worker=resources.worker,
        run_id=resources.run_id,
        suite=suite,
        environ={**environ, **env},
        env=env,
        releases=acquired._releases,  # noqa: SLF001 - the dataclass's own module
    )
    acquired.resources = dataclasses.replace(resources, env=env, given={**resources.given, **given})


def _start_custom(
    project: Project,
    own: list[UserService],
    first_port: int,
    *,
    worker: str,
    run_id: str,
    suite: Suite,
    environ: Mapping[str, str],
    env: dict[str, str],
    releases: list[Callable[[], None]],
) -> dict[str, str]:
    """Start an instance of each of ``own``, on consecutive ports from ``first_port``.

    Each instance's stop joins ``releases`` the moment it runs; its variables join ``env``. A
    port that already accepts connections (a program outside suitekit took it since the block
    was locked) is left for a port of a block of its own: an instance started there would fail
    to listen while the other program answered its readiness check.

    Returns:
        What each service gave, by name (``127.0.0.1:<port>``), for the worker's line.
    """
    given: dict[str, str] = {}
    for offset, service in enumerate(own):
        port = first_port + offset
        if _ports.accepting(port):
            spare = _ports.take(1, f"{run_id}/{suite.name}/{worker}/{service.name}")
            releases.append(spare.close)
            port = spare.first
        running = _custom.start(
            service,
            port=port,
            worker=worker,
            run_id=run_id,
            suite=suite.name,
            root=project.root,
            environ={**environ, **env},
            on_start=releases.append,
        )
        env.update(running.env)
        given[service.name] = f"{_custom.HOST}:{port}"
    return given


@contextlib.contextmanager
def run_services(
    project: Project, suite: Suite, environ: Mapping[str, str]
) -> Iterator[dict[str, str]]:
    """The suite's services of the project's own with ``scope = "run"``: one instance each.

    The controller (or the only process) starts them once its run id is fixed and before any
    worker starts, and yields their variables for every worker; they stop when the block ends.

    Raises:
        ServiceError: An instance could not be started (those started so far are stopped).
    """
    shared = _custom_services(project, suite, "run")
    if not shared:
        yield {}
        return
    run_id = environ.get(ENV_RUN_ID) or _naming.new_run_id()
    releases: list[Callable[[], None]] = []
    stops = Acquired(
        WorkerResources(run_id=run_id, suite=suite.name, worker="run", hashseed=""), releases
    )
    try:
        env: dict[str, str] = {}
        block = _ports.take(len(shared), f"{run_id}/{suite.name}/run")
        releases.append(block.close)
        _start_custom(
            project,
            shared,
            block.first,
            worker="run",
            run_id=run_id,
            suite=suite,
            environ=environ,
            env=env,
            releases=releases,
        )
        yield env
    finally:
        stops.release()


@contextlib.contextmanager
def check_resources(
    project: Project, check: Check, environ: Mapping[str, str]
) -> Iterator[dict[str, str]]:
    """A check's services: a fresh empty database, a leased Redis database; removed after.

    The migrations check runs its commands here: upgrade, check, downgrade on a database that
    nothing else has touched.
    """
    run_id = environ.get(ENV_RUN_ID) or _naming.new_run_id()
    env: dict[str, str] = {ENV_RUN_ID: run_id}
    with contextlib.ExitStack() as stack:
        for backend in _backends(check.services):
            url = _provided(environ, backend)
            env.update(
                backend.acquire_for_check(project, check, run_id=run_id, url=url, stack=stack)
            )
        yield env
