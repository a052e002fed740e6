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
