"""Resolve each needed service to a server, starting throwaway ones, and stop them afterwards.

The order, for each service: a server an outer suitekit layer already provides
(``SUITEKIT_POSTGRES_URL``, ``SUITEKIT_REDIS_URL``), an explicit URL (``DATABASE_URL`` /
``REDIS_URL``, then ``url`` in the config), a throwaway server from local binaries, a Docker
container. Whichever layer starts a server (the parallel runner, a nox session, or pytest run
directly) exports its URL to everything below it and stops it when it is done, on failure,
Ctrl-C and SIGTERM too; the layers below then find it and start nothing.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Final

from suitekit._handoff import ENV_DOCKER
from suitekit._kinds import KINDS
from suitekit._model import Project, Service
from suitekit._signals import HELD, signals_as_interrupt, signals_held
from suitekit._urls import redact
from suitekit.errors import ServiceError

if TYPE_CHECKING:
    from suitekit.services._backend import Backend
    from suitekit.services._servers import Throwaway

__all__ = ["PROVIDED_URL", "USER_URL", "provide", "server_urls", "unanswered"]

PROVIDED_URL: Final[Mapping[Service, str]] = {
    service: kind.provided_url for service, kind in KINDS.items()
}
"""Where a layer that provides a server tells the layers below it."""

USER_URL: Final[Mapping[Service, str]] = {service: kind.user_url for service, kind in KINDS.items()}
"""The conventional variables a user sets to name a server of their own."""


def server_urls(project: Project, environ: Mapping[str, str]) -> dict[Service, str]:
    """The servers named explicitly (by an outer layer, the environment or the config)."""
    found: dict[Service, str] = {}
    for service, kind in KINDS.items():
        url = (
            environ.get(kind.provided_url)
            or environ.get(kind.user_url)
            or project.services[service].url
        )
        if url:
            found[service] = url
    return found


def _backend(service: Service) -> Backend:
    """The service's backend, from the registry, which loads (every backend) on first use.

    It is first used to check or start a server; a nox session without services, or a run that
    only reads which variables name the servers (the services' data,
    :data:`suitekit._kinds.KINDS`), never imports the backends and the modules they share.
    """
    from suitekit.services._backend import BACKENDS  # noqa: PLC0415 - see above

    return BACKENDS[service]


def unanswered(services: Sequence[Service], environ: Mapping[str, str]) -> list[str]:
    """A message for each provided server that no longer answers: it died during the run.

    The run's tests that needed it failed on their own; this says why, once, instead of the
    cleanup's connection errors (which then have nothing to clean: a throwaway server's
    databases went with it).
    """
    found = []
    for service in dict.fromkeys(services):
        url = environ.get(PROVIDED_URL[service])
        if not url:
            continue
        try:
            _backend(service).check(url)
        except ServiceError as error:
            reason = str(error).split(" does not answer: ", 1)[-1].split("\n", 1)[0]
            name = KINDS[service].display_name
            found.append(
                f"the {name} server at {redact(url)} stopped answering during the "
                f"run ({' '.join(reason.split())}); the tests that needed it failed"
                "\n  fix: see why it stopped (killed, out of memory, restarted); if it was a "
                "server of yours, run `suitekit clean` once it is back to drop what this run "
                "left on it"
            )
    return found


def _start(
    service: Service,
    environ: Mapping[str, str],
    why: str,
    on_start: Callable[[Throwaway], None],
) -> Throwaway:
    # The server-starting code loads only when a server must be started: a run without
    # services, or with servers it was given, never imports it.
    from suitekit.services import _docker  # noqa: PLC0415

    backend = _backend(service)
    kind = backend.kind
    tried = [f"1. a URL: {why}"]
    found = backend.find_local(environ)
    if found is not None:
        return backend.start_local(found, environ, on_start=on_start)
    tried.append(f"2. a throwaway server from local binaries: {backend.binaries_not_found}")
    if _docker.docker_available(environ):
        started = _docker.start_container(backend, on_start=on_start)
        _wait_reachable(service, started.record.url)  # the owner stops it if this fails
        return started
    if environ.get(ENV_DOCKER, "1") == "0":
        tried.append("3. a Docker container: not tried (SUITEKIT_DOCKER=0)")
    else:
        tried.append("3. a Docker container: no Docker daemon answered `docker info`")
    message = (
        f"cannot provide {service}; tried:\n  "
        + "\n  ".join(tried)
        + f"\n  fix: set {kind.user_url}={kind.example_url} to use a server you run, or "
        f"{backend.install_hint}, or start Docker"
    )
    raise ServiceError(message)


def _wait_reachable(service: Service, url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _backend(service).check(url)
        except ServiceError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
        else:
            return


@contextlib.contextmanager
def provide(
    project: Project,
    services: Sequence[Service],
    environ: Mapping[str, str],
    *,
    say: Callable[[str], None] | None = None,
    check: bool = True,
    own_signals: bool = True,
) -> Iterator[dict[str, str]]:
    """Make ``services`` available; yield the variables that tell the layers below where.

    Servers this call starts are stopped when the block ends, however it ends (SIGTERM is
    turned into ``KeyboardInterrupt`` meanwhile, so it ends through here too). A server named
    by URL is checked to answer, unless ``check`` is false (the caller's first connection
    comes soon and says the same). With ``own_signals`` false the caller's handlers stay:
    for a block entered inside the caller's own :func:`signals_as_interrupt` but left after
    it (the runner starts its servers lazily, from its loop), whose handler would otherwise
    be put back by this one once that block is gone.

    Raises:
        ServiceError: A service can be neither found nor started; the message says what was
            tried and what to install or set.
    """
    owned: list[Throwaway] = []
    # Ctrl-C too: the first one ends the block through ``finally``; a second one while the
    # layers below clean up (a nox session waiting for its pytest to drop its databases) is
    # dropped, not raised into the middle of that cleanup.
    handling = (
        signals_as_interrupt(signal.SIGINT, signal.SIGTERM)
        if own_signals
        else contextlib.nullcontext()
    )
    with handling:
        try:
            env: dict[str, str] = {}
            explicit = server_urls(project, environ)
            for service in dict.fromkeys(services):
                url = explicit.get(service)
                if url is not None:
                    # A server an outer layer provides was checked (or started) there: checking
                    # it again in every nox session and pytest controller costs a connection.
                    if check and environ.get(PROVIDED_URL[service]) != url:
                        _backend(service).check(url)
                else:
                    config_key = f"[tool.suitekit.services.{service}] url"
                    why = f"{USER_URL[service]} is not set and {config_key} is not given"
                    # Owned from the moment it runs: a Ctrl-C while it comes up stops it too.
                    started = _start(service, environ, why, owned.append)
                    url = started.record.url
                    if say is not None:
                        # The URL holds the server's password: logs show it redacted.
                        say(f"suitekit: started a throwaway {service} server at {redact(url)}")
                env[PROVIDED_URL[service]] = url
            yield env
        finally:
            _stop_owned(owned, say)


def _stop_owned(owned: list[Throwaway], say: Callable[[str], None] | None) -> None:
    """Stop every server in ``owned``, newest first, whatever Ctrl-C does meanwhile.

    The stops run with Ctrl-C held. One that lands before the hold begins (the first of the
    block, as its body ends) is caught and the stops go on; it is raised once they are done.
    """
    interrupted = False
    while owned:
        try:
            with signals_held(*HELD):
                while owned:
                    started = owned.pop()
                    started.stop()
                    if say is not None:
                        say(f"suitekit: stopped the throwaway {started.record.kind} server")
        except KeyboardInterrupt:
            interrupted = True
    if interrupted:
        raise KeyboardInterrupt
