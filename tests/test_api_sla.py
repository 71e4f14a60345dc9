"""Time limits through the API: the deadline preview, holiday notices, the notice warning, and
the deadlines of tickets (creation, dispatch, detail, list filters and ordering).

Expected deadlines are counted by hand from the State Council's notice for 2026 (国办发明电
〔2025〕7号): Mid-Autumn Festival off Friday 25 to Sunday 27 September; National Day off
Thursday 1 to Wednesday 7 October, with Sunday 20 September and Saturday 10 October worked
(调休). November and December 2026 have no holiday. The day of receipt is not counted; a
deadline ends at 23:59:59 Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import assert_error, extend, submission_data
from minyi.org.models import Category
from minyi.sla import services
from minyi.sla.models import HolidayDay, HolidayNotice, TimeLimitPolicy
from minyi.supervision import actions as supervision
from minyi.tickets import actions
from minyi.tickets.models import Ticket

DEADLINE = "/api/v1/sla/deadline"
TICKETS = "/api/v1/tickets"


def preview(api_client, **query):
    return api_client.get(DEADLINE, query)


# --- the deadline preview ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "due_at", "provisional", "working_days", "urgent_hours"),
    [
        # Received on the Mid-Autumn holiday (Friday 25 September): counting starts Monday 28.
        ({"type": "consultation", "received_at": "2026-09-25T10:00:00"}, "2026-09-29T23:59:59+08:00", False, 2, None),
        # 28, 29, 30 September; 8, 9, 10 (make-up Saturday), 12–16, 19–22 October: the 15th is the 22nd.
        ({"type": "complaint", "received_at": "2026-09-25T10:00:00"}, "2026-10-22T23:59:59+08:00", False, 15, None),
        ({"type": "report", "received_at": "2026-09-25"}, "2026-10-22T23:59:59+08:00", False, 15, None),
        ({"type": "help", "received_at": "2026-09-25"}, "2026-10-15T23:59:59+08:00", False, 10, None),
        ({"type": "suggestion", "received_at": "2026-09-25"}, "2026-10-15T23:59:59+08:00", False, 10, None),
        # The make-up Sunday 20 September is the first working day after Friday 18 September.
        ({"type": "consultation", "received_at": "2026-09-18"}, "2026-09-21T23:59:59+08:00", False, 2, None),
        # Received the day before National Day: 8 and 9 October.
        ({"type": "consultation", "received_at": "2026-09-30T17:30"}, "2026-10-09T23:59:59+08:00", False, 2, None),
        # The make-up Saturday 10 October counts; Sunday 11 does not.
        ({"type": "consultation", "received_at": "2026-10-09"}, "2026-10-12T23:59:59+08:00", False, 2, None),
        # An aware time is read in Shanghai: 17:00 UTC on Thursday 17 September is Friday the 18th.
        ({"type": "consultation", "received_at": "2026-09-17T17:00:00Z"}, "2026-09-21T23:59:59+08:00", False, 2, None),
        ({"type": "consultation", "received_at": "2026-09-18T01:00:00+08:00"}, "2026-09-21T23:59:59+08:00", False, 2, None),
        # 2027 has no notice yet: counted Monday to Friday, provisional.
        ({"type": "consultation", "received_at": "2027-01-05"}, "2027-01-07T23:59:59+08:00", True, 2, None),
        ({"type": "complaint", "received_at": "2026-12-28T10:00"}, "2027-01-18T23:59:59+08:00", True, 15, None),
        ({"type": "consultation", "received_at": "2026-12-28T10:00"}, "2026-12-30T23:59:59+08:00", False, 2, None),
        # Urgent: 24 hours from receipt, whatever the calendar says.
        ({"type": "consultation", "received_at": "2026-09-25T10:30", "urgent": "true"},
         "2026-09-26T10:30:00+08:00", False, 2, 24),
        ({"type": "complaint", "received_at": "2026-12-31T20:00", "urgent": "true"},
         "2027-01-01T20:00:00+08:00", False, 15, 24),
        ({"type": "complaint", "received_at": "2026-09-25T10:30", "urgent": "false"},
         "2026-10-22T23:59:59+08:00", False, 15, None),
    ],
)
def test_deadline_preview(api_client, db, query, due_at, provisional, working_days, urgent_hours):
    response = preview(api_client, **query)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "due_at": due_at, "provisional": provisional, "working_days": working_days, "urgent_hours": urgent_hours,
    }


def test_received_now_by_default(api_client, travel, db):
    travel("2026-11-02T10:00")
    assert preview(api_client, type="consultation").json()["due_at"] == "2026-11-04T23:59:59+08:00"
    assert preview(api_client, type="consultation", urgent="true").json()["due_at"] == "2026-11-03T10:00:00+08:00"


def test_an_unencoded_plus_in_the_offset_is_understood(api_client, db):
    # "+08:00" typed into a URL arrives as " 08:00".
    response = api_client.get(f"{DEADLINE}?type=consultation&urgent=true&received_at=2026-09-25T10:30:00+08:00")
    assert response.json()["due_at"] == "2026-09-26T10:30:00+08:00"


def test_the_category_policy_applies(api_client, org):
    TimeLimitPolicy.objects.create(request_type="complaint", category=org["urban"], working_days=5, urgent_hours=12)
    TimeLimitPolicy.objects.filter(request_type="consultation", category=None).update(working_days=3)
    by_parent = preview(api_client, type="complaint", received_at="2026-11-02", category_id=org["property"].pk)
    assert by_parent.json() == {
        "due_at": "2026-11-09T23:59:59+08:00", "provisional": False, "working_days": 5, "urgent_hours": None,
    }
    urgent = preview(api_client, type="complaint", received_at="2026-11-02T08:00", category_id=org["urban"].pk, urgent=True)
    assert urgent.json() == {
        "due_at": "2026-11-02T20:00:00+08:00", "provisional": False, "working_days": 5, "urgent_hours": 12,
    }
    elsewhere = preview(api_client, type="complaint", received_at="2026-11-02", category_id=org["bus"].pk)
    assert elsewhere.json()["working_days"] == 15
    # The type's default row is data too.
    assert preview(api_client, type="consultation", received_at="2026-11-02").json()["due_at"] == "2026-11-05T23:59:59+08:00"


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ({"type": "complaints"}, "invalid_type", "type"),
        ({"type": ""}, "invalid_type", "type"),
        ({}, "invalid", "type"),
        ({"type": "complaint", "received_at": "2026-13-01"}, "invalid_date", "received_at"),
        ({"type": "complaint", "received_at": "yesterday"}, "invalid_date", "received_at"),
        ({"type": "complaint", "received_at": "2026-09-25T25:00"}, "invalid_date", "received_at"),
        ({"type": "complaint", "received_at": "1999-01-01"}, "date_out_of_range", "received_at"),
        ({"type": "complaint", "received_at": "2099-01-01"}, "date_out_of_range", "received_at"),
        ({"type": "complaint", "received_at": "9999-12-31T23:00", "urgent": "true"}, "date_out_of_range", "received_at"),
        ({"type": "complaint", "urgent": "maybe"}, "invalid", "urgent"),
        ({"type": "complaint", "category_id": "property"}, "invalid", "category_id"),
        ({"type": "complaint", "category_id": 999999}, "invalid_category", "category_id"),
    ],
)
def test_deadline_preview_refusals(api_client, org, query, code, field):
    assert_error(preview(api_client, **query), 422, code, field)


def test_an_inactive_category_is_refused(api_client, org):
    Category.objects.filter(pk=org["bus"].pk).update(active=False)
    assert_error(preview(api_client, type="consultation", category_id=org["bus"].pk), 422, "invalid_category", "category_id")


def test_deadline_preview_is_rate_limited(api_client, db, settings, one_rate_window):
    settings.MINYI_PUBLIC_RATE_LIMIT = 2
    for _ in range(2):
        assert preview(api_client, type="help", received_at="2026-11-02").status_code == 200
    assert_error(preview(api_client, type="help", received_at="2026-11-02"), 429, "rate_limited")


# --- holiday notices and the warning about missing ones ---------------------------------------


@pytest.fixture
def notice_2027(db):
    """A notice for 2027 as the loader stores it (test data, not the official text)."""
    notice = HolidayNotice.objects.create(year=2027, title="国务院办公厅关于2027年部分节假日安排的通知", source="https://www.gov.cn/")
    HolidayDay.objects.create(notice=notice, date=dt.date(2027, 1, 1), name="元旦", is_off_day=True)
    HolidayDay.objects.create(notice=notice, date=dt.date(2027, 2, 20), name="春节", is_off_day=False)
    services.invalidate_calendar()
    yield notice
    services.invalidate_calendar()


def test_holidays_lists_the_loaded_notices(api_client, notice_2027):
    older = HolidayNotice.objects.create(year=2026, title="2026年部分节假日安排")
    HolidayDay.objects.create(notice=older, date=dt.date(2026, 10, 10), name="国庆节", is_off_day=False)
    response = api_client.get("/api/v1/sla/holidays")
    assert response.status_code == 200
    body = response.json()
    assert [(n["year"], n["title"], n["source"]) for n in body] == [
        (2026, "2026年部分节假日安排", ""),
        (2027, "国务院办公厅关于2027年部分节假日安排的通知", "https://www.gov.cn/"),
    ]
    assert body[1]["days"] == [
        {"date": "2027-01-01", "name": "元旦", "is_off_day": True},
        {"date": "2027-02-20", "name": "春节", "is_off_day": False},
    ]
    loaded = HolidayNotice.objects.get(year=2027).loaded_at
    assert abs(dt.datetime.fromisoformat(body[1]["loaded_at"]) - loaded) < dt.timedelta(milliseconds=1)
    only = api_client.get("/api/v1/sla/holidays", {"year": 2026}).json()
    assert [n["year"] for n in only] == [2026]
    assert api_client.get("/api/v1/sla/holidays", {"year": 2030}).json() == []
    assert_error(api_client.get("/api/v1/sla/holidays", {"year": "next"}), 422, "invalid", "year")


def test_a_loaded_notice_settles_the_preview(api_client, notice_2027):
    # 1 January 2027 is off: the 15th working day after 28 December moves from the 18th to the 19th.
    assert preview(api_client, type="complaint", received_at="2026-12-28").json() == {
        "due_at": "2027-01-19T23:59:59+08:00", "provisional": False, "working_days": 15, "urgent_hours": None,
    }
    # ...and the make-up Saturday 20 February 2027 counts.
    assert preview(api_client, type="consultation", received_at="2027-02-19").json()["due_at"] == "2027-02-22T23:59:59+08:00"


@pytest.mark.parametrize(
    ("today", "missing"),
    [
        ("2026-06-01T10:00", []),
        ("2026-11-01T10:00", []),  # 31 December is the 60th day ahead
        ("2026-11-02T10:00", [2027]),
        ("2026-11-26T10:00", [2027]),
        ("2027-03-01T10:00", [2027]),
    ],
)
def test_status_names_the_years_without_a_notice(api, travel, users, today, missing):
    travel(today)
    response = api("get", "/api/v1/sla/status", "admin")
    assert response.status_code == 200
    assert response.json() == {"missing_notice_years": missing}


def test_status_after_loading_the_notice(api, travel, users, notice_2027):
    travel("2026-11-26T10:00")
    assert api("get", "/api/v1/sla/status", "handler").json() == {"missing_notice_years": []}


def test_status_is_for_staff(api, api_client, users):
    assert_error(api("get", "/api/v1/sla/status"), 401, "not_authenticated")
    from conftest import make_user

    make_user("nobody", [], None)
    token = api_client.post("/api/v1/auth/token", {"username": "nobody", "password": "pw-for-tests-1"},
                            content_type="application/json").json()["token"]
    assert_error(api_client.get("/api/v1/sla/status", HTTP_AUTHORIZATION=f"Bearer {token}"), 403, "no_role")


# --- deadlines of tickets -----------------------------------------------------------------------


def test_creation_stores_the_limit(api, travel, org):
    travel("2026-11-02T10:00")
    response = api("post", TICKETS, None, submission_data(org, type="help"))
    assert response.status_code == 201, response.content
    assert response.json()["due_at"] == "2026-11-16T23:59:59+08:00"
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert (ticket.time_limit_days, ticket.extended_days, ticket.due_provisional) == (10, 0, False)


def test_a_request_received_late_in_december_gets_a_provisional_deadline(api, travel, org, users):
    travel("2026-12-28T10:00")
    response = api("post", TICKETS, "agent", submission_data(org))
    assert response.status_code == 201, response.content
    assert response.json()["due_at"] == "2027-01-18T23:59:59+08:00"
    ticket_id = response.json()["id"]
    body = api("get", f"{TICKETS}/{ticket_id}", "dispatcher").json()
    assert {k: body[k] for k in ("time_limit_days", "extended_days", "due_at", "due_provisional", "provisional",
                                 "unit_due_at", "unit_due_provisional", "warning", "time_left_seconds")} == {
        "time_limit_days": 15, "extended_days": 0, "due_at": "2027-01-18T23:59:59+08:00",
        "due_provisional": True, "provisional": True, "unit_due_at": None, "unit_due_provisional": False,
        "warning": "on_time", "time_left_seconds": 21 * 86400 + 13 * 3600 + 59 * 60 + 59,
    }
    # Dispatched the next morning: the unit's clock counts from there, also into 2027.
    travel("2026-12-29T09:00")
    body = api("post", f"{TICKETS}/{ticket_id}/dispatch", "dispatcher", {"unit_id": org["housing"].pk}).json()
    assert (body["unit_due_at"], body["unit_due_provisional"], body["due_at"]) == (
        "2027-01-19T23:59:59+08:00", True, "2027-01-18T23:59:59+08:00"
    )


def test_dispatch_starts_the_units_clock_and_a_redispatch_restarts_it(api, travel, new_ticket, org):
    travel("2026-11-02T10:00")
    ticket = new_ticket()
    travel("2026-11-04T15:00")
    body = api("post", f"{TICKETS}/{ticket.pk}/dispatch", "dispatcher", {"unit_id": org["housing"].pk}).json()
    assert (body["due_at"], body["unit_due_at"]) == ("2026-11-23T23:59:59+08:00", "2026-11-25T23:59:59+08:00")
    travel("2026-11-05T09:00")
    api("post", f"{TICKETS}/{ticket.pk}/return", "handler", {"reason_code": "not_our_remit", "note": "不属于本单位职责", "legal_basis": "《物业管理条例》第十二条"})
    travel("2026-11-09T10:00")
    body = api("post", f"{TICKETS}/{ticket.pk}/dispatch", "dispatcher", {"unit_id": org["transport"].pk}).json()
    assert (body["due_at"], body["unit_due_at"]) == ("2026-11-23T23:59:59+08:00", "2026-11-30T23:59:59+08:00")


def test_the_detail_of_a_fresh_ticket(api, travel, new_ticket):
    travel("2026-11-02T10:00")
    ticket = new_ticket("in_progress")
    travel("2026-11-23T10:00")
    body = api("get", f"{TICKETS}/{ticket.pk}", "handler").json()
    assert {k: body[k] for k in (
        "time_limit_days", "extended_days", "due_at", "due_provisional", "unit_due_at", "unit_due_provisional",
        "provisional", "warning", "time_left_seconds", "extensions", "plan", "supervision_orders", "overdue",
    )} == {
        "time_limit_days": 15, "extended_days": 0, "due_at": "2026-11-23T23:59:59+08:00", "due_provisional": False,
        "unit_due_at": "2026-11-23T23:59:59+08:00", "unit_due_provisional": False, "provisional": False,
        "warning": "due_soon", "time_left_seconds": 13 * 3600 + 59 * 60 + 59,
        "extensions": [], "plan": None, "supervision_orders": [], "overdue": False,
    }


@pytest.mark.parametrize(
    ("now", "soon_days", "warning", "seconds"),
    [
        ("2026-11-20T10:00", 1, "on_time", 3 * 86400 + 13 * 3600 + 59 * 60 + 59),
        ("2026-11-21T10:00", 1, "on_time", 2 * 86400 + 13 * 3600 + 59 * 60 + 59),  # Saturday
        ("2026-11-20T10:00", 2, "due_soon", 3 * 86400 + 13 * 3600 + 59 * 60 + 59),
        ("2026-11-19T23:59", 2, "on_time", 4 * 86400 + 59),
        ("2026-11-23T00:00", 1, "due_soon", 86399),
        ("2026-11-23T23:59:59", 1, "due_soon", 0),
        ("2026-11-24T00:00:00", 1, "overdue", -1),
        ("2026-11-25T00:00:00", 1, "overdue", -86401),
    ],
)
def test_the_warning_follows_the_running_deadline(api, travel, new_ticket, settings, now, soon_days, warning, seconds):
    settings.MINYI_DUE_SOON_WORKING_DAYS = soon_days
    travel("2026-11-02T10:00")
    ticket = new_ticket("in_progress")  # unit deadline Monday 23 November
    travel(now)
    body = api("get", f"{TICKETS}/{ticket.pk}", "supervisor").json()
    assert (body["warning"], body["time_left_seconds"]) == (warning, seconds)
    listed = api("get", TICKETS, "supervisor", {"warning": warning}).json()["results"]
    assert [row["id"] for row in listed] == [ticket.pk]


@pytest.mark.parametrize(
    ("status", "clock"),
    [("submitted", "due_at"), ("returned", "due_at"), ("dispatched", "unit_due_at"),
     ("in_progress", "unit_due_at"), ("replied", None), ("closed", None)],
)
def test_which_clock_runs(api, travel, new_ticket, org, actors, status, clock):
    travel("2026-11-02T10:00")
    ticket = new_ticket()
    travel("2026-11-04T15:00")  # the unit's deadline is two days after the requester's
    if status != "submitted":
        actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk)
    if status == "returned":
        actions.return_ticket(actors["handler"], ticket.pk, reason_code="not_our_remit", note="不属于本单位职责", legal_basis="《物业管理条例》第十二条")
    if status in ("in_progress", "replied", "closed"):
        actions.sign(actors["handler"], ticket.pk)
    if status in ("replied", "closed"):
        actions.reply(actors["handler"], ticket.pk, "已答复。", outcome="resolved")
    if status == "closed":
        actions.close(actors["dispatcher"], ticket.pk)
    travel("2026-11-24T10:00")  # past the requester's deadline, on the unit's last day
    body = api("get", f"{TICKETS}/{ticket.pk}", "supervisor").json()
    expected = {"due_at": ("overdue", -(10 * 3600) - 1), "unit_due_at": ("on_time", 86400 + 13 * 3600 + 59 * 60 + 59),
                None: ("", None)}[clock]
    assert (body["warning"], body["time_left_seconds"]) == expected


# --- the list: warning filter, ordering by time left, constant queries ------------------------


@pytest.fixture
def clocks(new_ticket, travel, actors, org):
    """Five tickets seen on Monday 23 November 2026 at 10:00."""
    travel("2026-10-29T10:00")
    late = new_ticket("in_progress", title="已超期")  # unit deadline 19 November
    travel("2026-11-02T10:00")
    today = new_ticket("dispatched", title="今日到期")  # 23 November
    travel("2026-11-16T10:00")
    returned = new_ticket("returned", title="退回待派")  # requester's deadline 7 December
    travel("2026-11-20T10:00")
    waiting = new_ticket("submitted", title="待派单")  # 11 December
    answered = new_ticket("replied", title="已答复", type="consultation")  # no clock
    travel("2026-11-23T10:00")
    return {"late": late, "today": today, "returned": returned, "waiting": waiting, "answered": answered}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_list_rows_carry_the_warning(api, clocks):
    rows = {row["id"]: row for row in api("get", TICKETS, "dispatcher").json()["results"]}
    got = {name: (rows[t.pk]["warning"], rows[t.pk]["unit_due_at"], rows[t.pk]["provisional"]) for name, t in clocks.items()}
    assert got == {
        "late": ("overdue", "2026-11-19T23:59:59+08:00", False),
        "today": ("due_soon", "2026-11-23T23:59:59+08:00", False),
        "returned": ("on_time", "2026-12-07T23:59:59+08:00", False),
        "waiting": ("on_time", None, False),
        "answered": ("", "2026-11-24T23:59:59+08:00", False),
    }
    assert rows[clocks["waiting"].pk]["due_at"] == "2026-12-11T23:59:59+08:00"


@pytest.mark.parametrize(
    ("warning", "expected"),
    [("overdue", ["late"]), ("due_soon", ["today"]), ("on_time", ["waiting", "returned"])],
)
def test_filter_by_warning(api, clocks, warning, expected):
    assert ids(api("get", TICKETS, "dispatcher", {"warning": warning})) == [clocks[n].pk for n in expected]


def test_a_unit_filters_its_own_tickets_by_warning(api, clocks):
    assert ids(api("get", TICKETS, "handler", {"warning": "overdue"})) == [clocks["late"].pk]
    assert ids(api("get", TICKETS, "other_handler", {"warning": "overdue"})) == []


def test_order_by_time_left(api, clocks):
    assert ids(api("get", TICKETS, "dispatcher", {"ordering": "time_left"})) == [
        clocks[n].pk for n in ["late", "today", "returned", "waiting", "answered"]
    ]
    assert ids(api("get", TICKETS, "dispatcher", {"ordering": "time_left", "warning": "on_time"})) == [
        clocks["returned"].pk, clocks["waiting"].pk
    ]
    assert ids(api("get", TICKETS, "dispatcher", {"ordering": "time_left", "page_size": 2, "page": 2})) == [
        clocks["returned"].pk, clocks["waiting"].pk
    ]


def test_order_by_creation(api, clocks):
    oldest_first = [clocks[n].pk for n in ["late", "today", "returned", "waiting", "answered"]]
    assert ids(api("get", TICKETS, "dispatcher", {"ordering": "created_at"})) == oldest_first
    assert ids(api("get", TICKETS, "dispatcher", {"ordering": "-created_at"})) == oldest_first[::-1]
    assert ids(api("get", TICKETS, "dispatcher")) == oldest_first[::-1]


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [({"warning": "late"}, "invalid_warning", "warning"), ({"ordering": "due_at"}, "invalid_ordering", "ordering")],
)
def test_unknown_warning_or_ordering(api, clocks, query, code, field):
    assert_error(api("get", TICKETS, "dispatcher", query), 422, code, field)


def test_time_left_breaks_ties_newest_first(api, new_ticket, travel):
    travel("2026-11-02T10:00")
    first = new_ticket("dispatched")
    second = new_ticket("dispatched")  # same unit deadline
    assert ids(api("get", TICKETS, "dispatcher", {"ordering": "time_left"})) == [second.pk, first.pk]


@pytest.mark.parametrize("query", [{}, {"ordering": "time_left"}, {"warning": "overdue"}, {"warning": "on_time", "ordering": "time_left"}])
def test_the_list_runs_a_constant_number_of_queries(api, new_ticket, travel, actors, query, django_assert_max_num_queries):
    travel("2026-10-29T10:00")
    for i in range(3):
        ticket = new_ticket("in_progress", title=f"工单{i}")
        extend(actors, ticket, days=1)
    api("get", TICKETS, "handler")  # log in first: the token's queries are not the list's

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api("get", TICKETS, "handler", query).status_code == 200
        return len(captured)

    travel("2026-11-23T10:00")
    new_ticket("in_progress", title="新工单")  # every query finds rows (an empty page skips its query)
    few = count()
    for i in range(12):
        ticket = new_ticket("in_progress", title=f"更多工单{i}")
        supervision.open_order(ticket, "overdue")
    many = count()
    assert few == many
    with django_assert_max_num_queries(8):
        api("get", TICKETS, "handler", query)
