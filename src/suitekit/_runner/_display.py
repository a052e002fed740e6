"""What a run shows while it runs: one line per event, and a live status block on a terminal.

In a parallel run on a terminal, a block of one line per job (its status, time and, for a
suite, how many of its tests have run, how many failed and the time left) is drawn below the
event lines and redrawn as the run goes; every event line first clears it. The first failure
of each suite is said as soon as its pytest reports it, with its node id. Colour on a terminal
only, unless ``NO_COLOR`` (no colour) or ``FORCE_COLOR`` (colour even in a pipe) says otherwise
(https://no-color.org, https://force-color.org).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from suitekit import _progress
from suitekit._runner._options import RunnerOptions
from suitekit._runner._outcome import Outcome, Status
from suitekit._runner._process import progress_file
from suitekit.plan import Job

__all__ = ["Display", "colour_wanted", "paint"]

_LOG_TAIL_LINES: Final = 200
_VERBOSE_EVERY: Final = 10.0  # seconds between two progress lines of a job with -v
_REDRAW_EVERY: Final = 0.2  # seconds between two drawings of the status block
# SGR colours of the statuses (and of a failure's line): green, red, yellow, magenta, dim.
_COLOURS: Final = {
    "passed": "32",
    "failed": "31",
    "running": "33",
    "interrupted": "35",
    "cancelled": "35",
    "waiting": "2",
}


def paint(text: str, status: str, *, colour: bool) -> str:
    """``text`` in ``status``'s colour when ``colour``, else as it is."""
    code = _COLOURS.get(status)
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text


def colour_wanted(stream: object, environ: Mapping[str, str]) -> bool:
    """Whether to colour ``stream``: ``NO_COLOR`` wins, then ``FORCE_COLOR``, then a terminal."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR", "0") not in ("", "0"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and environ.get("TERM") != "dumb"


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
    jobs: dict[str, Job] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    said: dict[str, float] = field(default_factory=dict)
    colour: bool = False
    redrawn: float = 0.0

    def __post_init__(self) -> None:
        """Decide colour once, from the stream and the environment."""
        self.colour = colour_wanted(self.options.stream, os.environ)

    @property
    def _logged_only(self) -> bool:
        """Whether the sessions' output goes to their logs alone: in parallel, or with ``-q``."""
        return self.options.parallel or self.options.verbosity < 0

    def paint(self, text: str, status: str) -> str:
        """``text`` in ``status``'s colour, where the run is coloured."""
        return paint(text, status, colour=self.colour)

    def progress(self, session: str) -> _progress.Progress | None:
        """What a running suite session's pytest last wrote of its progress, if anything."""
        job = self.jobs.get(session)
        if self.options.progress is None or job is None or job.kind != "suite":
            return None
        return _progress.read(progress_file(self.options.progress, job))

    def poll(self) -> None:
        """Say each running suite's first failure as soon as its pytest reports it.

        With ``-v``, where no status block shows the counts, also a progress line every few
        seconds. Only where the sessions' output goes to their logs alone (in parallel, or with
        ``-q``): otherwise the session's own output shows it.
        """
        if not self._logged_only:
            return
        now = time.monotonic()
        for session, status in self.status.items():
            if status != "running":
                continue
            found = self.progress(session)
            if found is None:
                continue
            if found.first_failure and session not in self.failures:
                self.failures[session] = found.first_failure
                failed = self.paint("first failure", "failed")
                self.say(f"suitekit: {session}: {failed}: {found.first_failure}")
            elif (
                self.options.verbosity > 0
                and not self.tty
                and now - self.said.get(session, self.started.get(session, now)) >= _VERBOSE_EVERY
            ):
                self.said[session] = now
                self.say(f"suitekit: {session}: {found.text()}")

    @property
    def tty(self) -> bool:
        """Whether the stream is a terminal that understands cursor movement."""
        isatty = getattr(self.options.stream, "isatty", None)
        return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"

    def running(self, job: Job, started: float, line: str) -> None:
        """Mark ``job`` running since ``started``; say ``line`` unless the block shows it."""
        self.status[job.session] = "running"
        self.started[job.session] = started
        self.jobs[job.session] = job
        if (not self.options.parallel or not self.tty) and self.options.verbosity >= 0:
            self.say(line)

    def say(self, line: str) -> None:
        """Print one event line (above where the status block is drawn next)."""
        self.clear()
        self.options.stream.write(line + "\n")
        self.options.stream.flush()

    def announce(self, outcome: Outcome) -> None:
        """Say how a job ended; in a parallel run, with a failed job's log (its tail)."""
        job = outcome.job
        if outcome.status == "passed" and self.options.verbosity < 0:
            return
        advisory = " (advisory)" if not job.required and outcome.status == "failed" else ""
        status = self.paint(outcome.status, outcome.status)
        self.say(
            f"suitekit: {job.session}: {status}{advisory} in {outcome.seconds:.1f}s"
            f" (log: {_relative(job.log, self.options.root)})"
        )
        if self._logged_only and outcome.status == "failed":
            self.say(_log_excerpt(job.log))

    def clear(self) -> None:
        """Erase the status block from the terminal."""
        if self.drawn and self.tty:
            self.options.stream.write(f"\x1b[{self.drawn}F\x1b[J")
        self.drawn = 0

    def draw(self, *, final: bool = False) -> None:
        """The live status block: one line per job (on a terminal, in a parallel run).

        Redrawn at most every :data:`_REDRAW_EVERY` seconds: often enough for the eye, rarely
        enough not to flood a slow terminal.
        """
        if not self.options.parallel or not self.tty:
            return
        now = time.monotonic()
        if not final and self.drawn and now - self.redrawn < _REDRAW_EVERY:
            return
        self.redrawn = now
        self.clear()
        if final:
            return
        lines = []
        for name, status in self.status.items():
            elapsed = now - self.started[name] if name in self.started else 0.0
            shown = f"{elapsed:6.1f}s" if status == "running" else ""
            found = self.progress(name) if status == "running" else None
            counts = f"  {found.text()}" if found is not None else ""
            state = self.paint(f"{status:<11}", status)
            lines.append(f"  {name:<24} {state} {shown}{counts}".rstrip())
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
