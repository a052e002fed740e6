"""A collection that crashes is named as a crash, the real error first, and recorded for the guard.

In partition mode (``--suitekit-partition``) a partial collection says nothing of the
partition: the plugin says which suite's collection failed and with what error, checks no
partition, and (in a whole run, ``SUITEKIT_COLLECTIONS``) records the errors for the runner. A
suite session records its collection errors the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.helpers import run

MISSING = "ModuleNotFoundError: No module named 'nosuchmodule_sk'"


def records(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


def test_a_conftest_that_fails_during_collection_is_named_not_a_partition(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(**{"tests/integration/conftest": "import nosuchmodule_sk\n"})
    folder = project.mkdir("records")
    monkeypatch.setenv("SUITEKIT_COLLECTIONS", str(folder))

    result = project.runpytest("--suitekit-partition", "-n", "0")

    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest's own verdict on the collection
    result.stdout.fnmatch_lines(
        [
            (
                f"suitekit: collection failed in suites 'integration', 'slow': {MISSING} "
                "(tests/integration); the partition was not checked"
            )
        ]
    )
    result.stdout.no_fnmatch_line("*= suitekit partition =*")
    result.stdout.no_fnmatch_line("*belong to*")
    (record,) = records(folder)
    assert record["suite"] == "partition"
    assert record["errors"] == [["tests/integration", MISSING]]


def test_a_test_module_that_does_not_import_is_named_by_its_error(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(**{"tests/unit/test_c": "import nosuchmodule_sk\n"})

    result = project.runpytest("--suitekit-partition", "-n", "0")

    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [f"suitekit: collection failed in suites 'unit', 'slow': {MISSING} (tests/unit/test_c.py)*"]
    )


def test_an_initial_conftest_that_fails_is_recorded_with_its_own_error(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(**{"tests/conftest": "import nosuchmodule_sk\n"})
    folder = project.mkdir("records")
    monkeypatch.setenv("SUITEKIT_COLLECTIONS", str(folder))

    result = project.runpytest("--suitekit-partition", "-n", "0")

    assert result.ret == pytest.ExitCode.USAGE_ERROR  # pytest: ImportError while loading conftest
    (record,) = records(folder)
    assert record["suite"] == "partition"
    assert record["errors"] == [["tests/conftest.py", MISSING]]


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_suite_session_records_its_collection_errors(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    project.makepyfile(**{"tests/integration/test_broken": "import nosuchmodule_sk\n"})
    folder = project.mkdir("records")
    monkeypatch.setenv("SUITEKIT_COLLECTIONS", str(folder))

    result = run(project, workers, "--suitekit-suite=integration")

    assert result.ret != pytest.ExitCode.OK
    (record,) = records(folder)
    assert record["suite"] == "integration"
    assert record["complete"] is False
    assert record["errors"] == [["tests/integration/test_broken.py", MISSING]]


def test_a_suite_sessions_failing_initial_conftest_is_recorded(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(**{"tests/conftest": "raise RuntimeError('settings are not configured')\n"})
    folder = project.mkdir("records")
    monkeypatch.setenv("SUITEKIT_COLLECTIONS", str(folder))

    result = run(project, "0", "--suitekit-suite=unit")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    (record,) = records(folder)
    assert record["suite"] == "unit"
    assert record["errors"] == [["tests/conftest.py", "RuntimeError: settings are not configured"]]
