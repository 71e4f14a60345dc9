"""Supervision orders (督办): opened, escalated and closed — by the periodic job or inline.

Orders are records of their own; each change appends an internal event to the ticket's
timeline. Opening is idempotent by database constraint (one open order per ticket and cause,
or per milestone), escalation and closure by conditional updates, so two workers running the
job at once do each change once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext as _

from minyi.core import clock
from minyi.core.errors import Conflict, InvalidInput
from minyi.org import reference
from minyi.org.actors import Actor, system_actor
from minyi.org.models import UNIT_ROLES
from minyi.sla import services
from minyi.sla.models import Milestone, StagedPlan
from minyi.sla.policies import SHANGHAI, end_of_day
from minyi.supervision.access import (
    SUPERVISE_ROLES,
    access_answer_order,
    access_order,
    access_supervise,
)
from minyi.supervision.models import SupervisionLevel, SupervisionOrder
from minyi.tickets.access import access_ticket
from minyi.tickets.actions import record_event, required_text
from minyi.tickets.choices import AT_UNIT_STATUSES, TERMINAL_STATUSES, ReplyState, Status
from minyi.tickets.models import Reply, Ticket

DEFAULT_LEVELS = {1: 1, 2: 2, 3: 2, 4: 3}  # level -> working days to respond, if no data


def levels() -> dict[int, SupervisionLevel]:
    """The supervision levels by number (reference data, cached per process)."""
    snap = reference.cached()
    if snap is not None:
        return snap.supervision_levels
    return {lv.level: lv for lv in SupervisionLevel.objects.all()}


def order_due(now: dt.datetime, level: int, ladder: dict[int, SupervisionLevel]) -> dt.datetime:
    days = ladder[level].response_working_days if level in ladder else DEFAULT_LEVELS.get(level, 1)
    today = now.astimezone(SHANGHAI).date()
    return end_of_day(services.current_calendar().add_working_days(today, days))


def level_name(level: int, ladder: dict[int, SupervisionLevel]) -> str:
    return ladder[level].name if level in ladder else str(level)


def top_level(ladder: dict[int, SupervisionLevel]) -> int:
    """The last rung (the public list): orders stop escalating there."""
    return max(ladder) if ladder else max(DEFAULT_LEVELS)


def open_order(
    ticket: Ticket, cause: str, *, milestone: Milestone | None = None, now: dt.datetime | None = None,
    ladder: dict[int, SupervisionLevel] | None = None,
) -> SupervisionOrder | None:
    """Open an order unless one is open for the same cause; returns the new order or None."""
    now = now or clock.now()
    ladder = ladder if ladder is not None else levels()
    try:
        with transaction.atomic():
            order = SupervisionOrder.objects.create(
                ticket=ticket, cause=cause, milestone=milestone, unit_id=ticket.lead_unit_id,
                level=1, opened_at=now, due_at=order_due(now, 1, ladder),
            )
            record_event(
                ticket, "supervision_opened", system_actor(), "system", from_status=ticket.status,
                note=str(SupervisionOrder.Cause(cause).label), unit=ticket.lead_unit, public=False,
                data={"order": order.pk, "cause": cause, "level": 1, "level_name": level_name(1, ladder),
                      "milestone": milestone.pk if milestone else None, "due_at": order.due_at.isoformat()},
            )
    except IntegrityError:
        return None
    return order


def escalate(order: SupervisionOrder, *, now: dt.datetime, ladder: dict[int, SupervisionLevel]) -> bool:
    """Climb one rung if the order is still open, late and not at the top. True if it did."""
    if order.level >= top_level(ladder):
        return False
    new_level = order.level + 1
    due = order_due(now, new_level, ladder)
    with transaction.atomic():
        moved = SupervisionOrder.objects.filter(
            pk=order.pk, status=SupervisionOrder.Status.OPEN, level=order.level, due_at__lt=now,
            answered_at=None,
        ).update(level=new_level, due_at=due, escalated_at=now)
        if not moved:
            return False
        ticket = Ticket.objects.select_related("lead_unit").get(pk=order.ticket_id)
        record_event(
            ticket, "supervision_escalated", system_actor(), "system", from_status=ticket.status,
            note=level_name(new_level, ladder), unit=ticket.lead_unit, public=False,
            data={"order": order.pk, "level": new_level, "level_name": level_name(new_level, ladder),
                  "due_at": due.isoformat()},
        )
    return True


def close_order(order: SupervisionOrder, reason: str, *, now: dt.datetime) -> bool:
    with transaction.atomic():
        closed = SupervisionOrder.objects.filter(pk=order.pk, status=SupervisionOrder.Status.OPEN).update(
            status=SupervisionOrder.Status.CLOSED, closed_at=now, close_reason=reason[:200]
        )
        if not closed:
            return False
        ticket = Ticket.objects.select_related("lead_unit").get(pk=order.ticket_id)
        record_event(
            ticket, "supervision_closed", system_actor(), "system", from_status=ticket.status,
            note=reason, unit=ticket.lead_unit, public=False, data={"order": order.pk},
        )
    return True


def resolved_orders(now: dt.datetime, ticket_ids: Iterable[int] | None = None):
    """Open orders whose cause is gone: the ticket left the unit (replied, closed, returned) or
    its deadline moved past now; the milestone was recorded or the plan is no longer live."""
    open_orders = SupervisionOrder.objects.filter(status=SupervisionOrder.Status.OPEN)
    if ticket_ids is not None:
        open_orders = open_orders.filter(ticket_id__in=list(ticket_ids))
    overdue_gone = Q(cause=SupervisionOrder.Cause.OVERDUE) & (
        ~Q(ticket__status__in=AT_UNIT_STATUSES) | Q(ticket__unit_due_at__gte=now)
    )
    milestone_gone = Q(cause=SupervisionOrder.Cause.MILESTONE_MISSED) & (
        ~Q(milestone__done_at=None)
        | ~Q(milestone__plan__status=StagedPlan.Status.APPROVED)
        | ~Q(ticket__status=Status.IN_PROGRESS)
    )
    # A manual order's cause is the ticket: it ends when the ticket is closed after the order
    # was opened. A quality order's cause is the reply: it ends when a new reply is published.
    manual_gone = Q(cause=SupervisionOrder.Cause.MANUAL) & Q(ticket__status__in=TERMINAL_STATUSES) & (
        Q(ticket__closed_at__gt=F("opened_at")) | Q(ticket__status=Status.MERGED)
    )
    new_reply = Reply.objects.filter(
        ticket_id=OuterRef("ticket_id"), state=ReplyState.PUBLISHED, published_at__gt=OuterRef("opened_at")
    )
    quality_gone = Q(cause=SupervisionOrder.Cause.QUALITY) & Q(Exists(new_reply))
    return open_orders.filter(overdue_gone | milestone_gone | manual_gone | quality_gone).select_related(
        "ticket", "milestone"
    )


def close_resolved(*, ticket_ids: Iterable[int] | None = None, now: dt.datetime | None = None) -> int:
    now = now or clock.now()
    count = 0
    for order in list(resolved_orders(now, ticket_ids)):
        count += close_order(order, _close_reason(order), now=now)
    return count


def _close_reason(order: SupervisionOrder) -> str:
    done = order.milestone is not None and order.milestone.done_at is not None
    return close_reason(order.cause, order.ticket.status, milestone_done=done)


def close_reason(cause: str, ticket_status: str, *, milestone_done: bool) -> str:
    """Why a resolved order is closed, for the timeline."""
    if cause == SupervisionOrder.Cause.QUALITY:
        return _("The unit sent a new reply.")
    if cause == SupervisionOrder.Cause.MANUAL:
        return _("The ticket was closed.")
    if cause == SupervisionOrder.Cause.OVERDUE:
        if ticket_status == Status.RETURNED:
            return _("The unit returned the ticket.")
        if ticket_status not in AT_UNIT_STATUSES:
            return _("The ticket was handled.")
        return _("The deadline was moved.")
    if milestone_done:
        return _("The milestone was recorded.")
    if ticket_status != Status.IN_PROGRESS:
        return _("The ticket was handled.")
    return _("The plan ended.")


# --- supervision by hand (督办) -----------------------------------------------------------------


def open_manual(
    actor: Actor, ticket_id: int, *, reason: str, level: int = 1, due: dt.date | None = None,
    cause: str = SupervisionOrder.Cause.MANUAL,
) -> SupervisionOrder:
    """A supervisor opens an order on any ticket with a reason, a level and a deadline (the
    level's response time when none is given). One open order per ticket and cause."""
    access_supervise(actor)
    reason = required_text(reason, "reason", 2000)
    ladder = levels()
    if level not in (ladder or DEFAULT_LEVELS):
        raise InvalidInput(_("Please choose a supervision level."), "invalid_level", field="level")
    now = clock.now()
    if due is not None and due < now.astimezone(SHANGHAI).date():
        raise InvalidInput(_("The deadline cannot be in the past."), "invalid_due", field="due")
    due_at = end_of_day(due) if due is not None else order_due(now, level, ladder)
    with transaction.atomic():
        ticket = access_ticket(actor, ticket_id, for_update=True)
        if ticket.lead_unit_id is None:
            raise Conflict(_("This ticket has no handling unit to supervise yet."), "no_unit")
        try:
            with transaction.atomic():
                order = SupervisionOrder.objects.create(
                    ticket=ticket, cause=cause, unit_id=ticket.lead_unit_id, level=level, opened_at=now,
                    due_at=due_at, reason=reason, opened_by=actor.user,
                )
        except IntegrityError:
            raise Conflict(
                _("An order of this kind is already open on this ticket."), "order_already_open"
            ) from None
        record_event(
            ticket, "supervision_opened", actor, sorted(actor.roles & SUPERVISE_ROLES)[0], from_status=ticket.status,
            note=reason, unit=ticket.lead_unit, public=False,
            data={"order": order.pk, "cause": cause, "level": level, "level_name": level_name(level, ladder),
                  "due_at": due_at.isoformat()},
        )
    return order


def answer(actor: Actor, order_id: int, *, text: str) -> SupervisionOrder:
    """The supervised unit answers an open order (what it did, by when); an answered order
    does not escalate at its level."""
    text = required_text(text, "text", 5000)
    with transaction.atomic():
        order = access_answer_order(actor, order_id)
        if order.status != SupervisionOrder.Status.OPEN:
            raise Conflict(_("This supervision order is closed."), "order_closed")
        now = clock.now()
        order.answer, order.answered_at, order.answered_by = text, now, actor.user
        order.save(update_fields=["answer", "answered_at", "answered_by"])
        role = sorted(actor.roles & UNIT_ROLES)[0]
        record_event(
            order.ticket, "supervision_answered", actor, role, from_status=order.ticket.status, note=text,
            unit=order.unit, public=False, data={"order": order.pk, "level": order.level},
        )
    return order


def close_by_hand(actor: Actor, order_id: int, *, note: str) -> SupervisionOrder:
    """A supervisor closes an order (销号), e.g. after a satisfactory answer."""
    access_supervise(actor)
    note = required_text(note, "note", 200)
    order = access_order(actor, order_id)
    if not close_order(order, note, now=clock.now()):
        raise Conflict(_("This supervision order is closed."), "order_closed")
    order.refresh_from_db()
    return order
