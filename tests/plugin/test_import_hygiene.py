"""What importing suitekit's entry points imports (STYLE rule 9: one library, one module).

The pytest plugin imports neither nox nor invoke. And since every ``suitekit`` command, every
``nox`` start (which imports the noxfile) and every xdist worker (which imports the plugin) pays
for what these modules import, none of them imports a library or a suitekit module that only
some commands or runs use: those are imported where they are used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import pytest

ADAPTER_LIBRARIES = ("nox", "invoke")

HEAVY_LIBRARIES: Final = ("coverage", "psycopg", "redis", "junitparser")
"""Imported only inside the functions that measure coverage, talk to a server or read JUnit."""

COMMAND_MODULES: Final = (
    "suitekit._runner",
    "suitekit.ci._generate",
    "suitekit.flaky._finder",
    "suitekit.reporting._merge",
    "suitekit.services._clean",
    "suitekit.services._throwaway",
)
"""What only some ``suitekit`` commands run: running jobs, CI files, flaky runs, reports, clean."""

SUITE_RUN_EXTRAS: Final = (
    "suitekit.reporting._runlog",
    "suitekit.reporting._attempts",
    "suitekit.sharding._durations",
    "xml.etree.ElementTree",
)
"""What a suite run's controller loads in its hooks (the ledger, run logs, the durations store)."""


def _unmeasured() -> dict[str, str]:
    """This environment without coverage.py's: under ``patch = subprocess`` (as this repo's
    suite sessions run) a Python subprocess would start coverage, which imports its own
    libraries before the code under test runs."""
    return {key: value for key, value in os.environ.items() if not key.startswith("COVERAGE_")}


def _imported(code: str, names: Sequence[str]) -> list[str]:
    """Which of ``names`` are in ``sys.modules`` after a fresh interpreter runs ``code``."""
    report = f"print(json.dumps(sorted(set({list(names)!r}) & set(sys.modules))))"
    script = f"{code}\nimport json, sys\n{report}"
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=_unmeasured(),
    )
    assert completed.returncode == 0, completed.stderr
    found: list[str] = json.loads(completed.stdout.splitlines()[-1])
    return found


# A conftest for the test project: at the very end of the session, after every suitekit hook has
# run, no adapter library may have been imported.
CHECKING_CONFTEST = f"""
import sys

import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    imported = sorted(name for name in {ADAPTER_LIBRARIES!r} if name in sys.modules)
    assert not imported, f"the suitekit plugin imported {{imported}}"
    print("\\nadapter libraries imported: none")
"""


def test_importing_the_plugin_imports_no_adapter_library() -> None:
    assert _imported("import suitekit.pytest_plugin", ADAPTER_LIBRARIES) == []


@pytest.mark.parametrize(
    "workers", [pytest.param([], id="no-xdist"), pytest.param(["-n", "2"], id="xdist")]
)
def test_a_suite_run_imports_no_adapter_library(
    project: pytest.Pytester, workers: list[str]
) -> None:
    project.makeconftest(CHECKING_CONFTEST)

    result = project.runpytest_subprocess("--suitekit-suite=unit", "-s", *workers)

    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["adapter libraries imported: none"])
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


def test_importing_the_plugin_imports_no_heavy_library_and_no_suite_run_extra() -> None:
    # An xdist worker imports the plugin and never needs these.
    names = (*HEAVY_LIBRARIES, *COMMAND_MODULES, *SUITE_RUN_EXTRAS)

    assert _imported("import suitekit.pytest_plugin", names) == []


def test_importing_the_cli_imports_no_library_and_no_command() -> None:
    names = (*ADAPTER_LIBRARIES, *HEAVY_LIBRARIES, *COMMAND_MODULES, *SUITE_RUN_EXTRAS)

    assert _imported("import suitekit._cli", names) == []


def test_cli_help_reads_no_configuration() -> None:
    code = (
        "import contextlib, io\n"
        "from suitekit._cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])\n"
    )
    names = ("suitekit._model", "suitekit.config", "suitekit.plan", "tomllib")

    assert _imported(code, (*names, *HEAVY_LIBRARIES, *COMMAND_MODULES)) == []


def test_importing_suitekit_loads_its_re_exports_on_first_use() -> None:
    assert _imported("import suitekit", ("suitekit._model", "suitekit.config")) == []
    assert _imported("from suitekit import Project", ("suitekit._model",)) == ["suitekit._model"]


def test_importing_the_nox_adapter_imports_no_other_adapter_and_no_command() -> None:
    # Every nox start imports the noxfile, and with it this module.
    names = ("invoke", *HEAVY_LIBRARIES, *COMMAND_MODULES, *SUITE_RUN_EXTRAS)

    assert _imported("import suitekit.nox", names) == []


SERVICE_BACKENDS: Final = (
    "suitekit.services._backend",
    "suitekit.services._backend_base",
    "suitekit.services._database_backend",
    "suitekit.services._databases",
    "suitekit.services._endpoints",
    "suitekit.services._mysql",
    "suitekit.services._mysql_backend",
    "suitekit.services._postgres",
    "suitekit.services._postgres_backend",
    "suitekit.services._redis",
    "suitekit.services._redis_backend",
)
"""What checks, starts and talks to the servers: loaded only once a run checks or starts one."""


def test_a_session_without_services_loads_no_service_backend(tmp_path: Path) -> None:
    # Every nox session goes through services.provide, also a suite's or check's without
    # services; the server variables' names come from the services' data alone.
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.suitekit.suites.unit]\npaths = ["tests"]\n')
    load = (
        "from pathlib import Path\n"
        "from suitekit import services\n"
        "from suitekit.config import load_project\n"
        f"project = load_project(Path({str(tmp_path)!r}))\n"
    )
    without = (
        "with services.provide(project, (), {}) as provided:\n"
        "    assert provided == {}, provided\n"
        "assert services.PROVIDED_URL['postgres'] == 'SUITEKIT_POSTGRES_URL'\n"
        "from suitekit.services._provide import server_urls\n"
        "assert server_urls(project, {'REDIS_URL': 'redis://h:1/0'})['redis']\n"
    )
    # A server named by URL is checked to answer: that loads the backends (so would a start).
    checked = (
        "import contextlib\n"
        "from suitekit.errors import ServiceError\n"
        "with contextlib.suppress(ServiceError):\n"
        "    with services.provide(project, ('redis',), {'REDIS_URL': 'redis://127.0.0.1:1/0'}):\n"
        "        raise AssertionError('nothing answers on port 1')\n"
    )

    assert _imported(load + without, SERVICE_BACKENDS) == []
    loaded = _imported(load + checked, SERVICE_BACKENDS)
    assert {"suitekit.services._backend", "suitekit.services._redis_backend"} <= set(loaded)


# Which of suitekit's modules pytest's assert rewriter loaded: in the controller at the end of
# its session, and in the process that runs the tests (an xdist worker with -n 2). The package,
# the plugin's package and what they import are loaded before the plugin can say anything.
REWRITTEN = """
import sys

EARLY = {
    "suitekit._lazy", "suitekit.errors", "suitekit.pytest_plugin", "suitekit.pytest_plugin._rewrite"
}


def rewritten():
    return sorted(
        name for name, module in list(sys.modules.items())
        if name.startswith("suitekit.") and name not in EARLY
        and type(getattr(module, "__loader__", None)).__name__ == "AssertionRewritingHook"
    )
"""

REWRITE_CONFTEST = f"""
import pytest
{REWRITTEN}

@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    print(f"\\nrewritten suitekit modules: {{rewritten()}}")
"""

REWRITE_TEST = f"""
{REWRITTEN}

def test_suitekits_modules_are_plain_python_here():
    assert rewritten() == []


def test_a_tests_assert_is_rewritten():
    x = 1
    assert x == 2
"""


@pytest.mark.parametrize(
    "workers", [pytest.param([], id="no-xdist"), pytest.param(["-n", "2"], id="xdist")]
)
def test_pytest_rewrites_the_tests_asserts_but_not_suitekits_modules(
    project: pytest.Pytester, workers: list[str]
) -> None:
    # Rewriting costs ~0.1 s of CPU per process (see suitekit/pytest_plugin/_rewrite.py).
    project.makeconftest(REWRITE_CONFTEST)
    project.makepyfile(**{"tests/unit/test_rewrite": REWRITE_TEST})

    result = project.runpytest_subprocess("--suitekit-suite=unit", "-s", *workers)

    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.assert_outcomes(passed=4, failed=1)
    # The test module is rewritten as before: its failed assert shows the values.
    result.stdout.fnmatch_lines(["*assert 1 == 2*"])
    result.stdout.fnmatch_lines(["rewritten suitekit modules: []"])
