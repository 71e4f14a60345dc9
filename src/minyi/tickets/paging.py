"""One page of a ticket list, read in two steps (a "deferred join").

A unit's worklist sorted by time left must look at every open ticket of the unit to find the
twenty with the least time left. Read as one query, PostgreSQL fetches each of those tickets'
whole rows and joins their category, district, street and unit before sorting, only to keep
twenty. Here the first query finds the page's ids alone — from the covering index
`ticket_unit_status_cov` (lead unit, status, and the deadlines and submission time the sort
needs), without visiting the table — and the second reads just those rows with their joins.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

#: Columns no ticket list shows: the personal data (nothing to decrypt) and the full text.
LIST_DEFERRED = ("requester_name", "requester_phone", "requester_email", "requester_id_number", "address", "text")


def ticket_page(tickets: QuerySet[Any], number: Any, size: int) -> tuple[Page, list[Any]]:
    """The page `number` (clamped as `Paginator.get_page` does) of the ordered `tickets`, and
    its rows in order (with the queryset's annotations, select_related and deferred fields)."""
    ids = tickets.select_related(None).values_list("pk", flat=True)
    page = Paginator(ids, size).get_page(number)
    wanted = list(page.object_list)
    found = {row.pk: row for row in tickets.order_by().filter(pk__in=wanted)}
    return page, [found[pk] for pk in wanted if pk in found]
