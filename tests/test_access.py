"""The access functions: who sees which ticket, who may act, what personal data they see."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from conftest import make_user
from minyi.core.errors import Forbidden, NotAuthenticated, NotFound
from minyi.org.actors import actor_for_user, requester_actor, system_actor
from minyi.tickets import access, actions


@pytest.fixture
def tickets(new_ticket, org, actors):
    """A housing ticket, a transport ticket with housing assisting, and an undispatched one."""
    housing = new_ticket("dispatched")
    transport = new_ticket("submitted")
    actions.dispatch(
        actors["dispatcher"], transport.pk, org["transport"].pk, assisting_unit_ids=[org["housing"].pk]
    )
    transport.refresh_from_db()
    waiting = new_ticket("submitted")
    return {"housing": housing, "transport": transport, "waiting": waiting}


def visible(actor) -> set[str]:
    return set(access.access_ticket_queryset(actor).values_list("number", flat=True))


#: who -> the tickets they see
SEES = {
    "agent": {"housing", "transport", "waiting"},
    "dispatcher": {"housing", "transport", "waiting"},
    "supervisor": {"housing", "transport", "waiting"},
    "cityleader": {"housing", "transport", "waiting"},
    "admin": {"housing", "transport", "waiting"},
    # Unit roles: their lead tickets and those they assist on.
    "handler": {"housing", "transport"},
    "leader": {"housing", "transport"},
    "other_handler": {"transport"},
}


def test_who_sees_which_ticket(actors, tickets):
    for who, sees in SEES.items():
        assert visible(actors[who]) == {tickets[name].number for name in sees}, who


def test_the_system_sees_everything_and_the_public_nothing(tickets):
    assert len(visible(system_actor())) == 3
    assert visible(actor_for_user(AnonymousUser())) == set()
    assert visible(requester_actor()) == set()


def test_a_unit_role_without_a_unit_sees_nothing(org, tickets):
    assert visible(actor_for_user(make_user("drifter", ["handler"], None))) == set()


def test_assisting_does_not_duplicate_rows(actors, tickets):
    qs = access.access_ticket_queryset(actors["handler"])
    assert qs.count() == 2


def test_access_ticket(actors, tickets):
    assert access.access_ticket(actors["other_handler"], tickets["transport"].pk) == tickets["transport"]
    for for_update in (False, True):
        with pytest.raises(NotFound) as caught:
            access.access_ticket(actors["other_handler"], tickets["housing"].pk, for_update=for_update)
        assert caught.value.code == "ticket_not_found"
        with pytest.raises(NotFound):
            access.access_ticket(actors["handler"], tickets["waiting"].pk, for_update=for_update)


def test_require_staff(users, actors, db):
    with pytest.raises(NotAuthenticated):
        access.require_staff(actor_for_user(AnonymousUser()))
    with pytest.raises(NotAuthenticated):
        access.require_staff(requester_actor())
    nobody = make_user("nobody", [], None)
    with pytest.raises(Forbidden) as caught:
        access.require_staff(actor_for_user(nobody))
    assert caught.value.code == "no_role"
    access.require_staff(actors["cityleader"])
    access.require_staff(system_actor())


def test_superusers_are_admins(db):
    from django.contrib.auth.models import User

    root = User.objects.create_superuser("root", password="x-pass-1")  # noqa: S106
    assert actor_for_user(root).roles == frozenset({"admin"})
    assert actor_for_user(root).city_wide is True


def test_access_track_answers_alike_for_wrong_number_and_wrong_code(new_ticket):
    ticket = new_ticket()
    assert access.access_track(ticket.number, ticket.access_code) == ticket
    assert access.access_track(f" {ticket.number} ", ticket.access_code.lower()) == ticket
    answers = set()
    for number, code in [
        (ticket.number, "WRONGCODE2"),
        ("20200101-000001", ticket.access_code),
        ("", ticket.access_code),
        (ticket.number, ""),
        (ticket.number, "-- --"),
    ]:
        with pytest.raises(NotFound) as caught:
            access.access_track(number, code)
        answers.add((caught.value.code, str(caught.value.message)))
    assert len(answers) == 1
    assert answers.pop()[0] == "track_not_found"


@pytest.mark.parametrize(
    ("status", "who", "expected"),
    [
        ("submitted", "dispatcher", ["dispatch", "merge"]),  # a complaint: no direct answer
        ("submitted", "agent", ["merge"]),
        ("dispatched", "handler", ["sign", "return"]),
        ("dispatched", "leader", ["sign", "return"]),
        ("dispatched", "dispatcher", []),
        ("in_progress", "handler", ["reply", "request_extension", "file_plan"]),
        ("in_progress", "leader", ["reply", "request_extension", "file_plan"]),
        ("in_progress", "supervisor", []),  # nothing waits for a decision
        ("in_progress", "dispatcher", []),
        ("replied", "agent", ["rate"]),
        ("replied", "supervisor", ["rate", "close"]),
        ("replied", "dispatcher", ["close"]),
        ("replied", "handler", []),
        ("returned", "dispatcher", ["dispatch", "arbitrate", "merge"]),
        ("returned", "handler", []),
        ("closed", "supervisor", []),
        ("dispatched", "cityleader", []),
        ("dispatched", "admin", []),
    ],
)
def test_available_transitions(new_ticket, actors, status, who, expected):
    assert access.available_transitions(actors[who], new_ticket(status)) == expected


#: the ticket's time-limit records -> (the handler's offer, the supervisor's offer)
TIME_LIMIT_OFFERS = [
    ("nothing yet", ["reply", "request_extension", "file_plan"], []),
    ("extension pending", ["reply", "file_plan"], ["decide_extension"]),
    ("one extension approved", ["reply", "request_extension", "file_plan"], []),
    ("extension refused", ["reply", "request_extension", "file_plan"], []),
    ("two extensions approved", ["reply", "file_plan"], []),
    ("unit deadline passed", ["reply", "file_plan"], []),
    ("plan pending", ["reply", "request_extension"], ["decide_plan"]),
    ("plan and extension pending", ["reply"], ["decide_extension", "decide_plan"]),
    ("plan refused", ["reply", "request_extension", "file_plan"], []),
    ("plan approved", ["reply", "record_milestone"], []),
    ("plan completed", ["reply", "request_extension"], []),
]


@pytest.mark.parametrize(("records", "handler", "supervisor"), TIME_LIMIT_OFFERS)
def test_available_time_limit_acts(new_ticket, actors, travel, records, handler, supervisor):
    from conftest import approved_plan, extend, file_plan, request_extension
    from minyi.sla import actions as sla_actions

    travel("2026-11-02T10:00")
    ticket = new_ticket("in_progress")  # both deadlines: 2026-11-23 23:59:59
    if records == "extension pending":
        request_extension(actors["handler"], ticket)
    elif records == "one extension approved":
        extend(actors, ticket)
    elif records == "extension refused":
        request_extension(actors["handler"], ticket)
        sla_actions.decide_extension(actors["supervisor"], ticket.pk, approve=False, note="理由不充分")
    elif records == "two extensions approved":
        extend(actors, ticket)
        extend(actors, ticket)
    elif records == "unit deadline passed":
        travel("2026-11-24T00:00:00")
    elif records == "plan pending":
        file_plan(actors["handler"], ticket, "2026-11-20", "2026-12-18")
    elif records == "plan and extension pending":
        request_extension(actors["handler"], ticket)
        file_plan(actors["handler"], ticket, "2026-11-20", "2026-12-18")
    elif records == "plan refused":
        file_plan(actors["handler"], ticket, "2026-11-20")
        sla_actions.decide_plan(actors["supervisor"], ticket.pk, approve=False, note="节点过于宽松")
    elif records in ("plan approved", "plan completed"):
        plan = approved_plan(actors, ticket, "2026-11-20")
        if records == "plan completed":
            sla_actions.record_milestone(
                actors["handler"], ticket.pk, milestone_id=plan.milestones.get().pk, evidence="业主表决通过"
            )
    ticket.refresh_from_db()
    assert access.available_transitions(actors["handler"], ticket) == handler
    assert access.available_transitions(actors["leader"], ticket) == handler
    assert access.available_transitions(actors["supervisor"], ticket) == supervisor
    assert access.available_transitions(actors["other_handler"], ticket) == []


def test_the_time_limit_guards_are_read_only_when_needed(new_ticket, actors, django_assert_num_queries):
    ticket = new_ticket("dispatched")
    with django_assert_num_queries(0):
        assert access.available_transitions(actors["handler"], ticket) == ["sign", "return"]


def test_available_transitions_for_a_consultation(new_ticket, actors):
    ticket = new_ticket(type="consultation")
    assert access.available_transitions(actors["dispatcher"], ticket) == ["direct_answer", "dispatch", "merge"]
    assert access.available_transitions(actors["agent"], ticket) == ["direct_answer", "merge"]


def test_an_assisting_unit_is_offered_only_its_input(actors, tickets):
    assert access.available_transitions(actors["handler"], tickets["transport"]) == ["assist_input"]
    assert access.available_transitions(actors["other_handler"], tickets["transport"]) == ["sign", "return"]
    with pytest.raises(Forbidden) as caught:
        access.transition_role(actors["handler"], tickets["transport"], "sign")
    assert caught.value.code == "not_lead_unit"
