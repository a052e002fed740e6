"""The drift check: are the committed CI files what ``[tool.suitekit]`` generates today?"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from suitekit._model import Project
from suitekit.ci._generate import (
    comment_output_path,
    current_pins,
    output_path,
    render,
    render_comment,
)
from suitekit.ci._pipeline import PROVIDERS, Provider
from suitekit.errors import CiError

__all__ = ["FileState", "check"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FileState:
    """How one provider's committed file compares with a fresh rendering.

    Attributes:
        provider: ``github`` or ``gitlab``.
        path: The file, relative to the project root (``/`` separated).
        state: ``current``: identical; ``stale``: it differs; ``missing``: it is configured
            but does not exist.
        diff: For a stale file, the unified diff from the committed file (``a/``) to the
            generated one (``b/``).
    """

    provider: Provider
    path: str
    state: Literal["current", "stale", "missing"]
    diff: str = ""

    @property
    def command(self) -> str:
        """The command that writes the file."""
        return f"suitekit ci {self.provider}"

    def describe(self) -> str:
        """One line for the terminal: what is wrong and how to fix it."""
        if self.state == "missing":
            return f"{self.path} is missing: run `{self.command}` to write it, and commit it"
        if self.state == "stale":
            return (
                f"{self.path} is out of date with [tool.suitekit]: run `{self.command}` "
                "and commit the result (do not edit it by hand)"
            )
        return f"{self.path} is up to date"


def check(project: Project, *, version: str | None = None) -> tuple[FileState, ...]:
    """Compare each provider's file with what ``project`` generates now.

    Pins are read back from each committed file first (see
    :meth:`~suitekit.ci._pins.Pins.kept`): an action, image or tool that Dependabot or Renovate
    moved to a newer version stays at it, so the check does not ask to undo the bot's work.

    A provider is checked when its file exists or its path is given in
    ``[tool.suitekit.ci]``; a configured file that does not exist is ``missing``. A project
    with neither gets one ``missing`` state per provider, since a drift check that finds
    nothing to check is almost certainly looking in the wrong place. With ``[tool.suitekit.ci]
    comment = true`` the pull request comment workflow is checked too, and required.

    Raises:
        CiError: A file exists but cannot be read as UTF-8 text.
    """
    states: list[FileState] = []
    for provider in PROVIDERS:
        path = output_path(project, provider)
        relative = path.relative_to(project.root).as_posix()
        if not path.exists():
            if provider in project.ci.configured:
                states.append(FileState(provider=provider, path=relative, state="missing"))
            continue
        states.append(_compare(project, provider, path, version=version))
    comment = comment_output_path(project)
    if comment is not None:
        relative = comment.relative_to(project.root).as_posix()
        if comment.exists():
            states.append(_compare(project, "github", comment, version=version))
        else:
            states.append(FileState(provider="github", path=relative, state="missing"))
    if not states:
        states = [
            FileState(
                provider=provider,
                path=output_path(project, provider).relative_to(project.root).as_posix(),
                state="missing",
            )
            for provider in PROVIDERS
        ]
    return tuple(states)


def _compare(project: Project, provider: Provider, path: Path, *, version: str | None) -> FileState:
    """The state of ``provider``'s existing file ``path``: its main file or the comment one."""
    relative = path.relative_to(project.root).as_posix()
    try:
        committed = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        message = f"{path}: cannot read the CI file ({error})"
        raise CiError(message) from None
    # Pins a bot bumped in the committed file are kept: a newer pin is not drift.
    pins = current_pins(project, provider, committed)
    if path == comment_output_path(project):
        generated = render_comment(project, version=version, pins=pins)
    else:
        generated = render(project, provider, version=version, pins=pins)
    if committed == generated:
        return FileState(provider=provider, path=relative, state="current")
    diff = "".join(
        # As git shows it: a last line without a line break is marked, not glued on.
        line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n"
        for line in difflib.unified_diff(
            committed.splitlines(keepends=True),
            generated.splitlines(keepends=True),
            fromfile=f"a/{relative}",
            tofile=f"b/{relative}",
        )
    )
    return FileState(provider=provider, path=relative, state="stale", diff=diff)
