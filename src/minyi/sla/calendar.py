"""The working-day calendar: pure code, no database.

A day is a working day when the State Council's notice for its year says so: holidays are off
even on weekdays, make-up days (调休) are on even on weekends. `chinesecalendar` supplies the
notices up to 2026; `overrides` (the notices stored in the database) add later years or
correct days. A year that no source covers counts Monday to Friday as working days, and any
deadline that reaches into it is *provisional*.

`WorkCalendar` keeps the ordinals of all working days in a sorted list, so "add N working
days" and "working days between" are two binary searches: fast enough for millions of
deadlines. The module-level functions are the same answers for one-off use.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from functools import lru_cache

from chinese_calendar.constants import holidays as PACKAGE_HOLIDAYS
from chinese_calendar.constants import workdays as PACKAGE_WORKDAYS

#: Years the installed `chinesecalendar` covers.
PACKAGE_YEARS = frozenset(range(min(PACKAGE_HOLIDAYS).year, max(PACKAGE_HOLIDAYS).year + 1))
FIRST_YEAR = min(PACKAGE_YEARS)
#: How many years past the last known year the calendar reaches (weekdays only there).
HORIZON_YEARS = 5


class WorkCalendar:
    def __init__(
        self,
        overrides: Mapping[dt.date, bool] | None = None,
        override_years: Iterable[int] = (),
        *,
        last_year: int | None = None,
    ) -> None:
        """`overrides`: date -> is it a working day, from loaded notices (they win over the
        package). `override_years`: the years those notices cover completely."""
        self.overrides = dict(overrides or {})
        self.known_years = frozenset(PACKAGE_YEARS | set(override_years))
        top = max(self.known_years | {dt.date.today().year})
        self.first_year = FIRST_YEAR
        self.last_year = max(last_year or 0, top + HORIZON_YEARS)
        day = dt.date(self.first_year, 1, 1)
        end = dt.date(self.last_year, 12, 31)
        ordinals = []
        one = dt.timedelta(days=1)
        while day <= end:
            if self._rule(day):
                ordinals.append(day.toordinal())
            day += one
        self._ordinals = ordinals
        self._working = frozenset(ordinals)

    def _rule(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day in PACKAGE_WORKDAYS:
            return True
        if day in PACKAGE_HOLIDAYS:
            return False
        return day.weekday() < 5

    def _check(self, day: dt.date) -> None:
        if not self.first_year <= day.year <= self.last_year:
            raise ValueError(f"{day} is outside the calendar ({self.first_year}–{self.last_year})")

    def is_working_day(self, day: dt.date) -> bool:
        self._check(day)
        return day.toordinal() in self._working

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after `start` (the start day itself is not counted; n >= 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        self._check(start)
        index = bisect_right(self._ordinals, start.toordinal()) + n - 1
        if index >= len(self._ordinals):
            raise ValueError(f"{start} + {n} working days is past the calendar's end")
        return dt.date.fromordinal(self._ordinals[index])

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: how many working days `end` is after `start`."""
        if end <= start:
            return 0
        self._check(start)
        self._check(end)
        return bisect_right(self._ordinals, end.toordinal()) - bisect_right(
            self._ordinals, start.toordinal()
        )

    def known_year(self, year: int) -> bool:
        return year in self.known_years

    def provisional(self, start: dt.date, end: dt.date) -> bool:
        """Whether a span counted from `start` to `end` touches a year no notice covers."""
        return any(year not in self.known_years for year in range(start.year, end.year + 1))


@lru_cache(maxsize=1)
def package_calendar() -> WorkCalendar:
    """The calendar from `chinesecalendar` alone."""
    return WorkCalendar()


def _calendar(overrides: Mapping[dt.date, bool] | None) -> WorkCalendar:
    if not overrides:
        return package_calendar()
    return WorkCalendar(overrides, {day.year for day in overrides})


def known_year(year: int, overrides: Mapping[dt.date, bool] | None = None) -> bool:
    """Whether some source covers `year` (otherwise its deadlines are provisional)."""
    return _calendar(overrides).known_year(year)


def is_working_day(day: dt.date, overrides: Mapping[dt.date, bool] | None = None) -> bool:
    return _calendar(overrides).is_working_day(day)


def add_working_days(
    start: dt.date, n: int, overrides: Mapping[dt.date, bool] | None = None
) -> dt.date:
    return _calendar(overrides).add_working_days(start, n)


def working_days_between(
    start: dt.date, end: dt.date, overrides: Mapping[dt.date, bool] | None = None
) -> int:
    return _calendar(overrides).working_days_between(start, end)
