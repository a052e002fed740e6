"""The runner with real tiny processes: parallel start, logs, status, fail-fast, stale JUnit."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from suitekit import Project, Suite
from suitekit._runner import Runner, run_jobs
from suitekit.plan import Job


class Terminal(io.StringIO):
    """A stream that says it is a terminal, to see the live status block."""

    def isatty(self) -> bool:
        return True


def job(root: Path, name: str, code: str, *, required: bool = True, junit: bool = False) -> Job:
    return Job(
        session=name,
        kind="suite" if junit else "check",
        title=name,
        command=(sys.executable, "-c", code),
        env={"SUITEKIT_TEST_MARK": name},
        required=required,
        junit=root / "junit" / f"{name}.xml" if junit else None,
        log=root / "logs" / f"{name}.log",
        target_seconds=None,
    )


JUNIT = """\
import pathlib, sys
path = pathlib.Path(sys.argv[1])
path.parent.mkdir(parents=True, exist_ok=True)
path.write_text(
    '<testsuites><testsuite name="s" tests="2" failures="0" errors="0" skipped="1" time="0.5">'
    '<testcase name="a"/><testcase name="b"><skipped/></testcase></testsuite></testsuites>'
)
"""


def test_parallel_jobs_overlap_and_keep_their_output_in_logs(tmp_path: Path) -> None:
    sleeper = "import os, time; print(os.environ['SUITEKIT_TEST_MARK']); time.sleep(1)"
    jobs = [job(tmp_path, f"s{i}", sleeper) for i in range(3)]
    started = time.monotonic()
    outcomes = Runner(root=tmp_path, parallel=True, stream=io.StringIO()).run(jobs)
    elapsed = time.monotonic() - started
    assert [o.status for o in outcomes] == ["passed"] * 3
    assert elapsed < 2.5  # three 1 s jobs at once, not one after another (3 s)
    for i in range(3):
        assert (tmp_path / "logs" / f"s{i}.log").read_text().strip() == f"s{i}"


def test_sequential_run_echoes_output_live(tmp_path: Path) -> None:
    stream = io.StringIO()
    Runner(root=tmp_path, stream=stream).run([job(tmp_path, "one", "print('hello from one')")])
    assert "hello from one" in stream.getvalue()


def test_live_status_block_on_a_terminal(tmp_path: Path) -> None:
    stream = Terminal()
    Runner(root=tmp_path, parallel=True, stream=stream).run(
        [job(tmp_path, "quick", "pass"), job(tmp_path, "slowish", "import time; time.sleep(0.6)")]
    )
    text = stream.getvalue()
    assert "slowish" in text
    assert "running" in text
    assert "\x1b[" in text  # the block is redrawn in place


def test_failed_parallel_job_prints_its_log_and_fail_fast_cancels(tmp_path: Path) -> None:
    stream = io.StringIO()
    jobs = [
        job(tmp_path, "bad", "print('the reason'); raise SystemExit(3)"),
        job(tmp_path, "long", "import time; time.sleep(30)"),
        job(tmp_path, "later", "pass"),
    ]
    runner = Runner(root=tmp_path, parallel=True, fail_fast=True, stream=stream)
    started = time.monotonic()
    outcomes = runner.run(jobs)
    assert time.monotonic() - started < 20
    assert [o.status for o in outcomes][:2] == ["failed", "cancelled"]
    assert outcomes[0].returncode == 3
    assert "the reason" in stream.getvalue()


def test_a_suite_without_a_fresh_junit_file_is_not_green(tmp_path: Path) -> None:
    stale = tmp_path / "junit" / "suite.xml"
    stale.parent.mkdir(parents=True)
    stale.write_text('<testsuite name="s" tests="9" failures="0" errors="0" skipped="0"/>')
    old = time.time() - 3600
    os.utime(stale, (old, old))
    outcome = Runner(root=tmp_path, stream=io.StringIO()).run(
        [job(tmp_path, "suite", "pass", junit=True)]
    )[0]
    assert outcome.status == "failed"
    assert "no JUnit file written by this run" in outcome.note


def test_run_jobs_counts_tests_from_junit_and_ends_with_the_closing_line(tmp_path: Path) -> None:
    stream = io.StringIO()
    target = tmp_path / "junit" / "suite.xml"
    writer = replace(
        job(tmp_path, "suite", JUNIT, junit=True),
        command=(sys.executable, "-c", JUNIT, str(target)),
    )
    advisory = job(tmp_path, "audit", "raise SystemExit(1)", required=False)
    code = run_jobs(tmp_path, [writer, advisory], parallel=True, stream=stream)
    lines = stream.getvalue().rstrip().splitlines()
    assert code == 0
    assert "failed (advisory)" in stream.getvalue()
    assert re.fullmatch(r"suitekit: 1 passed, 0 failed, 1 skipped in \d+\.\ds", lines[-1])


def test_a_failing_guard_stops_the_run(tmp_path: Path) -> None:
    stream = io.StringIO()
    guard = job(tmp_path, "partition", "print('stray test'); raise SystemExit(1)")
    code = run_jobs(tmp_path, [job(tmp_path, "never", "pass")], guard=guard, stream=stream)
    assert code == 1
    assert "nothing else was run" in stream.getvalue()
    assert not (tmp_path / "logs" / "never.log").exists()


RECORD = """\
import json, os, pathlib, sys
suite, owned, others = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
folder = pathlib.Path(os.environ["SUITEKIT_COLLECTIONS"])
record = {"version": 1, "suite": suite, "complete": True, "owned": owned, "others": others,
          "python_files": ["test_*.py"], "norecursedirs": [".*"]}
(folder / f"{suite}.{os.getpid()}.json").write_text(json.dumps(record))
junit = pathlib.Path(sys.argv[5])
junit.parent.mkdir(parents=True, exist_ok=True)
junit.write_text('<testsuites><testsuite name="s" tests="1" failures="0" errors="0"/></testsuites>')
raise SystemExit(int(sys.argv[4]))
"""


def suite_job(root: Path, suite: str, owned: str, others: str = "", code: int = 0) -> Job:
    """A suite session that records what it "collected", as the pytest plugin does."""
    junit = root / "junit" / f"{suite}-3.11.xml"
    return replace(
        job(root, f"{suite}-3.11", RECORD, junit=True),
        suite=suite,
        command=(sys.executable, "-c", RECORD, suite, owned, others, str(code), str(junit)),
    )


def guarded_project(root: Path) -> Project:
    (root / "tests" / "unit").mkdir(parents=True)
    (root / "tests" / "unit" / "test_a.py").write_text("")
    return Project(
        root=root,
        config_file=root / "pyproject.toml",
        python=("3.11",),
        tests=("tests",),
        suites=(
            Suite(name="unit", paths=("tests/unit",), marker="not slow"),
            Suite(name="slow", marker="slow"),
        ),
    )


GUARD_SESSION = "import pathlib; pathlib.Path('guard-ran').write_text('1'); raise SystemExit(1)"


def test_the_guard_is_decided_from_the_suites_records_without_its_session(
    tmp_path: Path,
) -> None:
    stream = io.StringIO()
    project = guarded_project(tmp_path)
    jobs = [
        suite_job(tmp_path, "unit", "tests/unit/test_a.py::t1", "tests/unit/test_a.py::t2"),
        suite_job(tmp_path, "slow", "tests/unit/test_a.py::t2", "tests/unit/test_a.py::t1"),
    ]
    guard = job(tmp_path, "partition", GUARD_SESSION)
    code = run_jobs(tmp_path, jobs, guard=guard, parallel=True, stream=stream, project=project)
    out = stream.getvalue()
    assert code == 0, out
    assert "suitekit: partition: passed, from the suites' own collections (unit 1, slow 1)" in out
    assert not (tmp_path / "guard-ran").exists()
    # The guard is not one of the run's sessions in the summary.
    assert not any(line.startswith("partition ") for line in out.splitlines())


def test_a_test_no_suite_owns_fails_the_run_by_name_after_the_sessions(tmp_path: Path) -> None:
    stream = io.StringIO()
    project = guarded_project(tmp_path)
    lost = "tests/unit/test_a.py::t3"
    jobs = [
        suite_job(tmp_path, "unit", "tests/unit/test_a.py::t1", f"tests/unit/test_a.py::t2 {lost}"),
        suite_job(tmp_path, "slow", "tests/unit/test_a.py::t2", f"tests/unit/test_a.py::t1 {lost}"),
    ]
    guard = job(tmp_path, "partition", GUARD_SESSION)
    code = run_jobs(tmp_path, jobs, guard=guard, stream=stream, project=project)
    out = stream.getvalue()
    assert code == 1, out
    assert f"1 test(s) belong to no suite:\n  {lost}" in out
    assert "suitekit: partition failed: the suites do not partition the tests" in out
    assert "failed: partition" in out  # the summary names it
    assert not (tmp_path / "guard-ran").exists()


def test_records_that_cannot_settle_it_run_the_guard_session(tmp_path: Path) -> None:
    stream = io.StringIO()
    project = guarded_project(tmp_path)
    jobs = [suite_job(tmp_path, "unit", "tests/unit/test_a.py::t1"), job(tmp_path, "lint", "pass")]
    guard = job(tmp_path, "partition", GUARD_SESSION)
    code = run_jobs(tmp_path, jobs, guard=guard, stream=stream, project=project)
    out = stream.getvalue()
    assert code == 1, out
    assert "suitekit: partition: suite 'slow' recorded no collection; collecting every " in out
    assert (tmp_path / "guard-ran").exists()
    assert "suitekit: partition failed: the suites do not partition the tests" in out


def test_after_a_failed_suite_session_an_unsettled_guard_is_not_run(tmp_path: Path) -> None:
    stream = io.StringIO()
    project = guarded_project(tmp_path)
    jobs = [
        suite_job(tmp_path, "unit", "tests/unit/test_a.py::t1"),
        replace(job(tmp_path, "slow-3.11", "raise SystemExit(2)"), kind="suite", suite="slow"),
    ]
    guard = job(tmp_path, "partition", GUARD_SESSION)
    code = run_jobs(tmp_path, jobs, guard=guard, stream=stream, project=project)
    out = stream.getvalue()
    assert code == 1, out
    assert "suitekit: partition: not checked (suite 'slow' recorded no collection)" in out
    assert not (tmp_path / "guard-ran").exists()
    assert "failed: slow-3.11" in out


def test_report_and_coverage_jobs_run_in_the_runners_own_process(tmp_path: Path) -> None:
    from suitekit.config import load_project  # noqa: PLC0415
    from suitekit.plan import report_jobs  # noqa: PLC0415

    (tmp_path / "pyproject.toml").write_text(
        '[tool.suitekit]\npython = ["3.11"]\n\n[tool.suitekit.suites.unit]\npaths = ["tests"]\n',
        encoding="utf-8",
    )
    (tmp_path / "tests").mkdir()
    junit = tmp_path / "reports" / "junit" / "unit-3.11.xml"
    junit.parent.mkdir(parents=True)
    junit.write_text(
        '<testsuites><testsuite name="unit" tests="1" failures="0" errors="0" skipped="0" '
        'time="0.1"><testcase classname="tests.test_a" name="test_a" time="0.1"/>'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    project = load_project(tmp_path)
    (finish,) = report_jobs(project)
    assert finish.command == ("nox", "-s", "report")  # what CI runs; here: no nox, no noxfile
    stream = io.StringIO()
    (outcome,) = Runner(root=tmp_path, stream=stream, project=project).run([finish])
    assert outcome.status == "passed", stream.getvalue()
    assert "running suitekit report (in this process)" in stream.getvalue()
    assert "suitekit: 1 passed, 0 failed, 0 skipped" in stream.getvalue()
    assert (tmp_path / "reports" / "junit.xml").is_file()
    assert "suitekit test summary" in finish.log.read_text()


def test_a_yielding_job_runs_at_a_lower_cpu_priority(tmp_path: Path) -> None:
    # It looks after a moment: the runner lowers the group right after it started it.
    probe = "import os, time; time.sleep(0.3); print(os.nice(0))"
    jobs = [job(tmp_path, "longest", probe), replace(job(tmp_path, "beside", probe), nice=5)]

    Runner(root=tmp_path, parallel=True, stream=io.StringIO()).run(jobs)

    ours = os.nice(0)
    assert (tmp_path / "logs" / "longest.log").read_text().strip() == str(ours)
    assert (tmp_path / "logs" / "beside.log").read_text().strip() == str(min(ours + 5, 19))


def test_servers_start_when_the_first_job_needing_them_starts_and_only_it_gets_them(
    tmp_path: Path,
) -> None:
    # The job needing PostgreSQL comes first in the plan; in a parallel run the others start
    # before its server does (they overlap with the server's start), and only it gets the URL.
    started: list[str] = []
    report = (
        "import os, pathlib, sys; pathlib.Path(sys.argv[1]).write_text(os.environ.get('URL', '-'))"
    )

    def needing(name: str, services: tuple[str, ...]) -> Job:
        spec = job(tmp_path, name, report)
        command = (*spec.command, str(tmp_path / f"{name}.url"))
        return replace(spec, command=command, services=services)

    class Recording(Runner):
        def _start(self, job: Job, served: Mapping[str, str]) -> Any:
            started.append(job.session)
            return Runner._start(self, job, served)

    def served() -> Mapping[str, str]:
        started.append("servers")
        return {"URL": "postgresql://example"}

    jobs = [needing("db", ("postgres",)), needing("plain", ()), needing("other", ())]
    orders = {True: ["plain", "other", "servers", "db"], False: ["servers", "db", "plain", "other"]}
    for parallel, order in orders.items():
        started.clear()
        runner = Recording(root=tmp_path, parallel=parallel, stream=io.StringIO(), served=served)
        outcomes = runner.run(jobs)
        assert [o.status for o in outcomes] == ["passed"] * 3
        assert started == order
        assert (tmp_path / "db.url").read_text() == "postgresql://example"
        assert (tmp_path / "plain.url").read_text() == "-"


def test_a_run_needing_no_servers_starts_none(tmp_path: Path) -> None:
    calls: list[int] = []

    def served() -> Mapping[str, str]:
        calls.append(1)
        return {}

    outcomes = Runner(root=tmp_path, parallel=True, stream=io.StringIO(), served=served).run(
        [job(tmp_path, "a", "pass"), job(tmp_path, "b", "pass")]
    )
    assert [o.status for o in outcomes] == ["passed", "passed"]
    assert calls == []


def test_a_job_whose_end_cannot_be_seen_is_not_waited_for_forever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As when a Ctrl-C left Popen's waitpid lock taken: polls say "running", timed waits time
    # out, and a wait without a timeout would never return (here: it fails the test at once).
    real_poll, real_wait = subprocess.Popen.poll, subprocess.Popen.wait
    blind: list[subprocess.Popen[Any]] = []

    def poll(self: subprocess.Popen[Any]) -> int | None:
        if LONG not in str(self.args):
            return real_poll(self)
        blind.append(self)
        return None

    def wait(self: subprocess.Popen[Any], timeout: float | None = None) -> int:
        if LONG not in str(self.args):
            return real_wait(self, timeout)
        if timeout is None:
            pytest.fail("the runner waited for a job's process without a timeout")
        raise subprocess.TimeoutExpired(self.args, timeout)

    monkeypatch.setattr(subprocess.Popen, "poll", poll)
    monkeypatch.setattr(subprocess.Popen, "wait", wait)
    monkeypatch.setattr("suitekit._runner._process._GRACE_SECONDS", 0.2)
    monkeypatch.setattr("suitekit._runner._jobs._REAPED_SECONDS", 0.1)
    stream = io.StringIO()
    jobs = [job(tmp_path, "bad", "raise SystemExit(3)"), job(tmp_path, "long", LONG)]
    try:
        outcomes = Runner(root=tmp_path, parallel=True, fail_fast=True, stream=stream).run(jobs)
    finally:
        monkeypatch.undo()
        for process in set(blind):
            process.kill()
            process.wait(timeout=30)  # killed by the run already: reaped, no ResourceWarning
    assert [(o.status, o.returncode) for o in outcomes] == [("failed", 3), ("cancelled", None)]
    said = r"long: its process \d+ was still there after SIGKILL; not waited for any longer"
    assert re.search(said, stream.getvalue()), stream.getvalue()


LONG = "import time; time.sleep(30)"
