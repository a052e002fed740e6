"""Measure what pytest and pytest-xdist cost on this machine, once, and cache it.

The pytest plugin asks for the :class:`Calibration` of the Python it runs in (the suite's own
virtualenv, so the figures are of the suite's pytest and xdist) only when ``workers = "auto"``
has to weigh xdist against a serial run. The cache is read in-process; a measurement happens at
most once per machine, CPU count, Python, pytest and pytest-xdist version, and says so while it
runs.

The measurement runs two pytest processes on :data:`MANY` generated trivial tests, one without
xdist and one with 2 workers, and reads timestamps a small conftest takes inside them (so that
Python's own start-up, paid by every run alike, is left out): the time from the session's start
to its first result, the time per result after that, and the time from the last result to the
end of the run (xdist stops its workers then: about 0.2 s more than a serial run's end, which
the first version left out). It takes two to three seconds on an idle
machine. It is never taken on a busy one, because every figure would come out slow and steer
every later decision: it is skipped when the load average is above half the CPUs, discarded when
other processes took more than :data:`MAX_FOREIGN_LOAD` CPUs while it ran, and discarded when a
figure is implausible (:meth:`Calibration.problem`). Until a good measurement exists the decision
uses :data:`~suitekit.sharding._workers.DEFAULT_CALIBRATION` and measures again next time.

The cache is ``$XDG_CACHE_HOME/suitekit/calibration.json`` (default ``~/.cache``);
``SUITEKIT_CALIBRATION`` names another file. ``python -m suitekit.sharding._calibrate`` prints
the calibration (measuring it if needed).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from suitekit import _handoff
from suitekit._files import FileRefusedError, load_json, open_regular, write_text_atomic
from suitekit.errors import ReportError
from suitekit.sharding._workers import Calibration

__all__ = [
    "ENV_CALIBRATION",
    "MANY",
    "MAX_FOREIGN_LOAD",
    "MEASURING",
    "cache_path",
    "cached",
    "fingerprint",
    "measure",
    "obtain",
    "running_others",
]

ENV_CALIBRATION: Final = _handoff.ENV_CALIBRATION
MANY: Final = 400
MAX_FOREIGN_LOAD: Final = 0.3
"""CPUs that other processes may use during a measurement before it is discarded."""
MEASURING: Final = "suitekit: measuring this machine's xdist start-up, once (about 3 s)"

_MEASURED: Final = "measured=2"
"""The measurement's version, in the fingerprint: 2 counts the workers' stop in the start-up."""
_CACHE_LIMIT: Final = 1 << 20  # a few calibrations, one per machine fingerprint
_CONFTEST: Final = """
import json, os, time

OUT = __OUT__

_seen = []
_start = [0.0]


def pytest_sessionstart(session):
    _start[0] = time.monotonic()


def pytest_runtest_logreport(report):
    if report.when == "call":  # in the controller: when the result arrived
        _seen.append(time.monotonic())


def pytest_unconfigure(config):
    if hasattr(config, "workerinput"):
        return
    with open(os.environ[OUT], "w") as handle:
        json.dump({"start": _start[0], "results": _seen, "end": time.monotonic()}, handle)
""".replace("__OUT__", repr(_handoff.ENV_CALIBRATION_OUT))


def fingerprint() -> str:
    """What a calibration depends on: machine, CPU count, Python, pytest and xdist versions.

    And the measurement's own version: a calibration measured another way is measured again.
    """
    versions = []
    for name in ("pytest", "pytest-xdist"):
        try:
            versions.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name}==none")
    python = ".".join(str(part) for part in sys.version_info[:3])
    return " ".join(
        [platform.node(), f"cpus={os.cpu_count()}", f"python={python}", *versions, _MEASURED]
    )


def cache_path(environ: Mapping[str, str]) -> Path:
    """Where calibrations are cached."""
    if explicit := environ.get(ENV_CALIBRATION):
        return Path(explicit)
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base, "suitekit", "calibration.json")


def _read_cache(path: Path) -> dict[str, str]:
    # A cache, so anything odd is no cache; read bounded all the same (see open_regular).
    with contextlib.suppress(OSError, FileRefusedError, ValueError, TypeError):
        with open_regular(path, limit=_CACHE_LIMIT) as handle:
            loaded = load_json(handle.read(_CACHE_LIMIT + 1))
        if isinstance(loaded, dict):
            return {str(key): str(value) for key, value in loaded.items()}
    return {}


def cached(environ: Mapping[str, str]) -> Calibration | None:
    """This machine's cached calibration, or ``None``; never measures, never fails."""
    entry = _read_cache(cache_path(environ)).get(fingerprint())
    if entry is None:
        return None
    try:
        calibration = Calibration.from_json(entry)
    except ValueError:
        return None
    return calibration if calibration.problem() is None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Timed:
    """One calibration run: seconds to the first result, per result after it, and to the end."""

    first: float
    per_test: float
    last_to_end: float


def _busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (Linux), else ``None``."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()[1:]
        ticks = [int(value) for value in fields]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # noqa: PLR2004 - idle and iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _children_cpu_seconds() -> float:
    times = os.times()
    return times.children_user + times.children_system


_PROJECT_SETTINGS: Final = ("DJANGO_SETTINGS_MODULE", "DJANGO_CONFIGURATION")
"""Variables naming the project's own settings, which the calibration's trivial tests lack."""


def _run(folder: Path, workers: int) -> _Timed:
    """Time one pytest run of the trivial tests in ``folder``."""
    out = folder / f"timing-{workers}.json"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        f"--rootdir={folder}",
        "-c",
        str(folder / "pytest.ini"),
        "-n",
        str(workers),
        str(folder / "test_calibrate.py"),
    ]
    # The project's own settings stay out: pytest-django, given the project's settings module,
    # would import it here, outside the project (and fail); without it, it only loads.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PYTEST_") and key not in _PROJECT_SETTINGS
    }
    env.pop(_handoff.ENV_SHARD, None)
    env[_handoff.ENV_CALIBRATION_OUT] = str(out)
    run = subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if run.returncode != 0:
        # Said in one line by the caller, not as the run's traceback.
        lines = (run.stderr.strip() or run.stdout).splitlines()
        last = next((line for line in reversed(lines) if line.strip()), "")
        message = f"the calibration run exited {run.returncode}: {last.strip()[:300]}"
        raise ValueError(message)
    data = json.loads(out.read_text(encoding="utf-8"))
    results = sorted(float(value) for value in data["results"])
    if len(results) < 2:  # noqa: PLR2004 - a rate needs two results
        message = f"the calibration run saw {len(results)} results"
        raise ValueError(message)
    return _Timed(
        first=results[0] - float(data["start"]),
        per_test=(results[-1] - results[0]) / (len(results) - 1),
        last_to_end=max(float(data["end"]) - results[-1], 0.0),
    )


def _calibration(serial: _Timed, xdist: _Timed, cpus: int) -> Calibration:
    """The machine's costs from a serial run and a run with 2 workers of the same tests.

    xdist's fixed cost is what the 2-worker run spends beyond the serial one outside its tests:
    before its first result (starting the workers, which collect) and after its last (stopping
    them). Each further worker is a Python start-up and a collection, about half of what
    starting the first two cost together (not measured: a third run would cost another
    second); the workers are stopped together, so the stop is counted once, not per worker.
    """
    start = max(xdist.first - serial.first, 0.0)
    stop = max(xdist.last_to_end - serial.last_to_end, 0.0)
    return Calibration(
        serial_per_test=serial.per_test,
        xdist_per_test=xdist.per_test,
        xdist_startup=start + stop,
        startup_per_worker=start / 4,
        cpus=cpus,
    )


def _write_project(folder: Path) -> None:
    """The calibration's trivial tests, and the conftest that times them, in ``folder``."""
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (folder / "conftest.py").write_text(_CONFTEST, encoding="utf-8")
    (folder / "test_calibrate.py").write_text(
        "import pytest\n\n\n"
        f"@pytest.mark.parametrize('n', range({MANY}))\n"
        "def test_nothing(n):\n    pass\n",
        encoding="utf-8",
    )


def measure() -> tuple[Calibration, float]:
    """Measure this machine's pytest and xdist costs (two to three seconds).

    Returns:
        The calibration and the CPUs other processes used on average while it ran (0.0 where
        the machine's CPU time cannot be read).

    Raises:
        OSError: A run could not be started.
        ValueError: A run failed (its last line of output), or did not report its timings.
    """
    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="suitekit-calibrate-") as raw:
        folder = Path(raw)
        _write_project(folder)
        busy, mine, started = _busy_cpu_seconds(), _children_cpu_seconds(), time.monotonic()
        serial, xdist = _run(folder, 0), _run(folder, 2)
        wall = time.monotonic() - started
        busy_after = _busy_cpu_seconds()
    foreign = 0.0
    if busy is not None and busy_after is not None and wall > 0:
        ours = _children_cpu_seconds() - mine
        foreign = max(busy_after - busy - ours, 0.0) / wall
    return _calibration(serial, xdist, cpus), foreign


def obtain(
    environ: Mapping[str, str],
    *,
    say: Callable[[str], None],
    measurer: Callable[[], tuple[Calibration, float]] = measure,
    load: Callable[[], float] | None = None,
) -> Calibration | None:
    """The cached calibration, else a fresh measurement if the machine is idle enough.

    Returns ``None`` (the caller then assumes
    :data:`~suitekit.sharding._workers.DEFAULT_CALIBRATION`) when the machine is busy, the
    measurement fails, ran under load, or gave implausible figures; ``say`` is told why. A
    cache that cannot be written is measured around, never fatal: the calibration only tunes
    the worker count.

    Args:
        environ: The environment (for the cache's location).
        say: Prints one line to the user.
        measurer: Takes the measurement (tests pass a fake).
        load: The 1-minute load average (tests pass a fake); :func:`os.getloadavg` by default.
    """
    if (found := cached(environ)) is not None:
        return found
    cpus = os.cpu_count() or 1
    current = load() if load is not None else _load_average()
    if current > cpus / 2:
        say(
            f"suitekit: not measuring xdist's costs now (load average {current:.1f} on {cpus} "
            "CPUs would make them look slow); assuming a slow machine's"
        )
        return None
    say(MEASURING)
    try:
        calibration, foreign = measurer()
    except (OSError, ValueError, KeyError) as error:
        say(f"suitekit: the measurement failed ({error}); assuming a slow machine's costs")
        return None
    problem = calibration.problem()
    if foreign > MAX_FOREIGN_LOAD * cpus:
        problem = f"other processes used {foreign:.1f} CPUs meanwhile"
    if problem is not None:
        say(f"suitekit: measurement discarded ({problem}); it is taken again next time")
        return None
    path = cache_path(environ)
    cache = _read_cache(path)
    cache[fingerprint()] = calibration.to_json()
    with contextlib.suppress(ReportError):  # e.g. a read-only home: measure again next time
        write_text_atomic(path, json.dumps(cache, indent=2, sort_keys=True) + "\n")
    return calibration


READINGS: Final = 5
"""How many times :func:`running_others` reads the runnable count, 5 ms apart (its median)."""


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform: nothing tells of other load
        return 0.0


def _proc_loadavg() -> str:
    return Path("/proc/loadavg").read_text(encoding="ascii")


def running_others(
    read: Callable[[], str] = _proc_loadavg,
    *,
    average: Callable[[], float] = _load_average,
    pause: float = 0.005,
) -> float:
    """How many other processes want a CPU now: Linux's runnable count, less the reading one.

    Now, not the one-minute load average, which a parallel run's sessions that started together
    have not moved yet. The count changes from one moment to the next (a process that passes
    by, one that waits on a disk): the median of :data:`READINGS` readings over 20 ms. Where
    there is no ``/proc``, the one-minute load average (``average``, :func:`os.getloadavg`'s by
    default), to which a process that started seconds ago adds next to nothing.

    Args:
        read: The text of ``/proc/loadavg`` (tests give their own).
        average: The load average, where ``read`` fails.
        pause: Seconds between readings.
    """
    counts: list[int] = []
    for index in range(READINGS):
        if index:
            time.sleep(pause)
        try:
            fields = read().split()
            counts.append(int(fields[3].split("/")[0]))
        except (OSError, ValueError, IndexError):
            return average()
    return float(max(statistics.median_low(counts) - 1, 0))


if __name__ == "__main__":
    found = obtain(os.environ, say=lambda line: print(line, file=sys.stderr))  # noqa: T201
    print(found.to_json() if found is not None else "none")  # noqa: T201 - the module's output
