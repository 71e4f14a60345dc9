"""The periodic deadline job (`minyi.sla.jobs.scan`) on a few tickets, with the clock frozen.

Each scenario walks tickets through the real actions at fixed moments (Asia/Shanghai) and runs
`scan(now)` at others: due-soon warnings, supervision orders for overdue tickets and missed
milestones, their escalation up the ladder and their closure once the cause is gone. Every
scenario also runs the job a second time and asserts that nothing more happens.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils.translation import gettext as _

from minyi.core import clock
from minyi.sla import actions as sla_actions
from minyi.sla.jobs import scan
from minyi.sla.models import SlaAlert
from minyi.sla.tasks import LOCK, deadline_job
from minyi.supervision.models import SupervisionOrder
from minyi.tickets import actions
from minyi.tickets.models import Notification, TicketEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTHING = {"closed": 0, "due_soon": 0, "overdue": 0, "milestones_missed": 0, "escalated": 0}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def run(text: str) -> dict[str, int]:
    """The job as the worker runs it at that moment."""
    moment = at(text)
    with clock.frozen_at(moment):
        return scan(moment)


def counts(**changed: int) -> dict[str, int]:
    return {**NOTHING, **changed}


def events(ticket, kind: str) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, kind=kind).order_by("id"))


def notified(ticket) -> list[tuple[str, str]]:
    """(username, event kind) of every notification about the ticket from the job."""
    return sorted(
        Notification.objects.filter(ticket=ticket, event__actor_role="system").values_list(
            "user__username", "event__kind"
        )
    )


@pytest.fixture
def ticket_at(new_ticket):
    """`ticket_at("2026-03-02 10:00", "in_progress", type="consultation")`: a ticket walked
    to that status at that moment (every step at the same moment)."""

    def make(text: str, status: str = "in_progress", **fields):
        with clock.frozen_at(at(text)):
            return new_ticket(status, **fields)

    return make


# --- due soon -------------------------------------------------------------------------------


def test_due_soon_on_the_last_working_day_and_only_once(ticket_at):
    # A consultation dispatched on Thursday 5 March 2026: the unit's deadline is Monday 9th.
    ticket = ticket_at("2026-03-05 10:00", type="consultation")
    assert ticket.unit_due_at == at("2026-03-09 23:59:59")

    assert run("2026-03-06 12:00") == NOTHING  # Friday: a working day is left
    assert run("2026-03-08 12:00") == NOTHING  # Sunday: still Monday to go
    assert run("2026-03-09 08:00") == counts(due_soon=1)  # Monday: the last working day

    [alert] = SlaAlert.objects.filter(ticket=ticket)
    assert (alert.kind, alert.due_at, alert.created_at) == ("due_soon", ticket.unit_due_at, at("2026-03-09 08:00"))
    [event] = events(ticket, "due_soon")
    assert (event.public, event.actor_role, event.unit, event.to_status) == (False, "system", ticket.lead_unit, "in_progress")
    assert event.data == {"unit_due_at": "2026-03-09T23:59:59+08:00"}
    assert notified(ticket) == [("handler", "due_soon"), ("leader", "due_soon")]

    # The second run, and a later one the same day, change nothing.
    assert run("2026-03-09 08:00") == NOTHING
    assert run("2026-03-09 15:00") == NOTHING
    assert len(events(ticket, "due_soon")) == 1
    assert len(notified(ticket)) == 2


def test_due_soon_across_a_weekend(ticket_at, settings):
    settings.MINYI_DUE_SOON_WORKING_DAYS = 2
    ticket = ticket_at("2026-03-05 10:00", type="consultation")  # due Monday 9 March
    assert run("2026-03-05 18:00") == NOTHING  # Thursday: Friday and Monday are left
    # Friday: Monday is within the last two working days, although the weekend lies between.
    assert run("2026-03-06 09:00") == counts(due_soon=1)
    assert run("2026-03-07 09:00") == NOTHING
    assert len(events(ticket, "due_soon")) == 1


def test_due_soon_across_national_day(ticket_at, settings):
    # Received Tuesday 29 September 2026: 30 September and then 8 October (after the holiday).
    ticket = ticket_at("2026-09-29 10:00", type="consultation")
    assert ticket.unit_due_at == at("2026-10-08 23:59:59")
    assert run("2026-09-30 10:00") == NOTHING
    assert run("2026-10-03 10:00") == NOTHING  # in the holiday: 8 October is the next working day
    assert run("2026-10-08 00:00") == counts(due_soon=1)

    settings.MINYI_DUE_SOON_WORKING_DAYS = 2
    other = ticket_at("2026-09-29 11:00", type="consultation")
    # With two days, 30 September already warns: 8 October is the next working day after it.
    assert run("2026-09-30 10:00") == counts(due_soon=1)
    assert len(events(other, "due_soon")) == 1


def test_no_warning_for_tickets_no_unit_holds(ticket_at):
    ticket_at("2026-03-05 10:00", "submitted", type="consultation")  # the platform holds it
    ticket_at("2026-03-05 10:00", "replied", type="consultation")
    ticket_at("2026-03-05 10:00", "returned", type="consultation")
    assert run("2026-03-09 08:00") == NOTHING
    assert run("2026-03-12 08:00") == NOTHING  # nor supervision once their deadlines pass


def test_a_moved_deadline_is_warned_about_again(ticket_at, actors):
    ticket = ticket_at("2026-03-05 10:00", type="consultation")  # due Monday 9 March
    with clock.frozen_at(at("2026-03-09 09:00")):
        sla_actions.request_extension(
            actors["handler"], ticket.pk, reason_code="hard_case", working_days=2, explanation="需现场核查"
        )
    assert run("2026-03-09 10:00") == counts(due_soon=1)
    with clock.frozen_at(at("2026-03-09 11:00")):
        sla_actions.decide_extension(actors["supervisor"], ticket.pk, approve=True)
    ticket.refresh_from_db()
    assert ticket.unit_due_at == at("2026-03-11 23:59:59")
    assert run("2026-03-09 12:00") == NOTHING
    assert run("2026-03-11 08:00") == counts(due_soon=1)  # the new deadline's last day
    assert SlaAlert.objects.filter(ticket=ticket).count() == 2


# --- overdue: supervision orders ------------------------------------------------------------


def test_overdue_ticket_gets_one_level_1_order_with_its_own_deadline(ticket_at):
    ticket = ticket_at("2026-03-02 10:00", "dispatched", type="consultation")  # due Wed 4 March
    assert run("2026-03-04 23:59") == counts(due_soon=1)  # not late yet
    assert run("2026-03-05 09:00") == counts(overdue=1)

    [order] = SupervisionOrder.objects.filter(ticket=ticket)
    assert (order.cause, order.level, order.status, order.unit) == ("overdue", 1, "open", ticket.lead_unit)
    assert order.opened_at == at("2026-03-05 09:00")
    # Level 1 (催办提醒) must be answered within 1 working day.
    assert order.due_at == at("2026-03-06 23:59:59")
    [event] = events(ticket, "supervision_opened")
    assert event.data == {
        "order": order.pk, "cause": "overdue", "level": 1, "level_name": "催办提醒",
        "milestone": None, "due_at": "2026-03-06T23:59:59+08:00",
    }
    assert event.public is False
    assert ("handler", "supervision_opened") in notified(ticket)

    before = (TicketEvent.objects.count(), Notification.objects.count())
    assert run("2026-03-05 09:00") == NOTHING
    assert run("2026-03-05 09:05") == NOTHING
    assert (TicketEvent.objects.count(), Notification.objects.count()) == before
    assert SupervisionOrder.objects.filter(ticket=ticket).count() == 1


def test_an_order_opened_before_a_holiday_is_due_after_it(ticket_at):
    ticket = ticket_at("2026-09-25 10:00", type="consultation", urgent=False)  # Friday (holiday)
    assert ticket.unit_due_at == at("2026-09-29 23:59:59")  # 28th and 29th
    assert run("2026-09-30 09:00") == counts(overdue=1)
    order = SupervisionOrder.objects.get(ticket=ticket)
    assert order.due_at == at("2026-10-08 23:59:59")  # the next working day after National Day


def test_escalation_climbs_one_rung_per_run_up_to_the_public_list(ticket_at):
    ticket = ticket_at("2026-03-02 10:00", type="consultation")  # due Wed 4 March
    assert run("2026-03-05 09:00") == counts(overdue=1)  # level 1, due Fri 6 March
    order = SupervisionOrder.objects.get(ticket=ticket)

    assert run("2026-03-06 23:00") == NOTHING  # its own deadline has not passed
    # Saturday: late. One rung only, to the formal notice, due in 2 working days.
    assert run("2026-03-07 00:30") == counts(escalated=1)
    order.refresh_from_db()
    assert (order.level, order.due_at, order.escalated_at) == (2, at("2026-03-10 23:59:59"), at("2026-03-07 00:30"))
    assert run("2026-03-07 00:35") == NOTHING

    # Much later, still one rung per run.
    assert run("2026-04-20 09:00") == counts(escalated=1)
    order.refresh_from_db()
    assert (order.level, order.due_at) == (3, at("2026-04-22 23:59:59"))
    assert run("2026-04-23 09:00") == counts(escalated=1)
    order.refresh_from_db()
    assert (order.level, order.due_at) == (4, at("2026-04-28 23:59:59"))  # 3 working days
    # The top: the public list. It stays open there.
    assert run("2026-05-20 09:00") == NOTHING
    order.refresh_from_db()
    assert (order.level, order.status) == (4, "open")

    escalations = events(ticket, "supervision_escalated")
    assert [(e.data["level"], e.data["level_name"], e.note) for e in escalations] == [
        (2, "正式督办通知", "正式督办通知"), (3, "报单位领导督办", "报单位领导督办"), (4, "列入公开通报", "列入公开通报"),
    ]
    assert notified(ticket).count(("leader", "supervision_escalated")) == 3
    assert SupervisionOrder.objects.filter(ticket=ticket).count() == 1


def test_order_closes_itself_when_the_unit_replies(ticket_at, actors):
    ticket = ticket_at("2026-03-02 10:00", type="consultation")
    run("2026-03-05 09:00")
    with clock.frozen_at(at("2026-03-05 14:00")):
        actions.reply(actors["handler"], ticket.pk, "已联系物业，电梯已于今日修复并通过检测。", outcome="resolved")
    assert run("2026-03-05 14:05") == counts(closed=1)
    order = SupervisionOrder.objects.get(ticket=ticket)
    assert (order.status, order.closed_at, order.close_reason) == ("closed", at("2026-03-05 14:05"), _("The ticket was handled."))
    [event] = events(ticket, "supervision_closed")
    assert (event.data, event.from_status) == ({"order": order.pk}, "replied")
    # The ticket has left the unit: no new order, no escalation, nothing on the next runs.
    assert run("2026-03-05 14:10") == NOTHING
    assert run("2026-03-20 09:00") == NOTHING


def test_order_closes_when_the_unit_returns_the_ticket(ticket_at, actors, settings):
    settings.MINYI_RETURN_WINDOW_OFFICE_HOURS = 40  # a platform that allows late returns
    ticket = ticket_at("2026-03-02 10:00", "dispatched", type="consultation")
    run("2026-03-05 09:00")
    with clock.frozen_at(at("2026-03-05 10:00")):
        actions.return_ticket(actors["handler"], ticket.pk, reason_code="not_our_remit", note="不属于本单位职责", legal_basis="《物业管理条例》第十二条")
    assert run("2026-03-05 10:05") == counts(closed=1)
    assert SupervisionOrder.objects.get(ticket=ticket).close_reason == _("The unit returned the ticket.")


def test_order_closes_after_an_extension_moves_the_deadline(ticket_at, actors):
    ticket = ticket_at("2026-03-02 10:00", type="consultation")  # due Wed 4 March
    with clock.frozen_at(at("2026-03-04 15:00")):  # asked for before the deadline
        sla_actions.request_extension(
            actors["handler"], ticket.pk, reason_code="new_facts", working_days=3, explanation="诉求人补充了新材料"
        )
    # Not decided in time: the ticket is overdue meanwhile.
    assert run("2026-03-05 09:00") == counts(overdue=1)
    with clock.frozen_at(at("2026-03-05 10:00")):
        sla_actions.decide_extension(actors["supervisor"], ticket.pk, approve=True)
    ticket.refresh_from_db()
    assert ticket.unit_due_at == at("2026-03-09 23:59:59")
    assert run("2026-03-05 10:05") == counts(closed=1)
    order = SupervisionOrder.objects.get(ticket=ticket)
    assert (order.status, order.close_reason) == ("closed", _("The deadline was moved."))
    assert run("2026-03-05 10:10") == NOTHING
    # Overdue again after the new deadline: a new order.
    assert run("2026-03-10 09:00") == counts(overdue=1)
    assert list(SupervisionOrder.objects.filter(ticket=ticket).values_list("status", flat=True).order_by("id")) == [
        "closed", "open",
    ]


def test_extension_approval_closes_the_order_at_once(ticket_at, actors, django_capture_on_commit_callbacks):
    ticket = ticket_at("2026-03-02 10:00", type="consultation")
    with clock.frozen_at(at("2026-03-04 15:00")):
        sla_actions.request_extension(
            actors["handler"], ticket.pk, reason_code="hard_case", working_days=3, explanation="需联合核查"
        )
    run("2026-03-05 09:00")
    with clock.frozen_at(at("2026-03-05 10:00")), django_capture_on_commit_callbacks(execute=True):
        sla_actions.decide_extension(actors["supervisor"], ticket.pk, approve=True)
    order = SupervisionOrder.objects.get(ticket=ticket)
    assert (order.status, order.closed_at) == ("closed", at("2026-03-05 10:00"))
    assert run("2026-03-05 10:05") == NOTHING


# --- staged closure: missed milestones ------------------------------------------------------


@pytest.fixture
def planned(ticket_at, actors):
    """A complaint with an approved plan: milestones on 16 March, 15 April and 15 May 2026."""
    ticket = ticket_at("2026-03-02 10:00")
    with clock.frozen_at(at("2026-03-03 10:00")):
        sla_actions.file_plan(
            actors["handler"], ticket.pk, explanation="需业主表决，分阶段推进",
            milestones=[
                {"title": "召开业主大会", "due_date": "2026-03-16"},
                {"title": "完成施工招标", "due_date": "2026-04-15"},
                {"title": "完工验收", "due_date": "2026-05-15"},
            ],
        )
        plan = sla_actions.decide_plan(actors["supervisor"], ticket.pk, approve=True)
    ticket.refresh_from_db()
    assert ticket.unit_due_at == at("2026-05-15 23:59:59")
    return ticket, list(plan.milestones.order_by("seq"))


def test_missed_milestone_gets_an_order_that_closes_when_recorded(planned, actors):
    ticket, milestones = planned
    assert run("2026-03-16 20:00") == NOTHING  # due today: not missed yet
    assert run("2026-03-17 09:00") == counts(milestones_missed=1)
    order = SupervisionOrder.objects.get(ticket=ticket)
    assert (order.cause, order.milestone_id, order.level, order.due_at) == (
        "milestone_missed", milestones[0].pk, 1, at("2026-03-18 23:59:59"),
    )
    [event] = events(ticket, "supervision_opened")
    assert (event.data["cause"], event.data["milestone"]) == ("milestone_missed", milestones[0].pk)
    assert run("2026-03-17 09:05") == NOTHING

    with clock.frozen_at(at("2026-03-17 15:00")):
        sla_actions.record_milestone(actors["handler"], ticket.pk, milestone_id=milestones[0].pk, evidence="业主大会已召开")
    assert run("2026-03-17 15:05") == counts(closed=1)
    order.refresh_from_db()
    assert (order.status, order.close_reason) == ("closed", _("The milestone was recorded."))
    # The next milestone is watched in its turn; the ticket itself is not overdue.
    assert run("2026-04-16 09:00") == counts(milestones_missed=1)
    assert run("2026-04-16 09:05") == NOTHING
    assert SupervisionOrder.objects.filter(ticket=ticket, status="open").get().milestone_id == milestones[1].pk


def test_missed_milestone_order_escalates_like_the_others(planned):
    ticket, _milestones = planned
    run("2026-03-17 09:00")
    assert run("2026-03-19 09:00") == counts(escalated=1)
    assert SupervisionOrder.objects.get(ticket=ticket).level == 2


# --- entry points ---------------------------------------------------------------------------


def test_sla_scan_command_prints_the_counts(ticket_at):
    ticket_at("2026-03-02 10:00", type="consultation")
    out = io.StringIO()
    with clock.frozen_at(at("2026-03-05 09:00")):
        call_command("sla", "scan", stdout=out)
        text = out.getvalue()
        assert "       1  orders opened for overdue tickets" in text
        assert "       0  due-soon warnings" in text
        out = io.StringIO()
        call_command("sla", "scan", stdout=out)
    assert "       0  orders opened for overdue tickets" in out.getvalue()


def test_the_periodic_task_runs_the_job_unless_another_worker_holds_the_lock(ticket_at):
    from huey.contrib.djhuey import HUEY

    ticket_at("2026-03-02 10:00", type="consultation")
    with clock.frozen_at(at("2026-03-05 09:00")):
        with HUEY.lock_task(LOCK):
            assert deadline_job.call_local() == {}
        assert SupervisionOrder.objects.count() == 0
        assert deadline_job.call_local() == counts(overdue=1)
