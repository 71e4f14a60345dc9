"""Which of a ticket's two clocks runs, and its warning state: in SQL for lists (the database
filters and sorts) and in Python for one loaded ticket. Both give the same answers.

The unit's deadline (`unit_due_at`) runs while a unit holds the ticket (dispatched, in
progress); the requester's (`due_at`) while the platform does (submitted, returned); a
replied, reviewed or closed ticket runs no clock. The warning states are those of
`minyi.sla.policies.warning_state`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateTimeField,
    F,
    Q,
    QuerySet,
    Value,
    When,
)

from minyi.sla import services
from minyi.sla.calendar import WorkCalendar
from minyi.sla.policies import SHANGHAI, warning_state
from minyi.tickets.choices import AT_UNIT_STATUSES, Status
from minyi.tickets.models import Ticket

#: Statuses in which the platform holds the ticket and the requester's clock runs.
AT_PLATFORM_STATUSES = frozenset({Status.SUBMITTED, Status.RETURNED})

ON_TIME, DUE_SOON, OVERDUE = "on_time", "due_soon", "overdue"
WARNING_STATES = (ON_TIME, DUE_SOON, OVERDUE)


def soon_days() -> int:
    return int(settings.MINYI_DUE_SOON_WORKING_DAYS)


def soon_boundary(now: dt.datetime, calendar: WorkCalendar, days: int) -> dt.datetime | None:
    """Deadlines not yet past and before this moment are due soon: the start (Shanghai) of the
    `days`-th working day after today. None when nothing is ever due soon (days < 1)."""
    if days < 1:
        return None
    today = now.astimezone(SHANGHAI).date()
    return dt.datetime.combine(calendar.add_working_days(today, days), dt.time.min, tzinfo=SHANGHAI)


RUNNING_DUE = Case(
    When(status__in=sorted(AT_UNIT_STATUSES), then=F("unit_due_at")),
    When(status__in=sorted(AT_PLATFORM_STATUSES), then=F("due_at")),
    default=Value(None),
    output_field=DateTimeField(),
)
RUNNING_PROVISIONAL = Case(
    When(status__in=sorted(AT_UNIT_STATUSES), then=F("unit_due_provisional")),
    When(status__in=sorted(AT_PLATFORM_STATUSES), then=F("due_provisional")),
    default=Value(False),
    output_field=BooleanField(),
)


def with_deadlines(
    tickets: QuerySet[Ticket], now: dt.datetime, calendar: WorkCalendar | None = None, days: int | None = None
) -> QuerySet[Ticket]:
    """Annotate `running_due`, `running_provisional` and `warning` ("" without a clock)."""
    calendar = calendar or services.current_calendar()
    boundary = soon_boundary(now, calendar, soon_days() if days is None else days)
    states = [When(running_due__isnull=True, then=Value("")), When(running_due__lt=now, then=Value(OVERDUE))]
    if boundary is not None:
        states.append(When(running_due__lt=boundary, then=Value(DUE_SOON)))
    return tickets.annotate(running_due=RUNNING_DUE, running_provisional=RUNNING_PROVISIONAL).annotate(
        warning=Case(*states, default=Value(ON_TIME), output_field=CharField())
    )


def warning_filter(state: str, now: dt.datetime, calendar: WorkCalendar, days: int | None = None) -> Q:
    """A filter on `running_due` (see `with_deadlines`) for one warning state."""
    boundary = soon_boundary(now, calendar, soon_days() if days is None else days)
    if state == OVERDUE:
        return Q(running_due__lt=now)
    if state == DUE_SOON:
        return Q(running_due__gte=now, running_due__lt=boundary) if boundary else Q(pk__in=[])
    if state == ON_TIME:
        return Q(running_due__gte=boundary) if boundary else Q(running_due__gte=now)
    raise ValueError(state)


def by_time_left(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Least time left first; tickets without a running clock last (needs `with_deadlines`)."""
    return tickets.order_by(F("running_due").asc(nulls_last=True), "-created_at", "-id")


@dataclass(frozen=True)
class Clock:
    due: dt.datetime | None
    provisional: bool
    warning: str  # one of WARNING_STATES, or "" when no clock runs

    def seconds_left(self, now: dt.datetime) -> int | None:
        """Whole seconds until the deadline (negative once it has passed); None without a clock."""
        if self.due is None:
            return None
        return (self.due - now) // dt.timedelta(seconds=1)


def running_clock(ticket: Ticket, now: dt.datetime, calendar: WorkCalendar | None = None) -> Clock:
    """The same answer as `with_deadlines`, for one ticket already loaded."""
    if ticket.status in AT_UNIT_STATUSES:
        due, provisional = ticket.unit_due_at, ticket.unit_due_provisional
    elif ticket.status in AT_PLATFORM_STATUSES:
        due, provisional = ticket.due_at, ticket.due_provisional
    else:
        return Clock(None, False, "")
    calendar = calendar or services.current_calendar()
    return Clock(due, provisional, warning_state(now, due, calendar, soon_days()))
