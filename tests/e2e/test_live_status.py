"""The live status of `suitekit run --parallel` on a real pseudo-terminal, and in a pipe."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

from tests.e2e.helpers import BIN, Project, clean_env, make_project

MANY = """\
import time
import pytest

@pytest.mark.parametrize("n", range(30))
def test_many(n):
    time.sleep(0.1)
    assert n != 7
"""


def _on_a_terminal(project: Project, env: dict[str, str]) -> str:
    """Run `suitekit run --parallel` with a pseudo-terminal as its output; all it wrote."""
    main, child = pty.openpty()
    process = subprocess.Popen(
        [str(BIN / "suitekit"), "run", "--parallel"],
        cwd=project.root,
        env=clean_env({"TERM": "xterm", **env}),
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
    )
    os.close(child)
    output = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 1.0)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            data = os.read(main, 65536)
        except OSError:  # the child side closed: everything was read
            break
        if not data:
            break
        output += data
    process.wait(timeout=60)
    os.close(main)
    return output.decode(errors="replace")


def test_a_terminal_sees_counts_eta_the_first_failure_and_colour(tmp_path: Path) -> None:
    project = make_project(tmp_path / "demo")
    project.write("tests/unit/test_many.py", MANY)

    coloured = _on_a_terminal(project, {})

    assert re.search(r"unit-3\.11 .*\d+/33 tests", coloured), coloured
    assert re.search(r"\d+/33 tests, .*ETA \d+s", coloured), coloured
    assert "\x1b[33mrunning" in coloured  # yellow while it runs
    assert "first failure\x1b[0m: tests/unit/test_many.py::test_many[7]" in coloured
    assert "unit-3.11: \x1b[31mfailed\x1b[0m" in coloured

    plain = _on_a_terminal(project, {"NO_COLOR": "1"})

    assert re.search(r"\d+/33 tests", plain), plain
    assert "first failure: tests/unit/test_many.py::test_many[7]" in plain
    assert not re.search(r"\x1b\[\d+m", plain)  # no colour; the block still moves the cursor

    piped = project.run("suitekit", "run", "--parallel")

    output = piped.stdout + piped.stderr
    assert piped.returncode == 1, output
    assert "\x1b[" not in output
    assert "suitekit: unit-3.11: first failure: tests/unit/test_many.py::test_many[7]" in output
