"""CI files generated from ``[tool.suitekit]``: GitHub Actions and GitLab CI, and a drift check.

:func:`render` writes a provider's file from the project alone; :func:`check` compares the
committed files with a fresh rendering. ``suitekit ci github|gitlab|check`` adapts them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from suitekit._lazy import exports

if TYPE_CHECKING:
    from suitekit.ci._drift import FileState as FileState
    from suitekit.ci._drift import check as check
    from suitekit.ci._generate import bumped_pins as bumped_pins
    from suitekit.ci._generate import comment_output_path as comment_output_path
    from suitekit.ci._generate import output_path as output_path
    from suitekit.ci._generate import render as render
    from suitekit.ci._generate import render_comment as render_comment
    from suitekit.ci._generate import suitekit_source as suitekit_source
    from suitekit.ci._pipeline import PROVIDERS as PROVIDERS
    from suitekit.ci._pipeline import Provider as Provider

__all__ = [
    "PROVIDERS",
    "FileState",
    "Provider",
    "bumped_pins",
    "check",
    "comment_output_path",
    "output_path",
    "render",
    "render_comment",
    "suitekit_source",
]

# Only ``suitekit ci`` renders CI files: each module loads when a name from it is first read.
if not TYPE_CHECKING:
    __getattr__ = exports(
        __name__,
        {
            "FileState": "suitekit.ci._drift",
            "check": "suitekit.ci._drift",
            "bumped_pins": "suitekit.ci._generate",
            "comment_output_path": "suitekit.ci._generate",
            "output_path": "suitekit.ci._generate",
            "render": "suitekit.ci._generate",
            "render_comment": "suitekit.ci._generate",
            "suitekit_source": "suitekit.ci._generate",
            "PROVIDERS": "suitekit.ci._pipeline",
            "Provider": "suitekit.ci._pipeline",
        },
    )
