"""Closing the loop through the API (issue 5): reply → rating → review → redo with a shorter
deadline → the leader approves the reply → rating through the link → closed; the rating window;
return visits; refusals change nothing."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from conftest import assert_error
from minyi.feedback.actions import close_unrated
from minyi.feedback.links import read_token
from minyi.feedback.models import Delivery, RatingReview
from minyi.feedback.stats import unit_feedback
from minyi.sla import services
from minyi.sla.policies import redo_working_days
from minyi.tickets.models import Reply, TicketEvent

REPLY = "已联系物业公司，电梯主板已于11月3日更换并通过特种设备检测，恢复正常运行。"
REDO_REPLY = "经单位领导牵头复查，已责成物业公司于11月10日前完成小区全部电梯的维保检测，并加装远程监测装置。"
EMAIL = "zhang.san@example.com"


def track(client, ticket):
    return client.get(f"/api/v1/track/{ticket.number}", {"code": ticket.access_code})


def rate(client, ticket, rating, comment=""):
    return client.post(
        f"/api/v1/track/{ticket.number}/rate", {"rating": rating, "code": ticket.access_code, "comment": comment},
        content_type="application/json",
    )


def link_of(message) -> str:
    found = re.search(r"/rate/(\S+)", message.body)
    assert found, message.body
    return found.group(1)


@pytest.fixture
def replied(api, new_ticket, travel, django_capture_on_commit_callbacks):
    """A complaint handled by the housing bureau, replied on Monday 2 November 2026 10:00."""
    travel("2026-11-02T10:00")
    ticket = new_ticket("in_progress", requester_email=EMAIL)
    with django_capture_on_commit_callbacks(execute=True):
        response = api("post", f"/api/v1/tickets/{ticket.pk}/reply", "handler", {"text": REPLY, "outcome": "resolved"})
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    return ticket


@pytest.mark.parametrize(
    ("limit", "fraction", "days"),
    [(15, 0.5, 8), (10, 0.5, 5), (2, 0.5, 1), (1, 0.5, 1), (0, 0.5, 1), (15, 0.1, 2), (15, 1.0, 15),
     (15, 0.0, 1), (15, 2.0, 15)],
)
def test_a_redo_gets_a_fraction_of_the_limit_at_least_one_working_day(limit, fraction, days):
    assert redo_working_days(limit, fraction) == days


def test_the_reply_states_its_outcome_and_reaches_the_requester(replied, api, api_client):
    body = api("get", f"/api/v1/tickets/{replied.pk}", "supervisor").json()
    assert body["status"] == "replied"
    assert [(r["outcome"], r["outcome_name"], r["state"], r["round"]) for r in body["replies"]] == [
        ("resolved", "已解决", "published", 0)
    ]
    # The rating window: five working days from the reply, to the end of that day.
    assert replied.rating_due_at == services.deadline_for(replied.replied_at, 5).at
    tracked = track(api_client, replied).json()
    assert [(r["text"], r["outcome"]) for r in tracked["replies"]] == [(REPLY, "resolved")]
    assert tracked["can_rate"] is True
    # Told by SMS and e-mail, once each, with a one-use rating link.
    assert sorted(Delivery.objects.filter(ticket=replied).values_list("channel", "state")) == [
        ("email", "sent"), ("sms", "sent")
    ]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [EMAIL]
    assert replied.number in message.subject
    assert REPLY in message.body
    # The link carries this ticket and reply (signed with a timestamp: not compared as text).
    assert read_token(link_of(message)) == (replied.pk, replied.replies.get().pk)


def test_delivering_twice_sends_once(replied):
    from minyi.feedback.delivery import deliver_reply

    assert deliver_reply.call_local(replied.replies.get().pk) == {"sent": 0, "failed": 0}
    assert len(mail.outbox) == 1


def test_the_whole_loop(replied, api, api_client, travel, unchanged, django_capture_on_commit_callbacks):
    first_link = link_of(mail.outbox[0])
    # The requester is dissatisfied: the ticket waits for review.
    assert rate(api_client, replied, "dissatisfied", "电梯仍然经常停运").json()["status"] == "under_review"

    # A handler may not judge it; a supervisor finds it reasonable: redo.
    url = f"/api/v1/tickets/{replied.pk}/review"
    with unchanged(replied):
        assert_error(api("post", url, "handler", {"decision": "redo", "explanation": "x"}), 403, "role_not_allowed")
        assert_error(api("post", url, "supervisor", {"decision": "redo", "explanation": " "}), 422, "required", "explanation")
    now = travel("2026-11-03T09:00")
    with django_capture_on_commit_callbacks(execute=True):
        body = api("post", url, "supervisor", {"decision": "redo", "explanation": "诉求合理，电梯问题未根本解决"}).json()
    assert (body["status"], body["redo_count"], body["escalated"], body["lead_unit"]) == (
        "in_progress", 1, True, "深圳市住房和建设局"
    )
    # A shorter deadline: half the 15 working days, rounded up, from the decision.
    redo_due = services.deadline_for(now, 8).at
    ticket = replied
    ticket.refresh_from_db()
    assert (ticket.unit_due_at, ticket.due_at) == (redo_due, redo_due)
    assert [(r["decision"], r["round"]) for r in body["reviews"]] == [("redo", 1)]
    assert RatingReview.objects.get(ticket=ticket).unit.name == "深圳市住房和建设局"

    # The handler's reply waits for the leader; the requester sees nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        body = api("post", f"/api/v1/tickets/{ticket.pk}/reply", "handler", {"text": REDO_REPLY, "outcome": "resolved"}).json()
    assert body["status"] == "pending_approval"
    assert [r["state"] for r in body["replies"]] == ["published", "pending_approval"]
    assert [r["text"] for r in track(api_client, ticket).json()["replies"]] == [REPLY]
    assert len(mail.outbox) == 1
    # The handler cannot approve it; the leader does.
    ticket.refresh_from_db()
    with unchanged(ticket):
        assert_error(api("post", f"/api/v1/tickets/{ticket.pk}/approve_reply", "handler"), 403, "role_not_allowed")
        assert_error(api("post", f"/api/v1/tickets/{ticket.pk}/approve_reply", "other_handler"), 404, "ticket_not_found")
    with django_capture_on_commit_callbacks(execute=True):
        body = api("post", f"/api/v1/tickets/{ticket.pk}/approve_reply", "leader", {"note": "同意"}).json()
    assert body["status"] == "replied"
    assert body["replies"][-1]["approved"] is True
    assert [r["text"] for r in track(api_client, ticket).json()["replies"]] == [REPLY, REDO_REPLY]

    # The new reply's link works once; the first reply's link is superseded.
    assert len(mail.outbox) == 2
    link = link_of(mail.outbox[1])
    ticket.refresh_from_db()
    with unchanged(ticket):
        assert_error(api_client.post(f"/api/v1/rate/{first_link}", {"rating": "satisfied"}, content_type="application/json"),
                     410, "link_expired")
        assert_error(api_client.get("/api/v1/rate/forged-token"), 404, "link_invalid")
        assert_error(api_client.post(f"/api/v1/rate/{link}x", {"rating": "satisfied"}, content_type="application/json"),
                     404, "link_invalid")
    shown = api_client.get(f"/api/v1/rate/{link}").json()
    assert (shown["number"], shown["reply"]["text"], shown["can_rate"]) == (ticket.number, REDO_REPLY, True)
    body = api_client.post(f"/api/v1/rate/{link}", {"rating": "satisfied", "comment": "这次解决了"},
                           content_type="application/json").json()
    assert (body["status"], body["rating"]) == ("closed", "satisfied")
    ticket.refresh_from_db()
    with unchanged(ticket):
        assert_error(api_client.post(f"/api/v1/rate/{link}", {"rating": "dissatisfied"}, content_type="application/json"),
                     409, "already_rated")
        assert_error(rate(api_client, ticket, "dissatisfied"), 409, "already_rated")

    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", "to_status"))
    assert kinds[-6:] == [
        ("reply", "replied"), ("rate", "under_review"), ("review", "in_progress"), ("reply", "pending_approval"),
        ("approve_reply", "replied"), ("rate", "closed"),
    ]
    figures = {row["unit"]: row for row in unit_feedback()}["深圳市住房和建设局"]
    assert (figures["replies"], figures["satisfied"], figures["dissatisfied"], figures["redos"]) == (2, 1, 1, 1)


def test_the_leaders_own_reply_needs_no_approval_and_a_rejected_one_is_rewritten(replied, api, api_client):
    rate(api_client, replied, "dissatisfied")
    api("post", f"/api/v1/tickets/{replied.pk}/review", "supervisor", {"decision": "redo", "explanation": "诉求合理"})
    url = f"/api/v1/tickets/{replied.pk}"
    assert api("post", f"{url}/reply", "handler", {"text": REDO_REPLY, "outcome": "partly_resolved"}).json()["status"] == "pending_approval"
    assert_error(api("post", f"{url}/reject_reply", "leader", {"note": ""}), 422, "required", "note")
    body = api("post", f"{url}/reject_reply", "leader", {"note": "请写明检测完成的具体日期"}).json()
    assert (body["status"], body["replies"][-1]["state"]) == ("in_progress", "rejected")
    body = api("post", f"{url}/reply", "leader", {"text": REDO_REPLY, "outcome": "resolved"}).json()
    assert (body["status"], body["replies"][-1]["state"], body["replies"][-1]["approved"]) == ("replied", "published", True)


def test_a_dissatisfied_rating_judged_unreasonable_closes_with_the_explanation(replied, api, api_client):
    rate(api_client, replied, "dissatisfied")
    explanation = "经核实，电梯已修复并通过检测，诉求人另提的赔偿要求不属于本平台受理范围。"
    body = api("post", f"/api/v1/tickets/{replied.pk}/review", "dispatcher", {"decision": "close", "explanation": explanation}).json()
    assert (body["status"], body["redo_count"], body["escalated"]) == ("closed", 0, False)
    timeline = track(api_client, replied).json()["timeline"]
    assert (timeline[-1]["kind"], timeline[-1]["note"]) == ("review", explanation)


def test_a_return_visit_records_the_rating_with_a_note(replied, api):
    body = api("post", f"/api/v1/tickets/{replied.pk}/rate", "agent",
               {"rating": "basically_satisfied", "comment": "基本满意", "visit_note": "回访电话接通，诉求人表示电梯已恢复"}).json()
    assert body["status"] == "closed"
    rating = replied.ratings.get()
    assert (rating.rating, rating.visit_note, rating.recorded_by.username) == (
        "basically_satisfied", "回访电话接通，诉求人表示电梯已恢复", "agent"
    )


def test_the_rating_window_closes_unrated_tickets(replied, api_client, travel, unchanged):
    assert close_unrated() == 0  # still within the window
    travel("2026-11-10T00:00")  # past five working days (2 Nov → 9 Nov 23:59:59)
    with unchanged(replied):
        assert_error(rate(api_client, replied, "satisfied"), 409, "rating_window_closed")
    assert close_unrated() == 1
    assert close_unrated() == 0
    replied.refresh_from_db()
    assert replied.status == "closed"
    event = replied.events.last()
    assert (event.kind, event.actor_role, event.data) == ("close", "system", {"unrated": True})
    figures = {row["unit"]: row for row in unit_feedback()}["深圳市住房和建设局"]
    assert (figures["unrated"], figures["satisfaction_rate"]) == (1, None)


def test_a_reply_without_an_outcome_is_refused(new_ticket, api, unchanged):
    ticket = new_ticket("in_progress")
    with unchanged(ticket):
        assert_error(api("post", f"/api/v1/tickets/{ticket.pk}/reply", "handler", {"text": REPLY}), 422,
                     "invalid_outcome", "outcome")
    assert Reply.objects.filter(ticket=ticket).count() == 0


def test_a_reply_carries_attachments(new_ticket, api_client, token_for):
    ticket = new_ticket("in_progress")
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = SimpleUploadedFile("现场照片.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png")
    response = api_client.post(
        f"/api/v1/tickets/{ticket.pk}/reply", {"text": REPLY, "outcome": "resolved", "files": [png]},
        **token_for("handler"),
    )
    assert response.status_code == 200, response.content
    files = response.json()["replies"][0]["attachments"]
    assert [(f["name"], f["content_type"]) for f in files] == [("现场照片.png", "image/png")]
    assert api_client.get(files[0]["url"], **token_for("handler")).status_code == 200
    assert response.json()["attachments"] == []  # the requester's own uploads only


def test_options_and_figures_are_listed(api, replied):
    outcomes = api("get", "/api/v1/feedback/outcomes").json()
    assert [o["code"] for o in outcomes] == ["resolved", "partly_resolved", "explained", "planned", "referred"]
    assert [r["unit"] for r in api("get", "/api/v1/feedback/units", "handler").json()] == ["深圳市住房和建设局"]
    assert api("get", "/api/v1/feedback/units", "other_handler").json() == []
    other = api("get", "/api/v1/feedback/units", "handler", {"unit_id": replied.lead_unit_id + 1})
    assert_error(other, 403, "not_own_unit")
