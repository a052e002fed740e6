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
from (the SHA-256 of each data file and of each module the data names, the settings given to
coverage.py, coverage.py's and Python's versions); the other reuses them while that record
still matches, and combines again when it does not.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import math
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Self, cast

from suitekit._files import (
    FileRefusedError,
    load_json,
    open_regular,
    read_bounded,
    write_problem,
    write_text_atomic,
)
from suitekit._model import Project
from suitekit.errors import ReportError

if TYPE_CHECKING:
    from coverage import Coverage

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
_FIGURES_LIMIT: Final = 64 << 20
_DATA_LIMIT: Final = 1 << 40
"""No data file is too large to hash (a digest reads it in chunks)."""


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


def _combined(rcfile: Path, data_file: Path, inputs: Iterable[Path]) -> Coverage:
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
        return copy.deepcopy(found[source])  # each reader its own (a region's lines are a set)

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
        ReportError: No source is configured, there is no data to combine, or the folder of
            the combined data is a link or a file.
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
    combined = folder / "combined"
    if not _own_folder(combined):
        message = (
            f"{combined}: not a folder (a symbolic link, or a file), so the combined coverage "
            "data cannot be written there\n  fix: remove it; suitekit coverage makes the folder"
        )
        raise ReportError(message)
    cwd = Path.cwd()
    os.chdir(project.root)  # relative file names resolve against the project root
    try:
        with _parsed_once():
            return _combine_and_report(project, combined, by_suite, rcfile)
    except coverage.CoverageException as error:
        message = f"coverage could not combine the data in {folder}: {error}"
        raise ReportError(message) from None
    except OSError as error:  # e.g. a folder where a data file or report goes
        where = Path(error.filename) if error.filename else combined
        raise ReportError(write_problem(where, error)) from None
    finally:
        os.chdir(cwd)


def _combine_and_report(
    project: Project, combined: Path, by_suite: dict[str, list[Path]], rcfile: Path
) -> CoverageResult:
    """Per-suite figures, then the combined data, its report and its XML, JSON and HTML."""
    import coverage  # noqa: PLC0415

    from suitekit.reporting._outputs import report_outputs  # noqa: PLC0415 - coverage only

    key = _inputs_key(project, by_suite)
    known = _recorded(project, combined, key)
    if known is None:
        known, cov = _compute(rcfile, combined, by_suite)
        _record(project, combined, key, known, cov)
    else:
        cov = coverage.Coverage(data_file=str(combined / ".coverage"), config_file=str(rcfile))
        cov.load()
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
    """The figures of one combine and its text report."""

    per_suite: tuple[tuple[str, float], ...]
    percent: float
    report: str


def _compute(
    rcfile: Path, target: Path, by_suite: dict[str, list[Path]]
) -> tuple[_Computed, Coverage]:
    """Combine each suite's data files, then all of them, into ``target``; report each.

    Returns:
        The figures, and the combined data (for its reports and the modules it names).
    """
    per_suite = []
    for suite, files in sorted(by_suite.items()):
        only = _combined(rcfile, target / f".coverage.only-{suite}", files)
        per_suite.append((suite, float(only.report(file=io.StringIO()))))
    every = [path for files in by_suite.values() for path in files]
    cov = _combined(rcfile, target / ".coverage", every)
    text = io.StringIO()
    percent = float(cov.report(file=text))
    return _Computed(per_suite=tuple(per_suite), percent=percent, report=text.getvalue()), cov


def _own_folder(path: Path) -> bool:
    """Whether ``path`` is a folder of its own (made here if missing), not a link or a file."""
    try:
        path.mkdir()
    except FileExistsError:
        pass
    except OSError:
        return False
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def _digest(path: Path, *, follow: bool = False) -> str | None:
    """The SHA-256 of a regular file's bytes; ``None`` when it cannot be read or is no such file.

    A link is followed only with ``follow`` (a module of the project may be one); either way
    a named pipe or a device gives ``None`` without being read.
    """
    digest = hashlib.sha256()
    try:
        target = Path(os.path.realpath(path)) if follow else path
        with open_regular(target, limit=_DATA_LIMIT) as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except (OSError, ValueError, FileRefusedError):  # ValueError: a NUL in a forged name
        return None
    return digest.hexdigest()


def _inputs_key(project: Project, by_suite: dict[str, list[Path]]) -> dict[str, object]:
    """What a combine's figures depend on before it runs.

    The content of every data file (through a link, as coverage.py reads it), the settings
    suitekit gives coverage.py, coverage.py's version and the Python that analyses the modules.
    The modules' own content is recorded after the combine (:func:`_record`), from the files
    its data names.
    """
    import coverage  # noqa: PLC0415

    return {
        "coverage": coverage.__version__,
        "python": sys.version,
        "settings": _rc_text(project, Path(".coverage")),
        "inputs": {
            suite: [[path.name, _digest(path, follow=True)] for path in files]
            for suite, files in sorted(by_suite.items())
        },
    }


def _modules(project: Project, names: Iterable[str]) -> list[list[str | None]]:
    """Each measured module's name, as the data has it, and the SHA-256 of its source now."""
    return [
        [name, _digest(project.root / name, follow=True)]  # an absolute name stays absolute
        for name in sorted(names)
    ]


def _record(
    project: Project, combined: Path, key: dict[str, object], computed: _Computed, cov: Coverage
) -> None:
    """Record ``computed`` beside its data for the next reader; a failure only loses the reuse."""
    outputs = [f".coverage.only-{suite}" for suite, _ in computed.per_suite] + [".coverage"]
    document = {
        "version": _FIGURES_VERSION,
        "key": key,
        "modules": _modules(project, cov.get_data().measured_files()),
        "outputs": [[name, _digest(combined / name)] for name in outputs],
        "per_suite": [[suite, value] for suite, value in computed.per_suite],
        "percent": computed.percent,
        "report": computed.report,
    }
    if _unknown(document):  # a file that could not be read: nothing to know it again by
        return
    with contextlib.suppress(ReportError):
        write_text_atomic(combined / _FIGURES, json.dumps(document, sort_keys=True))


def _unknown(document: dict[str, object]) -> bool:
    """Whether a record names a file whose digest could not be taken."""
    key = document["key"]
    assert isinstance(key, dict)  # noqa: S101 - made by _inputs_key
    inputs: dict[str, list[list[str | None]]] = key["inputs"]
    pairs = [pair for files in inputs.values() for pair in files]
    for name in ("modules", "outputs"):
        found = document[name]
        assert isinstance(found, list)  # noqa: S101 - made by _record
        pairs += found
    return any(digest is None for _, digest in pairs)


def _figure(value: object) -> float | None:
    """A percentage as a record holds it: a finite number from 0 to 100; ``None`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) and 0 <= number <= 100 else None  # noqa: PLR2004


def _recorded(project: Project, combined: Path, key: dict[str, object]) -> _Computed | None:
    """The figures recorded in ``combined`` for exactly these inputs.

    ``None`` unless ``combined`` is a folder of its own, the record's key is ``key``, its
    suites are the data's, every module it names has the content it had, and its combined data
    files are those it wrote (no record, another run's, a file that cannot be read now,
    anything out of range: ``None``).
    """
    try:
        if not stat.S_ISDIR(combined.lstat().st_mode):
            return None
        data = read_bounded(combined / _FIGURES, limit=_FIGURES_LIMIT, what="figures", fix="")
        document = load_json(data) if data is not None else None
    except (OSError, ReportError, ValueError):
        return None
    if (
        not isinstance(document, dict)
        or document.get("version") != _FIGURES_VERSION
        or document.get("key") != json.loads(json.dumps(key))
    ):
        return None
    known = _parsed_record(document)
    suites = key["inputs"]
    assert isinstance(suites, dict)  # noqa: S101 - made by _inputs_key
    if known is None or [suite for suite, _ in known.per_suite] != sorted(suites):
        return None
    outputs = [f".coverage.only-{suite}" for suite, _ in known.per_suite] + [".coverage"]
    now: dict[str, object] = {
        "key": key,
        "modules": _modules(project, [name for name, _ in document["modules"]]),
        "outputs": [[name, _digest(combined / name)] for name in outputs],
    }
    if _unknown(now) or any(document.get(name) != now[name] for name in ("modules", "outputs")):
        return None
    return known


def _pair(entry: object) -> tuple[str, object] | None:
    """A record's ``[name, value]`` entry; ``None`` for anything else."""
    if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str):  # noqa: PLR2004
        return entry[0], entry[1]
    return None


def _parsed_record(document: dict[str, object]) -> _Computed | None:
    """The figures and report of a record, with its modules listed as pairs; else ``None``."""
    per_suite, report = document.get("per_suite"), document.get("report")
    percent = _figure(document.get("percent"))
    modules = document.get("modules")
    if not (isinstance(per_suite, list) and isinstance(modules, list)):
        return None
    if percent is None or not isinstance(report, str):
        return None
    if any(_pair(entry) is None for entry in modules):
        return None
    figures: list[tuple[str, float]] = []
    for entry in per_suite:
        pair = _pair(entry)
        value = _figure(pair[1]) if pair is not None else None
        if pair is None or value is None:
            return None
        figures.append((pair[0], value))
    return _Computed(per_suite=tuple(figures), percent=percent, report=report)


def figures(project: Project, *, folder: Path | None = None) -> CoverageFigures | None:
    """The coverage per suite and combined, for the run's summary; ``None``: nothing measured.

    ``suitekit report`` runs before ``suitekit coverage`` (which applies the gate and writes
    the XML, JSON and HTML reports), so it combines the data files itself, into the folder of
    the combined data, and records the figures there for ``suitekit coverage`` to reuse: the
    figures are those the gate will see. Where that folder cannot be written (or is a link or
    a file), it combines in a scratch folder and records nothing. ``None`` when the project
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

    combined = folder / "combined"
    key = _inputs_key(project, by_suite)
    known = _recorded(project, combined, key)
    if known is None:
        try:
            known = _figures_in(project, folder, by_suite, key)
        except coverage.CoverageException as error:
            message = f"coverage could not combine the data in {folder}: {error}"
            raise ReportError(message) from None
    return CoverageFigures(
        per_suite=known.per_suite, percent=known.percent, fail_under=project.fail_under
    )


def _figures_in(
    project: Project, folder: Path, by_suite: dict[str, list[Path]], key: dict[str, object]
) -> _Computed:
    """Combine into the folder of the combined data, and record it there.

    Where that cannot be done, combine into a scratch folder and record nothing.
    """
    import coverage  # noqa: PLC0415

    combined = folder / "combined"
    cwd = Path.cwd()
    try:
        with _parsed_once(), tempfile.TemporaryDirectory(prefix="suitekit-coverage-") as scratch:
            os.chdir(project.root)  # relative file names resolve against the project root
            if _own_folder(combined):
                try:
                    rcfile = folder / "combine.coveragerc"
                    write_text_atomic(rcfile, _rc_text(project, combined / ".coverage"))
                    computed, cov = _compute(rcfile, combined, by_suite)
                # A folder of another user's, say (coverage.py reports a data file it cannot
                # write as its own error): the scratch combine below says what the data holds.
                except (OSError, ReportError, coverage.CoverageException):
                    pass
                else:
                    _record(project, combined, key, computed, cov)
                    return computed
            rcfile = Path(scratch) / "figures.coveragerc"
            write_text_atomic(rcfile, _rc_text(project, Path(scratch) / ".coverage"))
            return _compute(rcfile, Path(scratch), by_suite)[0]
    finally:
        os.chdir(cwd)
