"""Fixtures for the web pages: logged-in clients per role, and static files without a manifest."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    """Pages render `{% static %}`; the tests run without `collectstatic`'s manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def client_for(users):
    """`client_for("handler")`: a test client logged in as that user."""

    def login(name: str) -> Client:
        client = Client()
        client.force_login(users[name])
        return client

    return login
