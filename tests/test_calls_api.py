"""Virtual numbers through the REST API: binding, the calls of a ticket, the call-record
callback, and the rule that no response to a unit carries the requester's number."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import assert_error
from minyi.calls.models import Binding, CallRecord, HandlerLine, VirtualNumber
from minyi.tickets.models import TicketEvent

A = "13800138000"
B = "13912345678"
POOL = ["075588880001", "075588880002"]
#: Every spelling of the requester's and the handler's numbers that must never reach a unit.
SECRETS = (A, "138-0013-8000", "+8613800138000", "8613800138000", B, "139-1234-5678", "13912340002")
SECRET = "callback-secret-for-tests"
CALLBACK = "/api/v1/calls/callback"


@pytest.fixture
def setup(new_ticket, users, settings):
    settings.MINYI_CALL_CALLBACK_SECRET = SECRET
    for number in POOL:
        VirtualNumber.objects.create(number=number)
    HandlerLine.objects.create(user=users["handler"], phone=B)
    HandlerLine.objects.create(user=users["leader"], phone="13912340002")
    return new_ticket("in_progress")


def bind_url(ticket) -> str:
    return f"/api/v1/calls/tickets/{ticket.pk}/bind"


def calls_url(ticket) -> str:
    return f"/api/v1/calls/tickets/{ticket.pk}"


def no_secrets(response) -> None:
    body = response.content.decode()
    for secret in SECRETS:
        assert secret not in body, (response.request["PATH_INFO"], secret)


def test_bind_returns_the_virtual_number_and_expiry_only(setup, api, travel):
    travel("2026-12-01T10:00")
    response = api("post", bind_url(setup), "handler")
    assert response.status_code == 200, response.content
    assert response.json() == {"number": POOL[0], "expires_at": "2026-12-01T10:30:00+08:00"}
    no_secrets(response)
    again = api("post", bind_url(setup), "handler")
    assert again.json() == response.json()
    assert Binding.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        (None, 401, "not_authenticated"),
        ("dispatcher", 403, "role_not_allowed"),
        ("supervisor", 403, "role_not_allowed"),
        ("other_handler", 404, "ticket_not_found"),
    ],
)
def test_bind_refusals(setup, api, unchanged, who, status, code):
    with unchanged(setup):
        assert_error(api("post", bind_url(setup), who), status, code)
    assert Binding.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ("no_consent", 403, "contact_not_allowed"),
        ("no_line", 409, "no_handler_phone"),
        ("no_pool", 409, "no_free_number"),
    ],
)
def test_bind_refusals_of_the_ticket(setup, api, users, unchanged, change, status, code):
    if change == "no_consent":
        setup.__class__.objects.filter(pk=setup.pk).update(contact_allowed=False)
    elif change == "no_line":
        HandlerLine.objects.filter(user=users["handler"]).delete()
    else:
        VirtualNumber.objects.all().delete()
    with unchanged(setup):
        response = api("post", bind_url(setup), "handler")
    assert_error(response, status, code)
    no_secrets(response)


def test_bind_on_a_closed_ticket(new_ticket, api, users, unchanged):
    HandlerLine.objects.create(user=users["handler"], phone=B)
    VirtualNumber.objects.create(number=POOL[0])
    ticket = new_ticket("closed")
    with unchanged(ticket):
        assert_error(api("post", bind_url(ticket), "handler"), 409, "invalid_state")


def test_the_calls_of_a_ticket(setup, api, travel):
    travel("2026-12-01T10:00")
    empty = api("get", calls_url(setup), "handler")
    assert empty.json() == {"binding": None, "can_call": True, "refusal": None, "calls": []}
    api("post", bind_url(setup), "handler")
    travel("2026-12-01T10:05")
    callback = {
        "call_id": "c-1", "number": POOL[0], "caller": B, "started_at": "2026-12-01T10:05:00",
        "answered_at": "2026-12-01T10:05:10", "ended_at": "2026-12-01T10:07:10",
    }
    assert api("post", CALLBACK, None, callback, HTTP_X_MINYI_CALLBACK_SECRET=SECRET).status_code == 200
    response = api("get", calls_url(setup), "handler")
    (call,) = response.json()["calls"]
    assert call["direction"] == "b_to_a" and call["caller"] == "handler" and call["result"] == "answered"
    assert call["duration_seconds"] == 120
    assert call["started_at"] == "2026-12-01T10:05:00+08:00"
    assert response.json()["binding"] == {"number": POOL[0], "expires_at": "2026-12-01T10:30:00+08:00"}
    no_secrets(response)
    # The leader sees the calls, but has no binding of their own yet.
    leader = api("get", calls_url(setup), "leader").json()
    assert leader["binding"] is None and leader["can_call"] is True and len(leader["calls"]) == 1
    # Platform roles read the calls; they do not call.
    dispatcher = api("get", calls_url(setup), "dispatcher").json()
    assert (dispatcher["can_call"], dispatcher["refusal"], len(dispatcher["calls"])) == (False, "role_not_allowed", 1)
    assert_error(api("get", calls_url(setup), "other_handler"), 404, "ticket_not_found")
    # An expired binding is no longer shown.
    travel("2026-12-01T10:31")
    assert api("get", calls_url(setup), "handler").json()["binding"] is None


def test_no_response_to_a_unit_carries_the_requesters_number(setup, api, travel):
    """Everything a handler or leader reads about a ticket with calls on it."""
    travel("2026-12-01T10:00")
    for who in ("handler", "leader"):
        no_secrets(api("post", bind_url(setup), who))
    api("post", CALLBACK, None, {
        "call_id": "c-9", "number": POOL[0], "caller": A, "started_at": "2026-12-01T10:01:00",
        "ended_at": "2026-12-01T10:02:00", "duration_seconds": 60,
    }, HTTP_X_MINYI_CALLBACK_SECRET=SECRET)
    for who in ("handler", "leader"):
        for path in (
            calls_url(setup), f"/api/v1/tickets/{setup.pk}", f"/api/v1/tickets/{setup.pk}/events",
            "/api/v1/tickets", f"/api/v1/tickets?q={setup.number}",
        ):
            response = api("get", path, who)
            assert response.status_code == 200, (path, response.content)
            no_secrets(response)
    kinds = set(TicketEvent.objects.filter(ticket=setup).values_list("kind", flat=True))
    assert {"call_bound", "call_ended"} <= kinds


# --- the callback ------------------------------------------------------------------------------------


def carrier_call(**fields):
    return {
        "call_id": "carrier-1", "number": "+86 755 8888 0001", "caller": "+86 138 0013 8000",
        "started_at": "2026-12-01T10:05:00+08:00", "ended_at": "2026-12-01T10:06:00+08:00",
        "duration_seconds": 45, **fields,
    }


@pytest.mark.parametrize("header", [None, "", "wrong", SECRET + "x"])
def test_the_callback_needs_the_secret(setup, api, travel, header):
    travel("2026-12-01T10:00")
    api("post", bind_url(setup), "handler")
    extra = {} if header is None else {"HTTP_X_MINYI_CALLBACK_SECRET": header}
    response = api("post", CALLBACK, None, carrier_call(), **extra)
    assert response.status_code == 401
    assert response.json()["code"] in {"not_authenticated", "invalid_secret"}
    assert CallRecord.objects.count() == 0


def test_without_a_configured_secret_every_callback_is_refused(setup, api, settings):
    settings.MINYI_CALL_CALLBACK_SECRET = ""
    response = api("post", CALLBACK, None, carrier_call(), HTTP_X_MINYI_CALLBACK_SECRET="")
    assert response.status_code == 401
    assert CallRecord.objects.count() == 0


def test_a_staff_token_is_not_a_callback_secret(setup, api):
    assert api("post", CALLBACK, "dispatcher", carrier_call()).status_code == 401


def test_the_callback_records_once(setup, api, travel):
    travel("2026-12-01T10:00")
    api("post", bind_url(setup), "handler")
    first = api("post", CALLBACK, None, carrier_call(), HTTP_X_MINYI_CALLBACK_SECRET=SECRET)
    assert first.status_code == 200, first.content
    assert first.json() == {"id": CallRecord.objects.get().pk, "recorded": True}
    again = api("post", CALLBACK, None, carrier_call(duration_seconds=99), HTTP_X_MINYI_CALLBACK_SECRET=SECRET)
    assert again.json() == {"id": first.json()["id"], "recorded": False}
    record = CallRecord.objects.get()
    assert (record.direction, record.duration_seconds, record.started_at) == (
        "a_to_b", 45, dt.datetime(2026, 12, 1, 2, 5, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"caller": "13000000000"}, 404, "binding_not_found"),
        ({"call_id": ""}, 422, "invalid"),
        ({"ended_at": "yesterday"}, 422, "invalid"),
        ({"ended_at": "2026-12-01T10:00:00+08:00"}, 422, "invalid_times"),
        ({"result": "exploded"}, 422, "invalid_result"),
    ],
)
def test_callback_refusals(setup, api, travel, fields, status, code):
    travel("2026-12-01T10:00")
    api("post", bind_url(setup), "handler")
    response = api("post", CALLBACK, None, carrier_call(**fields), HTTP_X_MINYI_CALLBACK_SECRET=SECRET)
    assert_error(response, status, code)
    assert CallRecord.objects.count() == 0


def test_naive_callback_times_are_shanghai_time(setup, api, travel):
    travel("2026-12-01T10:00")
    api("post", bind_url(setup), "handler")
    api("post", CALLBACK, None, carrier_call(started_at="2026-12-01T10:05:00", ended_at="2026-12-01T10:06:00"),
        HTTP_X_MINYI_CALLBACK_SECRET=SECRET)
    assert CallRecord.objects.get().started_at == dt.datetime(2026, 12, 1, 2, 5, tzinfo=dt.UTC)


def test_the_openapi_document_lists_the_calls_endpoints(api_client, db):
    schema = api_client.get("/api/v1/openapi.json").json()
    assert set(schema["paths"]["/api/v1/calls/tickets/{ticket_id}/bind"]) == {"post"}
    assert set(schema["paths"]["/api/v1/calls/tickets/{ticket_id}"]) == {"get"}
    callback = schema["paths"]["/api/v1/calls/callback"]["post"]
    assert callback["security"] == [{"CallbackSecret": []}]
    assert schema["components"]["securitySchemes"]["CallbackSecret"] == {
        "type": "apiKey", "in": "header", "name": "X-Minyi-Callback-Secret",
    }
    responses = schema["paths"]["/api/v1/calls/tickets/{ticket_id}/bind"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "502"} <= set(responses)
