"""Time limits through a real browser: an extension from application to the requester's
notice, and a staged-closure plan from filing to its first recorded milestone.

The live server runs on the real clock, so expected deadlines are computed with the same
functions the platform uses, never written out.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import pytest

from minyi.core import clock
from minyi.sla.actions import extend
from minyi.sla.policies import SHANGHAI
from minyi.tickets.models import Ticket

pytestmark = pytest.mark.browser

PASSWORD = "browser-pass-2"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
SCREENSHOTS = Path(os.environ.get("MINYI_SCREENSHOT_DIR", tempfile.gettempdir())) / "minyi-browser"


def log_in(page, username: str) -> None:
    page.goto("/console/login")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console/")


def local(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def staff(users):
    for name in ("handler", "supervisor"):
        users[name].set_password(PASSWORD)
        users[name].save()
    return users


def test_an_extension_is_applied_for_approved_and_told_to_the_requester(
    new_page, staff, new_ticket
):
    from playwright.sync_api import expect

    ticket = new_ticket("in_progress")
    new_due, _ = extend(ticket.due_at, 5)
    new_unit_due, _ = extend(ticket.unit_due_at, 5)

    # 1. The handler applies for five more working days.
    handler = new_page()
    log_in(handler, "handler")
    handler.goto(f"/console/tickets/{ticket.pk}/")
    expect(handler.locator("#clock-unit")).to_contain_text(local(ticket.unit_due_at))
    expect(handler.locator("#clock-unit")).to_contain_text("正常")
    form = handler.locator('form[data-action="request_extension"]')
    expect(form).to_be_hidden()  # folded until asked for
    handler.locator("summary", has_text="申请延期").click()
    form.locator("select[name=reason_code]").select_option(label="办理难度大")
    form.locator("input[name=working_days]").fill("5")
    form.locator("textarea[name=explanation]").fill("需协调水务、街道联合现场勘查。")
    form.get_by_role("button", name="申请延期").click()
    expect(handler.locator("#ticket-panel .alert-success")).to_have_text(
        "已提交延期申请，待督办人员审批。"
    )
    expect(handler.locator("#extensions")).to_contain_text("待审批")
    expect(handler.locator('form[data-action="request_extension"]')).to_have_count(0)

    # 2. The supervisor sees the application and what it would give, and approves it.
    supervisor = new_page()
    log_in(supervisor, "supervisor")
    supervisor.goto(f"/console/tickets/{ticket.pk}/")
    pending = supervisor.locator("#pending-extension")
    expect(pending).to_contain_text("延长 5 个工作日")
    expect(pending).to_contain_text("需协调水务、街道联合现场勘查。")
    expect(pending).to_contain_text(local(new_unit_due))
    decide = supervisor.locator('form[data-action="decide_extension"]')
    decide.locator("textarea[name=note]").fill("同意，请抓紧办理。")
    supervisor.screenshot(path=f"{SCREENSHOTS}-extension-1-decide.png", full_page=True)
    decide.get_by_role("button", name="批准", exact=True).click()
    expect(supervisor.locator("#ticket-panel .alert-success")).to_have_text(
        "已批准延期，新的办理期限已告知诉求人。"
    )
    expect(supervisor.locator("#clock-unit")).to_contain_text(local(new_unit_due))
    expect(supervisor.locator("#clock-requester")).to_contain_text(local(new_due))
    expect(supervisor.locator("#extensions-used")).to_have_text("1 / 2")
    notice = f"办理时限延长 5 个工作日（办理难度大），新的办理期限：{local(new_due)}。"
    entry = supervisor.locator('#timeline li[data-kind="extension_approved"]')
    expect(entry).to_contain_text("办理时限已延长")
    expect(entry).to_contain_text(notice)
    expect(entry).to_contain_text("同意，请抓紧办理。")
    supervisor.screenshot(path=f"{SCREENSHOTS}-extension-2-approved.png", full_page=True)
    ticket.refresh_from_db()
    assert (ticket.due_at, ticket.unit_due_at, ticket.extended_days) == (new_due, new_unit_due, 5)

    # 3. The requester follows the ticket and reads the new deadline.
    requester = new_page(390, 844)
    requester.goto("/track/")
    requester.fill("#id_number", ticket.number)
    requester.fill("#id_code", ticket.access_code)
    requester.get_by_role("button", name="查询").click()
    requester.wait_for_url(f"**/track/{ticket.number}/")
    expect(requester.locator("#track-due")).to_contain_text(local(new_due))
    expect(requester.locator("#track-panel")).to_contain_text(notice)
    expect(requester.locator("#track-panel")).not_to_contain_text("需协调水务")  # internal
    requester.screenshot(path=f"{SCREENSHOTS}-extension-3-track.png", full_page=True)


def test_a_staged_closure_plan_is_filed_approved_and_followed(new_page, staff, new_ticket):
    from playwright.sync_api import expect

    ticket = new_ticket("in_progress")
    today = clock.local_today()
    first, last = today + dt.timedelta(days=7), today + dt.timedelta(days=60)

    # 1. The handler files a plan with two dated milestones.
    handler = new_page()
    log_in(handler, "handler")
    handler.goto(f"/console/tickets/{ticket.pk}/")
    handler.locator("summary", has_text="报送阶段性办结计划").click()
    form = handler.locator('form[data-action="file_plan"]')
    rows = form.locator(".milestone-row")
    expect(rows).to_have_count(5)
    form.get_by_role("button", name="+ 增加节点").click()  # a script adds rows
    expect(rows).to_have_count(6)
    form.locator("textarea[name=explanation]").fill(
        "加装电梯需业主大会表决和规划审批，已向诉求人说明。"
    )
    rows.nth(0).locator("input[name=milestone_title]").fill("召开业主大会表决")
    rows.nth(0).locator("input[name=milestone_date]").fill(first.isoformat())
    rows.nth(1).locator("input[name=milestone_title]").fill("完成规划审批")
    rows.nth(1).locator("input[name=milestone_date]").fill(last.isoformat())
    handler.screenshot(path=f"{SCREENSHOTS}-plan-1-file.png", full_page=True)
    form.get_by_role("button", name="报送阶段性办结计划").click()
    expect(handler.locator("#ticket-panel .alert-success")).to_have_text(
        "已报送计划，待督办人员审批。"
    )
    expect(handler.locator("#plans")).to_contain_text("待审批")

    # 2. The supervisor approves it: the unit's deadline becomes the last milestone's day.
    supervisor = new_page()
    log_in(supervisor, "supervisor")
    supervisor.goto(f"/console/tickets/{ticket.pk}/")
    expect(supervisor.locator("#pending-plan")).to_contain_text("召开业主大会表决")
    expect(supervisor.locator("#pending-plan")).to_contain_text(last.isoformat())
    supervisor.locator('form[data-action="decide_plan"]').get_by_role(
        "button", name="批准", exact=True
    ).click()
    expect(supervisor.locator("#ticket-panel .alert-success")).to_have_text(
        "已批准计划，工单将按计划跟踪办理。"
    )
    expect(supervisor.locator("#clock-unit")).to_contain_text(f"{last.isoformat()} 23:59")
    expect(supervisor.locator("#plans")).to_contain_text("已完成 0 / 2 个节点")

    # 3. The handler records the first milestone with evidence and a photo.
    handler.reload()
    record = handler.locator('form[data-action="record_milestone"]')
    record.locator("select[name=milestone_id]").select_option(
        label=f"1. 召开业主大会表决（{first.isoformat()}）"
    )
    record.locator("textarea[name=evidence]").fill("业主大会已召开，同意加装的业主占 86%。")
    record.locator("input[name=evidence_files]").set_input_files(
        files=[{"name": "表决结果.png", "mimeType": "image/png", "buffer": PNG}]
    )
    record.get_by_role("button", name="登记节点完成").click()
    expect(handler.locator("#ticket-panel .alert-success")).to_have_text("已登记节点完成。")
    plans = handler.locator("#plans")
    expect(plans).to_contain_text("已完成 1 / 2 个节点")
    expect(plans.locator('li.milestone[data-done="true"]')).to_contain_text("召开业主大会表决")
    expect(plans.locator('li.milestone[data-done="true"]')).to_contain_text("同意加装的业主占 86%")
    expect(plans.locator('li.milestone[data-done="false"]')).to_contain_text("完成规划审批")
    expect(plans.get_by_role("link", name="表决结果.png")).to_be_visible()  # under its milestone
    expect(handler.locator('#timeline li[data-kind="milestone_done"]')).to_contain_text(
        "阶段节点已完成"
    )
    handler.screenshot(path=f"{SCREENSHOTS}-plan-2-progress.png", full_page=True)
    phone = new_page(390, 844)
    log_in(phone, "handler")
    phone.goto(f"/console/tickets/{ticket.pk}/")
    expect(phone.locator("#plans")).to_contain_text("已完成 1 / 2 个节点")
    phone.screenshot(path=f"{SCREENSHOTS}-plan-3-phone.png", full_page=True)
    assert (
        Ticket.objects.get(pk=ticket.pk)
        .plans.get()
        .milestones.filter(done_at__isnull=False)
        .count()
        == 1
    )
