"""Each source file is parsed once per combine (suitekit.reporting._coverage._parsed_once)."""

from __future__ import annotations

from pathlib import Path

import coverage.python
import pytest
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


def test_a_files_functions_and_classes_are_found_once_in_the_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The JSON and HTML reports each ask for a file's regions: one parse serves both."""
    source = "class C:\n    def m(self):\n        return 1\n\n\ndef f():\n    return 2\n"
    real = coverage.python.code_regions  # type: ignore[attr-defined]
    calls: list[str] = []

    def counted(text: str) -> list[object]:
        calls.append(text)
        return list(real(text))

    monkeypatch.setattr(coverage.python, "code_regions", counted)
    with _parsed_once():
        first = coverage.python.code_regions(source)  # type: ignore[attr-defined]
        again = coverage.python.code_regions(source)  # type: ignore[attr-defined]
        other = coverage.python.code_regions("def g():\n    pass\n")  # type: ignore[attr-defined]
    assert first == again == list(real(source))
    assert {region.name for region in first} == {"C", "C.m", "f"}
    assert len(other) == 1
    assert calls == [source, "def g():\n    pass\n"]
    assert coverage.python.code_regions is counted  # type: ignore[attr-defined]
