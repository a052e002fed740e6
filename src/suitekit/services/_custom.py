"""Services of the project's own: an instance per worker (or per run), started and stopped here.

A service of the project's own (:class:`~suitekit._model.UserService`) is a command suitekit
runs itself, without a shell. Each instance gets a port (from the worker's locked block, see
:func:`suitekit.services._worker.acquire`) and a private folder: a fresh, randomly named folder
(mode 0700) under this user's data root, holding the service's own folder (``{dir}``, 0700)
and its log (``service.log``, 0600), so no other user can read or plant anything there.

The instance runs in a process session of its own (``start_new_session``): a Ctrl-C meant for
the run does not reach it half-way, and everything it spawns stays in that session, so
stopping it is one signal to the session's processes (SIGTERM, then SIGKILL after a grace),
whatever the command started. It is recorded, with its owner's pid and host and the
instance's start time, in a 0600 file under ``<state>/instances/``: ``suitekit clean`` (and the
run's controller, for a worker that died) stops an instance whose owner is gone (see
:mod:`suitekit.services._instances`).

Readiness is polled every few milliseconds until the service's ``timeout``: a TCP connection
to ``{port}`` accepted, an HTTP GET answered 2xx, or a command that exits 0. A service that
exits first, or is not ready in time, ends the start with its name, its key and the last lines
of its log. So does one whose process has exited once the check passed: what answered was
another program on its port (the instance itself failed to listen there).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from suitekit._handoff import ENV_SESSION_MARK
from suitekit._model import UserService
from suitekit._signals import HELD, exit_codes, signals_held
from suitekit.errors import ServiceError
from suitekit.services._instances import (
    InstanceRecord,
    ask_to_stop,
    finish_run,
    left_behind,
    records,
    records_folder,
    remove,
    start_time,
    terminate,
)
from suitekit.services._ports import LOOPBACK
from suitekit.services._state import data_root

__all__ = [
    "HOST",
    "InstanceRecord",
    "Running",
    "fields",
    "finish_run",
    "left_behind",
    "records",
    "render",
    "render_env",
    "start",
]

HOST: Final = LOOPBACK
"""Where every instance is told to listen (``{host}``): never an address others can reach."""
LOG_LINES: Final = 20
"""How many of the log's last lines a failed start shows."""
_LOG: Final = "service.log"
_POLL_SECONDS: Final = 0.02  # a probe takes well under a millisecond: look often
_PROBE_TIMEOUT: Final = 1.0
_LOG_TAIL_BYTES: Final = 64 * 1024
# Run with -I -S before the service's own command when a memory limit is set: sets the limit
# and replaces itself with the command, so the instance's pid is the command's. A trampoline
# rather than preexec_fn, which is unsafe in a process with threads (an xdist worker has).
_LIMIT_CODE: Final = (
    "import os, resource, sys\n"
    "n = int(sys.argv[1])\n"
    "_, hard = resource.getrlimit(resource.RLIMIT_AS)\n"
    "n = n if hard == resource.RLIM_INFINITY else min(n, hard)\n"
    "resource.setrlimit(resource.RLIMIT_AS, (n, hard))\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def fields(*, port: int, folder: str, worker: str) -> dict[str, str]:
    """The values of the templates' fields for one instance."""
    return {"port": str(port), "dir": folder, "host": HOST, "worker": worker}


def render(templates: tuple[str, ...], values: Mapping[str, str]) -> list[str]:
    """Each template (validated when the config was read) with the instance's values."""
    return [template.format_map(values) for template in templates]


def render_env(service: UserService, values: Mapping[str, str]) -> dict[str, str]:
    """The variables the tests get from ``service``'s instance."""
    return {name: template.format_map(values) for name, template in service.env.items()}


@dataclass(slots=True)
class Running:
    """An instance this process started and owns.

    Attributes:
        service: The service it is an instance of.
        record: Its record.
        process: Its first process.
        env: The variables the tests get from it.
    """

    service: UserService
    record: InstanceRecord
    process: subprocess.Popen[bytes] | None
    env: dict[str, str]

    def ask_to_stop(self) -> None:
        """SIGTERM to everything it runs, without waiting; :meth:`stop` finishes the job."""
        if self.process is not None:
            ask_to_stop(self.record, self.process)

    def stop(self) -> None:
        """Stop the instance and everything it spawned; remove its folder and record.

        Safe to call twice. Ctrl-C and SIGTERM are held until it is done.
        """
        with signals_held(*HELD):
            terminate(self.record, self.process)
            self.process = None
            remove(self.record)


def start(
    service: UserService,
    *,
    port: int,
    worker: str,
    run_id: str,
    suite: str,
    root: Path,
    environ: Mapping[str, str],
    on_start: Callable[[Callable[[], None]], None],
) -> Running:
    """Start an instance of ``service`` and wait until it is ready.

    ``on_start`` gets the instance's stop the moment it runs (and is recorded), before it is
    ready: whatever happens next (a failed readiness, Ctrl-C), its owner stops it.

    Raises:
        ServiceError: The command is not found, exits before it is ready, or is not ready
            within the service's timeout; the message names the service and shows its log.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"{service.name}-", dir=data_root()))
    own = folder / "dir"
    try:
        own.mkdir(mode=0o700)
        values = fields(port=port, folder=str(own), worker=worker)
        argv = render(service.run, values)
        env = render_env(service, values)
        # The instance is suitekit's, not a test's leftover: it carries no session mark.
        process_env = {k: v for k, v in environ.items() if k != ENV_SESSION_MARK} | env
        _check_binary(service, argv[0], process_env, root)
        if service.memory is not None:
            argv = [sys.executable, "-I", "-S", "-c", _LIMIT_CODE, str(service.memory), *argv]
        log = os.open(
            folder / _LOG,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        # From the spawn to the record and the owner's knowing, Ctrl-C waits (milliseconds):
        # no instance may run that nothing stops.
        with signals_held(*HELD):
            try:
                process = subprocess.Popen(
                    argv,
                    cwd=root,
                    env=process_env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as error:
                shutil.rmtree(folder, ignore_errors=True)
                message = (
                    f"service {service.name!r} could not be started ({service.key}.run): "
                    f"{error.strerror or error}"
                    f"\n  fix: {_install_fix(service, argv[0])}"
                )
                raise ServiceError(message) from None
            running = Running(
                service=service,
                record=_record(
                    service,
                    pid=process.pid,
                    folder=folder,
                    run_id=run_id,
                    suite=suite,
                    worker=worker,
                    port=port,
                ),
                process=process,
                env=env,
            )
            on_start(running.stop)
    finally:
        os.close(log)
    _wait_ready(running, values, process_env, root)
    return running


def _check_binary(service: UserService, program: str, env: Mapping[str, str], root: Path) -> None:
    """Refuse a program that cannot be run: looked up on ``PATH``, or, a path, from ``root``.

    A path with a ``/`` (``./bin/fake-api``) is relative to the project root, where the command
    runs (``Popen(cwd=root)``), not to this process's working folder.
    """
    if os.sep in program or (os.altsep and os.altsep in program):
        found = shutil.which(str(root / program))
    else:
        found = shutil.which(program, path=env.get("PATH", os.defpath))
    if found is None:
        message = (
            f"service {service.name!r}: {program} was not found ({service.key}.run)"
            f"\n  fix: {_install_fix(service, program)}"
        )
        raise ServiceError(message)


def _install_fix(service: UserService, program: str) -> str:
    if service.install:
        return f"install it: {service.install}"
    return f"install {program}, or give its full path in run"


def _record(
    service: UserService,
    *,
    pid: int,
    folder: Path,
    run_id: str,
    suite: str,
    worker: str,
    port: int,
) -> InstanceRecord:
    """Record a just spawned instance; one that cannot be is killed."""
    try:
        written = InstanceRecord(
            service=service.name,
            host=socket.gethostname(),
            owner_pid=os.getpid(),
            pid=pid,
            started=start_time(pid),
            folder=str(folder),
            run=run_id,
            suite=suite,
            worker=worker,
            port=port,
            path=InstanceRecord.new_path(records_folder(), service.name),
        )
        written.write()
    except BaseException:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return written


# --- readiness --------------------------------------------------------------------------------


def _wait_ready(
    running: Running, values: Mapping[str, str], env: Mapping[str, str], root: Path
) -> None:
    service = running.service
    deadline = time.monotonic() + service.timeout
    while True:
        process = running.process
        code = exit_codes(process)[0] if process is not None else None
        if code is not None:
            raise ServiceError(_exited(running, code, values))
        remaining = deadline - time.monotonic()
        why = _probe(service, values, env, root, max(remaining, _POLL_SECONDS))
        if why is None:
            # Ready, but is it the instance that answered? One that failed to listen (its port
            # taken meanwhile) has exited while another program answers there.
            code = exit_codes(process)[0] if process is not None else None
            if code is not None:
                raise ServiceError(_exited(running, code, values, after_ready=True))
            return
        if time.monotonic() >= deadline:
            raise ServiceError(_not_ready(running, why))
        time.sleep(_POLL_SECONDS)


def _probe(
    service: UserService,
    values: Mapping[str, str],
    env: Mapping[str, str],
    root: Path,
    remaining: float,
) -> str | None:
    """``None`` when the instance is ready, else why it is not (for the timeout's message)."""
    if service.ready_kind == "tcp":
        try:
            with socket.create_connection(
                (HOST, int(values["port"])), timeout=min(remaining, _PROBE_TIMEOUT)
            ) as connection:
                if connection.getsockname() == connection.getpeername():
                    # A port in the ephemeral range that nothing listens on yet: the kernel may
                    # connect the probe to itself (TCP's simultaneous open). Nobody answered.
                    return f"nothing accepted a connection on {HOST}:{values['port']}"
                return None
        except OSError:
            return f"nothing accepted a connection on {HOST}:{values['port']}"
    if service.ready_kind == "http":
        return _probe_http(service.ready[0].format_map(values), min(remaining, _PROBE_TIMEOUT))
    return _probe_command(render(service.ready, values), env, root, remaining)


def _probe_command(
    command: list[str], env: Mapping[str, str], root: Path, remaining: float
) -> str | None:
    try:
        done = subprocess.run(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=remaining,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{shlex.join(command)} did not end"
    except OSError as error:
        return f"{shlex.join(command)} could not run ({error.strerror or error})"
    if done.returncode == 0:
        return None
    return f"{shlex.join(command)} exited with code {done.returncode}"


def _probe_http(url: str, timeout: float) -> str | None:
    import http.client  # noqa: PLC0415 - only services that are probed over HTTP need it
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    # No proxy: the instance listens on 127.0.0.1, which a proxy from the environment
    # (HTTP_PROXY in CI) would not reach.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as answer:
            status = int(answer.status)
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, ValueError, http.client.HTTPException):
        # HTTPException: no HTTP answer, e.g. the probe's own request read back from a
        # connection the kernel made to itself on a port nothing listens on yet.
        return f"GET {url} got no answer"
    if 200 <= status < 300:  # noqa: PLR2004 - HTTP's success class
        return None
    return f"GET {url} answered {status}"


def _ready_setting(service: UserService) -> str:
    """The ``ready`` key as the user wrote it, for messages."""
    if service.ready_kind == "tcp":
        return 'ready = "tcp"'
    if service.ready_kind == "http":
        return f'ready = "{service.ready[0]}"'
    return f'ready = "{shlex.join(service.ready)}"'


def _not_ready(running: Running, why: str) -> str:
    service = running.service
    return (
        f"service {service.name!r} was not ready within {service.timeout:g} s: {why} "
        f"({_ready_setting(service)} in [{service.key}])\n"
        f"{_log_tail(running.record)}"
        f"  fix: see its log above; if it only needs longer to start, raise timeout in "
        f"[{service.key}] (now {service.timeout:g} s)"
    )


def _exited(
    running: Running, code: int, values: Mapping[str, str], *, after_ready: bool = False
) -> str:
    service = running.service
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    when = (
        f"although its ready check passed (another program may answer on {HOST}:{values['port']})"
        if after_ready
        else "before it was ready"
    )
    return (
        f"service {service.name!r} {how} {when} (run in [{service.key}])\n"
        f"{_log_tail(running.record)}"
        f"  fix: see its log above; the command was: {shlex.join(render(service.run, values))}"
    )


def _log_tail(record: InstanceRecord) -> str:
    """The last :data:`LOG_LINES` lines of the instance's log, indented, or that it is empty."""
    try:
        with (Path(record.folder) / _LOG).open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - _LOG_TAIL_BYTES))
            data = log.read()
    except OSError:
        data = b""
    lines = data.decode(errors="replace").splitlines()[-LOG_LINES:]
    if not lines:
        return "  its log is empty\n"
    shown = "".join(f"  | {line}\n" for line in lines)
    return f"  the last {len(lines)} lines of its log:\n{shown}"
