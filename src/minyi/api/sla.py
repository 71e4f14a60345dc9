"""The REST API of time limits (办理时限): the deadline preview, the holiday notices, supervision
orders (督办), and the time-limit parts of a ticket's representation. Thin: the rules live in
`minyi.sla` and `minyi.supervision`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from minyi.api import schemas as s
from minyi.api.auth import StaffAuth, request_actor
from minyi.core import clock
from minyi.core.errors import InvalidInput
from minyi.core.ratelimit import check_rate
from minyi.org.models import Category
from minyi.sla import services
from minyi.sla.calendar import WorkCalendar
from minyi.sla.clocks import running_clock
from minyi.sla.models import Extension, HolidayNotice, StagedPlan
from minyi.sla.policies import SHANGHAI
from minyi.supervision.access import access_supervision_queryset
from minyi.supervision.actions import level_name, levels
from minyi.supervision.models import SupervisionLevel, SupervisionOrder
from minyi.tickets import access
from minyi.tickets.choices import RequestType
from minyi.tickets.models import Ticket

sla_router = Router(tags=["time limits"])
supervision_router = Router(tags=["supervision"])
staff = StaffAuth()


def local(moment: dt.datetime | None) -> dt.datetime | None:
    """A moment as Shanghai reads it (a deadline ends at 23:59:59 there): the time-limit fields
    are written with the +08:00 offset."""
    return moment.astimezone(SHANGHAI) if moment is not None else None


# --- the deadline preview ----------------------------------------------------------------------


class DeadlineQuery(Schema):
    type: str = Field(description="consultation, help, suggestion, complaint or report")
    received_at: str | None = Field(
        None, description="ISO 8601 date-time (without an offset: Asia/Shanghai) or date; default: now"
    )
    urgent: bool = False
    category_id: int | None = Field(None, description="The category's own time limit, if it has one")


def parse_moment(raw: str | None, field: str) -> dt.datetime:
    """An ISO 8601 date-time (naive: Asia/Shanghai) or date (its start); empty: now."""
    text = (raw or "").strip()
    if not text:
        return clock.now()
    if "T" in text:
        # An unencoded "+08:00" in a query string arrives as " 08:00".
        text = re.sub(r" (\d{2}(:?\d{2})?)$", r"+\1", text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            _("Please give a date (YYYY-MM-DD) or a date and time (ISO 8601)."), "invalid_date", field=field
        ) from None
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


@sla_router.get("/deadline", response={200: s.DeadlineOut, **s.ERRORS})
def deadline(request: HttpRequest, query: Query[DeadlineQuery]):
    """The deadline a request would get if received at `received_at` (default: now), by the
    time-limit policy of its type and category. Public, rate-limited."""
    check_rate(request, "deadline")
    if query.type not in RequestType.values:
        raise InvalidInput(_("Unknown request type."), "invalid_type", field="type")
    category = None
    if query.category_id is not None:
        category = Category.objects.filter(pk=query.category_id, active=True).first()
        if category is None:
            raise InvalidInput(_("Unknown category."), "invalid_category", field="category_id")
    received = parse_moment(query.received_at, "received_at")
    days, hours = services.policy_for(query.type, category)
    try:
        due = services.deadline_for(received, days, urgent=query.urgent, urgent_hours=hours)
    except (ValueError, OverflowError):
        raise InvalidInput(
            _("The date is outside the working-day calendar."), "date_out_of_range", field="received_at"
        ) from None
    return {
        "due_at": due.at.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "provisional": due.provisional,
        "working_days": days,
        "urgent_hours": hours if query.urgent else None,
    }


# --- holiday notices ---------------------------------------------------------------------------


@sla_router.get("/holidays", response={200: list[s.HolidayNoticeOut], **s.ERRORS})
def holidays(request: HttpRequest, year: int | None = None):
    """The State Council's holiday notices loaded into the platform, with their holidays and
    make-up working days (years before them come with the platform's calendar package)."""
    notices = HolidayNotice.objects.order_by("year").prefetch_related("days")
    if year is not None:
        notices = notices.filter(year=year)
    return [
        {
            "year": n.year, "title": n.title, "source": n.source, "loaded_at": n.loaded_at,
            "days": [{"date": d.date, "name": d.name, "is_off_day": d.is_off_day} for d in n.days.all()],
        }
        for n in notices
    ]


@sla_router.get("/status", response={200: s.SlaStatusOut, **s.ERRORS}, auth=staff)
def sla_status(request: HttpRequest):
    """What administrators must act on: years without a loaded holiday notice that deadlines
    counted from today could reach (their deadlines are provisional)."""
    access.require_staff(request_actor(request))
    return {"missing_notice_years": services.missing_notice_years(clock.local_today())}


# --- supervision orders ------------------------------------------------------------------------


def order_out(order: SupervisionOrder, ladder: dict[int, SupervisionLevel]) -> dict[str, Any]:
    return {
        "id": order.pk, "cause": order.cause, "level": order.level,
        "level_name": level_name(order.level, ladder),
        "status": order.status, "opened_at": local(order.opened_at), "due_at": local(order.due_at),
        "closed_at": local(order.closed_at), "close_reason": order.close_reason,
        "reason": order.reason, "answer": order.answer, "answered_at": local(order.answered_at),
    }


class OrderFilter(Schema):
    status: str | None = None
    level: int | None = None
    unit_id: int | None = None
    cause: str | None = None
    page: int = 1
    page_size: int = 20


@supervision_router.get("/orders", response={200: s.SupervisionPageOut, **s.ERRORS}, auth=staff)
def supervision_orders(request: HttpRequest, filters: Query[OrderFilter]):
    """Supervision orders the caller may see, newest first: all of them for supervisors, city
    leaders, administrators and dispatchers; a unit's own for its staff."""
    orders = access_supervision_queryset(request_actor(request))
    if filters.status:
        if filters.status not in SupervisionOrder.Status.values:
            raise InvalidInput(_("Unknown status."), "invalid_status", field="status")
        orders = orders.filter(status=filters.status)
    if filters.cause:
        if filters.cause not in SupervisionOrder.Cause.values:
            raise InvalidInput(_("Unknown cause."), "invalid_cause", field="cause")
        orders = orders.filter(cause=filters.cause)
    if filters.level is not None:
        orders = orders.filter(level=filters.level)
    if filters.unit_id is not None:
        orders = orders.filter(unit_id=filters.unit_id)
    page_size = max(1, min(filters.page_size, 100))
    paginator = Paginator(orders.select_related("ticket", "unit").order_by("-opened_at", "-id"), page_size)
    page = paginator.get_page(filters.page)
    ladder = levels()
    return {
        "count": paginator.count, "page": page.number, "page_size": page_size,
        "results": [
            {
                **order_out(o, ladder),
                "ticket_id": o.ticket_id, "ticket_number": o.ticket.number, "ticket_title": o.ticket.title,
                "unit_id": o.unit_id, "unit": o.unit.name if o.unit else None, "milestone_id": o.milestone_id,
            }
            for o in page
        ],
    }


# --- a ticket's time limits ----------------------------------------------------------------------


def clock_fields(ticket: Ticket, now: dt.datetime, calendar: WorkCalendar) -> dict[str, Any]:
    """The deadlines of a ticket's list row."""
    return {
        "due_at": local(ticket.due_at),
        "unit_due_at": local(ticket.unit_due_at),
        "provisional": ticket.due_provisional or ticket.unit_due_provisional,
        "warning": running_clock(ticket, now, calendar).warning,
    }


def prefetch_time_limits(ticket: Ticket) -> None:
    """Load a ticket's extensions, plans with milestones and supervision orders in three queries
    (the guards of `access.available_transitions` reuse them)."""
    prefetch_related_objects(
        [ticket],
        Prefetch("extensions", queryset=Extension.objects.select_related("reason")),
        Prefetch("plans", queryset=StagedPlan.objects.prefetch_related("milestones")),
        "supervision_orders",
    )


def _extension_out(e: Extension) -> dict[str, Any]:
    return {
        "id": e.pk, "reason_code": e.reason.code, "reason": e.reason.name, "working_days": e.working_days,
        "explanation": e.explanation, "status": e.status, "requested_at": local(e.requested_at),
        "decided_at": local(e.decided_at), "decision_note": e.decision_note,
        "old_due_at": local(e.old_due_at), "new_due_at": local(e.new_due_at),
    }


def _plan_out(plan: StagedPlan) -> dict[str, Any]:
    return {
        "id": plan.pk, "explanation": plan.explanation, "status": plan.status,
        "requested_at": local(plan.requested_at), "decided_at": local(plan.decided_at),
        "decision_note": plan.decision_note,
        "milestones": [
            {"id": m.pk, "seq": m.seq, "title": m.title, "due_date": m.due_date, "done_at": local(m.done_at),
             "evidence": m.evidence}
            for m in sorted(plan.milestones.all(), key=lambda m: m.seq)
        ],
    }


def time_limit_fields(ticket: Ticket, now: dt.datetime, calendar: WorkCalendar) -> dict[str, Any]:
    """The time limits of a ticket's detail (after `prefetch_time_limits`)."""
    plans = sorted(ticket.plans.all(), key=lambda p: (p.requested_at, p.pk))
    ladder = levels()
    return {
        "time_limit_days": ticket.time_limit_days,
        "extended_days": ticket.extended_days,
        "due_provisional": ticket.due_provisional,
        "unit_due_provisional": ticket.unit_due_provisional,
        "time_left_seconds": running_clock(ticket, now, calendar).seconds_left(now),
        "extensions": [_extension_out(e) for e in sorted(ticket.extensions.all(), key=lambda e: (e.requested_at, e.pk))],
        "plan": _plan_out(plans[-1]) if plans else None,
        "supervision_orders": [
            order_out(o, ladder) for o in sorted(ticket.supervision_orders.all(), key=lambda o: (o.opened_at, o.pk))
        ],
    }
