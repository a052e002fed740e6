"""Where a run's reports are: the one list of the files in the reports folder that people read.

``suitekit report`` writes the merged JUnit report, the Markdown summary and the HTML report;
``suitekit coverage`` writes coverage's HTML, JSON and XML reports; each session writes its log.
Everything that names them reads :func:`report_outputs`: the ending of a run (which lists those
the run wrote), the ``artifacts`` of ``suitekit report --json``, the HTML report's links, and
the report and coverage steps, which write theirs there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from suitekit._layout import LOGS_FOLDER

__all__ = ["HTML_REPORT", "OutputKind", "ReportOutput", "Writer", "report_outputs"]

HTML_REPORT: Final = "index.html"
"""The HTML run report's name in the reports folder."""

OutputKind = Literal[
    "junit", "summary", "html", "coverage_html", "coverage_json", "coverage_xml", "logs"
]
"""Which output it is: also its key in the ``artifacts`` of ``suitekit report --json``."""

Writer = Literal["report", "coverage", "sessions"]
"""What writes it: ``suitekit report``, ``suitekit coverage`` or the sessions themselves."""

# In the order they are listed: kind, label, path in the reports folder (with /), writer.
_OUTPUTS: Final[tuple[tuple[OutputKind, str, str, Writer], ...]] = (
    ("junit", "merged JUnit", "junit.xml", "report"),
    ("summary", "summary", "summary.md", "report"),
    ("html", "HTML report", HTML_REPORT, "report"),
    ("coverage_html", "coverage HTML", "htmlcov/index.html", "coverage"),
    ("coverage_json", "coverage JSON", "coverage.json", "coverage"),
    ("coverage_xml", "coverage XML", "coverage.xml", "coverage"),
    ("logs", "session logs", LOGS_FOLDER, "sessions"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportOutput:
    """A report of a run, in the reports folder.

    Attributes:
        kind: Which one it is.
        label: What it is, for a person (``merged JUnit``, ``coverage HTML``...).
        path: Where it is (it may not have been written).
        writer: What writes it.
    """

    kind: OutputKind
    label: str
    path: Path
    writer: Writer

    @property
    def folder(self) -> bool:
        """Whether it is a folder (the session logs) rather than a file."""
        return self.kind == "logs"

    @property
    def href(self) -> str:
        """Its path relative to the reports folder, with ``/``: a link from the HTML report."""
        return _RELATIVE[self.kind]


_RELATIVE: Final[dict[OutputKind, str]] = {kind: name for kind, _, name, _ in _OUTPUTS}


def report_outputs(reports: Path) -> tuple[ReportOutput, ...]:
    """The reports a run may write in ``reports`` (a project's ``root / reports``), in order.

    The merged JUnit report, the Markdown summary, the HTML report, coverage's HTML, JSON and
    XML reports, and the folder of the sessions' logs: where each is, whether or not it has
    been written (each reader decides which to name: those this run wrote, those there are).
    """
    return tuple(
        ReportOutput(kind=kind, label=label, path=reports / name, writer=writer)
        for kind, label, name, writer in _OUTPUTS
    )
