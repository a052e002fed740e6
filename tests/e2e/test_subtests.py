"""One run's runner summary and merged report count a suite with subtests the same way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.helpers import make_project

SUITES = """\
[tool.suitekit.suites.unit]
paths = ["tests"]
workers = {workers}
# pytest shows passed subtests only above the default subtest verbosity, with xdist or without.
pytest-args = ["-o", "verbosity_subtests=1"]
"""

TESTS = """\
import unittest


def test_three_subtests(subtests):
    for index in range(3):
        with subtests.test(index=index):
            assert index < 3


def test_a_failing_subtest(subtests):
    for index in range(2):
        with subtests.test(index=index):
            assert index == 0


def test_plain():
    pass


class TestCase(unittest.TestCase):
    def test_sub(self):
        for index in range(2):
            with self.subTest(index=index):
                self.assertLess(index, 2)
"""


@pytest.mark.parametrize("workers", [0, 2])
def test_the_runner_and_the_report_agree_on_counts(tmp_path: Path, workers: int) -> None:
    project = make_project(tmp_path / "demo", SUITES.format(workers=workers))
    for old in (project.root / "tests").rglob("*.py"):
        old.unlink()
    project.write("tests/test_subtests.py", TESTS)

    result = project.run("suitekit", "run", "--no-guard", "--no-coverage")
    output = result.stdout + result.stderr

    assert result.returncode == 1, output  # one subtest fails
    # pytest's own line keeps its subtests, with xdist too (at verbosity_subtests=1).
    assert re.search(r"2 failed, 3 passed, 6 subtests passed in", output), output
    # The runner's closing line and the report's total row: 4 cases, 3 passed, 1 failed.
    assert "suitekit: 3 passed, 1 failed, 0 skipped" in output, output
    total = re.search(r"^total\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", output, re.MULTILINE)
    assert total is not None, output
    assert total.groups() == ("4", "3", "1", "0", "0")
