"""What generated CI files pin: actions by commit, images by version tag, nox and uv by version.

Every version a generated file names comes from the tables here, so that one edit (and one
test, ``tests/unit/test_ci_pins.py``) covers them all:

- :data:`ACTIONS`: each action at the release its SHA names. The SHAs were read from the
  actions' own repositories (``git rev-parse '<tag>^{commit}'``); a workflow writes
  ``uses: <action>@<sha> # <tag>``, the form Dependabot and Renovate both read and update.
- :data:`IMAGES`: the full version tag of each service image, in the major version suitekit's
  throwaway servers use locally (``postgres:16`` becomes ``postgres:16.15``).
- :data:`NOX` and :data:`UV`: the versions CI installs, unless the project's ``uv.lock`` pins
  them (then the lock's).

Bots update the committed files, not these tables. So that ``suitekit ci check`` does not
undo their work, :meth:`Pins.kept` reads the pins back from the committed file and keeps every
one that names the same action, image or tool at a newer version than the table.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal

from suitekit._model import frozen_mapping

__all__ = [
    "ACTIONS",
    "IMAGES",
    "LOCK_FILE",
    "NOX",
    "UV",
    "ActionPin",
    "PinStyle",
    "Pins",
    "bumped",
    "default_pins",
    "version_key",
]

PinStyle = Literal["sha", "tag"]
"""How a workflow names an action: by commit SHA with the tag as a comment, or by the tag."""

LOCK_FILE: Final = "uv.lock"
"""The project's lock file, at its root: CI caches are keyed on it, nox and uv read from it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionPin:
    """One action at one release.

    Attributes:
        action: ``owner/repo`` or ``owner/repo/path`` (``actions/cache/restore``).
        version: The release's tag (``v7.0.1``).
        sha: The 40-hex commit the tag names; empty when read back from a file that pins by
            tag.
    """

    action: str
    version: str
    sha: str = ""


ACTIONS: Final[Mapping[str, ActionPin]] = MappingProxyType(
    {
        pin.action: pin
        for pin in (
            ActionPin(
                action="actions/checkout",
                version="v7.0.1",
                sha="3d3c42e5aac5ba805825da76410c181273ba90b1",
            ),
            ActionPin(
                action="actions/setup-python",
                version="v7.0.0",
                sha="5fda3b95a4ea91299a34e894583c3862153e4b97",
            ),
            ActionPin(
                action="astral-sh/setup-uv",
                version="v10.0.1",
                sha="20cfd1bf945f4377ade1205e4dbc17946fc9a30d",
            ),
            ActionPin(
                action="actions/upload-artifact",
                version="v7.0.0",
                sha="bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
            ),
            ActionPin(
                action="actions/download-artifact",
                version="v8.0.1",
                sha="3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c",
            ),
            # One repository, one release: restore and save are folders of actions/cache.
            ActionPin(
                action="actions/cache/restore",
                version="v5.0.5",
                sha="27d5ce7f107fe9357f9df03efb73ab90386fccae",
            ),
            ActionPin(
                action="actions/cache/save",
                version="v5.0.5",
                sha="27d5ce7f107fe9357f9df03efb73ab90386fccae",
            ),
        )
    }
)
"""The actions generated workflows use, by ``owner/repo[/path]``."""

IMAGES: Final[Mapping[str, str]] = frozen_mapping(
    # The majors of the local throwaway servers (suitekit.services), so that CI and a laptop
    # test against the same server; the newest release of each (docker-library/official-images).
    {"postgres": "16.15", "redis": "7.4.11", "mariadb": "11.8.8"}
)
"""The tag each service image is pinned to, by image repository."""

NOX: Final = "2026.10.20"
"""The nox CI installs when the project's lock does not pin one."""

UV: Final = "0.13.9"
"""The uv CI uses (setup-uv's ``version``, GitLab's uv images) when the lock pins none."""

# `uses: owner/repo[/path]@<40 hex> # v1.2.3` (Dependabot's and Renovate's form), or `@v1.2.3`.
_USES: Final = r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@"
_USES_SHA: Final = re.compile(_USES + r"([0-9a-f]{40})\s+#\s+(v?\d[\w.-]*)\s*$", re.MULTILINE)
_USES_TAG: Final = re.compile(_USES + r"(v?\d[\w.-]*)\s*$", re.MULTILINE)
# `image: postgres:16.15` (GitHub), `- name: postgres:16.15` (GitLab services).
_IMAGE: Final = re.compile(
    r"^\s*(?:-\s+)?(?:image|name):\s+\"?([\w./-]+):(\d[\w.]*)\"?\s*$", re.MULTILINE
)
_NOX: Final = re.compile(r"uv tool install nox==([\w.+-]+)")
# setup-uv's `version:` input, or the version in a uv image's tag.
_UV: Final = re.compile(
    r"^\s*version:\s+\"?(\d+\.\d+\.\d+)\"?\s*$|ghcr\.io/astral-sh/uv:(\d+\.\d+\.\d+)-", re.MULTILINE
)
_NUMBERS: Final = re.compile(r"\d+")


def version_key(version: str) -> tuple[int, ...]:
    """``v7.0.1`` -> ``(7, 0, 1)``: the numbers of a version, to compare versions by."""
    return tuple(int(number) for number in _NUMBERS.findall(version))


def _newer(candidate: str, than: str) -> bool:
    return version_key(candidate) > version_key(than)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pins:
    """The versions one generated file names.

    Attributes:
        actions: Each action's pin, by ``owner/repo[/path]``.
        images: Each service image's tag, by image repository.
        nox: The nox version CI installs.
        uv: The uv version CI uses.
        style: ``sha`` (the default) or ``tag`` (``[tool.suitekit.ci] pin = "tag"``).
        locked: The tools whose version comes from the project's lock: a version read back from
            a committed file does not override them.
        moved: The image repositories whose tag was read back from a committed file (a bot
            may move an image to another major; the tables never do).
    """

    actions: Mapping[str, ActionPin] = field(default_factory=lambda: ACTIONS)
    images: Mapping[str, str] = field(default_factory=lambda: IMAGES)
    nox: str = NOX
    uv: str = UV
    style: PinStyle = "sha"
    locked: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Freeze the mappings whatever the caller passed."""
        object.__setattr__(self, "actions", MappingProxyType(dict(self.actions)))
        object.__setattr__(self, "images", frozen_mapping(self.images))

    def uses(self, action: str) -> tuple[str, str]:
        """``uses:`` of ``action``, as the reference and its comment (empty for a tag).

        Raises:
            KeyError: The action has no pin (a table entry is missing).
        """
        pin = self.actions[action]
        if self.style == "sha":
            return f"{action}@{pin.sha}", pin.version
        return f"{action}@{pin.version}", ""

    def image(self, reference: str) -> str:
        """``reference`` (``postgres:16``) at its pinned version (``postgres:16.15``).

        A reference whose repository has no pin, or whose tag the pin does not refine (another
        major: the pin would change the server), is returned as it is, unless a bot moved the
        committed file's image past it.
        """
        repository, _, tag = reference.rpartition(":")
        pinned = self.images.get(repository)
        if not repository or pinned is None:
            return reference
        refines = pinned == tag or pinned.startswith(f"{tag}.")
        if refines or (repository in self.moved and _newer(pinned, tag)):
            return f"{repository}:{pinned}"
        return reference

    def kept(self, committed: str) -> Pins:
        """These pins, with each newer one the committed file ``committed`` names instead.

        A bot (Dependabot, Renovate) bumps pins in the committed file; regenerating the file
        must not take them back. A pin read back replaces the table's when it names the same
        action, image repository or tool at a newer version. When pinning by SHA, a pin read
        back without a SHA (the file pinned by tag) is not used: a tag is not a pin.
        """
        actions = dict(self.actions)
        found = [ActionPin(action=a, version=v, sha=s) for a, s, v in _USES_SHA.findall(committed)]
        if self.style == "tag":
            found += [ActionPin(action=a, version=v) for a, v in _USES_TAG.findall(committed)]
        for pin in found:
            current = actions.get(pin.action)
            if current is not None and _newer(pin.version, current.version):
                actions[pin.action] = pin
        images = dict(self.images)
        moved = set(self.moved)
        for repository, tag in _IMAGE.findall(committed):
            current_tag = images.get(repository)
            if current_tag is not None and _newer(tag, current_tag):
                images[repository] = tag
                moved.add(repository)
        nox, uv = self.nox, self.uv
        if "nox" not in self.locked:
            nox = max([nox, *_NOX.findall(committed)], key=version_key)
        if "uv" not in self.locked:
            found_uv = [a or b for a, b in _UV.findall(committed)]
            uv = max([uv, *found_uv], key=version_key)
        return replace(
            self, actions=actions, images=images, nox=nox, uv=uv, moved=tuple(sorted(moved))
        )


def bumped(table: Pins, kept: Pins) -> list[str]:
    """The actions whose pin in ``kept`` is not the table's: what a bot (or a person) moved.

    suitekit keeps them (see :meth:`Pins.kept`) but cannot tell whether a SHA is the release
    its comment names: ``suitekit ci check`` lists them, for a reviewer to verify.
    """
    return [
        f"{action}@{pin.sha or pin.version} ({pin.version}; suitekit's table: "
        f"{table.actions[action].version})"
        for action, pin in sorted(kept.actions.items())
        if action in table.actions and pin != table.actions[action]
    ]


def default_pins(root: Path, *, style: PinStyle = "sha") -> Pins:
    """The tables' pins, with nox and uv at the versions the project's ``uv.lock`` pins.

    An unreadable or malformed lock is left to the sessions that install from it to report;
    here it only means the tables' versions.
    """
    locked = _locked_versions(root / LOCK_FILE, ("nox", "uv"))
    return Pins(
        nox=locked.get("nox", NOX),
        uv=locked.get("uv", UV),
        style=style,
        locked=tuple(sorted(locked)),
    )


def _locked_versions(path: Path, names: tuple[str, ...]) -> dict[str, str]:
    try:
        lock = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    packages = lock.get("package")
    found: dict[str, str] = {}
    for package in packages if isinstance(packages, list) else ():
        if not isinstance(package, dict):
            continue
        name, version = package.get("name"), package.get("version")
        if name in names and isinstance(version, str) and name not in found:
            found[name] = version
    return found
