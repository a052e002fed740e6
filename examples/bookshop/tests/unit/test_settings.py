from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bookshop import settings
from bookshop.db import create_engine_from_env, sqlalchemy_url


def test_database_url_is_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    assert settings.database_url() == "sqlite://"
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert settings.database_url() == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("value", [None, "", "   "])
@pytest.mark.parametrize(
    ("getter", "name"),
    [(settings.database_url, "DATABASE_URL"), (settings.redis_url, "REDIS_URL")],
)
def test_missing_urls_give_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, value: str | None, getter: Callable[[], str], name: str
) -> None:
    if value is None:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, value)
    with pytest.raises(settings.MissingSettingError, match=f"{name} is not set") as excinfo:
        getter()
    assert excinfo.value.name == name


def test_media_root_defaults_to_media(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIA_ROOT", raising=False)
    assert settings.media_root() == Path("media")
    monkeypatch.setenv("MEDIA_ROOT", "/srv/bookshop")
    assert settings.media_root() == Path("/srv/bookshop")


def test_load_settings_from_a_mapping() -> None:
    loaded = settings.load_settings(
        {"DATABASE_URL": "sqlite://", "REDIS_URL": "redis://localhost/1", "MEDIA_ROOT": "m"}
    )
    assert loaded == settings.Settings("sqlite://", "redis://localhost/1", Path("m"))


def test_engine_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(settings.MissingSettingError):
        create_engine_from_env()
    engine = create_engine_from_env({"DATABASE_URL": "sqlite://"})
    assert engine.dialect.name == "sqlite"
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("sqlite://", "sqlite://"),
        ("sqlite:///shop.sqlite3", "sqlite:///shop.sqlite3"),
    ],
)
def test_driverless_postgres_urls_get_psycopg_3(url: str, expected: str) -> None:
    assert sqlalchemy_url(url) == expected


def test_engine_for_a_plain_postgresql_url_uses_psycopg_3() -> None:
    engine = create_engine_from_env({"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/db"})
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()
