"""The nox adapter: one call in a noxfile gives a session per suite and per check.

Usage, in the project's ``noxfile.py``::

    import suitekit.nox

    suitekit.nox.register()

This is the only module of suitekit that imports nox. It holds no policy: which sessions exist,
what they are called and which pytest command a suite runs all come from :mod:`suitekit.plan`.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlparse

import nox

from suitekit import plan, services, sharding
from suitekit._model import Check, InstallSpec, Project, Suite
from suitekit.config import load_project
from suitekit.errors import SuitekitError
from suitekit.reporting._coverage import session_key, write_rcfile

__all__ = ["register", "suitekit_requirement"]

_NOX_BACKEND_DEFAULT: Final = "virtualenv"
_NOX_REUSE_DEFAULT: Final = "no"


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
    _install(session, project, suite.install, with_suitekit=True)
    options = plan.RunOptions.from_env(os.environ)
    shard = sharding.shard_from(session.posargs, os.environ)
    spec = shard.value if shard is not None else None
    evidence = None
    if not plan.chooses_workers(session.posargs):
        evidence = _evidence(session, project, suite, options, spec)
    workers = plan.resolve_workers(suite, options, evidence)
    # Worker counts given after `--` win over the plan's (which then leaves -n out).
    origin = "command line" if plan.chooses_workers(session.posargs) else workers.origin
    python = str(session.python)
    args = plan.suite_pytest_args(
        project, suite, python=python, workers=workers.value, posargs=session.posargs, shard=spec
    )
    probe = plan.probing(session.posargs)
    if not probe:
        _drop_other_splits(plan.junit_path(project, suite, python, spec))
    rcfile = write_rcfile(project, suite.name, python) if project.source and not probe else None
    if rcfile is not None:
        # This session's data from an earlier run would otherwise be combined with today's.
        for stale in rcfile.parent.glob(f".coverage.{session_key(suite.name, python)}.*"):
            stale.unlink()
    env = {
        **suite.env,
        "SUITEKIT_WORKERS_ORIGIN": origin,
        "PYTHONHASHSEED": plan.hashseed(project, os.environ),
    }
    if run_id := os.environ.get("SUITEKIT_RUN_ID"):
        # One run id for a whole CI job: its Python versions of a suite may run at once, and
        # resources are named by run, suite and worker.
        env["SUITEKIT_RUN_ID"] = f"{run_id}-py{python}"
    with services.provide(project, suite.services, os.environ, say=session.log) as provided:
        session.run(*plan.measured(args, rcfile), env={**env, **provided})


def _drop_other_splits(junit: Path) -> None:
    """Remove this session's reports of another split (whole suite or other shard count).

    The report merges every file in the folder and expects every shard of a split it sees: a
    whole-suite report beside this run's shards would count tests twice, and shards of another
    count would be reported missing. Shards of the same count are kept: they are this split's.
    """
    session = junit.stem.split(".shard-", 1)[0]
    mine = sharding.split_of(junit.stem, session)
    for path in junit.parent.glob(f"{session}*.xml"):
        theirs = sharding.split_of(path.stem, session)  # None: unit-3.11 seen from unit-3.1
        if theirs is not None and theirs != mine:
            path.unlink(missing_ok=True)
            path.with_suffix(".measured.json").unlink(missing_ok=True)


def _evidence(
    session: nox.Session,
    project: Project,
    suite: Suite,
    options: plan.RunOptions,
    shard: sharding.ShardSpec | None,
) -> plan.Evidence | None:
    """The recorded durations and machine costs that ``workers = "auto"`` decides from.

    ``None`` (fill the CPU budget) when the worker count is not "auto", there is a single CPU,
    or the suite has no recorded durations. The machine's costs are measured once, in the
    session's own virtualenv (its pytest and xdist), and cached.
    """
    if not plan.wants_evidence(suite, options):
        return None
    stored = sharding.DurationStore.load(project.root / sharding.DURATIONS_FILE)
    if not stored.suites.get(suite.name):
        return None
    output = session.run("python", "-m", "suitekit.sharding._calibrate", silent=True, log=False)
    try:
        calibration = sharding.Calibration.from_json(str(output).strip().splitlines()[-1])
    except (ValueError, IndexError):
        session.warn(f"suitekit: no machine calibration ({output!r}); filling the CPU budget")
        return None
    return plan.Evidence(stored=stored.suites[suite.name], calibration=calibration, shard=shard)


def _run_check(session: nox.Session, project: Project, check: Check) -> None:
    _install(session, project, check.install, with_suitekit=False)
    with services.provide(project, check.services, os.environ, say=session.log) as provided:
        environ = {**os.environ, **provided}
        with services.check_resources(project, check, environ) as resources:
            env = {**check.env, **provided, **resources}
            for command in check.run:
                session.run(*shlex.split(command), *session.posargs, env=env)


def _run_partition(session: nox.Session, project: Project) -> None:
    _install(session, project, project.install, with_suitekit=True)
    needed = plan.collection_suite(project).services
    with services.provide(project, needed, os.environ, say=session.log) as provided:
        session.run(
            "pytest", "--suitekit-partition", "-n", "0", "-q", *session.posargs, env=provided
        )


def _install(
    session: nox.Session, project: Project, spec: InstallSpec, *, with_suitekit: bool
) -> None:
    """Install what ``spec`` says, in one resolver pass."""
    args: list[str] = []
    if spec.project:
        extras = f"[{','.join(spec.extras)}]" if spec.extras else ""
        target = f"{project.root}{extras}"
        args += ["-e", target] if spec.editable else [target]
    if spec.groups:
        pyproject = nox.project.load_toml(str(project.config_file))
        args += nox.project.dependency_groups(pyproject, *spec.groups)
    for requirement in spec.requirements:
        args += ["-r", str(project.root / requirement)]
    args += spec.packages
    if with_suitekit:
        args += suitekit_requirement()
    if args:
        session.install(*args)


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
