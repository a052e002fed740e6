from __future__ import annotations

import pytest

from bookshop.domain.inventory import (
    InsufficientStockError,
    Inventory,
    StockError,
    UnknownReservationError,
)

ISBN_A = "9780306406157"
ISBN_B = "9780198526636"


@pytest.fixture
def inventory() -> Inventory:
    return Inventory({ISBN_A: 5, ISBN_B: 2})


def test_reserving_reduces_availability_not_stock(inventory: Inventory) -> None:
    inventory.reserve(ISBN_A, 3)
    assert inventory.on_hand(ISBN_A) == 5
    assert inventory.reserved(ISBN_A) == 3
    assert inventory.available(ISBN_A) == 2


def test_cannot_reserve_more_than_available(inventory: Inventory) -> None:
    inventory.reserve(ISBN_A, 4)
    with pytest.raises(InsufficientStockError) as excinfo:
        inventory.reserve(ISBN_A, 2)
    assert (excinfo.value.requested, excinfo.value.available) == (2, 1)


def test_commit_removes_copies_from_stock(inventory: Inventory) -> None:
    reservation = inventory.reserve(ISBN_A, 2)
    inventory.commit(reservation.id)
    assert inventory.on_hand(ISBN_A) == 3
    assert inventory.available(ISBN_A) == 3
    assert inventory.open_reservations == []


def test_release_makes_copies_available_again(inventory: Inventory) -> None:
    reservation = inventory.reserve(ISBN_B, 2)
    assert inventory.available(ISBN_B) == 0
    inventory.release(reservation.id)
    assert inventory.available(ISBN_B) == 2


def test_unknown_reservation(inventory: Inventory) -> None:
    reservation = inventory.reserve(ISBN_B, 1)
    inventory.release(reservation.id)
    with pytest.raises(UnknownReservationError):
        inventory.release(reservation.id)
    with pytest.raises(UnknownReservationError):
        inventory.commit(999)


def test_reserve_many_is_all_or_nothing(inventory: Inventory) -> None:
    with pytest.raises(InsufficientStockError):
        inventory.reserve_many({ISBN_A: 1, ISBN_B: 3})
    assert inventory.open_reservations == []
    assert inventory.available(ISBN_A) == 5
    made = inventory.reserve_many({ISBN_A: 1, ISBN_B: 2})
    assert [r.isbn for r in made] == [ISBN_A, ISBN_B]


def test_write_off_cannot_touch_reserved_copies(inventory: Inventory) -> None:
    inventory.reserve(ISBN_B, 1)
    with pytest.raises(InsufficientStockError):
        inventory.write_off(ISBN_B, 2)
    inventory.write_off(ISBN_B, 1)
    assert inventory.on_hand(ISBN_B) == 1


@pytest.mark.parametrize("method", ["receive", "reserve", "write_off"])
@pytest.mark.parametrize("quantity", [0, -1])
def test_quantities_must_be_positive(inventory: Inventory, method: str, quantity: int) -> None:
    with pytest.raises(StockError, match="at least one"):
        getattr(inventory, method)(ISBN_A, quantity)


def test_unknown_isbn_has_nothing(inventory: Inventory) -> None:
    assert inventory.available("9791034304431") == 0
