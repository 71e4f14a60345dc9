"""Supervision orders (督办) through the API: the list, its filters and pages, who sees which
orders, and the orders on a ticket's detail."""

from __future__ import annotations

import pytest

from conftest import PASSWORD, approved_plan, assert_error, make_user
from minyi.supervision import actions as supervision
from minyi.supervision.models import SupervisionOrder
from minyi.tickets import actions

URL = "/api/v1/supervision/orders"


@pytest.fixture
def orders(new_ticket, travel, actors, org):
    """Four orders: two overdue tickets (housing's escalated once), a missed milestone, and a
    closed order; all tickets taken in on Monday 2 November 2026 (deadline 23 November)."""
    travel("2026-11-02T10:00")
    late = new_ticket("in_progress", title="电梯维修超期")
    transport = new_ticket(title="公交站台破损", category_id=org["bus"].pk)
    actions.dispatch(actors["dispatcher"], transport.pk, org["transport"].pk)
    actions.sign(actors["other_handler"], transport.pk)
    transport.refresh_from_db()
    planned = new_ticket("in_progress", title="老旧小区加装电梯")
    plan = approved_plan(actors, planned, "2026-11-20", "2026-12-18")
    settled = new_ticket("in_progress", title="已整改")

    made = {}
    for minute, (name, ticket, cause, milestone) in enumerate([
        ("late", late, "overdue", None),
        ("transport", transport, "overdue", None),
        ("milestone", planned, "milestone_missed", plan.milestones.get(seq=1)),
        ("settled", settled, "overdue", None),
    ]):
        travel(f"2026-11-24T10:0{minute}")
        made[name] = supervision.open_order(ticket, cause, milestone=milestone)
    travel("2026-11-24T10:30")
    supervision.close_order(made["settled"], "已整改完毕", now=travel("2026-11-24T10:30"))
    travel("2026-11-26T10:00")  # the first order's day to respond (25 November) has passed
    assert supervision.escalate(made["late"], now=travel("2026-11-26T10:00"), ladder=supervision.levels())
    for order in made.values():
        order.refresh_from_db()
    made["tickets"] = {"late": late, "transport": transport, "milestone": planned, "settled": settled}
    return made


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def of(orders, *names) -> list[int]:
    return [orders[n].pk for n in names]


def test_a_row(api, orders, org):
    rows = {row["id"]: row for row in api("get", URL, "supervisor").json()["results"]}
    late, ticket = orders["late"], orders["tickets"]["late"]
    assert rows[late.pk] == {
        "id": late.pk, "cause": "overdue", "level": 2, "level_name": "正式督办通知", "status": "open",
        "opened_at": "2026-11-24T10:00:00+08:00", "due_at": "2026-11-30T23:59:59+08:00",
        "closed_at": None, "close_reason": "", "reason": "", "answer": "", "answered_at": None,
        "ticket_id": ticket.pk, "ticket_number": ticket.number, "ticket_title": "电梯维修超期",
        "unit_id": org["housing"].pk, "unit": "深圳市住房和建设局", "milestone_id": None,
    }
    settled = rows[orders["settled"].pk]
    assert (settled["status"], settled["closed_at"], settled["close_reason"], settled["level_name"]) == (
        "closed", "2026-11-24T10:30:00+08:00", "已整改完毕", "催办提醒"
    )
    milestone = rows[orders["milestone"].pk]
    assert (milestone["cause"], milestone["milestone_id"], milestone["due_at"]) == (
        "milestone_missed", orders["milestone"].milestone_id, "2026-11-25T23:59:59+08:00"
    )


#: who -> the orders they see, newest first
SEES = {
    "supervisor": ["settled", "milestone", "transport", "late"],
    "cityleader": ["settled", "milestone", "transport", "late"],
    "admin": ["settled", "milestone", "transport", "late"],
    "dispatcher": ["settled", "milestone", "transport", "late"],
    "handler": ["settled", "milestone", "late"],
    "leader": ["settled", "milestone", "late"],
    "other_handler": ["transport"],
    "agent": [],
}


@pytest.mark.parametrize("who", list(SEES))
def test_who_sees_which_orders(api, orders, who):
    response = api("get", URL, who)
    assert ids(response) == of(orders, *SEES[who])
    assert response.json()["count"] == len(SEES[who])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "open"}, ["milestone", "transport", "late"]),
        ({"status": "closed"}, ["settled"]),
        ({"level": 2}, ["late"]),
        ({"level": 1, "status": "open"}, ["milestone", "transport"]),
        ({"cause": "milestone_missed"}, ["milestone"]),
        ({"cause": "overdue", "status": "open"}, ["transport", "late"]),
        ({"unit_id": "TRANSPORT"}, ["transport"]),
        ({"level": 4}, []),
    ],
)
def test_filters(api, orders, org, query, expected):
    if query.get("unit_id") == "TRANSPORT":
        query = {"unit_id": org["transport"].pk}
    assert ids(api("get", URL, "supervisor", query)) == of(orders, *expected)


def test_a_unit_cannot_filter_its_way_to_another_units_orders(api, orders, org):
    assert ids(api("get", URL, "handler", {"unit_id": org["transport"].pk})) == []


def test_pages(api, orders):
    first = api("get", URL, "supervisor", {"page_size": 3})
    assert (first.json()["count"], first.json()["page"], first.json()["page_size"]) == (4, 1, 3)
    assert ids(first) == of(orders, "settled", "milestone", "transport")
    assert ids(api("get", URL, "supervisor", {"page_size": 3, "page": 2})) == of(orders, "late")
    assert api("get", URL, "supervisor", {"page_size": 3, "page": 9}).json()["page"] == 2
    assert api("get", URL, "supervisor", {"page_size": 0}).json()["page_size"] == 1
    assert api("get", URL, "supervisor", {"page_size": 500}).json()["page_size"] == 100


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ({"status": "pending"}, "invalid_status", "status"),
        ({"cause": "late"}, "invalid_cause", "cause"),
        ({"level": "high"}, "invalid", "level"),
    ],
)
def test_unknown_filters_are_refused(api, orders, query, code, field):
    assert_error(api("get", URL, "supervisor", query), 422, code, field)


def test_the_list_needs_a_staff_role(api, api_client, orders):
    assert_error(api("get", URL), 401, "not_authenticated")
    make_user("nobody", [], None)
    token = api_client.post("/api/v1/auth/token", {"username": "nobody", "password": PASSWORD},
                            content_type="application/json").json()["token"]
    assert_error(api_client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}"), 403, "no_role")


def test_orders_on_the_tickets_detail(api, orders):
    body = api("get", f"/api/v1/tickets/{orders['tickets']['late'].pk}", "handler").json()
    assert body["supervision_orders"] == [{
        "id": orders["late"].pk, "cause": "overdue", "level": 2, "level_name": "正式督办通知", "status": "open",
        "opened_at": "2026-11-24T10:00:00+08:00", "due_at": "2026-11-30T23:59:59+08:00",
        "closed_at": None, "close_reason": "", "reason": "", "answer": "", "answered_at": None,
    }]
    assert (body["warning"], body["overdue"]) == ("overdue", True)
    settled = api("get", f"/api/v1/tickets/{orders['tickets']['settled'].pk}", "supervisor").json()
    assert [(o["status"], o["close_reason"]) for o in settled["supervision_orders"]] == [("closed", "已整改完毕")]


def test_the_list_runs_a_constant_number_of_queries(api, orders, new_ticket, travel):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api("get", URL, "supervisor")

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api("get", URL, "supervisor").status_code == 200
        return len(captured)

    few = count()
    for i in range(6):
        supervision.open_order(new_ticket("in_progress", title=f"超期{i}"), SupervisionOrder.Cause.OVERDUE)
    assert count() == few
