"""The report layout: names made and read back by one module; the sidecar written and read."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from suitekit._layout import (
    Measured,
    junit_file,
    session_name,
    session_reports,
    shard_stems,
    split_of,
)


def _shard_of(total: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(st.integers(1, total), st.just(total))


@settings(database=None, max_examples=200)
@given(
    suite=st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True),
    python=st.sampled_from(["3.11", "3.12", "3.9", "pypy3.10", "3.13t"]),
    shard=st.none()
    | st.integers(1, 64).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))),
)
def test_a_junit_file_name_reads_back_as_its_split(
    suite: str, python: str, shard: tuple[int, int] | None
) -> None:
    session = session_name(suite, python)
    path = junit_file(Path("reports"), session, shard)
    assert path.parent == Path("reports") / "junit"
    assert split_of(path.stem, session) == (0 if shard is None else shard[1])
    assert split_of(path.stem, session + "0") is None  # another session's name never matches
    if shard is not None:
        assert path.stem in shard_stems(session, shard[1])


def test_session_reports_lists_the_whole_suite_then_its_shards(tmp_path: Path) -> None:
    for stem in ("unit-3.11.shard-2-of-2", "unit-3.11.shard-1-of-2", "unit-3.1", "slow-3.11"):
        (tmp_path / f"{stem}.xml").touch()
    assert [p.name for p in session_reports(tmp_path, "unit-3.11")] == [
        "unit-3.11.xml",
        "unit-3.11.shard-1-of-2.xml",
        "unit-3.11.shard-2-of-2.xml",
    ]


@settings(database=None, max_examples=100)
@given(workers=st.integers(1, 1024), cpus=st.integers(1, 4096))
def test_the_sidecar_round_trips(workers: int, cpus: int) -> None:
    measured = Measured(workers=workers, cpus=cpus)
    assert Measured.from_json(measured.to_json()) == measured


def test_the_sidecar_is_written_whole_beside_its_junit_file_and_read_back(tmp_path: Path) -> None:
    junit = tmp_path / "junit" / "unit-3.11.shard-1-of-2.xml"
    Measured(workers=2, cpus=8).write(junit)
    written = tmp_path / "junit" / "unit-3.11.shard-1-of-2.measured.json"
    assert written.is_file()
    assert [p.name for p in written.parent.iterdir()] == [written.name]  # no temporary left
    assert Measured.read(junit) == Measured(workers=2, cpus=8)


def test_a_sidecar_that_is_not_one_reads_as_none(tmp_path: Path) -> None:
    junit = tmp_path / "unit-3.11.xml"
    assert Measured.read(junit) is None  # missing
    for text in ("[]", '{"workers": "x", "cpus": 2}', '{"cpus": 2}', "{", "[" * 100_000):
        Measured.path_for(junit).write_text(text)
        assert Measured.read(junit) is None, text
    Measured.path_for(junit).write_text('{"workers": 0, "cpus": -3}')
    assert Measured.read(junit) == Measured(workers=1, cpus=1)  # at least one of each
    Measured.path_for(junit).unlink()
    os.mkfifo(Measured.path_for(junit))  # never waited on
    assert Measured.read(junit) is None
