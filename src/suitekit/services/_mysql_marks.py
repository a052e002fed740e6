"""The names and marks of suitekit's MariaDB databases: pure text, no server.

A database suitekit creates carries a comment ``suitekit {...}`` (JSON: its run, role, owning
process and host; written and read back by :mod:`suitekit.services._databases`, as PostgreSQL's
are), and suitekit drops only databases that carry it (:func:`refusal` says when one found by
its name is not suitekit's to drop).
:func:`ident` quotes a name as an identifier, so no name can change the SQL around it, and
:func:`requalify` renames the database a view's definition names.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from collections.abc import Callable
from typing import Final

from suitekit.services._databases import COMMENT_PREFIX, comment, marks

__all__ = [
    "COMMENT_PREFIX",
    "build_lock",
    "comment",
    "ident",
    "refusal",
    "requalify",
    "takes_comments",
]

_MIN_COMMENT_VERSION: Final = (10, 5)  # CREATE DATABASE ... COMMENT


def takes_comments(version: str) -> bool:
    """Whether a server of ``VERSION()`` ``version`` can carry suitekit's marks (MariaDB 10.5+)."""
    numbers = version.split("-", 1)[0].split(".")
    try:
        major, minor = int(numbers[0]), int(numbers[1])
    except (IndexError, ValueError):
        return False
    return "mariadb" in version.lower() and (major, minor) >= _MIN_COMMENT_VERSION


def build_lock(name: str) -> str:
    """The name of the lock (``GET_LOCK``) held while the template ``name`` is built."""
    return "suitekit_build_" + hashlib.sha256(name.encode()).hexdigest()[:40]


def ident(name: str) -> str:
    """``name`` as a quoted identifier (backquotes doubled): safe whatever it holds."""
    return "`" + name.replace("`", "``") + "`"


def refusal(name: str, comment: object, *, gone: Callable[[object, object], bool]) -> str | None:
    """Why the existing database ``name``, met by its name, is not suitekit's to drop, or ``None``.

    suitekit drops a database it finds by its name (a worker's left by a crashed predecessor, a
    template a killed run half-built) only when it carries suitekit's comment, is not a kept
    template, and its owner is this process or, as ``gone`` tells from the comment's host and
    pid, a process of this host that has ended. Anything else is someone's live data: a
    database of the user's own named like suitekit's, or one of a run still going that was given
    the same run id (``SUITEKIT_RUN_ID``), whose workers have the same database names.

    Returns:
        The error to raise (naming the database, whose it may be, and the fix), or ``None``.
    """
    info = marks(comment)
    if info is None:
        return (
            f"database {name} exists without suitekit's comment, so suitekit did not create it "
            "and will not drop it\n  fix: a database of yours with suitekit's naming (sk_...)? "
            "rename it, or drop it yourself if you no longer need it"
        )
    host, pid = info.get("host"), info.get("pid")
    if info.get("kept") == "true":
        return f"database {name} is a kept template: suitekit does not drop it by its name"
    if (host, pid) == (socket.gethostname(), str(os.getpid())) or gone(host, pid):
        return None
    return (
        f"database {name} belongs to run {info.get('run')} of process {pid} on {host}, which "
        "is still running (or runs on another host): another run with the same run id?"
        "\n  fix: give each run its own SUITEKIT_RUN_ID (or unset it), or let that run end "
        "(`suitekit clean` drops what a dead one left)"
    )


_QUOTES: Final = re.compile("['\"`]")


def requalify(sql: str, source: str, target: str) -> str:
    """``sql`` with the database qualifier ``source`` (`` `source`. ``) made ``target``.

    The server writes every table and column a view reads qualified with its database's name.
    A text replacement would rename the database inside string literals too (``'see
    `source`.t'``): this scanner copies each ``'...'`` and ``"..."`` literal whole (backslash
    escapes and doubled quotes included) and reads each backquoted identifier whole (doubled
    backquotes included), changing only the identifier `` `source` `` right before a dot.
    """
    old, new = ident(source), ident(target)
    parts = []
    position = 0
    while (found := _QUOTES.search(sql, position)) is not None:
        start = found.start()
        end = _closing(sql, start)
        token = sql[start:end]
        parts += [sql[position:start], new if token == old and sql[end : end + 1] == "." else token]
        position = end
    parts.append(sql[position:])
    return "".join(parts)


def _closing(sql: str, start: int) -> int:
    """Where the quoted token that opens at ``start`` ends (the end of ``sql`` if it does not)."""
    quote = sql[start]
    index = start + 1
    while index < len(sql):
        char = sql[index]
        if char == "\\" and quote != "`":  # an escape, in a string literal only
            index += 2
        elif char != quote:
            index += 1
        elif sql[index + 1 : index + 2] == quote:  # doubled: one quote inside
            index += 2
        else:
            return index + 1
    return len(sql)
