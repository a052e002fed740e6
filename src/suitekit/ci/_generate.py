"""Render a project's CI file for a provider, and where it goes."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from suitekit._model import Project
from suitekit.ci._github import GitHub
from suitekit.ci._gitlab import GitLab
from suitekit.ci._pipeline import Provider, build
from suitekit.ci._renderer import Renderer

__all__ = ["RENDERERS", "installed_version", "output_path", "render"]

RENDERERS: Final[Mapping[Provider, Renderer]] = {"github": GitHub(), "gitlab": GitLab()}


def installed_version() -> str:
    """The version of the suitekit that runs: what generated files pin by default."""
    return importlib.metadata.version("suitekit")


def render(project: Project, provider: Provider, *, version: str | None = None) -> str:
    """The text of ``project``'s CI file for ``provider``.

    Args:
        project: The project.
        provider: ``github`` or ``gitlab``.
        version: The suitekit version CI installs when ``[tool.suitekit.ci] suitekit`` is not
            given; the running suitekit's by default.
    """
    pipeline = build(project, version=version or installed_version())
    return RENDERERS[provider].render(pipeline)


def output_path(project: Project, provider: Provider) -> Path:
    """Where ``provider``'s file goes: ``[tool.suitekit.ci] <provider>`` under the root."""
    relative = project.ci.github if provider == "github" else project.ci.gitlab
    return project.root / relative
