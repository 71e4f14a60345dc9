"""Several counts in one statement (`core.counting.count_all`), as the console's badges read them."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from minyi.core.counting import count_all
from minyi.tickets.choices import Status
from minyi.tickets.models import Ticket


def test_counts_equal_the_orms_in_one_statement(new_ticket):
    for status in ("submitted", "submitted", "dispatched", "closed"):
        new_ticket(status)
    wanted = {
        "all": Ticket.objects.all(),
        "submitted": Ticket.objects.filter(status=Status.SUBMITTED),
        "open at a unit": Ticket.objects.filter(status__in=[Status.DISPATCHED, Status.IN_PROGRESS], title__icontains="电梯"),
        "none": Ticket.objects.filter(status="no such status"),
    }
    with CaptureQueriesContext(connection) as ctx:
        counts = count_all(wanted)
    assert len(ctx.captured_queries) == 1
    assert counts == {name: qs.count() for name, qs in wanted.items()}


def test_querysets_that_match_nothing_are_not_asked(db):
    with CaptureQueriesContext(connection) as ctx:
        assert count_all({"nothing": Ticket.objects.none()}) == {"nothing": 0}
        assert count_all({}) == {}
    assert len(ctx.captured_queries) == 0
