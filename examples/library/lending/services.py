"""Lending and returning, with the rules that need the database."""

from datetime import date
from decimal import Decimal

from django.db import transaction

from lending import rules
from lending.models import Book, Loan, Member


class LendingError(Exception):
    """A loan the rules do not allow."""


@transaction.atomic
def lend(book: Book, member: Member, today: date) -> Loan:
    """Lend a copy of ``book`` to ``member``, due in the standard loan period."""
    # Lock the book's row: two desks lending its last copy at once must not both succeed.
    book = Book.objects.select_for_update().get(pk=book.pk)
    if book.available() <= 0:
        message = f"no copy of {book.title!r} is on the shelf"
        raise LendingError(message)
    open_loans = member.loans.filter(returned_on__isnull=True)
    if open_loans.count() >= member.max_loans:
        message = f"{member.name} already has {member.max_loans} books"
        raise LendingError(message)
    if any(loan.is_overdue(today) for loan in open_loans):
        message = f"{member.name} has an overdue book"
        raise LendingError(message)
    return Loan.objects.create(
        book=book, member=member, lent_on=today, due_on=rules.due_date(today)
    )


def give_back(loan: Loan, today: date) -> Decimal:
    """Return a loan; the late fee it owes."""
    if not loan.is_open():
        message = f"loan {loan.pk} was returned on {loan.returned_on}"
        raise LendingError(message)
    loan.returned_on = today
    loan.save(update_fields=["returned_on"])
    return rules.late_fee(loan.due_on, today)
