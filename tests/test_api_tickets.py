"""Reading tickets through the API: lists, filters, pages, visibility, detail and timeline."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import LEGAL_BASIS, assert_error, shanghai
from minyi.core import clock
from minyi.org.models import Category
from minyi.tickets import actions

URL = "/api/v1/tickets"


@pytest.fixture
def mix(new_ticket, org, actors):
    """Five tickets across types, categories, districts, units and statuses."""
    district_bus = Category.objects.create(code="020101", name="公交线路", parent=org["bus"])
    t = {
        "elevator": new_ticket("in_progress", title="小区电梯经常故障"),
        "noise": new_ticket("dispatched", title="夜间施工噪音扰民", type="report"),
        "busline": new_ticket(
            "submitted", title="公交线路调整咨询", type="consultation", category_id=district_bus.pk,
            district="440305", street="440305001",
        ),
        "bus_card": new_ticket("submitted", title="公交卡补办", type="consultation", category_id=org["bus"].pk),
        "closed": new_ticket("closed", title="楼道灯不亮"),
    }
    actions.dispatch(actors["dispatcher"], t["bus_card"].pk, org["transport"].pk)
    return t


def same_instant(text: str, value: dt.datetime) -> bool:
    """JSON times carry milliseconds."""
    return dt.datetime.fromisoformat(text) == value.replace(microsecond=value.microsecond // 1000 * 1000)


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


def of(mix, *names) -> list[str]:
    """Numbers newest first (the list's order)."""
    return sorted((mix[n].number for n in names), reverse=True)


#: query -> the tickets listed (one fixture for the whole table: building it is the slow part)
FILTERS = [
    ({}, ["elevator", "noise", "busline", "bus_card", "closed"]),
    ({"status": "submitted"}, ["busline"]),
    ({"status": "dispatched,in_progress"}, ["elevator", "noise", "bus_card"]),
    ({"status": "closed"}, ["closed"]),
    ({"type": "consultation"}, ["busline", "bus_card"]),
    ({"type": "report"}, ["noise"]),
    ({"district": "440305"}, ["busline"]),
    ({"district": "福田区"}, ["elevator", "noise", "bus_card", "closed"]),
    ({"q": "公交"}, ["busline", "bus_card"]),
    ({"q": "电梯"}, ["elevator"]),
    ({"q": "没有这样的标题"}, []),
    ({"status": "submitted,dispatched", "type": "consultation"}, ["busline", "bus_card"]),
]


def test_filters(api, mix):
    for query, expected in FILTERS:
        assert numbers(api("get", URL, "dispatcher", query)) == of(mix, *expected), query


def test_filter_by_unit(api, mix, org):
    assert numbers(api("get", URL, "dispatcher", {"unit_id": org["transport"].pk})) == of(mix, "bus_card")
    assert numbers(api("get", URL, "dispatcher", {"unit_id": org["housing"].pk})) == of(
        mix, "elevator", "noise", "closed"
    )


def test_filter_by_category_includes_children_and_grandchildren(api, mix, org):
    traffic = api("get", URL, "dispatcher", {"category_id": org["traffic"].pk})
    assert numbers(traffic) == of(mix, "busline", "bus_card")
    assert numbers(api("get", URL, "dispatcher", {"category_id": org["bus"].pk})) == of(mix, "busline", "bus_card")
    leaf = Category.objects.get(code="020101")
    assert numbers(api("get", URL, "dispatcher", {"category_id": leaf.pk})) == of(mix, "busline")
    assert numbers(api("get", URL, "dispatcher", {"category_id": org["urban"].pk})) == of(
        mix, "elevator", "noise", "closed"
    )


def test_filter_by_number(api, mix):
    assert numbers(api("get", URL, "dispatcher", {"q": mix["noise"].number})) == [mix["noise"].number]


def test_filter_overdue(api, mix):
    later = clock.now() + dt.timedelta(days=60)
    with clock.frozen_at(later):
        overdue = numbers(api("get", URL, "dispatcher", {"overdue": "true"}))
        on_time = numbers(api("get", URL, "dispatcher", {"overdue": "false"}))
    assert overdue == of(mix, "elevator", "noise", "busline", "bus_card")
    assert on_time == of(mix, "closed")
    assert numbers(api("get", URL, "dispatcher", {"overdue": "true"})) == []


def test_unknown_status_or_type_is_refused(api, mix):
    assert_error(api("get", URL, "dispatcher", {"status": "lost"}), 422, "invalid_status", "status")
    assert_error(api("get", URL, "dispatcher", {"status": "submitted,lost"}), 422, "invalid_status", "status")
    # A typo must not look like "no tickets".
    assert_error(api("get", URL, "dispatcher", {"type": "complaints"}), 422, "invalid_type", "type")


def test_pagination(api, mix):
    everything = of(mix, "elevator", "noise", "busline", "bus_card", "closed")
    first = api("get", URL, "dispatcher", {"page_size": 2})
    assert (first.json()["count"], first.json()["page"], first.json()["page_size"]) == (5, 1, 2)
    assert numbers(first) == everything[:2]
    assert numbers(api("get", URL, "dispatcher", {"page_size": 2, "page": 2})) == everything[2:4]
    assert numbers(api("get", URL, "dispatcher", {"page_size": 2, "page": 3})) == everything[4:]
    # Past the end: the last page; page size is clamped to 1..100.
    assert api("get", URL, "dispatcher", {"page_size": 2, "page": 99}).json()["page"] == 3
    assert api("get", URL, "dispatcher", {"page_size": 0}).json()["page_size"] == 1
    assert api("get", URL, "dispatcher", {"page_size": 1000}).json()["page_size"] == 100


def test_summary_fields(api, new_ticket, org, actors):
    # Received Monday 2 November 2026 10:00, dispatched the next morning: a report has 15
    # working days on each clock (no holiday in November 2026).
    with clock.frozen_at(shanghai("2026-11-02T10:00")):
        ticket = new_ticket(title="夜间施工噪音扰民", type="report")
    with clock.frozen_at(shanghai("2026-11-03T09:00")):
        actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk)
        row = api("get", URL, "dispatcher", {"q": ticket.number}).json()["results"][0]
    assert row == {
        "id": ticket.pk, "number": ticket.number, "status": "dispatched", "status_label": row["status_label"],
        "type": "report", "urgent": False, "title": "夜间施工噪音扰民", "channel": "hotline",
        "category_id": org["property"].pk, "category": "物业管理", "district": "福田区", "street": "莲花街道",
        "lead_unit_id": org["housing"].pk, "lead_unit": "深圳市住房和建设局",
        "created_at": row["created_at"], "overdue": False,
        "due_at": "2026-11-23T23:59:59+08:00", "unit_due_at": "2026-11-24T23:59:59+08:00",
        "provisional": False, "warning": "on_time",
    }
    assert same_instant(row["created_at"], shanghai("2026-11-02T10:00"))
    assert row["status_label"]


# --- visibility -------------------------------------------------------------------------------


def test_unit_roles_see_their_units_tickets_only(api, mix):
    assert numbers(api("get", URL, "handler")) == of(mix, "elevator", "noise", "closed")
    assert numbers(api("get", URL, "other_handler")) == of(mix, "bus_card")


def test_another_unit_sees_none_of_housings_tickets(api, mix):
    for name in ["elevator", "noise", "closed"]:
        ticket = mix[name]
        assert numbers(api("get", URL, "other_handler", {"q": ticket.number})) == []
        assert_error(api("get", f"{URL}/{ticket.pk}", "other_handler"), 404, "ticket_not_found")
        assert_error(api("get", f"{URL}/{ticket.pk}/events", "other_handler"), 404, "ticket_not_found")
    # Filtering by housing's unit id does not open the door either.
    housing_id = mix["elevator"].lead_unit_id
    assert numbers(api("get", URL, "other_handler", {"unit_id": housing_id})) == []


def test_a_ticket_not_yet_dispatched_is_invisible_to_units(api, mix):
    assert_error(api("get", f"{URL}/{mix['busline'].pk}", "handler"), 404, "ticket_not_found")


def test_an_assisting_unit_sees_the_ticket(api, mix, org):
    ticket = mix["bus_card"]  # dispatched to transport
    ticket.assisting_units.add(org["housing"])
    assert mix["bus_card"].number in numbers(api("get", URL, "handler"))
    body = api("get", f"{URL}/{ticket.pk}", "handler").json()
    assert body["available_actions"] == ["assist_input"]  # its input for the lead unit (协办)
    assert [u["code"] for u in body["assisting_units"]] == ["SZZJJ"]


def test_platform_roles_see_everything(api, mix):
    for who in ["agent", "dispatcher", "supervisor", "cityleader", "admin"]:
        assert api("get", URL, who).json()["count"] == 5, who


def test_missing_ticket(api, db, users):
    assert_error(api("get", f"{URL}/999999", "dispatcher"), 404, "ticket_not_found")


# --- detail -----------------------------------------------------------------------------------


def test_detail_for_the_dispatcher(api, new_ticket, org):
    ticket = new_ticket("dispatched")
    body = api("get", f"{URL}/{ticket.pk}", "dispatcher").json()
    assert body["requester"] == {
        "anonymous": False, "kind": "citizen", "name": "张三", "phone": "13800138000", "email": "",
        "id_number": "", "address": "莲花北村12栋", "revealable": [], "enterprise_name": "", "contact_allowed": True,
    }
    assert body["available_actions"] == []
    assert body["text"] == ticket.text
    assert body["address"] == "莲花北村12栋"
    assert (body["latitude"], body["longitude"]) == (None, None)
    assert body["replies"] == []
    assert body["attachments"] == []
    assert body["rating"] is None
    assert body["lead_unit"] == "深圳市住房和建设局"
    assert same_instant(body["dispatched_at"], ticket.dispatched_at)
    assert (body["signed_at"], body["replied_at"], body["closed_at"]) == (None, None, None)


def test_detail_for_the_handler_masks_the_requester(api, new_ticket):
    ticket = new_ticket("dispatched")
    response = api("get", f"{URL}/{ticket.pk}", "handler")
    body = response.json()
    assert (body["requester"]["name"], body["requester"]["phone"]) == ("张*", "138****8000")
    assert body["available_actions"] == ["sign", "return"]
    assert b"13800138000" not in response.content
    assert "张三".encode() not in response.content


def test_detail_of_an_anonymous_ticket(api, new_ticket):
    ticket = new_ticket("dispatched", anonymous=True, contact_allowed=False)
    for who in ["dispatcher", "handler"]:
        requester = api("get", f"{URL}/{ticket.pk}", who).json()["requester"]
        assert requester["anonymous"] is True
        assert requester["phone"] == ""
        assert "张三" not in requester["name"]


def test_detail_with_coordinates(api, new_ticket):
    ticket = new_ticket(latitude="22.543096", longitude="114.057865")
    body = api("get", f"{URL}/{ticket.pk}", "dispatcher").json()
    assert (body["latitude"], body["longitude"]) == (22.543096, 114.057865)


@pytest.mark.parametrize(
    ("status", "ticket_type", "who", "expected"),
    [
        ("submitted", "consultation", "dispatcher", ["direct_answer", "dispatch", "merge"]),
        ("submitted", "consultation", "agent", ["direct_answer", "merge"]),
        ("submitted", "complaint", "dispatcher", ["dispatch", "merge"]),
        ("submitted", "complaint", "agent", ["merge"]),
        ("submitted", "complaint", "cityleader", []),
        ("dispatched", "complaint", "handler", ["sign", "return"]),
        ("dispatched", "complaint", "leader", ["sign", "return"]),
        ("dispatched", "complaint", "dispatcher", []),
        ("returned", "complaint", "dispatcher", ["dispatch", "arbitrate", "merge"]),
        ("returned", "complaint", "handler", []),
        ("in_progress", "complaint", "leader", ["reply", "request_extension", "file_plan"]),
        ("in_progress", "complaint", "supervisor", []),  # nothing to decide yet
        ("replied", "complaint", "agent", ["rate"]),
        ("replied", "complaint", "supervisor", ["rate", "close"]),
        ("replied", "complaint", "dispatcher", ["close"]),
        ("replied", "complaint", "handler", []),
        ("closed", "complaint", "supervisor", []),
    ],
)
def test_available_actions_per_role(api, new_ticket, status, ticket_type, who, expected):
    ticket = new_ticket(status, type=ticket_type)
    assert api("get", f"{URL}/{ticket.pk}", who).json()["available_actions"] == expected


def test_detail_after_the_reply_and_rating(api, new_ticket):
    ticket = new_ticket("closed")
    body = api("get", f"{URL}/{ticket.pk}", "supervisor").json()
    assert body["status"] == "closed"
    assert body["rating"] == "satisfied"
    assert [(r["unit"], r["direct"]) for r in body["replies"]] == [("深圳市住房和建设局", False)]
    assert body["replies"][0]["text"] == "已安排维保单位更换电梯主板，并于本周五前完成检测。"
    assert all(body[f] for f in ["dispatched_at", "signed_at", "replied_at", "closed_at"])


# --- the timeline -----------------------------------------------------------------------------


def test_events_are_the_full_timeline(api, new_ticket, org):
    ticket = new_ticket("returned")
    actions_done = api("post", f"{URL}/{ticket.pk}/dispatch", "dispatcher", {"unit_id": org["transport"].pk, "note": "改派交通局"})
    assert actions_done.status_code == 200
    response = api("get", f"{URL}/{ticket.pk}/events", "dispatcher")
    assert response.status_code == 200
    rows = response.json()
    assert [(e["kind"], e["actor"], e["actor_role"], e["unit"], e["from_status"], e["to_status"], e["public"])
            for e in rows] == [
        ("submit", "agent", "intake_agent", None, "", "submitted", True),
        ("dispatch", "dispatcher", "dispatcher", "深圳市住房和建设局", "submitted", "dispatched", True),
        ("return", "handler", "handler", "深圳市住房和建设局", "dispatched", "returned", False),
        ("dispatch", "dispatcher", "dispatcher", "深圳市交通运输局", "returned", "dispatched", True),
    ]
    assert rows[2]["note"] == "不属于本单位职责"
    assert rows[2]["data"] == {"reason_code": "not_our_remit", "reason": "不属于本单位职责", "legal_basis": LEGAL_BASIS}
    assert (rows[3]["data"]["return_outcome"], rows[3]["data"]["returned_unit_id"]) == ("upheld", org["housing"].pk)
    assert rows[3]["note"] == "改派交通局"
    assert len({e["id"] for e in rows}) == 4
    times = [dt.datetime.fromisoformat(e["created_at"]) for e in rows]
    assert times == sorted(times)


def test_the_lead_unit_reads_the_timeline(api, new_ticket):
    ticket = new_ticket("in_progress")
    kinds = [e["kind"] for e in api("get", f"{URL}/{ticket.pk}/events", "handler").json()]
    assert kinds == ["submit", "dispatch", "sign"]


@pytest.mark.parametrize("ordering", ["time_left", "-created_at"])
def test_a_page_read_in_two_steps_is_the_page_of_the_ordered_list(mix, actors, ordering):
    """`ticket_page` (ids first, then the rows) gives each page exactly as slicing the ordered
    queryset would, and clamps a page number out of range to the last page."""
    from minyi.api.app import TicketFilter, filtered_tickets
    from minyi.core import clock
    from minyi.sla import services
    from minyi.tickets.paging import ticket_page

    now, calendar = clock.now(), services.current_calendar()
    tickets = filtered_tickets(actors["dispatcher"], TicketFilter(ordering=ordering), now, calendar).select_related(
        "category", "district"
    )
    everything = [t.pk for t in tickets]
    assert len(everything) >= 5
    for number in (1, 2, 3):
        page, rows = ticket_page(tickets, number, 2)
        assert [t.pk for t in rows] == everything[(page.number - 1) * 2: page.number * 2]
    page, rows = ticket_page(tickets, 999, 2)
    assert page.number == page.paginator.num_pages
    assert [t.pk for t in rows] == everything[(page.number - 1) * 2:]
    assert all(hasattr(t, "running_due") for t in rows) == (ordering == "time_left")
