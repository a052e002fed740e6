"""Ctrl-C twice at many moments of a run's start-up; say what each trial left behind.

tests/e2e/test_interrupts.py runs this in a mount namespace of its own, with an empty RAM disk
mounted on /dev/shm: every throwaway server's folder there is then one of these trials', and
one that outlives its trial is a leak, whatever other tests run meanwhile. Each trial starts
``inv test.unit`` or ``nox -s unit-3.11`` in a process group of its own, sends the group SIGINT
after a delay, SIGINT again after a short gap, waits for the run to end and then looks for what
it left: processes carrying the trial's mark in their environment or living in the driver's
mount namespace (the servers: they get none of the run's environment), server records and
per-worker folders in the trial's state folder, server folders on the RAM disk, and, when the
run was given servers, its databases and Redis leases there.
Whatever a trial left is removed before the next one, so that each trial is judged alone.

Usage: ``python interrupt_trials.py SPEC`` with SPEC a JSON object (see :func:`main`); one
JSON line per trial on standard output.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from suitekit.services import clean
from tests.e2e.helpers import BIN, clean_env

MARK = "SUITEKIT_TRIAL_MARK"
RAM_DISK = Path("/dev/shm")


def marked_processes(token: str) -> list[str]:
    """``pid command`` of every process a trial started that is still there.

    Those whose environment carries the trial's mark, and every process of this driver's own
    mount namespace but the driver: the throwaway servers, which get none of the run's
    environment, are found by the latter (only this driver's trials start processes in it).
    """
    needle = f"{MARK}={token}".encode()
    namespace = Path("/proc/self/ns/mnt").readlink()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            same_namespace = (entry / "ns" / "mnt").readlink() == namespace
        except OSError:
            continue
        if needle in environ.split(b"\0") or same_namespace:
            found.append(f"{entry.name} {command.strip()}")
    return found


def leftovers(token: str, state: Path, run_id: str, given: dict[str, str]) -> list[str]:
    """Everything of a finished trial that is still there."""
    left = [f"process {line}" for line in marked_processes(token)]
    for folder in ("servers", "work"):
        where = state / "suitekit" / folder
        if where.is_dir():
            left += [f"{folder} {path.name}" for path in where.iterdir()]
    left += [f"server folder {path}" for path in RAM_DISK.glob("suitekit-*/*")]
    if given:
        from tests.e2e.isolation import (  # noqa: PLC0415
            databases_named_for,
            redis_leases,
            suitekit_databases,
        )

        left += [f"database {name}" for name in suitekit_databases(run_id, prefix=True)]
        # Unmarked ones too (a worker interrupted while the server created its database).
        named = databases_named_for(f"{run_id}-py3.11", "unit")
        left += [f"database {name}" for name in named if f"database {name}" not in left]
        left += [f"redis lease {key}" for key in redis_leases(run_id, prefix=True)]
    return left


def remove(token: str, state: Path, given: dict[str, str], root: Path) -> None:
    """Stop and remove what a trial left, so the next one starts from nothing."""
    for line in marked_processes(token):
        pid = int(line.split(" ", 1)[0])
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    os.environ["XDG_RUNTIME_DIR"] = str(state)
    project = None
    if given:
        from suitekit import load_project  # noqa: PLC0415

        project = load_project(root)
    clean(project, {"DATABASE_URL": given.get("postgres", ""), "REDIS_URL": given.get("redis", "")})
    for path in RAM_DISK.glob("suitekit-*/*"):
        subprocess.run(["rm", "-rf", str(path)], check=False)


def trial(spec: dict[str, Any], number: int, delay: float, gap: float) -> dict[str, Any]:
    """One run, interrupted twice; what it printed last and what it left."""
    root = Path(spec["root"])
    token = secrets.token_hex(8)
    run_id = f"ctrlc{spec['tool']}{number}x{os.getpid()}"
    state = Path(tempfile.mkdtemp(prefix="trial-state-"))  # 0700: a private runtime folder
    given: dict[str, str] = spec["given"] if number % 2 else {}
    reached = state / "tests-started"  # the project's test makes it: start-up was over
    env = {
        MARK: token,
        "XDG_RUNTIME_DIR": str(state),
        "SUITEKIT_RUN_ID": run_id,
        "WAIT": "1",
        "TESTS_STARTED_FILE": str(reached),
    }
    if given:
        env.update({"DATABASE_URL": given["postgres"], "REDIS_URL": given["redis"]})
    argv = (
        [str(BIN / "inv"), "test.unit"]
        if spec["tool"] == "inv"
        else [str(BIN / "nox"), "-s", "unit-3.11"]
    )
    process = subprocess.Popen(
        argv,
        cwd=root,
        env=clean_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    time.sleep(delay)
    for pause in (gap, 0.0):
        try:
            os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the group
        except ProcessLookupError:
            break
        time.sleep(pause)
    try:
        output = process.communicate(timeout=120)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output = process.communicate()[0].decode(errors="replace") + "\n(killed: no exit)"
    left: list[str] = []
    deadline = time.monotonic() + 10  # what a stopping run's group still winds down
    while time.monotonic() < deadline:
        left = leftovers(token, state, run_id, given)
        if not left:
            break
        time.sleep(0.05)
    if left:
        remove(token, state, given, root)
    reached_tests = reached.exists()
    subprocess.run(["rm", "-rf", str(state)], check=False)
    return {
        "trial": number,
        "tool": spec["tool"],
        "given": bool(given),
        "delay": round(delay, 3),
        "gap": round(gap, 3),
        "returncode": process.returncode,
        "left": left,
        "reached_tests": reached_tests,
        "tail": output[-3000:],
    }


def main(argv: list[str]) -> int:
    """Run the trials SPEC asks for.

    SPEC: ``root`` (the project), ``tool`` (``inv`` or ``nox``), ``trials``, ``horizon`` (the
    latest delay, in seconds: about when the run's tests start), ``seed``, ``given`` (URLs of
    servers that odd trials use, ``postgres`` and ``redis``, or an empty object).
    """
    spec = json.loads(argv[1])
    rng = random.Random(spec["seed"])  # noqa: S311 - moments of a test, not secrets
    for number in range(spec["trials"]):
        # Spread evenly over the start-up, jittered: every moment of it gets its trials.
        slot = spec["horizon"] / spec["trials"]
        delay = number * slot + rng.uniform(0, slot)
        gap = rng.choice([0.0, 0.01, 0.05, 0.1, 0.2, 0.4])
        print(json.dumps(trial(spec, number, delay, gap)), flush=True)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
