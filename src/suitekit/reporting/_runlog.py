"""The run log: what one pytest run of a suite did, test by test, worker by worker.

The pytest plugin writes it (``--suitekit-run-log=PATH``) at the end of a run; ``suitekit
flaky`` reads one per run to compare outcomes and to find the tests that ran before a failure
on the same worker. It crosses a process boundary, so it is explicit JSON that round-trips.

The format belongs here, with the other reports of a run: the plugin's ledger
(:mod:`suitekit.reporting._attempts`) produces it, and :mod:`suitekit.flaky` re-exports its names
for the analysis that compares run logs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, cast, get_args

from suitekit._files import STORE_LIMIT, load_json, read_bounded, write_text_atomic
from suitekit.errors import ReportError

__all__ = ["OUTCOMES", "Outcome", "RunLog", "TestRun"]

Outcome = Literal["passed", "failed", "error", "skipped", "flaky"]
"""A test's outcome in one run: ``flaky`` passed after failed attempts (retries); ``error``
failed in setup or teardown. A quarantined test keeps its real outcome here."""

OUTCOMES: Final[tuple[str, ...]] = get_args(Outcome)
_VERSION: Final = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class TestRun:
    """One test in one run.

    Attributes:
        node_id: The test's node id.
        outcome: What happened to it (see :data:`Outcome`).
        worker: The xdist worker that ran it (``gw0``), or ``main`` without xdist.
        position: Its place in the worker's sequence, from 0.
        message: The first line of the failure, error or skip reason; ``""`` when passed.
        quarantined: Whether a quarantine entry covered it (its failure did not fail the run).
    """

    __test__ = False  # not a pytest test class, whatever its name

    node_id: str
    outcome: Outcome
    worker: str = "main"
    position: int = 0
    message: str = ""
    quarantined: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RunLog:
    """Every test of one run, in the order each worker ran them.

    Attributes:
        seed: The ``--suitekit-order-seed`` of the run, or ``None`` for pytest's own order.
        workers: The xdist worker count (0: no xdist).
        tests: The tests, sorted by worker then position.
    """

    seed: int | None
    workers: int
    tests: tuple[TestRun, ...]

    def __post_init__(self) -> None:
        """Keep the tests sorted by worker, then position, whatever order they came in."""
        object.__setattr__(self, "tests", tuple(sorted(self.tests, key=_order)))

    def outcome_of(self, node_id: str) -> Outcome | None:
        """The test's outcome, or ``None`` when it did not run."""
        return next((test.outcome for test in self.tests if test.node_id == node_id), None)

    def before(self, node_id: str) -> tuple[str, ...]:
        """The node ids that ran before ``node_id`` on its worker, in order."""
        mine = next((test for test in self.tests if test.node_id == node_id), None)
        if mine is None:
            return ()
        return tuple(
            test.node_id
            for test in sorted(self.tests, key=lambda t: t.position)
            if test.worker == mine.worker and test.position < mine.position
        )

    def to_json(self) -> str:
        """The log as JSON (see :meth:`from_json`)."""
        data = {
            "version": _VERSION,
            "seed": self.seed,
            "workers": self.workers,
            "tests": [
                {
                    "node_id": test.node_id,
                    "outcome": test.outcome,
                    "worker": test.worker,
                    "position": test.position,
                    "message": test.message,
                    "quarantined": test.quarantined,
                }
                for test in self.tests
            ],
        }
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RunLog:
        """Read a log written by :meth:`to_json`.

        Raises:
            ValueError: The text is not such a log (the message says what is wrong).
        """
        try:
            data = load_json(text)  # deep nesting and huge integers become ValueError
            if data.get("version") != _VERSION:
                message = f"version {data.get('version')!r}, expected {_VERSION}"
                raise ValueError(message)  # noqa: TRY301 - reported with the others below
            tests = tuple(_test(item) for item in data["tests"])
            seed = data["seed"]
            workers = int(data["workers"])
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            message = f"not a suitekit run log ({error})"
            raise ValueError(message) from None
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            message = f"not a suitekit run log (seed {seed!r} is not an integer)"
            raise ValueError(message)
        return cls(seed=seed, workers=workers, tests=tuple(sorted(tests, key=_order)))

    def write(self, path: Path) -> None:
        """Write the log atomically (a reader never sees half of it).

        Raises:
            ReportError: The file cannot be written.
        """
        write_text_atomic(path, self.to_json())

    @classmethod
    def read(cls, path: Path) -> RunLog:
        """Read a log file.

        Raises:
            ReportError: The file is missing, is not a regular file, is larger than
                :data:`~suitekit._files.STORE_LIMIT` or is not a run log.
        """
        fix = "  fix: run `suitekit flaky` again; it writes every run's log afresh"
        data = read_bounded(path, limit=STORE_LIMIT, what="run log", fix=fix)
        if data is None:
            message = f"{path}: cannot read the run log: there is no such file\n{fix}"
            raise ReportError(message)
        try:
            return cls.from_json(data.decode("utf-8"))
        except ValueError as error:  # UnicodeDecodeError is one too
            message = f"{path}: cannot read the run log: {error}"
            raise ReportError(message) from None


def _order(test: TestRun) -> tuple[str, int]:
    return test.worker, test.position


def _test(item: Any) -> TestRun:  # noqa: ANN401 - JSON of any shape, checked here
    outcome = item["outcome"]
    if outcome not in OUTCOMES:
        message = f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}"
        raise ValueError(message)
    return TestRun(
        node_id=str(item["node_id"]),
        outcome=cast("Outcome", outcome),
        worker=str(item.get("worker", "main")),
        position=int(item.get("position", 0)),
        message=str(item.get("message", "")),
        quarantined=bool(item.get("quarantined", False)),
    )
