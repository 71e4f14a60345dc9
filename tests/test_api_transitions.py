"""Every transition endpoint: its success, and every refusal with nothing changed."""

from __future__ import annotations

import pytest

from conftest import assert_error
from minyi.tickets.models import Reply, TicketEvent, TicketRating

REPLY = "经核查，已责令物业公司于三日内完成电梯维修，并加强日常维保。"
ANSWER = "公交卡补办可在各地铁站客服中心办理，需携带身份证。"


def url(ticket, name: str) -> str:
    return f"/api/v1/tickets/{ticket.pk}/{name}"


def payload(name: str, org) -> dict:
    return {
        "direct_answer": {"text": ANSWER},
        "dispatch": {"unit_id": org["housing"].pk},
        "sign": {},
        "return": {"reason_code": "not_our_remit", "note": "不属于本单位职责", "legal_basis": "《物业管理条例》第十二条"},
        "reply": {"text": REPLY, "outcome": "resolved"},
        "rate": {"rating": "satisfied"},
        "close": {},
    }[name]


#: transition -> (the status it starts from, who may take it)
READY = {
    "direct_answer": ("submitted", "dispatcher"),
    "dispatch": ("submitted", "dispatcher"),
    "sign": ("dispatched", "handler"),
    "return": ("dispatched", "handler"),
    "reply": ("in_progress", "handler"),
    "rate": ("replied", "agent"),
    "close": ("replied", "dispatcher"),
}
NAMES = list(READY)


# --- success ----------------------------------------------------------------------------------


def test_direct_answer(api, new_ticket, unchanged):
    ticket = new_ticket(type="consultation")
    response = api("post", url(ticket, "direct_answer"), "agent", {"text": f"  {ANSWER}  "})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["available_actions"], body["lead_unit"]) == ("closed", [], None)
    assert body["replies"] == [{
        "id": body["replies"][0]["id"], "text": ANSWER, "unit": None, "direct": True, "outcome": None,
        "outcome_name": None, "state": "published", "round": 0, "approved": False, "attachments": [],
        "created_at": body["replies"][0]["created_at"],
    }]
    assert body["replied_at"] == body["closed_at"]
    event = TicketEvent.objects.filter(ticket=ticket).last()
    assert (event.kind, event.actor_role, event.from_status, event.to_status) == (
        "direct_answer", "intake_agent", "submitted", "closed"
    )


def test_dispatch_with_assisting_units(api, new_ticket, org):
    ticket = new_ticket()
    response = api("post", url(ticket, "dispatch"), "dispatcher", {
        "unit_id": org["housing"].pk, "assisting_unit_ids": [org["street_office"].pk], "note": "请牵头办理",
    })
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["lead_unit_id"]) == ("dispatched", org["housing"].pk)
    assert [u["code"] for u in body["assisting_units"]] == ["FT-LH"]
    assert body["dispatched_at"] is not None
    event = TicketEvent.objects.filter(ticket=ticket).last()
    assert (event.kind, event.note, event.unit_id) == ("dispatch", "请牵头办理", org["housing"].pk)


def test_dispatch_again_after_a_return(api, new_ticket, org):
    ticket = new_ticket("returned")
    response = api("post", url(ticket, "dispatch"), "dispatcher", {"unit_id": org["transport"].pk})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["lead_unit"]) == ("dispatched", "深圳市交通运输局")


@pytest.mark.parametrize("who", ["handler", "leader"])
def test_sign(api, new_ticket, who):
    ticket = new_ticket("dispatched")
    response = api("post", url(ticket, "sign"), who, {"note": "已签收"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["available_actions"]) == (
        "in_progress", ["reply", "request_extension", "file_plan"]
    )
    assert body["signed_at"] is not None
    event = TicketEvent.objects.filter(ticket=ticket).last()
    assert (event.kind, event.note, event.actor_role) == (
        "sign", "已签收", {"handler": "handler", "leader": "unit_leader"}[who]
    )


@pytest.mark.parametrize("name", ["sign", "close"])
def test_the_note_is_optional(api_client, token_for, new_ticket, name):
    ticket = new_ticket(READY[name][0])
    headers = token_for(READY[name][1])
    # No body and no content type at all, as `curl -X POST` sends it.
    assert api_client.generic("POST", url(ticket, name), b"", content_type="", **headers).status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == {"sign": "in_progress", "close": "closed"}[name]


def test_return(api, new_ticket, org):
    ticket = new_ticket("dispatched")
    response = api("post", url(ticket, "return"), "leader", {"reason_code": "wrong_locality", "note": "该地址属南山区", "legal_basis": "《物业管理条例》第十二条"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["available_actions"]) == ("returned", [])
    event = TicketEvent.objects.filter(ticket=ticket).last()
    assert (event.kind, event.public, event.data["reason_code"]) == ("return", False, "wrong_locality")
    assert api("get", f"/api/v1/tickets/{ticket.pk}", "dispatcher").json()["available_actions"] == [
        "dispatch", "arbitrate", "merge"
    ]


def test_reply(api, new_ticket):
    ticket = new_ticket("in_progress")
    response = api("post", url(ticket, "reply"), "leader", {"text": REPLY, "outcome": "resolved"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "replied"
    assert [(r["text"], r["unit"], r["direct"]) for r in body["replies"]] == [(REPLY, "深圳市住房和建设局", False)]
    assert body["available_actions"] == []


@pytest.mark.parametrize(
    ("who", "rating", "status"),
    [
        ("agent", "satisfied", "closed"),
        ("agent", "basically_satisfied", "closed"),
        ("supervisor", "dissatisfied", "under_review"),
    ],
)
def test_rate_on_a_return_visit(api, new_ticket, users, who, rating, status):
    ticket = new_ticket("replied")
    response = api("post", url(ticket, "rate"), who, {"rating": rating, "comment": "电话回访"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["rating"]) == (status, rating)
    assert (body["closed_at"] is None) is (status == "under_review")
    stored = TicketRating.objects.get(ticket=ticket)
    assert (stored.rating, stored.comment, stored.recorded_by) == (rating, "电话回访", users[who])


@pytest.mark.parametrize(("start", "who"), [("replied", "dispatcher"), ("replied", "supervisor"), ("under_review", "supervisor")])
def test_close(api, new_ticket, start, who):
    ticket = new_ticket("replied")
    if start == "under_review":
        api("post", url(ticket, "rate"), "supervisor", {"rating": "dissatisfied"})
    response = api("post", url(ticket, "close"), who, {"note": "评价期满自动办结"})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["available_actions"]) == ("closed", [])
    event = TicketEvent.objects.filter(ticket=ticket).last()
    assert (event.kind, event.from_status, event.to_status, event.note) == ("close", start, "closed", "评价期满自动办结")


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "who", "status"),
    [
        ("direct_answer", "supervisor", "submitted"),
        ("direct_answer", "cityleader", "submitted"),
        ("dispatch", "agent", "submitted"),
        ("dispatch", "supervisor", "submitted"),
        ("dispatch", "handler", "returned"),  # sees it (its unit returned it) but may not dispatch
        ("sign", "dispatcher", "dispatched"),
        ("sign", "supervisor", "dispatched"),
        ("return", "dispatcher", "dispatched"),
        ("reply", "dispatcher", "in_progress"),
        ("reply", "cityleader", "in_progress"),
        ("rate", "dispatcher", "replied"),
        ("rate", "handler", "replied"),
        ("close", "agent", "replied"),
        ("close", "leader", "replied"),
        ("close", "admin", "replied"),
    ],
)
def test_wrong_role(api, new_ticket, org, unchanged, name, who, status):
    ticket = new_ticket(status, type="consultation")
    with unchanged(ticket):
        assert_error(api("post", url(ticket, name), who, payload(name, org)), 403, "role_not_allowed")


@pytest.mark.parametrize(("name", "status"), [("sign", "dispatched"), ("return", "dispatched"), ("reply", "in_progress")])
def test_another_units_ticket(api, new_ticket, org, unchanged, name, status):
    ticket = new_ticket(status)
    with unchanged(ticket):
        assert_error(api("post", url(ticket, name), "other_handler", payload(name, org)), 404, "ticket_not_found")


@pytest.mark.parametrize(("name", "status"), [("sign", "dispatched"), ("return", "dispatched"), ("reply", "in_progress")])
def test_an_assisting_unit_is_not_the_lead(api, new_ticket, org, unchanged, name, status):
    ticket = new_ticket(status)
    ticket.assisting_units.add(org["transport"])
    with unchanged(ticket):
        assert_error(api("post", url(ticket, name), "other_handler", payload(name, org)), 403, "not_lead_unit")


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("direct_answer", "dispatched"),
        ("direct_answer", "closed"),
        ("dispatch", "dispatched"),
        ("dispatch", "in_progress"),
        ("dispatch", "closed"),
        ("sign", "in_progress"),
        ("sign", "returned"),
        ("sign", "replied"),
        ("return", "in_progress"),
        ("return", "returned"),
        ("reply", "dispatched"),
        ("reply", "replied"),
        ("rate", "in_progress"),
        ("rate", "closed"),
        ("close", "in_progress"),
        ("close", "dispatched"),
        ("close", "closed"),
    ],
)
def test_wrong_state(api, new_ticket, org, unchanged, name, status):
    ticket = new_ticket(status, type="consultation")
    who = {"rate": "supervisor", "close": "supervisor"}.get(name, READY[name][1])
    with unchanged(ticket):
        code = "already_rated" if (name, status) == ("rate", "closed") else "invalid_state"
        assert_error(api("post", url(ticket, name), who, payload(name, org)), 409, code)


def test_the_loser_of_a_race_gets_invalid_state(api, new_ticket, unchanged):
    ticket = new_ticket("dispatched")
    assert api("post", url(ticket, "sign"), "handler").status_code == 200
    with unchanged(ticket):
        assert_error(api("post", url(ticket, "sign"), "leader"), 409, "invalid_state")


def test_direct_answer_on_a_complaint(api, new_ticket, unchanged):
    ticket = new_ticket(type="complaint")
    with unchanged(ticket):
        assert_error(api("post", url(ticket, "direct_answer"), "dispatcher", {"text": ANSWER}), 409, "not_a_consultation")


@pytest.mark.parametrize(
    ("name", "body", "code", "field"),
    [
        ("direct_answer", {}, "invalid", "text"),
        ("direct_answer", {"text": "   "}, "required", "text"),
        ("direct_answer", {"text": "长" * 5001}, "too_long", "text"),
        ("dispatch", {}, "invalid", "unit_id"),
        ("dispatch", {"unit_id": "housing"}, "invalid", "unit_id"),
        ("dispatch", {"unit_id": 999999}, "invalid_unit", "unit_id"),
        ("dispatch", {"unit_id": "HOUSING", "assisting_unit_ids": [999999]}, "invalid_unit", "assisting_unit_ids"),
        ("return", {"note": "说明", "legal_basis": "《物业管理条例》第十二条"}, "invalid", "reason_code"),
        ("return", {"reason_code": "not_our_remit", "legal_basis": "《物业管理条例》第十二条"}, "invalid", "note"),
        ("return", {"reason_code": "not_our_remit", "note": "说明"}, "invalid", "legal_basis"),
        ("return", {"reason_code": "not_our_remit", "note": "说明", "legal_basis": " "}, "required", "legal_basis"),
        ("return", {"reason_code": "because", "note": "说明", "legal_basis": "《物业管理条例》第十二条"}, "invalid_reason", "reason_code"),
        ("return", {"reason_code": "not_our_remit", "note": "  ", "legal_basis": "《物业管理条例》第十二条"}, "required", "note"),
        ("return", {"reason_code": "not_our_remit", "note": "长" * 2001, "legal_basis": "《物业管理条例》第十二条"}, "too_long", "note"),
        ("reply", {}, "required", "text"),
        ("reply", {"text": "已处理完毕。"}, "invalid_outcome", "outcome"),
        ("reply", {"text": "已处理完毕。", "outcome": "no_such"}, "invalid_outcome", "outcome"),
        ("reply", {"text": ""}, "required", "text"),
        ("reply", {"text": "长" * 5001}, "too_long", "text"),
        ("rate", {}, "invalid", "rating"),
        ("rate", {"rating": "great"}, "invalid", "rating"),
        ("rate", {"rating": "satisfied", "comment": "长" * 1001}, "too_long", "comment"),
    ],
)
def test_invalid_input(api, new_ticket, org, unchanged, name, body, code, field):
    status, who = READY[name]
    ticket = new_ticket(status, type="consultation")
    if body.get("unit_id") == "HOUSING":
        body = {**body, "unit_id": org["housing"].pk}
    with unchanged(ticket):
        assert_error(api("post", url(ticket, name), who, body), 422, code, field)


def test_an_inactive_unit_cannot_be_dispatched_to(api, new_ticket, org, unchanged):
    org["transport"].active = False
    org["transport"].save()
    ticket = new_ticket()
    with unchanged(ticket):
        assert_error(
            api("post", url(ticket, "dispatch"), "dispatcher", {"unit_id": org["transport"].pk}), 422,
            "invalid_unit", "unit_id",
        )


@pytest.mark.parametrize("name", NAMES)
def test_unauthenticated(api, new_ticket, org, unchanged, name):
    ticket = new_ticket(READY[name][0], type="consultation")
    with unchanged(ticket):
        assert_error(api("post", url(ticket, name), None, payload(name, org)), 401, "not_authenticated")


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_ticket(api, org, users, name):
    response = api("post", f"/api/v1/tickets/999999/{name}", READY[name][1], payload(name, org))
    assert_error(response, 404, "ticket_not_found")
    assert TicketEvent.objects.count() == 0
    assert Reply.objects.count() == 0


def test_conflict_messages_name_the_state_not_the_requester(api, new_ticket):
    ticket = new_ticket("closed")
    body = assert_error(api("post", url(ticket, "close"), "supervisor"), 409, "invalid_state")
    assert "张三" not in str(body) and "13800138000" not in str(body)
