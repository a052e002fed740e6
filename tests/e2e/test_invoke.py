"""`inv` on a project whose tasks.py is `from suitekit.invoke import ns`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from suitekit import load_project, plan
from tests.e2e.helpers import BIN, Project, clean_env, make_project

ADVISORY = """\
[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = 2

[tool.suitekit.suites.slow]
marker = "slow"
workers = 0

[tool.suitekit.checks]
hello = "python -c 'print(42)'"
audit = { run = "python -c 'raise SystemExit(3)'", allow-failure = true }
"""


GAP = """\
[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = 0

[tool.suitekit.suites.slow]
paths = ["tests/slow"]
marker = "slow"
workers = 0
"""


def test_inv_lists_the_tasks(project: Project) -> None:
    result = project.run("inv", "--list")
    assert result.returncode == 0, result.stderr
    for task in ("test.unit", "test.slow", "test.all", "check.hello"):
        assert task in result.stdout


def test_test_all_parallel_runs_everything_and_summarises(project: Project) -> None:
    result = project.run("inv", "test.all", "--parallel")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    # The guard is decided from what the suite sessions collected: no session of its own.
    assert "suitekit: partition: passed, from the suites' own collections (unit 3, slow 1)" in out
    for session in ("unit-3.11", "slow-3.11", "hello"):
        assert f"suitekit: {session}: running nox -s {session}" in out
        assert f"suitekit: {session}: passed" in out
    assert "suitekit: partition: running" not in out
    assert "suitekit summary" in out
    # The ending says where the reports are, and its verdict is the last line.
    assert re.search(r"^  merged JUnit +\.suitekit/reports/junit\.xml$", out, re.MULTILINE), out
    assert re.search(r"^  summary +\.suitekit/reports/summary\.md$", out, re.MULTILINE), out
    last = out.rstrip().splitlines()[-1]
    assert re.fullmatch(r"suitekit: 4 passed, 0 failed, 0 skipped in \d+\.\ds", last), out
    logs = project.root / ".suitekit" / "reports" / "logs"
    for session in ("unit-3.11", "slow-3.11", "hello"):
        assert (logs / f"{session}.log").is_file()
    assert not (logs / "partition.log").exists()
    assert not (project.root / ".nox" / "partition").exists()


def test_invoke_runs_the_very_command_ci_runs(project: Project) -> None:
    """The command a task prints and runs is plan.nox_command: what generated CI runs."""
    result = project.run("inv", "test.unit")
    assert result.returncode == 0, result.stdout + result.stderr
    expected = " ".join(plan.nox_command("unit-3.11"))
    assert f"suitekit: unit-3.11: running {expected}" in result.stdout
    jobs = plan.jobs(load_project(project.root), suites=["unit"], checks=[])
    assert [job.command for job in jobs] == [plan.nox_command("unit-3.11")]


def test_arguments_after_the_dashes_go_to_one_suites_runner(project: Project) -> None:
    narrowed = project.run("inv", "test.unit", "--", "-k", "other or third", "-p", "no:randomly")
    output = narrowed.stdout + narrowed.stderr
    assert narrowed.returncode == 0, output
    running = "suitekit: unit-3.11: running nox -s unit-3.11 -- -k 'other or third' -p no:randomly"
    assert running in output
    last = output.rstrip().splitlines()[-1]
    assert re.fullmatch(r"suitekit: 2 passed, 0 failed, 0 skipped in \d+\.\ds", last), output  # -k

    everything = project.run("inv", "test.all", "--", "-x")
    assert everything.returncode == 2, everything.stdout + everything.stderr
    assert "inv test.all takes no arguments after -- ('-x')" in everything.stderr
    assert "inv test.<suite> -- ..." in everything.stderr


def test_a_short_flag_means_the_same_in_every_task(project: Project) -> None:
    flags: dict[str, str] = {}
    for task in ("test.all", "test.unit", "test.flaky", "check.hello"):
        shown = project.run("inv", "--help", task)
        assert shown.returncode == 0, shown.stderr
        for line in shown.stdout.splitlines():
            parts = line.split()
            if parts and parts[0].startswith("-") and not parts[0].startswith("--"):
                short, long = parts[0].rstrip(","), parts[1].split("=")[0]
                assert flags.setdefault(short, long) == long, (task, short, long, flags)
    assert flags["-p"] == "--parallel"
    assert flags["-r"] == "--reinstall"


def test_advisory_check_failure_is_reported_not_fatal(demo_root: Path) -> None:
    project = make_project(demo_root, extra=ADVISORY)
    result = project.run("inv", "test.all")
    out = result.stdout
    assert result.returncode == 0, out
    assert "failed (advisory)" in out
    last = out.rstrip().splitlines()[-1]
    assert re.fullmatch(r"suitekit: \d+ passed, 0 failed, 0 skipped in \d+\.\ds", last), out


def test_required_failure_fails_the_run_and_prints_its_log(project: Project) -> None:
    project.write("tests/unit/test_bad.py", "def test_bad():\n    assert 1 == 2\n")
    result = project.run("inv", "test.all", "--parallel")
    out = result.stdout
    assert result.returncode == 1, out
    assert "----- " in out  # the failed session's log is printed
    assert "assert 1 == 2" in out
    # The ending names the failed test and the command that reruns it, near its verdict.
    assert (
        "  FAILED tests/unit/test_bad.py::test_bad (unit-3.11)\n"
        "    rerun: nox -s unit-3.11 -- tests/unit/test_bad.py::test_bad\n"
    ) in out
    last = out.rstrip().splitlines()[-1]
    verdict = r"suitekit: 4 passed, 1 failed, 0 skipped in \d+\.\ds; failed: unit-3\.11, report"
    assert re.fullmatch(verdict, last), out


def test_unowned_test_file_fails_test_all_naming_the_node_ids(project: Project) -> None:
    project.write("tests/stray/test_stray.py", "def test_lost():\n    pass\n")
    result = project.run("inv", "test.all", "--parallel")
    out = result.stdout
    assert result.returncode == 1, out
    assert "1 test(s) belong to no suite:\n  tests/stray/test_stray.py::test_lost\n" in out
    # Decided from the sessions' own collections (the marker-only slow suite collected the
    # stray file), after they ran: the summary names the guard among the failures.
    assert "suitekit: partition failed: the suites do not partition the tests" in out
    assert "failed: partition" in out
    assert not (project.root / ".nox" / "partition").exists()


def test_a_test_file_outside_every_suites_paths_is_found_by_the_guard_session(
    demo_root: Path,
) -> None:
    project = make_project(demo_root, extra=GAP)
    project.write("tests/stray/test_stray.py", "def test_lost():\n    pass\n")
    result = project.run("inv", "test.all")
    out = result.stdout
    assert result.returncode == 1, out
    # No suite collects tests/stray: only a collection of every root can name its tests.
    assert "suitekit: partition: tests/stray/test_stray.py lies outside every suite's paths" in out
    assert "tests/stray/test_stray.py::test_lost" in out
    assert "suitekit: partition failed: the suites do not partition the tests" in out


def test_fail_fast_cancels_the_rest(project: Project) -> None:
    project.write(
        "tests/slow/test_slow.py",
        "import time, pytest\npytestmark = pytest.mark.slow\n"
        "def test_slow():\n    time.sleep(60)\n",
    )
    project.write("tests/unit/test_bad.py", "def test_bad():\n    assert False\n")
    started = time.monotonic()
    result = project.run("inv", "test.all", "--parallel", "--fail-fast")
    assert result.returncode == 1
    assert time.monotonic() - started < 50
    assert "slow-3.11: cancelled" in result.stdout


def _descendants_running(marker: str) -> list[str]:
    """Command lines of live processes that mention ``marker`` (read from /proc, never cut)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile
        if marker in command:
            found.append(command)
    return found


def test_ctrl_c_stops_every_session_and_leaves_no_process(project: Project) -> None:
    # Interrupted once both suites' pytest runs are up: no install is left half done.
    project.write(
        "tests/slow/test_slow.py",
        "import time, pytest\npytestmark = pytest.mark.slow\n"
        "def test_slow():\n    time.sleep(120)\n",
    )
    project.write("tests/unit/test_wait.py", "import time\ndef test_wait():\n    time.sleep(120)\n")
    process = subprocess.Popen(
        [str(BIN / "inv"), "test.all", "--parallel"],
        cwd=project.root,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until both suites' pytest processes are up
        running = [line for line in _descendants_running(str(project.root)) if "pytest" in line]
        if len(running) >= 2:
            break
        time.sleep(0.1)
    time.sleep(2)
    os.kill(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    # Said as interrupted, never as failed.
    last = output.rstrip().splitlines()[-1]
    assert last.startswith("suitekit: interrupted (Ctrl-C or SIGTERM): "), output
    assert "failed: " not in last
    time.sleep(1)
    assert _descendants_running(str(project.root)) == []
