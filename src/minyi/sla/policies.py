"""How a deadline is counted — written once, here.

The day of receipt is not counted; a deadline ends at 23:59:59 Asia/Shanghai on the last
working day of the limit. An urgent ticket's limit is counted in hours from receipt. The
limits themselves are data (`TimeLimitPolicy`); these functions are pure.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from typing import NamedTuple
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


#: Asia/Shanghai has kept UTC+8 without daylight saving since 1991, and the calendar starts
#: in 2004: the local day of a moment is plain arithmetic on its timestamp.
_UTC_OFFSET_SECONDS = 8 * 3600
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_FIXED_OFFSET_SINCE = dt.datetime(1992, 1, 1, tzinfo=dt.UTC).timestamp()


class Deadline(NamedTuple):
    at: dt.datetime
    provisional: bool


def end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


@lru_cache(maxsize=16384)
def _end_of_day_ordinal(ordinal: int) -> dt.datetime:
    return end_of_day(dt.date.fromordinal(ordinal))


def local_ordinal(moment: dt.datetime) -> int:
    """The ordinal of the day `moment` falls on in Asia/Shanghai (`moment` must be aware)."""
    if moment.tzinfo is None:
        raise ValueError("a deadline is counted from an aware datetime")
    seconds = moment.timestamp()
    if seconds < _FIXED_OFFSET_SINCE:
        return moment.astimezone(SHANGHAI).toordinal()
    return int((seconds + _UTC_OFFSET_SECONDS) // 86400) + _EPOCH_ORDINAL


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
    last, provisional = calendar.span(local_ordinal(received_at), working_days)
    return Deadline(_end_of_day_ordinal(last), provisional)


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


def redo_working_days(limit_days: int, fraction: float) -> int:
    """A redo's time limit (不满意重办): `fraction` of the original limit, rounded up, at least
    one working day and never more than the original (an urgent ticket's 0 days gives 1)."""
    shorter = math.ceil(max(0, limit_days) * max(0.0, min(1.0, fraction)))
    return max(1, min(shorter, limit_days) if limit_days > 0 else 1)
