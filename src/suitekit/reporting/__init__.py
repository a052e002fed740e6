"""Reading and aggregating test results: JUnit totals, summaries."""

from __future__ import annotations

from suitekit.reporting._junit import Totals as Totals
from suitekit.reporting._junit import read_totals as read_totals

__all__ = ["Totals", "read_totals"]
