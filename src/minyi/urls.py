from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from minyi.api.app import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("minyi.web.urls")),
]
# Uploaded attachments are never served as media: only through views that check access.
