"""A small suitekit project for the plugin's tests, written into the pytester folder.

The project declares three suites that partition its seven tests:

- ``unit``: paths ``tests/unit``; owns test_a.py (2 tests) and test_b.py (1);
- ``integration``: paths ``tests/integration``, marker ``not slow``; owns 2 of test_api.py's 3;
- ``slow``: marker ``slow``, in any folder; owns test_api.py::test_bulk and tests/perf (1).

No marker is registered by the project itself: ``--strict-markers`` passes only because the
suites' marker expressions name ``slow``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Final

# The hypothesis plugin imports hypothesis in every session's terminal summary, and pytester's
# in-process runs restore sys.modules when they end: without this import each in-process run
# would import (and assertion-rewrite) hypothesis afresh, about a second apiece.
import hypothesis.internal.observability  # noqa: F401 - imported for its side effect above
import pytest

PYTEST_TABLE: Final = """
[tool.pytest.ini_options]
addopts = ["--strict-markers"]
"""

SUITEKIT_TABLE: Final = """
[tool.suitekit]
tests = ["tests"]

[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = 0

[tool.suitekit.suites.integration]
paths = ["tests/integration"]
marker = "not slow"

[tool.suitekit.suites.slow]
marker = "slow"
"""

TEST_FILES: Final = {
    "tests/unit/test_a": """
        def test_a1():
            pass

        def test_a2():
            pass
        """,
    "tests/unit/test_b": """
        def test_b1():
            pass
        """,
    "tests/integration/test_api": """
        import pytest

        def test_get():
            pass

        def test_put():
            pass

        @pytest.mark.slow
        def test_bulk():
            pass
        """,
    "tests/perf/test_load": """
        import pytest

        pytestmark = pytest.mark.slow

        def test_load():
            pass
        """,
}


@pytest.fixture
def write_pyproject(pytester: pytest.Pytester) -> Callable[[str], Path]:
    """Write the project's pyproject.toml: the pytest table, then the given TOML (dedented)."""

    def write(suitekit: str) -> Path:
        return pytester.makepyprojecttoml(PYTEST_TABLE + textwrap.dedent(suitekit))

    return write


@pytest.fixture
def project(pytester: pytest.Pytester, write_pyproject: Callable[[str], Path]) -> pytest.Pytester:
    """The pytester folder holding the three-suite project described above."""
    write_pyproject(SUITEKIT_TABLE)
    pytester.makepyfile(**TEST_FILES)
    return pytester
