"""Hot pages and API calls read a fixed number of queries, whatever the number of tickets,
events and replies (no N+1). Each check measures the call with few and with many rows and
requires the same count, below a ceiling."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minyi.tickets import actions


def count(call) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, getattr(response, "content", b"")[:300]
    return len(ctx.captured_queries)


def grow(new_ticket, actors, n: int, status: str = "in_progress") -> list:
    return [new_ticket(status) for _ in range(n)]


@pytest.fixture
def handler_client(client, users):
    client.force_login(users["handler"])
    return client


def test_the_worklist_api_does_not_grow_with_tickets(api, new_ticket, actors):
    grow(new_ticket, actors, 2)
    api("get", "/api/v1/tickets", "handler")  # token fetched outside the measure
    few = count(lambda: api("get", "/api/v1/tickets", "handler", {"ordering": "time_left"}))
    grow(new_ticket, actors, 12)
    many = count(lambda: api("get", "/api/v1/tickets", "handler", {"ordering": "time_left"}))
    assert few == many <= 8


def with_more_rows(ticket):
    """The same kinds of related rows, three times as many replies and more events: a page
    that reads a relation per row would count more queries."""
    from minyi.tickets.models import Reply, TicketEvent

    for _ in range(2):
        for row in list(Reply.objects.filter(ticket=ticket)) + list(TicketEvent.objects.filter(ticket=ticket)):
            row.pk = None
            row.save()
    return ticket


def test_a_ticket_does_not_grow_with_its_replies_and_timeline(api, new_ticket, redone_ticket):
    few_rows = redone_ticket()
    many_rows = with_more_rows(redone_ticket())
    api("get", f"/api/v1/tickets/{few_rows.pk}", "handler")
    few = count(lambda: api("get", f"/api/v1/tickets/{few_rows.pk}", "handler"))
    many = count(lambda: api("get", f"/api/v1/tickets/{many_rows.pk}", "handler"))
    assert few == many <= 10
    # A ticket with only some kinds of rows reads fewer (`presence`).
    fresh = new_ticket("in_progress")
    assert count(lambda: api("get", f"/api/v1/tickets/{fresh.pk}", "handler")) <= 6


def test_the_timeline_api_is_one_query_for_the_events(api, new_ticket):
    short = new_ticket("dispatched")
    long = new_ticket("closed")
    api("get", f"/api/v1/tickets/{short.pk}/events", "supervisor")
    assert count(lambda: api("get", f"/api/v1/tickets/{short.pk}/events", "supervisor")) == count(
        lambda: api("get", f"/api/v1/tickets/{long.pk}/events", "supervisor")
    )


def test_tracking_does_not_grow_with_the_timeline(api_client, new_ticket, actors):
    from minyi.feedback.actions import review

    short = new_ticket("replied")
    long = new_ticket("replied")
    actions.rate(actors["agent"], long.pk, rating="dissatisfied")
    review(actors["supervisor"], long.pk, decision="redo", explanation="诉求合理")
    actions.reply(actors["leader"], long.pk, "经单位领导复查，电梯已于11月5日完成全面检修并通过验收。", outcome="resolved")

    def track(ticket):
        return lambda: api_client.get(f"/api/v1/track/{ticket.number}", HTTP_X_ACCESS_CODE=ticket.access_code)

    assert count(track(short)) == count(track(long)) <= 8


def test_the_console_worklist_does_not_grow_with_tickets(handler_client, new_ticket, actors):
    grow(new_ticket, actors, 2)
    handler_client.get("/console/")
    few = count(lambda: handler_client.get("/console/"))
    grow(new_ticket, actors, 12)
    many = count(lambda: handler_client.get("/console/"))
    assert few == many <= 25


def test_the_monthly_measures_are_a_few_aggregates(api, new_ticket, travel):
    travel("2026-11-02T10:00")
    api("get", "/api/v1/insights/kpis", "cityleader", {"month": "2026-11"})
    few = count(lambda: api("get", "/api/v1/insights/kpis", "cityleader", {"month": "2026-11"}))
    for _ in range(5):
        new_ticket("closed")
    many = count(lambda: api("get", "/api/v1/insights/kpis", "cityleader", {"month": "2026-11"}))
    assert few == many <= 12


def test_the_console_ticket_page_does_not_grow_with_its_history(handler_client, redone_ticket, settings):
    from minyi.org import reference

    once = redone_ticket()
    twice = with_more_rows(redone_ticket())
    handler_client.get(f"/console/tickets/{once.pk}/")
    few = count(lambda: handler_client.get(f"/console/tickets/{once.pk}/"))
    many = count(lambda: handler_client.get(f"/console/tickets/{twice.pk}/"))
    assert few == many <= 16
    # As in production, reference data (units, categories, supervision levels) from the
    # per-process snapshot: a few queries less on every page.
    settings.MINYI_REFERENCE_CACHE_SECONDS = 60
    reference.invalidate()
    handler_client.get(f"/console/tickets/{once.pk}/")
    cached = count(lambda: handler_client.get(f"/console/tickets/{twice.pk}/"))
    reference.invalidate()
    assert cached <= 12


def test_intake_writes_a_ticket_in_one_statement_on_postgresql(api, org, settings):
    """A new ticket, its number and its first event: one statement on PostgreSQL (no
    transaction held open across round trips); through the ORM elsewhere."""
    from conftest import submission_data

    # As in production: categories, places and the token's actor cached per process.
    settings.MINYI_REFERENCE_CACHE_SECONDS = settings.MINYI_TOKEN_CACHE_SECONDS = 60
    api("post", "/api/v1/tickets", "agent", submission_data(org))  # token and reference data read
    with CaptureQueriesContext(connection) as ctx:
        response = api("post", "/api/v1/tickets", "agent", submission_data(org))
    assert response.status_code == 201, response.content
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "WITH"))]
    if connection.vendor == "postgresql":
        assert len(writes) == 1 and writes[0].startswith("WITH n AS (INSERT INTO"), writes
    else:
        assert len(writes) == 3, writes  # the day's number, the ticket, its event
