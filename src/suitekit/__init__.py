"""suitekit: one declaration of a project's test suites, run the same way everywhere.

The public API is deliberately small; the adapters :mod:`suitekit.nox`, :mod:`suitekit.invoke`
and the pytest plugin are the extension points.
"""

from __future__ import annotations

from suitekit._model import Check as Check
from suitekit._model import InstallSpec as InstallSpec
from suitekit._model import Project as Project
from suitekit._model import Suite as Suite
from suitekit.config import load_project as load_project
from suitekit.errors import ConfigError as ConfigError
from suitekit.errors import PartitionError as PartitionError
from suitekit.errors import ReportError as ReportError
from suitekit.errors import RunError as RunError
from suitekit.errors import SuitekitError as SuitekitError

__version__ = "0.1.0"

__all__ = [
    "Check",
    "ConfigError",
    "InstallSpec",
    "PartitionError",
    "Project",
    "ReportError",
    "RunError",
    "Suite",
    "SuitekitError",
    "__version__",
    "load_project",
]
