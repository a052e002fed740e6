"""suitekit's private state folders (suitekit.services._state), and the plantings they stop.

The temporary folder every user shares is played by a mode-1777 folder under ``tmp_path``
(``TMPDIR``), the RAM disk by another; files "of another user" are made here and given to uid
65534 (``nobody``) with ``lchown``, which needs root (or passwordless sudo).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

from suitekit import Project, Suite
from suitekit._model import Isolation
from suitekit.errors import ServiceError
from suitekit.services import _servers as _throwaway
from suitekit.services import _state, clean
from suitekit.services._ports import port_range
from suitekit.services._state import (
    create_private_file,
    data_root,
    open_lock_file,
    private_folder,
    read_private_file,
    state_root,
)
from suitekit.services._throwaway import records
from suitekit.services._worker import acquire, work_folders

OTHER: Final = 65534  # nobody
RUN_ID: Final = "20260101120000a1b2c3"
ME: Final = os.geteuid()


# -- the shared folders, played by folders of the test ------------------------------------------


@dataclass(frozen=True)
class Shared:
    """The stand-ins: ``tmp`` for $TMPDIR (/tmp), ``shm`` for /dev/shm, ``outside`` for the rest."""

    tmp: Path
    shm: Path
    outside: Path

    @property
    def root(self) -> Path:
        return self.tmp / f"suitekit-{ME}"


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Shared:
    tmp, shm, outside = tmp_path / "tmp", tmp_path / "shm", tmp_path / "outside"
    for folder in (tmp, shm):
        folder.mkdir()
        folder.chmod(0o1777)  # like /tmp: everyone may create names there
    outside.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(_state, "RAM_DISK", shm)
    return Shared(tmp=tmp, shm=shm, outside=outside)


def give_away(path: Path) -> None:
    """Make ``path`` (not what it points to) another user's, as if that user had made it."""
    if ME == 0:
        os.lchown(path, OTHER, OTHER)
        return
    sudo = shutil.which("sudo")
    if sudo is None or subprocess.run([sudo, "-n", "true"], check=False).returncode != 0:
        pytest.skip("making a file of another user needs root or passwordless sudo")
    subprocess.run([sudo, "-n", "chown", "-h", f"{OTHER}:{OTHER}", str(path)], check=True)


@dataclass(frozen=True)
class Snapshot:
    """What must not change at a link's target: its mode, its content, its entries."""

    mode: int
    content: bytes | tuple[str, ...] | None

    @classmethod
    def of(cls, path: Path) -> Snapshot:
        if not path.exists():
            return cls(mode=-1, content=None)
        found = path.stat()
        if path.is_dir():
            return cls(mode=found.st_mode, content=tuple(sorted(e.name for e in path.iterdir())))
        return cls(mode=found.st_mode, content=path.read_bytes())


def victim_folder(shared: Shared) -> Path:
    """A folder root must leave alone (a stand-in for /etc or /some/root/dir)."""
    folder = shared.outside / "precious"
    folder.mkdir()
    folder.chmod(0o755)
    (folder / "keep.txt").write_text("mine")
    return folder


def victim_file(shared: Shared) -> Path:
    path = shared.outside / "passwd"
    path.write_text("root:x:0:0\n")
    path.chmod(0o644)
    return path


def project_with(isolation: Isolation) -> Project:
    root = Path("/nonexistent")
    return Project(
        root=root, config_file=root / "pyproject.toml", python=("3.11",), isolation=isolation
    )


# -- where the state root is ---------------------------------------------------------------------


def test_without_xdg_runtime_dir_the_root_is_a_private_folder_in_tmpdir(shared: Shared) -> None:
    root = state_root()

    assert root == shared.root
    found = root.lstat()
    assert stat.S_ISDIR(found.st_mode)
    assert stat.S_IMODE(found.st_mode) == 0o700
    assert found.st_uid == ME


def test_a_private_xdg_runtime_dir_holds_the_root(
    shared: Shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    runtime.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))

    assert state_root() == runtime / "suitekit"
    assert stat.S_IMODE((runtime / "suitekit").stat().st_mode) == 0o700
    assert not shared.root.exists()


@pytest.mark.parametrize("mode", [0o755, 0o1777], ids=["readable", "world-writable"])
def test_an_xdg_runtime_dir_open_to_others_is_not_used(
    shared: Shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    runtime = tmp_path / "run-user"
    runtime.mkdir()
    runtime.chmod(mode)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))

    assert state_root() == shared.root
    assert not (runtime / "suitekit").exists()


def test_an_xdg_runtime_dir_of_another_user_is_not_used(
    shared: Shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    give_away(runtime)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))

    assert state_root() == shared.root


def test_a_relative_xdg_runtime_dir_is_not_used(
    shared: Shared, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", "run")

    assert state_root() == shared.root


# -- what is refused, and what it says -----------------------------------------------------------


def test_a_symlinked_root_is_refused_and_its_target_left_alone(shared: Shared) -> None:
    target = victim_folder(shared)
    before = Snapshot.of(target)
    shared.root.symlink_to(target)
    give_away(shared.root)

    with pytest.raises(ServiceError) as caught:
        state_root()

    assert str(caught.value) == (
        f"{shared.root}: is a symbolic link to {target}, not a folder; suitekit keeps private "
        f"state there and will not use it\n"
        f"  fix: remove it (`rm -rf {shared.root}`; if another user made it, ask them or root), "
        "or point TMPDIR (or XDG_RUNTIME_DIR) at a folder of your own"
    )
    assert Snapshot.of(target) == before


def test_a_root_owned_by_another_user_is_refused(shared: Shared) -> None:
    shared.root.mkdir(mode=0o700)
    give_away(shared.root)

    with pytest.raises(ServiceError, match=r"is owned by uid 65534, not by you \(uid \d+\)"):
        state_root()

    assert stat.S_IMODE(shared.root.stat().st_mode) == 0o700
    assert shared.root.stat().st_uid == OTHER


def test_a_world_writable_root_is_refused_not_narrowed(shared: Shared) -> None:
    shared.root.mkdir()
    shared.root.chmod(0o777)

    with pytest.raises(ServiceError) as caught:
        state_root()

    assert f"{shared.root}: has mode 0o777: other users may write in it" in str(caught.value)
    assert "fix: remove it" in str(caught.value)
    # Someone may have put something in it already: it is not made private and used.
    assert stat.S_IMODE(shared.root.stat().st_mode) == 0o777


def test_a_root_others_may_enter_is_refused(shared: Shared) -> None:
    shared.root.mkdir()
    shared.root.chmod(0o750)

    with pytest.raises(ServiceError, match=r"has mode 0o750: other users may enter it"):
        state_root()


def test_a_file_where_the_root_should_be_is_refused(shared: Shared) -> None:
    shared.root.write_text("")

    with pytest.raises(ServiceError, match=r"suitekit-\d+: is not a folder; suitekit keeps"):
        state_root()


def test_a_root_that_cannot_be_made_names_tmpdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no" / "such"
    monkeypatch.setattr(tempfile, "tempdir", str(missing))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)

    with pytest.raises(ServiceError) as caught:
        state_root()

    assert str(caught.value) == (
        f"{missing}/suitekit-{ME}: cannot create suitekit's private folder "
        "(No such file or directory)\n  fix: point TMPDIR at a folder you can write"
    )


def test_a_private_folder_is_0700_whatever_the_umask(shared: Shared) -> None:
    old = os.umask(0)
    try:
        folder = private_folder(shared.tmp / "mine")
    finally:
        os.umask(old)

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_an_own_folder_that_lost_its_access_bits_gets_them_back(shared: Shared) -> None:
    """Only this user's own, closed folder is changed, through a descriptor, never a link."""
    folder = shared.tmp / "mine"
    folder.mkdir()
    folder.chmod(0o500)

    private_folder(folder)

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_the_data_root_lets_the_server_user_pass_only_as_root(shared: Shared) -> None:
    old = os.umask(0o077)  # cuts mkdir's 0711 to 0700: the mode is set again
    try:
        root = data_root()
    finally:
        os.umask(old)

    assert root == shared.shm / f"suitekit-{ME}"
    assert stat.S_IMODE(root.stat().st_mode) == (0o711 if ME == 0 else 0o700)


def test_a_symlinked_data_root_is_refused(shared: Shared) -> None:
    target = victim_folder(shared)
    before = Snapshot.of(target)
    planted = shared.shm / f"suitekit-{ME}"
    planted.symlink_to(target)
    give_away(planted)

    with pytest.raises(ServiceError) as caught:
        data_root()

    assert str(caught.value).startswith(
        f"{planted}: is a symbolic link to {target}, not a folder; "
    )
    assert f"fix: remove it (`rm -rf {planted}`; if another user made it" in str(caught.value)
    assert Snapshot.of(target) == before


# -- files in the private folders ----------------------------------------------------------------


def test_a_private_file_is_new_and_0600(shared: Shared) -> None:
    path = shared.tmp / "record.json"
    old = os.umask(0)
    try:
        create_private_file(path, b"{}")
    finally:
        os.umask(old)

    assert path.read_bytes() == b"{}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        create_private_file(path, b"again")
    assert path.read_bytes() == b"{}"


def test_a_private_file_is_never_written_through_a_link(shared: Shared) -> None:
    target = victim_file(shared)
    before = Snapshot.of(target)
    link = shared.tmp / "record.json"
    link.symlink_to(target)

    with pytest.raises(FileExistsError):
        create_private_file(link, b"{}")

    assert Snapshot.of(target) == before
    dangling = shared.tmp / "other.json"
    dangling.symlink_to(shared.outside / "new-file")
    with pytest.raises(FileExistsError):
        create_private_file(dangling, b"{}")
    assert not (shared.outside / "new-file").exists()


def test_only_regular_files_of_this_user_are_read(shared: Shared) -> None:
    good = shared.tmp / "good.json"
    good.write_text('{"a": 1}')
    link = shared.tmp / "link.json"
    link.symlink_to(good)
    fifo = shared.tmp / "fifo.json"
    os.mkfifo(fifo)
    huge = shared.tmp / "huge.json"
    huge.write_bytes(b" " * (1 << 17))
    foreign = shared.tmp / "foreign.json"
    foreign.write_text('{"b": 2}')
    give_away(foreign)

    assert read_private_file(good) == '{"a": 1}'
    assert read_private_file(link) is None
    assert read_private_file(fifo) is None  # and it did not wait for a writer
    assert read_private_file(huge) is None
    assert read_private_file(foreign) is None
    assert read_private_file(shared.tmp / "missing.json") is None


def test_a_lock_file_is_made_0600_and_never_through_a_link(shared: Shared) -> None:
    lock = shared.tmp / "20000.lock"
    os.close(open_lock_file(lock))
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600

    planted = shared.tmp / "20003.lock"
    planted.symlink_to(shared.outside / "nologin")
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        open_lock_file(planted)
    assert not (shared.outside / "nologin").exists()


# -- the four plantings of issue 12 (items 2-4), replayed against this suitekit --------------------


def plant_old_layout(shared: Shared, name: str, target: Path) -> Path:
    """Another user's ``$TMPDIR/suitekit/<name> -> target``: the old shared layout, planted."""
    old = shared.tmp / "suitekit"
    old.mkdir(exist_ok=True)
    old.chmod(0o777)  # as the old suitekit left it (1777), and removable by the test's cleanup
    link = old / name
    link.symlink_to(target)
    give_away(link)
    give_away(old)
    return link


def test_planted_root_link_makes_clean_refuse_and_chmod_nothing(shared: Shared) -> None:
    """Item 2: ``suitekit-<uid> -> /some/dir`` planted; root runs ``suitekit clean``."""
    target = victim_folder(shared)
    before = Snapshot.of(target)
    shared.root.symlink_to(target)
    give_away(shared.root)

    with pytest.raises(ServiceError, match=rf"{shared.root}: is a symbolic link to {target}"):
        clean(None, {})

    assert Snapshot.of(target) == before


def test_planted_servers_link_is_never_followed(shared: Shared) -> None:
    """Item 2: ``servers -> /some/dir``, in the old shared folder and in the private one."""
    target = victim_folder(shared)
    before = Snapshot.of(target)
    plant_old_layout(shared, "servers", target)

    assert clean(None, {}).servers == 0  # the old folder is not suitekit's any more
    assert Snapshot.of(target) == before

    servers = shared.root / "servers"
    servers.rmdir()
    servers.symlink_to(target)
    with pytest.raises(ServiceError, match=rf"{servers}: is a symbolic link to {target}"):
        records()
    assert Snapshot.of(target) == before


def test_planted_lock_links_make_root_create_nothing(shared: Shared) -> None:
    """Item 3: ``N.lock -> /etc/nologin`` links, in the old folder and the private one."""
    project = project_with(Isolation(ports=3))
    suite = Suite(name="unit", paths=("tests/unit",))
    environ = {"SUITEKIT_RUN_ID": RUN_ID}
    old_ports = shared.tmp / "suitekit" / "ports"
    old_ports.mkdir(parents=True)
    # The blocks this worker tries first (in the range outside the kernel's ephemeral ports).
    ports = port_range()
    blocks = len(ports) // 3
    start = int(hashlib.sha256(f"{RUN_ID}/unit/gw0".encode()).hexdigest(), 16) % blocks
    planted = [ports.start + ((start + step) % blocks) * 3 for step in range(64)]
    for first in planted:
        link = old_ports / f"{first}.lock"
        link.symlink_to(shared.outside / f"created-{first}")
        give_away(link)
    old_ports.chmod(0o777)  # removable by the test's cleanup when it is not root
    give_away(old_ports)

    held = acquire(project, suite, worker="gw0", environ=environ)
    first = held.resources.ports[0]
    held.release()

    assert first in planted  # the block whose lock was a planted link in the old folder

    assert list(shared.outside.iterdir()) == []
    # Now the same links in the private folder (only a mistake of the user could put them
    # there): refused with the path and the fix, nothing created.
    private_lock = shared.root / "ports" / f"{first}.lock"
    private_lock.unlink()
    private_lock.symlink_to(shared.outside / "nologin")
    with pytest.raises(ServiceError) as caught:
        acquire(project, suite, worker="gw0", environ=environ)
    assert str(caught.value) == (
        f"{private_lock}: cannot open the port lock (Too many levels of symbolic links)"
        "\n  fix: remove it; suitekit makes it again"
    )
    assert list(shared.outside.iterdir()) == []


def test_planted_owner_file_link_is_never_written_or_trusted(shared: Shared) -> None:
    """Item 4: a known run id, and ``<work folder>/.suitekit-owner -> /etc/passwd`` planted."""
    target = victim_file(shared)
    before = Snapshot.of(target)
    project = project_with(Isolation(dirs=("MEDIA_ROOT",)))
    suite = Suite(name="unit", paths=("tests/unit",))
    environ = {"SUITEKIT_RUN_ID": RUN_ID}
    # Where the old layout put this worker's folder, with the link an attacker would plant.
    from suitekit import _naming  # noqa: PLC0415 - only the old name needs it

    old = shared.tmp / "suitekit" / "work" / _naming.work_folder(RUN_ID, "unit", "gw0")
    old.mkdir(parents=True)
    (old / ".suitekit-owner").symlink_to(target)
    give_away(old / ".suitekit-owner")

    first = acquire(project, suite, worker="gw0", environ=environ)
    second = acquire(project, suite, worker="gw0", environ=environ)
    try:
        folders = {Path(a.resources.dirs["MEDIA_ROOT"]).parent for a in (first, second)}
        assert len(folders) == 2  # random names: a known run id does not give the name away
        for folder in folders:
            assert folder.parent == shared.root / "work"
            owner = folder / ".suitekit-owner"
            assert stat.S_IMODE(owner.lstat().st_mode) == 0o600
            assert json.loads(owner.read_text())["run"] == RUN_ID
    finally:
        first.release()
        second.release()
    assert Snapshot.of(target) == before

    # In the private folder: a folder whose owner file is a link, or another user's file, or
    # which is itself a link, is not suitekit's: never read, never removed by clean.
    work = shared.root / "work"
    linked = work / "linked"
    linked.mkdir()
    (linked / ".suitekit-owner").symlink_to(target)
    foreign = work / "foreign"
    foreign.mkdir()
    (foreign / ".suitekit-owner").write_text(json.dumps({"host": "x", "pid": 1}))
    give_away(foreign / ".suitekit-owner")
    (work / "folder-link").symlink_to(victim_folder_outside(shared))

    assert work_folders() == []
    assert clean(None, {}).folders == 0
    assert linked.is_dir()
    assert foreign.is_dir()
    assert Snapshot.of(target) == before


def victim_folder_outside(shared: Shared) -> Path:
    folder = shared.outside / "dir-with-owner"
    folder.mkdir()
    (folder / ".suitekit-owner").write_text(json.dumps({"host": "x", "pid": 999_999_999}))
    return folder


def test_records_are_regular_files_of_this_user_only(shared: Shared) -> None:
    servers = private_folder(state_root() / "servers")
    body = {
        "kind": "redis",
        "url": "redis://127.0.0.1:1/0",
        "owner_pid": os.getpid(),
        "server_pid": 0,
        "container": "",
        "data_dir": "",
    }
    (servers / "redis-mine.json").write_text(json.dumps(body))
    foreign = servers / "redis-foreign.json"
    foreign.write_text(json.dumps(body))
    give_away(foreign)
    elsewhere = shared.outside / "record.json"
    elsewhere.write_text(json.dumps(body))
    (servers / "redis-link.json").symlink_to(elsewhere)

    assert [record.path.name for record in records()] == ["redis-mine.json"]


# -- who the servers run as ------------------------------------------------------------------------

needs_root = pytest.mark.skipif(ME != 0, reason="the server user is only chosen as root")


@needs_root
@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({}, "nobody", id="default"),
        pytest.param({"SUITEKIT_SERVER_USER": "daemon"}, "daemon", id="server-user"),
        pytest.param({"SUITEKIT_POSTGRES_USER": "daemon"}, "daemon", id="former-name"),
        pytest.param(
            {"SUITEKIT_SERVER_USER": "nobody", "SUITEKIT_POSTGRES_USER": "daemon"},
            "nobody",
            id="new-name-wins",
        ),
    ],
)
def test_as_root_servers_run_as_the_named_user(environ: dict[str, str], expected: str) -> None:
    user = _throwaway._server_user(environ)

    assert user is not None
    assert user.pw_name == expected


@needs_root
def test_a_missing_server_user_is_named_with_the_fix() -> None:
    with pytest.raises(ServiceError) as caught:
        _throwaway._server_user({"SUITEKIT_POSTGRES_USER": "no-such-user-here"})

    assert str(caught.value) == (
        "suitekit runs as root, so it runs its throwaway servers as an unprivileged user, but "
        "the user 'no-such-user-here' (SUITEKIT_POSTGRES_USER) does not exist\n"
        "  fix: set SUITEKIT_SERVER_USER to an unprivileged user that exists"
    )


@needs_root
def test_root_is_not_a_server_user() -> None:
    with pytest.raises(ServiceError, match=r"SUITEKIT_SERVER_USER='root' is root; suitekit runs"):
        _throwaway._server_user({"SUITEKIT_SERVER_USER": "root"})


def test_a_normal_user_runs_the_servers_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    if ME == 0:  # as root, seen as a user would see it
        monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert _throwaway._server_user({"SUITEKIT_SERVER_USER": "nobody"}) is None
