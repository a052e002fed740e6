"""suitekit's own tasks (`inv --list`), from [tool.suitekit] in pyproject.toml."""

from __future__ import annotations

from suitekit.invoke import ns  # noqa: F401 - invoke loads `ns` from this module
