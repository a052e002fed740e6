"""The lending API: JSON views."""

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404

from lending.models import Book, Member


def books(request: HttpRequest) -> JsonResponse:
    """Every book with the copies on the shelf."""
    return JsonResponse(
        {
            "books": [
                {"isbn": b.isbn, "title": b.title, "available": b.available()}
                for b in Book.objects.all()
            ]
        }
    )


def member_loans(request: HttpRequest, member_id: int) -> JsonResponse:
    """A member's open loans."""
    member = get_object_or_404(Member, pk=member_id)
    loans = member.loans.filter(returned_on__isnull=True).select_related("book")
    return JsonResponse(
        {
            "member": member.name,
            "loans": [{"title": loan.book.title, "due": loan.due_on.isoformat()} for loan in loans],
        }
    )
