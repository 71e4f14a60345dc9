"""The working-day calendar: pure functions, no database.

A day is a working day when the State Council's notice for its year says so: holidays are off
even on weekdays, make-up days (调休) are on even on weekends. `chinesecalendar` supplies the
notices it knows; `overrides` adds or corrects days (notices stored in the database). A year
that no source covers falls back to "Monday to Friday" and is reported as provisional.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

import chinese_calendar

ONE_DAY = dt.timedelta(days=1)


@lru_cache(maxsize=8192)
def _package_says(day: dt.date) -> bool | None:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def known_year(year: int, overrides: Mapping[dt.date, bool] | None = None) -> bool:
    """Whether some source covers `year` (otherwise its deadlines are provisional)."""
    if overrides and any(day.year == year for day in overrides):
        return True
    return _package_says(dt.date(year, 6, 1)) is not None


def is_working_day(day: dt.date, overrides: Mapping[dt.date, bool] | None = None) -> bool:
    if overrides and day in overrides:
        return overrides[day]
    said = _package_says(day)
    if said is not None:
        return said
    return day.weekday() < 5


def add_working_days(
    start: dt.date, n: int, overrides: Mapping[dt.date, bool] | None = None
) -> dt.date:
    """The n-th working day after `start` (the start day itself is not counted; n >= 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day = start
    counted = 0
    while counted < n:
        day += ONE_DAY
        if is_working_day(day, overrides):
            counted += 1
    return day


def working_days_between(
    start: dt.date, end: dt.date, overrides: Mapping[dt.date, bool] | None = None
) -> int:
    """Working days in (start, end]: how many working days `end` is after `start`."""
    if end <= start:
        return 0
    count = 0
    day = start
    while day < end:
        day += ONE_DAY
        if is_working_day(day, overrides):
            count += 1
    return count
