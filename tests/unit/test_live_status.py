"""The live status: the progress a suite session writes, and what the runner shows of it."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from suitekit._progress import Progress, read, seconds_text
from suitekit._runner import Runner
from suitekit._runner._display import colour_wanted
from suitekit.plan import Job
from tests.unit.test_runner import Terminal

# A suite job of its own making: it writes its progress where the runner said, as the plugin
# does, then a failure, then the end.
WRITER = """\
import json, os, time
path = os.environ["SUITEKIT_PROGRESS"]
def write(done, failed, first, eta):
    data = {"total": 8, "done": done, "failed": failed, "first_failure": first, "eta": eta}
    with open(path + ".tmp", "w") as handle:
        json.dump(data, handle)
    os.replace(path + ".tmp", path)
write(3, 0, "", 42.0)
time.sleep(0.6)
write(5, 1, "tests/test_a.py::test_b[1]", 7.0)
time.sleep(0.6)
"""


def suite_job(root: Path, name: str, code: str) -> Job:
    return Job(
        session=name,
        kind="suite",
        title=name,
        command=(sys.executable, "-c", code),
        env={},
        required=True,
        junit=None,
        log=root / "logs" / f"{name}.log",
        target_seconds=None,
    )


def run_on(stream: io.StringIO, root: Path, *, verbosity: int = 0) -> str:
    progress = root / "progress"
    progress.mkdir(parents=True)
    Runner(root=root, parallel=True, stream=stream, progress=progress, verbosity=verbosity).run(
        [suite_job(root, "unit-3.11", WRITER)]
    )
    return stream.getvalue()


def test_progress_reads_back_and_says_what_is_known() -> None:
    progress = Progress(total=184, done=120, failed=1, first_failure="t.py::x", eta=65.2)

    assert Progress.from_json(progress.to_json()) == progress
    assert progress.text() == "120/184 tests, 1 failed, ETA 1m05s"
    assert Progress().text() == "collecting"
    assert Progress(total=3, done=3, eta=0.0).text() == "3/3 tests"
    assert Progress(total=3, done=1).text() == "1/3 tests"
    assert seconds_text(7.4) == "7s"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"total": "x"}',
        "{" * 10_000,
        '{"total": 1}',
        '{"total": 1, "done": 0, "failed": 0, "first_failure": "", "eta": Infinity}',
        '{"total": 1, "done": 0, "failed": 0, "first_failure": "", "eta": NaN}',
        '{"total": 1, "done": 0, "failed": 0, "first_failure": "", "eta": -1}',
        '{"total": 1, "done": 2, "failed": 0, "first_failure": "", "eta": null}',
        '{"total": 1, "done": 0, "failed": -1, "first_failure": "", "eta": null}',
        '{"total": 1e400, "done": 0, "failed": 0, "first_failure": "", "eta": null}',
    ],
)
def test_anything_else_is_no_progress(text: str) -> None:
    assert Progress.from_json(text) is None


def test_a_link_or_a_fifo_is_not_read(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text(Progress(total=1).to_json())
    (tmp_path / "link.json").symlink_to(real)
    os.mkfifo(tmp_path / "fifo.json")

    assert read(real) == Progress(total=1)
    assert read(tmp_path / "link.json") is None
    assert read(tmp_path / "fifo.json") is None
    assert read(tmp_path / "missing.json") is None


@pytest.mark.parametrize(
    ("tty", "environ", "wanted"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        (False, {"FORCE_COLOR": "1"}, True),
        (False, {"FORCE_COLOR": "0"}, False),
        (True, {"TERM": "dumb"}, False),
    ],
)
def test_colour_follows_no_color_force_color_and_the_terminal(
    tty: bool, environ: dict[str, str], wanted: bool
) -> None:
    stream = Terminal() if tty else io.StringIO()
    assert colour_wanted(stream, environ) is wanted


def test_a_terminal_shows_counts_eta_the_first_failure_and_colour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")

    text = run_on(Terminal(), tmp_path)

    assert "3/8 tests, ETA 42s" in text
    assert "5/8 tests, 1 failed, ETA 7s" in text
    assert "suitekit: unit-3.11: \x1b[31mfirst failure\x1b[0m: tests/test_a.py::test_b[1]" in text
    assert "\x1b[33mrunning" in text


def test_no_color_keeps_the_counts_and_drops_the_colour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm")

    text = run_on(Terminal(), tmp_path)

    assert "5/8 tests, 1 failed, ETA 7s" in text
    assert "first failure: tests/test_a.py::test_b[1]" in text
    assert "\x1b[3" not in text  # no colour; the block still moves the cursor


def test_a_pipe_gets_plain_lines_and_quiet_only_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    plain = run_on(io.StringIO(), tmp_path / "plain")
    quiet = run_on(io.StringIO(), tmp_path / "quiet", verbosity=-1)

    assert "\x1b[" not in plain
    assert "suitekit: unit-3.11: running" in plain
    assert "suitekit: unit-3.11: first failure: tests/test_a.py::test_b[1]" in plain
    assert "running" not in quiet
    assert "first failure" in quiet


def test_quiet_keeps_a_sequential_runs_output_in_the_logs_but_a_failures(tmp_path: Path) -> None:
    stream = io.StringIO()
    jobs = [
        replace(suite_job(tmp_path, "fine", "print('chatter of a passing session')"), kind="check"),
        replace(suite_job(tmp_path, "broken", "print('why it broke'); exit(1)"), kind="check"),
    ]

    Runner(root=tmp_path, stream=stream, verbosity=-1).run(jobs)

    text = stream.getvalue()
    assert "chatter of a passing session" not in text
    assert "why it broke" in text  # the failed session's log
    assert "suitekit: broken: failed" in text
    assert "suitekit: fine: passed" not in text
    assert (tmp_path / "logs" / "fine.log").read_text().strip() == "chatter of a passing session"
