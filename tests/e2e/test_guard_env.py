"""The partition guard collects as the suites do: with their ``env`` and the project's.

A conftest that reads a suite's ``env`` (or the project-wide ``env``) at import time, as a
Django project's does with ``DJANGO_SETTINGS_MODULE``, must import in the guard's collection
too; and a collection that crashes is reported as a crash, naming the real error, not as
"the suites do not partition the tests".
"""

from __future__ import annotations

from pathlib import Path

from suitekit import load_project, plan
from tests.e2e.helpers import Project, make_project

SUITES = """\
env = { DEMO_PROJECT = "yes" }

[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = 0
env = { DEMO_SETTINGS = "unit-settings" }

[tool.suitekit.suites.slow]
paths = ["tests/slow"]
marker = "slow"
workers = 0
"""

NEEDS_SETTINGS = """\
import os

# Read at import time, as a settings module is: without the suite's env the import fails.
if os.environ.get("DEMO_SETTINGS") != "unit-settings":
    raise ImportError("DEMO_SETTINGS is not configured")
if os.environ.get("DEMO_PROJECT") != "yes":
    raise ImportError("DEMO_PROJECT is not configured")
"""

NEEDS_PROJECT = """\
import os

if os.environ.get("DEMO_PROJECT") != "yes":
    raise ImportError("DEMO_PROJECT is not configured")
"""

# A test file outside every suite's paths that holds no test: the suites' own records cannot
# tell, so the runner collects every test root in the partition session.
NO_TESTS = "def helper():\n    return 1\n"


def env_project(root: Path) -> Project:
    project = make_project(root, extra=SUITES)
    project.write("tests/unit/conftest.py", NEEDS_SETTINGS)
    project.write("tests/slow/conftest.py", NEEDS_PROJECT)
    project.write("tests/extra/test_nothing.py", NO_TESTS)
    return project


def test_a_suite_env_needed_at_import_time_passes_the_guard_session(demo_root: Path) -> None:
    project = env_project(demo_root)

    result = project.run("inv", "test.all")
    out = result.stdout

    assert result.returncode == 0, out + result.stderr
    # The suites passed with their env, and the guard's own collection of every root too.
    assert (
        "suitekit: partition: tests/extra/test_nothing.py lies outside every suite's paths, "
        "so no suite collected it; collecting every test root"
    ) in out
    assert "not configured" not in out
    assert "partition failed" not in out
    log = plan.log_path(load_project(project.root), "partition").read_text()
    assert "suite  tests\nunit       3\nslow       1\ntotal      4\n" in log, log


def test_a_crash_in_the_guards_collection_names_the_error(demo_root: Path) -> None:
    project = env_project(demo_root)
    project.write("tests/extra/test_nothing.py", "import nosuchmodule_sk\n")

    result = project.run("inv", "test.all")
    out = result.stdout

    assert result.returncode == 1, out
    assert (
        "suitekit: partition failed: collection failed in a path no suite collects: "
        "ModuleNotFoundError: No module named 'nosuchmodule_sk' (tests/extra/test_nothing.py); "
        "see its log above"
    ) in out
    assert "do not partition" not in out


def test_a_crash_in_a_suites_collection_is_the_guards_reason(demo_root: Path) -> None:
    project = make_project(demo_root, extra=SUITES)
    project.write("tests/slow/conftest.py", NEEDS_PROJECT)
    project.write("tests/unit/test_broken.py", "import nosuchmodule_sk\n")

    result = project.run("inv", "test.all", "--parallel")
    out = result.stdout

    assert result.returncode == 1, out
    assert (
        "suitekit: partition: not checked (collection failed in suite 'unit': "
        "ModuleNotFoundError: No module named 'nosuchmodule_sk' (tests/unit/test_broken.py))"
    ) in out
    assert "do not partition" not in out
