"""``suitekit report`` (suitekit.reporting._report.report) with retried and quarantined tests.

The JUnit files are written by hand, in the form the pytest plugin gives them: earlier attempts
as ``<flakyFailure>`` / ``<rerunFailure>``, a quarantined failure as
``<skipped type="suitekit.quarantined">``, and a ``suitekit.quarantined`` suite property per
quarantined test.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Final

import pytest

from suitekit._model import Project, Quarantine, Suite
from suitekit.errors import ReportError
from suitekit.reporting._report import report
from suitekit.reporting._streaks import QUARANTINE_FILE
from suitekit.sharding._durations import DURATIONS_FILE, DurationStore

BROKEN: Final = Quarantine(test="tests/test_q.py::test_broken", reason="issue #7", index=0)
HEALED: Final = Quarantine(
    test="tests/test_q.py::test_healed", reason="issue #8", release_after=2, index=1
)


def project(root: Path, *quarantine: Quarantine) -> Project:
    return Project(
        root=root,
        config_file=root / "pyproject.toml",
        python=("3.11",),
        suites=(Suite(name="unit", python=("3.11",)),),
        quarantine=quarantine,
    )


def prop(test: str, entry: str) -> str:
    value = json.dumps({"test": test, "entry": entry}).replace('"', "&quot;")
    return f'<property name="suitekit.quarantined" value="{value}"/>'


def plugin_junit(*, broken: str = "failed", healed: str = "passed") -> str:
    """A unit suite after a run with retries=2 and the two quarantine entries above."""
    broken_body = (
        '<skipped type="suitekit.quarantined" message="quarantined (issue #7): KeyError: x">'
        "long traceback</skipped>"
        if broken == "failed"
        else ""
    )
    healed_body = {
        "failed": '<skipped type="suitekit.quarantined" message="quarantined (issue #8): boom">'
        "t</skipped>",
        "skipped": '<skipped type="pytest.skip" message="needs the SMTP relay"/>',
        # An xfail that failed as expected: pytest writes it as a skip too.
        "xfailed": '<skipped type="pytest.xfail" message="known race"/>',
    }.get(healed, "")
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
        '<testsuite name="unit" errors="0" failures="0" skipped="1" tests="5" time="9.9" '
        'timestamp="2025-01-01T12:00:00.000000+00:00" hostname="ci-7"><properties>'
        + prop("tests.test_q::test_broken", BROKEN.test)
        + prop("tests.test_q::test_healed", HEALED.test)
        + "</properties>"
        # The failed attempt took 5 s; the plugin moved that out of the case's time.
        '<testcase classname="tests.test_x" name="test_flaky" time="0.250">'
        '<flakyFailure message="AssertionError: slow first attempt" type="AssertionError">'
        "<stackTrace>tests/test_x.py:3: AssertionError (5.0 s)</stackTrace>"
        "<system-out>attempt 1</system-out></flakyFailure></testcase>"
        f'<testcase classname="tests.test_q" name="test_broken" time="0.500">{broken_body}'
        "</testcase>"
        f'<testcase classname="tests.test_q" name="test_healed" time="0.0625">{healed_body}'
        "</testcase>"
        '<testcase classname="tests.test_x" name="test_ok" time="0.100"/>'
        '<testcase classname="tests.test_x" name="test_skip" time="0.000">'
        '<skipped type="pytest.skip" message="not today"/></testcase>'
        "</testsuite></testsuites>"
    )


def write_junit(root: Path, text: str, *, mtime: int = 1_700_000_000) -> Path:
    path = root / "reports" / "junit" / "unit-3.11.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))
    return path


def run(project: Project) -> tuple[int, str]:
    out = io.StringIO()
    code = report(project, environ={}, out=out)
    return code, out.getvalue()


def streaks(root: Path) -> dict[str, dict[str, int]]:
    entries: dict[str, dict[str, int]] = json.loads(
        (root / QUARANTINE_FILE).read_text(encoding="utf-8")
    )["entries"]
    return entries


def test_flaky_tests_and_quarantined_failures_do_not_fail_the_run(tmp_path: Path) -> None:
    write_junit(tmp_path, plugin_junit())

    code, text = run(project(tmp_path, BROKEN, HEALED))

    assert code == 0
    lines = text.rstrip("\n").splitlines()
    assert lines[-2:] == [
        "result: OK",
        "suitekit: 2 passed, 0 failed, 2 skipped, 1 flaky, 2 quarantined",
    ]
    assert (
        "  FLAKY tests.test_x::test_flaky (unit, 2 attempts) - first failure: "
        "AssertionError: slow first attempt"
    ) in lines
    assert "  FAILED tests.test_q::test_broken (unit) - KeyError: x" in lines
    assert "    reason: issue #7; passing streak 0/5" in lines
    assert "    reason: issue #8; passing streak 1/2" in lines
    markdown = (tmp_path / "reports" / "summary.md").read_text(encoding="utf-8")
    assert "### Flaky tests" in markdown
    assert "### Quarantined tests" in markdown


def test_the_durations_store_gets_the_final_attempts_time_and_no_quarantined_failure(
    tmp_path: Path,
) -> None:
    write_junit(tmp_path, plugin_junit())

    run(project(tmp_path, BROKEN, HEALED))

    store = DurationStore.load(tmp_path / DURATIONS_FILE)
    assert {key: m.seconds for key, m in store.suites["unit"].items()} == {
        "tests.test_x::test_flaky": 0.25,  # not 5.25: the failed attempt is not counted
        "tests.test_q::test_healed": 0.0625,  # a quarantined test that passed ran normally
        "tests.test_x::test_ok": 0.1,
    }


def test_streaks_advance_once_per_new_set_of_inputs_and_say_when_an_entry_may_go(
    tmp_path: Path,
) -> None:
    configured = project(tmp_path, BROKEN, HEALED)
    write_junit(tmp_path, plugin_junit(), mtime=1_700_000_000)
    run(configured)
    assert streaks(tmp_path) == {
        BROKEN.test: {"tests.test_q::test_broken": 0},
        HEALED.test: {"tests.test_q::test_healed": 1},
    }

    _, text = run(configured)  # the same files again: not a new run

    assert streaks(tmp_path)[HEALED.test] == {"tests.test_q::test_healed": 1}
    assert "ready to leave quarantine" not in text

    write_junit(tmp_path, plugin_junit(), mtime=1_700_000_100)  # the next run's report
    _, text = run(configured)

    assert streaks(tmp_path)[HEALED.test] == {"tests.test_q::test_healed": 2}
    assert (
        "ready to leave quarantine (1):\n"
        "  tool.suitekit.quarantine[1] (test = 'tests/test_q.py::test_healed'): its tests passed "
        "2 runs in a row\n"
        "    fix: remove the entry tool.suitekit.quarantine[1] from the configuration\n"
    ) in text

    write_junit(tmp_path, plugin_junit(healed="failed"), mtime=1_700_000_200)
    _, text = run(configured)

    assert streaks(tmp_path)[HEALED.test] == {"tests.test_q::test_healed": 0}
    assert "ready to leave quarantine" not in text


def test_an_entry_removed_from_the_configuration_is_dropped_from_the_streaks(
    tmp_path: Path,
) -> None:
    write_junit(tmp_path, plugin_junit())
    run(project(tmp_path, BROKEN, HEALED))

    _, text = run(project(tmp_path, BROKEN))  # the same inputs, one entry fewer

    assert streaks(tmp_path) == {BROKEN.test: {"tests.test_q::test_broken": 0}}
    assert "    entry 'tests/test_q.py::test_healed' is no longer in the configuration" in text

    run(project(tmp_path))  # no quarantine left: the file is emptied, not left stale
    assert streaks(tmp_path) == {}


def test_without_quarantine_no_streaks_file_is_written(tmp_path: Path) -> None:
    write_junit(tmp_path, plugin_junit(broken="passed"))

    run(project(tmp_path))

    assert (tmp_path / DURATIONS_FILE).is_file()
    assert not (tmp_path / QUARANTINE_FILE).exists()


def test_a_broken_streaks_file_is_reported_after_everything_else_is_written(
    tmp_path: Path,
) -> None:
    write_junit(tmp_path, plugin_junit())
    broken = tmp_path / QUARANTINE_FILE
    broken.parent.mkdir()
    broken.write_text('{"version": 1, "entries": {}', encoding="utf-8")

    with pytest.raises(
        ReportError,
        match=(
            rf"^{re.escape(str(broken))}: not a suitekit quarantine streaks file \(.*\)\n"
            r"  fix: delete it; the quarantined tests' passing streaks then start again from 0"
        ),
    ):
        run(project(tmp_path, BROKEN, HEALED))

    # Issue 12, item 8: the report and the durations are written first; the broken file is
    # left exactly as it was.
    assert broken.read_text(encoding="utf-8") == '{"version": 1, "entries": {}'
    assert (tmp_path / "reports" / "junit.xml").exists()
    assert (tmp_path / "reports" / "summary.md").exists()
    assert (tmp_path / DURATIONS_FILE).exists()


@pytest.mark.parametrize("skip", ["skipped", "xfailed"])
def test_a_skipped_quarantined_test_keeps_its_streak_and_is_shown_as_skipped(
    tmp_path: Path, skip: str
) -> None:
    configured = project(tmp_path, BROKEN, HEALED)
    write_junit(tmp_path, plugin_junit(), mtime=1_700_000_000)
    run(configured)
    assert streaks(tmp_path)[HEALED.test] == {"tests.test_q::test_healed": 1}

    # Skipped in two runs in a row: it did not run, so it did not pass either.
    for mtime in (1_700_000_100, 1_700_000_200):
        write_junit(tmp_path, plugin_junit(healed=skip), mtime=mtime)
        code, text = run(configured)

        assert code == 0
        assert streaks(tmp_path)[HEALED.test] == {"tests.test_q::test_healed": 1}
        assert "ready to leave quarantine" not in text
        assert "  SKIPPED tests.test_q::test_healed (unit) - " in text
        assert "    reason: issue #8; passing streak 1/2 (kept: skipped)" in text

    write_junit(tmp_path, plugin_junit(), mtime=1_700_000_300)  # it runs, and passes, again
    _, text = run(configured)

    assert streaks(tmp_path)[HEALED.test] == {"tests.test_q::test_healed": 2}
    assert "ready to leave quarantine (1):" in text
