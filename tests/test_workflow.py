"""The workflow table, row by row. Pure: no database.

The expected values are written out here, from the domain rules (docs/domain.md and ADR 0002),
not derived from `minyi.tickets.workflow`; a change to the table must change these tables too.
"""

from __future__ import annotations

import itertools

import pytest

from minyi.tickets import workflow
from minyi.tickets.choices import OPEN_STATUSES, TERMINAL_STATUSES, Rating, Status

STATUSES = [
    "submitted", "dispatched", "returned", "in_progress", "pending_approval", "replied", "under_review", "closed",
    "merged",
]
TRANSITIONS = [
    "submit", "direct_answer", "dispatch", "arbitrate", "merge", "sign", "return", "assist_input", "reply",
    "approve_reply", "reject_reply", "rate", "review", "close", "require_new_reply",
    "request_extension", "decide_extension", "file_plan", "decide_plan", "record_milestone",
]
#: Acts that keep the ticket's state: an assisting unit's input (协办), and the time limits
#: (extensions, staged-closure plans).
KEEP_STATE = [
    "assist_input", "request_extension", "decide_extension", "file_plan", "decide_plan", "record_milestone",
]
#: Staff roles, then the pseudo-roles: the public (no login), the requester (number + code), the
#: platform itself (background jobs).
ROLES = [
    "intake_agent", "dispatcher", "handler", "unit_leader", "supervisor", "city_leader", "admin",
    "public", "requester", "system",
]

#: transition -> the statuses it may start from
SOURCES = {
    "submit": set(),  # only from "no ticket yet"
    "direct_answer": {"submitted"},
    "dispatch": {"submitted", "returned"},
    "arbitrate": {"returned"},
    "merge": {"submitted", "returned"},  # not once a unit holds it
    "sign": {"dispatched"},
    "return": {"dispatched"},
    "assist_input": {"dispatched", "in_progress"},
    "reply": {"in_progress"},
    "approve_reply": {"pending_approval"},
    "reject_reply": {"pending_approval"},
    "rate": {"replied"},
    "review": {"under_review"},
    "close": {"replied", "under_review"},
    "require_new_reply": {"replied"},
    "request_extension": {"in_progress"},
    "decide_extension": {"in_progress"},
    "file_plan": {"in_progress"},
    "decide_plan": {"in_progress"},
    "record_milestone": {"in_progress"},
}

#: transition -> the roles that may take it
ROLES_ALLOWED = {
    "submit": {"intake_agent", "dispatcher", "public"},
    "direct_answer": {"intake_agent", "dispatcher"},
    "dispatch": {"dispatcher", "system"},  # the system: auto-dispatch by a routing rule
    "arbitrate": {"dispatcher"},
    "merge": {"intake_agent", "dispatcher"},
    "sign": {"handler", "unit_leader"},
    "return": {"handler", "unit_leader"},
    "assist_input": {"handler", "unit_leader"},  # of an assisting unit (access checks the unit)
    "reply": {"handler", "unit_leader"},
    "approve_reply": {"unit_leader"},  # escalated handling: the leader signs the reply
    "reject_reply": {"unit_leader"},
    "rate": {"requester", "intake_agent", "supervisor"},
    "review": {"dispatcher", "supervisor"},
    "close": {"dispatcher", "supervisor", "system"},
    "require_new_reply": {"supervisor"},
    "request_extension": {"handler", "unit_leader"},
    "decide_extension": {"supervisor"},
    "file_plan": {"handler", "unit_leader"},
    "decide_plan": {"supervisor"},
    "record_milestone": {"handler", "unit_leader"},
}

#: status -> role -> the transitions offered (in page order); a missing role is offered none.
AVAILABLE = {
    "submitted": {
        "intake_agent": ["direct_answer", "merge"],
        "dispatcher": ["direct_answer", "dispatch", "merge"],
        "system": ["dispatch"],
    },
    "dispatched": {
        "handler": ["sign", "return", "assist_input"],
        "unit_leader": ["sign", "return", "assist_input"],
    },
    "returned": {
        "intake_agent": ["merge"], "dispatcher": ["dispatch", "arbitrate", "merge"], "system": ["dispatch"],
    },
    "in_progress": {
        "handler": ["assist_input", "reply", "request_extension", "file_plan", "record_milestone"],
        "unit_leader": ["assist_input", "reply", "request_extension", "file_plan", "record_milestone"],
        "supervisor": ["decide_extension", "decide_plan"],
    },
    "pending_approval": {"unit_leader": ["approve_reply", "reject_reply"]},
    "replied": {
        "intake_agent": ["rate"],
        "dispatcher": ["close"],
        "supervisor": ["rate", "close", "require_new_reply"],
        "requester": ["rate"],
        "system": ["close"],
    },
    "under_review": {
        "dispatcher": ["review", "close"], "supervisor": ["review", "close"], "system": ["close"],
    },
    "closed": {},
    "merged": {},
}


def test_the_vocabulary_is_the_one_tested_here():
    assert sorted(Status.values) == sorted(STATUSES)
    assert sorted(workflow.TRANSITIONS) == sorted(TRANSITIONS)
    assert tuple(TRANSITIONS) == workflow.ORDER


def test_open_and_terminal_groups_partition_the_statuses():
    assert set(OPEN_STATUSES) == {
        "submitted", "dispatched", "returned", "in_progress", "pending_approval", "replied", "under_review"
    }
    assert set(TERMINAL_STATUSES) == {"closed", "merged"}
    assert not OPEN_STATUSES & TERMINAL_STATUSES


@pytest.mark.parametrize(("name", "status"), list(itertools.product(TRANSITIONS, STATUSES)))
def test_state_allows(name, status):
    assert workflow.state_allows(name, status) is (status in SOURCES[name])


def test_submit_starts_from_no_ticket():
    assert workflow.state_allows("submit", "") is True
    assert workflow.state_allows("dispatch", "") is False


@pytest.mark.parametrize(("name", "role"), list(itertools.product(TRANSITIONS, ROLES)))
def test_role_for_a_single_role(name, role):
    expected = role if role in ROLES_ALLOWED[name] else None
    assert workflow.role_for(name, frozenset({role})) == expected


@pytest.mark.parametrize(
    ("name", "roles", "expected"),
    [
        # Several qualifying roles: the alphabetically first is recorded.
        ("rate", {"supervisor", "intake_agent"}, "intake_agent"),
        ("close", {"system", "supervisor", "dispatcher"}, "dispatcher"),
        ("sign", {"unit_leader", "handler"}, "handler"),
        ("submit", {"public", "intake_agent"}, "intake_agent"),
        # Roles that do not qualify are ignored.
        ("dispatch", {"city_leader", "dispatcher"}, "dispatcher"),
        ("reply", {"dispatcher", "supervisor", "admin"}, None),
        ("close", set(), None),
        ("sign", {"no-such-role"}, None),
        ("request_extension", {"unit_leader", "handler"}, "handler"),
        ("decide_extension", {"dispatcher", "supervisor"}, "supervisor"),
        ("decide_plan", {"dispatcher", "admin", "city_leader"}, None),
    ],
)
def test_role_for_several_roles(name, roles, expected):
    assert workflow.role_for(name, roles) == expected


@pytest.mark.parametrize(("status", "role"), list(itertools.product(STATUSES, ROLES)))
def test_available(status, role):
    assert workflow.available(status, frozenset({role})) == AVAILABLE[status].get(role, [])


def test_available_for_several_roles_keeps_page_order():
    assert workflow.available("replied", {"supervisor", "dispatcher", "intake_agent"}) == [
        "rate", "close", "require_new_reply"
    ]
    assert workflow.available("submitted", {"handler", "intake_agent", "dispatcher"}) == [
        "direct_answer", "dispatch", "merge"
    ]
    assert workflow.available("in_progress", {"supervisor", "handler"}) == [
        "assist_input", "reply", "request_extension", "decide_extension", "file_plan", "decide_plan", "record_milestone"
    ]


@pytest.mark.parametrize(
    ("name", "rating", "target"),
    [
        ("submit", None, "submitted"),
        ("direct_answer", None, "closed"),
        ("dispatch", None, "dispatched"),
        ("arbitrate", None, "dispatched"),
        ("merge", None, "merged"),
        ("sign", None, "in_progress"),
        ("return", None, "returned"),
        ("reply", None, "replied"),
        ("approve_reply", None, "replied"),
        ("reject_reply", None, "in_progress"),
        ("review", None, "closed"),
        ("require_new_reply", None, "in_progress"),
        ("rate", "satisfied", "closed"),
        ("rate", "basically_satisfied", "closed"),
        ("rate", "dissatisfied", "under_review"),
        ("close", None, "closed"),
    ],
)
def test_target_for(name, rating, target):
    assert workflow.target_for(name, rating) == target


def test_a_reply_under_escalated_handling_waits_for_approval():
    assert workflow.target_for("reply", needs_approval=True) == "pending_approval"
    assert workflow.target_for("reply", needs_approval=False) == "replied"


def test_a_review_redoes_or_closes():
    assert workflow.target_for("review", redo=True) == "in_progress"
    assert workflow.target_for("review", redo=False) == "closed"


@pytest.mark.parametrize("name", KEEP_STATE)
def test_time_limit_acts_keep_the_state(name):
    assert workflow.TRANSITIONS[name].targets == ()
    assert workflow.target_for(name, current="in_progress") == "in_progress"


def test_every_rating_has_a_target():
    assert {r: workflow.target_for("rate", r) for r in Rating.values} == {
        "satisfied": "closed",
        "basically_satisfied": "closed",
        "dissatisfied": "under_review",
    }


@pytest.mark.parametrize(
    ("name", "unit_scoped"),
    [
        ("submit", False), ("direct_answer", False), ("dispatch", False), ("arbitrate", False),
        ("merge", False), ("sign", True), ("return", True), ("assist_input", False), ("reply", True), ("rate", False),
        ("close", False), ("approve_reply", True), ("reject_reply", True), ("review", False),
        ("require_new_reply", False),
        ("request_extension", True), ("decide_extension", False), ("file_plan", True),
        ("decide_plan", False), ("record_milestone", True),
    ],
)
def test_unit_scope(name, unit_scoped):
    assert workflow.TRANSITIONS[name].unit_scoped is unit_scoped


def test_only_assist_input_is_for_assisting_units():
    assert [t.name for t in workflow.TRANSITIONS.values() if t.assisting_scoped] == ["assist_input"]


def test_targets_are_statuses():
    for transition in workflow.TRANSITIONS.values():
        assert bool(transition.targets) is (transition.name not in KEEP_STATE), transition.name
        assert set(transition.targets) <= set(STATUSES), transition.name


@pytest.mark.parametrize("status", sorted(OPEN_STATUSES))
def test_every_open_status_has_an_exit(status):
    exits = [name for name in TRANSITIONS if workflow.state_allows(name, status)]
    assert exits, f"{status} is a dead end"
    # ...and somebody may take it.
    assert any(workflow.TRANSITIONS[name].roles for name in exits)


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_terminal_statuses_have_no_exit(status):
    assert [name for name in TRANSITIONS if workflow.state_allows(name, status)] == []


def _reachable_from_submit() -> set[str]:
    seen: set[str] = set()
    frontier = [""]
    while frontier:
        status = frontier.pop()
        for transition in workflow.TRANSITIONS.values():
            if status in transition.sources:
                for target in transition.targets:
                    if target not in seen:
                        seen.add(target)
                        frontier.append(target)
    return seen


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_is_reachable_from_submit(status):
    assert status in _reachable_from_submit()


def test_closed_is_reachable_from_every_open_status():
    """No open ticket can get stuck: some path leads from it to `closed`."""
    edges = {
        source: {t for tr in workflow.TRANSITIONS.values() if source in tr.sources for t in tr.targets}
        for source in STATUSES
    }
    for status in OPEN_STATUSES:
        seen, frontier = {status}, [status]
        while frontier:
            for nxt in edges[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert "closed" in seen, status
