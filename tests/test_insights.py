"""The monthly measures (考核指标), exactly, on tickets walked through the actions."""

from __future__ import annotations

import pytest

from conftest import assert_error
from minyi.feedback.actions import review
from minyi.insights.kpi import month_bounds, monthly
from minyi.tickets import actions

GOOD = "已联系物业公司，电梯主板已于11月3日更换并通过特种设备检测，恢复正常运行。"


@pytest.fixture
def november(new_ticket, actors, travel, org):
    """Five tickets in November 2026: two replied on time and rated, one replied and rated
    dissatisfied then redone, one answered directly, one still in progress; one in October."""
    travel("2026-10-20T10:00")
    new_ticket("closed")  # October: outside the month
    travel("2026-11-02T10:00")
    a = new_ticket("closed")  # rated satisfied by the requester (conftest walks it there)
    b = new_ticket("replied")
    actions.rate(actors["agent"], b.pk, rating="basically_satisfied", visit_note="回访")
    c = new_ticket("replied")
    actions.rate(actors["agent"], c.pk, rating="dissatisfied")
    review(actors["supervisor"], c.pk, decision="redo", explanation="诉求合理")
    d = new_ticket(type="consultation", category=org["bus"].pk)
    actions.direct_answer(actors["agent"], d.pk, "公交卡补办可在各地铁站客服中心办理。")
    e = new_ticket("in_progress")
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def test_the_months_measures(november):
    figures = monthly("2026-11")
    assert figures == {
        "month": "2026-11", "received": 5, "direct_answer_rate": 0.2, "replied": 3, "on_time_rate": 1.0,
        "average_handling_days": 0.0, "signed": 4, "response_rate": 1.0, "resolution_rate": 1.0, "rated": 3,
        "satisfaction_rate": 0.6667, "dissatisfied": 1, "redos": 1, "redo_rate": 0.3333, "supervision_orders": 0,
    }
    assert monthly("2026-10")["received"] == 1
    assert monthly("2026-12")["on_time_rate"] is None


def test_by_unit_and_district(november, org):
    assert monthly("2026-11", unit_id=org["housing"].pk)["replied"] == 3
    assert monthly("2026-11", unit_id=org["transport"].pk)["replied"] == 0
    assert monthly("2026-11", district_id=org["nanshan"].pk)["received"] == 0


def test_month_bounds_are_shanghai_months():
    start, end = month_bounds("2026-12")
    assert (start.isoformat(), end.isoformat()) == ("2026-12-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00")


def test_the_api(api, november, org):
    body = api("get", "/api/v1/insights/kpis", "cityleader", {"month": "2026-11"}).json()
    assert (body["received"], body["satisfaction_rate"]) == (5, 0.6667)
    own = api("get", "/api/v1/insights/kpis", "handler", {"month": "2026-11"}).json()
    assert own["replied"] == 3
    assert_error(api("get", "/api/v1/insights/kpis", "handler", {"month": "2026-11", "unit_id": org["transport"].pk}),
                 403, "not_own_unit")
    assert_error(api("get", "/api/v1/insights/kpis", "cityleader", {"month": "2026-13"}), 422, "invalid_month", "month")
    assert_error(api("get", "/api/v1/insights/kpis", "cityleader", {"month": "2026-11", "district": "火星区"}), 422,
                 "invalid_district", "district")
    assert api("get", "/api/v1/insights/kpis", "cityleader", {"month": "2026-11", "district": "福田区"}).json()["received"] == 5
