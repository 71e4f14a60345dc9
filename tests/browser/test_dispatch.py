"""Dispatch and arbitration through a real browser.

A routing rule suggests the housing bureau; the dispatcher sees why and dispatches with the
suggestion; the bureau's handler returns the ticket with a reason and its legal basis; the
dispatcher rejects the return and force-dispatches it back; the handler can no longer return it.
"""

from __future__ import annotations

import pytest

from conftest import LEGAL_BASIS
from minyi.dispatch.models import RoutingRule

from .test_full_path import PASSWORD, SCREENSHOTS, log_in

pytestmark = pytest.mark.browser


def test_dispatch_return_and_arbitration(new_page, org, users, new_ticket):
    from playwright.sync_api import expect

    for name in ("dispatcher", "handler"):
        users[name].set_password(PASSWORD)
        users[name].save()
    rule = RoutingRule.objects.create(
        category=org["property"], district=org["futian"], lead_unit=org["housing"], priority=1
    )
    ticket = new_ticket()

    # 1. The dispatcher sees the suggested unit and why, and dispatches with it.
    dispatcher = new_page()
    log_in(dispatcher, "dispatcher")
    dispatcher.goto(f"/console/tickets/{ticket.pk}/")
    expect(dispatcher.locator("#suggested-unit")).to_have_text("深圳市住房和建设局")
    expect(dispatcher.locator("#routing-why")).to_contain_text(f"分拨规则 #{rule.pk}")
    dispatch = dispatcher.locator('form[data-action="dispatch"]')
    expect(dispatch.locator("select[name=unit_id]")).to_have_value(str(org["housing"].pk))
    dispatch.get_by_role("button", name="派单").click()
    expect(dispatcher.locator("#lead-unit")).to_have_text("深圳市住房和建设局")
    expect(dispatcher.locator("#ticket-status")).to_have_text("已派单")

    # 2. The handler returns it with a reason and the legal basis.
    handler = new_page()
    log_in(handler, "handler")
    handler.goto(f"/console/tickets/{ticket.pk}/")
    expect(handler.locator("#return-due")).to_be_visible()
    back = handler.locator('form[data-action="return"]')
    back.locator("select[name=reason_code]").select_option(label="不属于本单位职责")
    back.locator("textarea[name=note]").fill("电梯日常维保监管属区住建部门职责。")
    back.locator("textarea[name=legal_basis]").fill(LEGAL_BASIS)
    back.get_by_role("button", name="退单").click()
    expect(handler.locator("#ticket-panel .alert-success")).to_have_text("已退回派单员。")
    status_returned = handler.locator("#ticket-status").inner_text()

    # 3. The dispatcher reads the legal basis, rejects the return and force-dispatches.
    dispatcher.reload()
    expect(dispatcher.locator("#ticket-status")).to_have_text(status_returned)
    expect(dispatcher.locator("#timeline")).to_contain_text(LEGAL_BASIS)
    ruling = dispatcher.locator('form[data-action="arbitrate"]')
    ruling.locator("textarea[name=note]").fill("经研判，电梯维保监管属市住建局职责，退单不成立。")
    ruling.get_by_role("button", name="驳回退单并强制派回").click()
    expect(dispatcher.locator("#ticket-panel .alert-success")).to_have_text("已驳回退单：工单已强制派回原单位。")
    expect(dispatcher.locator("#ticket-status")).to_have_text("已派单")
    expect(dispatcher.locator("#lead-unit")).to_have_text("深圳市住房和建设局")
    dispatcher.screenshot(path=f"{SCREENSHOTS}-dispatch-arbitrated.png", full_page=True)

    # 4. The handler can no longer return it: only signing is offered.
    handler.reload()
    expect(handler.locator("#forced-dispatch")).to_have_text("已强制派单：不得退单")
    expect(handler.locator('form[data-action="return"]')).to_have_count(0)
    expect(handler.locator('form[data-action="sign"]')).to_have_count(1)
    kinds = dispatcher.locator("#timeline li").evaluate_all("items => items.map(li => li.dataset.kind)")
    assert kinds == ["submit", "dispatch", "return", "arbitrate"]
