"""What the selection is told of a collected test: marks' keyword arguments only when read."""

from __future__ import annotations

from pathlib import Path

import pytest

from suitekit.config import parse_project
from suitekit.pytest_plugin._shared import Describer

MARKED = """
import pytest

@pytest.mark.device(serial="1")
@pytest.mark.device(serial="2")
@pytest.mark.skipif(False, reason="never")
@pytest.mark.parametrize("n", [1], ids=["one"])
def test_marked(n):
    pass
"""


def _describer(root: Path, *markers: str) -> Describer:
    (root / "tests").mkdir(exist_ok=True)
    suites = {f"s{index}": {"paths": ["tests"], "marker": m} for index, m in enumerate(markers)}
    project = parse_project(
        {"tool": {"suitekit": {"suites": suites}}}, config_file=root / "pyproject.toml"
    )
    return Describer(project)


@pytest.fixture
def item(pytester: pytest.Pytester) -> pytest.Item:
    pytester.makeini("[pytest]\nmarkers =\n    device(serial): a device the test needs\n")
    (only,) = pytester.getitems(MARKED)
    return only


def test_keyword_arguments_are_left_out_when_no_expression_reads_them(
    pytester: pytest.Pytester, item: pytest.Item
) -> None:
    test = _describer(pytester.path, "slow", "not slow")(item)

    assert test.markers == {"device", "skipif", "parametrize"}
    assert not test.kwargs


def test_keyword_arguments_are_kept_frozen_when_an_expression_reads_them(
    pytester: pytest.Pytester, item: pytest.Item
) -> None:
    test = _describer(pytester.path, 'device(serial="2")', 'not device(serial="2")')(item)

    assert test.kwargs["device"] == ({"serial": "2"}, {"serial": "1"})  # as pytest lists them
    assert test.kwargs["skipif"] == ({"reason": "never"},)
    assert isinstance(test.kwargs["parametrize"], tuple)
    with pytest.raises(TypeError):
        test.kwargs["device"] = ()  # type: ignore[index]
