"""``python -m suitekit``."""

from __future__ import annotations

from suitekit._cli import main

raise SystemExit(main())
