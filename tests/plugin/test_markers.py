"""The plugin registers every marker that a suite's marker expression names.

pytest caches the marker names it has accepted in the process-wide ``pytest.mark`` object, so an
in-process run would accept a marker that an earlier run registered: every test here starts with
an empty cache (the counter-proof without the plugin shows that it does).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_accepted_marker_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget the marker names that earlier runs in this process made pytest accept."""
    monkeypatch.setattr(pytest.mark, "_markers", set())


def test_a_suite_marker_passes_strict_markers_unregistered(project: pytest.Pytester) -> None:
    result = project.runpytest()

    result.assert_outcomes(passed=7)
    assert result.ret == pytest.ExitCode.OK


def test_without_the_plugin_strict_markers_rejects_the_marker(project: pytest.Pytester) -> None:
    # The counter-proof: the project registers nothing, so `slow` is known only through suitekit.
    result = project.runpytest("-p", "no:suitekit")

    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*'slow' not found in `markers` configuration option*"])


def test_pytest_markers_lists_the_suite_marker(project: pytest.Pytester) -> None:
    result = project.runpytest("--markers")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["@pytest.mark.slow: selects tests for the suitekit suite(s) integration, slow"]
    )


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("slow and not db", ("slow", "db")),
        ("(slow or nightly) and not db", ("slow", "nightly", "db")),
    ],
)
def test_every_name_in_an_expression_is_registered(
    pytester: pytest.Pytester,
    write_pyproject: Callable[[str], Path],
    expression: str,
    names: tuple[str, ...],
) -> None:
    write_pyproject(
        f"""
        [tool.suitekit.suites.unit]
        paths = ["tests/unit"]

        [tool.suitekit.suites.heavy]
        marker = "{expression}"
        """
    )
    decorators = "".join(f"@pytest.mark.{name}\n" for name in names)
    pytester.makepyfile(
        **{"tests/unit/test_marked": f"import pytest\n\n{decorators}def test_marked():\n    pass\n"}
    )

    listed = pytester.runpytest("--markers")
    run = pytester.runpytest()

    listed.stdout.fnmatch_lines_random(
        [f"@pytest.mark.{name}: selects tests for the suitekit suite(s) heavy" for name in names]
    )
    run.assert_outcomes(passed=1)
