"""Code that commits: transactional_db and TransactionTestCase (tables emptied after each)."""

from datetime import date

import pytest
from django.db import transaction
from django.test import TransactionTestCase

from lending.models import Book, Loan, Member
from lending.services import lend


@pytest.mark.django_db(transaction=True)
def test_a_failed_lend_rolls_back_as_a_whole():
    book = Book.objects.create(isbn="9780000000002", title="Solo", author="Anon", copies=1)
    member = Member.objects.create(name="Bea", email="bea@example.org")

    def lend_then_fail() -> None:
        with transaction.atomic():
            lend(book, member, date(2026, 3, 2))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        lend_then_fail()
    assert Loan.objects.count() == 0


class CommittedLoans(TransactionTestCase):
    """Each test commits for real; Django empties the tables after it."""

    def test_commit_one_loan(self):
        book = Book.objects.create(isbn="9780000000003", title="Kept", author="Anon")
        member = Member.objects.create(name="Cy", email="cy@example.org")
        lend(book, member, date(2026, 3, 2))
        assert Loan.objects.count() == 1

    def test_tables_are_empty_again(self):
        assert Loan.objects.count() == 0
        assert Book.objects.count() == 0
