"""Measure what pytest and pytest-xdist cost on this machine, once, and cache it.

``python -m suitekit.sharding._calibrate`` prints the :class:`Calibration` of the Python it runs
in, measuring it when the cache has none for this machine, Python, pytest and pytest-xdist.
suitekit's nox sessions run it inside the session's virtualenv, where the suite's pytest is.

The measurement runs pytest on generated trivial tests, 1 and :data:`MANY` of them, without
xdist and with 2 and 3 workers, each twice (the faster run counts: the slower one met noise).
The differences give the fixed and per-test costs; the tests themselves take no time. It takes
about ten seconds and is cached in ``$XDG_CACHE_HOME/suitekit/calibration.json`` (default
``~/.cache``), keyed by everything it depends on; ``SUITEKIT_CALIBRATION`` names another file.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from suitekit._files import write_text_atomic
from suitekit.errors import ReportError
from suitekit.sharding._workers import Calibration

__all__ = ["ENV_CALIBRATION", "cache_path", "cached_or_measured", "fingerprint", "measure"]

ENV_CALIBRATION: Final = "SUITEKIT_CALIBRATION"
MANY: Final = 1500
_REPEAT: Final = 2


def fingerprint() -> str:
    """What a calibration depends on: machine, CPU count, Python, pytest and xdist versions."""
    versions = []
    for name in ("pytest", "pytest-xdist"):
        try:
            versions.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name}==none")
    python = ".".join(str(part) for part in sys.version_info[:3])
    return " ".join([platform.node(), f"cpus={os.cpu_count()}", f"python={python}", *versions])


def cache_path(environ: Mapping[str, str]) -> Path:
    """Where calibrations are cached."""
    if explicit := environ.get(ENV_CALIBRATION):
        return Path(explicit)
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base, "suitekit", "calibration.json")


def _run(folder: Path, tests: int, workers: int) -> float:
    """Seconds of one pytest run of ``tests`` trivial tests (the faster of two runs)."""
    test_file = folder / "test_calibrate.py"
    test_file.write_text(
        "import pytest\n\n\n"
        f"@pytest.mark.parametrize('n', range({tests}))\n"
        "def test_nothing(n):\n    pass\n",
        encoding="utf-8",
    )
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
        str(test_file),
    ]
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.pop("SUITEKIT_SHARD", None)
    best = float("inf")
    for _ in range(_REPEAT):
        started = time.perf_counter()
        subprocess.run(command, cwd=folder, env=env, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - started)
    return best


def measure() -> Calibration:
    """Measure this machine's pytest and xdist costs (about ten seconds)."""
    with tempfile.TemporaryDirectory(prefix="suitekit-calibrate-") as raw:
        folder = Path(raw)
        (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        serial_one, serial_many = _run(folder, 1, 0), _run(folder, MANY, 0)
        two_one, two_many = _run(folder, 1, 2), _run(folder, MANY, 2)
        three_one = _run(folder, 1, 3)
    return Calibration(
        serial_per_test=max(serial_many - serial_one, 0.0) / (MANY - 1),
        xdist_per_test=max(two_many - two_one, 0.0) / (MANY - 1),
        xdist_startup=max(two_one - serial_one, 0.0),
        startup_per_worker=max(three_one - two_one, 0.0),
        cpus=os.cpu_count() or 1,
    )


def cached_or_measured(environ: Mapping[str, str]) -> Calibration:
    """The cached calibration of this machine and Python, measured and cached if missing.

    A cache that cannot be read or written is measured around, never fatal: the calibration
    only tunes the worker count.
    """
    path = cache_path(environ)
    key = fingerprint()
    cache: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError, TypeError):
        loaded = json.loads(path.read_text(encoding="utf-8"))
        cache = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
    if key in cache:
        with contextlib.suppress(ValueError):
            return Calibration.from_json(cache[key])
    calibration = measure()
    cache[key] = calibration.to_json()
    with contextlib.suppress(ReportError):  # e.g. a read-only home: measure again next time
        write_text_atomic(path, json.dumps(cache, indent=2, sort_keys=True) + "\n")
    return calibration


if __name__ == "__main__":
    print(cached_or_measured(os.environ).to_json())  # noqa: T201 - the module's output
