"""The staff console: login, worklist, intake, the ticket page and its action forms."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from minyi.core import clock
from minyi.org.actors import actor_for_user
from minyi.tickets import actions
from minyi.tickets.intake import clean_submission
from minyi.tickets.models import Notification, Reply, Ticket, TicketEvent, TicketRating

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def numbers_listed(html: str) -> set[str]:
    return set(re.findall(r'<tr class="[^"]*" data-number="([^"]+)"', html))


def action_forms(html: str) -> list[str]:
    """The actions the page offers, in order: its forms, and the folded ones it loads when unfolded."""
    found = re.findall(r'data-action="([a-z_]+)"|<details[^>]* data-fold="([a-z_]+)"[^>]* hx-get=', html)
    return [form or fold for form, fold in found]


def field_errors(html: str, field: str) -> list[str]:
    return re.findall(rf'<p class="error" role="alert" data-field="{field}">([^<]+)</p>', html)


def alert(html: str) -> str:
    found = re.search(r'<div class="alert alert-error" role="alert"[^>]*>([^<]+)</div>', html)
    return found.group(1) if found else ""


def events(ticket) -> list[str]:
    return list(
        TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("kind", flat=True)
    )


def snapshot(ticket) -> tuple:
    ticket.refresh_from_db()
    return (
        ticket.status,
        ticket.lead_unit_id,
        len(events(ticket)),
        Reply.objects.filter(ticket=ticket).count(),
    )


# --- login and the header --------------------------------------------------------------------


def test_the_console_needs_a_login(db):
    response = Client().get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/console/login?next=/console/"
    htmx = Client().get("/console/", HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"].startswith("/console/login?next=")


def test_login_and_logout(users):
    users["dispatcher"].set_password("a-good-password-9")
    users["dispatcher"].save()
    client = Client()
    page = client.get("/console/login")
    assert page.status_code == 200 and "工作人员登录" in page.content.decode()
    wrong = client.post("/console/login", {"username": "dispatcher", "password": "nope"})
    assert wrong.status_code == 200 and "请输入一个正确的" in wrong.content.decode()
    right = client.post(
        "/console/login", {"username": "dispatcher", "password": "a-good-password-9"}
    )
    assert right["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    assert client.post("/console/logout")["Location"] == "/console/login"
    assert client.get("/console/").status_code == 302


def test_login_attempts_are_rate_limited(users, settings):
    from django.core.cache import cache

    cache.clear()
    client = Client()
    for _ in range(10):
        client.post("/console/login", {"username": "dispatcher", "password": "nope"})
    response = client.post("/console/login", {"username": "dispatcher", "password": "nope"})
    assert response.status_code == 429
    assert "请求过于频繁" in response.content.decode()
    cache.clear()


def test_the_header_shows_name_roles_unit_and_links(client_for):
    html = client_for("handler").get("/console/").content.decode()
    assert "承办人员" in html and "深圳市住房和建设局" in html and ">handler<" in html
    assert 'href="/api/v1/docs"' in html
    assert 'href="/admin/"' not in html
    assert 'href="/console/tickets/new"' not in html  # a handler does not take in requests
    assert 'name="language" value="en"' in html
    admin_html = client_for("admin").get("/console/").content.decode()
    assert 'href="/admin/"' in admin_html and "系统管理员" in admin_html
    assert 'href="/console/tickets/new"' in client_for("agent").get("/console/").content.decode()


def test_a_user_without_a_role_is_refused(db):
    from django.contrib.auth.models import User

    client = Client()
    client.force_login(User.objects.create_user("norole", password="x"))
    response = client.get("/console/")
    assert response.status_code == 403
    assert "您的账号在平台上没有分配角色" in response.content.decode()


def test_the_console_switches_to_english(client_for):
    client = client_for("dispatcher")
    client.post("/i18n/setlang/", {"language": "en", "next": "/console/"})
    html = client.get("/console/").content.decode()
    assert "To dispatch" in html and "Dispatcher" in html


# --- the worklist ----------------------------------------------------------------------------


@pytest.fixture
def spread(new_ticket, org, actors):
    """One ticket in each main state, plus one dispatched to the transport bureau."""
    tickets = {
        status: new_ticket(status)
        for status in ["submitted", "returned", "dispatched", "in_progress", "replied", "closed"]
    }
    transport = new_ticket(
        "submitted", title="公交线路调整咨询", type="consultation", category_id=org["bus"].pk
    )
    actions.dispatch(actors["dispatcher"], transport.pk, org["transport"].pk)
    tickets["transport"] = transport
    return tickets


def test_default_tabs_per_role(client_for, spread):
    numbers = {k: t.number for k, t in spread.items()}
    dispatcher = client_for("dispatcher").get("/console/").content.decode()
    assert 'aria-current="page" data-tab="dispatch"' in dispatcher
    assert numbers_listed(dispatcher) == {numbers["submitted"], numbers["returned"]}

    handler = client_for("handler").get("/console/").content.decode()
    assert 'aria-current="page" data-tab="sign"' in handler
    assert 'data-tab="dispatch"' not in handler
    assert numbers_listed(handler) == {numbers["dispatched"]}

    supervisor = client_for("supervisor").get("/console/").content.decode()
    assert 'aria-current="page" data-tab="all"' in supervisor
    assert 'data-tab="sign"' not in supervisor
    assert numbers_listed(supervisor) == set(numbers.values())


@pytest.mark.parametrize(
    ("who", "tab", "expected"),
    [
        ("dispatcher", "in_progress", {"in_progress"}),
        ("dispatcher", "replied", {"replied"}),
        ("agent", "dispatch", {"submitted", "returned"}),
        ("handler", "in_progress", {"in_progress"}),
        ("handler", "all", {"returned", "dispatched", "in_progress", "replied", "closed"}),
        ("other_handler", "sign", {"transport"}),
        ("other_handler", "all", {"transport"}),
        # A tab that is not the user's falls back to their default.
        ("handler", "dispatch", {"dispatched"}),
    ],
)
def test_tabs_show_the_right_tickets(client_for, spread, who, tab, expected):
    html = client_for(who).get("/console/", {"tab": tab}).content.decode()
    assert numbers_listed(html) == {spread[name].number for name in expected}


def test_a_handler_of_another_unit_does_not_see_the_ticket(client_for, spread):
    client = client_for("other_handler")
    assert (
        spread["dispatched"].number not in client.get("/console/", {"tab": "all"}).content.decode()
    )
    response = client.get(f"/console/tickets/{spread['dispatched'].pk}/")
    assert response.status_code == 404
    assert "工单不存在，或您无权查看" in response.content.decode()


def test_filters_reload_only_the_table_through_htmx(client_for, spread, org):
    client = client_for("dispatcher")
    page = client.get("/console/", {"tab": "all"}).content.decode()
    assert (
        'hx-get="/console/" hx-target="#worklist-table" hx-swap="outerHTML" hx-push-url="true"'
        in page
    )
    partial = client.get(
        "/console/",
        {"tab": "all", "status": "in_progress"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="worklist-table",
    ).content.decode()
    assert partial.lstrip().startswith('<div id="worklist-table"')
    assert "<html" not in partial
    assert numbers_listed(partial) == {spread["in_progress"].number}

    def listed(**params):
        return numbers_listed(client.get("/console/", {"tab": "all", **params}).content.decode())

    assert listed(q="公交") == {spread["transport"].number}
    assert listed(q=spread["replied"].number) == {spread["replied"].number}
    assert listed(type="consultation") == {spread["transport"].number}
    assert listed(unit=str(org["transport"].pk)) == {spread["transport"].number}
    assert listed(category=str(org["traffic"].pk)) == {spread["transport"].number}
    assert listed(district=org["nanshan"].code) == set()
    assert len(listed(district=org["futian"].code)) == 7


def test_rows_show_the_columns_and_the_overdue_and_urgent_markers(client_for, new_ticket):
    with clock.frozen_at(dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)):
        late = new_ticket("submitted", urgent=True)
    html = client_for("dispatcher").get("/console/").content.decode()
    row = re.search(
        rf'<tr class="overdue" data-number="{late.number}" data-warning="overdue">.*?</tr>',
        html,
        re.S,
    ).group(0)
    for text in [
        "投诉",
        "加急",
        "物业管理",
        "福田区",
        "已受理",
        "2024-03-01 17:00",
        "2024-03-02 17:00",
        "已超期",
    ]:
        assert text in row, text


def test_pagination(client_for, new_ticket):
    for i in range(23):
        new_ticket("submitted", title=f"工单{i}")
    client = client_for("dispatcher")
    first = client.get("/console/").content.decode()
    assert len(numbers_listed(first)) == 20 and "第 1 页，共 2 页" in first
    assert 'hx-get="?tab=dispatch&amp;page=2"' in first
    second = client.get("/console/", {"tab": "dispatch", "page": "2"}).content.decode()
    assert len(numbers_listed(second)) == 3


@pytest.mark.parametrize("who", ["dispatcher", "handler"])
def test_the_worklist_query_count_does_not_grow_with_tickets(
    client_for, new_ticket, org, actors, who, django_assert_max_num_queries
):
    client = client_for(who)
    for i in range(3):
        ticket = new_ticket("dispatched", title=f"工单{i}")
        if i == 0:
            # assisting units make unit queries use DISTINCT: still no extra query per row
            actions.return_ticket(actors["handler"], ticket.pk, reason_code="other", note="退回", legal_basis="《物业管理条例》第十二条")
            actions.dispatch(
                actors["dispatcher"],
                ticket.pk,
                org["housing"].pk,
                assisting_unit_ids=[org["transport"].pk],
            )
    client.get("/console/", {"tab": "all"})  # warm the session
    # 16: a unit's worklist reads the tickets it assists first (one small query, see access).
    with django_assert_max_num_queries(16):
        small = client.get("/console/", {"tab": "all"})
    for i in range(15):
        new_ticket("in_progress", title=f"更多{i}")
    with django_assert_max_num_queries(16):
        large = client.get("/console/", {"tab": "all"})
    assert (
        len(numbers_listed(large.content.decode()))
        == 18
        > len(numbers_listed(small.content.decode()))
    )


# --- intake by an agent ----------------------------------------------------------------------


def intake_data(org, **overrides) -> dict:
    data = {
        "channel": "hotline",
        "type": "consultation",
        "category_id": str(org["bus"].pk),
        "district": org["nanshan"].code,
        "street": org["yuehai"].code,
        "title": "公交线路调整咨询",
        "text": "请问科技园的公交线路调整什么时候实施？",
        "requester_kind": "citizen",
        "requester_name": "李四",
        "requester_phone": "13900139000",
    }
    data.update(overrides)
    return data


def test_an_agent_takes_in_a_request_and_reads_out_the_code(client_for, org):
    client = client_for("agent")
    form = client.get("/console/tickets/new").content.decode()
    assert '<option value="hotline" selected>12345热线</option>' in form
    assert 'value="api"' not in form
    data = intake_data(org, channel="miniprogram")
    data["attachments"] = [SimpleUploadedFile("a.png", PNG, content_type="image/png")]
    response = client.post("/console/tickets/new", data)
    assert response["Location"] == "/console/tickets/created"
    done = client.get("/console/tickets/created").content.decode()
    number = re.search(r'id="ticket-number">([^<]+)<', done).group(1)
    code = re.search(r'id="access-code">([^<]+)<', done).group(1)
    ticket = Ticket.objects.get(number=number)
    assert ticket.channel == "miniprogram" and ticket.created_by.username == "agent"
    assert ticket.attachments.count() == 1
    assert f'href="/console/tickets/{ticket.pk}/"' in done and "查询码只显示这一次" in done
    from minyi.tickets.access import access_track

    assert access_track(number, code) == ticket
    # Shown once.
    assert client.get("/console/tickets/created")["Location"] == "/console/tickets/new"


def test_intake_errors_are_shown_on_the_field(client_for, org):
    response = client_for("agent").post("/console/tickets/new", intake_data(org, text="短"))
    assert response.status_code == 422
    assert field_errors(response.content.decode(), "text") == ["请把诉求内容描述得更详细一些。"]
    assert Ticket.objects.count() == 0


def test_a_handler_may_not_take_in_requests(client_for, org):
    client = client_for("handler")
    assert client.get("/console/tickets/new").status_code == 403
    response = client.post("/console/tickets/new", intake_data(org))
    assert response.status_code == 403 and "您的角色无权执行此操作" in response.content.decode()
    assert Ticket.objects.count() == 0


# --- the ticket page -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "who", "offered"),
    [
        ("submitted", "dispatcher", ["dispatch", "merge"]),
        ("submitted", "agent", ["merge"]),
        ("submitted", "handler", None),  # not visible
        ("dispatched", "handler", ["sign", "return"]),
        ("dispatched", "leader", ["sign", "return"]),
        ("dispatched", "dispatcher", []),
        ("in_progress", "handler", ["reply", "request_extension", "file_plan"]),
        ("in_progress", "supervisor", []),
        ("replied", "agent", ["rate"]),
        ("replied", "supervisor", ["rate", "close"]),
        ("replied", "dispatcher", ["close"]),
        ("replied", "handler", []),
        ("returned", "dispatcher", ["dispatch", "arbitrate", "merge"]),
        ("closed", "admin", []),
    ],
)
def test_the_page_offers_exactly_the_available_actions(
    client_for, new_ticket, status, who, offered
):
    ticket = new_ticket(status)
    response = client_for(who).get(f"/console/tickets/{ticket.pk}/")
    if offered is None:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    html = response.content.decode()
    assert action_forms(html) == offered
    if not offered:
        assert "您当前对此工单没有可执行的操作" in html


def test_direct_answer_is_offered_only_for_consultations(client_for, new_ticket, org):
    consultation = new_ticket("submitted", type="consultation", category_id=org["bus"].pk)
    assert action_forms(
        client_for("dispatcher").get(f"/console/tickets/{consultation.pk}/").content.decode()
    ) == ["direct_answer", "dispatch", "merge"]
    assert action_forms(
        client_for("agent").get(f"/console/tickets/{consultation.pk}/").content.decode()
    ) == ["direct_answer", "merge"]


def test_the_page_shows_fields_and_masks_the_requester_for_units(client_for, new_ticket):
    ticket = new_ticket("dispatched")
    platform = client_for("dispatcher").get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert (
        'id="requester-name">张三<' in platform and 'id="requester-phone">13800138000<' in platform
    )
    for text in [
        "小区电梯经常故障",
        "城乡建设 / 物业管理",
        "福田区 · 莲花街道 · 莲花北村12栋",
        "12345热线",
        "深圳市住房和建设局",
    ]:
        assert text in platform
    unit = client_for("handler").get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert 'id="requester-name">张*<' in unit and 'id="requester-phone">138****8000<' in unit
    assert "13800138000" not in unit and "张三" not in unit


def test_an_anonymous_requester_stays_anonymous(client_for, new_ticket):
    ticket = new_ticket("dispatched", anonymous=True, contact_allowed=False, requester_phone="")
    html = client_for("dispatcher").get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert 'id="requester-name">匿名<' in html and "张三" not in html


def test_the_full_timeline_with_actor_role_unit_and_states(client_for, new_ticket):
    ticket = new_ticket("closed")
    html = client_for("dispatcher").get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert re.findall(r'data-kind="([a-z_]+)"', html) == [
        "submit",
        "dispatch",
        "sign",
        "reply",
        "rate",
    ]
    assert "诉求已受理" in html and "agent · 受理坐席" in html
    assert "dispatcher · 派单员 · 深圳市住房和建设局" in html
    assert "handler · 承办人员 · 深圳市住房和建设局" in html
    assert "已答复 → 已办结" in html and "满意" in html


# --- the action forms ------------------------------------------------------------------------


def post_action(client, ticket, name, data=None, htmx=True):
    extra = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "ticket-panel"} if htmx else {}
    return client.post(f"/console/tickets/{ticket.pk}/{name}", data or {}, **extra)


def test_dispatch_through_htmx_rerenders_the_panel(client_for, new_ticket, org):
    ticket = new_ticket("submitted")
    response = post_action(
        client_for("dispatcher"),
        ticket,
        "dispatch",
        {
            "unit_id": org["housing"].pk,
            "assisting_unit_ids": [org["transport"].pk],
            "note": "请尽快处理",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="ticket-panel"')
    assert "已派单。" in html and 'id="ticket-status">已派单<' in html
    assert action_forms(html) == []
    ticket.refresh_from_db()
    assert ticket.status == "dispatched" and ticket.lead_unit == org["housing"]
    assert list(ticket.assisting_units.all()) == [org["transport"]]
    assert events(ticket)[-1] == "dispatch"


def test_dispatch_without_javascript_redirects(client_for, new_ticket, org):
    ticket = new_ticket("submitted")
    client = client_for("dispatcher")
    response = post_action(client, ticket, "dispatch", {"unit_id": org["housing"].pk}, htmx=False)
    assert response["Location"] == f"/console/tickets/{ticket.pk}/"
    assert "已派单。" in client.get(response["Location"]).content.decode()


def test_dispatch_without_a_unit_shows_the_error_on_the_field(client_for, new_ticket):
    ticket = new_ticket("submitted")
    before = snapshot(ticket)
    for htmx in (True, False):
        response = post_action(
            client_for("dispatcher"), ticket, "dispatch", {"unit_id": ""}, htmx=htmx
        )
        assert response.status_code == 422
        assert field_errors(response.content.decode(), "unit_id") == ["请选择一个有效的承办单位。"]
    assert snapshot(ticket) == before


def test_sign_then_reply(client_for, new_ticket):
    ticket = new_ticket("dispatched")
    client = client_for("handler")
    signed = post_action(client, ticket, "sign")
    assert signed.status_code == 200 and action_forms(signed.content.decode()) == [
        "reply",
        "request_extension",
        "file_plan",
    ]
    empty = post_action(client, ticket, "reply", {"text": "  "})
    assert empty.status_code == 422 and field_errors(empty.content.decode(), "text") == [
        "请填写内容。"
    ]
    no_outcome = post_action(client, ticket, "reply", {"text": "已协调物业于周五前完成维修。"})
    assert no_outcome.status_code == 422 and field_errors(no_outcome.content.decode(), "outcome") == [
        "请选择诉求的办理结果。"
    ]
    replied = post_action(
        client, ticket, "reply", {"text": "已协调物业于周五前完成维修。", "outcome": "resolved"}
    )
    assert replied.status_code == 200 and "已答复诉求人。" in replied.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "replied"
    assert events(ticket) == ["submit", "dispatch", "sign", "reply"]


def test_return_needs_a_reason_and_a_note(client_for, new_ticket):
    ticket = new_ticket("dispatched")
    client = client_for("handler")
    page = client.get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert '<option value="wrong_locality">不属于本辖区</option>' in page
    before = snapshot(ticket)
    no_reason = post_action(client, ticket, "return", {"note": "不是我们的"})
    assert field_errors(no_reason.content.decode(), "reason_code") == ["请选择退单理由。"]
    no_note = post_action(client, ticket, "return", {"reason_code": "not_our_remit"})
    assert field_errors(no_note.content.decode(), "note") == ["请填写内容。"]
    no_basis = post_action(client, ticket, "return", {"reason_code": "not_our_remit", "note": "属于区级事权"})
    assert field_errors(no_basis.content.decode(), "legal_basis") == ["请填写内容。"]
    assert snapshot(ticket) == before
    done = post_action(
        client, ticket, "return",
        {"reason_code": "not_our_remit", "note": "属于区级事权", "legal_basis": "《深圳市物业管理条例》第十二条"},
    )
    assert done.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == "returned"
    dispatcher_view = (
        client_for("dispatcher").get(f"/console/tickets/{ticket.pk}/").content.decode()
    )
    assert "不属于本单位职责" in dispatcher_view and "属于区级事权" in dispatcher_view


def test_direct_answer_closes_a_consultation(client_for, new_ticket, org):
    ticket = new_ticket("submitted", type="consultation", category_id=org["bus"].pk)
    response = post_action(
        client_for("agent"), ticket, "direct_answer", {"text": "调整方案将于下月实施。"}
    )
    assert response.status_code == 200 and "已答复并办结。" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.replies.get().direct is True


def test_staff_record_a_return_visit_rating(client_for, new_ticket, users):
    ticket = new_ticket("replied")
    response = post_action(
        client_for("agent"),
        ticket,
        "rate",
        {"rating": "basically_satisfied", "comment": "电话回访"},
    )
    assert response.status_code == 200 and "评价已录入。" in response.content.decode()
    rating = TicketRating.objects.get(ticket=ticket)
    assert rating.recorded_by == users["agent"] and rating.rating == "basically_satisfied"
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_close(client_for, new_ticket):
    ticket = new_ticket("replied")
    response = post_action(client_for("dispatcher"), ticket, "close", {"note": "评价期满"})
    assert response.status_code == 200 and "已办结。" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_a_wrong_role_is_refused_and_nothing_changes(client_for, new_ticket, org):
    ticket = new_ticket("submitted")
    before = snapshot(ticket)
    for htmx in (True, False):
        response = post_action(
            client_for("agent"), ticket, "dispatch", {"unit_id": org["housing"].pk}, htmx=htmx
        )
        assert response.status_code == 403
        assert alert(response.content.decode()) == "您的角色无权执行此操作。"
    assert snapshot(ticket) == before


def test_an_action_in_the_wrong_state_tells_the_user_and_shows_the_current_state(
    client_for, new_ticket, org
):
    ticket = new_ticket("dispatched")  # someone else dispatched it first
    before = snapshot(ticket)
    response = post_action(
        client_for("dispatcher"), ticket, "dispatch", {"unit_id": org["transport"].pk}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert alert(html) == "工单当前状态为“已派单”，已无法执行此操作，请刷新页面。"
    assert 'id="ticket-status">已派单<' in html and 'id="lead-unit">深圳市住房和建设局<' in html
    assert action_forms(html) == []
    assert snapshot(ticket) == before


def test_a_unit_that_is_not_the_lead_may_not_sign(client_for, new_ticket, org, actors):
    ticket = new_ticket("submitted")
    actions.dispatch(
        actors["dispatcher"], ticket.pk, org["transport"].pk, assisting_unit_ids=[org["housing"].pk]
    )
    before = snapshot(ticket)
    # The assisting unit sees the ticket but may not sign for it: it may only add its input.
    client = client_for("handler")
    assert action_forms(client.get(f"/console/tickets/{ticket.pk}/").content.decode()) == ["assist_input"]
    response = post_action(client, ticket, "sign")
    assert response.status_code == 403
    assert alert(response.content.decode()) == "只有该工单的承办单位可以执行此操作。"
    assert snapshot(ticket) == before


def test_a_unit_that_cannot_see_the_ticket_gets_404(client_for, new_ticket):
    ticket = new_ticket("dispatched")
    before = snapshot(ticket)
    response = post_action(client_for("other_handler"), ticket, "sign")
    assert response.status_code == 404
    assert snapshot(ticket) == before


def test_an_unknown_action_is_404(client_for, new_ticket):
    ticket = new_ticket("submitted")
    assert post_action(client_for("dispatcher"), ticket, "no_such_action").status_code == 404


# --- attachments and notifications -----------------------------------------------------------


@pytest.fixture
def ticket_with_attachment(org, actors):
    data = {
        "type": "complaint",
        "title": "路面塌陷",
        "text": "莲花路路面塌陷，存在安全隐患。",
        "category_id": org["property"].pk,
        "district": org["futian"].code,
        "anonymous": True,
    }
    upload = SimpleUploadedFile("塌陷.png", PNG, content_type="image/png")
    ticket, _code = actions.submit(
        actors["agent"], clean_submission(data, [upload], channel="hotline")
    )
    actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk)
    return ticket


def test_attachments_are_downloaded_through_access(client_for, ticket_with_attachment):
    attachment = ticket_with_attachment.attachments.get()
    url = f"/console/attachments/{attachment.token}"
    page = (
        client_for("handler").get(f"/console/tickets/{ticket_with_attachment.pk}/").content.decode()
    )
    assert f'href="{url}"' in page and "塌陷.png" in page
    response = client_for("handler").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert client_for("other_handler").get(url).status_code == 404
    assert client_for("handler").get("/console/attachments/nope").status_code == 404
    assert Client().get(url).status_code == 302


def test_notifications_are_counted_listed_and_marked_read(
    client_for, new_ticket, org, actors, users, django_capture_on_commit_callbacks
):
    ticket = new_ticket("submitted")
    with django_capture_on_commit_callbacks(execute=True):
        actions.dispatch(actor_for_user(users["dispatcher"]), ticket.pk, org["housing"].pk)
    assert Notification.objects.filter(user=users["handler"], read_at__isnull=True).count() == 1
    client = client_for("handler")
    assert 'id="unread-count" title="未读">1<' in client.get("/console/").content.decode()
    page = client.get("/console/notifications").content.decode()
    assert ticket.number in page and "已派发至承办单位" in page and "新" in page
    assert Notification.objects.filter(user=users["handler"], read_at__isnull=True).count() == 0
    assert 'id="unread-count"' not in client.get("/console/").content.decode()
    assert "暂无通知" in client_for("other_handler").get("/console/notifications").content.decode()
