"""How far a running suite session is: what its pytest writes and the runner's live status reads.

A suite session's pytest (the controller, under xdist) writes a small JSON file where the runner
names it (``SUITEKIT_PROGRESS``): how many tests it will run, how many have ended, how many
failed and the first that did, and how long the rest should take. The runner reads it while it
draws its status lines. Pure data and text here; the file is written atomically by the plugin
(:mod:`suitekit.pytest_plugin._progress`) and read with :func:`read`, which takes anything it
cannot read as "nothing yet".
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from suitekit._files import FileRefusedError, load_json, open_regular

__all__ = ["Progress", "read", "seconds_text"]

_LIMIT: Final = 64 * 1024  # one small object; anything larger is not ours


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """One suite session's progress.

    Attributes:
        total: The tests it runs (0: not collected yet).
        done: The tests that have ended.
        failed: The tests that failed or errored so far.
        first_failure: The node id of the first test that failed ("": none).
        eta: The seconds the rest should take (from the durations store, else the pace so
            far); ``None``: nothing to go on yet.
    """

    total: int = 0
    done: int = 0
    failed: int = 0
    first_failure: str = ""
    eta: float | None = None

    def to_json(self) -> str:
        """The file's text."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Progress | None:
        """The progress in ``text``, or ``None`` for anything else.

        Anything else: counts below 0, more tests done than there are, a time left that is not
        a finite number of seconds from 0.
        """
        try:
            data = load_json(text)
            progress = cls(
                total=int(data["total"]),
                done=int(data["done"]),
                failed=int(data["failed"]),
                first_failure=str(data["first_failure"]),
                eta=None if data["eta"] is None else float(data["eta"]),
            )
        except (ValueError, KeyError, TypeError, OverflowError):
            return None
        counts = (progress.total, progress.done, progress.failed)
        if min(counts) < 0 or progress.done > progress.total:
            return None
        if progress.eta is not None and not (math.isfinite(progress.eta) and progress.eta >= 0):
            return None
        return progress

    def text(self) -> str:
        """``120/184 tests, 1 failed, ETA 12s`` (the parts that are known)."""
        if not self.total:
            return "collecting"
        parts = [f"{self.done}/{self.total} tests"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.eta is not None and self.done < self.total:
            parts.append(f"ETA {seconds_text(self.eta)}")
        return ", ".join(parts)


def seconds_text(seconds: float) -> str:
    """``7s``, ``1m05s``: a duration as a person reads it."""
    whole = max(round(seconds), 0)
    return f"{whole}s" if whole < 60 else f"{whole // 60}m{whole % 60:02d}s"  # noqa: PLR2004


def read(path: Path) -> Progress | None:
    """The progress in the file at ``path``; ``None`` when there is none (yet) or it is not one.

    Opened as suitekit opens every file it reads from a shared place: no link followed, nothing
    but a regular file, and a bounded read.
    """
    try:
        with open_regular(path, limit=_LIMIT) as handle:
            return Progress.from_json(handle.read(_LIMIT + 1).decode("utf-8"))
    except (OSError, FileRefusedError, UnicodeDecodeError):
        return None
