"""The renderer protocol: one implementation per CI provider, each in a module of its own."""

from __future__ import annotations

from typing import Protocol

from suitekit.ci._pipeline import Pipeline, Provider

__all__ = ["Renderer"]


class Renderer(Protocol):
    """Writes a :class:`~suitekit.ci._pipeline.Pipeline` in one provider's syntax.

    A renderer holds no policy: which jobs exist, what they run, which services they get and
    which of them must pass all come from the pipeline. It decides only how the provider spells
    them (matrix variables, artifacts, caches, service containers).
    """

    @property
    def provider(self) -> Provider:
        """The provider's name, as ``suitekit ci <provider>`` takes it."""
        ...

    def render(self, pipeline: Pipeline) -> str:
        """The complete file, with its header comment; the same pipeline gives the same text."""
        ...
