"""guestbook's sessions: one per suite and check, from [tool.suitekit] in pyproject.toml."""

import suitekit.nox

suitekit.nox.register()
