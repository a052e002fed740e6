"""Shared fixtures: a few books and members."""

import pytest


@pytest.fixture
def dune(db):
    from lending.models import Book

    return Book.objects.create(isbn="9780441172719", title="Dune", author="Frank Herbert", copies=2)


@pytest.fixture
def ada(db):
    from lending.models import Member

    return Member.objects.create(name="Ada Lovelace", email="ada@example.org", max_loans=2)


@pytest.fixture
def alan(db):
    from lending.models import Member

    return Member.objects.create(name="Alan Turing", email="alan@example.org")
