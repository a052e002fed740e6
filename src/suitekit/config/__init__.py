"""Read ``[tool.suitekit]`` from a pyproject.toml into a validated :class:`~suitekit.Project`.

Validation happens here and only here, in layers in the manner of coverage.py's config:

0. :mod:`~suitekit.config._document` reads the file safely (a regular UTF-8 file of bounded
   size and nesting);
1. :mod:`~suitekit.config._project` reads every table key by key (type checks, unknown keys
   with a did-you-mean), each section by its reader: :mod:`~suitekit.config._suites`,
   :mod:`~suitekit.config._services`, :mod:`~suitekit.config._ci`, over the typed getters of
   :mod:`~suitekit.config._table` and the key tables of :mod:`~suitekit.config._keys`;
2. :mod:`~suitekit.config._post` checks what spans several keys (duplicate names, paths that
   exist, dependency groups that are declared);
3. :mod:`~suitekit.config._layers` reads a run's layers over the declaration, in the order
   defaults < ``[tool.suitekit]`` < environment < command line: :func:`run_options` gives the
   :class:`RunOptions` (worker count, CPU budget, coverage), each value a
   :class:`~suitekit._model.Sourced` that says where it came from.

A worker count or a CPU budget is checked by one function of :mod:`~suitekit.config._counts`
whether it comes from the file, the environment or an option. Every error is a
:class:`~suitekit.errors.ConfigError` naming the file (or the variable, or the option), the key
path, the bad value and the fix; every independent mistake of a file is reported at once.

:mod:`~suitekit.config._markers` finds the markers of the suites' expressions that look like
misspellings of the markers registered with pytest (``suitekit config`` and the pytest plugin
call it).
"""

from __future__ import annotations

from suitekit.config._counts import cpu_budget as cpu_budget
from suitekit.config._counts import worker_count as worker_count
from suitekit.config._document import MAX_CONFIG_BYTES as MAX_CONFIG_BYTES
from suitekit.config._document import MAX_NESTING as MAX_NESTING
from suitekit.config._keys import DOCS as DOCS
from suitekit.config._keys import MAX_RETRIES as MAX_RETRIES
from suitekit.config._keys import POSTGRES_FIELDS as _POSTGRES_FIELDS
from suitekit.config._keys import REDIS_FIELDS as _REDIS_FIELDS
from suitekit.config._keys import RESERVED_NAMES as RESERVED_NAMES
from suitekit.config._keys import ROOT_KEY as ROOT_KEY
from suitekit.config._layers import ENV_COVERAGE as ENV_COVERAGE
from suitekit.config._layers import ENV_CPUS as ENV_CPUS
from suitekit.config._layers import ENV_WORKERS as ENV_WORKERS
from suitekit.config._layers import CliOverrides as CliOverrides
from suitekit.config._layers import RunOptions as RunOptions
from suitekit.config._layers import run_options as run_options
from suitekit.config._lookup import pytest_suite as pytest_suite
from suitekit.config._markers import PYTEST_MARKERS as PYTEST_MARKERS
from suitekit.config._markers import MisspeltMarker as MisspeltMarker
from suitekit.config._markers import RegisteredMarkers as RegisteredMarkers
from suitekit.config._markers import check_registered_markers as check_registered_markers
from suitekit.config._markers import configured_markers as configured_markers
from suitekit.config._markers import marker_name as marker_name
from suitekit.config._markers import markers_error as markers_error
from suitekit.config._markers import markers_place as markers_place
from suitekit.config._markers import misspelt_markers as misspelt_markers
from suitekit.config._project import find_config as find_config
from suitekit.config._project import load_project as load_project
from suitekit.config._project import parse_project as parse_project

# ROOT_KEY, DOCS and MAX_NESTING are read by the pytest plugin and the tests; the two template
# field lists keep the private names the services' tests import them by.
__all__ = [
    "DOCS",
    "ENV_COVERAGE",
    "ENV_CPUS",
    "ENV_WORKERS",
    "MAX_CONFIG_BYTES",
    "MAX_NESTING",
    "MAX_RETRIES",
    "PYTEST_MARKERS",
    "RESERVED_NAMES",
    "ROOT_KEY",
    "_POSTGRES_FIELDS",
    "_REDIS_FIELDS",
    "CliOverrides",
    "MisspeltMarker",
    "RegisteredMarkers",
    "RunOptions",
    "check_registered_markers",
    "configured_markers",
    "cpu_budget",
    "find_config",
    "load_project",
    "marker_name",
    "markers_error",
    "markers_place",
    "misspelt_markers",
    "parse_project",
    "pytest_suite",
    "run_options",
    "worker_count",
]
