"""The dispatch clocks (ADR 0005), counted once, here.

- Sign-for (签收): an urgent ticket within `MINYI_SIGN_URGENT_MINUTES` clock minutes of receipt;
  any other within `MINYI_SIGN_OFFICE_MINUTES` minutes of office time (09:00–18:00 Asia/Shanghai
  on working days, make-up weekends included): a ticket received at 17:30 on a Friday is due
  at 09:30 on the next working day.
- Return (退单): within `MINYI_RETURN_WINDOW_OFFICE_HOURS` hours of office time after receipt
  (default 9: one working day, e.g. received Friday 15:00, returnable until Monday 15:00).
- Co-handling (协办): assisting units' input by the end of the
  `MINYI_ASSIST_INPUT_WORKING_DAYS`-th working day after receipt, never after the unit's deadline.

`office_deadline` is pure; `dispatch_clocks` reads the settings and the loaded calendar.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.conf import settings

from minyi.sla import services
from minyi.sla.calendar import WorkCalendar
from minyi.sla.policies import SHANGHAI, end_of_day

#: Office time never runs out for longer than this many days in a row (a long holiday is ~9).
MAX_DAYS_SEARCHED = 60


def office_deadline(
    received_at: dt.datetime,
    minutes: int,
    calendar: WorkCalendar,
    office_hours: tuple[int, int] = (9, 18),
) -> dt.datetime:
    """The moment `minutes` of office time have passed after `received_at`."""
    start_hour, end_hour = office_hours
    local = received_at.astimezone(SHANGHAI)
    remaining = dt.timedelta(minutes=minutes)
    day, cursor = local.date(), local
    for _ in range(MAX_DAYS_SEARCHED):
        if calendar.is_working_day(day):
            opens = dt.datetime.combine(day, dt.time(start_hour), tzinfo=SHANGHAI)
            closes = dt.datetime.combine(day, dt.time(end_hour), tzinfo=SHANGHAI)
            begin = max(cursor, opens)
            if begin < closes:
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
        day += dt.timedelta(days=1)
        cursor = dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
    raise ValueError("no office time found")  # pragma: no cover - a calendar of holidays only


class DispatchClocks(NamedTuple):
    sign_due_at: dt.datetime
    return_due_at: dt.datetime
    assist_due_at: dt.datetime


def dispatch_clocks(received_at: dt.datetime, *, urgent: bool, unit_due_at: dt.datetime | None) -> DispatchClocks:
    calendar = services.current_calendar()
    start, end = settings.MINYI_OFFICE_HOURS
    office_hours = (int(start), int(end))
    if urgent:
        sign_due = received_at + dt.timedelta(minutes=settings.MINYI_SIGN_URGENT_MINUTES)
    else:
        sign_due = office_deadline(
            received_at, settings.MINYI_SIGN_OFFICE_MINUTES, calendar, office_hours
        )
    return_due = office_deadline(received_at, settings.MINYI_RETURN_WINDOW_OFFICE_HOURS * 60, calendar, office_hours)
    assist_day = calendar.add_working_days(
        received_at.astimezone(SHANGHAI).date(), settings.MINYI_ASSIST_INPUT_WORKING_DAYS
    )
    assist_due = end_of_day(assist_day)
    if unit_due_at is not None and unit_due_at < assist_due:
        assist_due = unit_due_at
    return DispatchClocks(sign_due, return_due, assist_due)
