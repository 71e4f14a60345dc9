"""Duplicates and merge (issue 4 item 5): similar open tickets, the merge action through the API,
and the merged requester following the other ticket's reply and rating it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import assert_error
from minyi.tickets import actions
from minyi.tickets.duplicates import similar_open_tickets, similar_to_draft
from minyi.tickets.models import Ticket, TicketRating

pytestmark = pytest.mark.django_db

DUPLICATE = {
    "title": "莲花北村电梯老是坏",
    "text": "莲花北村12栋的电梯这个月坏了好几次，物业没有彻底维修，老人上下楼很困难。",
}
UNRELATED = {"title": "公交站牌信息错误", "text": "香梅路公交站的站牌线路信息还是旧的，请尽快更新。"}


@pytest.fixture
def pair(new_ticket):
    """The original complaint and a near-duplicate from another requester, same street."""
    original = new_ticket()
    duplicate = new_ticket(requester_name="李四", requester_phone="13900139000", **DUPLICATE)
    return original, duplicate


def test_similar_finds_the_near_duplicate_only(org, new_ticket, pair):
    original, duplicate = pair
    unrelated = new_ticket(**UNRELATED)
    other_street = new_ticket(district=org["nanshan"].code, street=org["yuehai"].code)
    found = similar_open_tickets(duplicate)
    assert [s.ticket.pk for s in found] == [original.pk]
    assert 0.3 <= found[0].score <= 1
    assert found[0].reasons
    assert unrelated.pk not in [s.ticket.pk for s in similar_open_tickets(original)]
    assert other_street.pk not in [s.ticket.pk for s in similar_open_tickets(original)]


def test_similar_skips_closed_and_merged_and_far_away(new_ticket, actors, pair):
    original, duplicate = pair
    closed = new_ticket("closed")
    assert closed.pk not in [s.ticket.pk for s in similar_open_tickets(duplicate)]
    far = new_ticket(latitude="22.560000", longitude="114.060000")
    Ticket.objects.filter(pk=duplicate.pk).update(latitude=Decimal("22.540000"), longitude=Decimal("114.060000"))
    duplicate.refresh_from_db()
    assert far.pk not in [s.ticket.pk for s in similar_open_tickets(duplicate)]  # about 2.2 km
    actions.merge(actors["dispatcher"], original.pk, far.pk, "")
    assert original.pk not in [s.ticket.pk for s in similar_open_tickets(duplicate)]


def test_a_draft_finds_the_open_ticket_about_the_same_issue(org, new_ticket, pair):
    original, duplicate = pair
    found = similar_to_draft(DUPLICATE["title"], DUPLICATE["text"], org["futian"].code, org["lianhua"].code)
    # Both are open in the street; the one in the same words first.
    assert [s.ticket.pk for s in found] == [duplicate.pk, original.pk]
    assert found[0].score == 1.0 and found[0].reasons
    # By name as well as by code; a street outside the district is left out (the district counts).
    assert len(similar_to_draft(DUPLICATE["title"], DUPLICATE["text"], "福田区", "粤海街道")) == 2
    assert similar_to_draft(DUPLICATE["title"], DUPLICATE["text"], org["nanshan"].code) == []
    assert similar_to_draft(UNRELATED["title"], UNRELATED["text"], org["futian"].code) == []
    # Nothing can be said without a district or without text.
    assert similar_to_draft(DUPLICATE["title"], DUPLICATE["text"], None) is None
    assert similar_to_draft(DUPLICATE["title"], DUPLICATE["text"], "不存在区") is None
    assert similar_to_draft(" ", "", org["futian"].code) is None


def test_a_draft_with_coordinates_skips_tickets_far_away(org, new_ticket):
    near = new_ticket(latitude="22.550000", longitude="114.060000")
    new_ticket(latitude="22.570000", longitude="114.060000")  # about 2.2 km north: left out
    found = similar_to_draft(
        DUPLICATE["title"], DUPLICATE["text"], org["futian"].code, org["lianhua"].code,
        latitude=22.5501, longitude=114.06,
    )
    assert [s.ticket.pk for s in found] == [near.pk]
    assert "相距 11 米" in found[0].reasons


def test_intake_suggestions_list_likely_duplicates(api, org, pair):
    original, duplicate = pair
    text = {"title": DUPLICATE["title"], "text": "福田区莲花街道" + DUPLICATE["text"]}
    # No place given: the suggested one (莲花街道 from the text) is used.
    response = api("post", "/api/v1/assist/intake", "agent", text)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["street"]["value"] == org["lianhua"].code
    assert {d["number"] for d in body["duplicates"]} == {original.number, duplicate.number}
    assert body["duplicates"][0]["number"] == duplicate.number
    assert body["duplicates"][0]["street"] == "莲花街道"
    assert body["duplicates"][0]["reasons"]
    # The place given wins over the suggested one.
    elsewhere = api("post", "/api/v1/assist/intake", "dispatcher", {**text, "district": org["nanshan"].code}).json()
    assert elsewhere["duplicates"] == []
    assert_error(api("post", "/api/v1/assist/intake", "agent", {**text, "latitude": 91}), 422, "invalid", "latitude")


def test_duplicates_endpoint(api, pair):
    original, duplicate = pair
    response = api("get", f"/api/v1/tickets/{duplicate.pk}/duplicates", "agent")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [d["number"] for d in body] == [original.number]
    assert body[0]["street"] == "莲花街道"
    assert_error(api("get", f"/api/v1/tickets/{duplicate.pk}/duplicates", "other_handler"), 404, "ticket_not_found")
    assert_error(api("get", f"/api/v1/tickets/{duplicate.pk}/duplicates"), 401, "not_authenticated")


def test_merge_through_the_api(api, pair):
    original, duplicate = pair
    response = api("post", f"/api/v1/tickets/{duplicate.pk}/merge", "dispatcher", {"into_id": original.pk, "note": "同一问题"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "merged"
    assert body["merged_into"] == original.number
    assert body["available_actions"] == []
    target = api("get", f"/api/v1/tickets/{original.pk}", "dispatcher").json()
    assert target["merged"] == [duplicate.number]
    assert target["status"] == "submitted"
    duplicate.refresh_from_db()
    assert duplicate.number != original.number
    assert [e.kind for e in duplicate.events.order_by("id")] == ["submit", "merge"]
    merged_in = original.events.get(kind="merged_in")
    assert merged_in.data["merged"] == [duplicate.number]
    assert merged_in.public is False


@pytest.mark.parametrize(
    ("who", "target", "status", "code"),
    [
        ("handler", "original", 404, "ticket_not_found"),  # a unit does not see it
        ("supervisor", "original", 403, "role_not_allowed"),
        ("dispatcher", "self", 422, "merge_into_self"),
        ("dispatcher", "missing", 422, "invalid_target"),
        ("dispatcher", "closed", 422, "target_closed"),
        ("dispatcher", "merged", 422, "target_closed"),
    ],
)
def test_merge_refusals_change_nothing(api, new_ticket, actors, unchanged, pair, who, target, status, code):
    original, duplicate = pair
    targets = {"original": original.pk, "self": duplicate.pk, "missing": 999999}
    if target == "closed":
        targets["closed"] = new_ticket("closed").pk
    if target == "merged":
        third = new_ticket()
        actions.merge(actors["dispatcher"], third.pk, original.pk, "")
        targets["merged"] = third.pk
    with unchanged(duplicate), unchanged(original):
        response = api("post", f"/api/v1/tickets/{duplicate.pk}/merge", who, {"into_id": targets[target]})
        assert_error(response, status, code)


def test_merge_refused_once_at_a_unit(api, new_ticket, unchanged, pair):
    original, _ = pair
    dispatched = new_ticket("dispatched")
    with unchanged(dispatched), unchanged(original):
        assert_error(
            api("post", f"/api/v1/tickets/{dispatched.pk}/merge", "dispatcher", {"into_id": original.pk}),
            409, "invalid_state",
        )


def test_merge_from_returned_and_followers_move_along(actors, new_ticket, pair):
    original, duplicate = pair
    returned = new_ticket("returned")
    actions.merge(actors["agent"], duplicate.pk, returned.pk, "")
    actions.merge(actors["dispatcher"], returned.pk, original.pk, "")
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == original.pk
    assert sorted(original.merged_tickets.values_list("number", flat=True)) == sorted([duplicate.number, returned.number])


def test_merged_requester_follows_the_reply_and_rates_it(api, actors, org, pair):
    original, duplicate = pair
    actions.merge(actors["dispatcher"], duplicate.pk, original.pk, "")
    code = duplicate.access_code
    tracked = api("get", f"/api/v1/track/{duplicate.number}", None, {"code": code}).json()
    assert tracked["merged_into"] == original.number
    assert tracked["status"] == "submitted"
    assert tracked["can_rate"] is False
    actions.dispatch(actors["dispatcher"], original.pk, org["housing"].pk)
    actions.sign(actors["handler"], original.pk)
    actions.reply(actors["handler"], original.pk, "已更换电梯主板。", outcome="resolved")
    tracked = api("get", f"/api/v1/track/{duplicate.number}", None, {"code": code}).json()
    assert tracked["status"] == "replied"
    assert [r["text"] for r in tracked["replies"]] == ["已更换电梯主板。"]
    assert tracked["can_rate"] is True
    assert "reply" in [row["kind"] for row in tracked["timeline"]]
    # The original's requester rates first: closed; the merged requester still rates their own.
    actions.rate(actors["agent"], original.pk, rating="satisfied", comment="很好")
    response = api("post", f"/api/v1/track/{duplicate.number}/rate", None, {"code": code, "rating": "basically_satisfied"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["rating"] == "basically_satisfied"
    assert body["can_rate"] is False
    assert body["status"] == "closed"
    assert "很好" not in str(body["timeline"])  # never the other requester's comment
    duplicate.refresh_from_db()
    original.refresh_from_db()
    assert duplicate.status == "merged"
    assert original.status == "closed"
    rating = TicketRating.objects.get(ticket=duplicate)
    assert rating.reply.ticket_id == original.pk
    assert duplicate.events.order_by("-id").first().kind == "rate"
    again = api("post", f"/api/v1/track/{duplicate.number}/rate", None, {"code": code, "rating": "satisfied"})
    assert_error(again, 409, "already_rated")


def test_merged_requester_cannot_rate_before_a_reply(api, actors, unchanged, pair):
    original, duplicate = pair
    actions.merge(actors["dispatcher"], duplicate.pk, original.pk, "")
    with unchanged(duplicate), unchanged(original):
        response = api(
            "post", f"/api/v1/track/{duplicate.number}/rate", None,
            {"code": duplicate.access_code, "rating": "satisfied"},
        )
        assert_error(response, 409, "no_reply")
