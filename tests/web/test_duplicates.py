"""Duplicates in the console (the 疑似重复工单 panel and the merge form) and on the tracking page."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import ticket_state
from minyi.tickets import actions

pytestmark = pytest.mark.django_db

DUPLICATE = {
    "title": "莲花北村电梯老是坏",
    "text": "莲花北村12栋的电梯这个月坏了好几次，物业没有彻底维修，老人上下楼很困难。",
}


def post_action(client, ticket, name, data=None):
    return client.post(
        f"/console/tickets/{ticket.pk}/{name}", data or {}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ticket-panel"
    )


@pytest.mark.parametrize("who", ["dispatcher", "agent"])
def test_the_panel_lists_the_duplicate_and_merges_it(client_for, new_ticket, who):
    original = new_ticket()
    duplicate = new_ticket(**DUPLICATE)
    client = client_for(who)
    html = client.get(f"/console/tickets/{duplicate.pk}/").content.decode()
    assert 'id="duplicates"' in html
    assert f'data-duplicate="{original.number}"' in html
    assert 'data-action="merge"' in html
    response = post_action(client, duplicate, "merge", {"into_id": str(original.pk), "note": "同一电梯"})
    assert response.status_code == 200, response.content
    duplicate.refresh_from_db()
    assert duplicate.status == "merged"
    assert duplicate.merged_into_id == original.pk
    html = response.content.decode()
    assert 'id="merged-into"' in html and original.number in html
    assert 'data-action="merge"' not in html
    target_html = client.get(f"/console/tickets/{original.pk}/").content.decode()
    assert 'id="merged-tickets"' in target_html and duplicate.number in target_html


def test_merge_by_number_and_refusals_change_nothing(client_for, new_ticket):
    original = new_ticket()
    duplicate = new_ticket(**DUPLICATE)
    client = client_for("dispatcher")
    before = ticket_state(duplicate.pk)
    response = post_action(client, duplicate, "merge", {"into_number": "20990101-999999"})
    assert response.status_code == 422
    response = post_action(client, duplicate, "merge", {"into_id": str(duplicate.pk)})
    assert response.status_code == 422
    assert ticket_state(duplicate.pk) == before
    response = post_action(client, duplicate, "merge", {"into_number": original.number})
    assert response.status_code == 200, response.content
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == original.pk


def test_the_intake_suggestions_list_likely_duplicates(client_for, new_ticket, org):
    original = new_ticket()
    typed = {"title": DUPLICATE["title"], "text": "福田区莲花街道" + DUPLICATE["text"]}
    client = client_for("agent")
    form = client.get("/console/tickets/new").content.decode()
    assert "#id_district, #id_street" in form  # the chosen place goes with the text
    html = client.post("/assist/intake", typed).content.decode()
    assert 'id="intake-duplicates"' in html
    assert f'data-duplicate="{original.number}"' in html and "同一街道" in html
    # The place chosen on the form wins over the one suggested from the text.
    elsewhere = client.post("/assist/intake", {**typed, "district": org["nanshan"].code}).content.decode()
    assert 'id="intake-duplicates"' in elsewhere and "data-duplicate" not in elsewhere
    # The public portal's form is never told about other people's tickets.
    public = Client().post("/assist/intake", typed).content.decode()
    assert 'id="assist-data"' in public and "intake-duplicates" not in public
    assert original.number not in public
    assert "#id_district, #id_street" not in Client().get("/").content.decode()


def test_after_intake_the_agent_sees_the_likely_duplicates(client_for, new_ticket, org):
    original = new_ticket()
    client = client_for("agent")
    response = client.post("/console/tickets/new", {
        "channel": "hotline", "type": "complaint", "category_id": str(org["property"].pk),
        "district": org["futian"].code, "street": org["lianhua"].code, **DUPLICATE,
        "anonymous": "on",
    })
    assert response.status_code == 302, response.content.decode()
    html = client.get(response["Location"]).content.decode()
    assert 'id="intake-duplicates"' in html and f'data-duplicate="{original.number}"' in html
    unrelated = client.post("/console/tickets/new", {
        "channel": "hotline", "type": "consultation", "category_id": str(org["bus"].pk),
        "district": org["nanshan"].code, "title": "公交站牌信息错误", "text": "香梅路公交站的站牌线路信息还是旧的。",
        "anonymous": "on",
    })
    assert 'id="intake-duplicates"' not in client.get(unrelated["Location"]).content.decode()


def test_a_unit_sees_no_panel(client_for, new_ticket):
    new_ticket("dispatched")
    ticket = new_ticket("dispatched", **DUPLICATE)
    html = client_for("handler").get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert 'id="duplicates"' not in html


def test_the_tracking_page_of_a_merged_ticket(new_ticket, actors, org):
    original = new_ticket()
    duplicate = new_ticket(**DUPLICATE)
    actions.merge(actors["dispatcher"], duplicate.pk, original.pk, "")
    actions.dispatch(actors["dispatcher"], original.pk, org["housing"].pk)
    actions.sign(actors["handler"], original.pk)
    actions.reply(actors["handler"], original.pk, "已更换电梯主板。", outcome="resolved")
    client = Client()
    client.post("/track/", {"number": duplicate.number, "code": duplicate.access_code})
    html = client.get(f"/track/{duplicate.number}/").content.decode()
    assert 'id="merged-into"' in html and original.number in html
    assert "已更换电梯主板。" in html
    assert "rate-form" in html
    response = client.post(f"/track/{duplicate.number}/rate", {"rating": "satisfied"})
    assert response["Location"] == f"/track/{duplicate.number}/"
    assert duplicate.ratings.get().rating == "satisfied"
    original.refresh_from_db()
    assert original.status == "replied"
