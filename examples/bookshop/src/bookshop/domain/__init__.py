"""Pure domain logic: no I/O, no database, no network."""

from bookshop.domain.inventory import (
    InsufficientStockError,
    Inventory,
    Reservation,
    StockError,
    UnknownReservationError,
)
from bookshop.domain.isbn import (
    InvalidISBNError,
    is_valid_isbn,
    is_valid_isbn10,
    is_valid_isbn13,
    normalize_isbn,
    parse_isbn,
    to_isbn10,
    to_isbn13,
)
from bookshop.domain.orders import (
    InvalidTransitionError,
    Order,
    OrderError,
    OrderLine,
    OrderStatus,
    can_transition,
)
from bookshop.domain.pricing import (
    BulkDiscount,
    Discount,
    FixedDiscount,
    PercentageDiscount,
    PriceQuote,
    PricingError,
    VatCategory,
    quote,
    round_money,
)

__all__ = [
    "BulkDiscount",
    "Discount",
    "FixedDiscount",
    "InsufficientStockError",
    "InvalidISBNError",
    "InvalidTransitionError",
    "Inventory",
    "Order",
    "OrderError",
    "OrderLine",
    "OrderStatus",
    "PercentageDiscount",
    "PriceQuote",
    "PricingError",
    "Reservation",
    "StockError",
    "UnknownReservationError",
    "VatCategory",
    "can_transition",
    "is_valid_isbn",
    "is_valid_isbn10",
    "is_valid_isbn13",
    "normalize_isbn",
    "parse_isbn",
    "quote",
    "round_money",
    "to_isbn10",
    "to_isbn13",
]
