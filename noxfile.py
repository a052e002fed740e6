"""suitekit's own sessions, from [tool.suitekit] in pyproject.toml: suitekit runs itself."""

from __future__ import annotations

import suitekit.nox

suitekit.nox.register()
