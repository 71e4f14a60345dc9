"""The working-day calendar: pure code, no database.

A day is a working day when the State Council's notice for its year says so: holidays are off
even on weekdays, make-up days (调休) are on even on weekends. `chinesecalendar` supplies the
notices up to its last year; the notices loaded into the database (`overrides` with their
`override_years`) add later years, and for a year they cover they replace the package. A year
that no source covers counts Monday to Friday as working days, and any deadline that reaches
into it is *provisional*.

`WorkCalendar` precomputes, for every day of its range, how many working days come up to it,
so "add N working days", "working days between" and "is this span provisional" are a few
list look-ups: fast enough for millions of deadlines. The module-level functions give the
same answers for one-off use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import lru_cache

from chinese_calendar.constants import holidays as PACKAGE_HOLIDAYS
from chinese_calendar.constants import workdays as PACKAGE_WORKDAYS

#: Years the installed `chinesecalendar` covers.
PACKAGE_YEARS = frozenset(range(min(PACKAGE_HOLIDAYS).year, max(PACKAGE_HOLIDAYS).year + 1))
FIRST_YEAR = min(PACKAGE_YEARS)
#: How many years past the last known year the calendar reaches (weekdays only there).
HORIZON_YEARS = 5
#: An ordinal past every calendar's end ("no unknown year ahead").
_NEVER = dt.date.max.toordinal() + 1


class WorkCalendar:
    """Working days from 1 January of `first_year` to 31 December of `last_year`.

    `overrides`: date -> is it a working day, from loaded notices. `override_years`: the years
    those notices cover completely; for them the package's days are ignored, so a loaded notice
    replaces the package's copy of the same year. An override outside `override_years` corrects
    one day and leaves the rest of its year to the package. `last_year` defaults to
    `HORIZON_YEARS` after the last known year; pass a later one to reach further.
    """

    __slots__ = (
        "_base",
        "_counts",
        "_ordinals",
        "_unknown_from",
        "first_year",
        "known_years",
        "last_year",
        "override_years",
        "overrides",
    )

    def __init__(
        self,
        overrides: Mapping[dt.date, bool] | None = None,
        override_years: Iterable[int] = (),
        *,
        last_year: int | None = None,
    ) -> None:
        self.overrides = dict(overrides or {})
        self.override_years = frozenset(override_years)
        self.known_years = frozenset(PACKAGE_YEARS | self.override_years)
        self.first_year = FIRST_YEAR
        self.last_year = max(last_year or 0, max(self.known_years) + HORIZON_YEARS)
        if min(self.override_years, default=self.first_year) < self.first_year:
            raise ValueError(f"the calendar starts in {self.first_year}")
        self._base = dt.date(self.first_year, 1, 1).toordinal()
        end = dt.date(self.last_year, 12, 31).toordinal()
        # _counts[i]: working days on or before day `_base + i`; _ordinals: the working days;
        # _unknown_from[i]: the first day on or after `_base + i` in a year no notice covers.
        counts: list[int] = []
        ordinals: list[int] = []
        for ordinal in range(self._base, end + 1):
            if self._rule(dt.date.fromordinal(ordinal)):
                ordinals.append(ordinal)
            counts.append(len(ordinals))
        unknown_from = [_NEVER] * len(counts)
        following = _NEVER
        for i in range(len(counts) - 1, -1, -1):
            ordinal = self._base + i
            if dt.date.fromordinal(ordinal).year not in self.known_years:
                following = ordinal
            unknown_from[i] = following
        self._counts = counts
        self._ordinals = ordinals
        self._unknown_from = unknown_from

    def _rule(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in self.override_years:
            return day.weekday() < 5
        if day in PACKAGE_WORKDAYS:
            return True
        if day in PACKAGE_HOLIDAYS:
            return False
        return day.weekday() < 5

    def _index(self, ordinal: int) -> int:
        i = ordinal - self._base
        if not 0 <= i < len(self._counts):
            day = dt.date.fromordinal(ordinal) if 0 < ordinal <= dt.date.max.toordinal() else ordinal
            raise ValueError(f"{day} is outside the calendar ({self.first_year}–{self.last_year})")
        return i

    # --- by date ---------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        i = self._index(day.toordinal())
        return self._counts[i] != (self._counts[i - 1] if i else 0)

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after `start` (the start day itself is not counted; n >= 1)."""
        return dt.date.fromordinal(self.add_working_days_ordinal(start.toordinal(), n))

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: how many working days `end` is after `start`."""
        if end <= start:
            return 0
        return self._counts[self._index(end.toordinal())] - self._counts[self._index(start.toordinal())]

    def known_year(self, year: int) -> bool:
        return year in self.known_years

    def provisional(self, start: dt.date, end: dt.date) -> bool:
        """Whether a span counted from `start` to `end` touches a year no notice covers."""
        return any(year not in self.known_years for year in range(start.year, end.year + 1))

    # --- by ordinal (the hot path of deadline counting) -------------------------------------

    def add_working_days_ordinal(self, start: int, n: int) -> int:
        """`add_working_days` on proleptic ordinals (`date.toordinal()`)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        index = self._counts[self._index(start)] + n - 1
        if index >= len(self._ordinals):
            raise ValueError(
                f"{dt.date.fromordinal(start)} + {n} working days is past the calendar's end ({self.last_year})"
            )
        return self._ordinals[index]

    def provisional_ordinal(self, start: int, end: int) -> bool:
        """`provisional` on ordinals; both must be inside the calendar."""
        return self._unknown_from[self._index(start)] <= end

    def span(self, start: int, n: int) -> tuple[int, bool]:
        """(the n-th working day after day `start`, whether counting it was provisional), on
        ordinals: `add_working_days_ordinal` and `provisional_ordinal` in one look-up."""
        i = start - self._base
        if n < 1 or not 0 <= i < len(self._counts):
            return self.add_working_days_ordinal(start, n), False  # raises the precise error
        index = self._counts[i] + n - 1
        if index >= len(self._ordinals):
            return self.add_working_days_ordinal(start, n), False  # raises
        last = self._ordinals[index]
        return last, self._unknown_from[i] <= last


@lru_cache(maxsize=1)
def package_calendar() -> WorkCalendar:
    """The calendar from `chinesecalendar` alone."""
    return WorkCalendar()


def _calendar(overrides: Mapping[dt.date, bool] | None) -> WorkCalendar:
    """One-off overrides correct single days; a year the package lacks becomes known."""
    if not overrides:
        return package_calendar()
    return WorkCalendar(overrides, {day.year for day in overrides} - PACKAGE_YEARS)


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
