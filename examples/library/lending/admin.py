"""The admin for books, members and loans."""

from django.contrib import admin

from lending.models import Book, Loan, Member

admin.site.register(Book)
admin.site.register(Member)
admin.site.register(Loan)
