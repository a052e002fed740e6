"""The suite run's progress file, which the runner's live status reads (SUITEKIT_PROGRESS)."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.plugin.helpers import run

PYPROJECT = """
[tool.suitekit]
tests = ["tests"]

[tool.suitekit.suites.unit]
paths = ["tests/unit"]

[tool.suitekit.suites.other]
paths = ["tests/other"]
"""


@pytest.mark.parametrize("workers", ["0", "2"])
def test_the_controller_writes_the_counts_and_the_first_failure(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makepyfile(
        **{
            "tests/unit/test_u": textwrap.dedent(
                """
                import pytest

                @pytest.mark.parametrize("n", range(5))
                def test_n(n):
                    assert n != 3

                def test_error(request):
                    raise RuntimeError("in the test")
                """
            ),
            "tests/other/test_o": "def test_o():\n    pass\n",
        }
    )
    progress = pytester.path / "progress" / "unit.json"
    progress.parent.mkdir()
    monkeypatch.setenv("SUITEKIT_PROGRESS", str(progress))

    result = run(pytester, workers, "--suitekit-suite=unit")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    written = json.loads(progress.read_text())
    assert written["total"] == 6  # the suite's tests only: tests/other is another suite's
    assert written["done"] == 6
    assert written["failed"] == 2
    assert written["first_failure"] in (
        "tests/unit/test_u.py::test_n[3]",
        "tests/unit/test_u.py::test_error",
    )
    assert written["eta"] == 0.0
    assert oct(progress.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in progress.parent.iterdir()) == ["unit.json"]  # no leftovers
