"""Coverage of every suite session, combined into one figure and one gate.

Each suite session runs pytest under ``coverage run`` with a configuration suitekit writes
(:func:`write_rcfile`): branch coverage of the project's ``source``, parallel data files named
after the session, relative file names (so data from CI artifacts of other machines combines),
and ``patch = subprocess`` so that xdist workers and any Python subprocess are measured too.
:func:`combine` then merges every data file of the run, per suite and overall, writes XML,
JSON and HTML, and applies ``fail-under``. Input data files are kept (``keep=True``).

A run's end asks for the same figures twice: ``suitekit report`` puts them in the summary, then
``suitekit coverage`` applies the gate and writes the reports. Whichever comes first combines
into ``combined/`` and records there (``figures.json``) the figures and what they were computed
from (each data file's name, size and modification time, the sources and each module's,
coverage.py's version);
the other reuses them while that record still matches, and combines again when it does not.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Self, cast

from suitekit._files import load_json, read_bounded, write_text_atomic
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
_FIGURES: Final = "figures.json"
"""The record, in ``combined/``, of the figures and the data they were computed from."""
_FIGURES_VERSION: Final = 1
_FIGURES_LIMIT: Final = 1 << 20


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

    The JSON and HTML reports also find each file's functions and classes, with a parse of
    their own (``coverage.python.code_regions``); within the block that is done once per source
    text too (0.5 s of this repository's 161 files).
    """
    import coverage.python as python_module  # noqa: PLC0415 - coverage is imported lazily
    from coverage.parser import PythonParser  # noqa: PLC0415

    if getattr(python_module, "PythonParser", None) is not PythonParser:
        yield
        return
    with _regions_once(python_module), _parsers_once(python_module):
        yield


@contextlib.contextmanager
def _regions_once(python_module: object) -> Iterator[None]:
    """``code_regions`` of ``coverage.python`` computed once per source text in the block."""
    real = getattr(python_module, "code_regions", None)
    if real is None:
        yield
        return
    found: dict[str, list[object]] = {}

    def once(source: str) -> list[object]:
        if source not in found:
            found[source] = list(real(source))
        return list(found[source])

    setattr(python_module, "code_regions", once)  # noqa: B010 - a name it does not export
    try:
        yield
    finally:
        setattr(python_module, "code_regions", real)  # noqa: B010


@contextlib.contextmanager
def _parsers_once(python_module: object) -> Iterator[None]:
    """``coverage.python.PythonParser`` built and parsed once per file in the block."""
    from coverage.parser import PythonParser  # noqa: PLC0415 - coverage is imported lazily

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

    Where :func:`figures` already combined the same data files (the run's summary comes
    first), its combined data and figures are taken as they are.

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

    combined = folder / "combined"
    key = _inputs_key(project, by_suite)
    known = _recorded(combined, key)
    if known is None:
        known = _compute(rcfile, combined, by_suite)
        _record(combined, key, known)
        cov = known.cov
    else:
        cov = coverage.Coverage(data_file=str(combined / ".coverage"), config_file=str(rcfile))
        cov.load()
    assert isinstance(cov, coverage.Coverage)  # noqa: S101 - for the type checker
    # Where every reader of the reports folder looks for them (the run's ending, the HTML
    # report's links, `suitekit report --json`).
    where = {output.kind: output.path for output in report_outputs(project.root / project.reports)}
    xml, json_, html = where["coverage_xml"], where["coverage_json"], where["coverage_html"]
    cov.xml_report(outfile=str(xml))
    cov.json_report(outfile=str(json_))
    cov.html_report(directory=str(html.parent))  # its index.html, and the pages it links
    return CoverageResult(
        percent=known.percent,
        per_suite=known.per_suite,
        fail_under=project.fail_under,
        report=known.report,
        outputs=(xml, json_, html),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Computed:
    """The figures of one combine, its text report, and its combined data (``None``: reused)."""

    per_suite: tuple[tuple[str, float], ...]
    percent: float
    report: str
    cov: object = None


def _compute(rcfile: Path, target: Path, by_suite: dict[str, list[Path]]) -> _Computed:
    """Combine each suite's data files, then all of them, into ``target``; report each."""
    import coverage  # noqa: PLC0415

    per_suite = []
    for suite, files in sorted(by_suite.items()):
        only = _combined(rcfile, target / f".coverage.only-{suite}", files)
        assert isinstance(only, coverage.Coverage)  # noqa: S101 - for the type checker
        per_suite.append((suite, float(only.report(file=io.StringIO()))))
    every = [path for files in by_suite.values() for path in files]
    cov = _combined(rcfile, target / ".coverage", every)
    assert isinstance(cov, coverage.Coverage)  # noqa: S101
    text = io.StringIO()
    percent = float(cov.report(file=text))
    return _Computed(per_suite=tuple(per_suite), percent=percent, report=text.getvalue(), cov=cov)


def _stamp(path: Path) -> list[object] | None:
    """A file's name, size and modification time; ``None`` unless it is a regular file."""
    try:
        status = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    return [path.name, status.st_size, status.st_mtime_ns]


def _inputs_key(project: Project, by_suite: dict[str, list[Path]]) -> dict[str, object]:
    """What a combine's figures depend on.

    The data files as they are now (name, size, modification time), the measured sources
    (the ``source`` entries, and each Python file under those that are folders: an edited
    module changes the figures), and coverage.py's version.
    """
    import coverage  # noqa: PLC0415

    modules = []
    for entry in project.source:
        folder = project.root / entry
        if folder.is_dir() and not folder.is_symlink():
            found = sorted(folder.rglob("*.py"))
            modules += [[str(path.relative_to(project.root)), _stamp(path)] for path in found]
    return {
        "coverage": coverage.__version__,
        "source": list(project.source),
        "modules": modules,
        "inputs": {suite: [_stamp(path) for path in files] for suite, files in by_suite.items()},
    }


def _record(combined: Path, key: dict[str, object], computed: _Computed) -> None:
    """Record ``computed`` beside its data for the next reader; a failure only loses the reuse."""
    outputs = [f".coverage.only-{suite}" for suite, _ in computed.per_suite] + [".coverage"]
    document = {
        "version": _FIGURES_VERSION,
        "key": key,
        "outputs": [_stamp(combined / name) for name in outputs],
        "per_suite": [[suite, value] for suite, value in computed.per_suite],
        "percent": computed.percent,
        "report": computed.report,
    }
    with contextlib.suppress(ReportError):
        write_text_atomic(combined / _FIGURES, json.dumps(document, sort_keys=True))


def _recorded(combined: Path, key: dict[str, object]) -> _Computed | None:
    """The figures recorded in ``combined`` for exactly these inputs.

    ``None`` unless the record is for exactly these inputs and its combined data files are
    untouched since (no record, another run's, anything unreadable: ``None``).
    """
    try:
        data = read_bounded(combined / _FIGURES, limit=_FIGURES_LIMIT, what="figures", fix="")
        document = load_json(data) if data is not None else None
    except (ReportError, ValueError):
        return None
    if (
        not isinstance(document, dict)
        or document.get("version") != _FIGURES_VERSION
        or document.get("key") != json.loads(json.dumps(key))
    ):
        return None
    per_suite, percent, report = (document.get(name) for name in ("per_suite", "percent", "report"))
    if not (
        isinstance(per_suite, list)
        and all(
            isinstance(entry, list)
            and len(entry) == 2  # noqa: PLR2004 - a suite and its figure
            and isinstance(entry[0], str)
            and isinstance(entry[1], int | float)
            for entry in per_suite
        )
        and isinstance(percent, int | float)
        and isinstance(report, str)
    ):
        return None
    outputs = [f".coverage.only-{suite}" for suite, _ in per_suite] + [".coverage"]
    if document.get("outputs") != [_stamp(combined / name) for name in outputs]:
        return None
    return _Computed(
        per_suite=tuple((str(suite), float(value)) for suite, value in per_suite),
        percent=float(percent),
        report=report,
    )


def figures(project: Project, *, folder: Path | None = None) -> CoverageFigures | None:
    """The coverage per suite and combined, for the run's summary; ``None``: nothing measured.

    ``suitekit report`` runs before ``suitekit coverage`` (which applies the gate and writes
    the XML, JSON and HTML reports), so it combines the data files itself, into the folder of
    the combined data, and records the figures there for ``suitekit coverage`` to reuse: the
    figures are those the gate will see. Where that folder cannot be written, it combines in a
    scratch folder and records nothing. ``None`` when the project measures no coverage (no
    ``source``) or the run left no data files.

    Raises:
        ReportError: coverage.py cannot combine or report the data.
    """
    from suitekit.reporting._summary import CoverageFigures  # noqa: PLC0415 - a plain model

    folder = folder or coverage_dir(project)
    by_suite = data_files(folder) if project.source and folder.is_dir() else {}
    if not by_suite:
        return None
    import coverage  # noqa: PLC0415

    combined = folder / "combined"
    key = _inputs_key(project, by_suite)
    known = _recorded(combined, key)
    if known is not None:
        return CoverageFigures(
            per_suite=known.per_suite, percent=known.percent, fail_under=project.fail_under
        )
    cwd = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="suitekit-coverage-") as scratch:
        try:
            rcfile = folder / "combine.coveragerc"
            write_text_atomic(rcfile, _rc_text(project, combined / ".coverage"))
            combined.mkdir(exist_ok=True)
            target, record = combined, True
        except (OSError, ReportError):  # a read-only reports folder: the figures all the same
            rcfile = Path(scratch) / "figures.coveragerc"
            write_text_atomic(rcfile, _rc_text(project, Path(scratch) / ".coverage"))
            target, record = Path(scratch), False
        os.chdir(project.root)  # relative file names resolve against the project root
        try:
            with _parsed_once():
                computed = _compute(rcfile, target, by_suite)
        except coverage.CoverageException as error:
            message = f"coverage could not combine the data in {folder}: {error}"
            raise ReportError(message) from None
        finally:
            os.chdir(cwd)
    if record:
        _record(combined, key, computed)
    return CoverageFigures(
        per_suite=computed.per_suite, percent=computed.percent, fail_under=project.fail_under
    )
