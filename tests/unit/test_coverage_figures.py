"""The run's two readers of the combined coverage (the summary, then the gate) combine once.

``figures`` (``suitekit report``) records what it combined; ``combine`` (``suitekit coverage``)
reuses it while the data files are those it was computed from, and combines again otherwise.
The data files here are written with coverage.py's own API, as ``coverage run`` leaves them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import pytest
from coverage import CoverageData

from suitekit._model import Project
from suitekit.config import load_project
from suitekit.errors import ReportError
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


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("percent", "1" + "0" * 400),  # no float holds it
        ("percent", "Infinity"),
        ("percent", "NaN"),
        ("percent", "100.5"),
        ("percent", "true"),
        ("percent", '"100"'),
        ("per_suite", '[["unit", -1]]'),
        ("per_suite", '[["unit"]]'),
        ("per_suite", '{"unit": 50}'),
        ("report", "null"),
        ("per_suite", '[["another", 50.0]]'),  # not the data's suites
        ("modules", '[["src/pkg/mod.py"]]'),
        ("modules", '[["src/\\u0000x.py", null]]'),  # a name no file can have
        ("modules", '[["src/pkg/gone.py", null]]'),
        ("modules", "null"),
    ],
)
def test_a_record_of_these_inputs_with_a_bad_field_is_ignored(
    project: Project, computed: list[Path], field: str, value: str
) -> None:
    """A record whose key matches (it is easy to forge) must still hold figures to trust."""
    _data(project, "unit", F_TRUE)
    summary = figures(project)
    assert summary is not None
    record = coverage_dir(project) / "combined" / "figures.json"
    document = json.loads(record.read_text())
    assert document["percent"] == summary.percent
    document[field] = "@"
    record.write_text(json.dumps(document).replace('"@"', value))
    result = combine(project)
    assert len(computed) == 2
    assert (result.per_suite, result.percent) == (summary.per_suite, summary.percent)


def test_a_data_file_changed_in_place_is_combined_again(
    project: Project, computed: list[Path]
) -> None:
    """Same size (coverage.py's data files grow by whole pages), same modification time."""
    slow = _data(project, "slow", F_FALSE)
    before = figures(project)
    assert before is not None
    status = slow.stat()
    _data(project, "slow", (*F_FALSE, *G))
    assert slow.stat().st_size == status.st_size
    os.utime(slow, ns=(status.st_atime_ns, status.st_mtime_ns))
    after = combine(project)
    assert len(computed) == 2
    assert after.percent > before.percent


def test_a_linked_combined_folder_is_never_written_through(
    project: Project, tmp_path: Path
) -> None:
    _data(project, "unit", F_TRUE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".coverage").write_text("precious")
    combined = coverage_dir(project) / "combined"
    combined.symlink_to(elsewhere)
    summary = figures(project)  # from a scratch folder
    assert summary is not None
    assert summary.per_suite == (("unit", summary.percent),)
    assert sorted(path.name for path in elsewhere.iterdir()) == [".coverage"]
    assert (elsewhere / ".coverage").read_text() == "precious"
    with pytest.raises(ReportError, match=r"combined: not a folder \(a symbolic link, or a file\)"):
        combine(project)
    assert (elsewhere / ".coverage").read_text() == "precious"


@pytest.mark.parametrize("blocker", ["file", "folder at .coverage"])
def test_a_combined_folder_that_cannot_be_written_gives_the_figures_from_scratch(
    project: Project, computed: list[Path], blocker: str
) -> None:
    _data(project, "unit", F_TRUE)
    combined = coverage_dir(project) / "combined"
    if blocker == "file":
        combined.write_text("")
    else:
        (combined / ".coverage").mkdir(parents=True)
    summary = figures(project)
    assert summary is not None
    assert summary.per_suite == (("unit", summary.percent),)
    assert computed[-1] != combined
    if blocker != "file":
        assert not (combined / "figures.json").exists()


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


def _the_gate_sees_an_edit(project: Project, computed: list[Path], module: Path) -> None:
    """After the summary's combine, ``module`` (the measured file) gains a function."""
    _data(project, "unit", F_TRUE)
    before = figures(project)
    assert before is not None
    module.write_text(SOURCE + "\n\ndef h():\n    return 4\n")
    after = combine(project)
    assert len(computed) == 2
    assert after.percent < before.percent  # the module's new lines count as missed


def test_an_edited_module_is_combined_again(project: Project, computed: list[Path]) -> None:
    _the_gate_sees_an_edit(project, computed, project.root / MODULE)


def test_an_edited_module_of_a_source_named_as_a_package_is_combined_again(
    project: Project, computed: list[Path]
) -> None:
    """``source = ["pkg"]`` names no folder: the modules are those the data names."""
    config = project.root / "pyproject.toml"
    config.write_text(config.read_text().replace('source = ["src/pkg"]', 'source = ["pkg"]'))
    named = load_project(project.root)
    assert named.source == ("pkg",)
    _the_gate_sees_an_edit(named, computed, named.root / MODULE)


def test_an_edit_of_a_module_behind_a_link_is_combined_again(
    project: Project, computed: list[Path], tmp_path: Path
) -> None:
    """A project's module may be a link to its file: the file's edits count."""
    real = tmp_path / "real_mod.py"
    module = project.root / MODULE
    module.rename(real)
    module.symlink_to(real)
    _the_gate_sees_an_edit(project, computed, real)


def test_a_linked_data_file_is_known_by_what_it_points_at(
    project: Project, computed: list[Path], tmp_path: Path
) -> None:
    """coverage.py reads a data file through a link: its target's content is the key."""
    made = _data(project, "unit", F_TRUE)
    target = tmp_path / "unit.data"
    made.rename(target)
    made.symlink_to(target)
    before = figures(project)
    assert before is not None
    target.unlink()
    data = CoverageData(basename=str(target))
    data.add_arcs({MODULE: {*F_TRUE, *G}})
    data.write()
    after = combine(project)
    assert len(computed) == 2
    assert after.percent > before.percent


def test_the_gate_names_a_folder_in_the_way_of_its_data(project: Project) -> None:
    _data(project, "unit", F_TRUE)
    (coverage_dir(project) / "combined" / ".coverage").mkdir(parents=True)
    with pytest.raises(ReportError, match=r"combined/\.coverage: cannot write .*\n  fix: "):
        combine(project)
