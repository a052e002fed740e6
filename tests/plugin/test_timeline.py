"""The sidecar's timeline: when each test ran, on which xdist worker, within its session."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from xdist.dsession import DSession  # type: ignore[import-untyped]

from suitekit._layout import Measured
from suitekit._model import Project, Suite
from suitekit.pytest_plugin._shared import ProjectIds
from suitekit.pytest_plugin._timeline import TimelinePlugin
from suitekit.sharding import DURATIONS_FILE, DurationStore, case_key
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
        if Path("/proc/thread-self/schedstat").exists():  # the kernel counts CPU waits
            # Carried from the worker on the reports; the sleep is no wait for a CPU, so the
            # wait is at most what is left of the test's time beside it (to the ms).
            assert span.waited is not None
            assert 0 <= span.waited <= span.seconds - 0.2 + 0.002
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
    # Every test of the suite has a serial figure: the plan predicts each shard their sum.
    recorded = {
        "tests/unit/test_a.py::test_a1": 1.5,
        "tests/unit/test_a.py::test_a2": 0.25,
        "tests/unit/test_b.py::test_b1": 2.0,
    }
    store = DurationStore().record(
        {"unit": {case_key(node): value for node, value in recorded.items()}},
        workers=1,
        cpus=2,
        measured_at=time.time(),
    )
    store.save(project.path / DURATIONS_FILE)
    result = run(
        project, "0", "--suitekit-suite=unit", "--shard=1/2", "--junitxml=junit/unit.xml", "-rA"
    )
    assert result.ret == pytest.ExitCode.OK
    ran = {line.split()[1] for line in result.outlines if line.startswith("PASSED ")}
    assert ran
    assert ran < set(recorded)  # a part of the suite: the prediction is the shard's own
    measured = Measured.read(project.path / "junit" / "unit.xml")
    assert measured is not None
    assert measured.predicted == pytest.approx(sum(recorded[node] for node in ran), abs=1e-3)
    assert measured.timeline is not None
    assert {span.node_id for span in measured.timeline.tests} == ran


def _report(
    node_id: str, when: str, start: float, stop: float, **extra: object
) -> pytest.TestReport:
    """A test's phase report as the controller gets it (xdist adds ``worker_id``)."""
    report = pytest.TestReport(
        nodeid=node_id,
        location=(node_id.split("::", maxsplit=1)[0], 0, node_id),
        keywords={},
        outcome="passed",
        longrepr=None,
        when=when,  # type: ignore[arg-type]
        start=start,
        stop=stop,
        duration=stop - start,
    )
    for name, value in extra.items():
        setattr(report, name, value)
    return report


def test_a_worker_crash_leaves_the_timeline_as_the_tests_reported_it(tmp_path: Path) -> None:
    project = Project(
        root=tmp_path,
        config_file=tmp_path / "pyproject.toml",
        python=("3.11",),
        suites=(Suite(name="unit", python=("3.11",)),),
    )
    recorder = TimelinePlugin(ProjectIds(project, tmp_path))
    recorder.pytest_sessionstart(SimpleNamespace(config=SimpleNamespace()))  # type: ignore[arg-type]
    started = recorder.started
    assert started is not None
    worker = SimpleNamespace(gateway=SimpleNamespace(id="gw1"))

    def crash(node_id: str) -> None:
        """What xdist's controller does when ``worker`` dies running ``node_id``."""
        controller = SimpleNamespace(
            config=SimpleNamespace(
                hook=SimpleNamespace(
                    pytest_handlecrashitem=lambda **_: None,
                    pytest_runtest_logreport=recorder.pytest_runtest_logreport,
                )
            ),
            sched=None,
        )
        DSession.handle_crashitem(controller, node_id, worker)

    a, b, c = (f"tests/test_x.py::test_{name}" for name in "abc")
    recorder.pytest_runtest_logreport(
        _report(a, "setup", started + 1.0, started + 1.5, worker_id="gw1")
    )
    crash(a)  # crashed in its call, after its setup's report
    crash(b)  # crashed before any report of its own
    # A report that names no worker_id: its worker is the node that sent it.
    recorder.pytest_runtest_logreport(
        _report(c, "call", started + 2.0, started + 2.25, node=worker)
    )

    timeline = recorder.timeline(started + 3.0)
    assert timeline is not None
    spans = {span.node_id: span for span in timeline.tests}
    assert set(spans) == {a, c}  # b is not drawn at all, rather than from 1970 in a lane "main"
    assert (spans[a].worker, spans[a].start, spans[a].seconds) == ("gw1", 1.0, 0.5)
    assert (spans[c].worker, spans[c].start, spans[c].seconds) == ("gw1", 2.0, 0.25)
    assert timeline.workers == ("gw1",)
    assert Measured.from_json(Measured(workers=2, cpus=2, timeline=timeline).to_json()) is not None
