"""Books, members and loans."""

from datetime import date

from django.db import models
from django.db.models import Q


class Book(models.Model):
    """A title the library holds, in one or more copies."""

    isbn = models.CharField(max_length=13, unique=True)
    title = models.CharField(max_length=200)
    author = models.CharField(max_length=200)
    copies = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return f"{self.title} ({self.author})"

    def available(self) -> int:
        """Copies on the shelf now."""
        return self.copies - self.loans.filter(returned_on__isnull=True).count()


class Member(models.Model):
    """Someone who may borrow books."""

    name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    max_loans = models.PositiveIntegerField(default=3)

    def __str__(self) -> str:
        return self.name


class Loan(models.Model):
    """One copy of a book lent to a member."""

    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="loans")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="loans")
    lent_on = models.DateField()
    due_on = models.DateField()
    returned_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__gt=models.F("lent_on")), name="due_after_lent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.book} to {self.member}"

    def is_open(self) -> bool:
        """Not returned yet."""
        return self.returned_on is None

    def is_overdue(self, today: date) -> bool:
        """Still out after its due date."""
        return self.is_open() and today > self.due_on
