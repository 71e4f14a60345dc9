"""The requester's side: following a ticket with number and code, rating it, rate limits."""

from __future__ import annotations

import pytest

from conftest import assert_error, submission_data
from minyi.org.models import StaffProfile
from minyi.tickets.models import Ticket, TicketEvent, TicketRating

REPLY = "已安排维保单位更换电梯主板，并于本周五前完成检测。"


def track(client, ticket, code=None, **extra):
    return client.get(f"/api/v1/track/{ticket.number}", {"code": ticket.access_code if code is None else code}, **extra)


def rate(client, ticket, rating, code=None, comment=""):
    return client.post(
        f"/api/v1/track/{ticket.number}/rate",
        {"rating": rating, "code": ticket.access_code if code is None else code, "comment": comment},
        content_type="application/json",
    )


def test_track_a_new_ticket(api_client, new_ticket):
    ticket = new_ticket()
    response = track(api_client, ticket)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["number"] == ticket.number
    assert (body["status"], body["type"], body["title"]) == ("submitted", "complaint", "小区电梯经常故障")
    assert (body["lead_unit"], body["replies"], body["rating"], body["can_rate"]) == (None, [], None, False)
    assert [(e["kind"], e["to_status"], e["unit"], e["note"]) for e in body["timeline"]] == [
        ("submit", "submitted", None, "")
    ]
    assert set(body) == {
        "number", "status", "status_label", "type", "title", "created_at", "due_at", "lead_unit",
        "replies", "rating", "can_rate", "timeline", "merged_into", "rating_due_at",
    }


def test_the_code_is_forgiving_about_case_and_spaces(api_client, new_ticket):
    ticket = new_ticket()
    code = ticket.access_code
    spaced = f" {code[:5].lower()} {code[5:]} "
    assert track(api_client, ticket, code=spaced).status_code == 200


def test_the_public_timeline_has_no_staff_names_and_no_internal_notes(api, api_client, new_ticket, users, org):
    StaffProfile.objects.filter(user=users["handler"]).update(display_name="王五")
    ticket = new_ticket("returned")
    api("post", f"/api/v1/tickets/{ticket.pk}/dispatch", "dispatcher",
        {"unit_id": org["housing"].pk, "note": "内部：请优先处理，诉求人多次来电"})
    api("post", f"/api/v1/tickets/{ticket.pk}/sign", "handler", {"note": "内部签收备注"})
    api("post", f"/api/v1/tickets/{ticket.pk}/reply", "handler", {"text": REPLY, "outcome": "resolved"})
    assert TicketEvent.objects.filter(ticket=ticket, actor_label="王五").count() == 2

    response = track(api_client, ticket)
    body = response.json()
    assert [(e["kind"], e["to_status"], e["unit"], e["note"]) for e in body["timeline"]] == [
        ("submit", "submitted", None, ""),
        ("dispatch", "dispatched", "深圳市住房和建设局", ""),
        ("dispatch", "dispatched", "深圳市住房和建设局", ""),
        ("sign", "in_progress", "深圳市住房和建设局", ""),
        ("reply", "replied", "深圳市住房和建设局", REPLY),
    ]
    assert (body["status"], body["can_rate"], body["lead_unit"]) == ("replied", True, "深圳市住房和建设局")
    assert [(r["text"], r["unit"]) for r in body["replies"]] == [(REPLY, "深圳市住房和建设局")]
    text = response.content.decode("unicode_escape")
    for secret in ["王五", "agent", "dispatcher", "handler", "不属于本单位职责", "not_our_remit", "内部", "return"]:
        assert secret not in text, secret


@pytest.mark.parametrize(
    ("number", "code"),
    [("right", "WRONGCODE2"), ("20200101-000001", "right"), ("right", "2345")],
)
def test_wrong_number_or_code(api_client, new_ticket, number, code):
    ticket = new_ticket()
    number = ticket.number if number == "right" else number
    code = ticket.access_code if code == "right" else code
    response = api_client.get(f"/api/v1/track/{number}", {"code": code})
    assert_error(response, 404, "track_not_found")


def test_wrong_number_and_wrong_code_answer_alike(api_client, new_ticket):
    ticket = new_ticket()
    wrong_code = api_client.get(f"/api/v1/track/{ticket.number}", {"code": "WRONGCODE2"}).json()
    wrong_number = api_client.get("/api/v1/track/20200101-000001", {"code": ticket.access_code}).json()
    assert wrong_code == wrong_number


def test_the_code_is_required(api_client, new_ticket):
    ticket = new_ticket()
    assert_error(api_client.get(f"/api/v1/track/{ticket.number}"), 422, "invalid", "code")


# --- rating -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating", "status"),
    [("satisfied", "closed"), ("basically_satisfied", "closed"), ("dissatisfied", "under_review")],
)
def test_rate(api_client, new_ticket, rating, status):
    ticket = new_ticket("replied")
    response = rate(api_client, ticket, rating, comment="处理及时")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["rating"], body["can_rate"]) == (status, rating, False)
    assert body["timeline"][-1]["kind"] == "rate"
    assert body["timeline"][-1]["note"] == "处理及时"
    stored = TicketRating.objects.get(ticket=ticket)
    assert (stored.rating, stored.recorded_by, stored.comment) == (rating, None, "处理及时")
    event = TicketEvent.objects.filter(ticket=ticket).last()
    assert (event.actor, event.actor_role, event.from_status, event.to_status) == (None, "requester", "replied", status)


@pytest.mark.parametrize("first", ["satisfied", "dissatisfied"])
def test_rating_twice_is_refused(api_client, new_ticket, unchanged, first):
    ticket = new_ticket("replied")
    assert rate(api_client, ticket, first).status_code == 200
    with unchanged(ticket):
        assert_error(rate(api_client, ticket, "satisfied"), 409, "already_rated")


@pytest.mark.parametrize("status", ["submitted", "dispatched", "in_progress"])
def test_rating_before_the_reply_is_refused(api_client, new_ticket, unchanged, status):
    ticket = new_ticket(status)
    with unchanged(ticket):
        assert_error(rate(api_client, ticket, "satisfied"), 409, "invalid_state")


def test_rating_with_a_wrong_code(api_client, new_ticket, unchanged):
    ticket = new_ticket("replied")
    with unchanged(ticket):
        assert_error(rate(api_client, ticket, "dissatisfied", code="WRONGCODE2"), 404, "track_not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [({"rating": "great", "code": "X"}, "rating"), ({"rating": "satisfied"}, "code"), ({"code": "X"}, "rating")],
)
def test_rating_with_invalid_input(api_client, new_ticket, unchanged, body, field):
    ticket = new_ticket("replied")
    if body.get("code") == "X":
        body = {**body, "code": ticket.access_code}
    with unchanged(ticket):
        response = api_client.post(f"/api/v1/track/{ticket.number}/rate", body, content_type="application/json")
        assert_error(response, 422, "invalid", field)


def test_a_long_comment_is_refused(api_client, new_ticket, unchanged):
    ticket = new_ticket("replied")
    with unchanged(ticket):
        assert_error(rate(api_client, ticket, "satisfied", comment="长" * 1001), 422, "too_long", "comment")


def test_the_requester_follows_an_anonymous_ticket_to_the_end(api_client, api, org):
    created = api_client.post(
        "/api/v1/tickets", submission_data(org, anonymous=True, contact_allowed=False), content_type="application/json"
    ).json()
    ticket = Ticket.objects.get(pk=created["id"])
    ticket.access_code = created["access_code"]
    for name, who, body in [
        ("dispatch", "dispatcher", {"unit_id": org["housing"].pk}),
        ("sign", "handler", {}),
        ("reply", "handler", {"text": REPLY, "outcome": "resolved"}),
    ]:
        assert api("post", f"/api/v1/tickets/{ticket.pk}/{name}", who, body).status_code == 200
    assert track(api_client, ticket).json()["can_rate"] is True
    assert rate(api_client, ticket, "satisfied").json()["status"] == "closed"


# --- rate limits on anonymous endpoints -------------------------------------------------------


@pytest.fixture
def limit_3(settings, one_rate_window):
    settings.MINYI_PUBLIC_RATE_LIMIT = 3


def test_tracking_is_rate_limited(api_client, new_ticket, limit_3):
    ticket = new_ticket()
    for _ in range(3):
        assert track(api_client, ticket).status_code == 200
    assert_error(track(api_client, ticket), 429, "rate_limited")
    # Another client is counted apart.
    assert track(api_client, ticket, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_guessing_codes_is_rate_limited(api_client, new_ticket, limit_3):
    ticket = new_ticket()
    for guess in ["AAAAAAAAAA", "BBBBBBBBBB", "CCCCCCCCCC"]:
        assert_error(track(api_client, ticket, code=guess), 404, "track_not_found")
    # The fourth try fails even with the right code.
    assert_error(track(api_client, ticket), 429, "rate_limited")


def test_public_submission_is_rate_limited(api_client, org, limit_3):
    for _ in range(3):
        assert api_client.post("/api/v1/tickets", submission_data(org), content_type="application/json").status_code == 201
    response = api_client.post("/api/v1/tickets", submission_data(org), content_type="application/json")
    assert_error(response, 429, "rate_limited")
    assert Ticket.objects.count() == 3


def test_staff_intake_is_not_rate_limited(api, org, limit_3):
    for _ in range(4):
        assert api("post", "/api/v1/tickets", "agent", submission_data(org)).status_code == 201


def test_rating_is_rate_limited(api_client, new_ticket, unchanged, limit_3):
    ticket = new_ticket("replied")
    for _ in range(3):
        assert_error(rate(api_client, ticket, "satisfied", code="WRONGCODE2"), 404, "track_not_found")
    with unchanged(ticket):
        assert_error(rate(api_client, ticket, "satisfied"), 429, "rate_limited")


def test_a_forwarded_address_is_not_trusted_by_default(api_client, new_ticket, limit_3):
    ticket = new_ticket()
    for i in range(3):
        assert track(api_client, ticket, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code == 200
    assert_error(track(api_client, ticket, HTTP_X_FORWARDED_FOR="203.0.113.99"), 429, "rate_limited")


def test_a_forwarded_address_is_used_behind_a_trusted_proxy(api_client, new_ticket, limit_3, settings):
    settings.MINYI_TRUST_X_FORWARDED_FOR = True
    ticket = new_ticket()
    for i in range(4):
        assert track(api_client, ticket, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}, 10.0.0.1").status_code == 200
