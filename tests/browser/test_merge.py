"""Duplicates and merge through a real browser (issue 4, item 5).

Two requesters report the same broken lift in the same street. The dispatcher opens the second
ticket, sees the first listed as a likely duplicate and merges the second into it. The merged
requester's tracking page says it follows the other ticket; once the housing bureau replies on
that ticket, the merged requester reads the reply and rates it on their own ticket, while the
other ticket stays as it is. The intake agent sees the likely duplicate already while typing.
"""

from __future__ import annotations

import pytest

from minyi.tickets.models import Ticket, TicketRating

from .test_full_path import PASSWORD, SCREENSHOTS, log_in

pytestmark = pytest.mark.browser

DUPLICATE = {
    "title": "莲花北村电梯老是坏",
    "text": "莲花北村12栋的电梯这个月坏了好几次，物业没有彻底维修，老人上下楼很困难。",
}
REPLY = "已约谈物业公司，更换电梯主板并于本周五前完成检测。"


def track(page, number: str, code: str) -> None:
    page.goto("/track/")
    page.fill("#id_number", number)
    page.fill("#id_code", code)
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**/track/{number}/")


def test_the_dispatcher_merges_a_duplicate_and_both_requesters_get_the_reply(new_page, org, users, new_ticket):
    from playwright.sync_api import expect

    for name in ("dispatcher", "handler"):
        users[name].set_password(PASSWORD)
        users[name].save()
    original = new_ticket()  # 张三's complaint, 莲花街道
    duplicate = new_ticket(requester_name="李四", requester_phone="13900139000", **DUPLICATE)

    # 1. The dispatcher opens the second ticket and sees the first as a likely duplicate.
    dispatcher = new_page()
    log_in(dispatcher, "dispatcher")
    dispatcher.goto(f"/console/tickets/{duplicate.pk}/")
    panel = dispatcher.locator("#duplicates")
    expect(panel.locator("h2")).to_have_text("疑似重复工单")
    row = panel.locator(f'tr[data-duplicate="{original.number}"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text("同一街道")
    expect(panel.locator("tr[data-duplicate]")).to_have_count(1)

    # 2. It merges the duplicate into the first ticket.
    merge = dispatcher.locator('form[data-action="merge"]')
    merge.locator("select[name=into_id]").select_option(str(original.pk))
    merge.locator("textarea[name=note]").fill("同一栋楼的电梯故障")
    merge.get_by_role("button", name="合并为重复工单").click()
    expect(dispatcher.locator("#ticket-panel .alert-success")).to_have_text(
        "已合并。诉求人可凭自己的工单编号查看另一工单的办理进展。"
    )
    expect(dispatcher.locator("#ticket-status")).to_have_text("已合并")
    expect(dispatcher.locator("#merged-into")).to_contain_text(original.number)
    expect(dispatcher.locator('form[data-action="merge"]')).to_have_count(0)
    dispatcher.screenshot(path=f"{SCREENSHOTS}-merge-merged.png", full_page=True)

    # 3. The merged requester's tracking page: their own number, following the other ticket.
    merged = new_page(390, 844)  # the second requester's phone
    track(merged, duplicate.number, duplicate.access_code)
    expect(merged.locator("#merged-into")).to_contain_text(f"已合并至 {original.number}")
    expect(merged.locator("#ticket-status")).to_have_text("已受理")  # the other ticket's status
    expect(merged.locator("#track-panel .number")).to_have_text(duplicate.number)
    expect(merged.locator(".rate-form")).to_have_count(0)  # nothing to rate yet

    # 4. The dispatcher dispatches the first ticket, which lists the merged one.
    dispatcher.goto(f"/console/tickets/{original.pk}/")
    expect(dispatcher.locator("#merged-tickets")).to_contain_text(duplicate.number)
    dispatch = dispatcher.locator('form[data-action="dispatch"]')
    dispatch.locator("select[name=unit_id]").select_option(label="深圳市住房和建设局")
    dispatch.get_by_role("button", name="派单").click()
    expect(dispatcher.locator("#ticket-status")).to_have_text("已派单")

    # 5. The housing bureau signs for it and replies on that ticket.
    handler = new_page()
    log_in(handler, "handler")
    handler.goto(f"/console/tickets/{original.pk}/")
    handler.locator('form[data-action="sign"]').get_by_role("button", name="签收").click()
    expect(handler.locator("#ticket-status")).to_have_text("办理中")
    reply = handler.locator('form[data-action="reply"]')
    reply.locator("select[name=outcome]").select_option("resolved")
    reply.locator("textarea[name=text]").fill(REPLY)
    reply.get_by_role("button", name="答复").click()
    expect(handler.locator("#ticket-status")).to_have_text("已答复")

    # 6. The merged requester reads the reply and rates it on their own ticket.
    merged.reload()  # the session keeps the verified code
    expect(merged.locator("#ticket-status")).to_have_text("已答复")
    expect(merged.locator("#track-panel")).to_contain_text(REPLY)
    expect(merged.locator("#track-panel")).to_contain_text("深圳市住房和建设局")
    merged.get_by_label("基本满意", exact=True).check()
    merged.fill("#id_rate_comment", "希望以后定期检修")
    merged.screenshot(path=f"{SCREENSHOTS}-merge-track.png", full_page=True)
    merged.get_by_role("button", name="提交评价").click()
    expect(merged.locator("#track-panel .alert-success")).to_have_text("感谢您的评价。")
    expect(merged.locator("#track-panel")).to_contain_text("您的评价")
    expect(merged.locator("#track-panel .rating-basically_satisfied")).to_have_text("基本满意")
    expect(merged.locator(".rate-form")).to_have_count(0)  # once

    # Each requester keeps their own rating: the first ticket still waits for its requester's.
    rating = TicketRating.objects.get(ticket=duplicate)
    assert (rating.rating, rating.comment) == ("basically_satisfied", "希望以后定期检修")
    assert rating.reply.ticket_id == original.pk
    original.refresh_from_db()
    assert original.status == "replied" and not original.ratings.exists()
    assert list(duplicate.events.order_by("id").values_list("kind", flat=True)) == ["submit", "merge", "rate"]
    first = new_page(390, 844)  # the first requester still rates their own ticket
    track(first, original.number, original.access_code)
    expect(first.locator("#track-panel")).to_contain_text(REPLY)
    expect(first.locator(".rate-form")).to_have_count(1)
    expect(first.locator("#track-panel")).not_to_contain_text("希望以后定期检修")


def test_the_intake_agent_sees_the_likely_duplicate_while_typing(new_page, org, users, new_ticket):
    from playwright.sync_api import expect

    users["agent"].set_password(PASSWORD)
    users["agent"].save()
    original = new_ticket()
    agent = new_page()
    log_in(agent, "agent")
    agent.goto("/console/tickets/new")

    agent.fill("#id_title", DUPLICATE["title"])
    agent.fill("#id_text", "福田区莲花街道" + DUPLICATE["text"])
    # The place is suggested from the text and filled in; the open ticket there is listed.
    expect(agent.locator("#id_street")).to_have_value(org["lianhua"].code)
    found = agent.locator("#intake-duplicates")
    expect(found).to_contain_text("疑似重复工单")
    expect(found.locator(f'[data-duplicate="{original.number}"]')).to_contain_text("同一街道")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    agent.screenshot(path=str(SCREENSHOTS / "intake-duplicates.png"), full_page=True)


    # The agent saves the request; the receipt lists the likely duplicate to merge it into.
    agent.select_option("#id_type", "complaint")
    agent.select_option("#id_category_id", str(org["property"].pk))
    agent.check("#id_anonymous")
    agent.get_by_role("button", name="保存工单").click()
    agent.wait_for_url("**/console/tickets/created")
    expect(agent.locator("#intake-duplicates")).to_contain_text(original.number)
    created = Ticket.objects.exclude(pk=original.pk).get()
    agent.get_by_role("link", name="打开工单").click()
    expect(agent.locator(f'#duplicates tr[data-duplicate="{original.number}"]')).to_have_count(1)
    assert created.status == "submitted"
