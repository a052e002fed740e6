"""How the plugin's tests run pytest in their pytester projects."""

from __future__ import annotations

import pytest


def run(pytester: pytest.Pytester, workers: str, *args: str) -> pytest.RunResult:
    """Run pytest in this process with ``-n workers``.

    An in-process run still loads suitekit from its ``pytest11`` entry point, as every pytester
    run does, and costs a fraction of a subprocess. With xdist only the controller runs here: its
    workers are real subprocesses, which load suitekit from the entry point too and send their
    reports, with suitekit's attributes on them, to the controller that writes the JUnit file and
    the run log. What a controller's own process holds (its imports) is checked in a subprocess
    (test_import_hygiene.py), as are xdist's collections themselves (test_xdist.py).
    """
    return pytester.runpytest("-n", workers, *args)
