"""What a run shows while it runs: one line per event, and a live status block on a terminal.

In a parallel run on a terminal, a block of one line per job (its status and time) is drawn
below the event lines and redrawn as the run goes; every event line first clears it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from suitekit._runner._options import RunnerOptions
from suitekit._runner._outcome import Outcome, Status
from suitekit.plan import Job

__all__ = ["Display"]

_LOG_TAIL_LINES: Final = 200


@dataclass(slots=True)
class Display:
    """The progress of one run on the options' stream.

    Attributes:
        options: The run's options (its stream, whether it is parallel, its root).
        status: Each job's status, in the jobs' order.
        started: When each job that started did (``time.monotonic``).
        drawn: How many lines the status block now on the terminal has.
    """

    options: RunnerOptions
    status: dict[str, Status] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    drawn: int = 0

    @property
    def tty(self) -> bool:
        """Whether the stream is a terminal that understands cursor movement."""
        isatty = getattr(self.options.stream, "isatty", None)
        return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"

    def running(self, job: Job, started: float, line: str) -> None:
        """Mark ``job`` running since ``started``; say ``line`` unless the block shows it."""
        self.status[job.session] = "running"
        self.started[job.session] = started
        if not self.options.parallel or not self.tty:
            self.say(line)

    def say(self, line: str) -> None:
        """Print one event line (above where the status block is drawn next)."""
        self.clear()
        self.options.stream.write(line + "\n")
        self.options.stream.flush()

    def announce(self, outcome: Outcome) -> None:
        """Say how a job ended; in a parallel run, with a failed job's log (its tail)."""
        job = outcome.job
        advisory = " (advisory)" if not job.required and outcome.status == "failed" else ""
        self.say(
            f"suitekit: {job.session}: {outcome.status}{advisory} in {outcome.seconds:.1f}s"
            f" (log: {_relative(job.log, self.options.root)})"
        )
        if self.options.parallel and outcome.status == "failed":
            self.say(_log_excerpt(job.log))

    def clear(self) -> None:
        """Erase the status block from the terminal."""
        if self.drawn and self.tty:
            self.options.stream.write(f"\x1b[{self.drawn}F\x1b[J")
        self.drawn = 0

    def draw(self, *, final: bool = False) -> None:
        """The live status block: one line per job (on a terminal, in a parallel run)."""
        if not self.options.parallel or not self.tty:
            return
        self.clear()
        if final:
            return
        now = time.monotonic()
        lines = []
        for name, status in self.status.items():
            elapsed = now - self.started[name] if name in self.started else 0.0
            shown = f"{elapsed:6.1f}s" if status == "running" else ""
            lines.append(f"  {name:<24} {status:<11} {shown}")
        self.options.stream.write("\n".join(lines) + "\n")
        self.options.stream.flush()
        self.drawn = len(lines)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _log_excerpt(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError as error:
        return f"(cannot read {log}: {error.strerror})"
    cut = len(lines) - _LOG_TAIL_LINES
    head = (
        [f"----- {log} (last {_LOG_TAIL_LINES} of {len(lines)} lines) -----"]
        if cut > 0
        else [f"----- {log} -----"]
    )
    return "\n".join([*head, *lines[max(cut, 0) :], "-" * 40])
