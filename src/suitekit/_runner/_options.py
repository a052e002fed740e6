"""What a runner is told once: where jobs run, how, where progress goes, what they get."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from suitekit._model import Project

__all__ = ["RunnerOptions"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunnerOptions:
    """How jobs run, declared once; a variant is a :func:`dataclasses.replace`.

    Attributes:
        root: The folder the commands run in (the project root).
        parallel: Start every job at once instead of one after another.
        fail_fast: Stop the other jobs as soon as a required job fails.
        stream: Where progress and the summary go.
        extra_env: Variables every job's process gets.
        project: The project; with it, the report and coverage jobs run in this process
            (suitekit is installed here, so they need no virtualenv of their own).
        served: The variables naming the servers that jobs with services get; called, in the
            main thread, when the first such job is about to start (it may start servers and
            take a moment, so a parallel run first starts the jobs that need none).
        progress: A private folder where each suite session's pytest writes how far it is
            (``SUITEKIT_PROGRESS``), for the live status; ``None``: no live counts.
        verbosity: -1 (``-q``): only failures and the summary; 0: each session's start and
            end; 1 (``-v``): also a progress line per running session every few seconds where
            no status block is drawn (a pipe, a CI log).
    """

    root: Path
    parallel: bool = False
    fail_fast: bool = False
    stream: IO[str] = field(default_factory=lambda: sys.stdout)
    extra_env: Mapping[str, str] = field(default_factory=dict)
    project: Project | None = None
    served: Callable[[], Mapping[str, str]] = dict
    progress: Path | None = None
    verbosity: int = 0
