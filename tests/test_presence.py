"""A ticket page reads which related rows exist with the ticket itself (`presence`), and
skips the queries for the kinds it has none of; what it shows is the same either way."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from minyi.api.app import _detail
from minyi.tickets import access, actions, presence


def test_presence_tells_which_relations_a_ticket_has(redone_ticket, actors):
    ticket = redone_ticket()
    read = access.access_ticket(actors["supervisor"], ticket.pk, present=True)
    assert {name for name in presence.PAGE if presence.has(read, name)} == {"replies", "ratings", "reviews", "screenings"}


def test_absent_relations_are_read_without_a_query(new_ticket, actors):
    ticket = new_ticket("in_progress")
    read = access.access_ticket(actors["handler"], ticket.pk, present=True)
    with CaptureQueriesContext(connection) as ctx:
        assert list(read.extensions.all()) == []
        assert list(read.reviews.select_related("unit").order_by("decided_at")) == []
        assert list(read.merged_tickets.order_by("id").values_list("number", flat=True)) == []
        assert list(read.assisting_units.all()) == []
    assert len(ctx.captured_queries) == 0
    # Without presence nothing is assumed.
    plain = access.access_ticket(actors["handler"], ticket.pk)
    assert presence.has(plain, "extensions")
    with CaptureQueriesContext(connection) as ctx:
        list(plain.extensions.all())
    assert len(ctx.captured_queries) == 1


def test_the_detail_is_the_same_with_and_without_presence(new_ticket, redone_ticket, actors, travel):
    travel("2026-11-02T10:00")
    for ticket in (redone_ticket(), new_ticket("in_progress"), new_ticket("submitted")):
        for who in ("supervisor", "handler", "dispatcher"):
            actor = actors[who]
            if not access.access_ticket_queryset(actor).filter(pk=ticket.pk).exists():
                continue
            plain = _detail(actor, access.access_ticket(actor, ticket.pk))
            assert _detail(actor, access.access_ticket(actor, ticket.pk, present=True)) == plain


def test_the_console_page_is_the_same_with_and_without_presence(client, users, redone_ticket, monkeypatch, travel):
    travel("2026-11-02T10:00")
    ticket = redone_ticket()
    client.force_login(users["supervisor"])
    with_presence = client.get(f"/console/tickets/{ticket.pk}/").content.decode()
    monkeypatch.setattr(presence, "PAGE", ())
    without = client.get(f"/console/tickets/{ticket.pk}/").content.decode()

    def body(html: str) -> str:  # the page less its per-request tokens
        import re

        return re.sub(r'(csrfmiddlewaretoken" value=|CSRFToken": )"[^"]+"', "", html)

    assert body(with_presence) == body(without)


def test_merged_tickets_are_told_apart_from_the_ticket_itself(new_ticket, actors):
    """Merged tickets are tickets: the target has some, the merged one and a bystander none."""
    target = new_ticket("submitted")
    duplicate = new_ticket("submitted")
    bystander = new_ticket("submitted")
    actions.merge(actors["dispatcher"], duplicate.pk, target.pk)
    read = {t.pk: access.access_ticket(actors["supervisor"], t.pk, present=True) for t in (target, duplicate, bystander)}
    assert presence.has(read[target.pk], "merged_tickets")
    assert not presence.has(read[duplicate.pk], "merged_tickets")
    assert not presence.has(read[bystander.pk], "merged_tickets")
    assert [t.pk for t in read[target.pk].merged_tickets.all()] == [duplicate.pk]
