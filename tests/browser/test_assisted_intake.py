"""The intake agent types a caller's request; the form fills in the platform's suggestions.

Without a trained model the suggestions come from the rules, the category names and the
gazetteer: urgency from "煤气味", the district and street from "莲花街道", and the agent files
the ticket with them.
"""

from __future__ import annotations

import pytest

from minyi.tickets.models import Ticket

from .test_full_path import PASSWORD, SCREENSHOTS, log_in

pytestmark = pytest.mark.browser


def test_the_form_fills_in_the_suggestions(new_page, org, users):
    from playwright.sync_api import expect

    users["agent"].set_password(PASSWORD)
    users["agent"].save()
    agent = new_page()
    log_in(agent, "agent")
    agent.goto("/console/tickets/new")

    agent.fill("#id_title", "楼道里有煤气味")
    agent.fill("#id_text", "福田区莲花街道莲花北村12栋楼道里有很浓的煤气味，怀疑燃气泄漏，请马上派人来处理。")
    suggestions = agent.locator("#assist-suggestions")
    expect(suggestions).to_contain_text("煤气味")  # the words behind the urgency suggestion
    # The empty fields are filled in for the agent to confirm.
    expect(agent.locator("#id_urgent")).to_be_checked()
    expect(agent.locator("#id_district")).to_have_value(org["futian"].code)
    expect(agent.locator("#id_street")).to_have_value(org["lianhua"].code)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    agent.screenshot(path=str(SCREENSHOTS / "assisted-intake.png"), full_page=True)

    # The agent completes what the platform could not know and files the ticket.
    agent.select_option("#id_type", "report")
    agent.select_option("#id_category_id", str(org["property"].pk))
    agent.check("#id_anonymous")
    agent.get_by_role("button", name="保存工单").click()
    agent.wait_for_url("**/console/tickets/created")
    ticket = Ticket.objects.get()
    assert ticket.urgent is True
    assert (ticket.district_id, ticket.street_id) == (org["futian"].pk, org["lianhua"].pk)
