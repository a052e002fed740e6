"""A small web front over the catalogue, on the standard library's ``http.server``.

``GET /`` lists the books with a form to add one, ``POST /books`` adds one (then redirects
back to the list), ``GET /books/<isbn>`` answers a book as JSON through the Redis cache,
``GET /health`` answers 200 once the database answers, and ``GET /static/<name>.js`` serves
the page's scripts from ``web/src`` (the JavaScript that Vitest tests).

Run it as ``python -m bookshop.web --port 8000``, with ``DATABASE_URL`` and ``REDIS_URL`` set
(see :mod:`bookshop.settings`). :class:`Shop` holds the use cases and knows nothing of HTTP,
so the unit tests drive it with an in-memory database and a fake Redis.
"""

from __future__ import annotations

import argparse
import html
import json
import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bookshop.cache import JSON, Cache
from bookshop.db.engine import create_engine_from_env, create_session_factory
from bookshop.db.models import Book
from bookshop.db.repository import AuthorRepository, BookRepository
from bookshop.domain.isbn import InvalidISBNError, format_isbn13, parse_isbn
from bookshop.domain.pricing import PricingError, round_money, to_money

__all__ = ["Response", "Shop", "WebServer", "main"]

HTML = "text/html; charset=utf-8"
# Only the page's own scripts: a plain file name, never a path, and never a test file.
_SCRIPT = re.compile(r"[a-z][a-z0-9_-]*\.js")
_BOOK_PATH = re.compile(r"/books/([0-9Xx-]+)")
MAX_FORM_BYTES = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """What a request gets back."""

    status: HTTPStatus
    body: str = ""
    content_type: str = HTML
    location: str | None = None


class InvalidBookError(ValueError):
    """A submitted book is not acceptable; the message says which field and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewBook:
    """A validated submission of the add-a-book form."""

    isbn: str
    title: str
    author: str
    price: Decimal

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> NewBook:
        """Validate the form's fields (``isbn``, ``title``, ``author``, ``price``)."""
        title, author = form.get("title", "").strip(), form.get("author", "").strip()
        if not title or not author:
            message = "a book needs a title and an author"
            raise InvalidBookError(message)
        try:
            isbn = parse_isbn(form.get("isbn", ""))
            price = round_money(to_money(form.get("price", "").strip()))
        except (InvalidISBNError, PricingError) as exc:
            raise InvalidBookError(str(exc)) from exc
        if price < 0:
            message = f"a price cannot be negative, got {price}"
            raise InvalidBookError(message)
        return cls(isbn=isbn, title=title, author=author, price=price)


def _book_json(book: Book) -> JSON:
    return {
        "isbn": book.isbn,
        "title": book.title,
        "author": book.author.name,
        "price": str(book.price),
    }


class Shop:
    """The web front's use cases, over the database and the cache."""

    def __init__(
        self, session_factory: sessionmaker[Session], cache: Cache, *, scripts: Path | None
    ) -> None:
        self.session_factory = session_factory
        self.cache = cache
        self.scripts = scripts

    def handle(self, method: str, target: str, form: Mapping[str, str]) -> Response:
        """Route one request: its method, its path with query, its decoded form fields."""
        url = urlsplit(target)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if method == "POST" and url.path == "/books":
            return self.add(form)
        if method != "GET":
            return Response(status=HTTPStatus.METHOD_NOT_ALLOWED, body="method not allowed")
        if url.path == "/":
            return self.index(added=query.get("added", ""))
        if url.path == "/health":
            return self.health()
        if match := _BOOK_PATH.fullmatch(url.path):
            return self.book(match.group(1))
        if url.path.startswith("/static/"):
            return self.script(url.path.removeprefix("/static/"))
        return Response(status=HTTPStatus.NOT_FOUND, body="no such page")

    def index(
        self, *, added: str = "", error: str = "", form: Mapping[str, str] | None = None
    ) -> Response:
        """The catalogue as a page, with the form (refilled, after an error)."""
        with self.session_factory() as session:
            books = BookRepository(session).list()
            page = _page(books, added=added, error=error, form=form or {})
        status = HTTPStatus.BAD_REQUEST if error else HTTPStatus.OK
        return Response(status=status, body=page)

    def add(self, form: Mapping[str, str]) -> Response:
        """Add a book (and its author, if new); back to the list, or the form with the error."""
        try:
            book = NewBook.from_form(form)
            with self.session_factory.begin() as session:
                books = BookRepository(session)
                if books.find_by_isbn(book.isbn) is not None:
                    message = f"ISBN {format_isbn13(book.isbn)} is already in the catalogue"
                    raise InvalidBookError(message)
                author = AuthorRepository(session).get_or_create(book.author)
                books.add(isbn=book.isbn, title=book.title, author=author, price=book.price)
        except (InvalidBookError, IntegrityError) as exc:
            # IntegrityError: another request added the same ISBN between the check and here.
            reason = str(exc) if isinstance(exc, InvalidBookError) else "that book already exists"
            return self.index(error=reason, form=form)
        # A lookup cached before the book existed (a miss is not cached, but be sure).
        self.cache.invalidate_book(book.isbn)
        return Response(status=HTTPStatus.SEE_OTHER, location=f"/?added={quote(book.isbn)}")

    def book(self, isbn: str) -> Response:
        """One book as JSON, through the cache."""
        try:
            canonical = parse_isbn(isbn)
        except InvalidISBNError as exc:
            return _json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        found = self.cache.book(canonical, self._load)
        if found is None:
            return _json(HTTPStatus.NOT_FOUND, {"error": f"no book with ISBN {canonical}"})
        return _json(HTTPStatus.OK, found)

    def _load(self, isbn: str) -> JSON | None:
        with self.session_factory() as session:
            book = BookRepository(session).find_by_isbn(isbn)
            return None if book is None else _book_json(book)

    def health(self) -> Response:
        """200 once the database answers a query."""
        with self.session_factory() as session:
            session.execute(text("SELECT 1"))
        return Response(status=HTTPStatus.OK, body="ok", content_type="text/plain")

    def script(self, name: str) -> Response:
        """A script of the page, from the scripts folder (``web/src``)."""
        missing = Response(status=HTTPStatus.NOT_FOUND, body="no such script")
        if self.scripts is None or not _SCRIPT.fullmatch(name) or name.endswith(".test.js"):
            return missing
        path = self.scripts / name
        # Only a regular file of the folder itself: never a link to elsewhere, nor a folder.
        if (
            path.is_symlink()
            or not path.is_file()
            or path.resolve().parent != self.scripts.resolve()
        ):
            return missing
        return Response(
            status=HTTPStatus.OK,
            body=path.read_text(encoding="utf-8"),
            content_type="text/javascript",
        )


def _json(status: HTTPStatus, data: JSON) -> Response:
    return Response(status=status, body=json.dumps(data), content_type="application/json")


def _page(books: Sequence[Book], *, added: str, error: str, form: Mapping[str, str]) -> str:
    def field(name: str) -> str:
        return html.escape(form.get(name, ""), quote=True)

    rows = "\n".join(
        f'<tr data-isbn="{book.isbn}"><td>{html.escape(book.title)}</td>'
        f"<td>{html.escape(book.author.name)}</td><td>{format_isbn13(book.isbn)}</td>"
        f'<td class="price">{book.price}</td></tr>'
        for book in books
    )
    count = "1 book" if len(books) == 1 else f"{len(books)} books"
    notes = []
    if added:
        notes.append(f'<p id="added" role="status">Added {html.escape(added)}.</p>')
    if error:
        notes.append(f'<p id="error" role="alert">{html.escape(error)}</p>')
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Bookshop</title></head>
<body>
<h1>Bookshop</h1>
{"".join(notes)}
<p id="count">{count}</p>
<table id="books">
<thead><tr><th>Title</th><th>Author</th><th>ISBN</th><th>Price</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<h2>Add a book</h2>
<form id="add-book" method="post" action="/books">
<label>ISBN <input name="isbn" required value="{field("isbn")}"></label>
<label>Title <input name="title" required value="{field("title")}"></label>
<label>Author <input name="author" required value="{field("author")}"></label>
<label>Price <input name="price" required inputmode="decimal" value="{field("price")}"></label>
<output id="price-preview" for="price"></output>
<button type="submit">Add</button>
</form>
<script type="module" src="/static/form.js"></script>
</body>
</html>
"""


class WebServer(ThreadingHTTPServer):
    """An HTTP server for a :class:`Shop`, a thread per request."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], shop: Shop) -> None:
        super().__init__(address, _Handler)
        self.shop = shop


class _Handler(BaseHTTPRequestHandler):
    server: WebServer
    timeout = 10  # seconds a client may take to send its request: no thread waits forever

    def do_GET(self) -> None:
        self._answer(self.server.shop.handle("GET", self.path, {}))

    def do_POST(self) -> None:
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit():
            self._answer(Response(status=HTTPStatus.BAD_REQUEST, body="bad Content-Length"))
            return
        length = int(declared)
        if length > MAX_FORM_BYTES:
            self._answer(Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE, body="too large"))
            return
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        form = {key: values[0] for key, values in parse_qs(body).items()}
        self._answer(self.server.shop.handle("POST", self.path, form))

    def _answer(self, response: Response) -> None:
        data = response.body.encode("utf-8")
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(data)))
        if response.location is not None:
            self.send_header("Location", response.location)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        # The standard library writes a line per request to stderr; the backend's log is read
        # when it fails to start, where those lines would only bury the error.
        del format, args


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m bookshop.web --port PORT``: serve until stopped."""
    parser = argparse.ArgumentParser(prog="python -m bookshop.web", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--scripts", type=Path, default=Path("web/src"), help="the page's JavaScript folder"
    )
    options = parser.parse_args(argv)
    shop = Shop(
        create_session_factory(create_engine_from_env()),
        Cache.from_env(),
        scripts=options.scripts if options.scripts.is_dir() else None,
    )
    with WebServer((options.host, options.port), shop) as server, suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
