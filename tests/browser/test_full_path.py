"""The whole path of an anonymous request through a real browser.

A citizen submits anonymously with a photo, the dispatcher dispatches it to the housing
bureau, the bureau's handler signs for it and replies, the citizen follows it with the number
and access code and rates it 满意, and the dispatcher sees every step on the timeline.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
PASSWORD = "browser-pass-1"
#: Screenshots for people to look at (set MINYI_SCREENSHOT_DIR to keep them elsewhere).
SCREENSHOTS = Path(os.environ.get("MINYI_SCREENSHOT_DIR", tempfile.gettempdir())) / "minyi-browser"


def log_in(page, username: str) -> None:
    page.goto("/console/login")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console/")


def test_anonymous_request_from_submission_to_rating(new_page, org, users):
    from playwright.sync_api import expect

    for name in ("dispatcher", "handler"):
        users[name].set_password(PASSWORD)
        users[name].save()

    # 1. The citizen submits anonymously, with a photo.
    citizen = new_page(390, 844)  # a phone
    citizen.goto("/")
    expect(citizen.locator("h1")).to_have_text("有诉求，找政府")
    citizen.select_option("#id_type", "complaint")
    citizen.select_option("#id_category_id", label="物业管理")
    citizen.select_option("#id_district", label="福田区")
    # The street list is reloaded for the district (HTMX).
    expect(citizen.locator("#id_street option")).to_have_count(2)
    citizen.select_option("#id_street", label="莲花街道")
    citizen.fill("#id_address", "莲花北村12栋")
    citizen.fill("#id_title", "小区电梯经常故障")
    citizen.fill(
        "#id_text", "莲花北村12栋电梯近一个月故障五次，物业一直没有彻底维修，老人出行困难。"
    )
    citizen.set_input_files(
        "#id_attachments", files=[{"name": "电梯.png", "mimeType": "image/png", "buffer": PNG}]
    )
    expect(citizen.locator("#id_requester_name")).to_be_visible()
    citizen.get_by_label("匿名提交").check()
    expect(citizen.locator("#id_requester_name")).to_be_hidden()  # anonymous hides the name
    expect(citizen.locator("#id_requester_phone")).to_be_hidden()
    citizen.screenshot(path=f"{SCREENSHOTS}-1-portal-form.png", full_page=True)
    citizen.get_by_role("button", name="提交", exact=True).click()
    citizen.wait_for_url("**/submitted/")
    expect(citizen.locator("h1")).to_have_text("您的诉求已受理")
    number = citizen.locator("#ticket-number").inner_text().strip()
    code = citizen.locator("#access-code").inner_text().strip()
    assert re.fullmatch(r"\d{8}-\d{6}", number) and re.fullmatch(r"[A-Z0-9]{10}", code)
    citizen.screenshot(path=f"{SCREENSHOTS}-2-receipt.png", full_page=True)

    # 2. The dispatcher finds it on the 待派发 tab and dispatches it to the housing bureau.
    dispatcher = new_page()
    log_in(dispatcher, "dispatcher")
    expect(dispatcher.locator(".tab.on")).to_contain_text("待派发")
    # Filtering reloads only the table (HTMX) and keeps the filter in the address.
    dispatcher.fill("input[name=q]", number)
    dispatcher.press("input[name=q]", "Enter")
    dispatcher.wait_for_url(re.compile(r"q=" + re.escape(number)))
    # hx-push-url changes the address before the new table is swapped in: wait for it, or
    # the click below may land on the old table as it is being replaced.
    dispatcher.wait_for_load_state("networkidle")
    expect(dispatcher.locator("#worklist-table")).to_have_count(1)
    expect(dispatcher.locator("#worklist-table tbody tr")).to_have_count(1)
    dispatcher.get_by_role("link", name=number).click()
    expect(dispatcher.locator("#ticket-status")).to_have_text("已受理")
    expect(dispatcher.locator("#requester-name")).to_have_text("匿名")
    expect(dispatcher.get_by_role("link", name="电梯.png")).to_be_visible()
    dispatch = dispatcher.locator('form[data-action="dispatch"]')
    dispatch.locator("select[name=unit_id]").select_option(label="深圳市住房和建设局")
    dispatch.locator("textarea[name=note]").fill("请核实电梯维保情况")
    dispatch.get_by_role("button", name="派单").click()
    expect(dispatcher.locator("#ticket-status")).to_have_text("已派单")
    expect(dispatcher.locator("#lead-unit")).to_have_text("深圳市住房和建设局")

    # 3. The housing bureau's handler signs for it and replies.
    handler = new_page()
    log_in(handler, "handler")
    expect(handler.locator(".tab.on")).to_contain_text("待签收")
    handler.get_by_role("link", name=number).click()
    handler.locator('form[data-action="sign"]').get_by_role("button", name="签收").click()
    expect(handler.locator("#ticket-status")).to_have_text("办理中")
    reply = handler.locator('form[data-action="reply"]')
    reply.locator("select[name=outcome]").select_option(label="已解决")
    reply.locator("textarea[name=text]").fill("已约谈物业公司，更换电梯主板并于本周五前完成检测。")
    reply.get_by_role("button", name="答复").click()
    expect(handler.locator("#ticket-status")).to_have_text("已答复")
    expect(handler.locator("#ticket-panel .alert-success")).to_have_text("已答复诉求人。")

    # 4. The citizen follows it with number and code, and rates it 满意.
    follower = new_page(390, 844)  # another device: nothing in its session
    follower.goto("/track/")
    follower.fill("#id_number", number)
    follower.fill("#id_code", code)
    follower.get_by_role("button", name="查询").click()
    follower.wait_for_url(f"**/track/{number}/")
    assert code not in follower.url
    expect(follower.locator("#ticket-status")).to_have_text("已答复")
    expect(follower.locator("#track-panel")).to_contain_text("已约谈物业公司")
    follower.get_by_label("满意", exact=True).check()
    follower.fill("#id_rate_comment", "处理及时，谢谢")
    follower.screenshot(path=f"{SCREENSHOTS}-3-track.png", full_page=True)
    follower.get_by_role("button", name="提交评价").click()
    expect(follower.locator("#track-panel .alert-success")).to_have_text("感谢您的评价。")
    expect(follower.locator("#ticket-status")).to_have_text("已办结")
    follower.reload()  # the session keeps the verified code
    expect(follower.locator("#ticket-status")).to_have_text("已办结")

    # 5. The dispatcher's page shows the whole timeline.
    dispatcher.reload()
    expect(dispatcher.locator("#ticket-status")).to_have_text("已办结")
    kinds = dispatcher.locator("#timeline li").evaluate_all(
        "items => items.map(li => li.dataset.kind)"
    )
    assert kinds == ["submit", "dispatch", "sign", "reply", "rate"]
    timeline = dispatcher.locator("#timeline")
    expect(timeline).to_contain_text("派单员 · 深圳市住房和建设局")
    expect(timeline).to_contain_text("请核实电梯维保情况")
    expect(timeline).to_contain_text("满意")
    dispatcher.screenshot(path=f"{SCREENSHOTS}-4-ticket.png", full_page=True)
