"""The pytest plugin imports neither nox nor invoke (STYLE rule 9: one library, one module)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

ADAPTER_LIBRARIES = ("nox", "invoke")

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
    code = (
        "import json, sys\n"
        "import suitekit.pytest_plugin\n"
        f"print(json.dumps(sorted(m for m in {ADAPTER_LIBRARIES!r} if m in sys.modules)))\n"
    )

    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == []


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
