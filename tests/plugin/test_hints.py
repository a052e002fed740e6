"""The checks and hints of every run: registered markers, and the suite a variable needs."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

from suitekit._cli import main
from suitekit.config import parse_project
from suitekit.pytest_plugin._hints import hint_for, service_variables
from tests.plugin.helpers import run

SERVICES_TABLE: Final = """
[tool.suitekit.suites.unit]
paths = ["tests/unit"]

[tool.suitekit.suites.integration]
paths = ["tests/integration"]
services = ["postgres"]

[tool.suitekit.suites.cache]
paths = ["tests/cache"]
services = ["redis", "postgres"]
"""

READS_URL: Final = """
    import os

    def test_reads_url():
        assert os.environ["DATABASE_URL"]

    def test_other_key():
        assert os.environ["NOT_A_SERVICE_VARIABLE"]
    """

HINT: Final = (
    "*DATABASE_URL is set by suitekit's postgres service for suite 'integration' (also set for "
    "suite(s) 'cache'): run `pytest --suitekit-suite=integration` (or `nox -s integration`)*"
)


@pytest.fixture(autouse=True)
def _no_accepted_marker_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget the marker names that earlier runs in this process made pytest accept."""
    monkeypatch.setattr(pytest.mark, "_markers", set())


@pytest.fixture
def services_project(
    pytester: pytest.Pytester,
    write_pyproject: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> pytest.Pytester:
    """A project whose integration tests read DATABASE_URL, which suitekit's postgres sets."""
    for variable in ("DATABASE_URL", "NOT_A_SERVICE_VARIABLE"):
        monkeypatch.delenv(variable, raising=False)
    write_pyproject(SERVICES_TABLE)
    for folder in ("unit", "cache"):
        (pytester.path / "tests" / folder).mkdir(parents=True, exist_ok=True)
    pytester.makepyfile(**{"tests/integration/test_db": READS_URL})
    return pytester


# -- the hint --------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", ["0", "2"])
def test_plain_pytest_hints_at_the_suite_whose_service_sets_the_variable(
    services_project: pytest.Pytester, workers: str
) -> None:
    result = run(services_project, workers)

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*KeyError: 'DATABASE_URL'", f"E   {HINT.strip('*')}"])
    # A variable no service sets gets no hint. (On CI pytest's short summary prints each
    # failure's whole message, notes and all: only the tracebacks' lines are counted.)
    hinted = [line for line in result.outlines if line.startswith("E ") and "suitekit's" in line]
    assert len(hinted) == 1, result.stdout.str()


def test_a_module_that_fails_to_import_gets_the_hint(services_project: pytest.Pytester) -> None:
    services_project.makepyfile(
        **{"tests/integration/test_db": "import os\nURL = os.environ['DATABASE_URL']\n"}
    )

    result = run(services_project, "2")

    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*KeyError: 'DATABASE_URL'", "*- suitekit -*", HINT])


def test_a_root_conftest_that_fails_to_import_gets_the_hint(
    services_project: pytest.Pytester,
) -> None:
    services_project.makeconftest("import os\nURL = os.environ['DATABASE_URL']\n")

    result = services_project.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ImportError while loading conftest*", "*KeyError*", HINT])


def test_a_set_variable_gets_no_hint(
    services_project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "")  # set, and empty: the test's assert fails instead

    result = run(services_project, "0")

    result.assert_outcomes(failed=2)
    assert "is set by suitekit's" not in result.stdout.str()


def test_the_suite_that_owns_the_test_is_named_first(tmp_path: Path) -> None:
    for folder in ("unit", "integration", "cache"):
        (tmp_path / "tests" / folder).mkdir(parents=True)
    project = parse_project(
        {"tool": {"suitekit": _toml(SERVICES_TABLE)}}, config_file=tmp_path / "pyproject.toml"
    )
    variables = service_variables(project)

    assert variables["DATABASE_URL"] == (("postgres", "integration"), ("postgres", "cache"))
    assert variables["REDIS_URL"] == (("redis", "cache"),)
    hint = hint_for(variables, "DATABASE_URL", owners=("cache",))
    assert hint is not None
    assert hint.startswith("DATABASE_URL is set by suitekit's postgres service for suite 'cache' ")
    assert "(also set for suite(s) 'integration')" in hint
    assert hint_for(variables, "HOME") is None


def _toml(text: str) -> dict[str, object]:
    import tomllib  # noqa: PLC0415

    return tomllib.loads(text)["tool"]["suitekit"]  # type: ignore[no-any-return]


# -- registered markers ----------------------------------------------------------------------

REGISTERS_SLOW: Final = """
[tool.suitekit]
tests = ["tests"]

[tool.suitekit.suites.fast]
marker = "not slw"

[tool.suitekit.suites.slow]
marker = "slow"
"""


def _markers_project(pytester: pytest.Pytester, suitekit: str, markers: list[str]) -> None:
    lines = ", ".join(f'"{line}"' for line in markers)
    pytester.makepyprojecttoml(
        f"[tool.pytest.ini_options]\naddopts = ['--strict-markers']\nmarkers = [{lines}]\n"
        + textwrap.dedent(suitekit)
    )
    pytester.makepyfile(
        **{"tests/test_x": "import pytest\n\n@pytest.mark.slow\ndef test_slow():\n    pass\n"}
    )


def _misspelt_lines(pyproject: Path, suite: str, name: str, meant: str) -> list[str]:
    return [
        (
            f"ERROR: {pyproject}: tool.suitekit.suites.{suite}.marker: the marker {name!r} of "
            f"*is not registered (did you mean {meant!r}?)*"
        ),
        (
            f"  fix: fix the spelling, or register {name!r} in [tool.pytest.ini_options] markers "
            f"of {pyproject} if it is a new marker"
        ),
    ]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((), id="plain"),
        pytest.param(("--suitekit-suite=slow",), id="suite"),
        pytest.param(("--suitekit-partition",), id="partition"),
    ],
)
def test_a_misspelt_suite_marker_stops_every_run(
    pytester: pytest.Pytester, args: tuple[str, ...]
) -> None:
    _markers_project(pytester, REGISTERS_SLOW, ["slow: takes long"])

    result = pytester.runpytest(*args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    pyproject = pytester.path / "pyproject.toml"
    result.stderr.fnmatch_lines(_misspelt_lines(pyproject, "fast", "slw", "slow"))


def test_suitekit_config_refuses_the_misspelt_marker_as_pytest_does(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    _markers_project(pytester, REGISTERS_SLOW, ["slow: takes long"])

    code = main(["--project", str(pytester.path), "config"])

    assert code == 2  # a configuration error
    err = capsys.readouterr().err
    assert "the marker 'slw' of 'not slw' is not registered (did you mean 'slow'?)" in err
    assert "fix: fix the spelling, or register 'slw' in [tool.pytest.ini_options]" in err


def test_the_suites_own_markers_pass_in_a_project_that_registers_others(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    # The review's project: it registers `db`, and its suites' `slow` is registered by suitekit
    # alone, as documented; plain pytest with --strict-markers, a suite run and
    # `suitekit config` all accept it.
    suitekit = REGISTERS_SLOW.replace("not slw", "not slow")
    _markers_project(pytester, suitekit, ["db: uses the database"])

    plain = pytester.runpytest()
    suite = pytester.runpytest("--suitekit-suite=slow")

    plain.assert_outcomes(passed=1)
    suite.assert_outcomes(passed=1)
    assert main(["--project", str(pytester.path), "config"]) == 0
    capsys.readouterr()


def test_markers_of_conftests_and_plugins_count(pytester: pytest.Pytester) -> None:
    # `slowish` is close to the project's `slow`, and `timeout` to nothing registered: each is
    # registered by a conftest here, as a plugin registers its markers, which the check counts.
    suitekit = REGISTERS_SLOW.replace("not slw", "not slowish and not skipif")
    _markers_project(pytester, suitekit, ["slow: takes long"])
    pytester.makeconftest(
        "def pytest_configure(config):\n"
        "    config.addinivalue_line('markers', 'slowish: takes a little long')\n"
    )

    passing = pytester.runpytest()
    without = pytester.runpytest("--noconftest")

    passing.assert_outcomes(passed=1)
    assert without.ret == pytest.ExitCode.USAGE_ERROR
    without.stderr.fnmatch_lines(["*the marker 'slowish' of * (did you mean 'slow'?)*"])


def test_a_misspelling_of_a_plugin_marker_is_found(pytester: pytest.Pytester) -> None:
    suitekit = REGISTERS_SLOW.replace("not slw", "not gpu_hevy")
    _markers_project(pytester, suitekit, ["slow: takes long"])
    pytester.makeconftest(
        "def pytest_configure(config):\n"
        "    config.addinivalue_line('markers', 'gpu_heavy: needs a big GPU')\n"
    )

    result = pytester.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*the marker 'gpu_hevy' of * (did you mean 'gpu_heavy'?)*"])


def test_marker_keyword_arguments_select_in_a_suite_run(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        textwrap.dedent(
            """
            [tool.pytest.ini_options]
            markers = ["device(serial): the device a test needs"]

            [tool.suitekit.suites.one]
            paths = ["tests"]
            marker = 'device(serial="1")'

            [tool.suitekit.suites.rest]
            paths = ["tests"]
            marker = 'not device(serial="1")'
            """
        )
    )
    pytester.makepyfile(
        **{
            "tests/test_devices": """
                import pytest

                @pytest.mark.device(serial="1")
                def test_one():
                    pass

                @pytest.mark.device(serial="2")
                def test_two():
                    pass

                @pytest.mark.device(serial="2")
                @pytest.mark.device(serial="1")
                def test_both():
                    pass

                def test_none():
                    pass
                """
        }
    )

    one = pytester.runpytest("--suitekit-suite=one", "-v")
    rest = pytester.runpytest("--suitekit-suite=rest", "-v")

    one.assert_outcomes(passed=2, deselected=2)
    one.stdout.fnmatch_lines_random(["*::test_one PASSED*", "*::test_both PASSED*"])
    rest.assert_outcomes(passed=2, deselected=2)
    rest.stdout.fnmatch_lines_random(["*::test_two PASSED*", "*::test_none PASSED*"])
