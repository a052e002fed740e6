"""Shards and evidence-based worker counts through real nox sessions."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.e2e.helpers import Project


def _cases(junit: Path) -> set[str]:
    return {
        f"{case.get('classname')}::{case.get('name')}"
        for case in ET.parse(junit).iter("testcase")  # noqa: S314 - our own run's report
    }


def test_nox_shards_partition_the_suite_and_the_report_expects_each(project: Project) -> None:
    junit = project.root / ".suitekit" / "reports" / "junit"
    whole = project.run("nox", "-s", "unit")
    assert whole.returncode == 0, whole.stdout + whole.stderr
    everything = _cases(junit / "unit-3.11.xml")

    parts = []
    for index in (1, 2):
        result = project.run("nox", "-s", "unit-3.11", "--", "--shard", f"{index}/2")
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert f"suitekit: suite 'unit': paths tests/unit; shard {index}/2" in output
        parts.append(_cases(junit / f"unit-3.11.shard-{index}-of-2.xml"))

    assert not (junit / "unit-3.11.xml").exists()  # the whole-suite report would count twice
    assert parts[0] | parts[1] == everything
    assert not parts[0] & parts[1]
    assert all(parts)

    slow = project.run("nox", "-s", "slow")
    assert slow.returncode == 0, slow.stderr
    report = project.run("suitekit", "report")
    assert report.returncode == 0, report.stdout + report.stderr
    assert "unit-3.11.shard-1-of-2" in report.stdout

    (junit / "unit-3.11.shard-2-of-2.xml").unlink()
    incomplete = project.run("suitekit", "report")
    assert incomplete.returncode == 1
    assert "unit-3.11.shard-2-of-2" in incomplete.stdout


def test_the_shard_variable_reaches_pytest_through_nox(project: Project) -> None:
    result = project.run("nox", "-s", "unit", env={"SUITEKIT_SHARD": "2/3"})
    output = result.stdout + result.stderr

    assert result.returncode == 0, output
    assert "shard 2/3" in output
    assert (project.root / ".suitekit/reports/junit/unit-3.11.shard-2-of-3.xml").is_file()


def test_a_bad_shard_stops_the_session_with_the_value(project: Project) -> None:
    result = project.run("nox", "-s", "unit", "--", "--shard", "3/2")

    assert result.returncode != 0
    assert "--shard: '3/2' is not a shard" in result.stdout + result.stderr


def test_auto_workers_are_decided_by_the_plugin_from_the_first_run(
    project: Project, tmp_path: Path
) -> None:
    calibration = tmp_path / "calibration.json"
    env = {
        "SUITEKIT_CALIBRATION": str(calibration),
        "SUITEKIT_CPUS": "2",
        "SUITEKIT_WORKERS": "auto",  # the demo suite declares workers = 2
    }
    first = project.run("nox", "-s", "unit", env=env)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output
    # No durations yet, and no CPU filled blindly: the session passes -n auto, the plugin
    # runs the three instant tests in one process and never needs the machine's xdist costs.
    assert "pytest --suitekit-suite=unit -n auto --dist load" in output
    assert "workers decided after collection (auto, 2 CPUs)" in output
    assert "suitekit: workers auto: -n 0 (all 3 tests ran in less than 0.5s" in output
    assert "created: 2/2 workers" not in output
    assert not calibration.exists()
    report = project.run("suitekit", "report")
    assert report.returncode == 1  # the slow suite has not run: reported missing

    second = project.run("nox", "-s", "unit", env=env)
    output = second.stdout + second.stderr
    assert second.returncode == 0, output
    # Three instant tests with recorded durations: starting workers cannot pay.
    assert "suitekit: workers auto: -n 0 (from durations of 3 tests: predicted -n 0: " in output
    assert not calibration.exists()

    shards = project.run("suitekit", "shards", "unit", "--count", "2")
    assert shards.returncode == 0, shards.stderr
    assert "suite 'unit': 3 tests in 2 shards (longest first; 3 known durations)" in shards.stdout
    # --json: the same plan, collected in the session's virtualenv.
    planned = project.run("suitekit", "shards", "unit", "--count", "2", "--json")
    assert planned.returncode == 0, planned.stderr
    document = json.loads(planned.stdout)
    assert (document["tests"], document["known"], document["basis"]) == (3, 3, "durations")
    assert "suite 'unit': 3 tests in 2 shards" in planned.stderr
