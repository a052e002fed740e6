"""URLs of the lending API."""

from django.urls import path

from lending import views

urlpatterns = [
    path("books/", views.books, name="books"),
    path("members/<int:member_id>/loans/", views.member_loans, name="member-loans"),
]
