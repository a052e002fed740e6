"""The cache wrapper, against a small in-memory stand-in for redis-py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bookshop.cache import BOOK_TTL, QUOTE_TTL, Cache, client_from_env
from bookshop.domain.pricing import PercentageDiscount, PriceQuote, VatCategory, quote
from bookshop.settings import MissingSettingError


class FakeRedis:
    """Enough of redis-py's API (with ``decode_responses=False``) for the cache."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.ttls: dict[str, int | None] = {}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def get(self, name: str) -> bytes | None:
        self.calls.append(("get", (name,)))
        return self.data.get(name)

    def set(self, name: str, value: str, ex: int | None = None) -> bool:
        self.calls.append(("set", (name, value, ex)))
        self.data[name] = value.encode()
        self.ttls[name] = ex
        return True

    def delete(self, *names: str) -> int:
        self.calls.append(("delete", names))
        removed = 0
        for name in names:
            if self.data.pop(name, None) is not None:
                removed += 1
            self.ttls.pop(name, None)
        return removed


@pytest.fixture
def fake() -> FakeRedis:
    return FakeRedis()


@pytest.fixture
def cache(fake: FakeRedis) -> Cache:
    return Cache(fake, prefix="test", default_ttl=30)


def test_keys_are_prefixed(cache: Cache) -> None:
    assert cache.key("book", "9780306406157") == "test:book:9780306406157"
    key = cache.quote_key("9780306406157", 3, VatCategory.ZERO)
    assert key == "test:quote:9780306406157:3:zero"


def test_json_round_trip_with_default_ttl(cache: Cache, fake: FakeRedis) -> None:
    cache.set_json("test:x", {"a": 1, "b": ["c"]})
    assert cache.get_json("test:x") == {"a": 1, "b": ["c"]}
    assert fake.ttls["test:x"] == 30


def test_miss_returns_none(cache: Cache) -> None:
    assert cache.get_json("test:nothing") is None


def test_corrupt_entries_are_dropped(cache: Cache, fake: FakeRedis) -> None:
    fake.data["test:x"] = b"{not json"
    assert cache.get_json("test:x") is None
    assert "test:x" not in fake.data


def test_book_lookup_calls_the_loader_once(cache: Cache, fake: FakeRedis) -> None:
    loads: list[str] = []

    def load(isbn: str) -> dict[str, Any]:
        loads.append(isbn)
        return {"isbn": isbn, "title": "Dune"}

    first = cache.book("9780306406157", load)
    second = cache.book("9780306406157", load)
    assert first == second == {"isbn": "9780306406157", "title": "Dune"}
    assert loads == ["9780306406157"]
    assert fake.ttls["test:book:9780306406157"] == BOOK_TTL


def test_unknown_books_are_not_cached(cache: Cache, fake: FakeRedis) -> None:
    assert cache.book("9780306406157", lambda isbn: None) is None
    assert fake.data == {}


def test_quotes_are_cached_exactly(cache: Cache, fake: FakeRedis) -> None:
    computed: list[PriceQuote] = []

    def compute() -> PriceQuote:
        q = quote(Decimal("7.35"), 4, VatCategory.STANDARD, [PercentageDiscount(Decimal("12.5"))])
        computed.append(q)
        return q

    first = cache.quote("9780306406157", 4, VatCategory.STANDARD, compute)
    second = cache.quote("9780306406157", 4, VatCategory.STANDARD, compute)
    assert first == second
    assert isinstance(second.total, Decimal)
    assert len(computed) == 1
    assert fake.ttls["test:quote:9780306406157:4:standard"] == QUOTE_TTL


def test_malformed_quote_is_a_miss(cache: Cache, fake: FakeRedis) -> None:
    fake.data["test:quote:9780306406157:1:zero"] = b'{"quantity": 1}'
    assert cache.get_quote("9780306406157", 1, VatCategory.ZERO) is None
    assert fake.data == {}


def test_invalidate_book_drops_book_and_quotes(cache: Cache, fake: FakeRedis) -> None:
    cache.set_book("9780306406157", {"title": "Dune"})
    cache.set_quote("9780306406157", quote(Decimal("1.00"), 2), VatCategory.ZERO)
    cache.set_book("9780198526636", {"title": "Emma"})
    cache.invalidate_book("9780306406157")
    assert list(fake.data) == ["test:book:9780198526636"]


@pytest.mark.parametrize(("prefix", "ttl"), [("", 10), ("a:b", 10), ("ok", 0)])
def test_bad_configuration(fake: FakeRedis, prefix: str, ttl: int) -> None:
    with pytest.raises(ValueError, match=r"prefix|TTL"):
        Cache(fake, prefix=prefix, default_ttl=ttl)


def test_client_from_env_reads_redis_url_when_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(MissingSettingError, match="REDIS_URL"):
        client_from_env()
    monkeypatch.setenv("REDIS_URL", "redis://localhost:6390/3")
    client = client_from_env()  # no connection is made until a command runs
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["port"], kwargs["db"]) == (6390, 3)
    client.close()
