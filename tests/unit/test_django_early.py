"""How many workers a Django run's controller copies a kept template for before xdist starts."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest

from suitekit.pytest_plugin._django import _fixed_workers


def _config(**options: object) -> pytest.Config:
    return cast("pytest.Config", SimpleNamespace(known_args_namespace=SimpleNamespace(**options)))


@pytest.mark.parametrize(
    ("options", "workers"),
    [
        ({"numprocesses": 2}, 2),
        ({"numprocesses": 4, "maxprocesses": 3}, 3),  # xdist starts no more than the cap
        ({"numprocesses": 2, "maxprocesses": 8}, 2),
        ({"numprocesses": 2, "maxprocesses": None}, 2),
        ({"numprocesses": 2, "collectonly": True}, 0),  # no worker starts
        ({"numprocesses": "auto"}, 0),  # decided later
        ({"numprocesses": "logical"}, 0),
        ({"numprocesses": None}, 0),  # no xdist
        ({}, 0),  # xdist not installed
    ],
)
def test_copies_are_begun_only_for_the_workers_xdist_will_start(
    options: dict[str, object], workers: int
) -> None:
    assert _fixed_workers(_config(**options)) == workers
