"""Storing a new ticket: its number, its row and its first timeline event, in one go.

On PostgreSQL this is one statement (a data-modifying `WITH`): the day's counter is counted up,
the ticket inserted with the number it gives and the event with the ticket's id, so a ticket
costs one round trip and one commit, and the day's counter row stays locked only while that
statement runs and commits (not while Python builds the rest of the request), which is what
lets many intake requests run at once. Each row travels as one JSON parameter that
`json_populate_record` turns back into the table's types: three parameters instead of sixty keep
the statement short enough for psycopg to cache its parsing, and spare it dumping each value
(about 7% of an intake request's CPU in-process). Elsewhere (SQLite) the same happens
in a transaction through the ORM. Either way the caller's objects come back saved (primary keys
and number set).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import connection, models, transaction
from psycopg.types.json import Json, Jsonb

from minyi.tickets.codes import count_up_sql, next_number, number_prefix
from minyi.tickets.models import Ticket, TicketEvent

#: Django's own field classes whose database value is the Python value itself when it already
#: has this type (so `get_db_prep_save` can be skipped: it would return it unchanged).
_PLAIN: dict[type[models.Field], type] = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.IntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.SmallIntegerField: int,
    models.BigIntegerField: int,
}


def _plain_type(field: models.Field) -> type | None:
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        return int if isinstance(target, models.AutoField | models.BigAutoField | models.IntegerField) else None
    return _PLAIN.get(type(field))


@cache
def _insert_fields(model: type[models.Model]) -> tuple[tuple[models.Field, str, type | None, bool], ...]:
    """The columns an INSERT of `model` writes (every concrete field but the automatic key),
    each with its quoted column name, its plain Python type if any, and whether it is one of
    Django's own field classes (whose None is NULL)."""
    meta = model._meta
    quote = connection.ops.quote_name
    return tuple(
        (f, quote(f.column or f.name), _plain_type(f), type(f).__module__.startswith("django.db.models."))
        for f in meta.local_concrete_fields
        if f is not meta.auto_field
    )


def _json_default(value: Any) -> Any:
    """A database value JSON has no type for, as PostgreSQL reads it back (ISO dates and times
    with their offset and microseconds, decimals and UUIDs as text, JSON columns as themselves)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Json | Jsonb):
        return json.loads((value.dumps or json.dumps)(value.obj))  # the field's own encoder
    raise TypeError(f"{type(value).__name__} has no JSON form for json_populate_record")


def _row(obj: models.Model, skip: str = "") -> tuple[list[str], str]:
    """Column names of `obj` and its row as a JSON object, with the values Django's INSERT would
    write (defaults, `auto_now_add`, encrypted fields sealed by their `get_db_prep_save`); a plain
    value (a string in a text column, a None in one of Django's own fields...) is taken as it is."""
    columns, row = [], {}
    for field, column, plain, builtin in _insert_fields(type(obj)):
        if field.attname == skip:
            continue
        value = field.pre_save(obj, True)
        if not (type(value) is plain or (value is None and builtin)):
            value = field.get_db_prep_save(value, connection)
        columns.append(column)
        row[field.column] = value
    return columns, json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _saved(obj: models.Model, pk: int) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias


def store_new_ticket(ticket: Ticket, event: TicketEvent, day) -> None:
    """Give `ticket` the next number of `day` and insert it with its first `event`."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            ticket.number = next_number(day)
            ticket.save(force_insert=True)
            event.ticket = ticket
            event.save(force_insert=True)
        return
    quote = connection.ops.quote_name
    tickets, events = (quote(m._meta.db_table) for m in (Ticket, TicketEvent))
    t_columns, t_row = _row(ticket, skip="number")
    e_columns, e_row = _row(event, skip="ticket_id")
    sql = (
        f"WITH n AS ({count_up_sql()}), "  # noqa: S608 (quoted names)
        # The number as `number_for` writes it: the day's prefix, then six digits at least.
        f"t AS (INSERT INTO {tickets} ({quote('number')}, {', '.join(t_columns)}) "
        f"SELECT %s || CASE WHEN n.last < 1000000 THEN lpad(n.last::text, 6, '0') ELSE n.last::text END, "
        f"{', '.join('r.' + c for c in t_columns)} "
        f"FROM n, json_populate_record(NULL::{tickets}, %s::json) r RETURNING id, {quote('number')}), "
        f"e AS (INSERT INTO {events} ({quote('ticket_id')}, {', '.join(e_columns)}) "
        f"SELECT t.id, {', '.join('r.' + c for c in e_columns)} "
        f"FROM t, json_populate_record(NULL::{events}, %s::json) r RETURNING id) "
        f"SELECT t.id, t.{quote('number')}, e.id FROM t, e"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [day, number_prefix(day), t_row, e_row])
        ticket_id, number, event_id = cursor.fetchone()
    ticket.number = number
    _saved(ticket, ticket_id)
    event.ticket = ticket
    _saved(event, event_id)
