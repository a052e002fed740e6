"""Package re-exports imported on first use (PEP 562), so that importing a package stays cheap.

Every ``suitekit`` start imports the package ``__init__`` modules on its way to the module it
needs: the CLI for ``--help``, each xdist worker for the pytest plugin, each ``nox`` start for the
noxfile. A package therefore names its public members in a ``TYPE_CHECKING`` block (for type
checkers and readers, ``X as X`` as usual) and maps each name to its module for
:func:`exports`, which imports that module the first time the name is read.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["exports"]


def exports(package: str, names: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports each of ``names`` from its module on first use.

    The value is then stored in the package's namespace, so later reads are plain lookups.

    Args:
        package: The package's ``__name__``.
        names: Each public name and the module (absolute name) that defines it.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> object:  # noqa: N807 - the PEP 562 hook's name
        try:
            module = names[name]
        except KeyError:
            message = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(message, name=name, obj=sys.modules[package]) from None
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
