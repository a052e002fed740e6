"""Each source file is parsed once per combine (suitekit.reporting._coverage._parsed_once)."""

from __future__ import annotations

import json
from pathlib import Path

import coverage.python
import pytest
from coverage import CoverageData
from coverage.parser import PythonParser

from suitekit.reporting._coverage import _parsed_once


def test_a_file_is_parsed_once_for_every_reporter_in_the_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "mod.py"
    source.write_text("def f(x):\n    if x:\n        return 1\n    return 2\n")
    parses: list[str] = []
    real = PythonParser.parse_source

    def counted(self: PythonParser) -> None:
        parses.append(self.filename)
        real(self)

    monkeypatch.setattr(PythonParser, "parse_source", counted)
    with _parsed_once():
        made = coverage.python.PythonParser  # type: ignore[attr-defined]
        first = made(filename=str(source), exclude="no cover")
        first.parse_source()
        again = made(filename=str(source), exclude="no cover")
        again.parse_source()
        other = made(filename=str(source), exclude="another pattern")
        other.parse_source()
        assert again is first
        assert other is not first
        assert again.statements == {1, 2, 3, 4}
        assert again.arcs() == first.arcs()
    assert parses == [str(source), str(source)]  # once per file and exclusion pattern
    assert coverage.python.PythonParser is PythonParser  # type: ignore[attr-defined]


def test_the_json_and_html_reports_find_a_files_functions_and_classes_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each of the two reports asks for a file's regions: in the block one parse serves both."""
    source = tmp_path / "mod.py"
    source.write_text("class C:\n    def m(self):\n        return 1\n\n\ndef f():\n    return 2\n")
    data = CoverageData(basename=str(tmp_path / ".coverage"))
    data.add_lines({str(source): {1, 2, 6, 7}})
    data.write()
    real = coverage.python.code_regions  # type: ignore[attr-defined]
    calls: list[str] = []

    def counted(text: str) -> list[object]:
        calls.append(text)
        return list(real(text))

    monkeypatch.setattr(coverage.python, "code_regions", counted)
    cov = coverage.Coverage(data_file=str(tmp_path / ".coverage"), config_file=False)
    cov.load()

    def both(name: str) -> dict[str, dict[str, object]]:
        cov.json_report(outfile=str(tmp_path / f"{name}.json"))
        cov.html_report(directory=str(tmp_path / name))
        document = json.loads((tmp_path / f"{name}.json").read_text())
        file: dict[str, dict[str, object]] = next(iter(document["files"].values()))
        return file

    alone = both("alone")
    assert len(calls) == 2  # the reporters do go through that name
    with _parsed_once():
        once = both("once")
    assert len(calls) == 3
    assert once["functions"] == alone["functions"]
    assert set(once["functions"]) >= {"C.m", "f"}
    assert once["classes"] == alone["classes"]
    assert coverage.python.code_regions is counted  # type: ignore[attr-defined]
