"""Privacy and measures through a real browser (issues 6 and 7).

A supervisor reveals a requester's phone number with a reason and then finds the reveal in the
audit; the housing bureau's handler presses "联系诉求人（隐私号）" and reads the virtual number to
dial, never the requester's; a city leader opens the measures page and the chart draws.
"""

from __future__ import annotations

import pytest

from minyi.calls.models import Binding, HandlerLine, VirtualNumber
from minyi.privacy.models import Reveal

from .test_full_path import PASSWORD, SCREENSHOTS, log_in

pytestmark = pytest.mark.browser

PHONE, MASKED_PHONE = "13800138000", "138****8000"
REASON = "诉求人来电要求核实回访号码"


def test_a_supervisor_reveals_a_phone_and_the_audit_lists_it(new_page, users, new_ticket):
    from playwright.sync_api import expect

    users["supervisor"].set_password(PASSWORD)
    users["supervisor"].save()
    ticket = new_ticket("dispatched")
    page = new_page()
    log_in(page, "supervisor")
    page.goto(f"/console/tickets/{ticket.pk}/")
    phone = page.locator("#contact-phone")
    expect(phone.locator("#requester-phone")).to_have_text(MASKED_PHONE)
    phone.get_by_text("查看", exact=True).click()
    phone.get_by_label("查看理由").fill(REASON)
    phone.get_by_role("button", name="查看联系电话").click()
    expect(page.locator("#requester-phone[data-revealed]")).to_have_text(PHONE)
    expect(page.locator("#contact-phone")).to_contain_text("仅显示一次")
    page.screenshot(path=f"{SCREENSHOTS}-privacy-revealed.png", full_page=True)
    assert Reveal.objects.filter(ticket=ticket, field="phone", granted=True, reason=REASON).count() == 1
    # Reloaded, the page is masked again.
    page.reload()
    expect(page.locator("#requester-phone")).to_have_text(MASKED_PHONE)

    page.get_by_role("link", name="个人信息查看记录").click()
    page.wait_for_url("**/console/privacy/reveals")
    page.fill("input[name=ticket]", ticket.number)
    page.get_by_role("button", name="搜索").click()
    row = page.locator(f'tr[data-number="{ticket.number}"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text("联系电话")
    expect(row).to_contain_text(REASON)
    expect(row).to_contain_text("已准许")
    expect(page.locator("#reveals")).not_to_contain_text(PHONE)
    page.screenshot(path=f"{SCREENSHOTS}-privacy-audit.png", full_page=True)


def test_a_handler_calls_the_requester_through_a_virtual_number(new_page, users, new_ticket):
    from playwright.sync_api import expect

    users["handler"].set_password(PASSWORD)
    users["handler"].save()
    VirtualNumber.objects.create(number="075588880001")
    HandlerLine.objects.create(user=users["handler"], phone="13912345678")
    ticket = new_ticket("in_progress")
    page = new_page()
    log_in(page, "handler")
    page.goto(f"/console/tickets/{ticket.pk}/")
    expect(page.locator("#requester-phone")).to_have_text(MASKED_PHONE)
    page.get_by_role("button", name="联系诉求人（隐私号）").click()
    expect(page.locator("#virtual-number")).to_have_text("075588880001")
    expect(page.locator("#binding-expires")).to_be_visible()
    expect(page.locator("#calls")).not_to_contain_text(PHONE)
    assert PHONE not in page.content()
    page.screenshot(path=f"{SCREENSHOTS}-privacy-call.png", full_page=True)
    assert Binding.objects.get().handler == users["handler"]


def test_a_city_leader_opens_the_measures_and_the_chart_draws(new_page, users, new_ticket):
    from playwright.sync_api import expect

    users["cityleader"].set_password(PASSWORD)
    users["cityleader"].save()
    new_ticket("closed")
    page = new_page()
    log_in(page, "cityleader")
    page.get_by_role("link", name="考核指标").click()
    page.wait_for_url("**/console/kpis")
    expect(page.locator("#kpi-received .kpi-value")).to_have_text("1")
    expect(page.locator("#kpi-chart[data-rendered=true]")).to_have_count(1)
    expect(page.locator("#kpi-chart canvas, #kpi-chart svg").first).to_be_visible()
    box = page.locator("#kpi-chart canvas").first.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 200
    page.screenshot(path=f"{SCREENSHOTS}-kpis.png", full_page=True)
