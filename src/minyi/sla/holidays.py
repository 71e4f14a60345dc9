"""Holiday notices as data: read the holiday-cn files, load them into the database.

Two formats, both from NateScarlet/holiday-cn:

- CSV with the columns ``date,name,isOffDay[,source_paper]``, any number of years (a day
  belongs to the notice of its own year);
- JSON ``{"year": 2026, "papers": [...], "days": [{"name", "date", "isOffDay"}]}``, one year.

The parser is pure and strict: every problem raises `InvalidInput` naming the file and the line
or entry. `load_notices` writes the parsed notices (all of them in one transaction), then
re-counts the provisional deadlines on the new calendar.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from minyi.core.errors import InvalidInput
from minyi.sla import actions, services
from minyi.sla.calendar import FIRST_YEAR
from minyi.sla.models import HolidayDay, HolidayNotice

LAST_YEAR = 2100
NAME_MAX = 40  # HolidayDay.name
SOURCE_MAX = 300  # HolidayNotice.source
CSV_REQUIRED = ("date", "name", "isOffDay")
CSV_COLUMNS = (*CSV_REQUIRED, "source_paper")
JSON_KEYS = frozenset({"year", "papers", "days"})
JSON_DAY_KEYS = frozenset({"name", "date", "isOffDay"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_url = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class NoticeDay:
    date: dt.date
    name: str
    is_off_day: bool  # True: a public holiday; False: a make-up working day (调休)


@dataclass(frozen=True)
class Notice:
    """One year's notice: the days it changes, where it was published, which file said so."""

    year: int
    days: tuple[NoticeDay, ...]
    source: str = ""
    origin: str = ""

    @property
    def title(self) -> str:
        return f"国务院办公厅关于{self.year}年部分节假日安排的通知"

    def as_map(self) -> dict[dt.date, bool]:
        """date -> is it a day off."""
        return {day.date: day.is_off_day for day in self.days}


def _error(origin: str, where: str, message: str) -> InvalidInput:
    return InvalidInput(f"{origin}, {where}: {message}", "invalid_holiday_file")


def _date(value: Any, origin: str, where: str) -> dt.date:
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        raise _error(origin, where, f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise _error(origin, where, f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise _error(origin, where, f"{day} is outside the years the calendar handles ({FIRST_YEAR}–{LAST_YEAR})")
    return day


def _name(value: Any, origin: str, where: str) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise _error(origin, where, "the holiday's name is missing")
    if len(name) > NAME_MAX:
        raise _error(origin, where, f"the holiday's name is longer than {NAME_MAX} characters")
    return name


def _source(value: Any, origin: str, where: str) -> str:
    source = value.strip() if isinstance(value, str) else ""
    if not source:
        return ""
    try:
        _url(source)
    except ValidationError:
        raise _error(origin, where, f"{source!r} is not a web address") from None
    if len(source) > SOURCE_MAX:
        raise _error(origin, where, f"the source is longer than {SOURCE_MAX} characters")
    return source


def _add_day(
    seen: dict[dt.date, tuple[NoticeDay, str]], day: NoticeDay, origin: str, where: str
) -> None:
    """Keep one row per date; the same date twice must say the same thing."""
    if day.date in seen:
        first, first_where = seen[day.date]
        if first.is_off_day != day.is_off_day:
            raise _error(
                origin, where,
                f"{day.date} is listed again with a different isOffDay than at {first_where}",
            )
        return
    seen[day.date] = (day, where)


def _notices(seen: dict[dt.date, tuple[NoticeDay, str]], sources: dict[int, str], origin: str) -> dict[int, Notice]:
    years: dict[int, list[NoticeDay]] = {}
    for day, _where in seen.values():
        years.setdefault(day.date.year, []).append(day)
    return {
        year: Notice(year, tuple(sorted(days, key=lambda d: d.date)), sources.get(year, ""), origin)
        for year, days in sorted(years.items())
    }


def parse_csv(text: str, origin: str = "CSV") -> dict[int, Notice]:
    """Notices from holiday-cn's CSV (`date,name,isOffDay,source_paper`), by year."""
    if not text.strip():
        raise _error(origin, "line 1", "the file is empty")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [column.strip() for column in next(reader)]
    except csv.Error as exc:
        raise _error(origin, "line 1", f"not a CSV file ({exc})") from None
    unknown = [column for column in header if column not in CSV_COLUMNS]
    if unknown:
        raise _error(
            origin, "line 1",
            f"unknown column(s) {', '.join(map(repr, unknown))}; expected {', '.join(CSV_COLUMNS)}",
        )
    missing = [column for column in CSV_REQUIRED if column not in header]
    if missing:
        raise _error(origin, "line 1", f"missing column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise _error(origin, "line 1", "a column is named twice")
    seen: dict[dt.date, tuple[NoticeDay, str]] = {}
    sources: dict[int, str] = {}
    try:
        for row in reader:
            where = f"line {reader.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise _error(origin, where, f"{len(row)} fields where the header has {len(header)}")
            cells = dict(zip(header, row, strict=True))
            day = _date(cells["date"], origin, where)
            flag = cells["isOffDay"].strip()
            if flag.lower() not in ("true", "false"):
                raise _error(origin, where, f"isOffDay must be True or False, not {flag!r}")
            name = _name(cells["name"], origin, where)
            source = _source(cells.get("source_paper", ""), origin, where)
            if source:
                sources.setdefault(day.year, source)
            _add_day(seen, NoticeDay(day, name, flag.lower() == "true"), origin, where)
    except csv.Error as exc:
        raise _error(origin, f"line {reader.line_num}", f"not valid CSV ({exc})") from None
    if not seen:
        raise _error(origin, "line 2", "the file lists no days")
    return _notices(seen, sources, origin)


def parse_json(text: str, origin: str = "JSON") -> dict[int, Notice]:
    """One year's notice from holiday-cn's JSON (`year`, `papers`, `days`)."""
    if not text.strip():
        raise _error(origin, "the document", "the file is empty")
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise _error(origin, f"line {exc.lineno}", f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise _error(origin, "the document", "expected an object with year, papers and days")
    unknown = sorted(key for key in data if key not in JSON_KEYS and not str(key).startswith("$"))
    if unknown:
        raise _error(origin, "the document", f"unknown key(s) {', '.join(map(repr, unknown))}")
    year = data.get("year")
    if type(year) is not int or not FIRST_YEAR <= year <= LAST_YEAR:
        raise _error(origin, "year", f"{year!r} is not a year from {FIRST_YEAR} to {LAST_YEAR}")
    papers = data.get("papers", [])
    if not isinstance(papers, list) or not all(isinstance(p, str) for p in papers):
        raise _error(origin, "papers", "expected a list of web addresses")
    sources = [_source(paper, origin, f"papers[{i}]") for i, paper in enumerate(papers)]
    days = data.get("days")
    if not isinstance(days, list):
        raise _error(origin, "days", "expected a list of days")
    if not days:
        raise _error(origin, "days", "the notice lists no days")
    seen: dict[dt.date, tuple[NoticeDay, str]] = {}
    for i, entry in enumerate(days):
        where = f"days[{i}]"
        if not isinstance(entry, dict):
            raise _error(origin, where, "expected an object with name, date and isOffDay")
        extra = sorted(str(key) for key in entry if key not in JSON_DAY_KEYS)
        if extra:
            raise _error(origin, where, f"unknown key(s) {', '.join(map(repr, extra))}")
        day = _date(entry.get("date"), origin, where)
        where = f"days[{i}] ({day})"
        if day.year != year:
            raise _error(origin, where, f"{day} is outside the notice's year {year}")
        flag = entry.get("isOffDay")
        if type(flag) is not bool:
            raise _error(origin, where, f"isOffDay must be true or false, not {flag!r}")
        _add_day(seen, NoticeDay(day, _name(entry.get("name"), origin, where), flag), origin, where)
    return _notices(seen, {year: next((s for s in sources if s), "")}, origin)


def parse_text(text: str, origin: str) -> dict[int, Notice]:
    """Either format: JSON when the text is an object, CSV otherwise."""
    if text.lstrip("\ufeff \t\r\n").startswith("{"):
        return parse_json(text, origin)
    return parse_csv(text, origin)


def merge(parsed: Iterable[Mapping[int, Notice]]) -> dict[int, Notice]:
    """One notice per year from several files; two files may repeat a year only identically."""
    merged: dict[int, Notice] = {}
    for notices in parsed:
        for year, notice in notices.items():
            other = merged.get(year)
            if other is None:
                merged[year] = notice
                continue
            theirs, ours = other.as_map(), notice.as_map()
            if theirs != ours:
                day = min(set(theirs) ^ set(ours) | {d for d in theirs if d in ours and theirs[d] != ours[d]})
                raise InvalidInput(
                    f"{notice.origin} and {other.origin} disagree about {year} (first on {day}); "
                    "import one of them",
                    "invalid_holiday_file",
                )
            if not other.source and notice.source:
                merged[year] = notice
    return dict(sorted(merged.items()))


def parse_files(paths: Iterable[str | Path]) -> dict[int, Notice]:
    """Read and check every file before anything is written."""
    parsed = []
    for path in map(Path, paths):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InvalidInput(f"{path}: no such file", "invalid_holiday_file") from None
        except UnicodeDecodeError:
            raise InvalidInput(f"{path}: not a UTF-8 text file", "invalid_holiday_file") from None
        except OSError as exc:
            raise InvalidInput(f"{path}: cannot be read ({exc.strerror})", "invalid_holiday_file") from None
        if path.suffix.lower() == ".json":
            parsed.append(parse_json(text, path.name))
        elif path.suffix.lower() == ".csv":
            parsed.append(parse_csv(text, path.name))
        else:
            parsed.append(parse_text(text, path.name))
    return merge(parsed)


# --- the database ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    created: tuple[int, ...]  # years loaded for the first time
    replaced: tuple[int, ...]  # years whose stored notice changed
    unchanged: tuple[int, ...]  # years stored exactly like this already
    days: int  # days written
    recounted: int  # open tickets whose provisional deadline was re-counted


def load_notices(parsed: Mapping[int, Notice] | Iterable[Notice]) -> LoadResult:
    """Store the notices, replacing each year's notice and days (all years in one
    transaction), then re-count the open provisional deadlines on the new calendar."""
    notices = list(parsed.values()) if isinstance(parsed, Mapping) else list(parsed)
    if len({n.year for n in notices}) != len(notices):
        raise InvalidInput("a year is given twice; merge the notices first", "invalid_holiday_file")
    created, replaced, unchanged, days = [], [], [], 0
    with transaction.atomic():
        for notice in sorted(notices, key=lambda n: n.year):
            row = HolidayNotice.objects.select_for_update().filter(year=notice.year).first()
            if row is not None:
                stored = {(d.date, d.name, d.is_off_day) for d in row.days.all()}
                wanted = {(d.date, d.name, d.is_off_day) for d in notice.days}
                if stored == wanted and (row.title, row.source) == (notice.title, notice.source):
                    unchanged.append(notice.year)
                    continue
                row.days.all().delete()
                row.title, row.source = notice.title, notice.source
                row.save()
                replaced.append(notice.year)
            else:
                row = HolidayNotice.objects.create(year=notice.year, title=notice.title, source=notice.source)
                created.append(notice.year)
            HolidayDay.objects.bulk_create(
                [HolidayDay(notice=row, date=d.date, name=d.name, is_off_day=d.is_off_day) for d in notice.days]
            )
            days += len(notice.days)
    recounted = notices_changed()
    return LoadResult(tuple(created), tuple(replaced), tuple(unchanged), days, recounted)


def notices_changed() -> int:
    """After the notices changed (an import, the admin): forget the calendar this process
    read, and re-count the open provisional deadlines on the new one. Returns how many
    tickets were re-counted. Other processes see the change within
    MINYI_CALENDAR_RECHECK_SECONDS."""
    services.invalidate_calendar()
    transaction.on_commit(services.invalidate_calendar)
    return actions.recompute_provisional_deadlines()
