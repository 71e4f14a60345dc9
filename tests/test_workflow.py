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
    "submitted", "dispatched", "returned", "in_progress", "replied", "under_review", "closed",
]
TRANSITIONS = ["submit", "direct_answer", "dispatch", "sign", "return", "reply", "rate", "close"]
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
    "sign": {"dispatched"},
    "return": {"dispatched"},
    "reply": {"in_progress"},
    "rate": {"replied"},
    "close": {"replied", "under_review"},
}

#: transition -> the roles that may take it
ROLES_ALLOWED = {
    "submit": {"intake_agent", "dispatcher", "public"},
    "direct_answer": {"intake_agent", "dispatcher"},
    "dispatch": {"dispatcher"},
    "sign": {"handler", "unit_leader"},
    "return": {"handler", "unit_leader"},
    "reply": {"handler", "unit_leader"},
    "rate": {"requester", "intake_agent", "supervisor"},
    "close": {"dispatcher", "supervisor", "system"},
}

#: status -> role -> the transitions offered (in page order); a missing role is offered none.
AVAILABLE = {
    "submitted": {
        "intake_agent": ["direct_answer"],
        "dispatcher": ["direct_answer", "dispatch"],
    },
    "dispatched": {"handler": ["sign", "return"], "unit_leader": ["sign", "return"]},
    "returned": {"dispatcher": ["dispatch"]},
    "in_progress": {"handler": ["reply"], "unit_leader": ["reply"]},
    "replied": {
        "intake_agent": ["rate"],
        "dispatcher": ["close"],
        "supervisor": ["rate", "close"],
        "requester": ["rate"],
        "system": ["close"],
    },
    "under_review": {"dispatcher": ["close"], "supervisor": ["close"], "system": ["close"]},
    "closed": {},
}


def test_the_vocabulary_is_the_one_tested_here():
    assert sorted(Status.values) == sorted(STATUSES)
    assert sorted(workflow.TRANSITIONS) == sorted(TRANSITIONS)
    assert tuple(TRANSITIONS) == workflow.ORDER


def test_open_and_terminal_groups_partition_the_statuses():
    assert set(OPEN_STATUSES) == {
        "submitted", "dispatched", "returned", "in_progress", "replied", "under_review"
    }
    assert set(TERMINAL_STATUSES) == {"closed"}
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
    ],
)
def test_role_for_several_roles(name, roles, expected):
    assert workflow.role_for(name, roles) == expected


@pytest.mark.parametrize(("status", "role"), list(itertools.product(STATUSES, ROLES)))
def test_available(status, role):
    assert workflow.available(status, frozenset({role})) == AVAILABLE[status].get(role, [])


def test_available_for_several_roles_keeps_page_order():
    assert workflow.available("replied", {"supervisor", "dispatcher", "intake_agent"}) == [
        "rate", "close"
    ]
    assert workflow.available("submitted", {"handler", "intake_agent", "dispatcher"}) == [
        "direct_answer", "dispatch"
    ]


@pytest.mark.parametrize(
    ("name", "rating", "target"),
    [
        ("submit", None, "submitted"),
        ("direct_answer", None, "closed"),
        ("dispatch", None, "dispatched"),
        ("sign", None, "in_progress"),
        ("return", None, "returned"),
        ("reply", None, "replied"),
        ("rate", "satisfied", "closed"),
        ("rate", "basically_satisfied", "closed"),
        ("rate", "dissatisfied", "under_review"),
        ("close", None, "closed"),
    ],
)
def test_target_for(name, rating, target):
    assert workflow.target_for(name, rating) == target


def test_every_rating_has_a_target():
    assert {r: workflow.target_for("rate", r) for r in Rating.values} == {
        "satisfied": "closed",
        "basically_satisfied": "closed",
        "dissatisfied": "under_review",
    }


@pytest.mark.parametrize(
    ("name", "unit_scoped"),
    [
        ("submit", False), ("direct_answer", False), ("dispatch", False), ("sign", True),
        ("return", True), ("reply", True), ("rate", False), ("close", False),
    ],
)
def test_unit_scope(name, unit_scoped):
    assert workflow.TRANSITIONS[name].unit_scoped is unit_scoped


def test_targets_are_statuses():
    for transition in workflow.TRANSITIONS.values():
        assert transition.targets
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
