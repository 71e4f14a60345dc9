"""Working time on whole epoch seconds, for generating millions of timelines quickly.

The generator keeps every moment as an integer number of seconds since the epoch (UTC) and
counts in Asia/Shanghai, which has kept UTC+8 without daylight saving since 1991, so the local
day of a moment is plain arithmetic. `WorkTime` copies the working days of a `WorkCalendar`
(holiday notices and make-up working days included) for the generated span into lists and
answers, in constant time:

- the deadline rule of `minyi.sla.policies.count_deadline` (the receipt day is not counted;
  23:59:59 on the last working day), and whether counting it touched a year no notice covers;
- the dispatch clocks of `minyi.dispatch.timing` (minutes of office time, 09:00–18:00 on
  working days, e.g. the sign-for time and the return window);
- when someone acts after some hours of *their* open time: units in office hours
  (08:30–12:00, 14:00–18:00 on working days, as the demo history has them), the platform
  08:00–22:00 every day, requesters 07:30–22:30.

Each kind of open time is a running count of open seconds (`*_clock`) and its inverse
(`*_at`): "x open seconds after s" is `at(clock(s) + x)`, no loop over days. Pure: no
database; tests compare it with the real functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

DAY = 86_400
HOUR = 3_600
LOCAL_OFFSET = 8 * HOUR  # Asia/Shanghai
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

#: Units' office hours as the demo history has them: 08:30–12:00 and 14:00–18:00.
OFFICE_SPANS = ((8 * HOUR + 1800, 12 * HOUR), (14 * HOUR, 18 * HOUR))
#: The platform's staff: 08:00–22:00 every day.
PLATFORM_SPAN = (8 * HOUR, 22 * HOUR)
#: When requesters rate: 07:30–22:30 every day.
WAKING_SPAN = (7 * HOUR + 1800, 22 * HOUR + 1800)


def local_day(moment: int) -> int:
    """Days since 1970-01-01 of the Asia/Shanghai date of `moment`."""
    return (moment + LOCAL_OFFSET) // DAY


def day_start(day: int) -> int:
    """00:00 Asia/Shanghai of local day `day`, as epoch seconds."""
    return day * DAY - LOCAL_OFFSET


def end_of_day(day: int) -> int:
    """23:59:59 Asia/Shanghai of local day `day` (a deadline)."""
    return day * DAY - LOCAL_OFFSET + DAY - 1


def to_date(day: int) -> dt.date:
    return dt.date.fromordinal(day + EPOCH_ORDINAL)


def from_date(day: dt.date) -> int:
    return day.toordinal() - EPOCH_ORDINAL


def from_datetime(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def to_datetime(moment: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(moment, tz=dt.UTC)


class WorkTime:
    """Working days from `first` to `last` (local days, inclusive) of a calendar."""

    def __init__(self, calendar: Any, first: int, last: int, *, office_hours: tuple[int, int] = (9, 18)) -> None:
        self.first, self.last = first, last
        working: list[bool] = []
        counts: list[int] = []  # working days on or before each day of the range
        days: list[int] = []  # the working days, in order
        for day in range(first, last + 1):
            works = bool(calendar.is_working_day(to_date(day)))
            working.append(works)
            if works:
                days.append(day)
            counts.append(len(days))
        unknown_from = [last + 1] * len(counts)  # the first day on or after, in a year no notice covers
        following = last + 1
        for i in range(len(counts) - 1, -1, -1):
            if not calendar.known_year(to_date(first + i).year):
                following = first + i
            unknown_from[i] = following
        self.working, self.counts, self.days, self.unknown_from = working, counts, days, unknown_from
        start, end = office_hours
        self.dispatch_open, self.dispatch_close = start * HOUR, end * HOUR

    # --- days --------------------------------------------------------------------------------

    def index(self, day: int) -> int:
        i = day - self.first
        if not 0 <= i < len(self.counts):
            raise ValueError(f"{to_date(day)} is outside the generated span ({to_date(self.first)}–{to_date(self.last)})")
        return i

    def is_working(self, day: int) -> bool:
        return self.working[self.index(day)]

    def add_working_days(self, day: int, n: int) -> int:
        """The n-th working day after `day` (not counting `day`), n >= 1."""
        return self.days[self.counts[self._i(day)] + n - 1]

    def working_days_between(self, start: int, end: int) -> int:
        return self.counts[self.index(end)] - self.counts[self.index(start)] if end > start else 0

    def deadline(self, received: int, working_days: int) -> tuple[int, bool]:
        """(deadline, provisional) of a limit counted from `received` (count_deadline's rule)."""
        i = self._i((received + LOCAL_OFFSET) // DAY)
        last = self.days[self.counts[i] + working_days - 1]
        return end_of_day(last), self.unknown_from[i] <= last

    def extend(self, due: int, working_days: int) -> tuple[int, bool]:
        """A deadline moved `working_days` later (`minyi.sla.actions.extend`)."""
        start = local_day(due)
        last = self.add_working_days(start, working_days)
        return end_of_day(last), self.unknown_from[self.index(start)] <= last

    # --- open time as running counts --------------------------------------------------------

    def _i(self, day: int) -> int:
        i = day - self.first
        if i < 0 or i >= len(self.counts):
            self.index(day)  # raises the precise error
        return i

    def dispatch_clock(self, moment: int) -> int:
        """Seconds of dispatch office time (09:00–18:00 on working days) before `moment`."""
        day = (moment + LOCAL_OFFSET) // DAY
        i = self._i(day)
        opens, closes = self.dispatch_open, self.dispatch_close
        if not self.working[i]:
            return self.counts[i] * (closes - opens)
        tod = moment + LOCAL_OFFSET - day * DAY
        inside = 0 if tod <= opens else (tod if tod < closes else closes) - opens
        return (self.counts[i] - 1) * (closes - opens) + inside

    def dispatch_at(self, clock: int) -> int:
        """The moment `clock` seconds of dispatch office time have passed (a period that ends
        exactly at closing time ends then, not at the next opening: `office_deadline`)."""
        length = self.dispatch_close - self.dispatch_open
        k, rest = divmod(max(clock, 1) - 1, length)
        return self.days[k] * DAY - LOCAL_OFFSET + self.dispatch_open + rest + 1

    def office_clock(self, moment: int) -> int:
        """Seconds of the units' office time (OFFICE_SPANS on working days) before `moment`."""
        day = (moment + LOCAL_OFFSET) // DAY
        i = self._i(day)
        if not self.working[i]:
            return self.counts[i] * OFFICE_SECONDS
        seconds = (self.counts[i] - 1) * OFFICE_SECONDS
        tod = moment + LOCAL_OFFSET - day * DAY
        for start, end in OFFICE_SPANS:
            if tod > start:
                seconds += (tod if tod < end else end) - start
        return seconds

    def office_at(self, clock: int) -> int:
        k, rest = divmod(clock, OFFICE_SECONDS)
        first = OFFICE_SPANS[0][1] - OFFICE_SPANS[0][0]
        tod = OFFICE_SPANS[0][0] + rest if rest < first else OFFICE_SPANS[1][0] + rest - first
        return day_start(self.days[k]) + tod

    def after_office(self, moment: int, seconds: float) -> int:
        return self.office_at(self.office_clock(moment) + int(seconds))


OFFICE_SECONDS = sum(end - start for start, end in OFFICE_SPANS)


def daily_clock(span: tuple[int, int]) -> tuple[Callable[[int], int], Callable[[int], int]]:
    """(clock, at) of open time that is the same every day (`span`, seconds of the day)."""
    start, end = span
    length = end - start

    def clock(moment: int) -> int:
        day, tod = divmod(moment + LOCAL_OFFSET, DAY)
        return day * length + min(max(tod - start, 0), length)

    def at(value: int) -> int:
        day, rest = divmod(value, length)
        return day_start(day) + start + rest

    return clock, at


platform_clock, platform_at = daily_clock(PLATFORM_SPAN)
waking_clock, waking_at = daily_clock(WAKING_SPAN)


def after_platform(moment: int, seconds: float) -> int:
    """`seconds` of the platform's hours (08:00–22:00 every day) after `moment`."""
    return platform_at(platform_clock(moment) + int(seconds))


def after_waking(moment: int, seconds: float) -> int:
    return waking_at(waking_clock(moment) + int(seconds))
