"""Blocks of ports for workers and for instances of the project's services, locked port by port.

A holder (a worker, or a run's controller for its ``scope = "run"`` services) takes a block of
consecutive ports between 20000 and 60000 with :func:`take`, outside the kernel's ephemeral
range while blocks are left there (:func:`port_range`). Blocks are aligned on multiples of their
size, from a start that the holder's seed picks, but sizes differ (``isolation.ports`` plus the
worker's services; the run's services), so blocks of two holders may overlap: what
keeps them apart is a lock **per port**, an exclusive ``flock`` on ``<state>/ports/<port>.lock``
held for the holder's life (the kernel releases it if the holder dies). A block is taken only
when every one of its ports is locked; when another holder has one of them, the ports locked so
far are released and the next block is tried. So no two holders ever share a port, whatever
the sizes of their blocks.

The lock files are this user's (in its private state folder, opened without following links),
so runs of other users, and programs outside suitekit, do not see them: each port must also
be bindable on 127.0.0.1 and accept no connection there (a forwarded port may accept
connections while nothing on this machine's network stack holds it).

A port is free when taken; a program told to listen on it binds it later. Meanwhile any
outgoing connection on the machine (to a database, between processes) may be given it as its
own end, if it is in the ephemeral range the kernel draws those from (32768-60999 on Linux):
the program then fails with "Address already in use". So the blocks are drawn below (or above)
that range, where only a program that asks for a port by number gets it, as long as blocks are
left there (large blocks and many workers then overflow into the rest).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

from suitekit.errors import ServiceError
from suitekit.services._state import open_lock_file, private_folder, state_root

__all__ = ["LOOPBACK", "PortBlock", "accepting", "port_range", "take"]

LOOPBACK: Final = "127.0.0.1"
"""Where the ports are checked, and where instances are told to listen."""
PORT_LOW: Final = 20000
PORT_HIGH: Final = 60000
MIN_PORTS: Final = 2000
"""The fewest ports outside the ephemeral range worth keeping to; with fewer, the whole range."""
DYNAMIC_PORTS: Final = (49152, 65535)
"""The ephemeral range where the kernel does not say (IANA's dynamic ports: macOS, BSD)."""
LINUX_EPHEMERAL: Final = (32768, 60999)
"""Linux's default ephemeral range, where ``/proc`` cannot be read (a sandbox)."""
_CONNECT_TIMEOUT: Final = 0.2  # a refused connection to 127.0.0.1 answers in microseconds


@dataclass(slots=True, kw_only=True)
class PortBlock:
    """Consecutive ports locked for one holder; :meth:`close` releases them together.

    Attributes:
        first: The block's first port.
        size: How many ports it has.
    """

    first: int
    size: int
    _locks: list[IO[str]] = field(default_factory=list)

    @property
    def ports(self) -> range:
        """The block's ports."""
        return range(self.first, self.first + self.size)

    def close(self) -> None:
        """Release every port's lock (safe to call twice)."""
        locks, self._locks = self._locks, []
        for lock in locks:
            lock.close()


def _ephemeral() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return LINUX_EPHEMERAL if sys.platform.startswith("linux") else DYNAMIC_PORTS


def port_range(ephemeral: Callable[[], tuple[int, int]] = _ephemeral) -> range:
    """Where blocks are taken first: 20000-60000 less the kernel's ephemeral ports.

    The larger part of it below or above ``ephemeral()`` (the kernel's range, both ends
    included: Linux's ``ip_local_port_range``, else IANA's dynamic ports); the whole of it where
    neither part has :data:`MIN_PORTS` ports (a machine whose ephemeral range is nearly all).
    """
    low, high = ephemeral()
    below = range(PORT_LOW, max(PORT_LOW, min(PORT_HIGH, low)))
    above = range(min(PORT_HIGH, max(PORT_LOW, high + 1)), PORT_HIGH)
    best = max(below, above, key=len)
    return best if len(best) >= MIN_PORTS else range(PORT_LOW, PORT_HIGH)


def take(size: int, seed: str) -> PortBlock:
    """A block of ``size`` free ports that no other holder of this user holds, locked.

    The candidate blocks are the aligned blocks of ``size`` ports, tried in turn from one that
    ``seed`` picks (so holders with different seeds rarely meet): first in :func:`port_range`,
    then, when none is left there (large blocks, many workers), in the whole of 20000-60000,
    where an outgoing connection may take a port before its program binds it. A candidate is
    taken when all its ports' locks are had at once and each port is free (see :func:`_free`).

    Raises:
        ServiceError: A lock file cannot be opened (the message names it and the fix), or no
            block of ``size`` free ports is left.
    """
    folder = private_folder(state_root() / "ports")
    whole = range(PORT_LOW, PORT_HIGH)
    preferred = port_range()
    for ports in dict.fromkeys((preferred, whole)):
        block = _first_free(folder, ports, size, seed)
        if block is not None:
            return block
    message = f"no block of {size} free ports between {PORT_LOW} and {PORT_HIGH - 1}"
    raise ServiceError(message)


def _first_free(folder: Path, ports: range, size: int, seed: str) -> PortBlock | None:
    """The first block of ``ports`` that can be claimed and is free, from where ``seed`` says."""
    blocks = len(ports) // size
    if blocks == 0:
        return None
    start = int(hashlib.sha256(seed.encode()).hexdigest(), 16) % blocks
    for step in range(blocks):
        first = ports.start + ((start + step) % blocks) * size
        block = _claim(folder, first, size)
        if block is None:
            continue
        if all(_free(port) for port in block.ports):
            return block
        block.close()
    return None


def _claim(folder: Path, first: int, size: int) -> PortBlock | None:
    """Lock every port of the block, or none: ``None`` when another holder has one of them."""
    block = PortBlock(first=first, size=size)
    try:
        for port in block.ports:
            lock = _lock(folder / f"{port}.lock")
            if lock is None:
                block.close()
                return None
            block._locks.append(lock)  # noqa: SLF001 - the dataclass's own module
    except BaseException:
        block.close()
        raise
    return block


def _lock(path: Path) -> IO[str] | None:
    """The lock file ``path``, exclusively locked; ``None`` when another process holds it."""
    try:
        lock = os.fdopen(open_lock_file(path), "r+")
    except OSError as error:
        message = (
            f"{path}: cannot open the port lock ({error.strerror or error})"
            "\n  fix: remove it; suitekit makes it again"
        )
        raise ServiceError(message) from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock


def _free(port: int) -> bool:
    """Whether ``port`` can be bound on 127.0.0.1 and nothing accepts connections there."""
    return _bindable(port) and not accepting(port)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def accepting(port: int) -> bool:
    """Whether something already accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        probe.settimeout(_CONNECT_TIMEOUT)
        try:
            return probe.connect_ex((LOOPBACK, port)) == 0
        except OSError:  # a timeout, on a filtered port: nothing answered
            return False
