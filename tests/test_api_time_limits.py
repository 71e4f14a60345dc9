"""Extensions (延期) and staged closure (阶段性办结) through the API: every act's success, what the
requester is told, and every refusal with nothing changed.

The ticket of these tests is a complaint received, dispatched and signed for on Monday
2 November 2026 at 10:00: both deadlines are 15 working days later, Monday 23 November
23:59:59 (no holiday in November or December 2026).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import (
    EXPLANATION,
    PLAN_EXPLANATION,
    approved_plan,
    assert_error,
    extend,
    file_plan,
    request_extension,
)
from minyi.tickets.models import Attachment, TicketEvent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def url(ticket, name: str) -> str:
    return f"/api/v1/tickets/{ticket.pk}/{name}"


@pytest.fixture
def handled(new_ticket, travel):
    travel("2026-11-02T10:00")
    return new_ticket("in_progress")


def detail(api, ticket, who="supervisor") -> dict:
    response = api("get", f"/api/v1/tickets/{ticket.pk}", who)
    assert response.status_code == 200, response.content
    return response.json()


def kinds(ticket) -> list[str]:
    return list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))


# --- extensions -------------------------------------------------------------------------------


def test_request_an_extension(api, handled, travel):
    travel("2026-11-05T09:30")
    response = api("post", url(handled, "request_extension"), "handler",
                   {"reason_code": "new_facts", "working_days": 5, "explanation": EXPLANATION})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "in_progress"
    assert body["available_actions"] == ["reply", "file_plan"]
    assert body["extensions"] == [{
        "id": body["extensions"][0]["id"], "reason_code": "new_facts", "reason": "诉求人补充新情况新理由",
        "working_days": 5, "explanation": EXPLANATION, "status": "pending",
        "requested_at": "2026-11-05T09:30:00+08:00", "decided_at": None, "decision_note": "",
        "old_due_at": None, "new_due_at": None,
    }]
    assert (body["due_at"], body["unit_due_at"], body["extended_days"]) == (
        "2026-11-23T23:59:59+08:00", "2026-11-23T23:59:59+08:00", 0
    )
    assert detail(api, handled)["available_actions"] == ["decide_extension"]
    assert kinds(handled)[-1] == "request_extension"


def test_approve_an_extension(api, api_client, handled, actors, travel):
    request_extension(actors["handler"], handled, days=5)
    travel("2026-11-06T14:00")
    response = api("post", url(handled, "decide_extension"), "supervisor", {"approve": True, "note": "同意延期，请加快办理。"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["due_at"], body["unit_due_at"], body["extended_days"]) == (
        "2026-11-30T23:59:59+08:00", "2026-11-30T23:59:59+08:00", 5
    )
    assert (body["due_provisional"], body["unit_due_provisional"]) == (False, False)
    (extension,) = body["extensions"]
    assert {k: extension[k] for k in ("status", "decided_at", "decision_note", "old_due_at", "new_due_at")} == {
        "status": "approved", "decided_at": "2026-11-06T14:00:00+08:00", "decision_note": "同意延期，请加快办理。",
        "old_due_at": "2026-11-23T23:59:59+08:00", "new_due_at": "2026-11-30T23:59:59+08:00",
    }
    assert body["available_actions"] == []
    assert detail(api, handled, "handler")["available_actions"] == ["reply", "request_extension", "file_plan"]

    # The requester is told: a public event with the new deadline, the internal steps hidden.
    tracked = api_client.get(f"/api/v1/track/{handled.number}", {"code": handled.access_code}).json()
    assert tracked["due_at"] == "2026-11-30T23:59:59+08:00"
    assert [e["kind"] for e in tracked["timeline"]] == ["submit", "dispatch", "sign", "extension_approved"]
    notice = tracked["timeline"][-1]
    stored = TicketEvent.objects.get(ticket=handled, kind="extension_approved")
    assert (notice["note"], notice["unit"], notice["to_status"]) == (stored.note, "深圳市住房和建设局", "in_progress")
    assert "办理难度大" in notice["note"] and "2026-11-30 23:59" in notice["note"]
    assert notice["label"]
    text = str(tracked)
    for secret in ["supervisor", "请加快办理", EXPLANATION, "request_extension"]:
        assert secret not in text, secret


def test_refuse_an_extension(api, api_client, handled, actors):
    request_extension(actors["handler"], handled)
    response = api("post", url(handled, "decide_extension"), "supervisor", {"approve": False, "note": "理由不充分"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(e["status"], e["decision_note"], e["new_due_at"]) for e in body["extensions"]] == [("refused", "理由不充分", None)]
    assert (body["due_at"], body["unit_due_at"], body["extended_days"]) == (
        "2026-11-23T23:59:59+08:00", "2026-11-23T23:59:59+08:00", 0
    )
    tracked = api_client.get(f"/api/v1/track/{handled.number}", {"code": handled.access_code}).json()
    assert [e["kind"] for e in tracked["timeline"]] == ["submit", "dispatch", "sign"]


def test_refusing_needs_a_note(api, handled, actors, unchanged):
    request_extension(actors["handler"], handled)
    with unchanged(handled):
        assert_error(api("post", url(handled, "decide_extension"), "supervisor", {"approve": False}), 422, "required", "note")
        assert_error(api("post", url(handled, "decide_extension"), "supervisor", {"approve": False, "note": " "}),
                     422, "required", "note")


def test_a_third_extension_is_refused(api, handled, actors, unchanged):
    extend(actors, handled, days=5)
    extend(actors, handled, days=3)
    assert detail(api, handled)["due_at"] == "2026-12-03T23:59:59+08:00"
    with unchanged(handled):
        assert_error(api("post", url(handled, "request_extension"), "handler",
                         {"reason_code": "hard_case", "working_days": 1, "explanation": EXPLANATION}), 409, "extension_limit")


def test_one_extension_at_a_time(api, handled, actors, unchanged):
    request_extension(actors["handler"], handled)
    with unchanged(handled):
        assert_error(api("post", url(handled, "request_extension"), "leader",
                         {"reason_code": "hard_case", "working_days": 2, "explanation": EXPLANATION}), 409, "extension_pending")


def test_no_extension_after_the_units_deadline(api, handled, travel, unchanged):
    travel("2026-11-24T00:00:00")
    with unchanged(handled):
        assert_error(api("post", url(handled, "request_extension"), "handler",
                         {"reason_code": "hard_case", "working_days": 2, "explanation": EXPLANATION}), 409, "deadline_passed")


def test_no_extension_while_tracked_against_a_plan(api, handled, actors, unchanged):
    approved_plan(actors, handled, "2026-11-20")
    with unchanged(handled):
        assert_error(api("post", url(handled, "request_extension"), "handler",
                         {"reason_code": "hard_case", "working_days": 2, "explanation": EXPLANATION}), 409, "plan_tracked")


def test_nothing_to_decide(api, handled, unchanged):
    with unchanged(handled):
        assert_error(api("post", url(handled, "decide_extension"), "supervisor", {"approve": True}), 409, "no_pending_extension")
        assert_error(api("post", url(handled, "decide_plan"), "supervisor", {"approve": True}), 409, "no_pending_plan")


GOOD_EXTENSION = {"reason_code": "hard_case", "working_days": 5, "explanation": EXPLANATION}


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"working_days": 5, "explanation": EXPLANATION}, "invalid_reason", "reason_code"),
        ({**GOOD_EXTENSION, "reason_code": "because"}, "invalid_reason", "reason_code"),
        ({**GOOD_EXTENSION, "working_days": 0}, "invalid_days", "working_days"),
        ({**GOOD_EXTENSION, "working_days": 31}, "invalid_days", "working_days"),
        ({"reason_code": "hard_case", "explanation": EXPLANATION}, "invalid_days", "working_days"),
        ({**GOOD_EXTENSION, "working_days": "five"}, "invalid", "working_days"),
        ({"reason_code": "hard_case", "working_days": 5}, "required", "explanation"),
        ({**GOOD_EXTENSION, "explanation": "   "}, "required", "explanation"),
        ({**GOOD_EXTENSION, "explanation": "长" * 2001}, "too_long", "explanation"),
    ],
)
def test_extension_requests_with_bad_input(api, handled, unchanged, body, code, field):
    with unchanged(handled):
        assert_error(api("post", url(handled, "request_extension"), "handler", body), 422, code, field)


def test_decisions_need_a_yes_or_no(api, handled, actors, unchanged):
    request_extension(actors["handler"], handled)
    with unchanged(handled):
        assert_error(api("post", url(handled, "decide_extension"), "supervisor", {"note": "同意"}), 422, "invalid", "approve")
        assert_error(api("post", url(handled, "decide_extension"), "supervisor", {"approve": "perhaps"}), 422, "invalid", "approve")


# --- staged closure ---------------------------------------------------------------------------

PLAN = {
    "explanation": PLAN_EXPLANATION,
    "milestones": [{"title": "业主表决", "due_date": "2026-11-20"}, {"title": "电梯安装完成", "due_date": "2026-12-18"}],
}


def test_file_a_plan(api, handled, travel):
    travel("2026-11-04T10:00")
    response = api("post", url(handled, "file_plan"), "leader", PLAN)
    assert response.status_code == 200, response.content
    body = response.json()
    plan = body["plan"]
    assert plan == {
        "id": plan["id"], "explanation": PLAN_EXPLANATION, "status": "pending",
        "requested_at": "2026-11-04T10:00:00+08:00", "decided_at": None, "decision_note": "",
        "milestones": [
            {"id": plan["milestones"][0]["id"], "seq": 1, "title": "业主表决", "due_date": "2026-11-20",
             "done_at": None, "evidence": ""},
            {"id": plan["milestones"][1]["id"], "seq": 2, "title": "电梯安装完成", "due_date": "2026-12-18",
             "done_at": None, "evidence": ""},
        ],
    }
    assert body["unit_due_at"] == "2026-11-23T23:59:59+08:00"
    assert body["available_actions"] == ["reply", "request_extension"]
    assert detail(api, handled)["available_actions"] == ["decide_plan"]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({**PLAN, "milestones": list(reversed(PLAN["milestones"]))}, "milestones_out_of_order", "milestones"),
        ({**PLAN, "milestones": [{"title": "业主表决", "due_date": "2026-11-20"}, {"title": "施工", "due_date": "2026-11-20"}]},
         "milestones_out_of_order", "milestones"),
        ({**PLAN, "milestones": [{"title": "业主表决", "due_date": "2026-11-01"}]}, "milestone_in_past", "milestones"),
        ({**PLAN, "milestones": []}, "milestones_required", "milestones"),
        ({"explanation": PLAN_EXPLANATION}, "milestones_required", "milestones"),
        ({"milestones": PLAN["milestones"]}, "required", "explanation"),
        ({**PLAN, "milestones": [{"title": "业主表决", "due_date": "20 November"}]}, "invalid", "milestones.0.due_date"),
        ({**PLAN, "milestones": [{"due_date": "2026-11-20"}]}, "invalid", "milestones.0.title"),
        ({**PLAN, "milestones": [{"title": " ", "due_date": "2026-11-20"}]}, "required", "milestones"),
    ],
)
def test_plans_with_bad_input(api, handled, unchanged, body, code, field):
    with unchanged(handled):
        assert_error(api("post", url(handled, "file_plan"), "handler", body), 422, code, field)


@pytest.mark.parametrize("first", ["pending", "approved"])
def test_a_second_live_plan_is_refused(api, handled, actors, unchanged, first):
    if first == "pending":
        file_plan(actors["handler"], handled, "2026-11-20")
    else:
        approved_plan(actors, handled, "2026-11-20")
    with unchanged(handled):
        assert_error(api("post", url(handled, "file_plan"), "handler", PLAN), 409, "plan_exists")


def test_approve_a_plan(api, api_client, handled, actors, travel):
    file_plan(actors["handler"], handled, "2026-11-20", "2026-12-18")
    travel("2026-11-03T11:00")
    response = api("post", url(handled, "decide_plan"), "supervisor", {"approve": True, "note": "同意分阶段办理"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["plan"]["status"], body["plan"]["decided_at"], body["plan"]["decision_note"]) == (
        "approved", "2026-11-03T11:00:00+08:00", "同意分阶段办理"
    )
    # The unit's deadline is the end of the last milestone's day; the requester's is not earlier.
    assert (body["unit_due_at"], body["unit_due_provisional"], body["due_at"]) == (
        "2026-12-18T23:59:59+08:00", False, "2026-12-18T23:59:59+08:00"
    )
    assert detail(api, handled, "handler")["available_actions"] == ["reply", "record_milestone"]
    tracked = api_client.get(f"/api/v1/track/{handled.number}", {"code": handled.access_code}).json()
    assert tracked["timeline"][-1]["kind"] == "plan_approved"
    assert tracked["timeline"][-1]["note"] == f"{PLAN_EXPLANATION}\n2026-11-20 第1阶段; 2026-12-18 第2阶段"
    assert "同意分阶段办理" not in str(tracked)


def test_refuse_a_plan(api, handled, actors, unchanged):
    file_plan(actors["handler"], handled, "2026-11-20")
    with unchanged(handled):
        assert_error(api("post", url(handled, "decide_plan"), "supervisor", {"approve": False}), 422, "required", "note")
    body = api("post", url(handled, "decide_plan"), "supervisor", {"approve": False, "note": "节点过于宽松"}).json()
    assert (body["plan"]["status"], body["plan"]["decision_note"], body["unit_due_at"]) == (
        "refused", "节点过于宽松", "2026-11-23T23:59:59+08:00"
    )
    assert body["available_actions"] == []


def test_an_outdated_plan_cannot_be_approved(api, handled, actors, travel, unchanged):
    file_plan(actors["handler"], handled, "2026-11-05", "2026-12-18")
    travel("2026-11-06T09:00")
    with unchanged(handled):
        assert_error(api("post", url(handled, "decide_plan"), "supervisor", {"approve": True}), 409, "plan_outdated")


def test_record_milestones_until_the_plan_is_complete(api, handled, actors, travel):
    plan = approved_plan(actors, handled, "2026-11-20", "2026-12-18")
    first, second = plan.milestones.order_by("seq")
    travel("2026-11-19T16:00")
    response = api("post", url(handled, "record_milestone"), "handler", {"milestone_id": first.pk, "evidence": "业主表决通过，同意率92%"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["plan"]["status"] == "approved"
    assert body["plan"]["milestones"][0] == {
        "id": first.pk, "seq": 1, "title": "第1阶段", "due_date": "2026-11-20",
        "done_at": "2026-11-19T16:00:00+08:00", "evidence": "业主表决通过，同意率92%",
    }
    assert body["plan"]["milestones"][1]["done_at"] is None
    assert body["available_actions"] == ["reply", "record_milestone"]

    travel("2026-12-16T10:00")
    response = api("post", url(handled, "record_milestone"), "leader", {"milestone_id": second.pk, "evidence": "电梯已安装并验收"})
    body = response.json()
    assert body["plan"]["status"] == "completed"
    assert [m["done_at"] for m in body["plan"]["milestones"]] == ["2026-11-19T16:00:00+08:00", "2026-12-16T10:00:00+08:00"]
    assert body["available_actions"] == ["reply", "request_extension"]
    assert body["unit_due_at"] == "2026-12-18T23:59:59+08:00"


def test_record_a_milestone_with_evidence_files(api_client, token_for, handled, actors, users):
    plan = approved_plan(actors, handled, "2026-11-20")
    milestone = plan.milestones.get()
    photo = SimpleUploadedFile("验收照片.png", PNG, content_type="image/png")
    response = api_client.post(
        url(handled, "record_milestone"), {"milestone_id": str(milestone.pk), "evidence": "已完成验收", "files": [photo]},
        **token_for("handler"),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["plan"]["status"], body["plan"]["milestones"][0]["evidence"]) == ("completed", "已完成验收")
    stored = Attachment.objects.get(ticket=handled)
    assert [(a["name"], a["content_type"], a["url"]) for a in body["attachments"]] == [
        ("验收照片.png", "image/png", f"/api/v1/tickets/{handled.pk}/attachments/{stored.token}")
    ]
    assert stored.uploaded_by == users["handler"]
    assert TicketEvent.objects.filter(ticket=handled).last().data["attachments"] == [stored.token]


@pytest.mark.parametrize("which", ["first of two", "the last"])
def test_a_milestone_is_recorded_once(api, handled, actors, unchanged, which):
    plan = approved_plan(actors, handled, "2026-11-20", "2026-12-18")
    milestones = list(plan.milestones.order_by("seq"))
    targets = milestones[:1] if which == "first of two" else milestones
    for m in targets:
        assert api("post", url(handled, "record_milestone"), "handler", {"milestone_id": m.pk, "evidence": "已完成"}).status_code == 200
    with unchanged(handled):
        assert_error(api("post", url(handled, "record_milestone"), "handler",
                         {"milestone_id": targets[-1].pk, "evidence": "再次记录"}), 409, "milestone_done")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"evidence": "已完成"}, "invalid_milestone", "milestone_id"),
        ({"milestone_id": 999999, "evidence": "已完成"}, "invalid_milestone", "milestone_id"),
        ({"milestone_id": "first", "evidence": "已完成"}, "invalid_milestone", "milestone_id"),
        ({"milestone_id": "OURS"}, "required", "evidence"),
        ({"milestone_id": "OURS", "evidence": "长" * 2001}, "too_long", "evidence"),
    ],
)
def test_recording_with_bad_input(api, handled, actors, unchanged, body, code, field):
    plan = approved_plan(actors, handled, "2026-11-20")
    if body.get("milestone_id") == "OURS":
        body = {**body, "milestone_id": plan.milestones.get().pk}
    with unchanged(handled):
        assert_error(api("post", url(handled, "record_milestone"), "handler", body), 422, code, field)


def test_recording_with_a_bad_file_or_body(api_client, token_for, handled, actors, unchanged):
    plan = approved_plan(actors, handled, "2026-11-20")
    headers = token_for("handler")
    program = SimpleUploadedFile("evidence.exe", b"MZ\x90\x00" * 8, content_type="application/octet-stream")
    with unchanged(handled):
        assert_error(api_client.post(url(handled, "record_milestone"),
                                     {"milestone_id": plan.milestones.get().pk, "evidence": "已完成", "files": [program]},
                                     **headers), 422, "file_type_not_allowed", "files")
        assert_error(api_client.post(url(handled, "record_milestone"), b"not json", content_type="application/json", **headers),
                     422, "invalid_json")
        assert_error(api_client.post(url(handled, "record_milestone"), [1, 2], content_type="application/json", **headers),
                     422, "invalid_json")


# --- who may do what --------------------------------------------------------------------------

BODIES = {
    "request_extension": GOOD_EXTENSION,
    "decide_extension": {"approve": True, "note": "同意"},
    "file_plan": PLAN,
    "decide_plan": {"approve": True, "note": "同意"},
    "record_milestone": {"milestone_id": "OURS", "evidence": "已完成"},
}
NAMES = list(BODIES)


def _ready(name, actors, ticket) -> dict:
    """Make `name` possible on the ticket; return its body."""
    if name == "decide_extension":
        request_extension(actors["handler"], ticket)
    elif name == "decide_plan":
        file_plan(actors["handler"], ticket, "2026-11-20")
    elif name == "record_milestone":
        plan = approved_plan(actors, ticket, "2026-11-20")
        return {**BODIES[name], "milestone_id": plan.milestones.get().pk}
    return BODIES[name]


@pytest.mark.parametrize(
    ("name", "who"),
    [
        ("request_extension", "supervisor"), ("request_extension", "dispatcher"), ("request_extension", "cityleader"),
        ("decide_extension", "handler"), ("decide_extension", "leader"), ("decide_extension", "dispatcher"),
        ("decide_extension", "admin"),
        ("file_plan", "supervisor"), ("file_plan", "agent"),
        ("decide_plan", "leader"), ("decide_plan", "cityleader"),
        ("record_milestone", "supervisor"), ("record_milestone", "dispatcher"),
    ],
)
def test_wrong_role(api, handled, actors, unchanged, name, who):
    body = _ready(name, actors, handled)
    with unchanged(handled):
        assert_error(api("post", url(handled, name), who, body), 403, "role_not_allowed")


@pytest.mark.parametrize("name", ["request_extension", "file_plan", "record_milestone"])
def test_another_units_ticket(api, handled, actors, unchanged, name):
    body = _ready(name, actors, handled)
    with unchanged(handled):
        assert_error(api("post", url(handled, name), "other_handler", body), 404, "ticket_not_found")


@pytest.mark.parametrize("name", ["request_extension", "file_plan", "record_milestone"])
def test_an_assisting_unit_is_not_the_lead(api, handled, actors, org, unchanged, name):
    body = _ready(name, actors, handled)
    handled.assisting_units.add(org["transport"])
    with unchanged(handled):
        assert_error(api("post", url(handled, name), "other_handler", body), 403, "not_lead_unit")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("status", ["dispatched", "replied", "closed"])
def test_wrong_state(api, travel, new_ticket, actors, unchanged, name, status):
    travel("2026-11-02T10:00")
    ticket = new_ticket("in_progress")
    body = _ready(name, actors, ticket)
    if status == "dispatched":
        ticket = new_ticket("dispatched")
    else:
        from minyi.tickets import actions

        actions.reply(actors["handler"], ticket.pk, "已答复诉求人。", outcome="resolved")
        if status == "closed":
            actions.close(actors["dispatcher"], ticket.pk)
    who = "supervisor" if name.startswith("decide") else "handler"
    with unchanged(ticket):
        assert_error(api("post", url(ticket, name), who, body), 409, "invalid_state")


@pytest.mark.parametrize("name", NAMES)
def test_unauthenticated(api, handled, actors, unchanged, name):
    body = _ready(name, actors, handled)
    with unchanged(handled):
        assert_error(api("post", url(handled, name), None, body), 401, "not_authenticated")


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_ticket(api, handled, name):
    who = "supervisor" if name.startswith("decide") else "handler"
    body = {**BODIES[name], "milestone_id": 1} if name == "record_milestone" else BODIES[name]
    assert_error(api("post", f"/api/v1/tickets/999999/{name}", who, body), 404, "ticket_not_found")
