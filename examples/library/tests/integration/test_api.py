"""The JSON API and the admin, through Django's test client."""

from datetime import date

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import TestCase
from django.urls import reverse

from lending.models import Book, Member
from lending.services import lend


def test_books_lists_the_copies_on_the_shelf(client, dune, ada):
    lend(dune, ada, date(2026, 3, 2))
    response = client.get(reverse("books"))
    assert response.status_code == 200
    assert response.json() == {
        "books": [{"isbn": "9780441172719", "title": "Dune", "available": 1}]
    }


def test_member_loans(client, dune, ada):
    lend(dune, ada, date(2026, 3, 2))
    response = client.get(reverse("member-loans", args=[ada.pk]))
    assert response.json() == {
        "member": "Ada Lovelace",
        "loans": [{"title": "Dune", "due": "2026-03-23"}],
    }


def test_unknown_member_is_404(client, db):
    assert client.get(reverse("member-loans", args=[999])).status_code == 404


def test_admin_lists_books(admin_client, dune):
    response = admin_client.get("/admin/lending/book/")
    assert response.status_code == 200
    assert b"Dune (Frank Herbert)" in response.content


class PermissionsTests(TestCase):
    """The migrations' post-migrate signal made the content types and permissions."""

    def test_lending_permissions_exist(self):
        kinds = ContentType.objects.filter(app_label="lending").values_list("model", flat=True)
        assert sorted(kinds) == ["book", "loan", "member"]
        assert Permission.objects.filter(codename="add_loan").exists()

    def test_a_member_made_here_is_rolled_back(self):
        Member.objects.create(name="Grace Hopper", email="grace@example.org")
        assert Member.objects.count() == 1

    def test_no_member_is_left_from_the_other_test(self):
        assert not Member.objects.filter(email="grace@example.org").exists()
        assert Book.objects.count() == 0
