"""Stock levels and reservations held while an order is open."""

from __future__ import annotations

import itertools
from dataclasses import dataclass


class StockError(Exception):
    """Base class for stock problems."""


class InsufficientStockError(StockError):
    def __init__(self, isbn: str, requested: int, available: int) -> None:
        self.isbn = isbn
        self.requested = requested
        self.available = available
        super().__init__(f"cannot reserve {requested} of {isbn}: only {available} available")


class UnknownReservationError(StockError):
    def __init__(self, reservation_id: int) -> None:
        self.reservation_id = reservation_id
        super().__init__(f"no open reservation {reservation_id}")


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int
    isbn: str
    quantity: int


class Inventory:
    """In-memory stock: copies on hand, some of them reserved for open orders.

    ``available = on_hand - reserved``. Reserving holds copies; committing a
    reservation (the order shipped) removes them from stock; releasing it
    (the order was cancelled) makes them available again.
    """

    def __init__(self, on_hand: dict[str, int] | None = None) -> None:
        self._on_hand: dict[str, int] = {}
        self._reservations: dict[int, Reservation] = {}
        self._ids = itertools.count(1)
        for isbn, quantity in (on_hand or {}).items():
            self.receive(isbn, quantity)

    def on_hand(self, isbn: str) -> int:
        return self._on_hand.get(isbn, 0)

    def reserved(self, isbn: str) -> int:
        return sum(r.quantity for r in self._reservations.values() if r.isbn == isbn)

    def available(self, isbn: str) -> int:
        return self.on_hand(isbn) - self.reserved(isbn)

    def receive(self, isbn: str, quantity: int) -> None:
        """Add delivered copies to stock."""
        if quantity < 1:
            raise StockError(f"must receive at least one copy, got {quantity}")
        self._on_hand[isbn] = self.on_hand(isbn) + quantity

    def write_off(self, isbn: str, quantity: int) -> None:
        """Remove damaged or lost copies; reserved copies cannot be written off."""
        if quantity < 1:
            raise StockError(f"must write off at least one copy, got {quantity}")
        available = self.available(isbn)
        if quantity > available:
            raise InsufficientStockError(isbn, quantity, available)
        self._on_hand[isbn] = self.on_hand(isbn) - quantity

    def reserve(self, isbn: str, quantity: int) -> Reservation:
        if quantity < 1:
            raise StockError(f"must reserve at least one copy, got {quantity}")
        available = self.available(isbn)
        if quantity > available:
            raise InsufficientStockError(isbn, quantity, available)
        reservation = Reservation(next(self._ids), isbn, quantity)
        self._reservations[reservation.id] = reservation
        return reservation

    def reserve_many(self, items: dict[str, int]) -> list[Reservation]:
        """Reserve several titles at once: all or nothing."""
        made: list[Reservation] = []
        try:
            for isbn, quantity in items.items():
                made.append(self.reserve(isbn, quantity))
        except StockError:
            for reservation in made:
                self.release(reservation.id)
            raise
        return made

    def release(self, reservation_id: int) -> Reservation:
        try:
            return self._reservations.pop(reservation_id)
        except KeyError:
            raise UnknownReservationError(reservation_id) from None

    def commit(self, reservation_id: int) -> Reservation:
        reservation = self.release(reservation_id)
        self._on_hand[reservation.isbn] -= reservation.quantity
        return reservation

    @property
    def open_reservations(self) -> list[Reservation]:
        return sorted(self._reservations.values(), key=lambda r: r.id)
