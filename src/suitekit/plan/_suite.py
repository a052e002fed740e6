"""What a suite's pytest run gets: its argv, coverage, environment, hash seed and time limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from suitekit import _handoff
from suitekit._model import (
    DEADLINE_FACTOR,
    DEADLINE_FLOOR,
    DEFAULT_TIMEOUT,
    Project,
    Source,
    Sourced,
    Suite,
)
from suitekit.plan._sessions import junit_path
from suitekit.plan._workers import chooses_workers

if TYPE_CHECKING:
    from suitekit.config import RunOptions
    from suitekit.sharding import ShardSpec

__all__ = [
    "PYTEST",
    "RUN_LOG_OPTION",
    "fixed_hashseed",
    "hashseed",
    "measured",
    "measures_coverage",
    "probing",
    "session_deadline",
    "suite_env",
    "suite_pytest_args",
    "test_timeout",
]


def test_timeout(
    suite: Suite, *, option: float | None, environ: Mapping[str, str], ini: str
) -> Sourced[float] | None:
    """The per-test timeout suitekit gives pytest-timeout in a suite run; ``None``: the user's.

    A timeout the user gives pytest-timeout directly wins over the suite's, as pytest-timeout
    ranks them: ``--timeout`` (``option``), then ``PYTEST_TIMEOUT``, then the ``timeout`` ini
    setting; a ``@pytest.mark.timeout`` on a test wins over all of them. Only when none is given
    does the suite's ``timeout`` (default :data:`~suitekit._model.DEFAULT_TIMEOUT`) apply;
    ``0`` means no timeout.
    """
    if option is not None or environ.get("PYTEST_TIMEOUT", "").strip() or ini.strip():
        return None
    return Sourced(
        value=suite.timeout,
        source=Source.DEFAULT if suite.timeout == DEFAULT_TIMEOUT else Source.CONFIG,
        origin=f"suites.{suite.name}.timeout",
    )


def session_deadline(suite: Suite) -> Sourced[float]:
    """How long a suite's pytest session may run before suitekit stops it; ``0``: no limit.

    The suite's ``deadline`` when it sets one; else :data:`~suitekit._model.DEADLINE_FACTOR`
    times its ``target-seconds``, but never less than :data:`~suitekit._model.DEADLINE_FLOOR`.
    The per-test timeout names a hung test; the deadline is for what it cannot see: a hang in
    collection, in a session fixture, in xdist, or in a test whose timeout is off.
    """
    origin = f"suites.{suite.name}.deadline"
    if suite.deadline is not None:
        return Sourced(value=suite.deadline, source=Source.CONFIG, origin=origin)
    budget = DEADLINE_FACTOR * (suite.target_seconds or 0.0)
    return Sourced(value=float(max(budget, DEADLINE_FLOOR)), source=Source.DEFAULT, origin=origin)


def suite_pytest_args(
    project: Project,
    suite: Suite,
    *,
    python: str,
    workers: int | Literal["auto"],
    posargs: Sequence[str] = (),
    shard: ShardSpec | None = None,
) -> tuple[str, ...]:
    """The pytest command line of a suite session, without the leading ``pytest``.

    The suite's own selection (paths and marker) is applied by the pytest plugin from
    ``--suitekit-suite``, so that paths given in ``posargs`` narrow the suite instead of adding
    to it.
    """
    junit = junit_path(project, suite, python, shard).relative_to(project.root)
    args = [*_handoff.PluginArgs(suite=suite.name).to_argv()]
    if not chooses_workers(posargs):
        # "auto": the pytest plugin decides after collection (pytest_xdist_auto_num_workers).
        args += ["-n", str(workers)]
        if workers == "auto" or workers > 0:
            args += ["--dist", suite.dist]
    args += [
        f"--junitxml={junit.as_posix()}",
        "-o",
        f"junit_suite_name={suite.name}",
        *suite.pytest_args,
        *posargs,
    ]
    return tuple(args)


RUN_LOG_OPTION: Final = _handoff.OPT_RUN_LOG
"""The pytest option that makes a suite run a probe of ``suitekit flaky``."""


def probing(posargs: Sequence[str]) -> bool:
    """Whether a suite session is one of ``suitekit flaky``'s runs (it writes a run log).

    Such a run measures no coverage and leaves the suite's own reports alone: its JUnit file
    goes elsewhere, and the suite's coverage data and shard reports from the last real run must
    survive it.
    """
    return any(arg == RUN_LOG_OPTION or arg.startswith(f"{RUN_LOG_OPTION}=") for arg in posargs)


def fixed_hashseed(project: Project, environ: Mapping[str, str]) -> str | None:
    """The ``PYTHONHASHSEED`` the environment or the config fixes; ``None`` when neither does."""
    given = environ.get("PYTHONHASHSEED", "")
    if given and given != "random":
        return given
    if project.isolation.hashseed is not None:
        return str(project.isolation.hashseed)
    return None


def hashseed(project: Project, environ: Mapping[str, str]) -> str:
    """The run's ``PYTHONHASHSEED``: the environment's, else the config's, else a random one.

    One seed for every process of a run makes xdist workers collect the same tests (a set in a
    parametrize would otherwise be ordered differently in each) and lets a failure be replayed.
    """
    fixed = fixed_hashseed(project, environ)
    if fixed is not None:
        return fixed
    import secrets  # noqa: PLC0415 - hmac and OpenSSL load for this one number

    return str(secrets.randbelow(2**32))


def measures_coverage(
    project: Project, suite: Suite, options: RunOptions, posargs: Sequence[str] = ()
) -> bool:
    """Whether a suite session runs under coverage.

    Only when the project names a ``source``, the suite keeps ``coverage = true`` (the
    default), the run did not turn coverage off (``SUITEKIT_COVERAGE=0``), and the session is
    not one of ``suitekit flaky``'s probes (see :func:`probing`).
    """
    return (
        bool(project.source) and suite.coverage and options.coverage.value and not probing(posargs)
    )


PYTEST: Final = ("python", "-m", "pytest")
"""How every session starts pytest (suites and the partition guard): ``python -m pytest``.

Run from the project root, it puts the root first on ``sys.path``, as ``coverage run -m pytest``
(a suite measuring coverage) always did: a project whose tests import its own top-level
modules or packages (a flat layout, Django's ``manage.py`` layout with its settings package)
runs without ``PYTHONPATH``, and the same whether coverage is on or off. The bare ``pytest``
script puts its own folder there instead, and the root only when pytest imports a rootdir
``conftest.py`` or a test package (``prepend`` import mode): too late for a plugin that imports
the project's code at start-up, as pytest-django does with its settings module.
The cost is runpy's: a few milliseconds of start-up, within noise (docs/reports.md).
"""


def measured(command: Sequence[str], rcfile: Path | None) -> tuple[str, ...]:
    """``python -m pytest ...``, run under coverage with suitekit's configuration when given.

    Both forms put the project root first on ``sys.path`` (see :data:`PYTEST`).
    """
    if rcfile is None:
        return (*PYTEST, *command)
    return ("coverage", "run", f"--rcfile={rcfile}", "-m", "pytest", *command)


def suite_env(project: Project, suite: Suite) -> dict[str, str]:
    """The variables a suite's pytest run gets from the config: the project's, then its own.

    The suite's ``env`` wins over the project-wide ``env``; what suitekit sets itself (the
    hash seed, the services' variables, the ``dirs``) wins over both, where the session adds it.
    """
    return {**project.env, **suite.env}
