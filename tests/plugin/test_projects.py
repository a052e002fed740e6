"""Projects without ``[tool.suitekit]``, and projects whose declaration is malformed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.plugin.helpers import run


@pytest.fixture
def plain_project(
    pytester: pytest.Pytester, write_pyproject: Callable[[str], Path]
) -> pytest.Pytester:
    """A pytest project that declares no suites."""
    write_pyproject("")
    pytester.makepyfile(**{"tests/test_plain": "def test_plain():\n    pass\n"})
    return pytester


def test_without_tool_suitekit_the_plugin_stays_out_of_the_way(
    plain_project: pytest.Pytester,
) -> None:
    result = plain_project.runpytest()

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins: *suitekit-*"])
    result.stdout.no_fnmatch_line("suitekit:*")


@pytest.mark.parametrize(
    "option", ["--suitekit-suite=unit", "--suitekit-partition"], ids=["suite", "partition"]
)
def test_without_tool_suitekit_a_suitekit_option_is_a_usage_error(
    plain_project: pytest.Pytester, option: str
) -> None:
    result = plain_project.runpytest(option)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            (
                "ERROR: *tool.suitekit: the project's pyproject.toml does not declare"
                " [[]tool.suitekit[]]"
            ),
            "  fix: add a [[]tool.suitekit[]] table with at least one suite*",
        ]
    )


@pytest.mark.parametrize(
    ("suite", "message"),
    [
        pytest.param(
            'paths = ["tests/unit"]\nworkers = -1',
            [
                "ERROR: *pyproject.toml: tool.suitekit.suites.unit.workers: -1 is negative",
                "  fix: use 0 to run without xdist, or a positive worker count",
            ],
            id="negative-workers",
        ),
        pytest.param(
            'paths = ["tests/unit"]\nwokers = 2',
            [
                (
                    "ERROR: *pyproject.toml: tool.suitekit.suites.unit.wokers: "
                    "unknown key 'wokers' (did you mean 'workers'?)"
                ),
                "  fix: use one of: paths, marker, workers, *",
            ],
            id="unknown-key",
        ),
        pytest.param(
            'marker = "slow and"',
            [
                (
                    "ERROR: *pyproject.toml: tool.suitekit.suites.unit.marker: "
                    "the expression ends too early in marker expression 'slow and'"
                ),
                "  fix: write a pytest marker expression*",
            ],
            id="bad-marker",
        ),
        pytest.param(
            'paths = ["tests/unti"]',
            [
                (
                    "ERROR: *pyproject.toml: tool.suitekit.suites.unit.paths: "
                    "'tests/unti' does not exist under *"
                ),
                "  fix: correct the path*",
            ],
            id="missing-path",
        ),
    ],
)
def test_a_malformed_declaration_fails_every_run_naming_the_key(
    pytester: pytest.Pytester,
    write_pyproject: Callable[[str], Path],
    suite: str,
    message: list[str],
) -> None:
    write_pyproject(f"[tool.suitekit.suites.unit]\n{suite}\n")
    pytester.makepyfile(**{"tests/unit/test_a": "def test_a():\n    pass\n"})

    result = pytester.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(message)
    result.stdout.no_fnmatch_line("*passed*")


def test_a_suite_run_reads_the_projects_file_once_to_find_it_and_once_to_load_it(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each hook that needs the project asked for it afresh, and each ask parsed the file two
    # or three times: eight parses a process. The project is kept once read.
    from suitekit.config import _document, _project  # noqa: PLC0415 - patched here only

    reads: list[Path] = []

    def counting(path: Path) -> dict[str, object]:
        reads.append(path)
        return _document.read_document(path)

    monkeypatch.setattr(_project, "read_document", counting)
    result = run(project, "0", "--suitekit-suite=unit", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
    assert len(reads) == 2, reads
