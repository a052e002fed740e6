"""The variables of a run that only the plan reads; the run's options live in the config.

:class:`~suitekit.config.RunOptions` (worker count, CPU budget, coverage) is layered over the
declaration by :func:`suitekit.config.run_options`; this package re-exports it with its
variables, so that the plan's callers find every ``SUITEKIT_*`` name of a run here.
"""

from __future__ import annotations

from typing import Final

from suitekit import _handoff

__all__ = ["ENV_COLLECTIONS", "ENV_REINSTALL"]

ENV_REINSTALL: Final = _handoff.ENV_REINSTALL
"""``1`` makes every session install its virtualenv again (``inv ... --reinstall``)."""

ENV_COLLECTIONS: Final = _handoff.ENV_COLLECTIONS
"""A private folder where each suite session of a whole run records what it collected and
selected; the runner decides the partition guard from those records (no session of its own)."""
