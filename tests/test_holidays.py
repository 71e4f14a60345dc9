"""Holiday notices as data: the holiday-cn parser, `minyi holidays import/list`, the admin, and
the re-counting of provisional deadlines once a year's notice arrives.

The real files come from ../shared/datasets/holidays (skipped when absent); the small ones are
written here.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from minyi.core import clock
from minyi.core.errors import InvalidInput
from minyi.sla import holidays, services
from minyi.sla.models import HolidayDay, HolidayNotice
from minyi.tickets.models import TicketEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
DATASET = Path("/work/shared/datasets/holidays")
CSV_2024_2026 = DATASET / "holiday_cn_2024_2026.csv"
JSON_FILES = [DATASET / f"holiday-cn_{year}.json" for year in (2024, 2025, 2026)]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def dataset() -> Path:
    if not CSV_2024_2026.exists() or not all(path.exists() for path in JSON_FILES):
        pytest.skip(f"the holiday data set {DATASET} is not present (a clone has no ../shared); skipped")
    return DATASET


def notice_json(year: int, days: list[tuple[str, str, object]], **extra) -> str:
    return json.dumps(
        {
            "$schema": "https://raw.githubusercontent.com/NateScarlet/holiday-cn/master/schema.json",
            "year": year,
            "papers": ["https://www.gov.cn/zhengce/example.htm"],
            "days": [{"name": name, "date": date, "isOffDay": off} for name, date, off in days],
            **extra,
        },
        ensure_ascii=False,
    )


#: A made-up notice for 2027 (the real one is not in the data set): New Year's Day and the
#: Monday after it off, Saturday 9 January a make-up working day.
NOTICE_2027 = notice_json(
    2027, [("元旦", "2027-01-01", True), ("元旦", "2027-01-04", True), ("元旦", "2027-01-09", False)]
)


def stored() -> list[tuple[int, str, list[tuple[dt.date, bool]]]]:
    return [
        (n.year, n.source, [(day.date, day.is_off_day) for day in n.days.order_by("date")])
        for n in HolidayNotice.objects.order_by("year")
    ]


def import_files(*paths: Path) -> str:
    out = io.StringIO()
    call_command("holidays", "import", *map(str, paths), stdout=out)
    return out.getvalue()


# --- the parser on the real files -----------------------------------------------------------


def test_parse_the_csv_of_2024_to_2026(dataset):
    notices = holidays.parse_csv(CSV_2024_2026.read_text(encoding="utf-8"), CSV_2024_2026.name)
    assert list(notices) == [2024, 2025, 2026]
    assert [len(n.days) for n in notices.values()] == [36, 33, 39]
    n2026 = notices[2026]
    assert n2026.source == "https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm"
    assert n2026.as_map()[d("2026-10-01")] is True
    assert n2026.as_map()[d("2026-09-20")] is False  # make-up Sunday
    assert n2026.days[0] == holidays.NoticeDay(d("2026-01-01"), "元旦", True)
    assert n2026.title == "国务院办公厅关于2026年部分节假日安排的通知"


def test_the_json_files_say_what_the_csv_says(dataset):
    from_csv = holidays.parse_csv(CSV_2024_2026.read_text(encoding="utf-8"), CSV_2024_2026.name)
    for path in JSON_FILES:
        [(year, notice)] = holidays.parse_json(path.read_text(encoding="utf-8"), path.name).items()
        assert notice.as_map() == from_csv[year].as_map()
        assert notice.source == from_csv[year].source
    merged = holidays.parse_files([CSV_2024_2026, *JSON_FILES])
    assert list(merged) == [2024, 2025, 2026]


# --- the parser's checks --------------------------------------------------------------------

GOOD_CSV = "date,name,isOffDay,source_paper\n2027-01-01,元旦,True,https://www.gov.cn/a.htm\n2027-01-09,元旦,False,https://www.gov.cn/a.htm\n"


def test_parse_small_files():
    csv_notices = holidays.parse_text(GOOD_CSV, "a.csv")
    assert csv_notices[2027].as_map() == {d("2027-01-01"): True, d("2027-01-09"): False}
    assert csv_notices[2027].source == "https://www.gov.cn/a.htm"
    # Without the optional column, with a BOM, upper/lower case booleans, a blank line.
    text = "\ufeffdate,isOffDay,name\n2027-01-01,true,元旦\n\n2027-01-01,TRUE,元旦\n"
    assert holidays.parse_text(text, "b.csv")[2027].as_map() == {d("2027-01-01"): True}
    json_notices = holidays.parse_text(NOTICE_2027, "c.json")
    assert json_notices[2027].as_map() == {d("2027-01-01"): True, d("2027-01-04"): True, d("2027-01-09"): False}


CSV_HEADER = "date,name,isOffDay,source_paper\n"
MALFORMED = [
    ("empty.csv", "", "empty.csv, line 1: the file is empty"),
    ("blank.json", "  \n", "blank.json, the document: the file is empty"),
    ("header.csv", CSV_HEADER, "header.csv, line 2: the file lists no days"),
    ("date.csv", CSV_HEADER + "2027-01-01,元旦,True,\n2027-13-01,元旦,True,\n", "date.csv, line 3: '2027-13-01' is not a date (YYYY-MM-DD)"),
    ("slash.csv", CSV_HEADER + "2027/01/01,元旦,True,\n", "slash.csv, line 2: '2027/01/01' is not a date"),
    ("flag.csv", CSV_HEADER + "2027-01-01,元旦,yes,\n", "flag.csv, line 2: isOffDay must be True or False, not 'yes'"),
    ("twice.csv", CSV_HEADER + "2027-01-01,元旦,True,\n2027-01-02,元旦,True,\n2027-01-01,元旦,False,\n",
     "twice.csv, line 4: 2027-01-01 is listed again with a different isOffDay than at line 2"),
    ("columns.csv", "date,name,isOffDay,holiday\n2027-01-01,元旦,True,x\n", "columns.csv, line 1: unknown column(s) 'holiday'"),
    ("missing.csv", "date,name\n2027-01-01,元旦\n", "missing.csv, line 1: missing column(s) isOffDay"),
    ("fields.csv", CSV_HEADER + "2027-01-01,元旦,True\n", "fields.csv, line 2: 3 fields where the header has 4"),
    ("name.csv", CSV_HEADER + "2027-01-01,,True,\n", "name.csv, line 2: the holiday's name is missing"),
    ("url.csv", CSV_HEADER + "2027-01-01,元旦,True,gov.cn\n", "url.csv, line 2: 'gov.cn' is not a web address"),
    ("syntax.json", '{"year": 2027, "days": [', "syntax.json, line 1: not valid JSON"),
    ("list.json", "[]", "list.json, the document: expected an object"),
    ("year.json", notice_json("2027", [("元旦", "2027-01-01", True)]), "year.json, year: '2027' is not a year"),
    ("bool.json", notice_json(2027, [("元旦", "2027-01-01", "false")]),
     "bool.json, days[0] (2027-01-01): isOffDay must be true or false, not 'false'"),
    ("outside.json", notice_json(2027, [("元旦", "2027-01-01", True), ("元旦", "2026-12-31", True)]),
     "outside.json, days[1] (2026-12-31): 2026-12-31 is outside the notice's year 2027"),
    ("dup.json", notice_json(2027, [("元旦", "2027-01-01", True), ("元旦", "2027-01-01", False)]),
     "dup.json, days[1] (2027-01-01): 2027-01-01 is listed again with a different isOffDay than at days[0] (2027-01-01)"),
    ("nodays.json", notice_json(2027, []), "nodays.json, days: the notice lists no days"),
    ("key.json", notice_json(2027, [("元旦", "2027-01-01", True)], extra="x"), "key.json, the document: unknown key(s) 'extra'"),
    ("old.json", notice_json(1999, [("元旦", "1999-01-01", True)]), "old.json, year: 1999 is not a year from 2004 to 2100"),
]


@pytest.mark.parametrize(("name", "text", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_files_are_refused_with_the_place(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        holidays.parse_files([path])
    assert message in str(caught.value)
    assert caught.value.code == "invalid_holiday_file"


def test_two_files_disagreeing_about_a_year_are_refused(tmp_path):
    (tmp_path / "a.csv").write_text(GOOD_CSV, encoding="utf-8")
    (tmp_path / "b.json").write_text(NOTICE_2027, encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"b.json and a.csv disagree about 2027 \(first on 2027-01-04\)"):
        holidays.parse_files([tmp_path / "a.csv", tmp_path / "b.json"])


# --- import and list ------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_the_real_files_and_the_loaded_calendar_agrees_with_them(dataset):
    out = import_files(CSV_2024_2026, *JSON_FILES)
    assert out.splitlines() == [
        "2024: loaded (28 days off, 8 make-up working days)",
        "2025: loaded (28 days off, 5 make-up working days)",
        "2026: loaded (33 days off, 6 make-up working days)",
        "Provisional deadlines re-counted: 0",
    ]
    assert HolidayNotice.objects.count() == 3
    assert HolidayDay.objects.count() == 108
    # The calendar now comes from the loaded notices (which replace the package's copy):
    # every day of 2024-2026 as the files say, weekdays otherwise.
    oracle = holidays.parse_files([CSV_2024_2026])
    off = {day: flag for notice in oracle.values() for day, flag in notice.as_map().items()}
    calendar = services.current_calendar()
    assert calendar.override_years == {2024, 2025, 2026}
    day, wrong = d("2024-01-01"), []
    while day <= d("2026-12-31"):
        expected = (not off[day]) if day in off else day.weekday() < 5
        if calendar.is_working_day(day) is not expected:
            wrong.append(day)
        day += dt.timedelta(days=1)
    assert wrong == []
    # Importing the same again changes nothing.
    before = stored()
    assert "2026: unchanged" in import_files(*JSON_FILES)
    assert stored() == before


@pytest.mark.django_db
def test_a_malformed_file_changes_nothing(tmp_path):
    (tmp_path / "good.json").write_text(NOTICE_2027, encoding="utf-8")
    (tmp_path / "old.csv").write_text(CSV_HEADER + "2028-01-03,元旦,True,\n", encoding="utf-8")
    import_files(tmp_path / "old.csv")
    before = stored()
    (tmp_path / "bad.csv").write_text(CSV_HEADER + "2028-01-03,元旦,maybe,\n", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        import_files(tmp_path / "good.json", tmp_path / "bad.csv")
    assert str(caught.value) == (
        "bad.csv, line 2: isOffDay must be True or False, not 'maybe'\nNothing was imported."
    )
    assert stored() == before  # not even the good file's 2027
    with pytest.raises(CommandError, match="nofile.json: no such file"):
        import_files(tmp_path / "nofile.json")
    assert stored() == before


@pytest.mark.django_db
def test_reimport_replaces_the_year(tmp_path):
    path = tmp_path / "2027.json"
    path.write_text(NOTICE_2027, encoding="utf-8")
    import_files(path)
    path.write_text(notice_json(2027, [("元旦", "2027-01-01", True)]), encoding="utf-8")
    assert "2027: replaced (1 days off, 0 make-up working days)" in import_files(path)
    assert stored() == [(2027, "https://www.gov.cn/zhengce/example.htm", [(d("2027-01-01"), True)])]


# --- provisional deadlines are re-counted ---------------------------------------------------


@pytest.fixture
def december_ticket(new_ticket):
    """A complaint taken in, dispatched and signed on Monday 28 December 2026: its 15 working
    days reach into 2027, which has no notice yet."""
    with clock.frozen_at(at("2026-12-28 10:00")):
        ticket = new_ticket("in_progress")
    return ticket


@pytest.mark.django_db
def test_importing_next_years_notice_recounts_provisional_deadlines(tmp_path, december_ticket, new_ticket):
    ticket = december_ticket
    # Weekdays only over New Year 2027: 29-31 December, then 4-8, 11-15 and 18 January.
    assert (ticket.due_at, ticket.due_provisional) == (at("2027-01-18 23:59:59"), True)
    assert (ticket.unit_due_at, ticket.unit_due_provisional) == (at("2027-01-18 23:59:59"), True)
    with clock.frozen_at(at("2026-12-28 11:00")):
        firm = new_ticket("in_progress", type="consultation")  # 29 and 30 December: firm
    assert firm.due_provisional is False
    firm_events = firm.events.count()

    with clock.frozen_at(at("2026-12-29 09:00")):
        out = io.StringIO()
        call_command("holidays", "list", stdout=out)
        assert "No notice for 2027" in out.getvalue()
        assert f"Open tickets with a provisional deadline: 1\n  {ticket.number}  requester's 2027-01-18, unit's 2027-01-18" in out.getvalue()

        path = tmp_path / "holiday-cn_2027.json"
        path.write_text(NOTICE_2027, encoding="utf-8")
        assert import_files(path).splitlines() == [
            "2027: loaded (2 days off, 1 make-up working days)",
            "Provisional deadlines re-counted: 1",
        ]

    ticket.refresh_from_db()
    # 29-31 December, 5-8 January, Saturday 9th (make-up), 11-15, 18 and 19 January.
    assert (ticket.due_at, ticket.due_provisional) == (at("2027-01-19 23:59:59"), False)
    assert (ticket.unit_due_at, ticket.unit_due_provisional) == (at("2027-01-19 23:59:59"), False)
    [event] = TicketEvent.objects.filter(ticket=ticket, kind="deadline_recounted")
    assert (event.actor_role, event.created_at, event.public) == ("system", at("2026-12-29 09:00"), True)
    moments = {key: dt.datetime.fromisoformat(value) for key, value in event.data.items() if key != "provisional"}
    assert moments == {
        "old_due_at": at("2027-01-18 23:59:59"),
        "due_at": at("2027-01-19 23:59:59"),
        "unit_due_at": at("2027-01-19 23:59:59"),
    }
    assert event.data["provisional"] is False
    assert firm.events.count() == firm_events  # a firm deadline is left alone

    out = io.StringIO()
    with clock.frozen_at(at("2026-12-29 09:00")):
        call_command("holidays", "list", stdout=out)
    assert "  2027: 2 days off, 1 make-up working days" in out.getvalue()
    assert "No notice for" not in out.getvalue()
    assert "Open tickets with a provisional deadline: 0" in out.getvalue()
    # Loading it again re-counts nothing more.
    with clock.frozen_at(at("2026-12-29 10:00")):
        assert import_files(path).splitlines()[-1] == "Provisional deadlines re-counted: 0"
    assert TicketEvent.objects.filter(ticket=ticket, kind="deadline_recounted").count() == 1


@pytest.mark.django_db
def test_saving_a_notice_in_the_admin_recounts(client, december_ticket):
    admin = User.objects.create_superuser("root", password="pw-for-tests-1")
    client.force_login(admin)
    form = {
        "year": "2027", "title": "国务院办公厅关于2027年部分节假日安排的通知", "source": "",
        "days-TOTAL_FORMS": "2", "days-INITIAL_FORMS": "0", "days-MIN_NUM_FORMS": "0", "days-MAX_NUM_FORMS": "1000",
        "days-0-date": "2027-01-01", "days-0-name": "元旦", "days-0-is_off_day": "on",
        "days-1-date": "2026-12-31", "days-1-name": "元旦", "days-1-is_off_day": "on",
    }
    with clock.frozen_at(at("2026-12-29 09:00")):
        # A day outside the notice's year is refused, and nothing is saved.
        response = client.post("/admin/sla/holidaynotice/add/", form)
        assert response.status_code == 200
        [days] = response.context["inline_admin_formsets"]
        message = _("%(day)s is not in the notice's year %(year)s.") % {"day": d("2026-12-31"), "year": 2027}
        assert days.formset.errors[1] == {"date": [message]}
        assert HolidayNotice.objects.count() == 0

        form.update({"days-1-date": "2027-01-09", "days-1-is_off_day": ""})
        response = client.post("/admin/sla/holidaynotice/add/", form)
        assert response.status_code == 302, response.content.decode()[:2000]

    assert stored() == [(2027, "", [(d("2027-01-01"), True), (d("2027-01-09"), False)])]
    december_ticket.refresh_from_db()
    # New Year's Day off, the make-up Saturday on: one day each way, the 18th again, but firm.
    assert (december_ticket.due_at, december_ticket.due_provisional) == (at("2027-01-18 23:59:59"), False)
    assert TicketEvent.objects.filter(ticket=december_ticket, kind="deadline_recounted").count() == 1


@pytest.mark.django_db
def test_the_admin_pages_of_time_limits_and_supervision_open(client):
    admin = User.objects.create_superuser("root", password="pw-for-tests-1")
    client.force_login(admin)
    for model in ("sla/holidaynotice", "sla/timelimitpolicy", "sla/extensionreason", "sla/extension",
                  "sla/stagedplan", "supervision/supervisionlevel", "supervision/supervisionorder"):
        assert client.get(f"/admin/{model}/").status_code == 200, model
    # Decisions are records: no adding them by hand.
    assert client.get("/admin/sla/extension/add/").status_code == 403
    assert client.get("/admin/supervision/supervisionorder/add/").status_code == 403


@pytest.mark.django_db
def test_the_morning_check_warns_while_next_years_notice_is_missing(tmp_path, caplog):
    from minyi.sla.tasks import holiday_notice_check

    with clock.frozen_at(at("2026-10-15 09:00")):
        assert holiday_notice_check.call_local() == []  # 60 days ahead is still 2026
    with clock.frozen_at(at("2026-12-01 09:00")), caplog.at_level("WARNING", logger="minyi.sla.tasks"):
        assert holiday_notice_check.call_local() == [2027]
        assert "no holiday notice for 2027" in caplog.text
        path = tmp_path / "2027.json"
        path.write_text(NOTICE_2027, encoding="utf-8")
        import_files(path)
        assert holiday_notice_check.call_local() == []


# --- the console script ----------------------------------------------------------------------


def test_the_command_line_reports_a_bad_file_on_stderr_and_fails(tmp_path):
    """`minyi holidays import` as an administrator runs it, on a fresh SQLite database."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({"MINYI_DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "test-only", "DEBUG": "0"})

    def minyi(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-m", "minyi.cli", *args], env=env, capture_output=True, text=True, timeout=120
        )

    assert minyi("migrate", "-v0").returncode == 0
    (tmp_path / "bad.json").write_text(notice_json(2027, [("元旦", "2027-01-01", "yes")]), encoding="utf-8")
    (tmp_path / "good.json").write_text(NOTICE_2027, encoding="utf-8")
    bad = minyi("holidays", "import", str(tmp_path / "good.json"), str(tmp_path / "bad.json"))
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert "bad.json, days[0] (2027-01-01): isOffDay must be true or false, not 'yes'" in bad.stderr
    assert "Nothing was imported." in bad.stderr
    assert "Loaded notices:\n  none" in minyi("holidays", "list").stdout
    good = minyi("holidays", "import", str(tmp_path / "good.json"))
    assert (good.returncode, good.stdout.splitlines()[0]) == (0, "2027: loaded (2 days off, 1 make-up working days)")
    assert "  2027: 2 days off, 1 make-up working days" in minyi("holidays", "list").stdout
