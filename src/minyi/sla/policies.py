"""Deadlines at intake: the time limit of each request type, counted in working days.

Rule (written once, here): the day of receipt is not counted; the deadline is 23:59:59
Asia/Shanghai on the last working day of the limit. Urgent tickets: 24 hours from receipt.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from minyi.sla.calendar import add_working_days
from minyi.tickets.choices import RequestType

SHANGHAI = ZoneInfo("Asia/Shanghai")
URGENT_HOURS = 24

#: Working days allowed per request type (the State Council's 12345 rules; see domain.md).
TIME_LIMIT_DAYS: dict[str, int] = {
    RequestType.CONSULTATION: 2,
    RequestType.HELP: 10,
    RequestType.SUGGESTION: 10,
    RequestType.COMPLAINT: 15,
    RequestType.REPORT: 15,
}


def deadline(received_at: dt.datetime, request_type: str, urgent: bool = False) -> dt.datetime:
    if urgent:
        return received_at + dt.timedelta(hours=URGENT_HOURS)
    local_day = received_at.astimezone(SHANGHAI).date()
    last_day = add_working_days(local_day, TIME_LIMIT_DAYS[request_type])
    return dt.datetime.combine(last_day, dt.time(23, 59, 59), tzinfo=SHANGHAI)
