"""The sidecar's timeline: when each test ran, on which xdist worker, within its session."""

from __future__ import annotations

import itertools
import time

import pytest

from suitekit._layout import Measured
from tests.plugin.helpers import run

SLEEPY = """
import time

def test_one():
    time.sleep(0.2)

def test_two():
    time.sleep(0.2)

def test_three():
    time.sleep(0.2)

def test_four():
    time.sleep(0.2)
"""


@pytest.mark.parametrize(("workers", "lanes"), [("0", {"main"}), ("2", {"gw0", "gw1"})])
def test_each_test_has_its_span_and_worker_inside_the_session(
    project: pytest.Pytester, workers: str, lanes: set[str]
) -> None:
    project.makepyfile(**{"tests/unit/test_sleepy": SLEEPY})
    before = time.time()
    result = run(project, workers, "--suitekit-suite=unit", "--junitxml=junit/unit-3.11.xml")
    after = time.time()
    result.assert_outcomes(passed=7)

    measured = Measured.read(project.path / "junit" / "unit-3.11.xml")
    assert measured is not None
    timeline = measured.timeline
    assert timeline is not None
    assert before <= timeline.started <= timeline.stopped <= after
    spans = {span.node_id: span for span in timeline.tests}
    assert len(spans) == 7
    assert set(timeline.workers) == lanes
    length = timeline.stopped - timeline.started
    for name in ("one", "two", "three", "four"):
        span = spans[f"tests/unit/test_sleepy.py::test_{name}"]
        assert 0.2 <= span.seconds < length
        assert span.start + span.seconds <= length + 0.002  # inside the session (to the ms)
    if workers == "2":
        # Two workers ran the four sleeps side by side: some two overlap.
        sleepy = sorted(
            (span.start, span.start + span.seconds)
            for span in spans.values()
            if "sleepy" in span.node_id
        )
        assert any(b[0] < a[1] for a, b in itertools.pairwise(sleepy))
    assert measured.predicted is None  # not a shard


def test_a_shard_records_the_seconds_its_plan_predicted(project: pytest.Pytester) -> None:
    result = run(project, "0", "--suitekit-suite=unit", "--shard=1/2", "--junitxml=junit/unit.xml")
    assert result.ret == pytest.ExitCode.OK
    measured = Measured.read(project.path / "junit" / "unit.xml")
    assert measured is not None
    assert measured.predicted is not None
    assert measured.predicted >= 0
    assert measured.timeline is not None
