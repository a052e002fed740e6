"""The checks and hints of every run: registered markers, and the suite a variable needs."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

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
    # A variable no service sets gets no hint.
    assert result.stdout.str().count("is set by suitekit's") == 1


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


def test_a_misspelt_suite_marker_stops_the_run(pytester: pytest.Pytester) -> None:
    _markers_project(pytester, REGISTERS_SLOW, ["slow: takes long"])

    result = pytester.runpytest()

    pyproject = pytester.path / "pyproject.toml"
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            (
                "ERROR: *pyproject.toml: tool.suitekit.suites.fast.marker: the marker 'slw' of "
                "'not slw' is not registered (did you mean 'slow'?)*"
            ),
            f"  fix: correct the name, or register the marker in the markers of {pyproject}",
        ]
    )


def test_markers_of_conftests_and_plugins_count(pytester: pytest.Pytester) -> None:
    suitekit = REGISTERS_SLOW.replace("not slw", "not gpu and not timeout and not skipif")
    _markers_project(pytester, suitekit, ["slow: takes long"])
    pytester.makeconftest(
        "def pytest_configure(config):\n"
        "    config.addinivalue_line('markers', 'gpu: needs a GPU')\n"
    )

    result = pytester.runpytest()

    result.assert_outcomes(passed=1)


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
