"""suitekit's own sessions, from [tool.suitekit] in pyproject.toml: suitekit runs itself."""

from __future__ import annotations

import os

import suitekit.nox

# This repo's tests take PostgreSQL and Redis only from servers named for them
# (SUITEKIT_TEST_POSTGRES_URL / SUITEKIT_TEST_REDIS_URL) or from throwaway ones suitekit starts
# for the e2e suite: a DATABASE_URL or REDIS_URL in a contributor's shell names a server of their
# other work, which the suite's services would otherwise take (see tests/e2e/isolation.py).
for _variable in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(_variable, None)

suitekit.nox.register()
