"""suitekit's own modules are imported as plain Python, not through pytest's assert rewriter.

pytest rewrites the ``assert`` statements of every module of a distribution that has a
``pytest11`` entry point, so that a plugin's own asserts report as a test's do. suitekit's
modules have no assert that a test would see fail, and importing them through the rewriter
costs about 0.1 s of CPU in every pytest process, the controller and each xdist worker alike
(the rewriter reads each cached module back in Python): on a small suite run, 0.74 s of CPU
against 0.67 s without it, where plain pytest takes 0.53 s.

pytest keeps the names to rewrite in its import hook (``_must_rewrite``, a set of package and
module names); importing this module, the first thing the plugin does, takes suitekit's names
out of it. Tests, conftests and every other plugin stay as pytest has them. Should a pytest
release lose that set, nothing changes but the cost.
"""

from __future__ import annotations

import sys

__all__: list[str] = []

_PACKAGE = __name__.split(".", 1)[0]

for _finder in sys.meta_path:
    _marked = getattr(_finder, "_must_rewrite", None)
    if isinstance(_marked, set):
        _marked.difference_update(
            {name for name in _marked if name == _PACKAGE or name.startswith(f"{_PACKAGE}.")}
        )
