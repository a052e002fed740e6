"""Settings read from the environment.

Every value is read when a function is called, never at import time, so that
tests and tools can set the environment after importing the package.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DATABASE_URL = "DATABASE_URL"
REDIS_URL = "REDIS_URL"
MEDIA_ROOT = "MEDIA_ROOT"

DEFAULT_MEDIA_ROOT = "media"


class MissingSettingError(RuntimeError):
    """A required environment variable is unset or empty."""

    def __init__(self, name: str, example: str) -> None:
        self.name = name
        super().__init__(
            f"{name} is not set: export {name} before using this part of bookshop "
            f"(for example {name}={example})"
        )


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _required(name: str, example: str, env: Mapping[str, str] | None) -> str:
    value = _environ(env).get(name, "").strip()
    if not value:
        raise MissingSettingError(name, example)
    return value


def database_url(env: Mapping[str, str] | None = None) -> str:
    """The SQLAlchemy URL of the database, from ``DATABASE_URL``."""
    return _required(DATABASE_URL, "postgresql+psycopg://user@localhost:5432/bookshop", env)


def redis_url(env: Mapping[str, str] | None = None) -> str:
    """The URL of the Redis server, from ``REDIS_URL``."""
    return _required(REDIS_URL, "redis://localhost:6379/0", env)


def media_root(env: Mapping[str, str] | None = None) -> Path:
    """Where cover images and exports are written, from ``MEDIA_ROOT``.

    Defaults to ``./media`` when unset.
    """
    value = _environ(env).get(MEDIA_ROOT, "").strip() or DEFAULT_MEDIA_ROOT
    return Path(value).expanduser()


@dataclass(frozen=True, slots=True)
class Settings:
    """A snapshot of all settings, taken when :func:`load_settings` is called."""

    database_url: str
    redis_url: str
    media_root: Path


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read every setting now; raises :class:`MissingSettingError` if one is missing."""
    return Settings(
        database_url=database_url(env),
        redis_url=redis_url(env),
        media_root=media_root(env),
    )
