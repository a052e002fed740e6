"""Fixed authors and entries: they would collide on one shared database, not on a worker's own."""

import os
import time

import pytest

from guestbook import connect, entries, sign


@pytest.fixture
def db():
    with connect() as connection:
        yield connection
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM authors WHERE name <> 'the keeper'")


def test_the_database_is_this_workers_own() -> None:
    assert "_integration_" in os.environ["MYSQL_URL"]


def test_the_migration_ran_once_into_the_template(db) -> None:
    assert [(e.id, e.author, e.message) for e in entries(db)] == [(1, "the keeper", "Welcome!")]


@pytest.mark.parametrize("message", ["hello", "bonjour", "hallo", "ciao", "hola", "hej"])
def test_ada_signs_once(db, message: str) -> None:
    entry = sign(db, "ada", message)
    time.sleep(0.05)
    assert entry > 1  # after the seeded entry
    assert [e.message for e in entries(db) if e.author == "ada"] == [message]
