"""A backend per end-to-end worker: the copies of a Playwright suite's application server.

A Playwright suite's ``backend`` is started once per Playwright worker before the tests
(:func:`backends_started`), each copy as a worker of suitekit's isolation would be: the run is
prepared as a pytest controller prepares it (:func:`~suitekit.services._worker.prepare_run`: the
run id, the template database), each copy acquires a worker's resources under its own worker id
(``pw0``, ``pw1``, ...; :func:`~suitekit.services._worker.acquire`: a database cloned from the
template, a Redis database, folders, ports) and runs with them in its environment, on a port of
its own, started, waited for, recorded and stopped as an instance of a service of the project's
own is (:func:`suitekit.services._custom.start`). Nothing here is new machinery: this module
only puts those parts together for a process that is not a pytest worker.

When the block ends (the tests passed or failed, Ctrl-C, SIGTERM) every copy is stopped with
everything it spawned, its port released, its database dropped, its folders removed, and the
run's template and leftovers removed (:func:`~suitekit.services._worker.finish_run`). A run
killed outright leaves records, databases and folders that name its (dead) owner:
``suitekit clean`` removes them as it removes a killed pytest run's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from suitekit import _naming
from suitekit._handoff import ENV_RUN_ID
from suitekit._model import Project, Suite
from suitekit.services import _custom, _ports
from suitekit.services._resources import export
from suitekit.services._worker import acquire, finish_run, prepare_run

if TYPE_CHECKING:
    from suitekit.plan import Backends

__all__ = ["backends_started"]


@contextlib.contextmanager
def backends_started(
    project: Project,
    suite: Suite,
    backends: Backends,
    environ: Mapping[str, str],
    *,
    say: Callable[[str], None] = lambda _: None,
) -> Iterator[dict[str, str]]:
    """Start a copy of the suite's backend per worker; yield the variables naming their URLs.

    ``environ`` holds the servers the suite's services were given (``SUITEKIT_POSTGRES_URL``
    and the like, from :func:`suitekit.services.provide`). The copies start one after the
    other, each ready before the next starts; the yielded mapping has
    ``SUITEKIT_BACKEND_URL_<i>`` for each.

    Raises:
        ServiceError: A resource could not be had, or a copy did not start or become ready
            (what was started so far is stopped and released first).
    """
    run_id = backends.run_id or _naming.new_run_id()
    base = {**environ, ENV_RUN_ID: run_id}
    urls: dict[str, str] = {}
    copies: list[_custom.Running] = []
    with contextlib.ExitStack() as stack:
        # Registered first, so it runs last: what a copy could not give back, and the template.
        stack.callback(lambda: finish_run(project, suite, base))
        base.update(prepare_run(project, suite, base))
        for index, worker in enumerate(backends.workers):
            acquired = acquire(project, suite, worker=worker, environ=base)
            stack.callback(acquired.release)
            # One port of its own, locked for the copy's life (as an instance's spare port).
            block = _ports.take(1, f"{run_id}/{suite.name}/{worker}/backend")
            acquired.on_release(block.close)
            running = _custom.start(
                backends.service,
                port=block.first,
                worker=worker,
                run_id=run_id,
                suite=suite.name,
                root=project.root,
                environ={**base, **export(acquired.resources)},
                on_start=acquired.on_release,
            )
            copies.append(running)
            urls[backends.variable(index)] = backends.url(_custom.HOST, block.first)
            given = acquired.resources.describe().removeprefix(f"{worker}:").strip()
            say(
                f"suitekit: backend {worker}: {_custom.HOST}:{block.first} (pid "
                f"{running.record.pid}){' ' + given if given else ''}"
            )
        # Registered last, so it runs first: every copy is asked to stop at once, and the
        # releases then wait for each in turn (one grace for all, not one each: the runner
        # that started this session allows its cleanup only so long before killing it).
        stack.callback(_ask_to_stop, copies)
        yield urls


def _ask_to_stop(copies: list[_custom.Running]) -> None:
    for copy in copies:
        copy.ask_to_stop()
