"""The nox adapter: one call in a noxfile gives a session per suite and per check.

Usage, in the project's ``noxfile.py``::

    import suitekit.nox

    suitekit.nox.register()

This is the only module of suitekit that imports nox. It holds no policy: which sessions exist,
what they are called, and what a suite session runs (its pytest command, variables, stale
files, shard) all come from :mod:`suitekit.plan`; this module carries them out.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlparse

import nox
from nox.command import CommandFailed

from suitekit import _handoff, _install, _warm, plan, services
from suitekit._files import ensure_writable, write_text_atomic
from suitekit._layout import EMPTY_JUNIT
from suitekit._model import Check, InstallSpec, Project, Suite
from suitekit.config import load_project
from suitekit.errors import SuitekitError
from suitekit.reporting import write_rcfile

__all__ = ["register", "suitekit_requirement"]

_NOX_BACKEND_DEFAULT: Final = "virtualenv"
_NOX_REUSE_DEFAULT: Final = "no"
# On Ctrl-C nox gives the command 0.3 s, then SIGTERM and 0.2 s, then SIGKILL: too little for a
# pytest run to stop its xdist workers and drop its databases, which a kill leaves behind. So
# pytest gets the time its own cleanup takes (seconds; bounded by its session deadline too),
# and nox's kill stays the last resort.
_PYTEST_INTERRUPT_SECONDS: Final = 60.0
_PYTEST_TERMINATE_SECONDS: Final = 10.0


def register(root: Path | str | None = None) -> Project:
    """Register a nox session for every suite, every check and the partition guard.

    Also makes uv the default virtualenv backend (falling back to virtualenv where uv is
    missing) and reuses existing virtualenvs, unless the noxfile or the command line chose
    otherwise. A malformed declaration stops nox with suitekit's error message and exit code 2.

    Args:
        root: The project folder or its pyproject.toml; the noxfile's folder by default (nox
            runs noxfiles from their own folder).

    Returns:
        The project, for noxfiles that want to add sessions of their own from it.
    """
    try:
        project = load_project(Path(root) if root is not None else None)
    except SuitekitError as error:
        print(f"nox: suitekit: {error}", file=sys.stderr)  # noqa: T201 - nox has no error API at load time
        raise SystemExit(2) from None
    if nox.options.default_venv_backend == _NOX_BACKEND_DEFAULT:
        nox.options.default_venv_backend = "uv|virtualenv"
    if nox.options.reuse_venv == _NOX_REUSE_DEFAULT:
        nox.options.reuse_venv = "yes"
    for spec in plan.sessions(project):
        body = _session_body(project, spec)
        body.__doc__ = spec.description
        body.__name__ = spec.name.replace("-", "_")
        python: str | list[str] = spec.python if isinstance(spec.python, str) else list(spec.python)
        nox.session(name=spec.name, python=python, tags=list(spec.tags))(body)
    return project


def _session_body(project: Project, spec: plan.SessionSpec) -> Callable[[nox.Session], None]:
    if spec.kind == "suite":
        suite = project.suite(spec.name)
        return lambda session: _guard(session, lambda: _run_suite(session, project, suite))
    if spec.kind == "check":
        check = project.check(spec.name)
        return lambda session: _guard(session, lambda: _run_check(session, project, check))
    if spec.kind in ("report", "coverage"):
        return lambda session: _guard(session, lambda: _run_reporting(session, spec.kind))
    return lambda session: _guard(session, lambda: _run_partition(session, project))


def _run_reporting(session: nox.Session, kind: str) -> None:
    """``suitekit report`` / ``suitekit coverage`` with suitekit alone installed."""
    session.install(*suitekit_requirement())
    session.run("suitekit", kind, *session.posargs)


def _guard(session: nox.Session, body: Callable[[], None]) -> None:
    """Turn suitekit's errors into nox's session errors (exit code at the edge)."""
    try:
        body()
    except SuitekitError as error:
        session.error(str(error))


def _run_suite(session: nox.Session, project: Project, suite: Suite) -> None:
    """Carry out :func:`suitekit.plan.suite_session` with nox's session API."""
    if suite.runner.kind != "pytest":
        _run_external(session, project, suite)
        return
    python = str(session.python)
    # First, before any install: pytest would otherwise fail on the JUnit file at its very end.
    ensure_writable(plan.suite_folders(project, suite, python))
    installed = _provision(
        session, project, suite.install, with_suitekit=True, owner=_suite_key(suite)
    )
    if _installing_only(session):
        return  # no servers for a pytest that will not run, and no reports dropped either
    _remember(session, project, suite.install, installed)
    run = plan.suite_session(
        project, suite, python=python, posargs=session.posargs, environ=os.environ
    )
    for sweep in run.sweeps:
        for path in sweep.stale(sweep.folder.glob(sweep.pattern)):
            path.unlink(missing_ok=True)
    rcfile = write_rcfile(project, suite.name, python) if run.coverage else None
    started = time.time()
    try:
        _run_tests(session, project, suite, run.command(rcfile), run.env)
    finally:
        if run.records_durations:
            _record_durations(session, project, run.junit, started)


def _run_external(session: nox.Session, project: Project, suite: Suite) -> None:
    """Carry out :func:`suitekit.plan.external_session`: install, list and split, run."""
    python = str(session.python)
    run = plan.external_session(
        project, suite, python=python, posargs=session.posargs, environ=os.environ
    )
    ensure_writable((run.junit.parent,))
    if not run.cwd.is_dir():
        key = f"tool.suitekit.suites.{suite.name}.cwd"
        session.error(f"suitekit: {key}: {run.cwd} is not a folder")
    _provision_external(session, project, run)
    with session.chdir(run.cwd), _sharing_folder(project, run.cwd) as lock:
        _install_runner(session, run, lock)
        if _installing_only(session):
            return
        for sweep in run.sweeps:
            for path in sweep.stale(sweep.folder.glob(sweep.pattern)):
                path.unlink(missing_ok=True)
        files = _split(session, project, run)
        if files == ():
            session.log("suitekit: this shard got no test file: nothing to run")
            write_text_atomic(run.junit, EMPTY_JUNIT)
            return
        started = time.time()
        written = run.files_to_write()
        for path, text in written.items():
            write_text_atomic(path, text)
        failed: CommandFailed | None = None
        try:
            _run_tests(
                session,
                project,
                suite,
                run.command(files),
                run.env,
                external=True,
                backends=run.backends,
            )
        except CommandFailed as error:
            failed = error  # judged with the suite's quarantine, once its report is retitled
        finally:
            for path in written:
                path.unlink(missing_ok=True)
            _retitle(session, run.junit, suite.name, started)
            if run.records_durations:
                _record_durations(session, project, run.junit, started)
        _judge_quarantine(session, project, run, failed, started)
        _record_listing(session, project, run)


@contextlib.contextmanager
def _sharing_folder(project: Project, folder: Path) -> Iterator[int]:
    """A shared lock on the runner's folder for the session; an install takes it exclusively.

    Suites (or shards) of a parallel run may share one folder and its node_modules: ``npm ci``
    deletes node_modules first, so it must neither run twice at once nor under a running
    Vitest. The lock file is the user's own (0600, in the project's .suitekit folder, opened
    without following a link).
    """
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    lock = project.root / ".suitekit" / "locks" / f"runner-{digest}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH)
        yield descriptor
    finally:
        os.close(descriptor)  # closing releases the lock


def _install_runner(session: nox.Session, run: plan.ExternalSession, lock: int) -> None:
    """The runner's dependencies (``npm ci``), unless its lock files are as at the last install."""

    def due() -> tuple[tuple[str, ...], str] | None:
        locks = {
            name: (run.cwd / name).read_bytes()
            for name in run.runner.lock_files
            if (run.cwd / name).is_file()
        }
        marker = run.cwd / run.runner.install_marker
        try:
            current = marker.read_text(encoding="utf-8")
        except OSError:
            current = ""
        return run.install(locks, current, forced=_install.forced(os.environ))

    if due() is None:
        session.log(f"suitekit: the dependencies in {run.cwd} are as at their last install")
        return
    # Exclusive for the install: flock drops the shared lock first, so two sessions that
    # both found an install due do not wait on each other; the second finds it done.
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        step = due()
        if step is not None:
            command, wanted = step
            session.run(*command, external=True)
            write_text_atomic(run.cwd / run.runner.install_marker, wanted + "\n")
    finally:
        fcntl.flock(lock, fcntl.LOCK_SH)


def _retitle(session: nox.Session, junit: Path, suite: str, since: float) -> None:
    """Name the runner's test suites after the suite, as pytest's are (see retitle_junit)."""
    from suitekit.reporting import retitle_junit  # noqa: PLC0415 - at the end only

    try:
        if junit.stat().st_mtime >= since - 1:
            retitle_junit(junit, suite)
    except FileNotFoundError:
        return
    except SuitekitError as error:
        session.warn(f"suitekit: {error}")


_CUT_SHORT: Final = ("--fail-fast", "--max-fail", "--bail")
"""Options after ``--`` that stop a run at its first failures (nextest's, Vitest's, Jest's)."""


def _judge_quarantine(
    session: nox.Session,
    project: Project,
    run: plan.ExternalSession,
    failed: CommandFailed | None,
    since: float,
) -> None:
    """Apply the suite's quarantine to the report this run wrote; pass or fail the session by it.

    The rewrite and the verdict are :mod:`suitekit.reporting`'s (``quarantine_verdict``). A
    suite without quarantine entries fails as the runner's failed command, as before.
    """
    from suitekit import _quarantine  # noqa: PLC0415 - at the end only
    from suitekit.reporting import quarantine_junit, quarantine_verdict  # noqa: PLC0415

    entries = _quarantine.suite_entries(project.quarantine, run.suite.name)
    if not entries or (failed is not None and failed.return_code is None):
        if failed is not None:
            raise failed
        return
    cut = next((arg for arg in session.posargs if arg.startswith(_CUT_SHORT)), None)
    if failed is not None and cut is not None:
        # The runner's code for failed tests then also means "stopped early": the tests it
        # did not run are in no report, and a quarantined failure would pass them unseen.
        session.log(f"suitekit: {cut} may have stopped the run early: no quarantine passes it")
        raise failed
    report = None
    try:
        if run.junit.stat().st_mtime >= since - 1:
            report = quarantine_junit(run.junit, entries)
    except FileNotFoundError:
        pass
    except SuitekitError as error:
        session.warn(f"suitekit: {error}")
    problem = quarantine_verdict(
        report,
        runner=run.runner.name,
        exit_code=0 if failed is None or failed.return_code is None else failed.return_code,
        failure_codes=run.runner.failure_codes,
        whole=run.shard is None and not session.posargs,
        file=project.config_file,
        suite=run.suite.name,
    )
    if problem is not None:
        session.error(problem)
    if report is not None and report.quarantined:
        names = ", ".join(report.quarantined)
        session.log(f"suitekit: only quarantined tests failed ({names}): the suite passes")


def _listed(
    session: nox.Session,
    run: plan.ExternalSession,
    listing: Callable[[Path], Sequence[str] | None],
) -> str | None:
    """What a listing command of the runner wrote (into a file, or on its standard output).

    ``listing`` makes the command from the file it is to write; ``None``: the runner cannot
    list, and nothing runs.

    Raises:
        CommandFailed: The runner failed.
        OSError: Its output cannot be read.
    """
    with tempfile.TemporaryDirectory(prefix="suitekit-list-") as scratch:
        output = Path(scratch) / "files.json"
        command = listing(output)
        if command is None:
            return None
        if run.runner.lists_to_stdout:  # nextest prints it; its build goes to stderr
            with output.open("w", encoding="utf-8") as printed:
                session.run(*command, external=True, stdout=printed, stderr=None)
        else:
            session.run(*command, external=True, silent=True)
        return output.read_text(encoding="utf-8")


def _record_listing(session: nox.Session, project: Project, run: plan.ExternalSession) -> None:
    """For the partition guard of a whole run: the test files the suite runs and its folder's.

    Only where the run asks for records (``SUITEKIT_COLLECTIONS``) and the guard checks the
    suite (see :func:`suitekit._guard.listed_suites`). The runner lists every test file it
    finds in its folder, and then, unless they all lie under the suite's ``paths`` (see
    :meth:`~suitekit.plan.ExternalSession.paths_select_all`), those the ``paths`` select. A
    listing that fails is said, and the guard then says that it could not check the suite;
    the session still passes.
    """
    from suitekit import _guard  # noqa: PLC0415 - whole runs only

    records = os.environ.get(plan.ENV_COLLECTIONS)
    if not records or run.suite not in _guard.listed_suites(project):
        return
    try:
        whole = _listed(session, run, run.whole_list_command)
        if whole is None:
            return
        found = run.listed_units(whole, project.root)
        owned = found
        if not run.paths_select_all(found, project.root):
            own = _listed(session, run, run.list_command)
            owned = () if own is None else run.listed_units(own, project.root)
    except (CommandFailed, OSError, ValueError) as error:
        session.warn(
            f"suitekit: the test files could not be listed for the partition guard ({error})"
        )
        return
    record = _guard.runner_collection(run.suite.name, owned, found)
    write_text_atomic(Path(records) / f"{run.suite.name}.{os.getpid()}.json", record.to_json())


def _split(
    session: nox.Session, project: Project, run: plan.ExternalSession
) -> tuple[str, ...] | None:
    """A shard's files, split by recorded durations; ``None``: the runner's ``--shard`` splits."""
    from suitekit.sharding import DURATIONS_FILE, DurationStore  # noqa: PLC0415 - shards only

    stored = DurationStore.load(project.root / DURATIONS_FILE).suites.get(run.suite.name, {})
    if not run.splits(stored):
        return None
    try:
        listed = _listed(session, run, run.list_command)
        if listed is None:
            return None
        split = run.split(listed, stored)
    except (CommandFailed, OSError, ValueError) as error:
        session.warn(
            f"suitekit: the test files could not be listed ({error}); the runner's own "
            "--shard splits"
        )
        return None
    shard = f"{run.call.shard.index}/{run.call.shard.total}" if run.call.shard else "whole"
    session.log(f"suitekit: shard {shard}: {split.why}")
    return split.files


def _run_tests(
    session: nox.Session,
    project: Project,
    suite: Suite,
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    external: bool | None = None,
    backends: plan.Backends | None = None,
) -> None:
    """Run a suite's tests with its services provided, stopped gently on Ctrl-C.

    ``external``: as nox's (``None``, its default, for pytest in the session's virtualenv).
    ``backends``: a Playwright suite's backends, started (with the services' servers) before
    the tests and stopped after them.
    """
    with (
        services.provide(project, suite.services, os.environ, say=session.log) as provided,
        contextlib.ExitStack() as stack,
    ):
        if backends is not None:
            environ = {**os.environ, **provided, **_session_scripts(session)}
            urls = services.backends_started(project, suite, backends, environ, say=session.log)
            env = {**env, **stack.enter_context(urls)}
        session.run(
            *command,
            env={**env, **provided},
            external=external,
            interrupt_timeout=_PYTEST_INTERRUPT_SECONDS,
            terminate_timeout=_PYTEST_TERMINATE_SECONDS,
        )


def _provision_external(session: nox.Session, project: Project, run: plan.ExternalSession) -> None:
    """What a session of another runner needs in its virtualenv.

    A runner from PyPI (nextest); and for a suite with backends, the suite's own install: the
    application and the services' setup steps run from the session's virtualenv.
    """
    if run.runner.packages:
        spec = InstallSpec(project=False, packages=run.runner.packages)
        _provision(session, project, spec, with_suitekit=False, owner=_suite_key(run.suite))
    if run.backends is not None:
        _provision(
            session, project, run.suite.install, with_suitekit=False, owner=_suite_key(run.suite)
        )


def _session_scripts(session: nox.Session) -> dict[str, str]:
    """The variables that make a process started here use the session's virtualenv.

    The backends and the services' setup steps start in nox's own process; their ``python``,
    ``alembic`` or ``manage.py`` must be the session's, where the suite's install put them.
    """
    folder = getattr(session, "bin", None)
    if not isinstance(folder, str) or not folder:
        return {}
    path = os.pathsep.join([folder, os.environ.get("PATH", "")]).rstrip(os.pathsep)
    return {
        "PATH": path,
        "VIRTUAL_ENV": str(Path(folder).parent),
        _handoff.ENV_SCRIPTS: folder,
    }


def _installing_only(session: nox.Session) -> bool:
    """Whether nox runs with ``--install-only``: it then skips every ``session.run``.

    Services are provided around a ``session.run``; started for one that nox skips, a
    throwaway server costs its start-up and its stop for nothing. nox has no public flag for
    this mode, so it is read where ``session.run`` itself reads it (as of nox 2026.10);
    should that attribute go, the answer is ``False``: services are started as before.
    """
    runner = getattr(session, "_runner", None)
    config = getattr(runner, "global_config", None)
    return getattr(config, "install_only", False) is True


def _record_durations(session: nox.Session, project: Project, junit: Path, since: float) -> None:
    """Fold the durations of the JUnit file this run wrote into the store (see record_session).

    A failed run's figures count too (the report records them as well); a file this run did
    not write (pytest crashed, or nox ran nothing) is left out. A store that cannot be updated
    is a warning: the run's results are what matter here.
    """
    from suitekit.reporting import record_session  # noqa: PLC0415 - at the end only

    try:
        if junit.stat().st_mtime < since - 1:
            return
        record_session(project, junit)
    except FileNotFoundError:
        return
    except SuitekitError as error:
        session.warn(f"suitekit: durations not recorded: {error}")


def _run_check(session: nox.Session, project: Project, check: Check) -> None:
    owner = f"tool.suitekit.checks.{check.name}"
    installed = _provision(session, project, check.install, with_suitekit=False, owner=owner)
    if _installing_only(session):
        return
    _remember(session, project, check.install, installed)
    with services.provide(project, check.services, os.environ, say=session.log) as provided:
        environ = {**os.environ, **provided}
        with services.check_resources(project, check, environ) as resources:
            env = {**plan.check_env(project, check), **provided, **resources}
            for command in check.run:
                session.run(*shlex.split(command), *session.posargs, env=env)


def _run_partition(session: nox.Session, project: Project) -> None:
    _provision(session, project, project.install, with_suitekit=True, owner="tool.suitekit")
    if _installing_only(session):
        return
    collecting = plan.collection_suite(project)
    for line in plan.env_conflicts(project):
        session.log(f"suitekit: {line}")
    env = plan.suite_env(project, collecting)
    with services.provide(project, collecting.services, os.environ, say=session.log) as provided:
        session.run(
            *plan.PYTEST, _handoff.OPT_PARTITION, "-n", "0", "-q", *session.posargs,
            env={**env, **provided},
            interrupt_timeout=_PYTEST_INTERRUPT_SECONDS,
            terminate_timeout=_PYTEST_TERMINATE_SECONDS,
        )  # fmt: skip


def _remember(
    session: nox.Session, project: Project, spec: InstallSpec, installed: tuple[str, ...] | None
) -> None:
    """Record how this session runs its commands, for a runner to do the same without nox.

    Only for a virtualenv whose install is current and fingerprinted (see :mod:`suitekit._warm`);
    any other session forgets an older record, so that the runner starts it through nox.
    """
    virtualenv = session.virtualenv
    location = getattr(virtualenv, "location", None)
    noxfile = _warm.noxfile_digest(project)
    fingerprint = _install.fingerprint(project, spec, installed or ())
    if (
        installed is None
        or fingerprint is None
        or noxfile is None
        or not isinstance(location, str)
        or Path(location).absolute().parent != _warm.envdir(project)
        or session.venv_backend not in _SYNCABLE_BACKENDS
        or not _as_the_runner_runs_it(session, project)
    ):
        _warm.forget(project, session.name)
        return
    warm = _warm.Warm(
        root=project.root,
        session=session.name,
        python=str(session.python),
        venv=Path(location).absolute(),
        bin=tuple(str(Path(folder).absolute()) for folder in virtualenv.bin_paths or ()),
        venv_env=dict(virtualenv.env),
        spec=repr(spec),
        args=installed,
        fingerprint=fingerprint,
        noxfile=noxfile,
    )
    _warm.save(project, warm)


def _as_the_runner_runs_it(session: nox.Session, project: Project) -> bool:
    """Whether this nox runs the session as the runner's ``nox -s <session>`` would.

    The project's own noxfile, virtualenvs reused, no other backend forced: else the runner's
    next run would not be the session that this one is. (A session given another Python than
    its name says is refused where the record is used.) Read where nox keeps its command line,
    as :func:`_installing_only` does; without it, nothing is recorded.
    """
    config = getattr(getattr(session, "_runner", None), "global_config", None)
    noxfile = getattr(config, "noxfile", None)
    return (
        isinstance(noxfile, str)
        and Path(noxfile).absolute() == project.root / "noxfile.py"
        and getattr(config, "reuse_venv", None) in ("yes", "always")
        and getattr(config, "force_venv_backend", None) is None
    )


def _provision(
    session: nox.Session, project: Project, spec: InstallSpec, *, with_suitekit: bool, owner: str
) -> tuple[str, ...] | None:
    """Install what ``spec`` says, unless this virtualenv already has it.

    With a ``uv.lock`` at the root (and ``lock`` not off), ``uv sync --locked`` installs the
    project, groups and extras from it (see :func:`suitekit.plan.locked_sync`); the rest (the
    spec's requirement files and packages, and suitekit unless the lock pins it) follows in
    one ``session.install``. Without a lock, everything goes in that one resolver pass.

    The install is skipped when the fingerprint of everything it depends on (see
    :mod:`suitekit._install`) is the one recorded after the virtualenv's last install; the
    record is removed first and written again only once the install succeeded.

    ``owner``: the key path of the suite or check (``tool.suitekit`` for the project's own
    ``install``), for the error of an out-of-date lock.

    Returns the install's fingerprinted command and arguments once the virtualenv holds them
    (installed now or before), ``None`` when it may not (no virtualenv, ``--no-install``).
    """
    location = getattr(session.virtualenv, "location", None)
    venv = Path(location) if isinstance(location, str) and location else None
    sync = _install.locked(project, spec)
    if sync is not None and (venv is None or session.venv_backend not in _SYNCABLE_BACKENDS):
        session.warn(
            f"suitekit: {plan.LOCK_FILE} not used: uv sync cannot install into a "
            f"{session.venv_backend} environment; installing without it"
        )
        sync = None
    args = _install_args(project, spec, locked=sync is not None)
    if with_suitekit:
        args += _suitekit_args(session, sync)
    command = sync.command if sync is not None else ()
    installed = (*command, *args)
    if not installed:
        return installed if venv is not None else None
    wanted = _install.fingerprint(project, spec, installed) if venv is not None else None
    if venv is not None and not _install.forced(os.environ) and _install.is_current(venv, wanted):
        session.log(
            "suitekit: install unchanged since this virtualenv's last install; skipped "
            f"({plan.ENV_REINSTALL}=1 or `inv ... --reinstall` forces one)"
        )
        return installed
    if _not_installing(session):
        return None  # nox --no-install: nothing runs, so the record stays as it is
    if venv is not None:
        _install.forget(venv)
    _warm.forget(project, session.name)  # recorded again once the install succeeded
    if sync is not None and venv is not None:
        key = f"{owner}.install" if spec != project.install else "tool.suitekit.install"
        _sync(session, project, sync, venv, key)
    if args:
        session.install(*args)
    if venv is None:
        return None
    _install.record(venv, wanted)
    return installed


def _suitekit_args(session: nox.Session, sync: plan.LockedSync | None) -> list[str]:
    """How the session gets suitekit: nothing when the lock's sync installs the running one.

    The plugin in the session must be the suitekit that runs nox: they hand each other
    variables and options this version spells. A lock that pins another version is said, and
    the running one goes in after the sync (which is inexact, so it stays).
    """
    running = importlib.metadata.version("suitekit")
    if sync is not None and sync.suitekit == running:
        return []
    if sync is not None and sync.suitekit is not None:
        session.warn(
            f"suitekit: {plan.LOCK_FILE} pins suitekit {sync.suitekit}, and nox runs suitekit "
            f"{running}: the session gets {running} (fix: uv lock --upgrade-package suitekit, "
            "or run nox with the locked suitekit)"
        )
    return list(suitekit_requirement())


def _not_installing(session: nox.Session) -> bool:
    """Whether nox runs with ``--no-install`` in a reused virtualenv: its installs do nothing.

    Read where ``session.install`` reads it (as of nox 2026.10), as :func:`_installing_only`
    does; should the attributes go, the answer is ``False``: the install is recorded as before.
    """
    runner = getattr(session, "_runner", None)
    config = getattr(runner, "global_config", None)
    reused = getattr(getattr(runner, "venv", None), "_reused", False)
    return getattr(config, "no_install", False) is True and reused is True


# The backends whose environments are virtualenvs, which `uv sync` can install into.
_SYNCABLE_BACKENDS: Final = frozenset({"uv", "virtualenv", "venv"})


def _suite_key(suite: Suite) -> str:
    return f"tool.suitekit.suites.{suite.name}"


def _install_args(project: Project, spec: InstallSpec, *, locked: bool) -> list[str]:
    """The arguments of ``session.install`` for ``spec``; ``locked``: the sync did the rest."""
    args: list[str] = []
    if spec.project and not locked:
        extras = f"[{','.join(spec.extras)}]" if spec.extras else ""
        target = f"{project.root}{extras}"
        args += ["-e", target] if spec.editable else [target]
    if spec.groups and not locked:
        pyproject = nox.project.load_toml(str(project.config_file))
        args += nox.project.dependency_groups(pyproject, *spec.groups)
    for requirement in spec.requirements:
        args += ["-r", str(project.root / requirement)]
    args += spec.packages
    return args


def _sync(
    session: nox.Session, project: Project, sync: plan.LockedSync, venv: Path, key: str
) -> None:
    """Run ``uv sync --locked`` into the session's virtualenv; an out-of-date lock says the fix.

    uv's output is kept, as ``session.install`` keeps its installer's, and shown when the sync
    fails. nox's own uv backend sets the same two variables for the session (``uv`` finds the
    interpreter and the environment there); with the virtualenv backend only these point uv
    at the session's virtualenv instead of the project's ``.venv``.
    """
    found, uv, _ = nox.virtualenv.find_uv()
    if not found:
        session.error(
            f"suitekit: {project.config_file}: {key}: the project has {plan.LOCK_FILE}, and "
            "only uv installs from it; fix: install uv (`pip install uv`), or set "
            "install = { lock = false }"
        )
    env = {"UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON": str(venv)}
    with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
        try:
            # uv finds the project from the folder it runs in: nox's is the noxfile's.
            here = Path.cwd() == project.root
            with contextlib.nullcontext() if here else session.chdir(project.root):
                session.run_install(uv, *sync.command[1:], env=env, external=True, stdout=output)
        except CommandFailed:
            output.seek(0)
            printed = output.read()
            session.log(printed.rstrip())
            if plan.lock_outdated(printed):
                session.error(f"suitekit: {plan.outdated_lock_message(project.config_file, key)}")
            raise


def suitekit_requirement() -> Sequence[str]:
    """How to install, into a session, the very suitekit that runs nox.

    An editable checkout is installed editable (so a session always runs the checkout's code), a
    local folder or wheel from its path, anything else by its version from the index.
    """
    distribution = importlib.metadata.distribution("suitekit")
    direct = distribution.read_text("direct_url.json")
    if direct:
        info = json.loads(direct)
        url = str(info.get("url", ""))
        if url.startswith("file://"):
            path = unquote(urlparse(url).path)
            if info.get("dir_info", {}).get("editable"):
                return ("-e", path)
            return (path,)
        if url:
            return (f"suitekit @ {url}",)
    return (f"suitekit=={distribution.version}",)
