"""The web front's routes on in-memory SQLite and a fake Redis, and one real HTTP round trip.

The browser suite (web/e2e, Playwright) drives the same app in Chromium against PostgreSQL and
Redis; these tests pin the routes' answers without a browser.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bookshop.cache import Cache
from bookshop.web import Shop, WebServer

ISBN = "9780306406157"
DUNE = {"isbn": "0-306-40615-2", "title": "Dune", "author": "Frank Herbert", "price": "9.999"}


class FakeRedis:
    """A dict with redis-py's get/set/delete, counting the reads that reach it."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.gets = 0

    def get(self, name: str) -> str | None:
        self.gets += 1
        return self.data.get(name)

    def set(self, name: str, value: str, ex: int | None = None) -> bool:
        del ex
        self.data[name] = value
        return True

    def delete(self, *names: str) -> int:
        return sum(self.data.pop(name, None) is not None for name in names)


@pytest.fixture
def redis() -> FakeRedis:
    return FakeRedis()


@pytest.fixture
def shop(session_factory: sessionmaker[Session], redis: FakeRedis, tmp_path: Path) -> Shop:
    (tmp_path / "form.js").write_text("export {};\n", encoding="utf-8")
    (tmp_path / "form.test.js").write_text("test();\n", encoding="utf-8")
    return Shop(session_factory, Cache(redis), scripts=tmp_path)


def test_an_empty_catalogue_shows_its_form(shop: Shop) -> None:
    page = shop.handle("GET", "/", {})
    assert page.status is HTTPStatus.OK
    assert '<p id="count">0 books</p>' in page.body
    assert '<form id="add-book" method="post" action="/books">' in page.body


def test_a_book_added_is_listed_and_the_browser_sent_back_to_the_list(shop: Shop) -> None:
    added = shop.handle("POST", "/books", DUNE)
    assert added.status is HTTPStatus.SEE_OTHER
    assert added.location == f"/?added={ISBN}"
    page = shop.handle("GET", added.location, {})
    assert f'<p id="added" role="status">Added {ISBN}.</p>' in page.body
    assert '<p id="count">1 book</p>' in page.body
    assert f'<tr data-isbn="{ISBN}"><td>Dune</td><td>Frank Herbert</td>' in page.body
    assert '<td class="price">10.00</td>' in page.body


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"isbn": "978-0-306-40615-8"}, "wrong ISBN-13 check digit"),
        ({"title": "  "}, "a book needs a title and an author"),
        ({"price": "ten"}, "not an amount: &#x27;ten&#x27;"),
        ({"price": "-1"}, "a price cannot be negative, got -1.00"),
    ],
)
def test_a_bad_book_is_refused_and_the_form_kept(
    shop: Shop, change: dict[str, str], error: str
) -> None:
    page = shop.handle("POST", "/books", {**DUNE, **change, "author": "<Herbert>"})
    assert page.status is HTTPStatus.BAD_REQUEST
    assert error in page.body
    assert 'value="&lt;Herbert&gt;"' in page.body
    assert '<p id="count">0 books</p>' in page.body


def test_a_book_already_there_is_refused(shop: Shop) -> None:
    shop.handle("POST", "/books", DUNE)
    again = shop.handle("POST", "/books", {**DUNE, "isbn": ISBN})
    assert again.status is HTTPStatus.BAD_REQUEST
    assert "ISBN 978-0-3064-0615-7 is already in the catalogue" in again.body


def test_a_book_is_looked_up_through_the_cache(shop: Shop, redis: FakeRedis) -> None:
    missing = shop.handle("GET", f"/books/{ISBN}", {})
    assert missing.status is HTTPStatus.NOT_FOUND
    assert redis.data == {}  # a miss is not cached
    shop.handle("POST", "/books", DUNE)
    found = shop.handle("GET", "/books/0-306-40615-2", {})
    assert found.status is HTTPStatus.OK
    book = {"isbn": ISBN, "title": "Dune", "author": "Frank Herbert", "price": "10.00"}
    assert json.loads(found.body) == book
    assert json.loads(redis.data[f"bookshop:book:{ISBN}"]) == book
    assert json.loads(shop.handle("GET", f"/books/{ISBN}", {}).body) == book
    bad = shop.handle("GET", "/books/12345", {})
    assert bad.status is HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize(
    ("method", "target", "status"),
    [
        ("GET", "/health", HTTPStatus.OK),
        ("GET", "/static/form.js", HTTPStatus.OK),
        ("GET", "/static/form.test.js", HTTPStatus.NOT_FOUND),
        ("GET", "/static/missing.js", HTTPStatus.NOT_FOUND),
        ("GET", "/static/../web.py", HTTPStatus.NOT_FOUND),
        ("GET", "/nowhere", HTTPStatus.NOT_FOUND),
        ("DELETE", "/", HTTPStatus.METHOD_NOT_ALLOWED),
    ],
)
def test_routes(shop: Shop, method: str, target: str, status: HTTPStatus) -> None:
    assert shop.handle(method, target, {}).status is status


def test_no_scripts_folder_serves_no_script(
    session_factory: sessionmaker[Session], redis: FakeRedis
) -> None:
    shop = Shop(session_factory, Cache(redis), scripts=None)
    assert shop.handle("GET", "/static/form.js", {}).status is HTTPStatus.NOT_FOUND


@pytest.fixture
def server(shop: Shop) -> Iterator[str]:
    with WebServer(("127.0.0.1", 0), shop) as running:
        thread = threading.Thread(target=running.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{running.server_address[1]}"
        running.shutdown()
        thread.join(timeout=5)


def test_over_http(server: str) -> None:
    form = urlencode(DUNE).encode()
    with urllib.request.urlopen(f"{server}/books", data=form, timeout=10) as answer:
        # urllib follows the 303 to the list, with a GET.
        assert answer.url == f"{server}/?added={ISBN}"
        assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "Dune" in answer.read().decode()
    with urllib.request.urlopen(f"{server}/health", timeout=10) as answer:
        assert answer.read() == b"ok"


def test_a_script_outside_the_folder_is_never_served(shop: Shop, tmp_path: Path) -> None:
    # The folder's parent holds a script, and the folder a link to a file elsewhere.
    outside = tmp_path.parent / "outside.js"
    outside.write_text("secret\n", encoding="utf-8")
    (tmp_path / "leak.js").symlink_to(outside)
    (tmp_path / "folder.js").mkdir()
    for target in ("/static/../outside.js", "/static/leak.js", "/static/folder.js"):
        answer = shop.handle("GET", target, {})
        assert answer.status is HTTPStatus.NOT_FOUND, target
        assert "secret" not in answer.body


@pytest.mark.parametrize(
    ("length", "status"),
    [("-1", b"400"), ("abc", b"400"), ("999999999", b"413")],
)
def test_a_bad_or_too_large_body_length_is_answered_and_not_read(
    server: str, length: str, status: bytes
) -> None:
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        client.sendall(
            b"POST /books HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
            + f"\r\nContent-Length: {length}\r\n\r\n".encode()
            + b"title=x"
        )
        answer = client.recv(1024)
    assert answer.split(b" ", 2)[1] == status
