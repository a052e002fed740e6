"""Coverage of every suite session, combined into one figure and one gate.

Each suite session runs pytest under ``coverage run`` with a configuration suitekit writes
(:func:`write_rcfile`): branch coverage of the project's ``source``, parallel data files named
after the session, relative file names (so data from CI artifacts of other machines combines),
and ``patch = subprocess`` so that xdist workers and any Python subprocess are measured too.
:func:`combine` then merges every data file of the run, per suite and overall, writes XML,
JSON and HTML, and applies ``fail-under``. Input data files are kept (``keep=True``).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Self, cast

from suitekit._files import write_text_atomic
from suitekit._model import Project
from suitekit.errors import ReportError

if TYPE_CHECKING:
    from suitekit.reporting._summary import CoverageFigures

__all__ = [
    "CoverageResult",
    "combine",
    "coverage_dir",
    "data_files",
    "figures",
    "session_key",
    "write_rcfile",
]

_PREFIX: Final = ".coverage."


def coverage_dir(project: Project) -> Path:
    """Where data files, the generated configuration and the combined data live."""
    return project.root / project.reports / "coverage"


def session_key(suite: str, python: str) -> str:
    """A data file's session part: ``unit@3_11`` (names hold no '@', versions no '_')."""
    return f"{suite}@{python.replace('.', '_')}"


def _rc_text(project: Project, data_file: Path) -> str:
    sources = "\n    ".join(project.source)
    return (
        "# Written by suitekit for this run; edit [tool.suitekit] source instead.\n"
        "[run]\n"
        "branch = True\n"
        "parallel = True\n"
        "relative_files = True\n"
        f"data_file = {data_file}\n"
        f"source =\n    {sources}\n"
        "patch = subprocess\n"
        "[report]\n"
        "show_missing = True\n"
        "skip_covered = False\n"
        "precision = 2\n"
    )


def write_rcfile(project: Project, suite: str, python: str) -> Path:
    """Write the coverage configuration of one suite session; return its path."""
    folder = coverage_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    key = session_key(suite, python)
    path = folder / f"{key}.coveragerc"
    write_text_atomic(path, _rc_text(project, folder / f"{_PREFIX}{key}"))
    return path


def data_files(folder: Path) -> dict[str, list[Path]]:
    """The parallel data files in ``folder``, by suite."""
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.glob(f"{_PREFIX}*@*")):
        key = path.name.removeprefix(_PREFIX).split(".", 1)[0]
        found.setdefault(key.split("@", 1)[0], []).append(path)
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageResult:
    """The combined figures.

    Attributes:
        percent: The combined coverage of all suites.
        per_suite: Each suite's own coverage, in percent.
        fail_under: The gate.
        report: The text report of the combined data.
        outputs: The files written (XML, JSON, HTML index).
    """

    percent: float
    per_suite: tuple[tuple[str, float], ...]
    fail_under: float
    report: str
    outputs: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        """Whether the combined figure reaches the gate."""
        return round(self.percent, 2) >= self.fail_under

    def summary(self) -> str:
        """Per-suite and combined figures, and the verdict naming the threshold."""
        lines = [f"{'suite':<16} {'coverage':>9}"]
        lines += [f"{name:<16} {value:>8.2f}%" for name, value in self.per_suite]
        lines.append(f"{'combined':<16} {self.percent:>8.2f}%")
        verdict = "passes" if self.ok else "FAILS"
        lines.append(
            f"suitekit: combined coverage {self.percent:.2f}% {verdict} the gate of "
            f"{self.fail_under:g}% ([tool.suitekit.coverage] fail-under)"
        )
        return "\n".join(lines)


def _combined(rcfile: Path, data_file: Path, inputs: Iterable[Path]) -> object:
    import coverage  # noqa: PLC0415 - kept off the import path of everything else

    data_file.unlink(missing_ok=True)
    cov = coverage.Coverage(data_file=str(data_file), config_file=str(rcfile))
    cov.combine([str(p) for p in inputs], keep=True)
    cov.save()
    return cov


@contextlib.contextmanager
def _parsed_once() -> Iterator[None]:
    """Parse each source file once for all the reports of one combine, not once per report.

    The per-suite figures and the combined report, XML, JSON and HTML each analyse every file
    again, and parsing (tokenizing and compiling the source) was half of the time: 126 parses of
    the example's 18 files. coverage.py's reporters get their parser from
    ``coverage.python.PythonParser``; within the block that name gives a parser that is built and
    parsed once per file, text and exclusion pattern, and the same one after that. Where
    coverage.py has no such name, the block changes nothing.
    """
    import coverage.python as python_module  # noqa: PLC0415 - coverage is imported lazily
    from coverage.parser import PythonParser  # noqa: PLC0415

    if getattr(python_module, "PythonParser", None) is not PythonParser:
        yield
        return
    made: dict[tuple[str | None, str | None, str | None], ParsedOnce] = {}

    class ParsedOnce(PythonParser):
        def __new__(
            cls, text: str | None = None, filename: str | None = None, exclude: str | None = None
        ) -> Self:
            key = (text, filename, exclude)
            found = made.get(key)
            if found is None:
                found = made[key] = super().__new__(cls)
            return cast("Self", found)

        def __init__(
            self, text: str | None = None, filename: str | None = None, exclude: str | None = None
        ) -> None:
            if not getattr(self, "_suitekit_made", False):
                super().__init__(text=text, filename=filename, exclude=exclude)
                self._suitekit_made = True

        def parse_source(self) -> None:
            if not getattr(self, "_suitekit_parsed", False):
                super().parse_source()
                self._suitekit_parsed = True

    setattr(python_module, "PythonParser", ParsedOnce)  # noqa: B010 - a name it does not export
    try:
        yield
    finally:
        setattr(python_module, "PythonParser", PythonParser)  # noqa: B010


def combine(project: Project, *, folder: Path | None = None) -> CoverageResult:
    """Combine every suite's data files; report per suite and overall; write XML/JSON/HTML.

    Raises:
        ReportError: No source is configured, or there is no data to combine.
    """
    import coverage  # noqa: PLC0415

    if not project.source:
        message = (
            f"{project.config_file}: tool.suitekit.source is empty, so no coverage is measured"
            '\n  fix: name the packages or folders to measure, e.g. source = ["src/app"]'
        )
        raise ReportError(message)
    folder = folder or coverage_dir(project)
    by_suite = data_files(folder)
    if not by_suite:
        message = (
            f"no coverage data in {folder}: run the suites first (nox -s <suite>), or download "
            "the CI artifacts into that folder"
        )
        raise ReportError(message)
    rcfile = folder / "combine.coveragerc"
    write_text_atomic(rcfile, _rc_text(project, folder / "combined" / ".coverage"))
    (folder / "combined").mkdir(exist_ok=True)
    cwd = Path.cwd()
    os.chdir(project.root)  # relative file names resolve against the project root
    try:
        with _parsed_once():
            return _combine_and_report(project, folder, by_suite, rcfile)
    except coverage.CoverageException as error:
        message = f"coverage could not combine the data in {folder}: {error}"
        raise ReportError(message) from None
    finally:
        os.chdir(cwd)


def _combine_and_report(
    project: Project, folder: Path, by_suite: dict[str, list[Path]], rcfile: Path
) -> CoverageResult:
    """Per-suite figures, then the combined data, its report and its XML, JSON and HTML."""
    import coverage  # noqa: PLC0415

    from suitekit.reporting._outputs import report_outputs  # noqa: PLC0415 - coverage only

    per_suite = []
    for suite, files in sorted(by_suite.items()):
        cov = _combined(rcfile, folder / "combined" / f".coverage.only-{suite}", files)
        assert isinstance(cov, coverage.Coverage)  # noqa: S101 - for the type checker
        per_suite.append((suite, float(cov.report(file=io.StringIO()))))
    every = [path for files in by_suite.values() for path in files]
    cov = _combined(rcfile, folder / "combined" / ".coverage", every)
    assert isinstance(cov, coverage.Coverage)  # noqa: S101
    text = io.StringIO()
    percent = float(cov.report(file=text))
    # Where every reader of the reports folder looks for them (the run's ending, the HTML
    # report's links, `suitekit report --json`).
    where = {output.kind: output.path for output in report_outputs(project.root / project.reports)}
    xml, json_, html = where["coverage_xml"], where["coverage_json"], where["coverage_html"]
    cov.xml_report(outfile=str(xml))
    cov.json_report(outfile=str(json_))
    cov.html_report(directory=str(html.parent))  # its index.html, and the pages it links
    return CoverageResult(
        percent=percent,
        per_suite=tuple(per_suite),
        fail_under=project.fail_under,
        report=text.getvalue(),
        outputs=(xml, json_, html),
    )


def figures(project: Project, *, folder: Path | None = None) -> CoverageFigures | None:
    """The coverage per suite and combined, for the run's summary; ``None``: nothing measured.

    ``suitekit report`` runs before ``suitekit coverage`` (which applies the gate and writes
    the XML, JSON and HTML reports), so it combines the data files itself, in a scratch folder,
    writing nothing else: the figures are those the gate will see. ``None`` when the project
    measures no coverage (no ``source``) or the run left no data files.

    Raises:
        ReportError: coverage.py cannot combine or report the data.
    """
    from suitekit.reporting._summary import CoverageFigures  # noqa: PLC0415 - a plain model

    folder = folder or coverage_dir(project)
    by_suite = data_files(folder) if project.source and folder.is_dir() else {}
    if not by_suite:
        return None
    import coverage  # noqa: PLC0415

    cwd = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="suitekit-coverage-") as scratch:
        rcfile = Path(scratch) / "figures.coveragerc"
        write_text_atomic(rcfile, _rc_text(project, Path(scratch) / ".coverage"))
        os.chdir(project.root)  # relative file names resolve against the project root
        try:
            with _parsed_once():
                per_suite = []
                for suite, files in sorted(by_suite.items()):
                    only = _combined(rcfile, Path(scratch) / f".coverage.only-{suite}", files)
                    assert isinstance(only, coverage.Coverage)  # noqa: S101 - for the type checker
                    per_suite.append((suite, float(only.report(file=io.StringIO()))))
                every = [path for files in by_suite.values() for path in files]
                cov = _combined(rcfile, Path(scratch) / ".coverage.all", every)
                assert isinstance(cov, coverage.Coverage)  # noqa: S101
                percent = float(cov.report(file=io.StringIO()))
        except coverage.CoverageException as error:
            message = f"coverage could not combine the data in {folder}: {error}"
            raise ReportError(message) from None
        finally:
            os.chdir(cwd)
    return CoverageFigures(
        per_suite=tuple(per_suite), percent=percent, fail_under=project.fail_under
    )
