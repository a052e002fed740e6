"""The names and marks of suitekit's MariaDB databases: pure text, no server.

A database suitekit creates carries a comment ``suitekit {...}`` (JSON: its run, role, owning
process and host); :func:`marks` reads one back, and cleanup drops only databases that carry
it. :func:`ident` quotes a name as an identifier, so no name can change the SQL around it.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from suitekit._model import ServiceConfig
from suitekit.services import _endpoints
from suitekit.services._endpoints import MySQLServer

__all__ = [
    "COMMENT_PREFIX",
    "MarkedDatabase",
    "comment",
    "ident",
    "like_prefix",
    "marks",
    "render_env",
]

COMMENT_PREFIX: Final = "suitekit "


def ident(name: str) -> str:
    """``name`` as a quoted identifier (backquotes doubled): safe whatever it holds."""
    return "`" + name.replace("`", "``") + "`"


def comment(run_id: str, role: str, extra: Mapping[str, str] | None = None) -> str:
    """The comment of a database of run ``run_id`` in ``role``, owned by this process."""
    info = {"run": run_id, "role": role, "pid": os.getpid(), "host": socket.gethostname()}
    info.update(extra or {})
    return COMMENT_PREFIX + json.dumps(info, sort_keys=True)


def render_env(config: ServiceConfig, server: MySQLServer, database: str) -> dict[str, str]:
    """The variables a worker (or the template's setup) sees for ``database``."""
    return _endpoints.render_env(config.env, server.fields(database))


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkedDatabase:
    """A database that carries suitekit's comment.

    Attributes:
        name: Its name.
        info: The comment's fields: run, role, pid, host (and owner, suite, kept).
    """

    name: str
    info: Mapping[str, str]


def marks(comment: object) -> dict[str, str] | None:
    """The fields of suitekit's comment, or ``None`` when ``comment`` is not one."""
    if not isinstance(comment, str) or not comment.startswith(COMMENT_PREFIX):
        return None
    try:
        info = json.loads(comment.removeprefix(COMMENT_PREFIX))
    except ValueError:
        return None
    return {str(k): str(v) for k, v in info.items()} if isinstance(info, dict) else None


def like_prefix(prefix: str) -> str:
    """A ``LIKE`` pattern matching names that start with ``prefix``, taken literally."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
