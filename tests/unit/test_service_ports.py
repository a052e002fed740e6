"""Port blocks: locked port by port, so blocks of any sizes never share a port.

Real lock files (in a private state folder under ``tmp_path``) and real sockets on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from suitekit.errors import ServiceError
from suitekit.services import _ports
from suitekit.services._ports import PORT_HIGH, PORT_LOW, PortBlock, port_range, take


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``XDG_RUNTIME_DIR`` at a private folder of the test: its locks are the test's alone."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    return runtime / "suitekit"


@pytest.fixture
def held() -> Iterator[list[PortBlock]]:
    """What a test took, released at its end whatever happens."""
    blocks: list[PortBlock] = []
    yield blocks
    for block in blocks:
        block.close()


def first_block(size: int, seed: str) -> int:
    """The first port of the block :func:`take` tries first for ``seed``."""
    ports = port_range()
    blocks = len(ports) // size
    return ports.start + int(hashlib.sha256(seed.encode()).hexdigest(), 16) % blocks * size


def seed_of_block_at(size: int, port: int) -> str:
    """A seed whose first block of ``size`` ports holds ``port``."""
    for n in range(1_000_000):
        seed = f"seed-{n}"
        first = first_block(size, seed)
        if first <= port < first + size:
            return seed
    pytest.fail(f"no seed puts a block of {size} at {port}")


def test_blocks_of_different_sizes_never_share_a_port(state: Path, held: list[PortBlock]) -> None:
    """The reviewer's case: a block of 2 at [p, p+1] and a block of 1 at [p+1], held at once."""
    pair = take(2, "run-a/unit/gw0")
    held.append(pair)
    # A holder whose first choice is the pair's second port, as a block of its own.
    single = take(1, seed_of_block_at(1, pair.first + 1))
    held.append(single)

    assert set(pair.ports).isdisjoint(single.ports), (list(pair.ports), list(single.ports))
    assert (state / "ports" / f"{pair.first + 1}.lock").is_file()  # a lock per port


def test_many_holders_of_mixed_sizes_are_disjoint(held: list[PortBlock]) -> None:
    # Seeds that all start at the same place, in blocks of 1 to 4 ports: every one overlaps.
    target = first_block(4, "target") + 1
    held.extend(take(size, seed_of_block_at(size, target)) for size in (4, 1, 3, 2, 1, 4, 2, 3))

    taken = [port for block in held for port in block.ports]
    assert len(taken) == len(set(taken)), sorted(taken)


def test_closing_a_block_releases_all_its_ports(held: list[PortBlock]) -> None:
    block = take(3, "run-a/unit/gw0")
    ports = list(block.ports)
    block.close()
    block.close()  # twice is harmless

    again = take(3, "run-a/unit/gw0")
    held.append(again)
    assert list(again.ports) == ports


def test_a_port_that_already_accepts_connections_is_not_handed_out(
    held: list[PortBlock],
) -> None:
    first = first_block(3, "run-a/unit/gw0")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", first + 1))
        listener.listen()

        block = take(3, "run-a/unit/gw0")
        held.append(block)

        assert first + 1 not in block.ports
        assert _ports.accepting(first + 1)
    assert not any(_ports.accepting(port) for port in block.ports)


def test_a_forwarded_port_that_cannot_be_seen_by_bind_is_not_handed_out(
    held: list[PortBlock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A port forwarded to elsewhere (a container's, by NAT) binds fine but answers."""
    monkeypatch.setattr(_ports, "_bindable", lambda _port: True)
    first = first_block(2, "run-a/unit/gw0")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", first))
        listener.listen()

        block = take(2, "run-a/unit/gw0")
        held.append(block)

    assert first not in block.ports


def test_a_lock_file_that_is_a_link_is_refused_with_the_fix(state: Path, tmp_path: Path) -> None:
    first = first_block(2, "run-a/unit/gw0")
    take(2, "run-a/unit/gw0").close()  # makes the folder
    lock = state / "ports" / f"{first + 1}.lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(tmp_path / "elsewhere")

    with pytest.raises(ServiceError) as caught:
        take(2, "run-a/unit/gw0")

    assert str(caught.value) == (
        f"{lock}: cannot open the port lock (Too many levels of symbolic links)"
        "\n  fix: remove it; suitekit makes it again"
    )
    assert not (tmp_path / "elsewhere").exists()
    assert (state / "ports").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("ephemeral", "ports"),
    [
        ((32768, 60999), range(20000, 32768)),  # Linux's default: the part below
        ((49152, 65535), range(20000, 49152)),  # IANA's dynamic ports (macOS, BSD)
        ((20000, 57999), range(58000, 60000)),  # the part above, ends included in the kernel's
        ((10000, 40000), range(40001, 60000)),  # only the part above is left
        ((15000, 25000), range(25001, 60000)),  # the larger part
        ((1024, 65535), range(PORT_LOW, PORT_HIGH)),  # nothing left outside: the whole range
        ((20500, 59000), range(PORT_LOW, PORT_HIGH)),  # too few outside (500 + 1000 ports)
    ],
)
def test_blocks_lie_outside_the_kernels_ephemeral_ports(
    ephemeral: tuple[int, int], ports: range
) -> None:
    # An outgoing connection's own end is drawn from the ephemeral range: a port handed to a
    # program that binds it later could be taken meanwhile ("Address already in use").
    assert port_range(lambda: ephemeral) == ports


def test_taken_blocks_lie_in_the_port_range(held: list[PortBlock]) -> None:
    ports = port_range()
    for n in range(20):
        block = take(5, f"run/unit/gw{n}")
        held.append(block)
        assert ports.start <= block.first
        assert block.first + block.size <= ports.stop


def test_blocks_overflow_into_the_whole_range_once_none_is_left_outside(
    held: list[PortBlock], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Room for one block of 10 outside the ephemeral range (ten ports free here now): a second
    # holder overflows into the rest.
    room = next(
        range(first, first + 10)
        for first in range(PORT_LOW, PORT_HIGH, 10)
        if all(_ports._free(port) for port in range(first, first + 10))
    )
    monkeypatch.setattr(_ports, "port_range", lambda: room)
    first = take(10, "run/unit/gw0")
    held.append(first)
    second = take(10, "run/unit/gw1")
    held.append(second)

    assert first.first == room.start
    assert set(first.ports).isdisjoint(second.ports)
    assert PORT_LOW <= second.first < second.first + second.size <= PORT_HIGH
