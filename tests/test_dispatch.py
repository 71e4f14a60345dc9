"""Dispatch through the API: returns with a legal basis inside the window, arbitration
(forced dispatch), sign-for time, co-handling input, routing suggestions, auto-dispatch and
return counts per unit. Every refusal leaves the ticket unchanged."""

from __future__ import annotations

import pytest

from conftest import LEGAL_BASIS, assert_error, shanghai, submission_data
from minyi.dispatch.models import RoutingRule
from minyi.tickets import actions
from minyi.tickets.intake import clean_submission
from minyi.tickets.models import AssistInput, Ticket, TicketEvent

URL = "/api/v1/tickets"
RETURN = {"reason_code": "not_our_remit", "note": "该事项属区住建局职责", "legal_basis": LEGAL_BASIS}
RULING = "经研判，电梯维保监管属市住建局职责，退单理由不成立。"


@pytest.fixture
def dispatched(travel, new_ticket, actors, org):
    """Submitted Tuesday 3 Nov 2026 09:30, dispatched to housing at 10:00 (sign by 11:00,
    return until Wednesday 10:00: nine office hours)."""
    travel("2026-11-03T09:30")
    ticket = new_ticket()
    travel("2026-11-03T10:00")
    actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk, assisting_unit_ids=[org["street_office"].pk])
    ticket.refresh_from_db()
    return ticket


def last_event(ticket) -> TicketEvent:
    return TicketEvent.objects.filter(ticket=ticket).order_by("-id").first()


# --- returns (退单) ----------------------------------------------------------------------------


def test_dispatch_sets_the_sign_and_return_times(api, dispatched):
    body = api("get", f"{URL}/{dispatched.pk}", "handler").json()
    assert shanghai(body["sign_due_at"]) == shanghai("2026-11-03T11:00")
    assert shanghai(body["return_due_at"]) == shanghai("2026-11-04T10:00")
    assert (body["forced_dispatch"], body["signed_late"]) == (False, None)
    assert body["available_actions"] == ["sign", "return"]


def test_a_return_records_reason_and_legal_basis(api, travel, dispatched, org):
    travel("2026-11-04T09:59")
    response = api("post", f"{URL}/{dispatched.pk}/return", "handler", RETURN)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "returned"
    event = last_event(dispatched)
    assert (event.kind, event.unit, event.public, event.note) == ("return", org["housing"], False, RETURN["note"])
    assert event.data == {"reason_code": "not_our_remit", "reason": "不属于本单位职责", "legal_basis": LEGAL_BASIS}


def test_a_return_without_legal_basis_is_refused(api, dispatched, unchanged):
    with unchanged(dispatched):
        assert_error(
            api("post", f"{URL}/{dispatched.pk}/return", "handler", {**RETURN, "legal_basis": "  "}),
            422, "required", "legal_basis",
        )


def test_a_return_after_the_window_is_refused(api, travel, dispatched, unchanged):
    travel("2026-11-04T10:01")
    assert api("get", f"{URL}/{dispatched.pk}", "handler").json()["available_actions"] == ["sign"]
    with unchanged(dispatched):
        assert_error(api("post", f"{URL}/{dispatched.pk}/return", "handler", RETURN), 409, "return_window_passed")
    assert api("get", f"{URL}/{dispatched.pk}", "handler").json()["status"] == "dispatched"


def test_a_return_by_a_unit_that_is_not_the_lead_is_refused(api, dispatched, unchanged, users, org):
    from conftest import make_user

    users["street_handler"] = make_user("street_handler", ["handler"], org["street_office"])
    with unchanged(dispatched):
        # The assisting street office sees the ticket but may not return it.
        assert_error(api("post", f"{URL}/{dispatched.pk}/return", "street_handler", RETURN), 403, "not_lead_unit")
        # The transport bureau may not even learn it exists.
        assert_error(api("post", f"{URL}/{dispatched.pk}/return", "other_handler", RETURN), 404, "ticket_not_found")
        # The dispatcher does not return tickets.
        assert_error(api("post", f"{URL}/{dispatched.pk}/return", "dispatcher", RETURN), 403, "role_not_allowed")


# --- arbitration (仲裁) -------------------------------------------------------------------------


def test_the_dispatcher_rejects_a_return_and_force_dispatches(api, travel, dispatched, org, unchanged):
    travel("2026-11-03T11:00")
    api("post", f"{URL}/{dispatched.pk}/return", "handler", RETURN)
    travel("2026-11-03T15:00")
    response = api("post", f"{URL}/{dispatched.pk}/arbitrate", "dispatcher", {"note": RULING})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["lead_unit_id"], body["forced_dispatch"]) == ("dispatched", org["housing"].pk, True)
    # The unit's clocks restart at the forced dispatch.
    assert shanghai(body["dispatched_at"]) == shanghai("2026-11-03T15:00")
    assert shanghai(body["sign_due_at"]) == shanghai("2026-11-03T16:00")
    assert [u["code"] for u in body["assisting_units"]] == ["FT-LH"]  # kept
    event = last_event(dispatched)
    assert (event.kind, event.unit, event.note, event.data["return_outcome"]) == (
        "arbitrate", org["housing"], RULING, "rejected"
    )
    # The unit may no longer return it: it is not offered, and asking is refused.
    handler_view = api("get", f"{URL}/{dispatched.pk}", "handler").json()
    assert handler_view["available_actions"] == ["sign"]
    dispatched.refresh_from_db()
    with unchanged(dispatched):
        assert_error(api("post", f"{URL}/{dispatched.pk}/return", "handler", RETURN), 409, "forced_dispatch")
    # It signs and handles it as usual.
    assert api("post", f"{URL}/{dispatched.pk}/sign", "handler").json()["status"] == "in_progress"


@pytest.mark.parametrize(
    ("who", "payload", "status", "code"),
    [
        ("dispatcher", {"note": " "}, 422, "required"),
        ("dispatcher", {}, 422, "invalid"),
        ("handler", {"note": RULING}, 403, "role_not_allowed"),
        ("supervisor", {"note": RULING}, 403, "role_not_allowed"),
    ],
)
def test_arbitration_refusals_change_nothing(api, new_ticket, unchanged, who, payload, status, code):
    ticket = new_ticket("returned")
    with unchanged(ticket):
        assert_error(api("post", f"{URL}/{ticket.pk}/arbitrate", who, payload), status, code)


def test_only_a_returned_ticket_can_be_arbitrated(api, new_ticket, unchanged):
    ticket = new_ticket("dispatched")
    with unchanged(ticket):
        assert_error(api("post", f"{URL}/{ticket.pk}/arbitrate", "dispatcher", {"note": RULING}), 409, "invalid_state")


def test_returns_are_counted_per_unit_with_their_outcomes(api, new_ticket, actors, org):
    upheld = new_ticket("returned")
    actions.dispatch(actors["dispatcher"], upheld.pk, org["transport"].pk)
    rejected = new_ticket("returned")
    actions.arbitrate(actors["dispatcher"], rejected.pk, note=RULING)
    resent = new_ticket("returned")
    actions.dispatch(actors["dispatcher"], resent.pk, org["housing"].pk, note="已补充详细地址")
    new_ticket("returned")  # pending
    expected = {
        "unit_id": org["housing"].pk, "unit": "深圳市住房和建设局",
        "returns": 4, "upheld": 1, "resent": 1, "rejected": 1, "pending": 1,
    }
    response = api("get", "/api/v1/dispatch/returns", "dispatcher")
    assert response.status_code == 200
    assert response.json() == [expected]
    assert api("get", f"/api/v1/dispatch/returns?unit_id={org['housing'].pk}", "supervisor").json() == [expected]
    # A unit sees its own figures only.
    assert api("get", "/api/v1/dispatch/returns", "handler").json() == [expected]
    assert api("get", "/api/v1/dispatch/returns", "other_handler").json() == [
        {"unit_id": org["transport"].pk, "unit": "深圳市交通运输局",
         "returns": 0, "upheld": 0, "resent": 0, "rejected": 0, "pending": 0}
    ]
    assert_error(
        api("get", f"/api/v1/dispatch/returns?unit_id={org['housing'].pk}", "other_handler"), 403, "not_own_unit"
    )
    assert_error(api("get", "/api/v1/dispatch/returns"), 401, "not_authenticated")


# --- sign-for time (签收时限) -------------------------------------------------------------------


@pytest.mark.parametrize(("moment", "late"), [("2026-11-03T11:00", False), ("2026-11-03T11:01", True)])
def test_sign_records_whether_it_was_late(api, travel, dispatched, moment, late):
    travel(moment)
    body = api("post", f"{URL}/{dispatched.pk}/sign", "handler").json()
    assert (body["status"], body["signed_late"]) == ("in_progress", late)
    assert last_event(dispatched).data == {"late": late}


def test_an_urgent_ticket_is_signed_for_within_30_minutes(api, travel, new_ticket, actors, org):
    travel("2026-11-07T22:00")  # a Saturday night: urgent tickets count clock minutes
    ticket = new_ticket(urgent=True)
    actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk)
    body = api("get", f"{URL}/{ticket.pk}", "handler").json()
    assert shanghai(body["sign_due_at"]) == shanghai("2026-11-07T22:30")


# --- co-handling (协办) --------------------------------------------------------------------------


def test_an_assisting_unit_adds_its_input_for_the_lead(api, travel, new_ticket, actors, org):
    travel("2026-11-03T10:00")
    ticket = new_ticket()
    actions.dispatch(actors["dispatcher"], ticket.pk, org["transport"].pk, assisting_unit_ids=[org["housing"].pk])
    text = "经核查，该小区电梯维保单位为某电梯公司，已通知其三日内整改。"
    response = api("post", f"{URL}/{ticket.pk}/assist_input", "handler", {"text": text})
    assert response.status_code == 200, response.content
    travel("2026-11-09T10:00")  # after the deadline (3 working days): taken, marked late
    api("post", f"{URL}/{ticket.pk}/assist_input", "leader", {"text": "补充：整改已完成。"})
    lead_view = api("get", f"{URL}/{ticket.pk}", "other_handler").json()
    assert shanghai(lead_view["assist_due_at"]) == shanghai("2026-11-06T23:59:59")
    assert [(i["unit"], i["text"], i["late"], i["author"]) for i in lead_view["assist_inputs"]] == [
        ("深圳市住房和建设局", text, False, "handler"),
        ("深圳市住房和建设局", "补充：整改已完成。", True, "leader"),
    ]
    assert lead_view["status"] == "dispatched"  # input keeps the state
    event = last_event(ticket)
    assert (event.kind, event.unit, event.public, event.data["late"]) == ("assist_input", org["housing"], False, True)


def test_assist_input_refusals_change_nothing(api, new_ticket, actors, org, unchanged):
    ticket = new_ticket()
    actions.dispatch(actors["dispatcher"], ticket.pk, org["transport"].pk, assisting_unit_ids=[org["housing"].pk])
    ticket.refresh_from_db()
    with unchanged(ticket):
        # The lead unit replies; it does not give assisting input.
        assert_error(api("post", f"{URL}/{ticket.pk}/assist_input", "other_handler", {"text": "意见"}), 403,
                     "not_assisting_unit")
        assert_error(api("post", f"{URL}/{ticket.pk}/assist_input", "dispatcher", {"text": "意见"}), 403,
                     "role_not_allowed")
        assert_error(api("post", f"{URL}/{ticket.pk}/assist_input", "handler", {"text": " "}), 422, "required", "text")
    assert AssistInput.objects.count() == 0
    closed = new_ticket("closed")
    closed.assisting_units.add(org["transport"])
    with unchanged(closed):
        assert_error(api("post", f"{URL}/{closed.pk}/assist_input", "other_handler", {"text": "意见"}), 409,
                     "invalid_state")


# --- routing suggestions and auto-dispatch --------------------------------------------------------


@pytest.fixture
def street_rule(org):
    rule = RoutingRule.objects.create(
        category=org["urban"], street=org["lianhua"], lead_unit=org["street_office"], priority=1,
        note="莲花街道的城建类诉求由街道办牵头",
    )
    rule.assisting_units.add(org["housing"])
    return rule


def test_the_routing_endpoint_explains_a_rule(api, new_ticket, street_rule, org):
    ticket = new_ticket()
    body = api("get", f"{URL}/{ticket.pk}/routing", "dispatcher").json()
    assert body["unit"] == {"id": org["street_office"].pk, "code": "FT-LH", "name": "福田区莲花街道办事处"}
    assert [u["code"] for u in body["assisting_units"]] == ["SZZJJ"]
    assert (body["source"], body["rule_id"], body["matched_on"], body["explicit"]) == (
        "rule", street_rule.pk, "street", True
    )
    assert body["why"] == f"分拨规则 #{street_rule.pk}：城乡建设，莲花街道（优先级 1）。 莲花街道的城建类诉求由街道办牵头"


def test_the_routing_endpoint_falls_back_to_the_category_unit(api, new_ticket, org):
    ticket = new_ticket()
    body = api("get", f"{URL}/{ticket.pk}/routing", "dispatcher").json()
    assert (body["unit"]["code"], body["source"], body["explicit"], body["rule_id"]) == (
        "SZZJJ", "category_default", False, None
    )
    assert_error(api("get", f"{URL}/{ticket.pk}/routing", "other_handler"), 404, "ticket_not_found")


def submit(actors, org, **overrides) -> Ticket:
    ticket, _code = actions.submit(actors["agent"], clean_submission(submission_data(org, **overrides), [], channel="hotline"))
    return Ticket.objects.get(pk=ticket.pk)


def test_auto_dispatch_follows_explicit_rules_only(settings, actors, org, street_rule):
    settings.MINYI_AUTO_DISPATCH = True
    ticket = submit(actors, org)
    assert (ticket.status, ticket.lead_unit, ticket.forced_dispatch) == ("dispatched", org["street_office"], False)
    assert list(ticket.assisting_units.all()) == [org["housing"]]
    event = last_event(ticket)
    assert (event.kind, event.actor_role, event.actor) == ("dispatch", "system", None)
    assert event.note.startswith(f"分拨规则 #{street_rule.pk}")
    # A ticket whose suggestion is only a fallback waits for the dispatcher.
    bus = submit(actors, org, category_id=org["bus"].pk, street="")
    assert (bus.status, bus.lead_unit) == ("submitted", None)


def test_without_the_setting_nothing_is_dispatched_at_intake(actors, org, street_rule):
    assert submit(actors, org).status == "submitted"
