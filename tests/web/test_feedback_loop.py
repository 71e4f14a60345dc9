"""Closing the loop on the web (issue 5): replies with outcome and files on the portal, the
rating link's page, return visits, the review queue and redo, the leader's approval, manual
supervision with answers and the dashboard, quality findings, and the figures per unit."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from minyi.core import clock
from minyi.feedback import actions as feedback_actions
from minyi.feedback.links import make_token, rating_url
from minyi.org.actors import requester_actor
from minyi.supervision import actions as supervision_actions
from minyi.supervision.models import ReplyScreening, SupervisionOrder
from minyi.tickets import actions
from minyi.tickets.models import Ticket, TicketRating

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
REPLY = "已约谈物业公司，更换电梯主板并于本周五前完成检测。"
REDO_REPLY = "已更换电梯主板和钢丝绳，经特种设备检测机构检测合格，物业承诺每周巡检。"
PERFUNCTORY = "您的诉求已收悉，我们将尽快处理。"
HTMX = {"HTTP_HX_REQUEST": "true"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def field_errors(html: str, field: str) -> list[str]:
    return re.findall(rf'<p class="error" role="alert" data-field="{field}">([^<]+)</p>', html)


def action_forms(html: str) -> list[str]:
    return re.findall(r'data-action="([a-z_]+)"', html)


def section(html: str, element_id: str) -> str:
    """The element with this id, up to its own closing tag."""
    start = re.search(rf'<(\w+)\b[^>]*\sid="{element_id}"', html)
    assert start, element_id
    tag, depth = start.group(1), 0
    for match in re.compile(rf"<(/?){tag}\b[^>]*>").finditer(html, start.start()):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return html[start.start() : match.end()]
    raise AssertionError(f"{element_id} is not closed")


def post_action(client, ticket, name, data=None, htmx=True):
    extra = {**HTMX, "HTTP_HX_TARGET": "ticket-panel"} if htmx else {}
    return client.post(f"/console/tickets/{ticket.pk}/{name}", data or {}, **extra)


def tracker(ticket) -> Client:
    """A browser that proved access to the ticket with its number and code."""
    client = Client()
    response = client.post("/track/", {"number": ticket.number, "code": ticket.access_code})
    assert response.status_code == 302, response.content.decode()
    return client


def link_of(ticket) -> str:
    reply = ticket.replies.filter(state="published").order_by("-id").first()
    return "/rate/" + rating_url(ticket.pk, reply.pk).rsplit("/rate/", 1)[1]


@pytest.fixture(autouse=True)
def _reference(reference_data):
    """Reply outcomes and the supervision ladder (the migrations' data)."""


@pytest.fixture
def dissatisfied(new_ticket):
    """A replied ticket the requester rated dissatisfied: under review."""
    ticket = new_ticket("replied")
    actions.rate(
        requester_actor(), None, rating="dissatisfied", comment="电梯还是经常坏，物业没有彻底维修。",
        code=ticket.access_code, number=ticket.number,
    )
    ticket.refresh_from_db()
    assert ticket.status == "under_review"
    return ticket


@pytest.fixture
def redone(dissatisfied, actors):
    """The dissatisfied rating judged reasonable: the housing bureau redoes the ticket."""
    feedback_actions.review(
        actors["supervisor"], dissatisfied.pk, decision="redo", explanation="诉求合理，请彻底维修。"
    )
    dissatisfied.refresh_from_db()
    return dissatisfied


# --- the portal: replies, files, the rating window, the review's result ---------------------


def test_the_reply_with_outcome_and_a_file_reaches_the_tracking_page(client_for, new_ticket):
    ticket = new_ticket("in_progress")
    handler = client_for("handler")
    page = handler.get(f"/console/tickets/{ticket.pk}/").content.decode()
    form = section(page, "ticket-panel")
    assert '<option value="resolved">已解决</option>' in form
    assert 'name="reply_files"' in form and 'enctype="multipart/form-data"' in form
    wrong_file = post_action(handler, ticket, "reply", {
        "text": REPLY, "outcome": "resolved",
        "reply_files": SimpleUploadedFile("note.txt", b"plain text", content_type="text/plain"),
    })
    assert wrong_file.status_code == 422
    assert field_errors(wrong_file.content.decode(), "reply_files") == [
        "只能上传图片（JPEG、PNG、GIF、WebP）和 PDF 文档。"
    ]
    replied = post_action(handler, ticket, "reply", {
        "text": REPLY, "outcome": "resolved",
        "reply_files": SimpleUploadedFile("检测报告.png", PNG, content_type="image/png"),
    })
    html = replied.content.decode()
    assert replied.status_code == 200 and "已答复诉求人。" in html
    replies = section(html, "replies")
    assert 'data-outcome="resolved">已解决<' in replies and "检测报告.png" in replies
    staff_file = re.search(r'href="(/console/attachments/[0-9a-f]+)"', replies).group(1)
    assert handler.get(staff_file)["Content-Type"] == "image/png"

    citizen = tracker(ticket)
    track = citizen.get(f"/track/{ticket.number}/").content.decode()
    replies = section(track, "replies")
    assert REPLY in replies and "已解决" in replies and "handler" not in replies
    url = re.search(rf'href="(/track/{ticket.number}/files/[0-9a-f]+)"', replies).group(1)
    download = citizen.get(url)
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == PNG
    ticket.refresh_from_db()
    due = ticket.rating_due_at.astimezone(SHANGHAI)
    assert f"请在 {due:%Y-%m-%d %H:%M} 前评价。" in section(track, "rating-due")
    # Someone without the code gets the lookup form, not the file.
    stranger = Client().get(url)
    assert stranger.status_code == 302 and stranger["Location"].startswith("/track/?number=")
    assert citizen.get(f"/track/{ticket.number}/files/{'0' * 32}").status_code == 404


def test_a_reply_awaiting_approval_is_not_shown_to_the_requester(redone, actors):
    actions.reply(actors["handler"], redone.pk, REDO_REPLY, outcome="resolved")
    redone.refresh_from_db()
    assert redone.status == "pending_approval"
    html = tracker(redone).get(f"/track/{redone.number}/").content.decode()
    assert REDO_REPLY not in html
    assert "rate-form" not in html
    review = section(html, "review-result")
    assert "您的诉求正在重新办理。" in review and "深圳市住房和建设局" in review
    assert "诉求合理，请彻底维修。" in review


def test_a_closed_review_shows_the_explanation(dissatisfied, actors):
    feedback_actions.review(
        actors["dispatcher"], dissatisfied.pk, decision="close",
        explanation="经核查，电梯已由检测机构检测合格，您反映的问题已解决。",
    )
    html = tracker(dissatisfied).get(f"/track/{dissatisfied.number}/").content.decode()
    review = section(html, "review-result")
    assert "经审核，该诉求已办结。" in review
    assert "经核查，电梯已由检测机构检测合格" in review
    assert '<span class="badge status status-closed" id="ticket-status">已办结</span>' in html


# --- the rating link ----------------------------------------------------------------------------


def test_the_rating_link_page_rates_once(new_ticket, unchanged):
    ticket = new_ticket("replied")
    url = link_of(ticket)
    page = Client().get(url)
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    html = page.content.decode()
    assert ticket.number in html and ticket.title in html and "已解决" in html
    assert ticket.replies.get().text in section(html, "replies")
    assert 'name="rating"' in html and "满意" in html and "基本满意" in html and "不满意" in html
    assert 'id="rating-due"' in html

    client = Client()
    no_choice = client.post(url, {"comment": "还行"}, **HTMX)
    assert no_choice.status_code == 422
    assert field_errors(no_choice.content.decode(), "rating") == ["请选择评价。"]
    done = client.post(url, {"rating": "satisfied", "comment": "处理及时，谢谢"})
    assert done.status_code == 302 and done["Location"] == url
    after = client.get(url).content.decode()
    assert "感谢您的评价。" in after and 'data-state="rated"' in after and 'name="rating"' not in after
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert TicketRating.objects.get(ticket=ticket).comment == "处理及时，谢谢"

    # Twice: a readable message, nothing changes.
    again_page = Client().get(url).content.decode()
    assert "该答复已评价过，不能重复评价。" in again_page and 'name="rating"' not in again_page
    with unchanged(ticket):
        again = Client().post(url, {"rating": "dissatisfied"}, **HTMX)
    assert again.status_code == 409
    assert "该答复已评价过，不能重复评价。" in section(again.content.decode(), "rate-alert")


@pytest.mark.parametrize("token", ["garbage", "eyJ0IjoxLCJyIjoxfQ:1abc:forged"])
def test_an_invalid_link_is_refused_and_changes_nothing(new_ticket, unchanged, token):
    ticket = new_ticket("replied")
    with unchanged(ticket):
        page = Client().get(f"/rate/{token}")
        posted = Client().post(f"/rate/{token}", {"rating": "satisfied"})
    for response in (page, posted):
        assert response.status_code == 404
        assert "该评价链接无效。" in response.content.decode()
    assert Client().get(f"/rate/{token}/files/{'0' * 32}").status_code == 404


def test_a_link_to_a_reply_that_does_not_exist_is_invalid(new_ticket):
    ticket = new_ticket("replied")
    response = Client().get(f"/rate/{make_token(ticket.pk, 999999)}")
    assert response.status_code == 409 and "该评价链接无效。" in response.content.decode()


def test_after_a_redo_the_old_link_is_superseded_and_the_new_one_works(redone, actors, unchanged):
    old = link_of(redone)
    actions.reply(actors["leader"], redone.pk, REDO_REPLY, outcome="resolved")  # signed by the leader
    redone.refresh_from_db()
    assert redone.status == "replied"
    html = Client().get(old).content.decode()
    assert "该评价链接已失效：工单已有新的答复。" in html and 'name="rating"' not in html
    with unchanged(redone):
        assert Client().post(old, {"rating": "satisfied"}).status_code == 410
    new = link_of(redone)
    assert new != old
    assert REDO_REPLY in Client().get(new).content.decode()
    assert Client().post(new, {"rating": "satisfied"}).status_code == 302
    redone.refresh_from_db()
    assert redone.status == "closed"


def test_a_link_superseded_by_a_newer_reply(new_ticket, actors, unchanged):
    ticket = new_ticket("in_progress")
    actions.reply(actors["handler"], ticket.pk, PERFUNCTORY, outcome="resolved")
    ticket.refresh_from_db()
    old = link_of(ticket)
    from minyi.supervision import screening

    screening.confirm(actors["supervisor"], ReplyScreening.objects.get(ticket=ticket).pk, note="请重新答复。")
    actions.reply(actors["handler"], ticket.pk, REPLY, outcome="resolved")
    ticket.refresh_from_db()
    html = Client().get(old).content.decode()
    assert "该评价链接已失效：工单已有新的答复。" in html and 'name="rating"' not in html
    with unchanged(ticket):
        refused = Client().post(old, {"rating": "satisfied"})
    assert refused.status_code == 410
    assert "该评价链接已失效：工单已有新的答复。" in refused.content.decode()


def test_the_rating_window_closes(new_ticket, unchanged, settings):
    ticket = new_ticket("replied")
    url = link_of(ticket)
    with clock.frozen_at(ticket.rating_due_at + dt.timedelta(minutes=1)):
        html = Client().get(url).content.decode()
        assert "该答复的评价期限已过。" in html and 'name="rating"' not in html
        with unchanged(ticket):
            refused = Client().post(url, {"rating": "satisfied"})
    assert refused.status_code == 409 and "该答复的评价期限已过。" in refused.content.decode()


def test_the_rating_link_is_rate_limited(new_ticket, settings, one_rate_window):
    settings.MINYI_PUBLIC_RATE_LIMIT = 2
    url = link_of(new_ticket("replied"))
    client = Client()
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert "请求过于频繁" in client.get(url).content.decode()


# --- return visits, the review queue, redo, the leader's approval --------------------------------


def test_a_return_visit_rating_with_a_note(client_for, new_ticket, users):
    ticket = new_ticket("replied")
    agent = client_for("agent")
    form = section(agent.get(f"/console/tickets/{ticket.pk}/").content.decode(), "ticket-panel")
    assert 'name="visit_note"' in form and "电话回访后" in form
    done = post_action(agent, ticket, "rate", {
        "rating": "basically_satisfied", "comment": "基本解决", "visit_note": "电话回访，诉求人表示电梯已修好但仍有异响。",
    })
    html = done.content.decode()
    assert done.status_code == 200 and "评价已录入。" in html
    ratings = section(html, "ratings")
    assert "基本满意" in ratings and "回访" in ratings and "电梯已修好但仍有异响" in ratings
    assert TicketRating.objects.get(ticket=ticket).visit_note.startswith("电话回访")


def test_the_review_queue_by_role(client_for, dissatisfied, new_ticket):
    other = new_ticket("replied")
    for who in ("supervisor", "dispatcher"):
        client = client_for(who)
        header = client.get("/console/").content.decode()
        assert 'href="/console/reviews"' in header and 'id="reviews-count"' in header
        page = client.get("/console/reviews")
        html = page.content.decode()
        assert page.status_code == 200 and "满意度审核" in html
        queue = section(html, "review-queue")
        assert dissatisfied.number in queue and other.number not in queue
        assert "电梯还是经常坏" in queue and "已解决" in queue
        assert f'href="/console/tickets/{dissatisfied.pk}/"' in queue
    for who in ("handler", "leader", "agent"):
        client = client_for(who)
        assert 'href="/console/reviews"' not in client.get("/console/").content.decode()
        refused = client.get("/console/reviews")
        assert refused.status_code == 403 and "您的角色无权执行此操作" in refused.content.decode()


def test_the_review_form_and_a_redo(client_for, dissatisfied, actors, unchanged):
    supervisor = client_for("supervisor")
    html = supervisor.get(f"/console/tickets/{dissatisfied.pk}/").content.decode()
    assert "review" in action_forms(html)
    info = section(html, "review-info")
    assert "电梯还是经常坏" in info and "深圳市住房和建设局" in info and "8 个工作日内" in info
    assert 'type="radio" name="decision" value="redo"' in html and "诉求合理：不满意重办" in html
    assert 'type="radio" name="decision" value="close"' in html
    handler = client_for("handler")
    with unchanged(dissatisfied):
        refused = post_action(handler, dissatisfied, "review", {"decision": "redo", "explanation": "x"})
        assert refused.status_code == 403
        no_choice = post_action(supervisor, dissatisfied, "review", {"explanation": "诉求合理"})
        assert field_errors(no_choice.content.decode(), "decision") == ["请选择重办或办结。"]
        no_text = post_action(supervisor, dissatisfied, "review", {"decision": "redo"})
        assert field_errors(no_text.content.decode(), "explanation") == ["请填写内容。"]
    done = post_action(supervisor, dissatisfied, "review", {"decision": "redo", "explanation": "诉求合理，请彻底维修。"})
    html = done.content.decode()
    assert done.status_code == 200 and "已退回原承办单位重办" in html
    ticket = Ticket.objects.get(pk=dissatisfied.pk)
    assert ticket.status == "in_progress" and ticket.escalated and ticket.redo_count == 1
    assert 'id="ticket-escalated"' in html and ">提级办理<" in html and "已重办 1 次" in html
    assert "诉求合理，请彻底维修。" in section(html, "reviews")
    # The shorter deadline (half of 15 working days, rounded up) is the unit's clock.
    assert f"{ticket.unit_due_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" in section(html, "clock-unit")
    handler_page = handler.get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert "提级办理：您的答复须经单位负责人审批后才会发送给诉求人。" in handler_page
    assert dissatisfied.number not in section(
        supervisor.get("/console/reviews").content.decode(), "review-queue"
    )


def test_the_leader_approves_or_sends_back_and_a_handler_cannot(client_for, redone, unchanged):
    handler, leader = client_for("handler"), client_for("leader")
    waiting = post_action(handler, redone, "reply", {"text": REDO_REPLY, "outcome": "resolved"})
    html = waiting.content.decode()
    assert waiting.status_code == 200 and "答复已保存，经单位负责人审批后发送诉求人。" in html
    assert '<span class="badge status status-pending_approval" id="ticket-status">答复待领导审批</span>' in html
    assert "待单位负责人审批" in section(html, "replies")
    assert action_forms(html) == []  # the handler may not approve

    with unchanged(redone):
        for name in ("approve_reply", "reject_reply"):
            refused = post_action(handler, redone, name, {"note": "自己批准"})
            assert refused.status_code == 403 and "您的角色无权执行此操作" in refused.content.decode()

    tab = leader.get("/console/", {"tab": "approve"}).content.decode()
    assert 'data-tab="approve"' in tab and redone.number in tab
    page = leader.get(f"/console/tickets/{redone.pk}/").content.decode()
    assert action_forms(page) == ["approve_reply"]  # one form, two buttons
    pending = section(page, "pending-reply")
    assert REDO_REPLY in pending and "已解决" in pending
    assert f'formaction="/console/tickets/{redone.pk}/reject_reply"' in page
    assert "审批通过并发送" in page and "退回修改" in page

    with unchanged(redone):
        no_note = post_action(leader, redone, "reject_reply", {})
        assert no_note.status_code == 422
        assert field_errors(no_note.content.decode(), "note") == ["请填写内容。"]
    back = post_action(leader, redone, "reject_reply", {"note": "请写明检测机构和检测日期。"})
    html = back.content.decode()
    assert back.status_code == 200 and "答复已退回修改。" in html
    replies = section(html, "replies")
    assert "单位负责人已退回" in replies and "请写明检测机构和检测日期。" in replies
    redone.refresh_from_db()
    assert redone.status == "in_progress"

    post_action(handler, redone, "reply", {"text": REDO_REPLY + "检测日期为11月28日。", "outcome": "resolved"})
    approved = post_action(leader, redone, "approve_reply", {"note": "同意"})
    assert approved.status_code == 200 and "答复已审批通过并发送诉求人。" in approved.content.decode()
    redone.refresh_from_db()
    assert redone.status == "replied"
    track = tracker(redone).get(f"/track/{redone.number}/").content.decode()
    assert "检测日期为11月28日。" in track and "请写明检测机构" not in track and "rate-form" in track


# --- supervision by hand, answers, the dashboard ---------------------------------------------------


def test_a_supervisor_opens_an_order_from_the_ticket_page(client_for, new_ticket, unchanged):
    ticket = new_ticket("in_progress")
    supervisor = client_for("supervisor")
    html = supervisor.get(f"/console/tickets/{ticket.pk}/").content.decode()
    form = section(html, "ticket-panel")
    assert 'data-form="supervise"' in form and 'name="level"' in form and 'type="date"' in form
    assert 'data-form="supervise"' not in client_for("handler").get(f"/console/tickets/{ticket.pk}/").content.decode()
    url = f"/console/tickets/{ticket.pk}/supervise"
    with unchanged(ticket):
        no_reason = supervisor.post(url, {"level": "2"}, **HTMX)
        assert no_reason.status_code == 422
        assert field_errors(no_reason.content.decode(), "reason") == ["请填写内容。"]
        bad_date = supervisor.post(url, {"reason": "群众反映强烈", "level": "2", "due": "明天"}, **HTMX)
        assert field_errors(bad_date.content.decode(), "due") == ["请输入日期（YYYY-MM-DD）。"]
        past = supervisor.post(url, {"reason": "群众反映强烈", "level": "2", "due": "2020-01-01"}, **HTMX)
        assert field_errors(past.content.decode(), "due") == ["期限不能早于今天。"]
        by_handler = client_for("handler").post(url, {"reason": "x", "level": "1"}, **HTMX)
        assert by_handler.status_code == 403 and "只有督办人员可以执行此操作。" in by_handler.content.decode()
    done = supervisor.post(url, {"reason": "群众反映强烈，请加快办理。", "level": "2"}, **HTMX)
    html = done.content.decode()
    assert done.status_code == 200 and "已发起督办，承办单位须在期限内回复。" in html
    orders = section(html, "supervision-orders")
    assert "人工督办" in orders and "群众反映强烈，请加快办理。" in orders and "正式督办通知" in orders
    order = SupervisionOrder.objects.get(ticket=ticket)
    assert order.level == 2 and order.cause == "manual"
    again = supervisor.post(url, {"reason": "再次督办", "level": "1"}, **HTMX)
    assert again.status_code == 409 and "该工单已有同类督办单在办。" in again.content.decode()


def order_row(html: str, order) -> str:
    return re.search(rf'<tr[^>]*data-order="{order.pk}".*?</tr>', html, re.S).group(0)


def test_the_unit_answers_and_the_supervisor_closes(client_for, new_ticket, actors, org, unchanged):
    ticket = new_ticket("in_progress")
    order = supervision_actions.open_manual(actors["supervisor"], ticket.pk, reason="请三日内回复处理进展。", level=1)
    handler = client_for("handler")
    page = handler.get("/console/supervision").content.decode()
    row = order_row(page, order)
    assert 'data-order-form="answer"' in row and 'data-order-form="close"' not in row
    assert "请三日内回复处理进展。" in row
    url = f"/console/supervision/orders/{order.pk}/answer"
    with unchanged(ticket):
        empty = handler.post(url, {"text": " "}, **HTMX)
        assert empty.status_code == 422 and field_errors(empty.content.decode(), "text") == ["请填写内容。"]
        other = client_for("other_handler").post(url, {"text": "不是我们的"}, **HTMX)
        assert other.status_code == 404
        supervisor_answer = client_for("supervisor").post(url, {"text": "代答"}, **HTMX)
        assert supervisor_answer.status_code == 403
    answered = handler.post(url, {"text": "已约谈物业，周五前完成维修。"}, **HTMX)
    html = answered.content.decode()
    assert answered.status_code == 200 and html.lstrip().startswith("<tr")
    assert "回复已提交" in html and "已约谈物业，周五前完成维修。" in html and "已回复" in html

    supervisor = client_for("supervisor")
    row = order_row(supervisor.get("/console/supervision").content.decode(), order)
    assert 'data-order-form="close"' in row and 'data-order-form="answer"' not in row
    close = f"/console/supervision/orders/{order.pk}/close"
    assert handler.post(close, {"note": "自行销号"}, **HTMX).status_code == 403
    closed = supervisor.post(close, {"note": "回复满意，予以销号。"})
    assert closed.status_code == 302 and closed["Location"] == "/console/supervision"
    order.refresh_from_db()
    assert order.status == "closed" and order.close_reason == "回复满意，予以销号。"
    again = supervisor.post(close, {"note": "再次销号"}, **HTMX)
    assert again.status_code == 409 and "该督办单已结束。" in again.content.decode()


def test_answering_from_the_ticket_page(client_for, new_ticket, actors):
    ticket = new_ticket("in_progress")
    order = supervision_actions.open_manual(actors["supervisor"], ticket.pk, reason="请说明进展。", level=1)
    handler = client_for("handler")
    box = section(handler.get(f"/console/tickets/{ticket.pk}/").content.decode(), "supervision-orders")
    assert 'data-order-form="answer"' in box and 'name="from" value="ticket"' in box
    done = handler.post(
        f"/console/supervision/orders/{order.pk}/answer", {"text": "已维修完毕。", "from": "ticket"}, **HTMX
    )
    html = done.content.decode()
    assert done.status_code == 200 and 'id="ticket-panel"' in html
    assert "已维修完毕。" in section(html, "supervision-orders")


def test_the_dashboard_counts_open_orders_by_unit_and_level(client_for, new_ticket, actors, org):
    first, second = new_ticket("in_progress"), new_ticket("in_progress")
    transport = new_ticket("submitted", title="公交线路调整咨询", type="consultation", category_id=org["bus"].pk)
    actions.dispatch(actors["dispatcher"], transport.pk, org["transport"].pk)
    supervision_actions.open_manual(actors["supervisor"], first.pk, reason="督办一", level=1)
    supervision_actions.open_manual(actors["supervisor"], second.pk, reason="督办二", level=3)
    supervision_actions.open_manual(actors["supervisor"], transport.pk, reason="督办三", level=1)
    html = client_for("supervisor").get("/console/supervision").content.decode()
    board = section(html, "supervision-dashboard")
    housing = re.search(rf'data-board-unit="{org["housing"].pk}".*?</tr>', board, re.S).group(0)
    assert re.findall(r'data-level="\d">(?:<span class="muted">)?(\d)', housing) == ["1", "0", "1", "0"]
    assert 'data-col="open"><strong>2<' in housing
    assert re.search(r'data-col="total-open">3<', board)
    # A unit's staff see their own unit's row only.
    own = section(client_for("handler").get("/console/supervision").content.decode(), "supervision-dashboard")
    assert f'data-board-unit="{org["housing"].pk}"' in own
    assert f'data-board-unit="{org["transport"].pk}"' not in own


# --- quality findings --------------------------------------------------------------------------------


@pytest.fixture
def flagged(new_ticket, actors):
    ticket = new_ticket("in_progress")
    actions.reply(actors["handler"], ticket.pk, PERFUNCTORY, outcome="resolved")
    row = ReplyScreening.objects.get(ticket=ticket)
    assert row.state == "flagged"
    ticket.refresh_from_db()
    return ticket, row


def test_a_flagged_reply_shows_why(client_for, flagged):
    ticket, row = flagged
    supervisor = client_for("supervisor")
    header = supervisor.get("/console/").content.decode()
    assert 'href="/console/quality"' in header and 'id="quality-count-nav"' in header
    html = supervisor.get("/console/quality").content.decode()
    item = section(html, f"screening-{row.pk}")
    assert ticket.number in item and PERFUNCTORY in item
    assert "敷衍答复" in item and "承诺无时限" in item
    assert "没有核查情况、已采取的措施" in item and "<q class=\"evidence-item\">将尽快处理</q>" in item
    assert "与诉求相关度" in item and 'data-screening-form' in item
    ticket_page = supervisor.get(f"/console/tickets/{ticket.pk}/").content.decode()
    finding = section(ticket_page, "replies")
    assert 'data-screening-state="flagged"' in finding and "敷衍答复" in finding
    # The unit sees its own findings, without the decision form; an intake agent not at all.
    unit_view = client_for("handler").get("/console/quality").content.decode()
    assert f'id="screening-{row.pk}"' in unit_view and "data-screening-form" not in unit_view
    assert client_for("agent").get("/console/quality").status_code == 403
    assert 'href="/console/quality"' not in client_for("agent").get("/console/").content.decode()


def test_confirming_a_finding_asks_for_a_new_reply(client_for, flagged, unchanged):
    ticket, row = flagged
    supervisor = client_for("supervisor")
    url = f"/console/quality/{row.pk}/confirm"
    with unchanged(ticket):
        no_note = supervisor.post(url, {}, **HTMX)
        assert no_note.status_code == 422 and field_errors(no_note.content.decode(), "note") == ["请填写内容。"]
        by_handler = client_for("handler").post(url, {"note": "确认"}, **HTMX)
        assert by_handler.status_code == 403 and "只有督办人员可以执行此操作。" in by_handler.content.decode()
    done = supervisor.post(url, {"note": "答复未说明维修措施和时间，请重新答复。"}, **HTMX)
    html = done.content.decode()
    assert done.status_code == 200 and "已确认问题" in html and 'data-screening-state="confirmed"' in html
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert SupervisionOrder.objects.get(ticket=ticket).cause == "quality"
    again = supervisor.post(f"/console/quality/{row.pk}/dismiss", {"note": "排除"}, **HTMX)
    assert again.status_code == 409 and "该筛查结果已处理。" in again.content.decode()


def test_dismissing_a_finding(client_for, flagged):
    ticket, row = flagged
    done = client_for("supervisor").post(f"/console/quality/{row.pk}/dismiss", {"note": "已电话核实，属实。"})
    assert done.status_code == 302 and done["Location"] == f"/console/quality#screening-{row.pk}"
    row.refresh_from_db()
    ticket.refresh_from_db()
    assert row.state == "dismissed" and ticket.status == "replied"
    listed = client_for("supervisor").get("/console/quality", {"state": "dismissed"}).content.decode()
    assert f'id="screening-{row.pk}"' in listed and "已电话核实，属实。" in listed
    assert f'id="screening-{row.pk}"' not in client_for("supervisor").get("/console/quality").content.decode()


# --- figures per unit, intake e-mail, navigation -------------------------------------------------------


def test_the_feedback_figures_per_unit(client_for, new_ticket, dissatisfied, org, actors):
    new_ticket("closed")  # rated satisfied
    html = client_for("supervisor").get("/console/feedback").content.decode()
    table = section(html, "feedback-figures")
    row = re.search(rf'<tr data-unit="{org["housing"].pk}">.*?</tr>', table, re.S).group(0)
    cells = dict(re.findall(r'data-col="(\w+)">(?:<strong>)?([^<]+)<', row))
    assert cells == {
        "replies": "2", "satisfied": "1", "basically_satisfied": "0", "dissatisfied": "1",
        "unrated": "0", "redos": "0", "satisfaction_rate": "50.0%",
    }
    assert 'name="unit"' in html
    own = client_for("handler").get("/console/feedback")
    assert own.status_code == 200 and 'name="unit"' not in own.content.decode()
    refused = client_for("handler").get("/console/feedback", {"unit": org["transport"].pk})
    assert refused.status_code == 403 and "您只能查看本单位的数据。" in refused.content.decode()
    empty = client_for("other_handler").get("/console/feedback").content.decode()
    assert "该期间内没有答复。" in empty


def test_the_intake_forms_take_an_e_mail(client_for, org):
    data = {
        "type": "complaint", "category_id": str(org["property"].pk), "district": org["futian"].code,
        "title": "小区电梯经常故障", "text": "莲花北村12栋电梯近一个月故障五次，物业一直没有彻底维修。",
        "requester_kind": "citizen", "requester_name": "张三", "requester_phone": "13800138000",
    }
    portal = Client()
    assert 'name="requester_email"' in portal.get("/").content.decode()
    wrong = portal.post("/", {**data, "requester_email": "not-an-address"})
    assert wrong.status_code == 422
    assert field_errors(wrong.content.decode(), "requester_email") == ["电子邮箱格式不正确。"]
    assert portal.post("/", {**data, "requester_email": "zhang@example.cn"}).status_code == 302
    assert Ticket.objects.get().requester_email == "zhang@example.cn"  # stored encrypted
    agent = client_for("agent")
    assert 'name="requester_email"' in agent.get("/console/tickets/new").content.decode()
    taken = agent.post("/console/tickets/new", {**data, "channel": "hotline", "requester_email": "li@example.cn"})
    assert taken.status_code == 302
    assert Ticket.objects.order_by("-id").first().requester_email == "li@example.cn"


@pytest.mark.parametrize(
    ("who", "links"),
    [
        ("supervisor", {"reviews": True, "quality": True, "feedback": True}),
        ("dispatcher", {"reviews": True, "quality": True, "feedback": True}),
        ("handler", {"reviews": False, "quality": True, "feedback": True}),
        ("agent", {"reviews": False, "quality": False, "feedback": True}),
    ],
)
def test_navigation_by_role(client_for, who, links):
    html = client_for(who).get("/console/").content.decode()
    for name, shown in links.items():
        assert (f'href="/console/{name}"' in html) is shown, name
