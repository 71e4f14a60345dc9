"""Virtual numbers in the admin: the pool with numbers added in bulk, handlers' lines, and
bindings that show their parties masked only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from minyi.calls import actions
from minyi.calls.admin import parse_numbers
from minyi.calls.models import HandlerLine, VirtualNumber

A, B = "13800138000", "13912345678"
BULK = "/admin/calls/virtualnumber/bulk-add/"


@pytest.fixture
def admin_client(db):
    User.objects.create_superuser("root", password="pw-for-tests-1")
    client = Client()
    client.login(username="root", password="pw-for-tests-1")
    return client


def test_parse_numbers():
    assert parse_numbers("075588880001\n0755-8888-0002, +86 755 88880003") == [
        "075588880001", "075588880002", "075588880003",
    ]
    assert parse_numbers("075588880008 - 075588880011\n075588880009") == [
        "075588880008", "075588880009", "075588880010", "075588880011",
    ]


@pytest.mark.parametrize("text", ["", "12", "075588880011-075588880008", "0755888800-075588880011", "07550000-07559999"])
def test_parse_numbers_refuses(text):
    from django import forms

    with pytest.raises(forms.ValidationError):
        parse_numbers(text)


def test_bulk_add(admin_client):
    VirtualNumber.objects.create(number="075588880001")
    page = admin_client.get(BULK)
    assert page.status_code == 200
    assert 'name="numbers"' in page.content.decode()
    response = admin_client.post(BULK, {"numbers": "075588880001-075588880005", "provider": "local", "notes": "一号段"})
    assert response.status_code == 302
    assert sorted(VirtualNumber.objects.values_list("number", flat=True)) == [f"07558888000{i}" for i in range(1, 6)]
    assert VirtualNumber.objects.get(number="075588880005").notes == "一号段"
    listing = admin_client.get("/admin/calls/virtualnumber/")
    assert listing.status_code == 200
    assert BULK in listing.content.decode()


def test_bulk_add_shows_errors(admin_client):
    response = admin_client.post(BULK, {"numbers": "075588880009-075588880001", "provider": "local"})
    assert response.status_code == 200
    assert VirtualNumber.objects.count() == 0


def test_bindings_are_read_only_and_masked(admin_client, new_ticket, users, actors):
    VirtualNumber.objects.create(number="075588880001")
    HandlerLine.objects.create(user=users["handler"], phone=B)
    binding = actions.bind(actors["handler"], new_ticket("in_progress").pk)
    for path in ("/admin/calls/binding/", f"/admin/calls/binding/{binding.pk}/change/", "/admin/calls/handlerline/"):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert A not in body and B not in body, path
    assert "138****8000" in admin_client.get("/admin/calls/binding/").content.decode()
    assert admin_client.get("/admin/calls/binding/add/").status_code == 403
    assert admin_client.post(f"/admin/calls/binding/{binding.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_admin_keeps_a_handlers_line_normalised(admin_client, users):
    response = admin_client.post(
        "/admin/calls/handlerline/add/", {"user": users["handler"].pk, "phone": "+86 139-1234-5678"},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert HandlerLine.objects.get().phone == B
