"""Fixtures for every layer of suitekit's tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _no_outer_suitekit_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the variables of the suitekit run that runs these tests from the runs they start.

    suitekit's own suites run under suitekit, which sets SUITEKIT_* for the session (worker
    counts and their origin); pytester runs in-process and subprocesses would otherwise see them.
    """
    for name in list(os.environ):
        if name.startswith("SUITEKIT_"):
            monkeypatch.delenv(name)
