"""``workers = "auto"``: the controller decides, during the run, whether xdist workers pay.

xdist asks how many workers ``-n auto`` means before anything is collected, when nothing says
whether workers pay (:func:`decide_later` answers 0 then); :class:`AutoWorkers` decides after
collection and, when workers pay, hands the rest of the suite to them in this process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import pytest

from suitekit import sharding
from suitekit._model import DIST_MODES
from suitekit.config import run_options
from suitekit.errors import SuitekitError
from suitekit.pytest_plugin._options import auto_suite, load
from suitekit.pytest_plugin._shared import Durations, group

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter

    from suitekit.sharding import Sample

__all__ = ["AUTO_KEY", "AutoWorkers", "decide_later"]

AUTO_KEY: Final = pytest.StashKey["AutoWorkers"]()

_CHEAPEST_STARTUP: Final = 0.3
"""Seconds below which no machine starts two xdist workers: less to gain is never worth it."""


def decide_later(config: pytest.Config) -> int | None:
    """``-n auto`` in a run of a suite whose workers are ``"auto"``: suitekit decides.

    The run therefore starts without xdist (0) and :class:`AutoWorkers` (kept under
    :data:`AUTO_KEY`) decides after collection. With one CPU there is nothing to decide: no
    xdist. ``None`` leaves ``-n auto`` to xdist.
    """
    name = config.getoption("suitekit_suite", None)
    if name is None or config.option.numprocesses != "auto" or config.option.collectonly:
        return None
    try:
        project = load(config)
        suite = project.suite(name) if project is not None else None
        options = run_options(os.environ)
    except (pytest.UsageError, KeyError, SuitekitError):
        return None  # pytest_configure reports what is wrong
    if suite is None or not auto_suite(suite):
        return None
    if options.cpus.value > 1 and config.getoption("suitekit_plan_shards") is None:
        given = config.option.dist
        config.stash[AUTO_KEY] = AutoWorkers(
            cpus=options.cpus.value, dist=given if given in DIST_MODES else suite.dist
        )
    return 0


class AutoWorkers:
    """The controller's decision of ``workers = "auto"``, made while the run goes on.

    After collection, from the suite's recorded durations when most of the collected tests
    have one (:func:`~suitekit.sharding.choose_workers` on the tests this process selected,
    the shard's own when it runs a shard), else from the run itself: the tests run here, and
    each time the elapsed time reaches 0.5, 1, 2, 4 ... seconds the rest is predicted from the
    tests so far (:func:`~suitekit.sharding._workers.decide_from_sample`). When workers pay,
    one more test runs here (tearing its fixtures down), and the rest goes to an xdist session
    started in this process, whose workers leave out what already ran. The machine's xdist
    costs are only looked up (or measured, once) when the most xdist could save is more than
    its cheapest start-up plus the workers' second collection.
    """

    def __init__(self, *, cpus: int, dist: str) -> None:
        """Keep the CPU budget and the ``--dist`` mode that workers would run with."""
        self.cpus = cpus
        self.dist = dist
        self.session_started = time.monotonic()
        self.body_seconds = 0.0
        self.line: str | None = None
        self.promoted = False
        self.durations: Durations | None = None  # the suite's, given at configure
        self.ran_here: tuple[str, ...] = ()  # the tests run here before promoting
        self._calibration: sharding.Calibration | None = None

    def pytest_sessionstart(self) -> None:
        """Collection starts: its time counts in the decision."""
        self.session_started = time.monotonic()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count the time spent in the tests' bodies."""
        self.body_seconds += report.duration

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:  # noqa: ANN401 - xdist's WorkerController
        """Tell each xdist worker which tests the controller ran already."""
        if self.ran_here:
            node.workerinput["suitekit_ran"] = list(self.ran_here)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        """Run without xdist, or hand the suite to workers.

        Returns ``None`` to let pytest's own loop run every test in this process.
        """
        if session.config.option.collectonly or not session.items:
            return None
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            return None  # pytest's loop stops the run
        return self.run(session)

    def summary(self, terminalreporter: TerminalReporter) -> None:
        """The decision, unless it was said when the workers started."""
        if self.line is not None and not self.promoted:
            terminalreporter.write_line(self.line)

    def run(self, session: pytest.Session) -> bool | None:
        """Decide and run; ``None`` leaves the whole run to pytest's own loop."""
        collect_seconds = time.monotonic() - self.session_started
        items = session.items
        choice = self._from_durations(session.config, items, collect_seconds)
        if choice is not None:
            self.line = f"suitekit: workers auto: -n {choice.workers} ({choice.reason()})"
            return self._promote(session, choice.workers, ()) if choice.workers else None
        started = time.monotonic()
        self.body_seconds = 0.0
        from suitekit.sharding import SAMPLE_SECONDS, Sample, next_look  # noqa: PLC0415

        look = SAMPLE_SECONDS
        for index, item in enumerate(items):
            elapsed = time.monotonic() - started
            if elapsed >= look and index + 1 < len(items):
                look = next_look(elapsed)
                sample = Sample(
                    ran=index,
                    remaining=len(items) - index - 1,
                    elapsed=elapsed,
                    body_seconds=self.body_seconds,
                    collect_seconds=collect_seconds,
                    load=os.getloadavg()[0],
                )
                choice = self._from_sample(session, sample)
                self.line = f"suitekit: workers auto: -n {choice.workers} ({choice.reason()})"
                if choice.workers:
                    # One more test here, told that none follows: it tears everything down.
                    item.config.hook.pytest_runtest_protocol(item=item, nextitem=None)
                    _stop_if_asked(session)
                    done = tuple(i.nodeid for i in items[: index + 1])
                    return self._promote(session, choice.workers, done)
            nextitem = items[index + 1] if index + 1 < len(items) else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            _stop_if_asked(session)
        if self.line is None:
            self.line = (
                f"suitekit: workers auto: -n 0 (all {len(items)} tests ran in less than "
                f"{SAMPLE_SECONDS:g}s: nothing to share)"
            )
        return True

    def _from_durations(
        self, config: pytest.Config, items: list[pytest.Item], collect_seconds: float
    ) -> sharding.WorkerChoice | None:
        """The choice from recorded durations, when most of the tests have one."""
        stored = self.durations.get() if self.durations is not None else {}
        if not stored:
            return None
        return _choice_from_durations(
            items,
            stored,
            cpus=self.cpus,
            dist=self.dist,
            collect=collect_seconds,
            costs=lambda: self._costs(config),
        )

    def _from_sample(self, session: pytest.Session, sample: Sample) -> sharding.WorkerChoice:
        """The choice for the rest of the run, from the tests run so far."""
        from suitekit.sharding import (  # noqa: PLC0415 - only under "auto"
            DEFAULT_CALIBRATION,
            decide_from_sample,
        )

        gain = sample.remaining * sample.mean_body * (1 - 1 / self.cpus)
        if gain < _CHEAPEST_STARTUP + sample.collect_seconds:
            calibration = DEFAULT_CALIBRATION  # xdist cannot win: no measuring
        else:
            calibration = self._costs(session.config)
        return decide_from_sample(sample, cpus=self.cpus, calibration=calibration)

    def _costs(self, config: pytest.Config) -> sharding.Calibration:
        """This machine's xdist costs: cached, measured once, or a slow machine's."""
        if self._calibration is None:
            from suitekit.sharding import DEFAULT_CALIBRATION, obtain  # noqa: PLC0415 - rarely

            reporter = config.pluginmanager.get_plugin("terminalreporter")

            def say(line: str) -> None:
                if reporter is not None:
                    reporter.write_line(line)

            found = obtain(os.environ, say=say)
            self._calibration = found if found is not None else DEFAULT_CALIBRATION
        return self._calibration

    def _promote(self, session: pytest.Session, workers: int, done: tuple[str, ...]) -> bool:
        """Start ``workers`` xdist workers in this process and let them run the rest."""
        from xdist.dsession import (  # type: ignore[import-untyped]  # noqa: PLC0415 - only here
            DSession,
        )

        config = session.config
        config.option.numprocesses = workers
        config.option.dist = self.dist
        config.option.tx = ["popen"] * workers
        self.ran_here = done
        self.promoted = True
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.showfspath = False
            if self.line is not None:
                reporter.write_line(self.line)
        dsession = DSession(config)
        config.pluginmanager.register(dsession, "dsession")
        dsession.pytest_sessionstart(session)
        return bool(dsession.pytest_runtestloop())


def _choice_from_durations(
    items: list[pytest.Item],
    stored: Mapping[str, sharding.Measurement],
    *,
    cpus: int,
    dist: str,
    collect: float,
    costs: Callable[[], sharding.Calibration],
) -> sharding.WorkerChoice | None:
    """The choice from recorded durations, when most of the tests have one.

    ``collect`` is the seconds this process took to collect: workers would collect again.
    """
    cases = [sharding.Case(node_id=item.nodeid) for item in items]
    estimates = sharding.estimate(cases, stored)
    if estimates.known * 2 < len(items):
        return None
    from suitekit.sharding import DEFAULT_CALIBRATION, unit_key  # noqa: PLC0415 - only here

    units: dict[str, list[float]] = {}
    for item in items:
        key = unit_key(item.nodeid, dist, group(item))  # type: ignore[arg-type]
        units.setdefault(key, []).append(estimates.seconds[item.nodeid])
    total = sum(estimates.seconds.values())
    # Below the cheapest start-up and a second collection xdist cannot win: no measuring.
    cheap = total * (1 - 1 / cpus) < _CHEAPEST_STARTUP + collect
    calibration = DEFAULT_CALIBRATION if cheap else costs()
    return sharding.choose_workers_now(
        list(units.values()),
        cpus=cpus,
        calibration=calibration,
        running=sharding.running_others,  # looked up now: tests give their own count
        machine_cpus=os.cpu_count() or 1,
        collect=collect,
    )


def _stop_if_asked(session: pytest.Session) -> None:
    """Stop the run as pytest's own loop does after a test (``-x``, ``--maxfail``)."""
    if session.shouldfail:
        raise session.Failed(session.shouldfail)
    if session.shouldstop:
        raise session.Interrupted(session.shouldstop)
