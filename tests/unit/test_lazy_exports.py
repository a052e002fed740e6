"""The packages' lazy re-exports (suitekit._lazy): every public name resolves on first use."""

from __future__ import annotations

import subprocess
import sys
from typing import Final

import pytest

PACKAGES: Final = (
    "suitekit",
    "suitekit.ci",
    "suitekit.flaky",
    "suitekit.reporting",
    "suitekit.services",
    "suitekit.sharding",
)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_resolves_in_a_fresh_interpreter(name: str) -> None:
    # Fresh, so that no earlier test has imported the defining modules already.
    code = (
        f"import {name} as package\nfor public in package.__all__:\n    getattr(package, public)\n"
    )

    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )

    assert completed.returncode == 0, completed.stderr


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    import suitekit.flaky  # noqa: PLC0415 - the package under test

    with pytest.raises(AttributeError, match=r"'suitekit\.flaky' has no attribute 'nothing_here'"):
        getattr(suitekit.flaky, "nothing_here")  # noqa: B009 - the lookup is the test
