"""Repositories: small query helpers around a :class:`~sqlalchemy.orm.Session`.

Repositories never commit; the service layer owns transactions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bookshop.db.models import Author, Book, Customer, Order, OrderLine, Stock
from bookshop.domain.orders import OrderStatus

# Keep IN (...) lists well below SQLite's bound-parameter limit.
IN_CHUNK = 500


class NotFoundError(LookupError):
    """No row matches."""


def _chunks(values: Collection[str], size: int = IN_CHUNK) -> Iterator[list[str]]:
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


class AuthorRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_name(self, name: str) -> Author | None:
        return self.session.scalar(select(Author).where(Author.name == name))

    def get_or_create(self, name: str) -> Author:
        author = self.get_by_name(name)
        if author is None:
            author = Author(name=name)
            self.session.add(author)
            self.session.flush()
        return author

    def by_names(self, names: Collection[str]) -> dict[str, Author]:
        found: dict[str, Author] = {}
        for chunk in _chunks(names):
            found.update(
                (a.name, a)
                for a in self.session.scalars(select(Author).where(Author.name.in_(chunk)))
            )
        return found

    def list(self) -> Sequence[Author]:
        return self.session.scalars(select(Author).order_by(Author.name)).all()


class BookRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        isbn: str,
        title: str,
        author: Author,
        price: Decimal,
        vat_category: str = "zero",
        published_year: int | None = None,
    ) -> Book:
        book = Book(
            isbn=isbn,
            title=title,
            author=author,
            price=price,
            vat_category=vat_category,
            published_year=published_year,
        )
        self.session.add(book)
        self.session.flush()
        return book

    def get(self, book_id: int) -> Book:
        book = self.session.get(Book, book_id)
        if book is None:
            raise NotFoundError(f"no book with id {book_id}")
        return book

    def find_by_isbn(self, isbn: str) -> Book | None:
        return self.session.scalar(select(Book).where(Book.isbn == isbn))

    def by_isbns(self, isbns: Collection[str]) -> dict[str, Book]:
        """The books among ``isbns`` that exist, with their stock rows loaded."""
        found: dict[str, Book] = {}
        for chunk in _chunks(isbns):
            query = select(Book).where(Book.isbn.in_(chunk)).options(selectinload(Book.stock))
            found.update((b.isbn, b) for b in self.session.scalars(query))
        return found

    def get_by_isbn(self, isbn: str) -> Book:
        book = self.find_by_isbn(isbn)
        if book is None:
            raise NotFoundError(f"no book with ISBN {isbn}")
        return book

    def search_titles(self, text: str, *, limit: int = 20) -> Sequence[Book]:
        pattern = f"%{text.lower()}%"
        query = (
            select(Book)
            .where(func.lower(Book.title).like(pattern))
            .order_by(Book.title, Book.id)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def by_author(self, author_name: str) -> Sequence[Book]:
        query = (
            select(Book).join(Book.author).where(Author.name == author_name).order_by(Book.title)
        )
        return self.session.scalars(query).all()

    def list(self) -> Sequence[Book]:
        """Every book, by title, with its author loaded."""
        query = select(Book).order_by(Book.title, Book.id).options(selectinload(Book.author))
        return self.session.scalars(query).all()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Book)) or 0


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_or_create(self, email: str, name: str = "") -> Customer:
        normalized = email.strip().lower()
        customer = self.session.scalar(select(Customer).where(Customer.email == normalized))
        if customer is None:
            customer = Customer(email=normalized, name=name or normalized.split("@", 1)[0])
            self.session.add(customer)
            self.session.flush()
        return customer

    def find_by_email(self, email: str) -> Customer | None:
        return self.session.scalar(select(Customer).where(Customer.email == email.strip().lower()))


class StockRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_book(self, book: Book) -> Stock:
        stock = self.session.get(Stock, book.id)
        if stock is None:
            stock = Stock(book=book, on_hand=0, reserved=0)
            self.session.add(stock)
            self.session.flush()
        return stock

    def for_update(self, book_id: int) -> Stock:
        """Lock the stock row (``SELECT ... FOR UPDATE`` where supported)."""
        stock = self.session.scalar(select(Stock).where(Stock.book_id == book_id).with_for_update())
        if stock is None:
            raise NotFoundError(f"no stock row for book {book_id}")
        return stock

    def low_stock(self, threshold: int) -> Sequence[Stock]:
        query = (
            select(Stock)
            .where(Stock.on_hand - Stock.reserved <= threshold)
            .order_by(Stock.on_hand - Stock.reserved, Stock.book_id)
        )
        return self.session.scalars(query).all()


class OrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, customer: Customer) -> Order:
        order = Order(customer=customer, status=OrderStatus.CART.value, total=Decimal("0.00"))
        self.session.add(order)
        self.session.flush()
        return order

    def get(self, order_id: int) -> Order:
        order = self.session.scalar(
            select(Order)
            .where(Order.id == order_id)
            .options(selectinload(Order.lines).selectinload(OrderLine.book))
        )
        if order is None:
            raise NotFoundError(f"no order with id {order_id}")
        return order

    def with_status(self, status: OrderStatus) -> Sequence[Order]:
        return self.session.scalars(
            select(Order).where(Order.status == status.value).order_by(Order.id)
        ).all()

    def for_customer(self, email: str) -> Sequence[Order]:
        return self.session.scalars(
            select(Order)
            .join(Order.customer)
            .where(Customer.email == email.strip().lower())
            .order_by(Order.id)
        ).all()

    def units_sold(self, book: Book) -> int:
        query = (
            select(func.coalesce(func.sum(OrderLine.quantity), 0))
            .join(OrderLine.order)
            .where(OrderLine.book_id == book.id, Order.status == OrderStatus.SHIPPED.value)
        )
        return int(self.session.scalar(query) or 0)
