"""The report layout: the one owner of where a session's reports go and what they are called.

Every process of a run finds the others' reports by these names alone: a suite session writes
its JUnit file (and the sidecar beside it), the runner and ``suitekit report`` read them, CI
downloads every shard's into one folder. So the names are made and read here only:

- a session is ``<suite>-<python>`` (``unit-3.11``); a shard of it adds ``.shard-K-of-N``;
- its JUnit file is ``<reports>/junit/<stem>.xml``, its output ``<reports>/logs/<session>.log``;
- :class:`Measured`, the sidecar ``<stem>.measured.json`` beside a JUnit file, says how its
  durations were measured (workers and CPUs): written atomically, read back bounded and
  validated (a missing or hostile one is ``None``: the figures only refine the durations
  store).

Pure but for :meth:`Measured.write` and :meth:`Measured.read`; no third-party import.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Final

from suitekit._files import FileRefusedError, load_json, open_regular, write_text_atomic

__all__ = [
    "EMPTY_JUNIT",
    "JUNIT_FOLDER",
    "LOGS_FOLDER",
    "Measured",
    "junit_file",
    "log_file",
    "session_name",
    "session_reports",
    "shard_slug",
    "shard_stems",
    "split_of",
]

EMPTY_JUNIT: Final = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<testsuites name="suitekit" tests="0" failures="0" errors="0" skipped="0"/>\n'
)
"""The report of a shard that got no test to run (more shards than a suite's test files)."""

JUNIT_FOLDER: Final = "junit"
"""The JUnit files' folder inside the reports folder."""
LOGS_FOLDER: Final = "logs"
"""The sessions' logs' folder inside the reports folder."""

_SHARD: Final = re.compile(r"\.shard-\d+-of-(\d+)")


def session_name(suite: str, python: str) -> str:
    """The full name of a suite's session on one Python: ``unit-3.11``."""
    return f"{suite}-{python}"


def shard_slug(index: int, total: int) -> str:
    """What a shard adds to its session's report names: ``shard-2-of-4``."""
    return f"shard-{index}-of-{total}"


def junit_file(reports: Path, session: str, shard: tuple[int, int] | None = None) -> Path:
    """A session's JUnit file in the reports folder: unique per suite, Python and shard.

    ``unit-3.11.xml`` for the whole suite, ``unit-3.11.shard-2-of-4.xml`` for a shard (``shard``
    is ``(index, total)``), so that every shard's artifacts can be downloaded into one folder.
    """
    stem = session + (f".{shard_slug(*shard)}" if shard is not None else "")
    return reports / JUNIT_FOLDER / f"{stem}.xml"


def log_file(reports: Path, session: str) -> Path:
    """Where a run keeps a session's output."""
    return reports / LOGS_FOLDER / f"{session}.log"


def session_reports(junit_folder: Path, session: str) -> list[Path]:
    """The JUnit files of ``session`` that may be in ``junit_folder``: its own, then its shards'.

    The whole-suite file is listed whether or not it exists; the shards' are those found.
    """
    return [
        junit_folder / f"{session}.xml",
        *sorted(junit_folder.glob(f"{session}.shard-*.xml")),
    ]


def split_of(stem: str, session: str) -> int | None:
    """How a report file stem splits ``session``.

    0 for the whole suite (``unit-3.11``), N for a shard of N (``unit-3.11.shard-2-of-4``),
    ``None`` when it is another session's report (``unit-3.11`` seen from ``unit-3.1``).
    """
    if stem == session:
        return 0
    match = _SHARD.fullmatch(stem.removeprefix(session)) if stem.startswith(session) else None
    return int(match[1]) if match else None


def shard_stems(session: str, total: int) -> list[str]:
    """The report stems of every shard of ``session`` split ``total`` ways."""
    return [f"{session}.{shard_slug(index, total)}" for index in range(1, total + 1)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Measured:
    """How a JUnit file's durations were measured: the sidecar beside it.

    Attributes:
        workers: The xdist workers of the run (1 without xdist).
        cpus: The machine's CPU count then.
    """

    workers: int
    cpus: int

    SUFFIX: ClassVar[str] = ".measured.json"
    LIMIT: ClassVar[int] = 64 << 10  # two small numbers: anything larger is not a sidecar

    @classmethod
    def path_for(cls, junit: Path) -> Path:
        """The sidecar of ``junit``."""
        return junit.with_suffix(cls.SUFFIX)

    def to_json(self) -> str:
        """The sidecar's text."""
        return json.dumps({"workers": self.workers, "cpus": self.cpus})

    @classmethod
    def from_json(cls, text: str | bytes) -> Measured | None:
        """The figures in a sidecar's text; ``None`` when it holds none (each at least 1)."""
        try:
            data = load_json(text)
            if not isinstance(data, dict):
                return None
            return cls(workers=max(int(data["workers"]), 1), cpus=max(int(data["cpus"]), 1))
        except (ValueError, KeyError, TypeError, OverflowError):
            return None

    def write(self, junit: Path) -> None:
        """Write the sidecar of ``junit``, atomically (readers see all of it or none).

        Raises:
            ReportError: It cannot be written.
        """
        write_text_atomic(self.path_for(junit), self.to_json())  # makes the folder too

    @classmethod
    def read(cls, junit: Path) -> Measured | None:
        """The sidecar of ``junit``; ``None`` when missing, unreadable or not one.

        A hostile sidecar (a FIFO, a link, a huge or deeply nested file) is passed over, never
        waited on.
        """
        return cls.read_path(cls.path_for(junit))

    @classmethod
    def read_path(cls, path: Path) -> Measured | None:
        """A sidecar at ``path`` (see :meth:`read`)."""
        try:
            with open_regular(path, limit=cls.LIMIT) as handle:
                return cls.from_json(handle.read(cls.LIMIT + 1))
        except (OSError, FileRefusedError):
            return None
