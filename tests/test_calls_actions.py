"""Virtual numbers through the actions: who may bind, which number a binding gets (the AXB rule),
when bindings end, what routing answers, and how calls reach the timeline — never a number."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import make_user
from minyi.calls import actions
from minyi.calls.models import Binding, CallRecord, HandlerLine, VirtualNumber
from minyi.calls.tasks import bindings_job
from minyi.core.errors import DomainError
from minyi.org.models import Role
from minyi.tickets import actions as ticket_actions
from minyi.tickets.models import TicketEvent
from minyi.tickets.timeline import public_timeline

A = "13800138000"  # the requester (conftest's submission)
B = "13912345678"  # the housing handler's line
B_LEADER = "13912340002"
POOL = ["075588880001", "075588880002", "075588880003"]
NUMBERS = (A, B, B_LEADER, "138-0013-8000", "8613800138000", "139-1234-5678")


@pytest.fixture
def pool(db):
    return [VirtualNumber.objects.create(number=n) for n in POOL]


@pytest.fixture
def lines(users):
    HandlerLine.objects.create(user=users["handler"], phone=B)
    HandlerLine.objects.create(user=users["leader"], phone="139-1234-0002")
    HandlerLine.objects.create(user=users["other_handler"], phone="13912340003")


@pytest.fixture
def at_unit(new_ticket, pool, lines):
    """A ticket the housing bureau is handling, a pool of three numbers, lines for its staff."""
    return new_ticket("in_progress")


def no_numbers(value) -> None:
    text = json.dumps(value, default=str, ensure_ascii=False)
    for number in NUMBERS:
        assert number not in text, text


def events(ticket, kind=None):
    rows = TicketEvent.objects.filter(ticket=ticket).order_by("id")
    return list(rows.filter(kind=kind) if kind else rows)


# --- binding ---------------------------------------------------------------------------------------


def test_a_handler_binds_the_requester_to_a_pool_number(at_unit, actors, travel):
    now = travel("2026-12-01T10:00")
    binding = actions.bind(actors["handler"], at_unit.pk)
    assert binding.number.number == POOL[0]
    assert (binding.party_a, binding.party_b) == (A, B)
    assert binding.active and binding.ended_at is None
    assert binding.created_at == now
    assert binding.expires_at == now + dt.timedelta(minutes=30)
    assert binding.unit_id == at_unit.lead_unit_id
    (event,) = events(at_unit, "call_bound")
    assert event.public is False
    assert event.actor_role == Role.HANDLER
    assert event.data == {"binding": binding.pk, "expires_at": binding.expires_at.isoformat()}
    no_numbers(event.data)


def test_the_binding_lasts_the_configured_minutes(at_unit, actors, travel, settings):
    settings.MINYI_CALL_BINDING_MINUTES = 5
    now = travel("2026-12-01T10:00")
    assert actions.bind(actors["leader"], at_unit.pk).expires_at == now + dt.timedelta(minutes=5)


def test_pressing_again_while_bound_returns_the_same_binding(at_unit, actors, travel):
    travel("2026-12-01T10:00")
    first = actions.bind(actors["handler"], at_unit.pk)
    travel("2026-12-01T10:29")
    again = actions.bind(actors["handler"], at_unit.pk)
    assert again.pk == first.pk
    assert again.expires_at == first.expires_at
    assert Binding.objects.count() == 1
    assert len(events(at_unit, "call_bound")) == 1


def test_pressing_after_expiry_binds_anew(at_unit, actors, travel):
    travel("2026-12-01T10:00")
    first = actions.bind(actors["handler"], at_unit.pk)
    later = travel("2026-12-01T10:30")
    second = actions.bind(actors["handler"], at_unit.pk)
    assert second.pk != first.pk
    first.refresh_from_db()
    assert (first.active, first.end_reason, first.ended_at) == (False, "expired", later)
    assert second.number == first.number  # the slot is free again
    assert [e.kind for e in events(at_unit)][-2:] == ["call_unbound", "call_bound"]


def test_a_changed_line_ends_the_old_binding(at_unit, actors, users):
    first = actions.bind(actors["handler"], at_unit.pk)
    HandlerLine.objects.filter(user=users["handler"]).update(phone="13912349999")
    second = actions.bind(actors["handler"], at_unit.pk)
    first.refresh_from_db()
    assert first.end_reason == "parties_changed"
    assert second.party_b == "13912349999"


def test_an_anonymous_requester_who_allows_contact_can_be_called(new_ticket, pool, lines, actors):
    ticket = new_ticket("in_progress", anonymous=True, requester_name="")
    binding = actions.bind(actors["handler"], ticket.pk)
    assert binding.party_a == A


@pytest.mark.parametrize("status", ["dispatched", "in_progress"])
def test_the_unit_may_call_while_it_holds_the_ticket(new_ticket, pool, lines, actors, status):
    assert actions.bind(actors["leader"], new_ticket(status).pk).party_b == B_LEADER


def test_while_the_leader_approves_a_reply(new_ticket, pool, lines, actors):
    ticket = new_ticket("in_progress")
    ticket.__class__.objects.filter(pk=ticket.pk).update(status="pending_approval")
    assert actions.bind(actors["handler"], ticket.pk).active


# --- refusals ------------------------------------------------------------------------------------


def refused(unchanged, ticket, call, status: int, code: str) -> None:
    before = (Binding.objects.count(), CallRecord.objects.count())
    with unchanged(ticket), pytest.raises(DomainError) as caught:
        call()
    assert (caught.value.http_status, caught.value.code) == (status, code)
    assert (Binding.objects.count(), CallRecord.objects.count()) == before
    for number in NUMBERS:
        assert number not in str(caught.value.message)


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("dispatcher", 403, "role_not_allowed"),
        ("agent", 403, "role_not_allowed"),
        ("supervisor", 403, "role_not_allowed"),
        ("admin", 403, "role_not_allowed"),
        ("cityleader", 403, "role_not_allowed"),
        ("other_handler", 404, "ticket_not_found"),  # another unit may not learn the ticket exists
    ],
)
def test_only_the_lead_units_staff_bind(at_unit, actors, unchanged, who, status, code):
    refused(unchanged, at_unit, lambda: actions.bind(actors[who], at_unit.pk), status, code)


def test_an_assisting_unit_does_not_bind(new_ticket, pool, lines, actors, org, unchanged):
    ticket = new_ticket()
    ticket_actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk, assisting_unit_ids=[org["transport"].pk])
    refused(unchanged, ticket, lambda: actions.bind(actors["other_handler"], ticket.pk), 403, "not_lead_unit")


@pytest.mark.parametrize("status", ["returned", "replied", "closed"])
def test_not_once_the_unit_no_longer_holds_the_ticket(new_ticket, pool, lines, actors, unchanged, status):
    ticket = new_ticket(status)
    refused(unchanged, ticket, lambda: actions.bind(actors["handler"], ticket.pk), 409, "invalid_state")


def test_not_before_dispatch(new_ticket, pool, lines, actors, unchanged):
    ticket = new_ticket("submitted")
    refused(unchanged, ticket, lambda: actions.bind(actors["handler"], ticket.pk), 404, "ticket_not_found")


def test_not_without_the_requesters_consent(new_ticket, pool, lines, actors, unchanged):
    ticket = new_ticket("in_progress", contact_allowed=False)
    refused(unchanged, ticket, lambda: actions.bind(actors["handler"], ticket.pk), 403, "contact_not_allowed")


def test_not_without_a_phone(at_unit, actors, unchanged):
    at_unit.__class__.objects.filter(pk=at_unit.pk).update(requester_phone="")
    refused(unchanged, at_unit, lambda: actions.bind(actors["handler"], at_unit.pk), 409, "no_phone")


def test_not_without_the_handlers_line(at_unit, actors, users, unchanged):
    HandlerLine.objects.filter(user=users["handler"]).delete()
    refused(unchanged, at_unit, lambda: actions.bind(actors["handler"], at_unit.pk), 409, "no_handler_phone")


def test_not_when_the_handler_is_the_requester(at_unit, actors, users, unchanged):
    HandlerLine.objects.filter(user=users["handler"]).update(phone=A)
    refused(unchanged, at_unit, lambda: actions.bind(actors["handler"], at_unit.pk), 409, "same_number")


@pytest.mark.parametrize("pool_state", ["empty", "inactive", "carrier_not_configured"])
def test_no_free_number(at_unit, actors, unchanged, pool_state):
    if pool_state == "empty":
        VirtualNumber.objects.all().delete()
    elif pool_state == "inactive":
        VirtualNumber.objects.update(active=False)
    else:
        VirtualNumber.objects.update(provider="carrier")
    refused(unchanged, at_unit, lambda: actions.bind(actors["handler"], at_unit.pk), 409, "no_free_number")


# --- the AXB rule ----------------------------------------------------------------------------------


def test_one_number_serves_several_pairs(new_ticket, pool, lines, actors, users, org):
    """Different requesters and different handlers share X: the caller tells the bindings apart."""
    first = actions.bind(actors["handler"], new_ticket("in_progress").pk)
    ticket = new_ticket(requester_phone="13700000002")
    ticket_actions.dispatch(actors["dispatcher"], ticket.pk, org["transport"].pk)
    second = actions.bind(actors["other_handler"], ticket.pk)
    assert first.number == second.number
    assert actions.resolve(POOL[0], B) == (302, A, first.pk, "b_to_a")
    assert actions.resolve(POOL[0], "13912340003") == (302, "13700000002", second.pk, "b_to_a")
    assert actions.resolve(POOL[0], "13700000002") == (302, "13912340003", second.pk, "a_to_b")


def test_a_requester_is_on_one_binding_per_number(new_ticket, pool, lines, actors):
    """The same requester with two handlers needs two numbers (calling back must be unambiguous)."""
    ticket = new_ticket("in_progress")
    by_handler = actions.bind(actors["handler"], ticket.pk)
    by_leader = actions.bind(actors["leader"], ticket.pk)
    assert by_handler.number.number == POOL[0]
    assert by_leader.number.number == POOL[1]


def test_a_handler_is_on_one_binding_per_number(new_ticket, pool, lines, actors):
    first = actions.bind(actors["handler"], new_ticket("in_progress").pk)
    second = actions.bind(actors["handler"], new_ticket("in_progress", requester_phone="13700000002").pk)
    assert (first.number.number, second.number.number) == (POOL[0], POOL[1])


def test_a_handler_who_is_a_requester_on_a_number_does_not_share_it(new_ticket, pool, lines, actors):
    """The leader's line is the requester's number on X1: the leader's own binding avoids X1."""
    first = actions.bind(actors["handler"], new_ticket("in_progress", requester_phone=B_LEADER).pk)
    second = actions.bind(actors["leader"], new_ticket("in_progress", requester_phone="13700000002").pk)
    assert first.number != second.number


def test_the_pool_runs_out_and_frees_up(new_ticket, lines, actors, travel, unchanged):
    VirtualNumber.objects.create(number=POOL[0])
    travel("2026-12-01T10:00")
    ticket = new_ticket("in_progress")
    actions.bind(actors["handler"], ticket.pk)
    refused(unchanged, ticket, lambda: actions.bind(actors["leader"], ticket.pk), 409, "no_free_number")
    travel("2026-12-01T10:30")  # the handler's binding ran out (the job has not run yet)
    assert actions.bind(actors["leader"], ticket.pk).number.number == POOL[0]


def test_a_deactivated_number_keeps_its_bindings_until_they_end(at_unit, actors):
    binding = actions.bind(actors["handler"], at_unit.pk)
    VirtualNumber.objects.filter(pk=binding.number_id).update(active=False)
    assert actions.resolve(binding.number.number, B).status == 302
    assert actions.bind(actors["handler"], at_unit.pk).pk == binding.pk


# --- the end of bindings -----------------------------------------------------------------------------


def test_bindings_expire(at_unit, actors, travel):
    travel("2026-12-01T10:00")
    binding = actions.bind(actors["handler"], at_unit.pk)
    assert actions.expire_bindings(binding.expires_at - dt.timedelta(seconds=1)) == 0
    moment = travel("2026-12-01T10:31")
    assert actions.resolve(POOL[0], B).status == 404  # routing never waits for the job
    assert bindings_job.call_local() == {"closed": 0, "expired": 1}
    binding.refresh_from_db()
    assert (binding.active, binding.end_reason, binding.ended_at) == (False, "expired", moment)
    (event,) = events(at_unit, "call_unbound")
    assert (event.public, event.actor_role, event.data) == (False, "system", {"binding": binding.pk, "reason": "expired"})
    assert actions.expire_bindings() == 0  # idempotent


def test_bindings_end_when_the_ticket_closes(new_ticket, pool, lines, actors, users, travel):
    from minyi.org.actors import requester_actor

    travel("2026-12-01T10:00")
    ticket = new_ticket("in_progress")
    binding = actions.bind(actors["handler"], ticket.pk)
    ticket_actions.reply(actors["handler"], ticket.pk, "已安排维保单位更换电梯主板，并于本周五前完成检测。", outcome="resolved")
    assert actions.resolve(POOL[0], A).status == 302  # still reachable while awaiting the rating
    ticket_actions.rate(requester_actor(), None, rating="satisfied", code=ticket.access_code, number=ticket.number)
    assert actions.resolve(POOL[0], A).status == 404  # at once, before the job runs
    assert actions.end_bindings_for_closed_tickets() == 1
    binding.refresh_from_db()
    assert (binding.active, binding.end_reason) == (False, "ticket_closed")
    assert actions.end_bindings_for_closed_tickets() == 0


def test_bindings_end_when_the_ticket_goes_to_another_unit(new_ticket, pool, lines, actors, org):
    from conftest import LEGAL_BASIS

    ticket = new_ticket("dispatched")
    binding = actions.bind(actors["handler"], ticket.pk)
    ticket_actions.return_ticket(actors["handler"], ticket.pk, reason_code="not_our_remit", note="不属于本单位职责", legal_basis=LEGAL_BASIS)
    assert actions.end_bindings_for_closed_tickets() == 0  # returned: still the housing bureau's
    ticket_actions.dispatch(actors["dispatcher"], ticket.pk, org["transport"].pk)
    assert actions.end_bindings_for_closed_tickets() == 1
    binding.refresh_from_db()
    assert binding.end_reason == "unit_changed"


# --- routing and calls ----------------------------------------------------------------------------


def test_resolve_both_ways(at_unit, actors):
    binding = actions.bind(actors["handler"], at_unit.pk)
    assert actions.resolve(POOL[0], B) == (302, A, binding.pk, "b_to_a")
    assert actions.resolve("+86 755 8888 0001", "+86 138 0013 8000") == (302, B, binding.pk, "a_to_b")
    assert actions.resolve(POOL[0], "13000000000").status == 403
    assert actions.resolve(POOL[1], B).status == 404
    assert actions.resolve("", B).status == 404


def test_a_routed_call_is_recorded_once(at_unit, actors, travel):
    moment = travel("2026-12-01T10:05")
    binding = actions.bind(actors["handler"], at_unit.pk)
    found = actions.resolve(POOL[0], B)
    record = actions.record_call_start(found, "a84b4c76e66710@pc33.example")
    assert record is not None
    assert (record.binding_id, record.ticket_id, record.direction, record.caller_role) == (
        binding.pk, at_unit.pk, "b_to_a", "handler",
    )
    assert (record.started_at, record.ended_at, record.result) == (moment, None, "routed")
    assert len(record.call_ref) == 64 and "pc33" not in record.call_ref
    assert actions.record_call_start(found, "a84b4c76e66710@pc33.example") is None  # a repeated INVITE
    (event,) = events(at_unit, "call_started")
    assert (event.public, event.actor_id, event.actor_role) == (False, binding.handler_id, Role.HANDLER)
    assert event.data == {"call": record.pk, "direction": "b_to_a", "caller": "handler"}
    assert actions.record_call_start(actions.resolve(POOL[0], "13000000000"), "other") is None


def report(**fields):
    base = {
        "call_id": "call-1", "started_at": dt.datetime(2026, 12, 1, 2, 5, tzinfo=dt.UTC),
        "ended_at": dt.datetime(2026, 12, 1, 2, 8, tzinfo=dt.UTC),
    }
    return actions.CallReport(**{**base, **fields})


def test_the_end_of_a_routed_call_reaches_the_timeline(at_unit, actors, travel):
    travel("2026-12-01T10:05")
    actions.bind(actors["handler"], at_unit.pk)
    started = actions.record_call_start(actions.resolve(POOL[0], B), "call-1")
    answered = dt.datetime(2026, 12, 1, 2, 5, 20, tzinfo=dt.UTC)
    record, changed = actions.record_call(report(answered_at=answered))
    assert changed and started is not None and record.pk == started.pk
    assert (record.answered_at, record.duration_seconds, record.result) == (answered, 160, "answered")
    (event,) = events(at_unit, "unit_called")
    assert event.public is True  # the requester reads "the handling unit called you"
    assert event.data["duration_seconds"] == 160
    no_numbers(event.data)
    rows = public_timeline(at_unit)
    assert rows[-1]["kind"] == "unit_called" and rows[-1]["note"] == ""
    no_numbers(rows)
    # The same record again changes nothing.
    again, changed = actions.record_call(report(answered_at=answered, duration_seconds=999))
    assert (again.pk, changed, again.duration_seconds) == (record.pk, False, 160)
    assert len(events(at_unit, "unit_called")) == 1


def test_a_carriers_record_is_matched_by_number_and_caller(at_unit, actors, travel):
    travel("2026-12-01T10:00")
    binding = actions.bind(actors["handler"], at_unit.pk)
    record, changed = actions.record_call(
        report(call_id="carrier-77", number="+8675588880001", caller="+8613800138000", duration_seconds=42)
    )
    assert changed
    assert (record.binding_id, record.direction, record.caller_role, record.result) == (
        binding.pk, "a_to_b", "requester", "answered",
    )
    (event,) = events(at_unit, "call_ended")  # the requester's own call: internal
    assert (event.public, event.actor_role, event.actor_id) == (False, "requester", None)


def test_an_unanswered_call_from_the_unit_stays_internal(at_unit, actors, travel):
    travel("2026-12-01T10:00")
    actions.bind(actors["handler"], at_unit.pk)
    record, _changed = actions.record_call(report(number=POOL[0], caller=B))
    assert (record.direction, record.duration_seconds, record.result) == ("b_to_a", 0, "no_answer")
    assert [e.public for e in events(at_unit, "call_ended")] == [False]


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"number": POOL[0], "caller": "13000000000"}, 404, "binding_not_found"),  # a stranger
        ({"number": POOL[1], "caller": B}, 404, "binding_not_found"),
        ({"binding_ref": "nope"}, 404, "binding_not_found"),
        ({}, 422, "required"),
        ({"number": POOL[0], "caller": B, "call_id": " "}, 422, "required"),
        ({"number": POOL[0], "caller": B, "ended_at": dt.datetime(2026, 12, 1, 2, 4, tzinfo=dt.UTC)}, 422, "invalid_times"),
        ({"number": POOL[0], "caller": B, "result": "routed"}, 422, "invalid_result"),
        ({"number": POOL[0], "caller": B, "duration_seconds": -1}, 422, "invalid"),
    ],
)
def test_call_records_refused(at_unit, actors, travel, unchanged, fields, status, code):
    travel("2026-12-01T10:00")
    actions.bind(actors["handler"], at_unit.pk)
    refused(unchanged, at_unit, lambda: actions.record_call(report(**fields)), status, code)


def test_a_call_started_before_a_later_binding_is_not_matched_to_it(at_unit, actors, travel):
    travel("2026-12-01T11:00")
    actions.bind(actors["handler"], at_unit.pk)
    with pytest.raises(DomainError) as caught:  # the report's call was at 10:05, before any binding
        actions.record_call(report(number=POOL[0], caller=B))
    assert caught.value.code == "binding_not_found"


def test_a_unit_leader_without_roles_elsewhere(users, org, new_ticket, pool, lines):
    """A user with both a unit role and a platform role binds as the unit role."""
    from django.contrib.auth.models import Group

    from minyi.org.actors import actor_for_user

    both = make_user("both", [Role.UNIT_LEADER], org["housing"])
    both.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    HandlerLine.objects.create(user=both, phone="13912340009")
    binding = actions.bind(actor_for_user(both), new_ticket("in_progress").pk)
    assert binding.handler_role == Role.UNIT_LEADER
