"""The lending app."""

from django.apps import AppConfig


class LendingConfig(AppConfig):
    """Books, members and loans."""

    name = "lending"
    default_auto_field = "django.db.models.BigAutoField"
