"""Persistence: SQLAlchemy 2.0 models, engine creation, repositories and services."""

from bookshop.db.engine import (
    create_engine_from_env,
    create_session_factory,
    make_engine,
    sqlalchemy_url,
)
from bookshop.db.models import (
    Author,
    Base,
    Book,
    Customer,
    Order,
    OrderLine,
    Stock,
)
from bookshop.db.repository import (
    AuthorRepository,
    BookRepository,
    CustomerRepository,
    NotFoundError,
    OrderRepository,
    StockRepository,
)
from bookshop.db.services import BookshopService, ImportSummary

__all__ = [
    "Author",
    "AuthorRepository",
    "Base",
    "Book",
    "BookRepository",
    "BookshopService",
    "Customer",
    "CustomerRepository",
    "ImportSummary",
    "NotFoundError",
    "Order",
    "OrderLine",
    "OrderRepository",
    "Stock",
    "StockRepository",
    "create_engine_from_env",
    "create_session_factory",
    "make_engine",
    "sqlalchemy_url",
]
