"""The periodic deadline job: due-soon warnings, supervision of overdue tickets and missed
milestones, escalation of late orders, closure of resolved ones.

Set-based and idempotent: rows are inserted with ON CONFLICT DO NOTHING against unique
constraints, and each run stamps what it inserted with its own time so it adds events and
notifications only for those. Two workers running at once change each thing once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef

from minyi.core import clock
from minyi.org.models import Role
from minyi.sla import services
from minyi.sla.models import Milestone, SlaAlert, StagedPlan
from minyi.sla.policies import SHANGHAI, end_of_day
from minyi.supervision import actions as supervision
from minyi.supervision.models import SupervisionOrder
from minyi.tickets.choices import AT_UNIT_STATUSES, Status
from minyi.tickets.models import Notification, Ticket, TicketEvent

BATCH = 2000


def _batches(rows: Iterable[Any], size: int = BATCH) -> Iterator[list[Any]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _unit_staff(unit_ids: set[int]) -> dict[int, list[int]]:
    staff: dict[int, list[int]] = defaultdict(list)
    rows = (
        get_user_model()
        .objects.filter(is_active=True, staff_profile__unit_id__in=unit_ids, groups__name__in=[Role.HANDLER, Role.UNIT_LEADER])
        .values_list("staff_profile__unit_id", "id")
        .distinct()
    )
    for unit_id, user_id in rows:
        staff[unit_id].append(user_id)
    return staff


def _events_and_notices(rows: list[dict[str, Any]], now: dt.datetime) -> None:
    """rows: {ticket_id, unit_id, status, kind, note, data}: one internal event each, and a
    notification to the unit's handlers and leaders."""
    events = TicketEvent.objects.bulk_create(
        [
            TicketEvent(
                ticket_id=r["ticket_id"], kind=r["kind"], actor_role="system", actor_label="system",
                unit_id=r["unit_id"], from_status=r["status"], to_status=r["status"], note=r.get("note", ""),
                data=r.get("data", {}), public=False, created_at=now,
            )
            for r in rows
        ]
    )
    if events and events[0].pk is None:  # backends that do not return ids from bulk inserts
        events = list(
            TicketEvent.objects.filter(created_at=now, kind__in={r["kind"] for r in rows}, ticket_id__in=[r["ticket_id"] for r in rows])
        )
    staff = _unit_staff({r["unit_id"] for r in rows if r["unit_id"]})
    unit_of = {r["ticket_id"]: r["unit_id"] for r in rows}
    Notification.objects.bulk_create(
        [
            Notification(user_id=uid, event_id=e.pk, ticket_id=e.ticket_id, created_at=now)
            for e in events
            for uid in staff.get(unit_of.get(e.ticket_id) or 0, [])
        ],
        ignore_conflicts=True,
    )


def warn_due_soon(now: dt.datetime, soon_days: int) -> int:
    """Tickets at a unit whose deadline falls within the last `soon_days` working days."""
    calendar = services.current_calendar()
    today = now.astimezone(SHANGHAI).date()
    cutoff = end_of_day(calendar.add_working_days(today, soon_days) - dt.timedelta(days=1))
    warned = SlaAlert.objects.filter(ticket_id=OuterRef("pk"), kind=SlaAlert.Kind.DUE_SOON, due_at=OuterRef("unit_due_at"))
    candidates = (
        Ticket.objects.filter(status__in=AT_UNIT_STATUSES, unit_due_at__gte=now, unit_due_at__lte=cutoff)
        .exclude(Exists(warned))
        .values_list("pk", "unit_due_at")
        .iterator(chunk_size=BATCH)
    )
    count = 0
    for chunk in _batches(candidates):
        with transaction.atomic():
            SlaAlert.objects.bulk_create(
                [SlaAlert(ticket_id=pk, kind=SlaAlert.Kind.DUE_SOON, due_at=due, created_at=now) for pk, due in chunk],
                ignore_conflicts=True,
            )
            mine = list(
                SlaAlert.objects.filter(created_at=now, kind=SlaAlert.Kind.DUE_SOON, ticket_id__in=[pk for pk, _ in chunk])
                .values_list("ticket_id", "ticket__lead_unit_id", "ticket__status", "due_at")
            )
            _events_and_notices(
                [
                    {"ticket_id": t, "unit_id": u, "status": s, "kind": "due_soon",
                     "data": {"unit_due_at": due.isoformat()}}
                    for t, u, s, due in mine
                ],
                now,
            )
        count += len(mine)
    return count


def _open_orders(rows: list[tuple[int, int | None, str, int | None]], cause: str, now: dt.datetime, ladder) -> int:
    """rows: (ticket_id, unit_id, status, milestone_id)."""
    due = supervision.order_due(now, 1, ladder)
    level_name = ladder[1].name if 1 in ladder else "1"
    with transaction.atomic():
        SupervisionOrder.objects.bulk_create(
            [
                SupervisionOrder(ticket_id=t, cause=cause, milestone_id=m, unit_id=u, level=1, opened_at=now, due_at=due)
                for t, u, _s, m in rows
            ],
            ignore_conflicts=True,
        )
        mine = list(
            SupervisionOrder.objects.filter(opened_at=now, cause=cause, ticket_id__in=[r[0] for r in rows])
            .values_list("pk", "ticket_id", "unit_id", "ticket__status", "milestone_id")
        )
        _events_and_notices(
            [
                {"ticket_id": t, "unit_id": u, "status": s, "kind": "supervision_opened",
                 "note": str(SupervisionOrder.Cause(cause).label),
                 "data": {"order": pk, "cause": cause, "level": 1, "level_name": level_name,
                          "milestone": m, "due_at": due.isoformat()}}
                for pk, t, u, s, m in mine
            ],
            now,
        )
    return len(mine)


def supervise_overdue(now: dt.datetime, ladder) -> int:
    open_order = SupervisionOrder.objects.filter(
        ticket_id=OuterRef("pk"), cause=SupervisionOrder.Cause.OVERDUE, status=SupervisionOrder.Status.OPEN
    )
    candidates = (
        Ticket.objects.filter(status__in=AT_UNIT_STATUSES, unit_due_at__lt=now)
        .exclude(Exists(open_order))
        .values_list("pk", "lead_unit_id", "status")
        .iterator(chunk_size=BATCH)
    )
    return sum(
        _open_orders([(t, u, s, None) for t, u, s in chunk], SupervisionOrder.Cause.OVERDUE, now, ladder)
        for chunk in _batches(candidates)
    )


def supervise_missed_milestones(now: dt.datetime, ladder) -> int:
    today = now.astimezone(SHANGHAI).date()
    open_order = SupervisionOrder.objects.filter(milestone_id=OuterRef("pk"), status=SupervisionOrder.Status.OPEN)
    candidates = (
        Milestone.objects.filter(
            done_at=None, due_date__lt=today, plan__status=StagedPlan.Status.APPROVED,
            plan__ticket__status=Status.IN_PROGRESS,
        )
        .exclude(Exists(open_order))
        .values_list("plan__ticket_id", "plan__ticket__lead_unit_id", "plan__ticket__status", "pk")
        .iterator(chunk_size=BATCH)
    )
    return sum(
        _open_orders(chunk, SupervisionOrder.Cause.MILESTONE_MISSED, now, ladder) for chunk in _batches(candidates)
    )


def escalate_late_orders(now: dt.datetime, ladder) -> int:
    late = SupervisionOrder.objects.filter(status=SupervisionOrder.Status.OPEN, due_at__lt=now)
    return sum(supervision.escalate(order, now=now, ladder=ladder) for order in late.iterator())


def scan(now: dt.datetime | None = None) -> dict[str, int]:
    """One run of the deadline job. Safe to run twice, or on two workers at once."""
    now = now or clock.now()
    ladder = supervision.levels()
    return {
        "closed": supervision.close_resolved(now=now),
        "due_soon": warn_due_soon(now, settings.MINYI_DUE_SOON_WORKING_DAYS),
        "overdue": supervise_overdue(now, ladder),
        "milestones_missed": supervise_missed_milestones(now, ladder),
        "escalated": escalate_late_orders(now, ladder),
    }
