"""The site's URLs: the admin and the lending API."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("lending.urls")),
]
