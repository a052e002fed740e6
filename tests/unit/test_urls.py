from __future__ import annotations

import pytest

from suitekit._urls import redact


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:hunter2@h:5432/db", "postgresql://app:***@h:5432/db"),
        ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("postgresql+psycopg://u:p%40ss@h/db", "postgresql+psycopg://u:***@h/db"),
        ("postgresql://app@h/db", "postgresql://app@h/db"),  # no password: as it is
        ("redis://h:6379/0", "redis://h:6379/0"),
        ("postgresql://u:pw@h:99999", "postgresql://u:***@h:99999"),  # no path, bad port
        ("not a url", "not a url"),
    ],
)
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert redact(url) == shown
