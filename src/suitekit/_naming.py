"""Names of the resources a run creates: safe by construction, unique, and recognisable.

Suite names, run ids and worker ids end up in database names, Redis keys, folder names and
command lines. Whatever they contain (quotes, spaces, unicode, 80 characters), the names built
here hold only ``[a-z0-9_]``, stay within PostgreSQL's 63-byte identifier limit, and stay unique
because a hash of the raw parts is part of every name.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from typing import Final

__all__ = [
    "PREFIX",
    "database_name",
    "database_prefix",
    "new_run_id",
    "slug",
    "template_name",
    "work_folder",
    "worker_of",
]

PREFIX: Final = "sk_"
"""Every database suitekit creates starts with this (and carries suitekit's comment)."""

_MAX_IDENTIFIER: Final = 63
_UNSAFE = re.compile(r"[^a-z0-9]+")


def slug(text: str, limit: int) -> str:
    """``text`` reduced to ``[a-z0-9_]``, at most ``limit`` characters (possibly empty)."""
    return _UNSAFE.sub("_", text.lower()).strip("_")[:limit].rstrip("_")


def _digest(*parts: str) -> str:
    joined = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(joined).hexdigest()[:8]


def new_run_id() -> str:
    """A fresh run id: sortable by time, unique by its random tail."""
    return f"{time.strftime('%Y%m%d%H%M%S')}{secrets.token_hex(3)}"


def database_name(run_id: str, suite: str, worker: str) -> str:
    """The database of one worker of one suite in one run, e.g. ``sk_2026..._unit_gw0_1a2b3c4d``."""
    name = f"{database_prefix(run_id, suite)}{slug(worker, 8)}_{_digest(run_id, suite, worker)}"
    return name[:_MAX_IDENTIFIER]


def database_prefix(run_id: str, suite: str) -> str:
    """What the names of one run's worker databases of one suite start with."""
    return f"{PREFIX}{slug(run_id, 20)}_{slug(suite, 16)}_"


def worker_of(name: str, run_id: str, suite: str) -> str | None:
    """The worker whose database of this run and suite ``name`` is, or ``None`` if none's.

    The name is checked whole (its digest included): a database merely named alike is not one.
    """
    prefix = database_prefix(run_id, suite)
    if not name.startswith(prefix):
        return None
    worker = name[len(prefix) :].rsplit("_", 1)[0]
    return worker if database_name(run_id, suite, worker) == name else None


def work_folder(run_id: str, suite: str, worker: str) -> str:
    """The folder name of one worker's files (under suitekit's work folder)."""
    return (
        f"{slug(run_id, 20)}_{slug(suite, 16)}_{slug(worker, 8)}_{_digest(run_id, suite, worker)}"
    )


def template_name(run_id: str, suite: str, key: str | None) -> str:
    """The template database a suite's workers are cloned from.

    With a ``key`` (a hash of the migration files) the name depends on the key only, so a
    persistent server keeps the template between runs; without, it belongs to this run.
    """
    if key is not None:
        return f"{PREFIX}tpl_{slug(key, 40)}"
    return f"{PREFIX}{slug(run_id, 20)}_{slug(suite, 16)}_tpl_{_digest(run_id, suite)}"[
        :_MAX_IDENTIFIER
    ]
