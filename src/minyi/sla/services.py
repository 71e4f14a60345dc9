"""The database side of time limits: the calendar with the loaded notices, and the policies.

`current_calendar()` is rebuilt only when the notices change (their version is read from the
database at most every MINYI_CALENDAR_RECHECK_SECONDS per process; loading a notice
invalidates it at once in the loading process).
"""

from __future__ import annotations

import datetime as dt
import time
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q

from minyi.core import clock
from minyi.org.models import Category
from minyi.sla.calendar import HORIZON_YEARS, WorkCalendar
from minyi.sla.models import HolidayDay, HolidayNotice, TimeLimitPolicy
from minyi.sla.policies import (
    TIME_LIMIT_DAYS,
    URGENT_HOURS,
    Deadline,
    count_deadline,
    redo_working_days,
)

#: When this process last read the notices' version (a per-process memo, not shared state).
_version_read: dict[str, Any] = {"at": 0.0, "version": ""}


def _notice_version() -> str:
    now = time.monotonic()
    recheck = settings.MINYI_CALENDAR_RECHECK_SECONDS
    if now - _version_read["at"] >= recheck or not _version_read["version"]:
        agg = HolidayNotice.objects.aggregate(
            last=Max("loaded_at"), notices=Count("id", distinct=True), days=Count("days")
        )
        _version_read["version"] = f"{agg['notices']}/{agg['days']}/{agg['last']}"
        _version_read["at"] = now
    return str(_version_read["version"])


def invalidate_calendar() -> None:
    """Forget the notices' version read in this process (call after changing the notices)."""
    _version_read["at"] = 0.0
    _version_read["version"] = ""


@lru_cache(maxsize=4)
def _calendar_for(version: str, last_year: int) -> WorkCalendar:
    overrides = {day: not off for day, off in HolidayDay.objects.values_list("date", "is_off_day")}
    years = HolidayNotice.objects.values_list("year", flat=True)
    return WorkCalendar(overrides, years, last_year=last_year)


def current_calendar() -> WorkCalendar:
    """The package's notices with the loaded ones (a loaded notice replaces the package's copy
    of its year), reaching at least `HORIZON_YEARS` past this year."""
    return _calendar_for(_notice_version(), clock.local_today().year + HORIZON_YEARS)


def missing_notice_years(today: dt.date, *, ahead_days: int = 60) -> list[int]:
    """Years a deadline counted from today could reach that no notice covers (for the warning)."""
    calendar = current_calendar()
    horizon = today + dt.timedelta(days=ahead_days)
    return [year for year in range(today.year, horizon.year + 1) if not calendar.known_year(year)]


def policy_for(request_type: str, category: Category | None) -> tuple[int, int]:
    """(working days, urgent hours) for a request type in a category: the most specific rule
    among the category and its ancestors wins, then the type's default, then the national one."""
    chain: list[int] = []
    node = category
    while node is not None:
        chain.append(node.pk)
        node = node.parent
    if settings.MINYI_REFERENCE_CACHE_SECONDS > 0:
        from minyi.org.reference import snapshot  # the snapshot reads sla's rules: imported late

        wanted = {*chain, None}
        rules = {r.category_id: r for r in snapshot().policies.get(request_type, []) if r.category_id in wanted}
    else:
        rules = {
            rule.category_id: rule
            for rule in TimeLimitPolicy.objects.filter(request_type=request_type).filter(
                Q(category_id__in=chain) | Q(category=None)
            )
        }
    for key in [*chain, None]:
        if key in rules:
            return rules[key].working_days, rules[key].urgent_hours
    return TIME_LIMIT_DAYS[request_type], URGENT_HOURS


def deadline_for(
    received_at: dt.datetime,
    working_days: int,
    *,
    urgent: bool = False,
    urgent_hours: int = URGENT_HOURS,
) -> Deadline:
    return count_deadline(
        received_at, working_days, current_calendar(), urgent_hours=urgent_hours if urgent else None
    )


def rating_due(replied_at: dt.datetime) -> dt.datetime:
    """The end of the rating window that opens when a reply reaches the requester."""
    return deadline_for(replied_at, settings.MINYI_RATING_WINDOW_WORKING_DAYS).at


def redo_deadline(now: dt.datetime, limit_days: int) -> Deadline:
    """The shorter deadline of a redo, counted from the review's decision."""
    return deadline_for(now, redo_working_days(limit_days, settings.MINYI_REDO_DEADLINE_FRACTION))
