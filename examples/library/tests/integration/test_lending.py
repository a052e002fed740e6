"""Lending and returning books, on PostgreSQL (pytest-django's db fixture)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError

from lending.models import Book, Loan, Member
from lending.services import LendingError, give_back, lend

TODAY = date(2026, 3, 2)


def test_lend_takes_a_copy_off_the_shelf(dune, ada):
    loan = lend(dune, ada, TODAY)
    assert loan.due_on == date(2026, 3, 23)
    assert dune.available() == 1


def test_the_last_copy_goes_once(dune, ada, alan):
    lend(dune, ada, TODAY)
    lend(dune, alan, TODAY)
    with pytest.raises(LendingError, match="no copy of 'Dune'"):
        lend(dune, ada, TODAY)


def test_a_member_borrows_at_most_max_loans(ada):
    books = [
        Book.objects.create(isbn=f"978000000000{n}", title=f"Book {n}", author="Anon")
        for n in range(3)
    ]
    lend(books[0], ada, TODAY)
    lend(books[1], ada, TODAY)
    with pytest.raises(LendingError, match="already has 2 books"):
        lend(books[2], ada, TODAY)


def test_an_overdue_book_blocks_new_loans(dune, alan):
    other = Book.objects.create(isbn="9780000000001", title="Other", author="Anon")
    lend(dune, alan, TODAY)
    with pytest.raises(LendingError, match="overdue"):
        lend(other, alan, date(2026, 4, 1))


def test_give_back_charges_late_days(dune, ada):
    loan = lend(dune, ada, TODAY)
    assert give_back(loan, date(2026, 3, 27)) == Decimal("1.00")
    assert dune.available() == 2
    with pytest.raises(LendingError, match="was returned on 2026-03-27"):
        give_back(loan, date(2026, 3, 28))


def test_isbn_is_unique(dune):
    with pytest.raises(IntegrityError):
        Book.objects.create(isbn=dune.isbn, title="Dune again", author="F. H.")


def test_due_date_must_follow_the_loan(dune, ada):
    with pytest.raises(IntegrityError, match="due_after_lent"):
        Loan.objects.create(book=dune, member=ada, lent_on=TODAY, due_on=TODAY)


@pytest.mark.parametrize("n", range(6))
def test_members_with_the_same_email_collide(db, n):
    # Every test starts from the migrated, empty tables: the same row in each one.
    Member.objects.create(name=f"Reader {n}", email="reader@example.org")
    assert Member.objects.filter(email="reader@example.org").count() == 1
