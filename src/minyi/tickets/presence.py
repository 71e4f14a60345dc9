"""Which of a ticket's related rows exist, read with the ticket itself.

A ticket page shows a dozen kinds of related rows (replies, ratings, reviews, extensions,
supervision orders, calls...), and most tickets have only two or three of them. Asking for
each kind is a query each; instead the ticket's own query asks `EXISTS` for each kind (an
index probe inside the database, microseconds each), and the kinds that are absent are marked
as fetched and empty, so that `ticket.extensions.all()` and the like return nothing without a
query. Code that reads rows by other paths (`Model.objects.filter(ticket=...)`) asks `has`.

Only for reading: a ticket object whose presence was read is not reused after a write.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db.models import IntegerField, ManyToManyField, QuerySet
from django.db.models.expressions import RawSQL

from minyi.tickets.models import Attachment, Ticket

#: The relations a ticket page or the ticket API reads (related names of `Ticket`).
PAGE = (
    "assisting_units", "attachments", "replies", "ratings", "reviews", "screenings", "assist_inputs",
    "merged_tickets", "extensions", "plans", "supervision_orders", "calls", "call_bindings",
)

_FLAGS = "_presence"


@cache
def _exists_sql(name: str) -> str:
    """`EXISTS (...)` for the outer ticket's rows of relation `name` (written once per process:
    building it with the ORM's `Exists` costs more than the queries it saves)."""
    field: Any = Ticket._meta.get_field(name)
    if isinstance(field, ManyToManyField):
        through: Any = field.remote_field.through
        table = through._meta.db_table
        column = through._meta.get_field(field.m2m_field_name()).column
    else:  # a reverse foreign key: the related model's field pointing here
        table = field.related_model._meta.db_table
        column = field.field.column
    outer = f'"{Ticket._meta.db_table}"."{Ticket._meta.pk.column}"'
    # Aliased: merged tickets are tickets too, and must not be read as the outer one.
    return f'EXISTS (SELECT 1 FROM "{table}" related WHERE related."{column}" = {outer})'  # noqa: S608 (names from the models)


@cache
def _flags_sql() -> str:
    return " + ".join(f"(CASE WHEN {_exists_sql(n)} THEN {1 << i} ELSE 0 END)" for i, n in enumerate(PAGE))


def annotate(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """`tickets` with which relations of `PAGE` each ticket has rows of: one integer, a bit each."""
    flags = RawSQL(_flags_sql(), (), output_field=IntegerField())  # noqa: S611 (no input in it)
    return tickets.annotate(**{_FLAGS: flags})


def _absent(ticket: Ticket) -> list[str]:
    flags = ticket.__dict__.get(_FLAGS)
    if flags is None:
        return []
    return [name for i, name in enumerate(PAGE) if not flags >> i & 1]


def mark_absent(ticket: Ticket) -> Ticket:
    """Mark the relations read as absent by `annotate` as fetched and empty: reading them with
    `.all()` costs nothing (other reads ask `has` first)."""
    cache_ = ticket.__dict__.setdefault("_prefetched_objects_cache", {})
    for name in _absent(ticket):
        if name not in cache_:
            cache_[name] = _empty(Ticket._meta.get_field(name).related_model)
    return ticket


def _empty(model) -> QuerySet:
    """An evaluated, empty queryset of `model`, as `prefetch_related` leaves one."""
    rows = model._default_manager.none()
    rows._result_cache = []
    rows._prefetch_done = True
    return rows


def has(ticket: Ticket, name: str) -> bool:
    """Whether `ticket` may have rows of relation `name`: False only when `annotate` read that
    it has none; True when unknown."""
    return name not in _absent(ticket)


def replies_with_files(ticket: Ticket, replies: QuerySet) -> list:
    """`replies` (of `ticket`) read with their attachments: prefetched when the ticket has
    files, marked empty when it has none (no query); none at all when it has no replies."""
    if not has(ticket, "replies"):
        return []
    if has(ticket, "attachments"):
        return list(replies.prefetch_related("attachments"))
    rows = list(replies)
    for reply in rows:
        reply.__dict__.setdefault("_prefetched_objects_cache", {})["attachments"] = _empty(Attachment)
    return rows
