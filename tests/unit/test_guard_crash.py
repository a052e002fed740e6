"""A collection that crashed is reported as a crash, the real error first (suitekit._guard).

The suite sessions and the partition session record what failed to collect
(:class:`~suitekit._selection.Collection` ``errors``); the guard then says "collection failed in
suite X: <the error>" instead of "the suites do not partition the tests".
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from suitekit import Project, Suite
from suitekit._guard import collections_folder, crash, decide
from suitekit._runner import Outcome
from suitekit._runner._compose import _guard_failed
from suitekit._selection import Collection, crash_message, suites_at
from suitekit.plan import partition_job
from tests.unit.test_guard import INTEGRATION, SLOW, UNIT, project_in, record

IMPORT_ERROR = "ModuleNotFoundError: No module named 'django'"


def write(folder: Path, collection: Collection, name: str) -> None:
    (folder / name).write_text(collection.to_json())


def crashed(suite: str, *errors: tuple[str, str]) -> Collection:
    return Collection(suite=suite, owned=(), others=(), complete=False, errors=errors)


def test_a_record_with_errors_round_trips_and_an_old_one_has_none() -> None:
    record_ = crashed("unit", ("tests/unit/conftest.py", IMPORT_ERROR), ("tests/unit/t.py", "E"))
    old = dataclasses.replace(record_, errors=())

    assert Collection.from_json(record_.to_json()) == record_
    assert Collection.from_json(old.to_json().replace(', "errors": []', "")) == old
    assert Collection.from_json(record_.to_json().replace('"E"]', '"E", "x"]')) is None


def test_suites_at_a_path(tmp_path: Path) -> None:
    project = project_in(tmp_path, UNIT, INTEGRATION)
    with_marker = project_in(tmp_path, UNIT, SLOW)

    assert suites_at(project, "tests/unit/test_a.py") == ("unit",)
    assert suites_at(project, "tests/integration/conftest.py") == ("integration",)
    assert suites_at(project, "tests") == ("unit", "integration")  # a conftest both import
    assert suites_at(project, "tests/other/test_x.py") == ()
    assert suites_at(with_marker, "tests/integration/test_b.py") == ("slow",)


def test_the_crash_message_puts_the_error_first(tmp_path: Path) -> None:
    project = project_in(tmp_path, UNIT, INTEGRATION)
    where = ("tests/integration/conftest.py", IMPORT_ERROR)

    assert crash_message(project, [where]) == (
        f"collection failed in suite 'integration': {IMPORT_ERROR} (tests/integration/conftest.py)"
    )
    assert crash_message(project, [("tests", "E"), where]) == (
        "collection failed in suites 'unit', 'integration': E (tests); "
        "and 1 more collection error(s)"
    )
    assert crash_message(project, [("elsewhere/t.py", "E")]) == (
        "collection failed in a path no suite collects: E (elsewhere/t.py)"
    )
    assert crash_message(project, [], suite="unit") == "collection failed in suite 'unit'"


def test_a_suites_crash_is_the_guards_reason(tmp_path: Path) -> None:
    project = project_in(tmp_path / "p", UNIT, INTEGRATION)
    with collections_folder() as folder:
        record(folder, "unit", ["tests/unit/test_a.py::t"])
        write(
            folder,
            crashed("integration", ("tests/integration/conftest.py", IMPORT_ERROR)),
            "i.json",
        )
        verdict = decide(project, folder)
        said = crash(project, folder)

    assert verdict.report is None
    assert verdict.reason == (
        f"collection failed in suite 'integration': {IMPORT_ERROR} (tests/integration/conftest.py)"
    )
    assert said == verdict.reason


def test_the_partition_sessions_crash_names_the_suite_from_the_path(tmp_path: Path) -> None:
    project = project_in(tmp_path / "p", UNIT, INTEGRATION)
    with collections_folder() as folder:
        record(folder, "unit", ["tests/unit/test_a.py::t"])
        record(folder, "integration", ["tests/integration/test_b.py::t"])
        partition = crashed("partition", ("tests/integration/conftest.py", IMPORT_ERROR))
        write(folder, partition, "partition.7.json")
        # The suites' records still settle the partition: the session's record is not a suite's.
        assert decide(project, folder).ok
        assert crash(project, folder) == (
            f"collection failed in suite 'integration': {IMPORT_ERROR} "
            "(tests/integration/conftest.py)"
        )
        assert crash(None, folder) == (
            f"collection failed: {IMPORT_ERROR} (tests/integration/conftest.py)"
        )


def test_no_errors_no_crash(tmp_path: Path) -> None:
    project = project_in(tmp_path / "p", UNIT, INTEGRATION)
    with collections_folder() as folder:
        record(folder, "unit", ["tests/unit/test_a.py::t"], complete=False)
        record(folder, "integration", ["tests/integration/test_b.py::t"])
        assert crash(project, folder) is None
        assert "did not collect all of its tests" in decide(project, folder).reason


def test_a_failed_guard_says_what_crashed_instead_of_the_partition(tmp_path: Path) -> None:
    project: Project = project_in(tmp_path / "p", Suite(name="unit", paths=("tests/unit",)))
    failed = Outcome(job=partition_job(project), status="failed", returncode=2, seconds=1.0)
    out = io.StringIO()

    assert (
        _guard_failed(failed, out, "see its log above", f"collection failed: {IMPORT_ERROR}") == 1
    )
    assert out.getvalue() == (
        f"suitekit: partition failed: collection failed: {IMPORT_ERROR}; see its log above\n"
    )
    out = io.StringIO()
    _guard_failed(failed, out, "nothing else was run", None)
    assert "the suites do not partition the tests; nothing else was run" in out.getvalue()
