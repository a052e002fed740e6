"""The deadline watchdog names the test its own process runs, never one it inherited."""

from __future__ import annotations

import time

import pytest

from suitekit._watchdog import Watchdog


def _expire(watchdog: Watchdog, capfd: pytest.CaptureFixture[str]) -> str:
    """What the watchdog wrote once its deadline passed (to the terminal it saved)."""
    watchdog.start()
    deadline = time.monotonic() + 10
    while not watchdog.expired and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # the stacks follow the message
    watchdog.cancel()
    return capfd.readouterr().err


def test_a_test_of_an_outer_pytest_is_not_named(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # A pytest started by another's test inherits that test's variable until its own runs.
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/test_outer.py::test_runs_pytest (call)")
    output = _expire(Watchdog(0.05, message="suitekit: deadline", interrupt=False), capfd)
    assert "suitekit: deadline" in output
    assert "running:" not in output


def test_the_test_this_process_runs_is_named(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    watchdog = Watchdog(0.2, message="suitekit: deadline", interrupt=False)
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/test_own.py::test_hangs (call)")
    assert "running: tests/test_own.py::test_hangs (call)" in _expire(watchdog, capfd)
