"""Render a project's CI file for a provider, and where it goes."""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from suitekit._install import suitekit_for_ci
from suitekit._model import Project
from suitekit.ci._github import GitHub
from suitekit.ci._gitlab import GitLab
from suitekit.ci._pins import Pins, bumped, default_pins
from suitekit.ci._pipeline import Provider, build
from suitekit.ci._renderer import Renderer

__all__ = [
    "RENDERERS",
    "bumped_pins",
    "comment_output_path",
    "current_pins",
    "installed_version",
    "output_path",
    "render",
    "render_comment",
    "suitekit_source",
]

RENDERERS: Final[Mapping[Provider, Renderer]] = {"github": GitHub(), "gitlab": GitLab()}


def installed_version() -> str:
    """The version of the suitekit that runs: what generated files pin by default."""
    return importlib.metadata.version("suitekit")


def render(
    project: Project,
    provider: Provider,
    *,
    version: str | None = None,
    pins: Pins | None = None,
) -> str:
    """The text of ``project``'s CI file for ``provider``.

    Args:
        project: The project.
        provider: ``github`` or ``gitlab``.
        version: The suitekit version CI installs when ``[tool.suitekit.ci] suitekit`` is not
            given; the running suitekit's by default.
        pins: The versions the file names; by default :func:`current_pins`, so that pins a
            bot bumped in the committed file survive regenerating it.
    """
    if pins is None:
        pins = current_pins(project, provider)
    running = version or installed_version()
    source, _ = suitekit_source(project, running)
    pipeline = build(project, version=running, pins=pins, suitekit=source)
    return RENDERERS[provider].render(pipeline)


def render_comment(
    project: Project, *, version: str | None = None, pins: Pins | None = None
) -> str:
    """The text of the pull request comment workflow (``[tool.suitekit.ci] comment = true``).

    Args:
        project: The project.
        version: As for :func:`render` (the file does not depend on it).
        pins: The versions the file names; by default the tables', with newer ones the
            committed comment workflow names (see :func:`render`).
    """
    if pins is None:
        pins = default_pins(project.root, style=project.ci.pin)
        path = comment_output_path(project)
        # A missing or unreadable file names no pins.
        with contextlib.suppress(OSError, UnicodeDecodeError):
            pins = pins.kept(path.read_text(encoding="utf-8")) if path else pins
    pipeline = build(project, version=version or installed_version(), pins=pins)
    return GitHub().render_comment(pipeline)


def suitekit_source(project: Project, version: str | None = None) -> tuple[str, str | None]:
    """The suitekit CI installs, and a warning to print when it is only a guess.

    The version the project's ``uv.lock`` pins, else its declared requirement, else ``[tool.
    suitekit.ci] suitekit``, else the running ``version`` (see
    :func:`suitekit._install.suitekit_for_ci`): then the warning says it must be installable
    from the package index.
    """
    return suitekit_for_ci(project, installed=version or installed_version())


def current_pins(project: Project, provider: Provider, committed: str | None = None) -> Pins:
    """The pins of ``provider``'s file: the tables', or newer ones the committed file names.

    Args:
        project: The project.
        provider: ``github`` or ``gitlab``.
        committed: The committed file's text; read from :func:`output_path` when not given (a
            missing or unreadable file names no pins).
    """
    pins = default_pins(project.root, style=project.ci.pin)
    if committed is None:
        try:
            committed = output_path(project, provider).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return pins
    return pins.kept(committed)


def bumped_pins(project: Project) -> list[str]:
    """The action pins the committed GitHub workflow moved past suitekit's table.

    See :func:`suitekit.ci._pins.bumped`.
    """
    table = default_pins(project.root, style=project.ci.pin)
    return bumped(table, current_pins(project, "github"))


def output_path(project: Project, provider: Provider) -> Path:
    """Where ``provider``'s file goes: ``[tool.suitekit.ci] <provider>`` under the root."""
    relative = project.ci.github if provider == "github" else project.ci.gitlab
    return project.root / relative


def comment_output_path(project: Project) -> Path | None:
    """Where the pull request comment workflow goes, beside the GitHub workflow.

    ``None`` when ``[tool.suitekit.ci] comment`` is off.
    """
    return project.root / project.ci.comment_path if project.ci.comment else None
