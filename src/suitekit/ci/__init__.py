"""CI files generated from ``[tool.suitekit]``: GitHub Actions and GitLab CI, and a drift check.

:func:`render` writes a provider's file from the project alone; :func:`check` compares the
committed files with a fresh rendering. ``suitekit ci github|gitlab|check`` adapts them.
"""

from __future__ import annotations

from suitekit.ci._drift import FileState as FileState
from suitekit.ci._drift import check as check
from suitekit.ci._generate import output_path as output_path
from suitekit.ci._generate import render as render
from suitekit.ci._pipeline import PROVIDERS as PROVIDERS
from suitekit.ci._pipeline import Provider as Provider

__all__ = ["PROVIDERS", "FileState", "Provider", "check", "output_path", "render"]
