"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.helpers import Project, make_project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """The demo project in a fresh temporary folder."""
    return make_project(tmp_path / "demo")
