"""suitekit: one declaration of a project's test suites, run the same way everywhere.

The public API is deliberately small; the adapters :mod:`suitekit.nox`, :mod:`suitekit.invoke`
and the pytest plugin are the extension points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from suitekit._lazy import exports
from suitekit.errors import ConfigError as ConfigError
from suitekit.errors import PartitionError as PartitionError
from suitekit.errors import ReportError as ReportError
from suitekit.errors import RunError as RunError
from suitekit.errors import SuitekitError as SuitekitError

if TYPE_CHECKING:
    from suitekit._model import Check as Check
    from suitekit._model import InstallSpec as InstallSpec
    from suitekit._model import Project as Project
    from suitekit._model import Suite as Suite
    from suitekit.config import load_project as load_project

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

# Every start of the CLI, of a nox session and of an xdist worker imports this package: the model
# and the config reader load when first used (``suitekit --help`` needs neither). Type checkers
# see the imports above instead, so a misspelt name stays an error for them.
if not TYPE_CHECKING:
    __getattr__ = exports(
        __name__,
        {
            "Check": "suitekit._model",
            "InstallSpec": "suitekit._model",
            "Project": "suitekit._model",
            "Suite": "suitekit._model",
            "load_project": "suitekit.config",
        },
    )
