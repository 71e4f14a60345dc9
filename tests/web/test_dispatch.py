"""The dispatch parts of the console: the routing suggestion pre-selected with its reason,
returns with a legal basis, arbitration, sign-for time, assisting input, returns per unit."""

from __future__ import annotations

import re

from conftest import LEGAL_BASIS, ticket_state
from minyi.dispatch.models import RoutingRule
from minyi.tickets import actions
from minyi.tickets.models import TicketEvent

RULING = "经研判属住建局职责，退单不成立。"


def post_action(client, ticket, name, data=None):
    return client.post(
        f"/console/tickets/{ticket.pk}/{name}", data or {}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ticket-panel"
    )


def action_forms(html: str) -> list[str]:
    return re.findall(r'data-action="([a-z_]+)"', html)


def field_errors(html: str, field: str) -> list[str]:
    return re.findall(rf'<p class="error" role="alert" data-field="{field}">([^<]+)</p>', html)


def selected(html: str, select_id: str) -> list[str]:
    block = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S)
    assert block, select_id
    return re.findall(r'<option value="([^"]*)"[^>]*selected', block.group(0))


def test_the_dispatcher_sees_the_suggestion_preselected_with_why(client_for, new_ticket, actors, org):
    rule = RoutingRule.objects.create(
        category=org["urban"], district=org["futian"], lead_unit=org["street_office"], priority=2
    )
    rule.assisting_units.add(org["housing"])
    ticket = new_ticket()
    html = client_for("dispatcher").get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert 'id="suggested-unit">福田区莲花街道办事处<' in html
    assert f"分拨规则 #{rule.pk}：城乡建设，福田区（优先级 2）。" in html
    assert selected(html, "id_dispatch_unit_id") == [str(org["street_office"].pk)]
    assert selected(html, "id_dispatch_assisting_unit_ids") == [str(org["housing"].pk)]
    # Without a rule: the category's usual unit, said so.
    rule.delete()
    html = client_for("dispatcher").get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert selected(html, "id_dispatch_unit_id") == [str(org["housing"].pk)]
    assert "没有匹配的分拨规则：派该分类的常用承办单位。" in html
    # The unit does not see the suggestion.
    actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk)
    html = client_for("handler").get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert 'id="routing-suggestion"' not in html and 'data-action="sign"' in html


def test_return_with_legal_basis_then_arbitration_in_the_console(client_for, new_ticket, org):
    ticket = new_ticket("dispatched")
    handler = client_for("handler")
    page = handler.get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert action_forms(page) == ["sign", "return"]
    assert 'id="sign-due"' in page and 'id="return-due"' in page
    before = ticket_state(ticket.pk)
    no_basis = post_action(handler, ticket, "return", {"reason_code": "not_our_remit", "note": "属区级事权"})
    assert no_basis.status_code == 422
    assert field_errors(no_basis.content.decode(), "legal_basis") == ["请填写内容。"]
    assert ticket_state(ticket.pk) == before
    done = post_action(
        handler, ticket, "return", {"reason_code": "not_our_remit", "note": "属区级事权", "legal_basis": LEGAL_BASIS}
    )
    assert done.status_code == 200
    dispatcher = client_for("dispatcher")
    page = dispatcher.get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert action_forms(page) == ["dispatch", "arbitrate", "merge"]
    assert f"法定依据: {LEGAL_BASIS}" in page or f"法定依据：{LEGAL_BASIS}" in page
    # The returning unit is not pre-selected for a re-dispatch.
    assert str(org["housing"].pk) not in selected(page, "id_dispatch_unit_id")
    before = ticket_state(ticket.pk)
    empty = post_action(dispatcher, ticket, "arbitrate", {"note": " "})
    assert field_errors(empty.content.decode(), "note") == ["请填写内容。"]
    assert ticket_state(ticket.pk) == before
    ruled = post_action(dispatcher, ticket, "arbitrate", {"note": RULING})
    assert ruled.status_code == 200
    assert "已驳回退单：工单已强制派回原单位。" in ruled.content.decode()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.lead_unit, ticket.forced_dispatch) == ("dispatched", org["housing"], True)
    page = handler.get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert action_forms(page) == ["sign"]
    assert 'id="forced-dispatch"' in page
    # Posting the return anyway is refused and changes nothing.
    before = ticket_state(ticket.pk)
    refused = post_action(
        handler, ticket, "return", {"reason_code": "not_our_remit", "note": "再退", "legal_basis": LEGAL_BASIS}
    )
    assert refused.status_code == 409
    assert "该工单的退单已被裁定驳回，不得再次退单。" in refused.content.decode()
    assert ticket_state(ticket.pk) == before


def test_a_late_sign_is_shown(client_for, new_ticket, travel):
    travel("2026-11-03T10:00")
    ticket = new_ticket("dispatched")
    travel("2026-11-03T12:00")
    post_action(client_for("handler"), ticket, "sign")
    html = client_for("dispatcher").get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert 'id="signed-late"' in html and "超时签收" in html


def test_an_assisting_unit_adds_input_the_lead_unit_reads(client_for, new_ticket, actors, org):
    ticket = new_ticket()
    actions.dispatch(actors["dispatcher"], ticket.pk, org["transport"].pk, assisting_unit_ids=[org["housing"].pk])
    assisting = client_for("handler")
    assert action_forms(assisting.get(f"/console/tickets/{ticket.pk}/").content.decode()) == ["assist_input"]
    done = post_action(assisting, ticket, "assist_input", {"text": "该小区电梯已列入更新改造计划。"})
    assert done.status_code == 200
    lead = client_for("other_handler").get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert "协办单位意见" in lead and "该小区电梯已列入更新改造计划。" in lead
    assert TicketEvent.objects.filter(ticket=ticket, kind="assist_input").count() == 1


def test_the_returns_page(client_for, new_ticket, actors, org):
    ticket = new_ticket("returned")
    actions.arbitrate(actors["dispatcher"], ticket.pk, note=RULING)
    new_ticket("returned")
    html = client_for("dispatcher").get("/console/returns").content.decode()
    assert "各单位退单情况" in html
    row = re.search(rf'<tr data-unit="{org["housing"].pk}">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'data-col="(\w+)">(\d+)<', row) == [
        ("returns", "2"), ("upheld", "0"), ("resent", "0"), ("rejected", "1"), ("pending", "1")
    ]
    assert 'href="/console/returns"' in html
    # A unit sees only its own row; another unit's figures are refused.
    other = client_for("other_handler")
    assert "深圳市住房和建设局" not in other.get("/console/returns").content.decode()
    assert other.get(f"/console/returns?unit={org['housing'].pk}").status_code == 403
