"""The periodic deadline job: due-soon warnings, supervision of overdue tickets and missed
milestones, escalation of late orders, closure of resolved ones.

Set-based and idempotent. New alerts and orders are inserted with ``INSERT … ON CONFLICT DO
NOTHING RETURNING``: the database's unique constraints (one alert per ticket and deadline, one
open order per ticket and cause or per milestone) decide which worker wins, and RETURNING tells
each worker exactly which rows it inserted, so timeline events and notifications are added for
those only. Escalations are conditional ``UPDATE … RETURNING`` (level and lateness re-checked
under the row lock), closures a locked re-check before the update. Running the job twice, or
on two workers at once, changes each thing once.

Each batch (its alerts or orders, their events and notifications) commits on its own, so a
run stopped half-way leaves nothing half-done, and the next run takes up the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef

from minyi.core import clock
from minyi.org.models import Role
from minyi.sla import clocks, services
from minyi.sla.models import Milestone, SlaAlert, StagedPlan
from minyi.sla.policies import SHANGHAI
from minyi.supervision import actions as supervision
from minyi.supervision.models import SupervisionLevel, SupervisionOrder
from minyi.tickets.choices import AT_UNIT_STATUSES, Status
from minyi.tickets.models import Notification, Ticket, TicketEvent

log = logging.getLogger(__name__)

BATCH = 2000
#: Who hears about a deadline warning or a supervision order: the unit's people.
NOTIFIED_ROLES = (Role.HANDLER, Role.UNIT_LEADER)

Ladder = dict[int, SupervisionLevel]


class ScanError(Exception):
    """A step of the job failed (the other steps still ran; `counts` has what they did)."""

    def __init__(self, failed: list[str], counts: dict[str, int]):
        super().__init__(f"deadline job: step(s) {', '.join(failed)} failed")
        self.failed = failed
        self.counts = counts


# --- helpers --------------------------------------------------------------------------------


def _batches(rows: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _column(model: type[models.Model], name: str) -> str:
    """The quoted column of a model's concrete field."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return connection.ops.quote_name(field.column)


def insert_rows(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: Sequence[str] = (),
    ignore_conflicts: bool = False,
) -> list[tuple[Any, ...]]:
    """Insert `rows` (values of the fields `names`; every other field gets its default) and
    return `returning` of the inserted rows, in no particular order.

    With `ignore_conflicts`, a row a unique constraint refuses is skipped: ``INSERT … ON
    CONFLICT DO NOTHING RETURNING`` returns only the rows *this* statement inserted, never
    those another worker inserted first. Plain tuples, no model instances, and on PostgreSQL
    one array parameter per column (``INSERT … SELECT FROM unnest(…)``): on a busy day the job
    writes hundreds of thousands of rows.
    """
    if not rows:
        return []
    fields = [f for f in (model._meta.get_field(name) for name in names) if isinstance(f, models.Field)]
    if len(fields) != len(names):
        raise ValueError(f"{model.__name__}: {names} are not all columns")
    others = [f for f in model._meta.concrete_fields if not f.primary_key and f.name not in names]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(_column(model, name) for name in [*names, *(f.name for f in others)])
    tail = (" ON CONFLICT DO NOTHING" if ignore_conflicts else "") + (
        f" RETURNING {', '.join(_column(model, n) for n in returning)}" if returning else ""
    )
    inserted: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg.types.json import Jsonb

            for chunk in _batches(rows, BATCH * 5):
                arrays: list[list[Any]] = [list(values) for values in zip(*chunk, strict=True)]
                for i, field in enumerate(fields):
                    if isinstance(field, models.JSONField):
                        arrays[i] = [Jsonb(value) for value in arrays[i]]
                arrays += [[f.get_db_prep_save(f.get_default(), connection)] * len(chunk) for f in others]
                casts = ", ".join(f"%s::{f.db_type(connection)}[]" for f in [*fields, *others])
                cursor.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({casts}){tail}", arrays)  # noqa: S608
                if returning:
                    inserted.extend(tuple(r) for r in cursor.fetchall())
        else:
            width = len(fields) + len(others)
            defaults = [f.get_db_prep_save(f.get_default(), connection) for f in others]
            one = "(" + ", ".join(["%s"] * width) + ")"
            for chunk in _batches(rows, max(1, 30_000 // width)):
                params: list[Any] = []
                for row in chunk:
                    params.extend(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True))
                    params.extend(defaults)
                cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(chunk))}{tail}", params)  # noqa: S608
                if returning:
                    inserted.extend(tuple(r) for r in cursor.fetchall())
    return inserted


class _Staff:
    """The active handlers and leaders of units, read once per unit and run."""

    def __init__(self) -> None:
        self.by_unit: dict[int, list[int]] = {}

    def of(self, unit_ids: set[int]) -> dict[int, list[int]]:
        missing = {u for u in unit_ids if u not in self.by_unit}
        if missing:
            for unit_id in missing:
                self.by_unit[unit_id] = []
            rows = (
                get_user_model()
                .objects.filter(is_active=True, staff_profile__unit_id__in=missing, groups__name__in=NOTIFIED_ROLES)
                .values_list("staff_profile__unit_id", "id")
                .distinct()
            )
            for unit_id, user_id in rows:
                self.by_unit[unit_id].append(user_id)
        return self.by_unit


EVENT_FIELDS = (
    "ticket", "kind", "actor_role", "actor_label", "unit", "from_status", "to_status", "note", "data",
    "public", "created_at",
)


def _events_and_notices(rows: list[dict[str, Any]], now: dt.datetime, staff: _Staff, *, notify: bool = True) -> int:
    """rows: {ticket_id, unit_id, status, kind, note, data}. One internal timeline event each
    and, with `notify`, a notification of it to the unit's handlers and leaders. Call inside
    the transaction that made the change, so the change, its event and its notifications
    commit together."""
    if not rows:
        return 0
    events = insert_rows(
        TicketEvent,
        EVENT_FIELDS,
        [
            (r["ticket_id"], r["kind"], "system", "system", r["unit_id"], r["status"], r["status"],
             r.get("note", ""), r.get("data", {}), False, now)
            for r in rows
        ],
        returning=("id", "ticket", "unit"),
    )
    if notify:
        people = staff.of({unit for _e, _t, unit in events if unit})
        insert_rows(
            Notification,
            ("user", "event", "ticket", "created_at"),
            [(user, event, ticket, now) for event, ticket, unit in events for user in people.get(unit or 0, [])],
            ignore_conflicts=True,
        )
    return len(events)


# --- the steps ------------------------------------------------------------------------------


def close_resolved(now: dt.datetime, staff: _Staff) -> int:
    """Close open orders whose cause is gone (the ticket left the unit, its deadline moved,
    the milestone was recorded or the plan ended): one conditional update per batch, so an
    order closed meanwhile (inline, or by another worker) is not closed twice."""
    resolved = list(
        supervision.resolved_orders(now)
        .order_by("pk")
        .values_list("pk", "cause", "ticket__status", "milestone__done_at")
    )
    count = 0
    for chunk in _batches(resolved):
        reasons = {
            pk: supervision.close_reason(cause, status, milestone_done=done is not None)
            for pk, cause, status, done in chunk
        }
        with transaction.atomic():
            # Still open and still resolved, under the row lock.
            mine = list(
                supervision.resolved_orders(now)
                .select_for_update(of=("self",))
                .filter(pk__in=list(reasons))
                .order_by("pk")
                .values_list("pk", "ticket_id", "unit_id", "ticket__status")
            )
            for reason in {reasons[pk] for pk, *_rest in mine}:
                SupervisionOrder.objects.filter(pk__in=[pk for pk, *_r in mine if reasons[pk] == reason]).update(
                    status=SupervisionOrder.Status.CLOSED, closed_at=now, close_reason=reason[:200]
                )
            count += _events_and_notices(
                [
                    {"ticket_id": ticket, "unit_id": unit, "status": status, "kind": "supervision_closed",
                     "note": reasons[pk], "data": {"order": pk}}
                    for pk, ticket, unit, status in mine
                ],
                now, staff, notify=False,
            )
    return count


def warn_due_soon(now: dt.datetime, soon_days: int, staff: _Staff) -> int:
    """Tickets at a unit whose deadline falls within the last `soon_days` working days: one
    alert per ticket and deadline (a moved deadline is warned about again)."""
    # The same boundary as the pages' warning state (`clocks.soon_boundary`).
    boundary = clocks.soon_boundary(now, services.current_calendar(), soon_days)
    if boundary is None:
        return 0
    warned = SlaAlert.objects.filter(ticket_id=OuterRef("pk"), kind=SlaAlert.Kind.DUE_SOON, due_at=OuterRef("unit_due_at"))
    candidates = list(
        Ticket.objects.filter(status__in=AT_UNIT_STATUSES, unit_due_at__gte=now, unit_due_at__lt=boundary)
        .exclude(Exists(warned))
        .order_by("pk")
        .values_list("pk", "unit_due_at", "lead_unit_id", "status")
    )
    count = 0
    for chunk in _batches(candidates):
        about = {pk: (due, unit, status) for pk, due, unit, status in chunk}
        with transaction.atomic():
            mine = insert_rows(
                SlaAlert, ("ticket", "kind", "due_at", "created_at"),
                [(pk, SlaAlert.Kind.DUE_SOON, due, now) for pk, due, _u, _s in chunk],
                returning=("ticket",), ignore_conflicts=True,
            )
            count += _events_and_notices(
                [
                    {"ticket_id": pk, "unit_id": about[pk][1], "status": about[pk][2], "kind": "due_soon",
                     "data": {"unit_due_at": about[pk][0].astimezone(SHANGHAI).isoformat()}}
                    for (pk,) in mine
                ],
                now, staff,
            )
    return count


def _open_orders(
    rows: Sequence[tuple[int, int | None, str, int | None]], cause: str, now: dt.datetime, ladder: Ladder,
    staff: _Staff,
) -> int:
    """rows: (ticket_id, unit_id, status, milestone_id). Opens level-1 orders with the
    ladder's deadline; an order already open for the same cause is left alone."""
    due = supervision.order_due(now, 1, ladder)
    level_name = supervision.level_name(1, ladder)
    about = {(t, m): (u, s) for t, u, s, m in rows}
    with transaction.atomic():
        mine = insert_rows(
            SupervisionOrder, ("ticket", "cause", "milestone", "unit", "level", "status", "opened_at", "due_at"),
            [(t, cause, m, u, 1, SupervisionOrder.Status.OPEN, now, due) for t, u, _s, m in rows],
            returning=("id", "ticket", "milestone"), ignore_conflicts=True,
        )
        return _events_and_notices(
            [
                {"ticket_id": t, "unit_id": about[(t, m)][0], "status": about[(t, m)][1],
                 "kind": "supervision_opened", "note": str(SupervisionOrder.Cause(cause).label),
                 "data": {"order": pk, "cause": cause, "level": 1, "level_name": level_name,
                          "milestone": m, "due_at": due.isoformat()}}
                for pk, t, m in mine
            ],
            now, staff,
        )


def supervise_overdue(now: dt.datetime, ladder: Ladder, staff: _Staff) -> int:
    """Tickets a unit holds past its deadline, without an open overdue order: open one."""
    open_order = SupervisionOrder.objects.filter(
        ticket_id=OuterRef("pk"), cause=SupervisionOrder.Cause.OVERDUE, status=SupervisionOrder.Status.OPEN,
        milestone=None,
    )
    candidates = list(
        Ticket.objects.filter(status__in=AT_UNIT_STATUSES, unit_due_at__lt=now)
        .exclude(Exists(open_order))
        .order_by("pk")
        .values_list("pk", "lead_unit_id", "status")
    )
    return sum(
        _open_orders([(t, u, s, None) for t, u, s in chunk], SupervisionOrder.Cause.OVERDUE, now, ladder, staff)
        for chunk in _batches(candidates)
    )


def supervise_missed_milestones(now: dt.datetime, ladder: Ladder, staff: _Staff) -> int:
    """Milestones of approved plans not recorded by their date, without an open order."""
    today = now.astimezone(SHANGHAI).date()
    open_order = SupervisionOrder.objects.filter(milestone_id=OuterRef("pk"), status=SupervisionOrder.Status.OPEN)
    candidates = list(
        Milestone.objects.filter(
            done_at=None, due_date__lt=today, plan__status=StagedPlan.Status.APPROVED,
            plan__ticket__status=Status.IN_PROGRESS,
        )
        .exclude(Exists(open_order))
        .order_by("pk")
        .values_list("plan__ticket_id", "plan__ticket__lead_unit_id", "plan__ticket__status", "pk")
    )
    return sum(
        _open_orders(chunk, SupervisionOrder.Cause.MILESTONE_MISSED, now, ladder, staff)
        for chunk in _batches(candidates)
    )


def escalate_late_orders(now: dt.datetime, ladder: Ladder, staff: _Staff) -> int:
    """Open orders past their own deadline and not answered by the unit climb one rung (never more per run), up to the top;
    each gets the new rung's deadline. The update re-checks level and lateness under the row
    lock, so two workers escalate each order once."""
    opts = SupervisionOrder._meta
    table = connection.ops.quote_name(opts.db_table)
    column = {
        name: _column(SupervisionOrder, name)
        for name in ("id", "level", "due_at", "escalated_at", "status", "ticket", "unit", "answered_at")
    }
    moment = opts.get_field("due_at")
    assert isinstance(moment, models.Field)
    count = 0
    # From the top down, so an order moved up in this run is not looked at again.
    for level in range(supervision.top_level(ladder) - 1, 0, -1):
        new_level = level + 1
        due = supervision.order_due(now, new_level, ladder)
        name = supervision.level_name(new_level, ladder)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {column['level']} = %s, {column['due_at']} = %s, "  # noqa: S608
                f"{column['escalated_at']} = %s WHERE {column['status']} = %s AND {column['level']} = %s "
                f"AND {column['due_at']} < %s AND {column['answered_at']} IS NULL RETURNING {column['id']}, {column['ticket']}, {column['unit']}",
                [
                    new_level, moment.get_db_prep_save(due, connection), moment.get_db_prep_save(now, connection),
                    SupervisionOrder.Status.OPEN, level, moment.get_db_prep_save(now, connection),
                ],
            )
            moved = cursor.fetchall()
            if not moved:
                continue
            status = dict(
                Ticket.objects.filter(pk__in={ticket for _pk, ticket, _unit in moved}).values_list("pk", "status")
            )
            count += _events_and_notices(
                [
                    {"ticket_id": ticket, "unit_id": unit, "status": status[ticket], "kind": "supervision_escalated",
                     "note": name,
                     "data": {"order": pk, "level": new_level, "level_name": name, "due_at": due.isoformat()}}
                    for pk, ticket, unit in moved
                ],
                now, staff,
            )
    return count


# --- the job --------------------------------------------------------------------------------


def scan(now: dt.datetime | None = None) -> dict[str, int]:
    """One run of the deadline job. Safe to run twice, or on two workers at once.

    Each step runs even if an earlier one failed (a failure is logged and `ScanError` is
    raised at the end with the counts of the others), except inside an outer transaction,
    where the first failure is raised at once.
    """
    now = now or clock.now()
    ladder = supervision.levels()
    staff = _Staff()
    steps: list[tuple[str, Callable[[], int]]] = [
        ("closed", lambda: close_resolved(now, staff)),
        ("due_soon", lambda: warn_due_soon(now, settings.MINYI_DUE_SOON_WORKING_DAYS, staff)),
        ("overdue", lambda: supervise_overdue(now, ladder, staff)),
        ("milestones_missed", lambda: supervise_missed_milestones(now, ladder, staff)),
        ("escalated", lambda: escalate_late_orders(now, ladder, staff)),
    ]
    counts: dict[str, int] = {}
    failed: list[str] = []
    for name, step in steps:
        began = time.monotonic()
        if connection.in_atomic_block:
            counts[name] = step()
        else:
            try:
                counts[name] = step()
            except Exception:
                log.exception("deadline job: step %s failed", name)
                counts[name] = 0
                failed.append(name)
        log.debug("deadline job: %s %d in %.2f s", name, counts[name], time.monotonic() - began)
    if failed:
        raise ScanError(failed, counts)
    return counts
