"""Unit tests of what a worker is given (suitekit.services._worker.WorkerResources)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suitekit import Project, Suite
from suitekit._model import Isolation
from suitekit._naming import work_folder
from suitekit.services._resources import ENV_RESOURCES
from suitekit.services._worker import (
    Acquired,
    WorkerResources,
    acquire,
    current,
    export,
    finish_run,
    work_folders,
)

RUN_ID: Final = "20260101120000a1b2c3"

texts = st.text(max_size=50)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
resources = st.builds(
    WorkerResources,
    run_id=texts,
    suite=texts,
    worker=texts,
    hashseed=texts,
    database=texts,
    redis_db=st.integers(min_value=-1, max_value=10_000),
    dirs=st.dictionaries(names, texts, max_size=5),
    ports=st.lists(st.integers(min_value=1, max_value=65535), max_size=20).map(tuple),
    env=st.dictionaries(texts, texts, max_size=8),
)


def full() -> WorkerResources:
    return WorkerResources(
        run_id=RUN_ID,
        suite="integration",
        worker="gw1",
        hashseed="1234",
        database="sk_db",
        redis_db=3,
        dirs={"MEDIA_ROOT": "/tmp/m", "CACHE_DIR": "/tmp/c"},
        ports=(20010, 20011, 20012),
        env={"DATABASE_URL": "postgresql://postgres@h:5432/sk_db", "MEDIA_ROOT": "/tmp/m"},
    )


# -- JSON --------------------------------------------------------------------------------------


@settings(database=None, max_examples=300)
@given(given_resources=resources)
def test_json_round_trip(given_resources: WorkerResources) -> None:
    text = given_resources.to_json()

    assert WorkerResources.from_json(text) == given_resources
    assert WorkerResources.from_json(text).to_json() == text


def test_json_of_full_resources() -> None:
    assert json.loads(full().to_json()) == {
        "run_id": RUN_ID,
        "suite": "integration",
        "worker": "gw1",
        "hashseed": "1234",
        "database": "sk_db",
        "redis_db": 3,
        "dirs": {"MEDIA_ROOT": "/tmp/m", "CACHE_DIR": "/tmp/c"},
        "ports": [20010, 20011, 20012],
        "env": {"DATABASE_URL": "postgresql://postgres@h:5432/sk_db", "MEDIA_ROOT": "/tmp/m"},
    }


def test_json_of_the_defaults() -> None:
    bare = WorkerResources(run_id=RUN_ID, suite="unit", worker="main", hashseed="")

    assert WorkerResources.from_json(bare.to_json()) == bare
    assert json.loads(bare.to_json())["redis_db"] == -1


def test_json_is_the_same_whatever_the_insertion_order() -> None:
    one = WorkerResources(
        run_id=RUN_ID, suite="u", worker="gw0", hashseed="1", env={"A": "1", "B": "2"}
    )
    other = WorkerResources(
        run_id=RUN_ID, suite="u", worker="gw0", hashseed="1", env={"B": "2", "A": "1"}
    )

    assert one.to_json() == other.to_json()


def test_from_json_reads_its_own_types() -> None:
    read = WorkerResources.from_json(full().to_json())

    assert isinstance(read.ports, tuple)
    assert read.ports == (20010, 20011, 20012)
    assert read.redis_db == 3


# -- describe ----------------------------------------------------------------------------------


def test_describe_full_resources() -> None:
    assert full().describe() == (
        "gw1: db sk_db redis db 3 MEDIA_ROOT=/tmp/m CACHE_DIR=/tmp/c ports 20010-20012"
    )


def test_describe_bare_resources() -> None:
    bare = WorkerResources(run_id=RUN_ID, suite="unit", worker="main", hashseed="")

    assert bare.describe() == "main:"


def test_describe_redis_database_zero() -> None:
    resources_ = WorkerResources(run_id=RUN_ID, suite="u", worker="gw0", hashseed="", redis_db=0)

    assert resources_.describe() == "gw0: redis db 0"


def test_describe_one_port() -> None:
    resources_ = WorkerResources(run_id=RUN_ID, suite="u", worker="gw0", hashseed="", ports=(7,))

    assert resources_.describe() == "gw0: ports 7-7"


# -- read-only ---------------------------------------------------------------------------------


def test_the_mappings_are_read_only() -> None:
    given_resources = full()

    with pytest.raises(TypeError, match=r"does not support item assignment"):
        cast("dict[str, str]", given_resources.dirs)["MEDIA_ROOT"] = "/elsewhere"
    with pytest.raises(TypeError, match=r"does not support item assignment"):
        cast("dict[str, str]", given_resources.env)["X"] = "1"


def test_the_mappings_read_from_json_are_read_only() -> None:
    read = WorkerResources.from_json(full().to_json())

    with pytest.raises(TypeError, match=r"does not support item assignment"):
        cast("dict[str, str]", read.env)["X"] = "1"


def test_the_default_mappings_are_read_only() -> None:
    bare = WorkerResources(run_id=RUN_ID, suite="unit", worker="main", hashseed="")

    with pytest.raises(TypeError, match=r"does not support item assignment"):
        cast("dict[str, str]", bare.dirs)["X"] = "1"


def test_the_callers_dict_is_copied() -> None:
    env = {"A": "1"}
    given_resources = WorkerResources(run_id=RUN_ID, suite="u", worker="gw0", hashseed="", env=env)

    env["A"] = "changed"
    env["B"] = "2"

    assert dict(given_resources.env) == {"A": "1"}


def test_the_resources_are_frozen() -> None:
    given_resources = full()

    with pytest.raises(AttributeError, match=r"cannot assign to field 'database'"):
        given_resources.database = "other"  # type: ignore[misc]


# -- export and current ------------------------------------------------------------------------


def test_export_is_the_env_and_the_json() -> None:
    exported = export(full())

    assert exported == {**full().env, ENV_RESOURCES: full().to_json()}


def test_current_reads_what_export_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in export(full()).items():
        monkeypatch.setenv(name, value)

    assert current() == full()


def test_current_outside_a_worker_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_RESOURCES, raising=False)

    assert current() is None


# -- per-worker folders (acquire without services runs no server) --------------------------


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private state folder, so these tests touch nothing under the real temp folder."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    return tmp_path / f"suitekit-{os.geteuid()}"


def project_with(isolation: Isolation) -> Project:
    root = Path("/work/bookshop")
    return Project(
        root=root, config_file=root / "pyproject.toml", python=("3.11",), isolation=isolation
    )


@pytest.fixture
def held() -> Iterator[list[Acquired]]:
    """What a test acquired, released at its end whatever happens."""
    acquired: list[Acquired] = []
    yield acquired
    for item in reversed(acquired):
        item.release()


def test_each_worker_gets_its_own_folders(state: Path, held: list[Acquired]) -> None:
    project = project_with(Isolation(dirs=("MEDIA_ROOT",)))
    suite = Suite(name="unit", paths=("tests/unit",))
    environ = {"SUITEKIT_RUN_ID": RUN_ID, "PYTHONHASHSEED": "7"}

    held.extend(acquire(project, suite, worker=w, environ=environ) for w in ("gw0", "gw1"))

    first, second = (item.resources for item in held)
    assert first.dirs["MEDIA_ROOT"] != second.dirs["MEDIA_ROOT"]
    assert Path(first.dirs["MEDIA_ROOT"]).is_relative_to(state / "work")
    assert first.env["MEDIA_ROOT"] == first.dirs["MEDIA_ROOT"]
    assert first.hashseed == "7"
    assert Path(first.dirs["MEDIA_ROOT"]).is_dir()


def test_releasing_removes_the_folders(state: Path) -> None:
    project = project_with(Isolation(dirs=("MEDIA_ROOT",)))
    suite = Suite(name="unit", paths=("tests/unit",))
    acquired = acquire(project, suite, worker="gw0", environ={"SUITEKIT_RUN_ID": RUN_ID})
    folder = Path(acquired.resources.dirs["MEDIA_ROOT"])

    acquired.release()

    assert not folder.exists()
    assert not folder.parent.exists()
    assert (state / "work").is_dir()


def test_workers_of_a_long_suite_name_get_their_own_folders(
    state: Path, held: list[Acquired]
) -> None:
    """A 48-character suite name once pushed the worker id out of a 60-character folder name."""
    del state
    project = project_with(Isolation(dirs=("MEDIA_ROOT",)))
    suite = Suite(name="integration-" + "x" * 36, paths=("tests/integration",))  # 48 allowed
    environ = {"SUITEKIT_RUN_ID": RUN_ID}

    held.extend(acquire(project, suite, worker=w, environ=environ) for w in ("gw0", "gw1"))

    first, second = (item.resources for item in held)
    assert first.dirs["MEDIA_ROOT"] != second.dirs["MEDIA_ROOT"]


def test_finish_run_removes_this_suites_folders_only(state: Path, held: list[Acquired]) -> None:
    project = project_with(Isolation(dirs=("MEDIA_ROOT",)))
    unit = Suite(name="unit", paths=("tests/unit",))
    unit_slow = Suite(name="unit-slow", paths=("tests/slow",))
    environ = {"SUITEKIT_RUN_ID": RUN_ID}
    other_run = {"SUITEKIT_RUN_ID": "20260101120000ffffff"}
    held.append(acquire(project, unit, worker="gw0", environ=environ))
    held.append(acquire(project, unit_slow, worker="gw0", environ=environ))
    held.append(acquire(project, unit, worker="gw0", environ=other_run))
    mine, same_prefix, other = (Path(a.resources.dirs["MEDIA_ROOT"]).parent for a in held)

    finish_run(project, unit, environ)

    assert not mine.exists()
    assert same_prefix.is_dir()
    assert other.is_dir()
    assert {folder for folder, _ in work_folders()} == {same_prefix, other}
    assert all(folder.parent == state / "work" for folder in (same_prefix, other))


def test_finish_run_removes_a_folder_its_worker_left_without_an_owner_file(
    state: Path, held: list[Acquired]
) -> None:
    """A worker killed between making its folder and writing its owner file left them."""
    project = project_with(Isolation(dirs=("MEDIA_ROOT",)))
    unit = Suite(name="unit", paths=("tests/unit",))
    environ = {"SUITEKIT_RUN_ID": RUN_ID}
    held.append(acquire(project, unit, worker="gw0", environ=environ))
    owned = Path(held[0].resources.dirs["MEDIA_ROOT"]).parent
    work = state / "work"
    ownerless = work / f"{work_folder(RUN_ID, 'unit', 'gw3')}-k2f9x1"
    ownerless.mkdir()
    half_written = work / f"{work_folder(RUN_ID, 'unit', 'gw4')}-h4lfw7"
    half_written.mkdir()
    (half_written / ".suitekit-owner").write_text("")  # killed while writing it
    other_run = work / f"{work_folder('20260101120000ffffff', 'unit', 'gw3')}-q81zz0"
    other_suite = work / f"{work_folder(RUN_ID, 'slow', 'gw3')}-p0a3b7"
    look_alike = work / f"{work_folder(RUN_ID, 'unit', 'gw3')}x-m2m2m2"
    for folder in (other_run, other_suite, look_alike):
        folder.mkdir()

    finish_run(project, unit, environ)

    assert not owned.exists()
    assert not ownerless.exists()
    assert not half_written.exists()
    assert all(folder.is_dir() for folder in (other_run, other_suite, look_alike))
