"""A guestbook: entries signed by visitors, kept in MariaDB."""

from guestbook.store import Entry, connect, entries, sign, signature

__all__ = ["Entry", "connect", "entries", "sign", "signature"]
