"""Supervision by hand (督办), the units' answers, escalation of late orders, the dashboard, and
quality screening of replies with the supervisor's decision (issue 5)."""

from __future__ import annotations

import pytest

from conftest import assert_error
from minyi.sla.jobs import scan
from minyi.supervision.models import ReplyScreening, SupervisionOrder
from minyi.supervision.screening import rescan

GOOD = "已联系物业公司，电梯主板已于11月3日更换并通过特种设备检测，恢复正常运行。"
ORDERS = "/api/v1/supervision/orders"


@pytest.fixture
def handled(new_ticket, travel):
    travel("2026-11-02T10:00")  # a Monday
    return new_ticket("in_progress")


def open_order(api, ticket, who="supervisor", **extra):
    return api("post", ORDERS, who, {"ticket_id": ticket.pk, "reason": "群众反映强烈，请加快办理", "level": 2, **extra})


def test_a_supervisor_opens_an_order_the_unit_answers_it(api, handled, unchanged):
    response = open_order(api, handled, due="2026-11-04")
    assert response.status_code == 200, response.content
    order = response.json()
    assert (order["cause"], order["level"], order["status"], order["unit"], order["reason"]) == (
        "manual", 2, "open", "深圳市住房和建设局", "群众反映强烈，请加快办理"
    )
    assert order["due_at"] == "2026-11-04T23:59:59+08:00"
    # One open order of this kind per ticket.
    with unchanged(handled):
        assert_error(open_order(api, handled), 409, "order_already_open")
    # Another unit may not answer; the supervised unit does.
    url = f"{ORDERS}/{order['id']}/answer"
    with unchanged(handled):
        assert_error(api("post", url, "other_handler", {"text": "x"}), 404, "order_not_found")
        assert_error(api("post", url, "supervisor", {"text": "x"}), 403, "not_supervised_unit")
        assert_error(api("post", url, "handler", {"text": "  "}), 422, "required", "text")
    body = api("post", url, "handler", {"text": "已约谈物业公司，11月4日前完成维修"}).json()
    assert (body["answer"], body["answered_at"] is not None) == ("已约谈物业公司，11月4日前完成维修", True)
    kinds = list(handled.events.values_list("kind", flat=True))
    assert kinds[-2:] == ["supervision_opened", "supervision_answered"]


@pytest.mark.parametrize(
    ("who", "data", "status", "code", "field"),
    [
        ("handler", {}, 403, "role_not_allowed", None),
        ("dispatcher", {}, 403, "role_not_allowed", None),
        ("supervisor", {"reason": ""}, 422, "required", "reason"),
        ("supervisor", {"level": 9}, 422, "invalid_level", "level"),
        ("supervisor", {"due": "2026-10-30"}, 422, "invalid_due", "due"),
    ],
)
def test_opening_refusals_change_nothing(api, handled, unchanged, who, data, status, code, field):
    with unchanged(handled):
        assert_error(open_order(api, handled, who, **data), status, code, field)


def test_an_order_on_a_ticket_without_a_unit_is_refused(api, new_ticket, travel, unchanged):
    travel("2026-11-02T10:00")
    ticket = new_ticket()
    with unchanged(ticket):
        assert_error(open_order(api, ticket), 409, "no_unit")


def test_a_late_unanswered_order_escalates_an_answered_one_does_not(api, handled, new_ticket, travel):
    other = new_ticket("in_progress")
    late = open_order(api, handled, level=1, due="2026-11-02").json()
    answered = open_order(api, other, level=1, due="2026-11-02").json()
    api("post", f"{ORDERS}/{answered['id']}/answer", "handler", {"text": "已整改，11月5日前复核"})
    travel("2026-11-03T10:00")
    scan()
    levels = dict(SupervisionOrder.objects.values_list("pk", "level"))
    assert (levels[late["id"]], levels[answered["id"]]) == (2, 1)


def test_manual_orders_close_with_the_ticket_or_by_hand(api, api_client, handled, travel):
    order = open_order(api, handled).json()
    api("post", f"/api/v1/tickets/{handled.pk}/reply", "handler", {"text": GOOD, "outcome": "resolved"})
    scan()
    assert SupervisionOrder.objects.get(pk=order["id"]).status == "open"  # replied, not closed yet
    travel("2026-11-02T10:30")
    api_client.post(f"/api/v1/track/{handled.number}/rate", {"rating": "satisfied", "code": handled.access_code},
                    content_type="application/json")
    travel("2026-11-02T11:00")
    scan()
    closed = SupervisionOrder.objects.get(pk=order["id"])
    assert (closed.status, closed.close_reason) == ("closed", "工单已办结。")
    assert_error(api("post", f"{ORDERS}/{order['id']}/close", "supervisor", {"note": "已办结"}), 409, "order_closed")


def test_a_supervisor_closes_an_order_by_hand(api, handled):
    order = open_order(api, handled).json()
    assert_error(api("post", f"{ORDERS}/{order['id']}/close", "handler", {"note": "x"}), 403, "role_not_allowed")
    body = api("post", f"{ORDERS}/{order['id']}/close", "supervisor", {"note": "单位已说明情况"}).json()
    assert (body["status"], body["close_reason"]) == ("closed", "单位已说明情况")


def test_the_dashboard_counts_open_orders_by_unit_and_level(api, handled, new_ticket, travel):
    open_order(api, handled, level=3)
    open_order(api, new_ticket("in_progress"), level=1, due="2026-11-02")
    travel("2026-11-03T10:00")
    body = api("get", "/api/v1/supervision/dashboard", "supervisor").json()
    assert body["total_open"] == 2
    assert [(r["unit"], r["levels"], r["open"], r["overdue"]) for r in body["rows"]] == [
        ("深圳市住房和建设局", {"1": 1, "3": 1}, 2, 1)
    ]
    assert [lv["level"] for lv in body["levels"]] == [1, 2, 3, 4]
    assert api("get", "/api/v1/supervision/dashboard", "other_handler").json()["total_open"] == 0
    assert_error(api("get", "/api/v1/supervision/dashboard", "agent"), 403, "role_not_allowed")


# --- quality screening ------------------------------------------------------------------------


def flagged(api, ticket, text="您的来信已收悉。"):
    api("post", f"/api/v1/tickets/{ticket.pk}/reply", "handler", {"text": text, "outcome": "resolved"})
    return ReplyScreening.objects.get(reply__ticket=ticket)


def test_a_perfunctory_reply_is_flagged_with_the_reason(api, handled):
    row = flagged(api, handled)
    assert row.state == "flagged"
    assert "perfunctory" in {f["code"] for f in row.findings}
    assert all(f["reason"] for f in row.findings)
    listed = api("get", "/api/v1/quality/screenings", "supervisor").json()
    assert [r["ticket_number"] for r in listed["results"]] == [handled.number]
    assert api("get", "/api/v1/quality/screenings", "other_handler").json()["count"] == 0


def test_a_concrete_reply_is_not_flagged(api, handled):
    assert flagged(api, handled, GOOD).state == "clean"


def test_confirming_a_finding_asks_for_a_new_reply_under_a_quality_order(api, handled, unchanged, travel):
    row = flagged(api, handled)
    url = f"/api/v1/quality/screenings/{row.pk}"
    handled.refresh_from_db()
    with unchanged(handled):
        assert_error(api("post", f"{url}/confirm", "handler", {"note": "x"}), 403, "role_not_allowed")
        assert_error(api("post", f"{url}/confirm", "supervisor", {"note": ""}), 422, "required", "note")
    body = api("post", f"{url}/confirm", "supervisor", {"note": "答复敷衍，未说明处理结果"}).json()
    assert body["state"] == "confirmed"
    handled.refresh_from_db()
    assert handled.status == "in_progress"
    order = SupervisionOrder.objects.get(ticket=handled)
    assert (order.cause, order.status, order.reason) == ("quality", "open", "答复敷衍，未说明处理结果")
    assert_error(api("post", f"{url}/dismiss", "supervisor", {"note": "x"}), 409, "already_decided")
    # The new reply ends the order's cause.
    travel("2026-11-02T11:00")
    api("post", f"/api/v1/tickets/{handled.pk}/reply", "handler", {"text": GOOD, "outcome": "resolved"})
    travel("2026-11-02T11:05")
    scan()
    order.refresh_from_db()
    assert (order.status, order.close_reason) == ("closed", "承办单位已重新答复。")


def test_dismissing_a_finding_keeps_the_ticket(api, handled):
    row = flagged(api, handled)
    body = api("post", f"/api/v1/quality/screenings/{row.pk}/dismiss", "supervisor", {"note": "诉求人已电话确认"}).json()
    assert body["state"] == "dismissed"
    handled.refresh_from_db()
    assert handled.status == "replied"
    # A rescan never undoes the decision.
    rescan()
    assert ReplyScreening.objects.get(pk=row.pk).state == "dismissed"


def test_the_rescan_finds_a_text_pasted_onto_unrelated_tickets(api, new_ticket, travel):
    travel("2026-11-02T10:00")
    pasted = "经查，该问题已转交相关部门处理，我局将持续跟进，感谢您对我们工作的支持。"
    first = new_ticket("in_progress", title="小区电梯经常故障", text="我家小区3号楼电梯每周都停运，物业不管")
    second = new_ticket("in_progress", title="工地夜间施工噪音扰民",
                        text="深南大道旁工地每晚十二点后还在打桩，严重影响休息")
    api("post", f"/api/v1/tickets/{first.pk}/reply", "handler", {"text": pasted, "outcome": "explained"})
    api("post", f"/api/v1/tickets/{second.pk}/reply", "handler", {"text": pasted, "outcome": "explained"})
    rescan()
    codes = {
        row.reply.ticket_id: {f["code"] for f in row.findings}
        for row in ReplyScreening.objects.select_related("reply")
    }
    assert "pasted" in codes[first.pk] and "pasted" in codes[second.pk]
