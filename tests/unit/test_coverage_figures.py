"""The run's two readers of the combined coverage (the summary, then the gate) combine once.

``figures`` (``suitekit report``) records what it combined; ``combine`` (``suitekit coverage``)
reuses it while the data files are those it was computed from, and combines again otherwise.
The data files here are written with coverage.py's own API, as ``coverage run`` leaves them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest
from coverage import CoverageData

from suitekit._model import Project
from suitekit.config import load_project
from suitekit.reporting import _coverage
from suitekit.reporting._coverage import combine, coverage_dir, figures

SOURCE = "def f(x):\n    if x:\n        return 1\n    return 2\n\n\ndef g():\n    return 3\n"
MODULE = "src/pkg/mod.py"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    (tmp_path / MODULE).write_text(SOURCE)
    for suite in ("unit", "slow"):
        (tmp_path / "tests" / suite).mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "pkg"\nversion = "0"\n\n[tool.suitekit]\nsource = ["src/pkg"]\n'
        '[tool.suitekit.suites.unit]\npaths = ["tests/unit"]\n'
        '[tool.suitekit.suites.slow]\npaths = ["tests/slow"]\n'
    )
    loaded = load_project(tmp_path)
    coverage_dir(loaded).mkdir(parents=True)
    return loaded


def _data(project: Project, suite: str, arcs: Iterable[tuple[int, int]]) -> Path:
    """A data file of ``suite``'s session, holding ``arcs`` of the module."""
    path = coverage_dir(project) / f".coverage.{suite}@3_11.host.1.abc"
    path.unlink(missing_ok=True)
    data = CoverageData(basename=str(path))
    data.add_arcs({MODULE: set(arcs)})
    data.add_arcs({"src/pkg/__init__.py": set()})
    data.write()
    return path


F_TRUE = ((-1, 1), (1, 2), (2, 3), (3, -1))  # f(1)
F_FALSE = ((-1, 1), (1, 2), (2, 4), (4, -1))  # f(0)
G = ((-7, 8), (8, -7))


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders each real combine wrote into, in order."""
    calls: list[Path] = []
    real = _coverage._compute

    def counted(rcfile: Path, target: Path, by_suite: dict[str, list[Path]]) -> object:
        calls.append(target)
        return real(rcfile, target, by_suite)

    monkeypatch.setattr(_coverage, "_compute", counted)
    return calls


def test_the_gate_reuses_the_summarys_combine_and_gives_its_figures(
    project: Project, computed: list[Path]
) -> None:
    _data(project, "unit", F_TRUE)
    _data(project, "slow", F_FALSE)
    summary = figures(project)
    assert summary is not None
    assert computed == [coverage_dir(project) / "combined"]
    gate = combine(project)
    assert computed == [coverage_dir(project) / "combined"]  # not combined again
    assert (gate.per_suite, gate.percent) == (summary.per_suite, summary.percent)
    assert "src/pkg/mod.py" in gate.report
    for output in gate.outputs:
        assert output.is_file()
    reported = json.loads(gate.outputs[1].read_text())["totals"]["percent_covered"]
    assert reported == pytest.approx(gate.percent)
    # The same figures as a combine from nothing.
    (coverage_dir(project) / "combined" / "figures.json").unlink()
    fresh = combine(project)
    assert len(computed) == 2
    assert (fresh.per_suite, fresh.percent, fresh.report) == (
        gate.per_suite,
        gate.percent,
        gate.report,
    )
    # And the summary after the gate reuses the gate's.
    assert figures(project) == summary
    assert len(computed) == 2


def test_a_changed_data_file_is_combined_again(project: Project, computed: list[Path]) -> None:
    _data(project, "unit", F_TRUE)
    slow = _data(project, "slow", F_FALSE)
    before = figures(project)
    assert before is not None
    _data(project, "slow", (*F_FALSE, *G))  # the suite ran again and covered g too
    after = combine(project)
    assert len(computed) == 2
    assert after.percent > before.percent
    assert dict(after.per_suite)["slow"] > dict(before.per_suite)["slow"]
    slow.unlink()  # a suite's data gone: its figure goes too
    assert [suite for suite, _ in combine(project).per_suite] == ["unit"]
    assert len(computed) == 3


@pytest.mark.parametrize(
    "record",
    [
        "not json",
        "[]",
        '{"version": 1}',
        '{"version": 2, "per_suite": [], "percent": 100, "report": ""}',
    ],
)
def test_an_unreadable_or_foreign_record_is_ignored(
    project: Project, computed: list[Path], record: str
) -> None:
    _data(project, "unit", F_TRUE)
    summary = figures(project)
    assert summary is not None
    (coverage_dir(project) / "combined" / "figures.json").write_text(record)
    assert combine(project).percent == summary.percent
    assert len(computed) == 2


def test_a_record_with_its_combined_data_replaced_is_not_trusted(
    project: Project, computed: list[Path], tmp_path: Path
) -> None:
    _data(project, "unit", F_TRUE)
    assert figures(project) is not None
    combined = coverage_dir(project) / "combined" / ".coverage"
    planted = tmp_path / "elsewhere.coverage"
    combined.rename(planted)
    combined.symlink_to(planted)  # a link where the combined data was: combine anew
    result = combine(project)
    assert len(computed) == 2
    assert not combined.is_symlink()
    assert result.per_suite == (("unit", result.percent),)


def test_an_edited_module_is_combined_again(project: Project, computed: list[Path]) -> None:
    _data(project, "unit", F_TRUE)
    before = figures(project)
    assert before is not None
    (project.root / MODULE).write_text(SOURCE + "\n\ndef h():\n    return 4\n")
    after = combine(project)
    assert len(computed) == 2
    assert after.percent < before.percent  # the module's new lines count as missed
