"""Unit tests: suites' marker names checked for misspellings of the registered markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from suitekit._cli import main
from suitekit.config import (
    check_registered_markers,
    configured_markers,
    load_project,
    misspelt_markers,
)
from suitekit.config._markers import PLUGIN_MARKERS
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


def suites(*markers: str) -> str:
    """A declaration with one suite per marker expression."""
    return "".join(
        f'[tool.suitekit.suites.s{index}]\npaths = ["tests"]\nmarker = "{marker}"\n\n'
        for index, marker in enumerate(markers)
    )


def test_a_misspelt_marker_is_refused_with_the_closest_registered_one(root: Path) -> None:
    error = project_error(root, SUITES + INI_OPTIONS)

    file = root / "pyproject.toml"
    assert str(error) == (
        f"{file}: tool.suitekit.suites.unit.marker: the marker 'slw' of 'not slw and not db' is "
        "not registered (did you mean 'slow'?), and a misspelt marker selects as if no test "
        "carried it\n  fix: fix the spelling, or register 'slw' in [tool.pytest.ini_options] "
        f"markers of {file} if it is a new marker"
    )
    assert error.value == "not slw and not db"


def test_registered_builtin_and_plugin_markers_pass(root: Path) -> None:
    (root / "pyproject.toml").write_text(SUITES.replace("slw", "slow") + INI_OPTIONS)

    check_registered_markers(load_project(root))  # slow, db: registered; skipif, django_db: known


def test_the_suites_own_new_markers_pass_beside_registered_ones(root: Path) -> None:
    # The review's case: the project registers `db`; `slow` is registered by suitekit alone.
    pyproject = suites("slow", "not slow") + '[tool.pytest.ini_options]\nmarkers = ["db: x"]\n'
    (root / "pyproject.toml").write_text(pyproject)

    check_registered_markers(load_project(root))


@pytest.mark.parametrize("marker", ["vcr", "freeze_time", "respx", "not vcr and not respx"])
def test_a_marker_of_an_unlisted_plugin_passes(root: Path, marker: str) -> None:
    # suitekit config cannot know these plugins' markers; they are close to nothing registered.
    assert marker.rsplit(maxsplit=1)[-1] not in PLUGIN_MARKERS
    (root / "pyproject.toml").write_text(suites(marker) + INI_OPTIONS)

    check_registered_markers(load_project(root))


def test_a_listed_plugin_marker_is_no_misspelling_of_a_project_marker(root: Path) -> None:
    registers = '[tool.pytest.ini_options]\nmarkers = ["asyncio_db: x"]\n'
    (root / "pyproject.toml").write_text(suites("asyncio") + registers)

    check_registered_markers(load_project(root))  # asyncio: pytest-asyncio's, close to asyncio_db
    error = project_error(root, suites("asyncio_bd") + registers)
    assert "(did you mean 'asyncio_db'?)" in str(error)


def test_a_name_close_to_a_listed_plugin_marker_is_no_misspelling(root: Path) -> None:
    # The project may not use pytest-timeout: "timeouts" may well be a marker of its own.
    (root / "pyproject.toml").write_text(suites("timeouts") + INI_OPTIONS)

    check_registered_markers(load_project(root))


def test_every_misspelt_marker_of_every_suite_is_reported(root: Path) -> None:
    pyproject = SUITES.replace('"slow"', '"slowest"') + INI_OPTIONS

    error = project_error(root, pyproject)

    assert [(e.key, e.value) for e in error.errors] == [
        ("tool.suitekit.suites.unit.marker", "not slw and not db"),
        ("tool.suitekit.suites.slow.marker", "slowest"),
    ]


def test_misspelt_markers_names_the_suite_the_name_and_the_meant_one(root: Path) -> None:
    (root / "pyproject.toml").write_text(suites("gpu", "not slw and not gpu"))
    project = load_project(root)

    found = misspelt_markers(project, ["slow", "skip"], accepted=["gpux"])

    assert [(f.suite, f.expression, f.name, f.meant) for f in found] == [
        ("s1", "not slw and not gpu", "slw", "slow")
    ]
    assert misspelt_markers(project, ["slow"], accepted=["slw"]) == ()


def test_without_registered_markers_pytest_s_own_still_count(root: Path) -> None:
    # No pytest configuration: a name close to nothing passes; one close to pytest's own does
    # not, and the fix says where a new marker is registered.
    (root / "pyproject.toml").write_text(suites("slw", "integration"))
    check_registered_markers(load_project(root))

    error = project_error(root, suites("not skp"))

    file = root / "pyproject.toml"
    assert configured_markers(root) is None
    assert "the marker 'skp' of 'not skp' is not registered (did you mean 'skip'?)" in str(error)
    assert str(error).endswith(
        f"register 'skp' in [tool.pytest.ini_options] markers of {file} if it is a new marker"
    )


def test_a_project_that_registers_no_marker_is_read_as_such(root: Path) -> None:
    (root / "pyproject.toml").write_text(SUITES + "\n[tool.pytest.ini_options]\naddopts = '-ra'\n")

    check_registered_markers(load_project(root))  # slw is close to nothing registered
    assert configured_markers(root) is not None
    assert configured_markers(root).names == ()  # type: ignore[union-attr]


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
    assert registered.where == f"{where} markers of {root / name}"
    assert "'slw'" in str(error)
    assert "(did you mean 'slow'?)" in str(error)


def test_native_toml_configuration(root: Path) -> None:
    pyproject = SUITES + '\n[tool.pytest]\nmarkers = ["slow: x", "db"]\n'

    error = project_error(root, pyproject)

    assert f"[tool.pytest] markers of {root / 'pyproject.toml'}" in str(error)


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
    assert registered.where == f"[pytest] markers of {root / 'tox.ini'}"


def test_the_configuration_of_a_folder_above_counts(root: Path) -> None:
    project = root / "project"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text(SUITES)
    (root / "pytest.ini").write_text("[pytest]\nmarkers = slow\n  db\n")

    error = project_error(project, SUITES)

    assert "'slw'" in str(error)


def test_suitekit_config_reports_the_misspelt_marker(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (root / "pyproject.toml").write_text(SUITES + INI_OPTIONS)

    assert main(["--project", str(root), "config"]) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"suitekit: {root / 'pyproject.toml'}: tool.suitekit.suites.unit.marker:")
    assert "(did you mean 'slow'?)" in err
