"""The console's signed-in user and roles are kept per process for a few seconds
(`org.backends`); any change to the user, their groups or profile is seen at once here."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minyi.org import backends
from minyi.org.models import Role


@pytest.fixture
def cached(settings):
    settings.MINYI_TOKEN_CACHE_SECONDS = 30
    backends._users.clear()
    yield
    backends._users.clear()


def user_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/console/")
    assert response.status_code == 200
    return sum('FROM "auth_user"' in q["sql"] for q in ctx.captured_queries)


def test_the_user_and_roles_are_read_once(client, users, cached):
    client.force_login(users["handler"])
    assert user_queries(client) >= 1
    assert user_queries(client) == 0


def test_a_deactivated_user_is_signed_out_at_once(client, users, cached):
    client.force_login(users["handler"])
    client.get("/console/")
    handler = users["handler"]
    handler.is_active = False
    handler.save()
    assert client.get("/console/").status_code == 302


def test_a_changed_role_is_seen_at_once(client, users, cached):
    client.force_login(users["handler"])
    client.get("/console/")
    backend = backends.CachedModelBackend()
    assert backend.get_user(users["handler"].pk)._minyi_actor.roles == {Role.HANDLER}
    handler = users["handler"]
    handler.groups.clear()
    handler.groups.add(Group.objects.get_or_create(name=Role.SUPERVISOR)[0])
    assert backend.get_user(users["handler"].pk)._minyi_actor.roles == {Role.SUPERVISOR}


def test_requests_do_not_share_the_user_object(client, users, cached):
    client.force_login(users["handler"])
    client.get("/console/")
    first = backends.CachedModelBackend().get_user(users["handler"].pk)
    first.note_for_this_request = "x"
    second = backends.CachedModelBackend().get_user(users["handler"].pk)
    assert first is not second and not hasattr(second, "note_for_this_request")
