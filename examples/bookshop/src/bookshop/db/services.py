"""The service layer: use cases, each one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from bookshop.db.models import Author, Book, Order, OrderLine, Stock
from bookshop.db.repository import (
    AuthorRepository,
    BookRepository,
    CustomerRepository,
    OrderRepository,
    StockRepository,
)
from bookshop.domain.inventory import InsufficientStockError
from bookshop.domain.orders import InvalidTransitionError, OrderError, OrderStatus, can_transition
from bookshop.domain.pricing import VatCategory, quote
from bookshop.processing.catalogue import CatalogueRow


@dataclass(frozen=True, slots=True)
class ImportSummary:
    created: int
    updated: int
    authors_created: int


class BookshopService:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    # -- catalogue ----------------------------------------------------------

    def import_catalogue(self, rows: Iterable[CatalogueRow]) -> ImportSummary:
        """Create or update books, their authors and stock from catalogue rows.

        For an existing ISBN the title, price and VAT category are updated and
        the row's quantity is added to stock. Existing books and authors are
        looked up in batches and everything is written in one flush, so large
        catalogues load quickly.
        """
        batch = list(rows)
        created = updated = authors_created = 0
        with self.session_factory.begin() as session, session.no_autoflush:
            books = BookRepository(session).by_isbns({row.isbn for row in batch})
            authors = AuthorRepository(session).by_names({row.author for row in batch})
            for row in batch:
                book = books.get(row.isbn)
                if book is None:
                    author = authors.get(row.author)
                    if author is None:
                        author = authors[row.author] = Author(name=row.author)
                        session.add(author)
                        authors_created += 1
                    book = Book(
                        isbn=row.isbn,
                        title=row.title,
                        author=author,
                        price=row.price,
                        vat_category=row.vat.value,
                        published_year=row.year,
                        stock=Stock(on_hand=0, reserved=0),
                    )
                    session.add(book)
                    books[row.isbn] = book
                    created += 1
                else:
                    book.title = row.title
                    book.price = row.price
                    book.vat_category = row.vat.value
                    if row.year is not None:
                        book.published_year = row.year
                    updated += 1
                if book.stock is None:
                    book.stock = Stock(on_hand=0, reserved=0)
                book.stock.on_hand += row.quantity
        return ImportSummary(created, updated, authors_created)

    def available(self, isbn: str) -> int:
        with self.session_factory() as session:
            book = BookRepository(session).get_by_isbn(isbn)
            return StockRepository(session).for_book(book).available

    # -- orders -------------------------------------------------------------

    def place_order(self, email: str, items: Mapping[str, int]) -> int:
        """Create a placed order for ``{isbn: quantity}``, reserving stock.

        All or nothing: if any title is short, nothing is reserved.
        """
        if not items:
            raise OrderError("cannot place an empty order")
        with self.session_factory.begin() as session:
            books = BookRepository(session)
            stock = StockRepository(session)
            orders = OrderRepository(session)
            order = orders.create(CustomerRepository(session).get_or_create(email))
            total = Decimal("0.00")
            for isbn, quantity in items.items():
                book = books.get_by_isbn(isbn)
                level = stock.for_book(book)
                if quantity > level.available:
                    raise InsufficientStockError(isbn, quantity, level.available)
                level.reserved += quantity
                line_quote = quote(book.price, quantity, VatCategory(book.vat_category))
                order.lines.append(_line(book, quantity))
                total += line_quote.total
            order.total = total
            _move(order, OrderStatus.PLACED)
            session.flush()
            return order.id

    def pay_order(self, order_id: int, amount: Decimal) -> None:
        with self.session_factory.begin() as session:
            order = OrderRepository(session).get(order_id)
            if order.status == OrderStatus.PLACED.value and amount != order.total:
                raise OrderError(f"payment of {amount} does not match the total {order.total}")
            _move(order, OrderStatus.PAID)

    def ship_order(self, order_id: int) -> None:
        with self.session_factory.begin() as session:
            order = OrderRepository(session).get(order_id)
            _move(order, OrderStatus.SHIPPED)
            stock = StockRepository(session)
            for line in order.lines:
                level = stock.for_update(line.book_id)
                level.on_hand -= line.quantity
                level.reserved -= line.quantity

    def cancel_order(self, order_id: int) -> None:
        with self.session_factory.begin() as session:
            order = OrderRepository(session).get(order_id)
            was_holding_stock = order.status in (OrderStatus.PLACED.value, OrderStatus.PAID.value)
            _move(order, OrderStatus.CANCELLED)
            if was_holding_stock:
                stock = StockRepository(session)
                for line in order.lines:
                    stock.for_update(line.book_id).reserved -= line.quantity

    def order_status(self, order_id: int) -> OrderStatus:
        with self.session_factory() as session:
            return OrderStatus(OrderRepository(session).get(order_id).status)


def _line(book: Book, quantity: int) -> OrderLine:
    return OrderLine(book=book, quantity=quantity, unit_price=book.price)


def _move(order: Order, target: OrderStatus) -> None:
    current = OrderStatus(order.status)
    if not can_transition(current, target):
        raise InvalidTransitionError(current, target)
    order.status = target.value
    now = datetime.now(UTC)
    if target is OrderStatus.PLACED:
        order.placed_at = now
    elif target is OrderStatus.PAID:
        order.paid_at = now
    elif target is OrderStatus.SHIPPED:
        order.shipped_at = now
    elif target is OrderStatus.CANCELLED:
        order.cancelled_at = now
