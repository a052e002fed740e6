"""URLs as suitekit shows them: never with their password (messages end up in CI logs)."""

from __future__ import annotations

__all__ = ["redact"]


def redact(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part shown as ``***``.

    Works on text that is not a valid URL too (the config's errors show what was written).
    """
    scheme, separator, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if not separator or "@" not in netloc:
        return url
    userinfo, _, host = netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}{slash}{path}"
