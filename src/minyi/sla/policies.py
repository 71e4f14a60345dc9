"""How a deadline is counted — written once, here.

The day of receipt is not counted; a deadline ends at 23:59:59 Asia/Shanghai on the last
working day of the limit. An urgent ticket's limit is counted in hours from receipt. The
limits themselves are data (`TimeLimitPolicy`); these functions are pure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from minyi.sla.calendar import WorkCalendar, package_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = dt.time(23, 59, 59)
URGENT_HOURS = 24

#: The national defaults (domain.md); the database's TimeLimitPolicy rows start from these.
TIME_LIMIT_DAYS: dict[str, int] = {
    "consultation": 2,
    "help": 10,
    "suggestion": 10,
    "complaint": 15,
    "report": 15,
}


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime
    provisional: bool


def end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


def count_deadline(
    received_at: dt.datetime,
    working_days: int,
    calendar: WorkCalendar,
    *,
    urgent_hours: int | None = None,
) -> Deadline:
    """The deadline of a limit of `working_days` (or `urgent_hours`) from `received_at`."""
    if urgent_hours:
        return Deadline(received_at + dt.timedelta(hours=urgent_hours), False)
    day = received_at.astimezone(SHANGHAI).date()
    last = calendar.add_working_days(day, working_days)
    return Deadline(end_of_day(last), calendar.provisional(day, last))


def deadline(received_at: dt.datetime, request_type: str, urgent: bool = False) -> dt.datetime:
    """The national default deadline of a request type, on the package calendar (no database)."""
    return count_deadline(
        received_at,
        TIME_LIMIT_DAYS[request_type],
        package_calendar(),
        urgent_hours=URGENT_HOURS if urgent else None,
    ).at


def warning_state(
    now: dt.datetime, due_at: dt.datetime | None, calendar: WorkCalendar, soon_days: int = 1
) -> str:
    """`overdue` past the deadline; `due_soon` within the last `soon_days` working days before
    it (counting the deadline's own day); otherwise `on_time`. None when no clock runs."""
    if due_at is None:
        return ""
    if now > due_at:
        return "overdue"
    today = now.astimezone(SHANGHAI).date()
    due_day = due_at.astimezone(SHANGHAI).date()
    if calendar.working_days_between(today, due_day) < soon_days:
        return "due_soon"
    return "on_time"
