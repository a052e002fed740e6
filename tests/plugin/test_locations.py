"""The JUnit file of a suite run locates each failing test: node id, file and 1-based line.

pytest's JUnit family xunit2 has no ``file`` or ``line``; the plugin adds one
``suitekit.location`` property per test that failed in some way, which ``suitekit report`` turns
into GitHub annotations and rerun commands. The run is the controller of two xdist workers, so
the locations come from the workers' reports.
"""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

from suitekit.reporting._merge import merge_junit
from tests.plugin.helpers import run

PYPROJECT: Final = """
[tool.suitekit]
tests = ["tests"]

[tool.suitekit.suites.unit]
paths = ["tests"]
retries = 1
"""

TESTS: Final = """
import pathlib

import pytest


def test_passes():
    pass


def test_fails():
    assert 1 == 2


@pytest.fixture
def broken():
    raise ConnectionError("no database")


def test_errors(broken):
    pass


class TestGroup:
    @pytest.mark.parametrize("value", ["a b", "c"])
    def test_param(self, value):
        assert value == "c"


def test_flaky():
    counter = pathlib.Path(__file__).with_name("flaky.count")
    number = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(number))
    assert number > 1
"""


def _locations(junit: Path) -> dict[str, dict[str, object]]:
    root = ET.parse(junit).getroot()  # noqa: S314 - the file this test's run wrote
    values = [
        json.loads(prop.get("value", ""))
        for prop in root.iter("property")
        if prop.get("name") == "suitekit.location"
    ]
    return {str(value["node"]): value for value in values}


def test_each_failing_test_carries_its_node_id_file_and_line(
    pytester: pytest.Pytester, valid: Callable[[Path], None]
) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    tests = pytester.mkpydir("tests")
    (tests / "test_things.py").write_text(textwrap.dedent(TESTS), encoding="utf-8")
    junit = pytester.path / "junit.xml"

    result = run(pytester, "2", "--suitekit-suite=unit", f"--junitxml={junit}")

    outcomes = result.parseoutcomes()
    assert (outcomes["passed"], outcomes["flaky"], outcomes["failed"], outcomes["errors"]) == (
        2,
        1,
        2,
        1,
    )
    valid(junit)  # the properties keep the file valid against junit-10.xsd
    file = "tests/test_things.py"
    source = (tests / "test_things.py").read_text(encoding="utf-8").splitlines()

    def line(text: str) -> int:
        return source.index(text) + 1

    # A decorated test starts at its first decorator, as Python's code objects say.
    param = line('    @pytest.mark.parametrize("value", ["a b", "c"])')
    assert source[param] == "    def test_param(self, value):"
    assert _locations(junit) == {
        f"{file}::test_fails": {
            "test": "tests.test_things::test_fails",
            "node": f"{file}::test_fails",
            "file": file,
            "line": line("def test_fails():"),
        },
        f"{file}::test_errors": {
            "test": "tests.test_things::test_errors",
            "node": f"{file}::test_errors",
            "file": file,
            "line": line("def test_errors(broken):"),
        },
        f"{file}::TestGroup::test_param[a b]": {
            "test": "tests.test_things.TestGroup::test_param[a b]",
            "node": f"{file}::TestGroup::test_param[a b]",
            "file": file,
            "line": param,
        },
        # Its first attempt failed: the summary names a flaky test by its node id too.
        f"{file}::test_flaky": {
            "test": "tests.test_things::test_flaky",
            "node": f"{file}::test_flaky",
            "file": file,
            "line": line("def test_flaky():"),
        },
    }

    merged = merge_junit([junit], pytester.path / "merged.xml")

    # In the order the workers reported them, which varies from run to run.
    assert sorted((case.node_id, case.file, case.line) for case in merged.failed) == [
        (f"{file}::TestGroup::test_param[a b]", file, param),
        (f"{file}::test_errors", file, line("def test_errors(broken):")),
        (f"{file}::test_fails", file, line("def test_fails():")),
    ]
    assert [case.node_id for case in merged.flaky] == [f"{file}::test_flaky"]


def test_a_green_run_adds_no_location(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    tests = pytester.mkpydir("tests")
    (tests / "test_green.py").write_text("def test_passes():\n    pass\n", encoding="utf-8")
    junit = pytester.path / "junit.xml"

    result = run(pytester, "2", "--suitekit-suite=unit", f"--junitxml={junit}")

    result.assert_outcomes(passed=1)
    assert _locations(junit) == {}


def test_a_file_that_fails_to_collect_is_located_without_a_line(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    tests = pytester.mkpydir("tests")
    (tests / "test_broken.py").write_text("import not_a_module\n", encoding="utf-8")
    junit = pytester.path / "junit.xml"

    run(pytester, "2", "--suitekit-suite=unit", f"--junitxml={junit}")

    assert _locations(junit) == {
        "tests/test_broken.py": {
            "test": "tests.test_broken",
            "node": "tests/test_broken.py",
            "file": "tests/test_broken.py",
            "line": None,
        }
    }
