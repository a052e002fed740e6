"""Throwaway servers in Docker containers: the last resort, when no local binaries are found.

A backend says what its container is (:class:`ContainerSpec`); this module runs it with its
data on tmpfs, published on 127.0.0.1 only, and records it as any throwaway server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from suitekit._handoff import ENV_DOCKER
from suitekit._signals import HELD, signals_held
from suitekit.errors import ServiceError
from suitekit.services._servers import Throwaway, ignore, new_password, record, records_folder

if TYPE_CHECKING:
    from suitekit.services._backend import Backend

__all__ = ["ContainerSpec", "docker_available", "start_container"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerSpec:
    """A service's container.

    Attributes:
        argv: The whole ``docker run -d --rm ...`` command; it names ``password_variable``
            with ``-e NAME`` and no value, which copies it from the command's environment.
        password_variable: The variable that carries the password into the container.
        port: The port the server listens on inside the container.
    """

    argv: tuple[str, ...]
    password_variable: str
    port: str


def docker_available(environ: Mapping[str, str]) -> bool:
    """Whether a Docker daemon answers (``SUITEKIT_DOCKER=0`` says not to use one)."""
    if environ.get(ENV_DOCKER, "1") == "0":
        return False
    docker = shutil.which("docker", path=environ.get("PATH"))
    if docker is None:
        return False
    try:
        result = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def start_container(
    backend: Backend, *, on_start: Callable[[Throwaway], None] = ignore
) -> Throwaway:
    """The backend's container with its data on tmpfs, published on 127.0.0.1.

    Each gets a random password, given in the ``docker`` command's environment (``-e NAME``
    with no value copies it from there), not on its command line. Docker keeps it in the
    container's configuration, which only who may use Docker (root's equals) can inspect.

    Raises:
        ServiceError: The container did not start.
    """
    records_folder()  # a state folder that is refused stops the start before anything runs
    password = new_password()
    spec = backend.container()
    started = subprocess.run(
        spec.argv,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, spec.password_variable: password},
    )
    if started.returncode != 0:
        error = started.stderr.strip()
        message = f"docker could not start a {backend.kind.name} container: {error}"
        raise ServiceError(message)
    container = started.stdout.strip()
    port_out = subprocess.run(
        ["docker", "port", container, spec.port], capture_output=True, text=True, check=False
    )
    port = int(port_out.stdout.strip().rsplit(":", 1)[-1] or 0)
    url = backend.local_url(port, password)
    with signals_held(*HELD):
        try:
            written = record(backend.kind.name, url, 0, "", container=container)
        except BaseException:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
            raise
        throwaway = Throwaway(record=written, process=None)
        on_start(throwaway)
    return throwaway
