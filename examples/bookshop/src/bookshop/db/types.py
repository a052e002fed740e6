"""Column types shared by the models."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

CENTS = Decimal(100)


class Money(TypeDecorator[Decimal]):
    """``NUMERIC(10, 2)`` holding :class:`~decimal.Decimal` amounts.

    SQLite has no exact decimal type (SQLAlchemy would go through float and
    warn), so there the amount is stored as an integer number of pennies.
    """

    impl = Numeric(10, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Integer())
        return dialect.type_descriptor(Numeric(10, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> object:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return int((Decimal(value) * CENTS).to_integral_exact())
        return Decimal(value)

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(str(value))) / CENTS).quantize(Decimal("0.01"))
        return Decimal(str(value)).quantize(Decimal("0.01"))
