"""Test runners other than pytest: one module per runner behind :class:`Runner`.

``runner = "vitest"`` (or ``jest``, ``cargo``, ``command``, ``playwright``) in a suite's table
hands its tests to that runner; suitekit still gives it its workers, its shards (split by
recorded durations, file by file: :func:`split_files`), its JUnit file in the run's report and
its durations in the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from suitekit._lazy import exports

if TYPE_CHECKING:
    from suitekit.runners._protocol import Invocation as Invocation
    from suitekit.runners._protocol import Runner as Runner
    from suitekit.runners._split import split_files as split_files

__all__ = ["Invocation", "Runner", "runner_for", "split_files"]


def _registry() -> Mapping[str, Runner]:
    from suitekit.runners._cargo import CARGO  # noqa: PLC0415 - with a runner only
    from suitekit.runners._command import COMMAND  # noqa: PLC0415
    from suitekit.runners._jest import JEST  # noqa: PLC0415
    from suitekit.runners._playwright import PLAYWRIGHT  # noqa: PLC0415
    from suitekit.runners._vitest import VITEST  # noqa: PLC0415

    return {runner.name: runner for runner in (VITEST, CARGO, COMMAND, PLAYWRIGHT, JEST)}


def runner_for(kind: str) -> Runner:
    """The runner called ``kind``.

    Raises:
        KeyError: There is none (config validation makes this unreachable).
    """
    return _registry()[kind]


if not TYPE_CHECKING:
    __getattr__ = exports(
        __name__,
        {
            "Invocation": "suitekit.runners._protocol",
            "Runner": "suitekit.runners._protocol",
            "split_files": "suitekit.runners._split",
        },
    )
