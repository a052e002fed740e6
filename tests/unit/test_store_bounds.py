"""Every store and record suitekit reads is bounded: regular files only, size and depth capped.

Issue 12, item 8: a hostile ``.suitekit/durations.json`` (a 100,000-deep array, a 5000-digit
integer, a link to /dev/zero) gave a traceback or an unbounded read, and a FIFO in
``reports/junit/`` blocked ``suitekit report`` forever. Each reader must refuse such a file by
name, at once. An alarm fails a test that would block instead of letting it hang.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import pytest

from suitekit._files import STORE_LIMIT, load_json, read_bounded
from suitekit._guard import _read as read_record
from suitekit.errors import ReportError
from suitekit.reporting._junit import read_totals
from suitekit.reporting._merge import merge_junit
from suitekit.reporting._report import _sidecar
from suitekit.reporting._runlog import RunLog
from suitekit.reporting._streaks import StreakStore
from suitekit.sharding._calibrate import _read_cache
from suitekit.sharding._durations import DurationStore

_SECONDS = 10


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    """A read that blocks (a FIFO opened the plain way) fails the test instead of hanging it."""

    def hung(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        message = f"a read blocked for {_SECONDS} s"
        raise TimeoutError(message)

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def link_to_dev_zero(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to("/dev/zero")
    return path


STORES: dict[str, tuple[Callable[[Path], object], str, str]] = {
    "durations": (DurationStore.load, "durations store", "durations file"),
    "streaks": (StreakStore.load, "quarantine streaks", "quarantine streaks file"),
    "run log": (RunLog.read, "run log", "run log"),
}


@pytest.mark.parametrize("store", STORES)
def test_a_fifo_is_refused_at_once_by_name(tmp_path: Path, store: str) -> None:
    load, reading, _ = STORES[store]
    path = fifo(tmp_path / "store.json")

    with pytest.raises(ReportError) as caught:
        load(path)

    assert str(caught.value).startswith(
        f"{path}: cannot read the {reading} (it is a named pipe (FIFO), not a regular file)\n"
        "  fix: "
    )


@pytest.mark.parametrize("store", STORES)
def test_a_link_to_dev_zero_is_refused_without_reading_it(tmp_path: Path, store: str) -> None:
    load, reading, _ = STORES[store]
    path = link_to_dev_zero(tmp_path / "store.json")

    with pytest.raises(
        ReportError, match=rf"store\.json: cannot read the {reading} \(it is a symbolic link, not"
    ):
        load(path)


def test_a_device_is_refused() -> None:
    with pytest.raises(
        ReportError,
        match=r"^/dev/null: cannot read the durations store \(it is a character device, not a",
    ):
        DurationStore.load(Path("/dev/null"))


@pytest.mark.parametrize("store", ["durations", "streaks"])
def test_nesting_deeper_than_python_decodes_is_the_stores_error(tmp_path: Path, store: str) -> None:
    load, _, kind = STORES[store]
    path = tmp_path / "store.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")

    with pytest.raises(ReportError) as caught:
        load(path)

    assert str(caught.value).startswith(
        f"{path}: not a suitekit {kind} (it is nested too deeply to be a file suitekit wrote)\n"
        "  fix: delete it"
    )


def test_a_deep_run_log_is_its_error(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text('{"version": 1, "tests": ' + "[" * 100_000, encoding="utf-8")

    with pytest.raises(
        ReportError, match=r"run\.json: cannot read the run log: not a suitekit run"
    ):
        RunLog.read(path)


@pytest.mark.parametrize("store", ["durations", "streaks"])
def test_a_5000_digit_integer_is_the_stores_error(tmp_path: Path, store: str) -> None:
    load, _, kind = STORES[store]
    path = tmp_path / "store.json"
    path.write_text('{"version": ' + "9" * 5000 + "}", encoding="utf-8")

    with pytest.raises(ReportError) as caught:
        load(path)

    assert str(caught.value).startswith(
        f"{path}: not a suitekit {kind} (it holds a value Python cannot read (Exceeds the limit "
        "(4300 digits) for integer string conversion"
    )


def test_a_store_larger_than_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    with path.open("wb") as handle:  # sparse: no disk space, but its size says 64 MiB + 1
        handle.truncate(STORE_LIMIT + 1)

    with pytest.raises(ReportError) as caught:
        DurationStore.load(path)

    assert str(caught.value).startswith(
        f"{path}: cannot read the durations store (it is larger than 67,108,864 bytes "
        "(67,108,865 at least), the most suitekit reads there)\n  fix: delete it"
    )


def test_read_bounded_stops_at_the_limit_and_reads_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "small.json"
    path.write_bytes(b"12345")

    assert read_bounded(path, limit=5, what="thing", fix="  fix: x") == b"12345"
    assert read_bounded(tmp_path / "missing", limit=5, what="thing", fix="  fix: x") is None
    with pytest.raises(
        ReportError, match=r"small\.json: cannot read the thing \(it is larger than 4"
    ):
        read_bounded(path, limit=4, what="thing", fix="  fix: x")


def test_load_json_turns_every_hostile_input_into_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        load_json("{" + '"a":{' * 50_000)
    with pytest.raises(ValueError, match="4300 digits"):
        load_json("-" + "1" * 5000)
    with pytest.raises(ValueError, match="not UTF-8"):
        load_json(b'{"a": "\xff"}')
    assert load_json(b'{"a": [1, 2.5]}') == {"a": [1, 2.5]}


def test_a_fifo_among_the_junit_files_is_reported_unreadable_and_the_rest_merged(
    tmp_path: Path,
) -> None:
    good = tmp_path / "junit" / "unit-3.11.xml"
    good.parent.mkdir()
    good.write_text(
        '<testsuite name="unit" tests="1"><testcase classname="t" name="a" time="0.1"/>'
        "</testsuite>",
        encoding="utf-8",
    )
    pipe = fifo(tmp_path / "junit" / "pipe.xml")
    zero = link_to_dev_zero(tmp_path / "junit" / "zero.xml")

    result = merge_junit([good, pipe, zero], tmp_path / "junit.xml")

    assert result.totals.tests == 1
    assert dict(result.unreadable) == {
        pipe: f"{pipe}: cannot be read (it is a named pipe (FIFO), not a regular file; fix: "
        "replace it with a regular file (or remove it); suitekit reads only regular files there)",
        zero: f"{zero}: cannot be read (it is a symbolic link, not a regular file; fix: "
        "replace it with a regular file (or remove it); suitekit reads only regular files there)",
    }


def test_the_runners_totals_refuse_a_fifo_and_a_huge_count(tmp_path: Path) -> None:
    pipe = fifo(tmp_path / "unit-3.11.xml")
    with pytest.raises(
        ReportError,
        match=r"unit-3\.11\.xml: not a readable JUnit XML file \(cannot be read \(it is a named",
    ):
        read_totals(pipe)
    # The cases are counted, never the attributes: a count of thousands of digits is not read.
    huge = tmp_path / "huge.xml"
    huge.write_text(f'<testsuite name="u" tests="{"1" * 5000}"/>', encoding="utf-8")
    assert read_totals(huge).tests == 0


def test_records_sidecars_and_caches_that_are_not_regular_files_are_passed_over(
    tmp_path: Path,
) -> None:
    # These are lenient readers (a missing or odd file means "no record"): never blocking.
    assert read_record(fifo(tmp_path / "unit.json")) is None
    assert _sidecar(fifo(tmp_path / "unit-3.11.measured.json")) is None
    assert _sidecar(link_to_dev_zero(tmp_path / "zero.measured.json")) is None
    assert _read_cache(fifo(tmp_path / "calibration.json")) == {}
    deep = tmp_path / "deep.measured.json"
    deep.write_text("[" * 100_000, encoding="utf-8")
    assert _sidecar(deep) is None
    sidecar = tmp_path / "ok.measured.json"
    sidecar.write_text('{"workers": 3, "cpus": 8}', encoding="utf-8")
    assert _sidecar(sidecar) == (3, 8)
