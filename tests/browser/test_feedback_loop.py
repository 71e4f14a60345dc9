"""Closing the loop through a real browser (issue 5).

The housing bureau's handler replies with an outcome and a photo; the requester reads it on
the portal and rates it 不满意; a supervisor finds the dissatisfaction reasonable in the
满意度审核 queue, and the ticket goes back to the same unit with a shorter deadline under
escalated handling (提级办理). The handler's new reply waits for the unit leader's approval —
the requester does not see it — until the leader approves it; the requester then rates it
满意 through the rating link sent by e-mail, and the ticket is closed.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from minyi.tickets.models import Ticket

from .test_full_path import PASSWORD, PNG, SCREENSHOTS, log_in

pytestmark = pytest.mark.browser

FIRST_REPLY = "已约谈物业公司，更换电梯主板并于本周五前完成检测。"
COMPLAINT = "电梯还是每周都坏，物业根本没有彻底维修。"
ZONE = ZoneInfo("Asia/Shanghai")
REDO_REPLY = "已更换电梯主板和曳引钢丝绳，11月28日经特种设备检测机构检测合格，物业承诺每周巡检一次。"


def track(page, number: str, code: str) -> None:
    page.goto("/track/")
    page.fill("#id_number", number)
    page.fill("#id_code", code)
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**/track/{number}/")


def rating_link_path() -> str:
    """The rating link of the last e-mail sent (the reply's notice to the requester)."""
    assert mail.outbox, "no e-mail was sent"
    found = re.search(r"https?://\S+?(/rate/\S+)", mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return found.group(1)


def test_dissatisfied_redo_leader_approval_then_satisfied(new_page, new_ticket, users):
    from playwright.sync_api import expect

    for name in ("handler", "leader", "supervisor"):
        users[name].set_password(PASSWORD)
        users[name].save()
    ticket = new_ticket("in_progress", requester_email="zhangsan@example.cn")
    number, code = ticket.number, ticket.access_code
    first_unit_due = ticket.unit_due_at

    # 1. The handler replies with the outcome and a photo of the inspection.
    handler = new_page()
    log_in(handler, "handler")
    handler.goto(f"/console/tickets/{ticket.pk}/")
    reply = handler.locator('form[data-action="reply"]')
    reply.locator("select[name=outcome]").select_option(label="已解决")
    reply.locator("textarea[name=text]").fill(FIRST_REPLY)
    reply.locator("input[name=reply_files]").set_input_files(
        files=[{"name": "检测报告.png", "mimeType": "image/png", "buffer": PNG}]
    )
    reply.get_by_role("button", name="答复").click()
    expect(handler.locator("#ticket-status")).to_have_text("已答复")
    expect(handler.locator("#replies [data-outcome=resolved]")).to_have_text("已解决")

    # 2. The requester reads it on the portal and rates it 不满意.
    citizen = new_page(390, 844)
    track(citizen, number, code)
    replies = citizen.locator("#replies")
    expect(replies).to_contain_text(FIRST_REPLY)
    expect(replies.locator("[data-outcome=resolved]")).to_have_text("已解决")
    expect(replies.get_by_role("link", name="检测报告.png")).to_be_visible()
    expect(citizen.locator("#rating-due")).to_contain_text("前评价")
    citizen.get_by_label("不满意", exact=True).check()
    citizen.fill("#id_rate_comment", COMPLAINT)
    citizen.screenshot(path=f"{SCREENSHOTS}-loop-1-track-rate.png", full_page=True)
    citizen.get_by_role("button", name="提交评价").click()
    expect(citizen.locator("#track-panel .alert-success")).to_have_text("感谢您的评价。")
    expect(citizen.locator("#ticket-status")).to_have_text("复核中")

    # 3. A supervisor finds it in the review queue and judges it reasonable: redo.
    supervisor = new_page()
    log_in(supervisor, "supervisor")
    expect(supervisor.locator("#reviews-count")).to_have_text("1")
    supervisor.get_by_role("link", name="满意度审核").click()
    queue = supervisor.locator("#review-queue")
    expect(queue).to_contain_text(COMPLAINT)
    supervisor.screenshot(path=f"{SCREENSHOTS}-loop-2-review-queue.png", full_page=True)
    queue.get_by_role("link", name=number).click()
    expect(supervisor.locator("#review-info")).to_contain_text("8 个工作日内")
    review = supervisor.locator('form[data-action="review"]')
    review.get_by_label("诉求合理：不满意重办").check()
    review.locator("textarea[name=explanation]").fill("诉求合理，电梯仍频繁故障，请彻底维修并提供检测报告。")
    review.get_by_role("button", name="审核不满意评价").click()
    expect(supervisor.locator("#ticket-status")).to_have_text("办理中")
    expect(supervisor.locator("#ticket-escalated")).to_have_text("提级办理")
    expect(supervisor.locator("#ticket-redo")).to_have_text("已重办 1 次")
    expect(supervisor.locator("#redo-limit")).to_contain_text("8 个工作日")  # half of 15, rounded up
    redone = Ticket.objects.get(pk=ticket.pk)
    assert redone.unit_due_at < first_unit_due  # the shorter deadline
    expect(supervisor.locator("#clock-unit")).to_contain_text(
        f"{redone.unit_due_at.astimezone(ZONE):%Y-%m-%d %H:%M}"
    )
    supervisor.screenshot(path=f"{SCREENSHOTS}-loop-3-redo.png", full_page=True)

    # 4. The handler replies again: under escalated handling it waits for the leader.
    handler.reload()
    expect(handler.locator("#ticket-escalated")).to_have_text("提级办理")
    expect(handler.locator("#escalated-note")).to_contain_text("须经单位负责人审批")
    reply = handler.locator('form[data-action="reply"]')
    reply.locator("select[name=outcome]").select_option(label="已解决")
    reply.locator("textarea[name=text]").fill(REDO_REPLY)
    reply.get_by_role("button", name="答复").click()
    expect(handler.locator("#ticket-status")).to_have_text("答复待领导审批")
    expect(handler.locator("#ticket-panel .alert-success")).to_have_text(
        "答复已保存，经单位负责人审批后发送诉求人。"
    )
    expect(handler.locator('form[data-action="approve_reply"]')).to_have_count(0)
    sent_before = len(mail.outbox)

    # The requester does not see the reply yet.
    citizen.reload()
    expect(citizen.locator("#track-panel")).not_to_contain_text(REDO_REPLY)
    expect(citizen.locator("#review-result")).to_contain_text("您的诉求正在重新办理。")
    expect(citizen.locator(".rate-form")).to_have_count(0)

    # 5. The unit leader finds it among the replies to approve, and approves it.
    leader = new_page()
    log_in(leader, "leader")
    leader.goto("/console/?tab=approve")
    leader.get_by_role("link", name=number).click()
    pending = leader.locator("#pending-reply")
    expect(pending).to_contain_text(REDO_REPLY)
    leader.screenshot(path=f"{SCREENSHOTS}-loop-4-approve.png", full_page=True)
    approval = leader.locator('form[data-action="approve_reply"]')
    approval.locator("textarea[name=note]").fill("同意，请物业按期巡检。")
    approval.get_by_role("button", name="审批通过并发送").click()
    expect(leader.locator("#ticket-status")).to_have_text("已答复")
    expect(leader.locator("#ticket-panel .alert-success")).to_have_text("答复已审批通过并发送诉求人。")
    assert len(mail.outbox) == sent_before + 1  # the reply and its rating link, by e-mail

    # 6. The requester opens the rating link from the e-mail and rates 满意.
    link = rating_link_path()
    rater = new_page(390, 844)
    rater.goto(link)
    expect(rater.locator("#rate-number")).to_have_text(number)
    expect(rater.locator("h1")).to_have_text(ticket.title)
    expect(rater.locator("#replies")).to_contain_text(REDO_REPLY)
    rater.get_by_label("满意", exact=True).check()
    rater.fill("#id_rate_comment", "这次修好了，谢谢。")
    rater.screenshot(path=f"{SCREENSHOTS}-loop-5-rating-link.png", full_page=True)
    rater.get_by_role("button", name="提交评价").click()
    expect(rater.locator("#rate-panel .alert-success")).to_have_text("感谢您的评价。")
    expect(rater.locator("#ticket-status")).to_have_text("已办结")
    # The link is used up.
    rater.reload()
    expect(rater.locator("#rate-why")).to_have_text("该答复已评价过，不能重复评价。")
    expect(rater.locator(".rate-form")).to_have_count(0)

    # 7. Closed, with the whole loop on the timeline.
    closed = Ticket.objects.get(pk=ticket.pk)
    assert closed.status == "closed"
    assert list(closed.ratings.order_by("id").values_list("rating", flat=True)) == [
        "dissatisfied", "satisfied",
    ]
    supervisor.reload()
    expect(supervisor.locator("#ticket-status")).to_have_text("已办结")
    kinds = supervisor.locator("#timeline li").evaluate_all("items => items.map(li => li.dataset.kind)")
    assert kinds[-6:] == ["reply", "rate", "review", "reply", "approve_reply", "rate"]
    supervisor.screenshot(path=f"{SCREENSHOTS}-loop-6-closed.png", full_page=True)


def test_the_second_button_of_a_decision_form(new_page, new_ticket, users, actors):
    """The leader's 退回修改 and the supervisor's 排除 post to their own action (HTMX), and only
    that action is taken; a missing note is shown on the field."""
    from playwright.sync_api import expect

    from minyi.feedback import actions as feedback_actions
    from minyi.org.actors import requester_actor
    from minyi.supervision.models import ReplyScreening
    from minyi.tickets import actions

    for name in ("leader", "supervisor"):
        users[name].set_password(PASSWORD)
        users[name].save()
    ticket = new_ticket("replied")
    actions.rate(requester_actor(), None, rating="dissatisfied", code=ticket.access_code, number=ticket.number)
    feedback_actions.review(actors["supervisor"], ticket.pk, decision="redo", explanation="诉求合理，请重办。")
    actions.reply(actors["handler"], ticket.pk, REDO_REPLY, outcome="resolved")

    leader = new_page()
    log_in(leader, "leader")
    leader.goto(f"/console/tickets/{ticket.pk}/")
    leader.get_by_role("button", name="退回修改").click()
    expect(leader.locator('[data-field="note"]')).to_have_text("请填写内容。")
    leader.locator('form[data-action="approve_reply"] textarea[name=note]').fill("请附上检测报告。")
    leader.get_by_role("button", name="退回修改").click()
    expect(leader.locator("#ticket-status")).to_have_text("办理中")
    expect(leader.locator("#replies .reject-note")).to_contain_text("请附上检测报告。")
    kinds = list(Ticket.objects.get(pk=ticket.pk).events.values_list("kind", flat=True))
    assert kinds.count("reject_reply") == 1 and "approve_reply" not in kinds

    flagged = new_ticket("in_progress", title="楼道灯坏了")
    actions.reply(actors["handler"], flagged.pk, "您的诉求已收悉，我们将尽快处理。", outcome="resolved")
    row = ReplyScreening.objects.get(ticket=flagged)
    supervisor = new_page()
    log_in(supervisor, "supervisor")
    supervisor.get_by_role("link", name="回复质量").click()
    item = supervisor.locator(f"#screening-{row.pk}")
    expect(item).to_contain_text("敷衍答复")
    item.get_by_role("button", name="排除").click()
    expect(item.locator('[data-field="note"]')).to_have_text("请填写内容。")
    item.locator("textarea[name=note]").fill("已电话核实，诉求人表示灯已修好。")
    supervisor.screenshot(path=f"{SCREENSHOTS}-loop-7-quality.png", full_page=True)
    item.get_by_role("button", name="排除").click()
    expect(supervisor.locator(f"#screening-{row.pk} .alert-success")).to_have_text("已排除该问题。")
    row.refresh_from_db()
    assert row.state == "dismissed"
