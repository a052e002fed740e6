"""A small cache over Redis for book lookups and price quotes.

Values are stored as JSON under namespaced keys
(``{prefix}:{namespace}:{key}``) with a TTL. Anything with redis-py's
``get``/``set``/``delete`` methods can be the client, which keeps the wrapper
testable without a server; :func:`client_from_env` builds the real one from
``REDIS_URL`` when it is called.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import redis

from bookshop import settings
from bookshop.domain.pricing import PriceQuote, VatCategory

T = TypeVar("T")
JSON = dict[str, Any]

BOOK_TTL = 600
QUOTE_TTL = 60
DEFAULT_PREFIX = "bookshop"


class CacheClient(Protocol):
    """The subset of :class:`redis.Redis` used here."""

    def get(self, name: str) -> Any: ...

    def set(self, name: str, value: str, ex: int | None = None) -> Any: ...

    def delete(self, *names: str) -> Any: ...


def client_from_env(env: Mapping[str, str] | None = None) -> redis.Redis:
    """A Redis client for ``REDIS_URL`` (read now; raises if unset)."""
    return redis.Redis.from_url(settings.redis_url(env), decode_responses=True)


class Cache:
    def __init__(
        self,
        client: CacheClient,
        *,
        prefix: str = DEFAULT_PREFIX,
        default_ttl: int = 300,
    ) -> None:
        if default_ttl < 1:
            raise ValueError(f"TTL must be at least one second, got {default_ttl}")
        if not prefix or ":" in prefix:
            raise ValueError(f"prefix must be non-empty and contain no ':', got {prefix!r}")
        self.client = client
        self.prefix = prefix
        self.default_ttl = default_ttl

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> Cache:
        return cls(client_from_env(env), **kwargs)

    def key(self, namespace: str, *parts: str | int) -> str:
        return ":".join((self.prefix, namespace, *(str(part) for part in parts)))

    # -- generic JSON values --------------------------------------------------

    def get_json(self, key: str) -> JSON | None:
        raw = self.client.get(key)
        if raw is None:
            return None
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        try:
            value = json.loads(raw)
        except (TypeError, ValueError):
            # A corrupt entry is a miss; drop it so that it is rebuilt.
            self.client.delete(key)
            return None
        return value if isinstance(value, dict) else None

    def set_json(self, key: str, value: JSON, ttl: int | None = None) -> None:
        payload = json.dumps(value, sort_keys=True, separators=(",", ":"))
        self.client.set(key, payload, ex=ttl or self.default_ttl)

    def get_or_set(
        self, key: str, factory: Callable[[], JSON | None], ttl: int | None = None
    ) -> JSON | None:
        """The cached value, or ``factory()`` stored for next time (``None`` is not cached)."""
        cached = self.get_json(key)
        if cached is not None:
            return cached
        value = factory()
        if value is not None:
            self.set_json(key, value, ttl)
        return value

    def delete(self, key: str) -> None:
        self.client.delete(key)

    # -- books ----------------------------------------------------------------

    def book_key(self, isbn: str) -> str:
        return self.key("book", isbn)

    def get_book(self, isbn: str) -> JSON | None:
        return self.get_json(self.book_key(isbn))

    def set_book(self, isbn: str, data: JSON) -> None:
        self.set_json(self.book_key(isbn), data, BOOK_TTL)

    def book(self, isbn: str, load: Callable[[str], JSON | None]) -> JSON | None:
        """Look a book up through the cache, calling ``load(isbn)`` on a miss."""
        return self.get_or_set(self.book_key(isbn), lambda: load(isbn), BOOK_TTL)

    def invalidate_book(self, isbn: str) -> None:
        """Forget a book (its price changed, say), and its quotes for common quantities."""
        self.client.delete(
            self.book_key(isbn),
            *(self.quote_key(isbn, q, vat) for q in range(1, 11) for vat in VatCategory),
        )

    # -- price quotes -------------------------------------------------------

    def quote_key(self, isbn: str, quantity: int, vat: VatCategory) -> str:
        return self.key("quote", isbn, quantity, vat.value)

    def get_quote(self, isbn: str, quantity: int, vat: VatCategory) -> PriceQuote | None:
        data = self.get_json(self.quote_key(isbn, quantity, vat))
        if data is None:
            return None
        try:
            return PriceQuote.from_dict(data)
        except (KeyError, ValueError, ArithmeticError):
            self.client.delete(self.quote_key(isbn, quantity, vat))
            return None

    def set_quote(self, isbn: str, price_quote: PriceQuote, vat: VatCategory) -> None:
        key = self.quote_key(isbn, price_quote.quantity, vat)
        self.set_json(key, dict(price_quote.as_dict()), QUOTE_TTL)

    def quote(
        self,
        isbn: str,
        quantity: int,
        vat: VatCategory,
        compute: Callable[[], PriceQuote],
    ) -> PriceQuote:
        cached = self.get_quote(isbn, quantity, vat)
        if cached is not None:
            return cached
        fresh = compute()
        self.set_quote(isbn, fresh, vat)
        return fresh


def decimal_field(data: JSON, name: str) -> Decimal:
    """Read an exact amount stored as a string in a cached value."""
    return Decimal(str(data[name]))
