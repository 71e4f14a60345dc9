"""`minyi generate`: realistic tickets in bulk (COPY on PostgreSQL, executemany on SQLite).

One generation of 2,000 tickets over 90 days is shared by the module (inside a transaction
rolled back at the end); the figures of the seed are checked on a larger sample rendered in
memory (same code, no database writes). Every test asks for `db`, so pytest-django runs them
before the transactional tests that flush the rows the migrations create.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F, Max

from minyi.core import clock
from minyi.dispatch.timing import dispatch_clocks
from minyi.feedback.models import RatingReview
from minyi.generate import runner, store, worktime
from minyi.generate.rows import GENERATED_MARK, sqlite_rows
from minyi.org.actors import actor_for_user
from minyi.org.models import Role
from minyi.privacy import crypto
from minyi.sla import services
from minyi.sla.jobs import scan
from minyi.sla.models import Extension
from minyi.sla.policies import SHANGHAI
from minyi.supervision.models import SupervisionOrder
from minyi.tickets import actions
from minyi.tickets.codes import next_number
from minyi.tickets.models import DailySequence, Reply, Ticket, TicketEvent, TicketRating

NOW = dt.datetime(2026, 6, 10, 10, 0, tzinfo=SHANGHAI)  # a Wednesday morning
N = 2000
DAYS = 90


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """2,000 generated tickets, kept for the module's tests and rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        summary = runner.run(
            runner.Options(tickets=N, days=DAYS, seed=7, now=NOW, workers=0, progress=False, per_place=4),
            report=lambda _line: None,
        )
        yield summary
        transaction.set_rollback(True)


def ticket_rows():
    return Ticket.objects.filter(access_code_hash=GENERATED_MARK)


# --- counts, numbers, the mix ----------------------------------------------------------------


def test_counts_match_the_summary(generated, db):
    assert generated.tickets == N
    assert ticket_rows().count() == N
    models = {"event": TicketEvent, "reply": Reply, "rating": TicketRating, "extension": Extension,
              "order": SupervisionOrder, "review": RatingReview}
    for key, model in models.items():
        assert model.objects.filter(ticket__access_code_hash=GENERATED_MARK).count() == generated.rows[key], key
    # Foreign keys hold (PostgreSQL checks the deferred constraints now, SQLite its foreign key list).
    connection.check_constraints()


def test_numbers_are_unique_per_day_and_the_daily_sequence_is_ahead(generated, db):
    numbers = list(ticket_rows().values_list("number", "created_at"))
    assert len({n for n, _ in numbers}) == N
    last: dict[str, int] = defaultdict(int)
    for number, created in numbers:
        day, seq = number.split("-")
        assert re.fullmatch(r"\d{8}", day) and re.fullmatch(r"\d{6}", seq)
        assert day == created.astimezone(SHANGHAI).strftime("%Y%m%d")  # the local day of submission
        last[day] = max(last[day], int(seq))
    sequences = {d.strftime("%Y%m%d"): v for d, v in DailySequence.objects.values_list("day", "last")}
    assert all(sequences[day] >= seq for day, seq in last.items())
    # Within a day, numbers follow the time of submission.
    by_day = defaultdict(list)
    for number, created in sorted(numbers):
        by_day[number[:8]].append(created)
    assert all(times == sorted(times) for times in by_day.values())
    # A ticket taken in now gets a fresh number of its day.
    busiest = max(last, key=last.get)
    with transaction.atomic():
        fresh = next_number(dt.datetime.strptime(busiest, "%Y%m%d").date())
    assert int(fresh.split("-")[1]) > last[busiest]


def test_mix_of_states_types_channels_and_requesters(generated, db):
    status = Counter(ticket_rows().values_list("status", flat=True))
    share = {k: v / N for k, v in status.items()}
    # Mostly closed; a realistic open inventory for the last weeks of a 90-day history.
    assert 0.88 <= share["closed"] <= 0.97
    assert 0.02 <= share.get("in_progress", 0) <= 0.08
    assert 0.005 <= share.get("replied", 0) <= 0.05
    assert share.get("submitted", 0) + share.get("dispatched", 0) <= 0.02
    types = Counter(ticket_rows().values_list("type", flat=True))
    assert 0.33 <= types["consultation"] / N <= 0.50  # citizens 35%, enterprises mostly ask
    assert 0.20 <= types["complaint"] / N <= 0.33
    channels = Counter(ticket_rows().values_list("channel", flat=True))
    assert 0.42 <= channels["hotline"] / N <= 0.56
    enterprise = ticket_rows().filter(requester_kind="enterprise")
    assert 0.10 <= enterprise.count() / N <= 0.17
    assert not enterprise.filter(anonymous=True).exists()
    assert not enterprise.exclude(enterprise_credit_code__regex=r"^91440300[0-9A-Z]{10}$").exists()
    anonymous = ticket_rows().filter(anonymous=True)
    assert 0.20 <= anonymous.count() / N <= 0.35
    assert not anonymous.exclude(requester_name="").exists()
    # Every district is represented; streets belong to their district.
    assert ticket_rows().values("district").distinct().count() == 10
    for ticket in ticket_rows().exclude(street=None).select_related("street")[:200]:
        assert ticket.street.parent_id == ticket.district_id
    # Texts are the demo's, in Chinese, with no template placeholder left.
    for title, text in ticket_rows().values_list("title", "text")[:300]:
        assert "{" not in title + text and re.search(r"[\u4e00-\u9fff]", title)


# --- timelines --------------------------------------------------------------------------------


def test_every_timeline_is_consistent(generated, db):
    events = defaultdict(list)
    rows = TicketEvent.objects.filter(ticket__access_code_hash=GENERATED_MARK).order_by("created_at", "id")
    for ticket_id, kind, before, after, at in rows.values_list("ticket_id", "kind", "from_status", "to_status", "created_at"):
        events[ticket_id].append((kind, before, after, at))
    statuses = dict(ticket_rows().values_list("id", "status"))
    assert set(events) == set(statuses)
    for ticket_id, timeline in events.items():
        assert timeline[0][:3] == ("submit", "", "submitted")
        for (_k, _b, after, at), (_k2, before, _a2, at2) in zip(timeline, timeline[1:], strict=False):
            assert before == after, timeline
            assert at2 > at, timeline
        assert timeline[-1][2] == statuses[ticket_id], timeline


def test_ticket_fields_follow_the_timeline(generated, db):
    for t in ticket_rows().prefetch_related("events", "replies"):
        kinds = [e.kind for e in t.events.all()]
        assert (t.closed_at is not None) == (t.status == "closed")
        if "direct_answer" in kinds:
            assert t.dispatched_at is None and t.replied_at == t.closed_at and t.replies.get().direct
        if t.dispatched_at is not None:
            assert t.lead_unit_id and t.sign_due_at and t.return_due_at and t.unit_due_at
            dispatches = [e for e in t.events.all() if e.kind == "dispatch"]
            assert dispatches[-1].created_at == t.dispatched_at and dispatches[-1].unit_id == t.lead_unit_id
        if t.signed_at is not None:
            assert t.signed_late == (t.signed_at > t.sign_due_at)
        published = [r for r in t.replies.all() if r.state == "published"]
        if t.status in ("replied", "under_review", "closed"):
            assert published and t.replied_at == max(r.published_at or r.created_at for r in published)
        if t.status == "replied":
            assert t.rating_due_at is not None and t.replied_at < t.rating_due_at
        if t.redo_count:
            assert t.escalated and "review" in kinds


def test_clocks_are_counted_as_the_platform_counts_them(generated, db):
    """Deadlines, dispatch clocks and rating windows against the real functions."""
    checked, limits = 0, {}
    sample = ticket_rows().exclude(dispatched_at=None).filter(redo_count=0, extended_days=0).select_related("category")
    for t in sample.order_by("?")[:400]:
        key = (t.type, t.category_id)
        if key not in limits:
            limits[key] = services.policy_for(t.type, t.category)
        days, hours = limits[key]
        assert t.time_limit_days == days
        due = services.deadline_for(t.created_at, days, urgent=t.urgent, urgent_hours=hours)
        assert (t.due_at, t.due_provisional) == (due.at, due.provisional)
        unit_due = services.deadline_for(t.dispatched_at, days, urgent=t.urgent, urgent_hours=hours)
        assert (t.unit_due_at, t.unit_due_provisional) == (unit_due.at, unit_due.provisional)
        clocks = dispatch_clocks(t.dispatched_at, urgent=t.urgent, unit_due_at=unit_due.at)
        assert (t.sign_due_at, t.return_due_at, t.assist_due_at) == tuple(clocks)
        if t.replied_at and t.status != "closed":
            assert t.rating_due_at == services.rating_due(t.replied_at)
        checked += 1
    assert checked == 400
    for t in ticket_rows().exclude(extended_days=0)[:20]:
        extension = t.extensions.get(status="approved")
        assert extension.new_due_at == t.due_at and t.extended_days == extension.working_days


def test_late_replies_are_supervised_and_the_deadline_job_finds_nothing_to_do(generated, db):
    late = ticket_rows().exclude(dispatched_at=None).filter(redo_count=0, replied_at__gt=F("due_at"))
    for t in late:
        order = t.supervision_orders.get()
        assert order.cause == "overdue" and order.opened_at > t.unit_due_at and order.unit_id == t.lead_unit_id
        assert t.replied_at < order.due_at
        if order.status == "open":  # the job closes it at its next run
            assert t.replied_at > NOW - dt.timedelta(minutes=5)
        else:
            assert t.replied_at < order.closed_at < order.due_at
    for order in SupervisionOrder.objects.filter(status="open", ticket__access_code_hash=GENERATED_MARK):
        assert order.ticket.status in ("in_progress",) and order.ticket.unit_due_at < NOW < order.due_at
    # What the deadline job would do now is already done: no order to open, close or escalate.
    with clock.frozen_at(NOW):
        counts = scan(NOW)
    assert counts["overdue"] == counts["closed"] == counts["escalated"] == 0


def test_personal_data_is_sealed_and_reads_through_the_orm(generated, db):
    named = ticket_rows().exclude(requester_phone="").exclude(requester_name="").first()
    assert re.fullmatch(r"1\d{10}", named.requester_phone) and named.requester_name
    assert named.requester_phone_hash == crypto.phone_hash(named.requester_phone)
    with connection.cursor() as cursor:
        cursor.execute("SELECT requester_phone, requester_name, address FROM tickets_ticket WHERE id = %s", [named.pk])
        raw = cursor.fetchone()
    assert raw[0].startswith("v1$") and raw[1].startswith("v1$") and named.requester_phone not in raw[0]
    with_address = ticket_rows().exclude(address="").first()
    assert re.search(r"(栋|号附近)$", with_address.address)
    assert not ticket_rows().filter(anonymous=True).exclude(requester_name="").exists()


# --- the platform carries on with generated tickets ----------------------------------------------


def _unit_staff(unit_id: int, role: str):
    user = get_user_model().objects.filter(staff_profile__unit_id=unit_id, groups__name=role).first()
    return actor_for_user(user)


def test_actions_work_on_generated_tickets(generated, db):
    in_progress = ticket_rows().filter(status="in_progress", redo_count=0).first()
    with clock.frozen_at(NOW + dt.timedelta(minutes=5)):
        replied = actions.reply(_unit_staff(in_progress.lead_unit_id, Role.HANDLER), in_progress.pk,
                                "您好！经核查，问题已处理完毕。", outcome="resolved")
    assert replied.status == "replied" and replied.rating_due_at is not None
    last = TicketEvent.objects.filter(ticket=in_progress).order_by("-created_at", "-id").first()
    assert (last.kind, last.from_status, last.to_status) == ("reply", "in_progress", "replied")

    dispatched = ticket_rows().filter(status="dispatched").first()
    if dispatched is not None:
        with clock.frozen_at(NOW + dt.timedelta(minutes=5)):
            assert actions.sign(_unit_staff(dispatched.lead_unit_id, Role.HANDLER), dispatched.pk).status == "in_progress"

    waiting = ticket_rows().filter(status="replied").exclude(pk=in_progress.pk).first()
    agent = actor_for_user(get_user_model().objects.get(username="agent"))
    with clock.frozen_at(NOW + dt.timedelta(minutes=5)):
        rated = actions.rate(agent, waiting.pk, rating="satisfied", comment="回访满意")
    assert rated.status == "closed"

    # A new request gets a number of today, after the generated ones.
    today = NOW.astimezone(SHANGHAI).strftime("%Y%m%d")
    generated_today = ticket_rows().filter(number__startswith=today).aggregate(m=Max("number"))["m"]
    with clock.frozen_at(NOW + dt.timedelta(minutes=6)):
        from minyi.tickets.intake import clean_submission

        category = in_progress.category
        submission = clean_submission(
            {"type": "complaint", "title": "测试工单", "text": "生成数据之后受理的新工单。", "category_id": category.pk,
             "district": in_progress.district.code, "anonymous": True}, [], channel="hotline",
        )
        ticket, _code = actions.submit(agent, submission)
    assert ticket.number > (generated_today or "")


def test_reset_removes_generated_tickets_only(generated, db):
    agent = actor_for_user(get_user_model().objects.get(username="agent"))
    from minyi.tickets.intake import clean_submission

    any_ticket = ticket_rows().first()
    with clock.frozen_at(NOW):
        kept, _ = actions.submit(agent, clean_submission(
            {"type": "help", "title": "保留的工单", "text": "不是生成的。", "category_id": any_ticket.category_id,
             "district": any_ticket.district.code, "anonymous": True}, [], channel="hotline"))
    assert store.reset(report=lambda _line: None) == N
    assert not ticket_rows().exists()
    assert Ticket.objects.filter(pk=kept.pk).exists()
    assert not TicketEvent.objects.filter(ticket_id__in=[any_ticket.pk]).exists()


def test_reset_of_a_database_of_generated_tickets_only(generated, db):
    """Every ticket generated: emptied at once (TRUNCATE on PostgreSQL), numbers start again."""
    assert Ticket.objects.count() == N
    assert store.reset(report=lambda _line: None) == N
    assert not Ticket.objects.exists() and not TicketEvent.objects.exists() and not Reply.objects.exists()
    assert not SupervisionOrder.objects.exists() and not DailySequence.objects.exists()


# --- the seed's figures on a larger sample (rendered in memory) ---------------------------------


def _parse(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sample(generated, django_db_blocker):
    """30,000 tickets over a year, rendered but not written."""
    with django_db_blocker.unblock():
        prepared = runner.prepare(
            runner.Options(tickets=30_000, days=365, seed=11, now=NOW, per_place=4), reserve=False,
        )
        columns = store.layouts()["ticket"].columns
        tickets = []
        for chunk in prepared.chunks():
            out, _counts = prepared.renderer.render(chunk)
            for row in sqlite_rows(out["ticket"], []):
                tickets.append(dict(zip(columns, row, strict=False)))
        return tickets


def test_the_seeds_figures(sample, db):
    dispatched = [t for t in sample if t["dispatched_at"] and t["replied_at"]]
    on_time = sum(_parse(t["replied_at"]) <= _parse(t["due_at"]) for t in dispatched) / len(dispatched)
    assert 0.9940 <= on_time <= 0.9980  # 按时办结率 99.59%
    handling = statistics.mean(
        (_parse(t["replied_at"]) - _parse(t["dispatched_at"])).total_seconds() / 86400 for t in dispatched
    )
    assert 4.6 <= handling <= 5.4  # 转派工单平均办理时长 5 天
    direct = [t for t in sample if t["status"] == "closed" and not t["dispatched_at"]]
    assert 0.25 <= len(direct) / len(sample) <= 0.34
    enterprise = [t for t in sample if t["requester_kind"] == "enterprise"]
    enterprise_direct = sum(1 for t in enterprise if t["status"] == "closed" and not t["dispatched_at"])
    assert enterprise_direct / len(enterprise) >= 0.78  # 超过80%由平台直接答复办结 (less the open ones)
    urgent = [t for t in dispatched if t["urgent"] == "t" and t["redo_count"] == "0"]
    assert urgent and all(_parse(t["replied_at"]) <= _parse(t["created_at"]) + dt.timedelta(hours=24) for t in urgent)


def test_the_same_seed_gives_the_same_tickets(generated, db):
    options = runner.Options(tickets=1000, days=30, seed=5, now=NOW, per_place=4)
    first, second = runner.prepare(options, reserve=False), runner.prepare(options, reserve=False)
    a, b = next(first.chunks()), next(second.chunks())
    out_a, _ = first.renderer.render(a)
    out_b, _ = second.renderer.render(b)
    sealed = re.compile(r"v1\$[^\t]*")  # sealing uses a random nonce: the plain values are equal
    assert [sealed.sub("", line) for line in out_a["ticket"]] == [sealed.sub("", line) for line in out_b["ticket"]]
    assert out_a["event"] == out_b["event"]


def test_worktime_matches_the_calendar(db):
    calendar = services.current_calendar()
    first = worktime.from_date(dt.date(2026, 1, 1))
    wt = worktime.WorkTime(calendar, first, first + 500)
    for received in (dt.datetime(2026, 1, 30, 17, 30, tzinfo=SHANGHAI), dt.datetime(2026, 9, 30, 23, 0, tzinfo=SHANGHAI),
                     dt.datetime(2026, 2, 14, 9, 0, tzinfo=SHANGHAI), dt.datetime(2026, 5, 6, 8, 59, tzinfo=SHANGHAI)):
        moment = worktime.from_datetime(received)
        for days in (1, 2, 10, 15):
            due = services.deadline_for(received, days)
            assert wt.deadline(moment, days) == (worktime.from_datetime(due.at), due.provisional)
        clocks = dispatch_clocks(received, urgent=False, unit_due_at=None)
        assert worktime.to_datetime(wt.dispatch_at(wt.dispatch_clock(moment) + 3600)) == clocks.sign_due_at
        assert worktime.to_datetime(wt.dispatch_at(wt.dispatch_clock(moment) + 9 * 3600)) == clocks.return_due_at


def test_command_refuses_too_much_for_sqlite_and_prints_a_summary(db, settings):
    from django.core.management.base import CommandError

    if connection.vendor == "sqlite":
        with pytest.raises(CommandError, match="PostgreSQL"):
            call_command("generate", tickets=5_000_000, stdout=StringIO())
    before = ticket_rows().count()
    out = StringIO()
    call_command("generate", tickets=50, days=10, now=NOW.isoformat(), no_progress=True, workers=0, stdout=out)
    assert "50 tickets" in out.getvalue() and "rows/s" in out.getvalue()
    assert ticket_rows().count() == before + 50
