"""Unit tests: suites' marker names checked against the markers the project registers."""

from __future__ import annotations

from pathlib import Path

import pytest

from suitekit._cli import main
from suitekit.config import check_registered_markers, configured_markers, load_project
from suitekit.errors import ConfigError

SUITES = """\
[tool.suitekit.suites.unit]
paths = ["tests"]
marker = "not slw and not db"

[tool.suitekit.suites.slow]
paths = ["tests"]
marker = "slow"

[tool.suitekit.suites.db]
paths = ["tests"]
marker = "db or django_db or skipif"
"""

INI_OPTIONS = """
[tool.pytest.ini_options]
markers = ["slow: takes a while", "db(name): uses a database"]
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    return tmp_path.resolve()


def project_error(root: Path, pyproject: str) -> ConfigError:
    (root / "pyproject.toml").write_text(pyproject)
    project = load_project(root)  # the declaration itself is fine
    with pytest.raises(ConfigError) as caught:
        check_registered_markers(project)
    return caught.value


def test_a_misspelt_marker_is_refused_with_the_closest_registered_one(root: Path) -> None:
    error = project_error(root, SUITES + INI_OPTIONS)

    file = root / "pyproject.toml"
    assert str(error) == (
        f"{file}: tool.suitekit.suites.unit.marker: the marker 'slw' of 'not slw and not db' is "
        "not registered (did you mean 'slow'?), so the expression selects as if no test "
        "carried it\n  fix: correct the name, or register the marker in the markers of "
        f"[tool.pytest.ini_options] of {file}"
    )
    assert error.value == "not slw and not db"


def test_registered_builtin_and_plugin_markers_pass(root: Path) -> None:
    (root / "pyproject.toml").write_text(SUITES.replace("slw", "slow") + INI_OPTIONS)

    check_registered_markers(load_project(root))  # slow, db: registered; skipif, django_db: known


def test_every_unknown_marker_of_every_suite_is_reported(root: Path) -> None:
    pyproject = SUITES.replace('"slow"', '"slowest"') + INI_OPTIONS

    error = project_error(root, pyproject)

    assert [(e.key, e.value) for e in error.errors] == [
        ("tool.suitekit.suites.unit.marker", "not slw and not db"),
        ("tool.suitekit.suites.slow.marker", "slowest"),
    ]


def test_a_project_that_registers_no_marker_is_not_checked(root: Path) -> None:
    # Its suites' markers are registered by suitekit alone: nothing tells a typo from a name.
    (root / "pyproject.toml").write_text(SUITES + "\n[tool.pytest.ini_options]\naddopts = '-ra'\n")

    check_registered_markers(load_project(root))
    assert configured_markers(root) is not None
    assert configured_markers(root).names == ()  # type: ignore[union-attr]


def test_without_pytest_configuration_nothing_is_checked(root: Path) -> None:
    (root / "pyproject.toml").write_text(SUITES)

    assert configured_markers(root) is None
    check_registered_markers(load_project(root))


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        pytest.param(
            "pytest.ini",
            "[pytest]\nmarkers =\n    slow: takes a while\n    db(name): a database\n",
            "[pytest]",
            id="pytest.ini",
        ),
        pytest.param(
            "tox.ini", "[tox]\n[pytest]\nmarkers =\n  slow\n  db: x\n", "[pytest]", id="tox.ini"
        ),
        pytest.param(
            "setup.cfg",
            "[metadata]\nname = x\n[tool:pytest]\nmarkers =\n  slow: x\n  db\n",
            "[tool:pytest]",
            id="setup.cfg",
        ),
        pytest.param(
            "pytest.toml",
            '[pytest]\nmarkers = ["slow: x", "db: y"]\n',
            "[pytest]",
            id="pytest.toml",
        ),
    ],
)
def test_markers_are_read_from_the_file_pytest_reads(
    root: Path, name: str, text: str, where: str
) -> None:
    (root / name).write_text(text)
    pyproject = SUITES
    if name.startswith("pytest."):  # read before pyproject.toml, whose table is then ignored
        pyproject += '\n[tool.pytest.ini_options]\nmarkers = ["slw: wrong"]\n'

    error = project_error(root, pyproject)

    registered = configured_markers(root)
    assert registered is not None
    assert registered.names == ("slow", "db")
    assert registered.where == f"markers of {where} of {root / name}"
    assert "'slw'" in str(error)
    assert "(did you mean 'slow'?)" in str(error)


def test_native_toml_configuration(root: Path) -> None:
    pyproject = SUITES + '\n[tool.pytest]\nmarkers = ["slow: x", "db"]\n'

    error = project_error(root, pyproject)

    assert f"markers of [tool.pytest] of {root / 'pyproject.toml'}" in str(error)


def test_pyproject_comes_before_tox_ini_and_setup_cfg(root: Path) -> None:
    (root / "tox.ini").write_text("[pytest]\nmarkers = slw\n")
    (root / "pyproject.toml").write_text(SUITES + INI_OPTIONS)

    registered = configured_markers(root)

    assert registered is not None
    assert registered.where.endswith("pyproject.toml")


def test_a_file_without_pytest_configuration_is_passed_by(root: Path) -> None:
    (root / "setup.cfg").write_text("[metadata]\nname = x\n")
    (root / "tox.ini").write_text("[pytest]\nmarkers = slow\n")
    (root / "pyproject.toml").write_text(SUITES)

    registered = configured_markers(root)

    assert registered is not None
    assert registered.where == f"markers of [pytest] of {root / 'tox.ini'}"


def test_the_configuration_of_a_folder_above_counts(root: Path) -> None:
    project = root / "project"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text(SUITES)
    (root / "pytest.ini").write_text("[pytest]\nmarkers = slow\n  db\n")

    error = project_error(project, SUITES)

    assert "'slw'" in str(error)


def test_suitekit_config_reports_the_unknown_marker(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (root / "pyproject.toml").write_text(SUITES + INI_OPTIONS)

    assert main(["--project", str(root), "config"]) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"suitekit: {root / 'pyproject.toml'}: tool.suitekit.suites.unit.marker:")
    assert "(did you mean 'slow'?)" in err
