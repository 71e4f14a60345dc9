"""The working-day calendar and the deadline policy. Pure: no database.

Expected days come from the State Council's notices for 2024–2026 (国务院办公厅关于…部分节假日
安排的通知), written out by hand, and are cross-checked against an independent copy of the
notices (the holiday-cn data set).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minyi.sla.calendar import (
    FIRST_YEAR,
    HORIZON_YEARS,
    PACKAGE_YEARS,
    WorkCalendar,
    add_working_days,
    is_working_day,
    known_year,
    working_days_between,
)
from minyi.sla.policies import TIME_LIMIT_DAYS, count_deadline, deadline, end_of_day, local_ordinal

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
ORACLE = Path("/work/shared/datasets/holidays/holiday_cn_2024_2026.csv")


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def at(text: str, tz=SHANGHAI) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz)


@pytest.mark.parametrize(
    ("day", "working", "why"),
    [
        # National Day and Mid-Autumn 2026
        ("2026-09-20", True, "Sunday, make-up working day for National Day"),
        ("2026-09-25", False, "Friday, Mid-Autumn Festival"),
        ("2026-09-26", False, "Saturday, Mid-Autumn Festival"),
        ("2026-09-27", False, "Sunday, Mid-Autumn Festival"),
        ("2026-09-30", True, "Wednesday before National Day"),
        ("2026-10-01", False, "Thursday, National Day"),
        ("2026-10-05", False, "Monday, National Day holiday"),
        ("2026-10-07", False, "Wednesday, last day of the holiday"),
        ("2026-10-08", True, "Thursday after the holiday"),
        ("2026-10-10", True, "Saturday, make-up working day for National Day"),
        ("2026-10-11", False, "plain Sunday"),
        # Spring Festival 2026
        ("2026-02-13", True, "Friday before the festival"),
        ("2026-02-14", True, "Saturday, make-up working day"),
        ("2026-02-15", False, "Sunday, first day of the holiday"),
        ("2026-02-17", False, "Tuesday, New Year's Day of the lunar calendar"),
        ("2026-02-23", False, "Monday, last day of the holiday"),
        ("2026-02-24", True, "Tuesday after the holiday"),
        ("2026-02-28", True, "Saturday, make-up working day"),
        ("2026-03-01", False, "plain Sunday"),
        # New Year 2026 (holiday Thursday to Saturday, make-up Sunday)
        ("2026-01-01", False, "New Year's Day"),
        ("2026-01-02", False, "Friday, New Year holiday"),
        ("2026-01-04", True, "Sunday, make-up working day"),
        # 2025 National Day and Mid-Autumn (eight days)
        ("2025-09-28", True, "Sunday, make-up working day"),
        ("2025-10-08", False, "Wednesday, eighth day of the holiday"),
        ("2025-10-11", True, "Saturday, make-up working day"),
        # 2024 Spring Festival and National Day
        ("2024-02-04", True, "Sunday, make-up working day"),
        ("2024-02-12", False, "Monday, Spring Festival"),
        ("2024-02-18", True, "Sunday, make-up working day"),
        ("2024-09-29", True, "Sunday, make-up working day"),
        ("2024-10-07", False, "Monday, National Day holiday"),
        ("2024-10-12", True, "Saturday, make-up working day"),
        # Plain weeks
        ("2026-03-04", True, "plain Wednesday"),
        ("2026-03-07", False, "plain Saturday"),
    ],
)
def test_is_working_day(day, working, why):
    assert is_working_day(d(day)) is working, why


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # The start day is never counted, whatever it is.
        ("2026-03-02", 1, "2026-03-03"),
        ("2026-03-06", 1, "2026-03-09"),  # Friday -> Monday
        ("2026-03-07", 1, "2026-03-09"),  # from a Saturday
        # Across National Day 2026: the holiday is skipped, the make-up Saturday counts.
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-09-30", 2, "2026-10-09"),
        ("2026-09-30", 3, "2026-10-10"),
        ("2026-09-30", 4, "2026-10-12"),
        ("2026-09-18", 1, "2026-09-20"),  # Friday -> the make-up Sunday
        ("2026-09-24", 1, "2026-09-28"),  # Thursday -> over Mid-Autumn to Monday
        # Across the Spring Festival 2026.
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-13", 2, "2026-02-24"),
        ("2026-02-13", 6, "2026-02-28"),
        ("2026-02-13", 10, "2026-03-05"),
        ("2026-02-14", 2, "2026-02-25"),
    ],
)
def test_add_working_days(start, n, expected):
    assert add_working_days(d(start), n) == d(expected)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-09-30", "2026-10-08", 1),
        ("2026-09-30", "2026-10-12", 4),
        ("2026-02-13", "2026-03-05", 10),
        ("2026-03-02", "2026-03-02", 0),
        ("2026-03-05", "2026-03-02", 0),  # end before start
        ("2026-10-01", "2026-10-07", 0),  # inside the holiday
    ],
)
def test_working_days_between(start, end, expected):
    assert working_days_between(d(start), d(end)) == expected


def test_add_working_days_needs_at_least_one_day():
    with pytest.raises(ValueError):
        add_working_days(d("2026-03-02"), 0)


# --- deadlines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "request_type", "due"),
    [
        # Consultation, 2 working days; received the day before National Day 2026.
        ("2026-09-30 10:00", "consultation", "2026-10-09 23:59:59"),
        # Complaint, 15 working days, over National Day and its make-up Saturday.
        ("2026-09-30 10:00", "complaint", "2026-10-27 23:59:59"),
        ("2026-09-30 10:00", "report", "2026-10-27 23:59:59"),
        # Help and suggestion, 10 working days, over the Spring Festival 2026 with both
        # make-up Saturdays (14 and 28 February) counted.
        ("2026-02-13 16:00", "help", "2026-03-05 23:59:59"),
        ("2026-02-13 16:00", "suggestion", "2026-03-05 23:59:59"),
        # Received on a make-up working day: that day is still not counted.
        ("2026-02-14 09:00", "consultation", "2026-02-25 23:59:59"),
        # Received during the holiday.
        ("2026-10-03 12:00", "consultation", "2026-10-09 23:59:59"),
        # A plain week.
        ("2026-03-02 09:30", "consultation", "2026-03-04 23:59:59"),
        ("2026-03-02 23:59", "complaint", "2026-03-23 23:59:59"),
    ],
)
def test_deadline(received, request_type, due):
    result = deadline(at(received), request_type)
    assert result == at(due)
    assert result.utcoffset() == dt.timedelta(hours=8)


def test_deadline_counts_from_the_day_in_shanghai_not_utc():
    # 16:30 UTC on Monday 2 March is 00:30 on Tuesday 3 March in Shenzhen.
    received = dt.datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
    assert deadline(received, "consultation") == at("2026-03-05 23:59:59")
    # Half an hour earlier it is still Monday there.
    received = dt.datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    assert deadline(received, "consultation") == at("2026-03-04 23:59:59")


@pytest.mark.parametrize("request_type", ["consultation", "help", "suggestion", "complaint", "report"])
def test_urgent_is_24_hours_whatever_the_calendar(request_type):
    received = at("2026-10-01 10:15:30")  # a public holiday
    assert deadline(received, request_type, urgent=True) == at("2026-10-02 10:15:30")
    assert deadline(received, request_type, urgent=True) - received == dt.timedelta(hours=24)


def test_time_limits():
    assert TIME_LIMIT_DAYS == {
        "consultation": 2, "help": 10, "suggestion": 10, "complaint": 15, "report": 15
    }


# --- a year without a loaded notice ----------------------------------------------------------


@pytest.mark.parametrize(("year", "known"), [(2024, True), (2025, True), (2026, True), (2027, False)])
def test_known_year(year, known):
    assert known_year(year) is known


@pytest.mark.parametrize(
    ("day", "working"),
    [("2027-03-10", True), ("2027-03-12", True), ("2027-03-13", False), ("2027-03-14", False)],
)
def test_unknown_year_falls_back_to_monday_to_friday(day, working):
    assert is_working_day(d(day)) is working


def test_unknown_year_deadline_is_still_computed():
    # Wednesday 10 March 2027 + 15 working days, Monday to Friday only.
    assert deadline(at("2027-03-10 09:00"), "complaint") == at("2027-03-31 23:59:59")
    # Across the year boundary: 2026 by the notice, 2027 by the fallback.
    assert add_working_days(d("2026-12-30"), 3) == d("2027-01-04")


def test_overrides_load_a_notice_for_an_unknown_year():
    notice = {d("2027-01-01"): False, d("2027-02-06"): True}  # a holiday, a make-up Saturday
    assert known_year(2027, notice) is True
    assert is_working_day(d("2027-01-01"), notice) is False
    assert is_working_day(d("2027-02-06"), notice) is True
    assert add_working_days(d("2026-12-31"), 1, notice) == d("2027-01-04")
    # Overrides also correct a known year.
    assert is_working_day(d("2026-03-04"), {d("2026-03-04"): False}) is False


# --- the independent oracle ------------------------------------------------------------------


def _oracle() -> dict[dt.date, bool]:
    if not ORACLE.exists():
        pytest.skip(f"holiday oracle {ORACLE} is not present; cross-check skipped")
    with ORACLE.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows, "the oracle is empty"
    return {d(row["date"]): row["isOffDay"] == "True" for row in rows}


def test_every_day_listed_in_the_oracle_agrees():
    oracle = _oracle()
    assert len(oracle) >= 100
    wrong = {day: off for day, off in oracle.items() if is_working_day(day) is off}
    assert wrong == {}


def test_every_day_of_2024_to_2026_agrees_with_the_oracle():
    """Days the notices do not list are plain: Monday to Friday work, weekends rest."""
    oracle = _oracle()
    day, wrong = d("2024-01-01"), []
    while day <= d("2026-12-31"):
        expected = (not oracle[day]) if day in oracle else day.weekday() < 5
        if is_working_day(day) is not expected:
            wrong.append(day)
        day += dt.timedelta(days=1)
    assert wrong == []


# --- properties ------------------------------------------------------------------------------

days = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2027, 12, 31))
counts = st.integers(min_value=1, max_value=40)


@settings(max_examples=200, deadline=None)
@given(start=days, n=counts)
def test_add_working_days_lands_on_a_working_day_n_days_later(start, n):
    end = add_working_days(start, n)
    assert end > start
    assert is_working_day(end)
    assert working_days_between(start, end) == n
    # No working day is skipped: the day before `end` is fewer than n working days away.
    assert working_days_between(start, end - dt.timedelta(days=1)) == n - 1


@settings(max_examples=200, deadline=None)
@given(start=days, n=counts)
def test_add_working_days_is_strictly_monotonic_in_n(start, n):
    assert add_working_days(start, n) < add_working_days(start, n + 1)


@settings(max_examples=200, deadline=None)
@given(start=days, n=counts, request_type=st.sampled_from(list(TIME_LIMIT_DAYS)))
def test_deadline_is_the_end_of_a_working_day(start, n, request_type):
    received = dt.datetime.combine(start, dt.time(n % 24, 7), tzinfo=SHANGHAI)
    due = deadline(received, request_type)
    assert due.time() == dt.time(23, 59, 59)
    assert is_working_day(due.date())
    assert working_days_between(start, due.date()) == TIME_LIMIT_DAYS[request_type]


# --- WorkCalendar: loaded notices, provisional spans, its range ------------------------------

#: A made-up notice for 2027 (the real one is not in the data set): New Year on Friday 1
#: January; a Spring Festival week with make-up Saturdays before and after it; a make-up
#: Sunday in October.
NOTICE_2027 = {
    d("2027-01-01"): False,
    d("2027-02-06"): True,  # Saturday, make-up working day
    **{d(f"2027-02-{day:02d}"): False for day in range(8, 15)},  # Monday 8 to Sunday 14
    d("2027-02-20"): True,  # Saturday, make-up working day
    d("2027-10-01"): False,
    d("2027-10-04"): False,
    d("2027-10-10"): True,  # Sunday, make-up working day
}


@pytest.fixture(scope="module")
def cal2027() -> WorkCalendar:
    return WorkCalendar(NOTICE_2027, {2027})


@pytest.mark.parametrize(
    ("day", "working", "why"),
    [
        ("2027-01-01", False, "Friday, New Year's Day"),
        ("2027-01-04", True, "plain Monday"),
        ("2027-02-05", True, "Friday before the make-up Saturday"),
        ("2027-02-06", True, "Saturday, make-up working day"),
        ("2027-02-07", False, "plain Sunday"),
        ("2027-02-08", False, "Monday, Spring Festival"),
        ("2027-02-12", False, "Friday, Spring Festival"),
        ("2027-02-15", True, "Monday after the festival"),
        ("2027-02-20", True, "Saturday, make-up working day"),
        ("2027-02-21", False, "plain Sunday"),
        ("2027-10-10", True, "Sunday, make-up working day"),
        ("2027-10-04", False, "Monday, National Day holiday"),
        ("2027-03-10", True, "plain Wednesday"),
        # The package's years are untouched by a notice for 2027.
        ("2026-10-01", False, "National Day 2026 (package)"),
        ("2026-10-10", True, "Saturday, make-up working day 2026 (package)"),
    ],
)
def test_work_calendar_with_a_2027_notice(cal2027, day, working, why):
    assert cal2027.is_working_day(d(day)) is working, why


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-12-31", 1, "2027-01-04"),  # over the New Year holiday
        ("2027-02-05", 1, "2027-02-06"),  # Friday -> the make-up Saturday
        ("2027-02-05", 2, "2027-02-15"),  # then over the festival
        ("2027-02-05", 6, "2027-02-19"),
        ("2027-02-05", 7, "2027-02-20"),  # the second make-up Saturday counts
        ("2027-02-05", 8, "2027-02-22"),
        ("2027-10-08", 1, "2027-10-10"),  # Friday -> the make-up Sunday
    ],
)
def test_work_calendar_adds_over_a_2027_notice(cal2027, start, n, expected):
    assert cal2027.add_working_days(d(start), n) == d(expected)
    assert cal2027.working_days_between(d(start), d(expected)) == n


def test_work_calendar_deadline_over_new_year_2027(cal2027):
    received = at("2026-12-28 10:00")
    # Without a notice: 15 working days Monday to Friday, and provisional.
    package = count_deadline(received, 15, WorkCalendar())
    assert package == (at("2027-01-18 23:59:59"), True)
    # With it, New Year's Day is off: one day later, and firm.
    assert count_deadline(received, 15, cal2027) == (at("2027-01-19 23:59:59"), False)


def test_a_loaded_notice_replaces_the_package_for_its_year():
    # A notice for 2026 that lists one day only: the package's other 2026 days no longer count.
    calendar = WorkCalendar({d("2026-03-04"): False}, {2026})
    assert calendar.is_working_day(d("2026-03-04")) is False
    assert calendar.is_working_day(d("2026-10-01")) is True  # a plain Thursday now
    assert calendar.is_working_day(d("2026-10-10")) is False  # a plain Saturday now
    # Without claiming the year, an override corrects that one day and keeps the rest.
    corrected = WorkCalendar({d("2026-03-04"): False})
    assert corrected.is_working_day(d("2026-03-04")) is False
    assert corrected.is_working_day(d("2026-10-01")) is False
    assert corrected.known_year(2027) is False


@pytest.mark.parametrize(
    ("start", "end", "package", "with_2027"),
    [
        ("2026-03-01", "2026-03-20", False, False),
        ("2026-12-28", "2026-12-31", False, False),
        ("2026-12-28", "2027-01-18", True, False),
        ("2027-03-01", "2027-03-20", True, False),
        ("2027-12-20", "2028-01-10", True, True),
        ("2025-12-20", "2028-01-10", True, True),  # a known year in between does not help
    ],
)
def test_provisional(cal2027, start, end, package, with_2027):
    assert WorkCalendar().provisional(d(start), d(end)) is package
    assert cal2027.provisional(d(start), d(end)) is with_2027
    assert cal2027.provisional_ordinal(d(start).toordinal(), d(end).toordinal()) is with_2027


def test_known_years():
    calendar = WorkCalendar({d("2028-01-03"): False}, {2028})
    assert calendar.known_years == PACKAGE_YEARS | {2028}
    assert not calendar.known_year(2027)
    assert calendar.last_year == 2028 + HORIZON_YEARS
    assert calendar.first_year == FIRST_YEAR == 2004


def test_range_errors():
    calendar = WorkCalendar()
    last = calendar.last_year
    assert calendar.is_working_day(d(f"{last}-12-31")) is (d(f"{last}-12-31").weekday() < 5)
    assert calendar.is_working_day(d(f"{FIRST_YEAR}-01-05")) is True
    with pytest.raises(ValueError, match="outside the calendar"):
        calendar.is_working_day(d("2003-12-31"))
    with pytest.raises(ValueError, match="outside the calendar"):
        calendar.is_working_day(dt.date(last + 1, 1, 1))
    with pytest.raises(ValueError, match="outside the calendar"):
        calendar.add_working_days(d("2003-06-01"), 1)
    with pytest.raises(ValueError, match="outside the calendar"):
        calendar.working_days_between(d("2026-01-01"), dt.date(last + 1, 1, 5))
    with pytest.raises(ValueError, match="past the calendar's end"):
        calendar.add_working_days(dt.date(last, 12, 20), 30)
    with pytest.raises(ValueError, match="at least 1"):
        calendar.add_working_days(d("2026-03-02"), 0)
    with pytest.raises(ValueError, match="outside the calendar"):
        count_deadline(at("2003-05-06 10:00"), 2, calendar)
    with pytest.raises(ValueError, match="starts in"):
        WorkCalendar({d("2000-01-03"): False}, {2000})
    # A later end on request.
    assert WorkCalendar(last_year=2045).add_working_days(d("2045-12-28"), 1) == d("2045-12-29")


def test_a_deadline_needs_an_aware_time():
    with pytest.raises(ValueError, match="aware"):
        count_deadline(dt.datetime(2026, 3, 2, 10, 0), 2, WorkCalendar())


def test_count_deadline_urgent_is_hours_and_never_provisional():
    received = at("2027-01-01 08:00")  # a year without a notice, on a holiday
    assert count_deadline(received, 15, WorkCalendar(), urgent_hours=24) == (at("2027-01-02 08:00"), False)


moments = st.datetimes(
    min_value=dt.datetime(2004, 1, 1),
    max_value=dt.datetime(2030, 12, 31),
    timezones=st.sampled_from([UTC, SHANGHAI, ZoneInfo("America/New_York")]),
)


def test_local_day_before_1992_follows_the_time_zone_rules():
    # Shanghai kept daylight saving time until 1991: 15:30 UTC on 1 July 1990 was 00:30 the
    # next day there, not 23:30.
    moment = dt.datetime(1990, 7, 1, 15, 30, tzinfo=UTC)
    assert local_ordinal(moment) == d("1990-07-02").toordinal()


@settings(max_examples=300, deadline=None)
@given(moment=moments)
def test_local_day_is_the_day_in_shanghai(moment):
    assert local_ordinal(moment) == moment.astimezone(SHANGHAI).date().toordinal()


@settings(max_examples=300, deadline=None)
@given(moment=moments, n=counts)
def test_count_deadline_agrees_with_counting_by_dates(cal2027, moment, n):
    """The fast path (ordinals, cached ends of day) gives what the plain rule gives."""
    day = moment.astimezone(SHANGHAI).date()
    last = cal2027.add_working_days(day, n)
    expected = (end_of_day(last), cal2027.provisional(day, last))
    assert count_deadline(moment, n, cal2027) == expected
