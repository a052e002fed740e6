"""The guestbook's entries, in the MariaDB database ``MYSQL_URL`` names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pymysql


@dataclass(frozen=True)
class Entry:
    """One signed entry."""

    id: int
    author: str
    message: str


def connect(url: str | None = None) -> pymysql.connections.Connection:
    """A connection to the database of ``url`` (default: ``MYSQL_URL``), autocommitting."""
    parts = urlsplit(url or os.environ["MYSQL_URL"])
    return pymysql.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        database=unquote(parts.path.lstrip("/")),
        autocommit=True,
        charset="utf8mb4",
    )


def signature(author: str, message: str) -> str:
    """How an entry is shown: ``message -- author``, the message trimmed."""
    return f"{' '.join(message.split())} -- {author.strip()}"


def sign(connection: pymysql.connections.Connection, author: str, message: str) -> int:
    """Add an entry; its id."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO entries (author_id, message) SELECT id, %s FROM authors WHERE name = %s",
            (message, author),
        )
        if cursor.rowcount == 0:
            cursor.execute("INSERT INTO authors (name) VALUES (%s)", (author,))
            cursor.execute(
                "INSERT INTO entries (author_id, message) VALUES (LAST_INSERT_ID(), %s)",
                (message,),
            )
        return int(cursor.lastrowid)


def entries(connection: pymysql.connections.Connection) -> list[Entry]:
    """Every entry, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.id, a.name, e.message FROM entries e JOIN authors a ON a.id = e.author_id"
            " ORDER BY e.id"
        )
        return [Entry(id=row[0], author=row[1], message=row[2]) for row in cursor.fetchall()]
