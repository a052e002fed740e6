"""``--suitekit-json-out``: the partition and the shard plan as the documents the CLI prints.

``suitekit suites --json`` and ``suitekit shards --json`` print what the plugin writes here;
each document is validated against its shipped schema and compared with the table printed
beside it (the same report, the same plan).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from suitekit import _json


def _document(path: Path, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(document, _json.schema(name))
    return document


def test_the_partition_is_written_as_the_suites_document(project: pytest.Pytester) -> None:
    project.makepyfile(**{"tests/misc/test_orphan": "def test_one():\n    pass\n"})

    result = project.runpytest("--suitekit-partition", "-n", "0", "--suitekit-json-out=out.json")

    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the orphan: as without the option
    document = _document(project.path / "out.json", _json.SUITES_SCHEMA)
    assert document["ok"] is False
    assert document["suites"] == [
        {"name": "unit", "tests": 3},
        {"name": "integration", "tests": 2},
        {"name": "slow", "tests": 2},
    ]
    assert document["total"] == 7
    assert document["unowned"] == ["tests/misc/test_orphan.py::test_one"]
    assert document["overlapping"] == []
    result.stdout.fnmatch_lines(["unit             3", "total            7"])


def test_the_shard_plan_is_written_as_the_shards_document(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "--suitekit-suite=unit", "--suitekit-plan-shards=2", "--suitekit-json-out=plan.json"
    )

    assert result.ret == pytest.ExitCode.OK
    document = _document(project.path / "plan.json", _json.SHARDS_SCHEMA)
    assert (document["suite"], document["count"], document["tests"]) == ("unit", 2, 3)
    assert document["basis"] == "file size"  # no durations recorded
    assert [shard["shard"] for shard in document["shards"]] == ["1/2", "2/2"]
    ids = [node for s in document["shards"] for unit in s["units"] for node in unit["node_ids"]]
    assert sorted(ids) == [
        "tests/unit/test_a.py::test_a1",
        "tests/unit/test_a.py::test_a2",
        "tests/unit/test_b.py::test_b1",
    ]
    # The table printed beside it is of the same plan.
    rows = [f"{s['shard']:>7}  {s['tests']:>6}  {len(s['units']):>6}" for s in document["shards"]]
    result.stdout.fnmatch_lines([f"{row}  *" for row in rows])


def test_the_option_alone_is_a_usage_error(project: pytest.Pytester) -> None:
    result = project.runpytest("--suitekit-suite=unit", "--suitekit-json-out=x.json")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--suitekit-json-out needs --suitekit-partition or --suitekit-plan-shards*"]
    )
    assert not (project.path / "x.json").exists()
