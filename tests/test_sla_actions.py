"""Time limits at the action level: both clocks, extensions (延期), staged-closure plans (阶段性办结),
re-counting provisional deadlines, and supervision orders closing when their cause goes.

Every expected deadline is counted by hand from the State Council's 2026 notice (no holiday
in November or December 2026; 2027 has no notice in the package, so a deadline reaching into
it is provisional and counts Monday to Friday). The day of receipt is not counted; a deadline
ends at 23:59:59 Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext

from conftest import (
    EXPLANATION,
    PLAN_EXPLANATION,
    approved_plan,
    extend,
    file_plan,
    request_extension,
)
from minyi.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from minyi.org.actors import system_actor
from minyi.sla import actions as sla_actions
from minyi.sla import services
from minyi.sla.models import (
    Decision,
    ExtensionReason,
    HolidayDay,
    HolidayNotice,
    StagedPlan,
    TimeLimitPolicy,
)
from minyi.supervision import actions as supervision
from minyi.supervision.models import SupervisionOrder
from minyi.tickets import actions
from minyi.tickets.models import Attachment, Ticket, TicketEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def end(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 59, 59), tzinfo=SHANGHAI)


def last_event(ticket) -> TicketEvent:
    return TicketEvent.objects.filter(ticket=ticket).order_by("-id").first()


def fresh(ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def handled(new_ticket, travel):
    """A complaint received, dispatched and signed for on Monday 2 November 2026 at 10:00:
    both deadlines 15 working days later, Monday 23 November."""
    travel("2026-11-02T10:00")
    return new_ticket("in_progress")


# --- the two clocks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "type_", "days", "due", "provisional"),
    [
        ("2026-11-02T10:00", "complaint", 15, "2026-11-23", False),
        ("2026-11-02T10:00", "help", 10, "2026-11-16", False),
        ("2026-11-02T10:00", "consultation", 2, "2026-11-04", False),
        # Mid-Autumn (25–27 September) and National Day (1–7 October, make-up Saturday 10 October)
        ("2026-09-25T10:00", "complaint", 15, "2026-10-22", False),
        ("2026-09-18T10:00", "consultation", 2, "2026-09-21", False),  # make-up Sunday 20 September
        # Into 2027, whose notice is not loaded: counted Monday to Friday, provisional.
        ("2026-12-28T10:00", "complaint", 15, "2027-01-18", True),
        ("2026-12-28T10:00", "consultation", 2, "2026-12-30", False),
    ],
)
def test_submission_stores_the_limit_and_the_requesters_deadline(new_ticket, travel, received, type_, days, due, provisional):
    travel(received)
    ticket = new_ticket(type=type_)
    assert (ticket.time_limit_days, ticket.extended_days) == (days, 0)
    assert (ticket.due_at, ticket.due_provisional) == (end(due), provisional)
    assert (ticket.unit_due_at, ticket.unit_due_provisional) == (None, False)


def test_a_category_policy_wins_over_the_type_default(new_ticket, travel, org):
    TimeLimitPolicy.objects.create(request_type="complaint", category=org["urban"], working_days=5)
    travel("2026-11-02T10:00")
    ticket = new_ticket(type="complaint")  # 物业管理, under 城乡建设
    assert (ticket.time_limit_days, ticket.due_at) == (5, end("2026-11-09"))
    other = new_ticket(type="complaint", category_id=org["bus"].pk)
    assert (other.time_limit_days, other.due_at) == (15, end("2026-11-23"))


def test_an_urgent_ticket_counts_hours_on_both_clocks(new_ticket, travel, actors, org):
    travel("2026-11-02T10:00")
    ticket = new_ticket(urgent=True)
    assert ticket.due_at == dt.datetime(2026, 11, 3, 10, 0, tzinfo=SHANGHAI)
    travel("2026-11-02T16:30")
    actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk)
    assert fresh(ticket).unit_due_at == dt.datetime(2026, 11, 3, 16, 30, tzinfo=SHANGHAI)


def test_dispatch_starts_the_units_clock_and_a_redispatch_restarts_it(new_ticket, travel, actors, org):
    travel("2026-11-02T10:00")
    ticket = new_ticket()
    travel("2026-11-04T15:00")
    actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk)
    ticket = fresh(ticket)
    assert (ticket.due_at, ticket.unit_due_at, ticket.unit_due_provisional) == (
        end("2026-11-23"), end("2026-11-25"), False
    )
    travel("2026-11-05T09:00")
    actions.return_ticket(actors["handler"], ticket.pk, reason_code="not_our_remit", note="不属于本单位职责", legal_basis="《物业管理条例》第十二条")
    assert fresh(ticket).unit_due_at == end("2026-11-25")  # kept on the record; no clock runs at the platform
    travel("2026-11-09T10:00")
    actions.dispatch(actors["dispatcher"], ticket.pk, org["transport"].pk)
    ticket = fresh(ticket)
    assert (ticket.due_at, ticket.unit_due_at) == (end("2026-11-23"), end("2026-11-30"))
    assert last_event(ticket).data["unit_due_at"] == "2026-11-30T23:59:59+08:00"


# --- extensions -------------------------------------------------------------------------------


def test_request_an_extension(handled, actors, users):
    extension = request_extension(actors["handler"], handled, days=5)
    assert (extension.status, extension.working_days, extension.reason.code) == ("pending", 5, "hard_case")
    assert (extension.explanation, extension.requested_by, extension.requested_at) == (
        EXPLANATION, users["handler"], dt.datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)
    )
    ticket = fresh(handled)
    assert (ticket.due_at, ticket.unit_due_at, ticket.extended_days, ticket.status) == (
        end("2026-11-23"), end("2026-11-23"), 0, "in_progress"
    )
    event = last_event(ticket)
    assert (event.kind, event.actor_role, event.public, event.from_status, event.to_status) == (
        "request_extension", "handler", False, "in_progress", "in_progress"
    )
    assert event.data == {"extension": extension.pk, "reason": "办理难度大", "working_days": 5}


def test_approve_an_extension_moves_both_deadlines(handled, actors, users, travel):
    request_extension(actors["handler"], handled, days=5)
    travel("2026-11-05T11:00")
    extension = sla_actions.decide_extension(actors["supervisor"], handled.pk, approve=True, note="同意延期")
    assert (extension.status, extension.decided_by, extension.decision_note) == ("approved", users["supervisor"], "同意延期")
    assert extension.decided_at == dt.datetime(2026, 11, 5, 11, 0, tzinfo=SHANGHAI)
    assert (extension.old_due_at, extension.new_due_at) == (end("2026-11-23"), end("2026-11-30"))
    ticket = fresh(handled)
    assert (ticket.due_at, ticket.unit_due_at, ticket.extended_days) == (end("2026-11-30"), end("2026-11-30"), 5)
    assert (ticket.due_provisional, ticket.unit_due_provisional, ticket.status) == (False, False, "in_progress")
    event = last_event(ticket)
    assert (event.kind, event.actor_role, event.public) == ("extension_approved", "supervisor", True)
    assert event.data == {
        "extension": extension.pk, "working_days": 5,
        "old_due_at": "2026-11-23T23:59:59+08:00", "new_due_at": "2026-11-30T23:59:59+08:00",
        "unit_due_at": "2026-11-30T23:59:59+08:00", "decision_note": "同意延期",
    }
    # The requester's notice names the reason and the new deadline (and no staff).
    assert "办理难度大" in event.note and "2026-11-30 23:59" in event.note
    assert "supervisor" not in event.note


def test_two_extensions_add_up_and_a_third_is_refused(handled, actors, unchanged):
    extend(actors, handled, days=5)
    extend(actors, handled, days=3)
    ticket = fresh(handled)
    assert (ticket.due_at, ticket.unit_due_at, ticket.extended_days) == (end("2026-12-03"), end("2026-12-03"), 8)
    with unchanged(ticket), pytest.raises(Conflict) as caught:
        request_extension(actors["handler"], ticket, days=1)
    assert caught.value.code == "extension_limit"


def test_the_two_clocks_extend_separately(new_ticket, travel, actors, org):
    travel("2026-11-02T10:00")
    ticket = new_ticket()
    travel("2026-11-04T15:00")
    actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk)
    actions.sign(actors["handler"], ticket.pk)
    extend(actors, ticket, days=2)
    ticket = fresh(ticket)
    assert (ticket.due_at, ticket.unit_due_at) == (end("2026-11-25"), end("2026-11-27"))


def test_refuse_an_extension(handled, actors, users):
    request_extension(actors["handler"], handled)
    extension = sla_actions.decide_extension(actors["supervisor"], handled.pk, approve=False, note="  理由不充分  ")
    assert (extension.status, extension.decision_note, extension.decided_by) == ("refused", "理由不充分", users["supervisor"])
    assert (extension.old_due_at, extension.new_due_at) == (None, None)
    ticket = fresh(handled)
    assert (ticket.due_at, ticket.unit_due_at, ticket.extended_days) == (end("2026-11-23"), end("2026-11-23"), 0)
    event = last_event(ticket)
    assert (event.kind, event.public, event.note, event.data) == (
        "extension_refused", False, "理由不充分", {"extension": extension.pk}
    )
    # A refused extension does not count towards the two.
    extend(actors, ticket)
    extend(actors, ticket)
    assert fresh(ticket).extended_days == 10


def test_refusing_needs_a_note(handled, actors, unchanged):
    request_extension(actors["handler"], handled)
    with unchanged(handled), pytest.raises(InvalidInput) as caught:
        sla_actions.decide_extension(actors["supervisor"], handled.pk, approve=False, note="  ")
    assert (caught.value.code, caught.value.field) == ("required", "note")


def test_one_extension_at_a_time(handled, actors, unchanged):
    request_extension(actors["handler"], handled)
    with unchanged(handled), pytest.raises(Conflict) as caught:
        request_extension(actors["leader"], handled, days=2)
    assert caught.value.code == "extension_pending"


def test_no_extension_after_the_units_deadline(handled, actors, travel, unchanged):
    travel("2026-11-23T23:59:59")
    request_extension(actors["handler"], handled)  # the last second still counts
    sla_actions.decide_extension(actors["supervisor"], handled.pk, approve=False, note="请按期办结")
    travel("2026-11-24T00:00:00")
    with unchanged(handled), pytest.raises(Conflict) as caught:
        request_extension(actors["handler"], handled)
    assert caught.value.code == "deadline_passed"


def test_no_extension_while_tracked_against_a_plan(handled, actors, unchanged):
    approved_plan(actors, handled, "2026-11-20", "2026-12-18")
    with unchanged(handled), pytest.raises(Conflict) as caught:
        request_extension(actors["handler"], handled)
    assert caught.value.code == "plan_tracked"


def test_deciding_with_nothing_pending(handled, actors, unchanged):
    with unchanged(handled), pytest.raises(Conflict) as caught:
        sla_actions.decide_extension(actors["supervisor"], handled.pk, approve=True)
    assert caught.value.code == "no_pending_extension"


@pytest.mark.parametrize(
    ("reason_code", "days", "explanation", "code", "field"),
    [
        ("", 5, EXPLANATION, "invalid_reason", "reason_code"),
        ("because", 5, EXPLANATION, "invalid_reason", "reason_code"),
        ("inactive", 5, EXPLANATION, "invalid_reason", "reason_code"),
        ("hard_case", 0, EXPLANATION, "invalid_days", "working_days"),
        ("hard_case", 31, EXPLANATION, "invalid_days", "working_days"),
        ("hard_case", -1, EXPLANATION, "invalid_days", "working_days"),
        ("hard_case", None, EXPLANATION, "invalid_days", "working_days"),
        ("hard_case", "five", EXPLANATION, "invalid_days", "working_days"),
        ("hard_case", 5, "   ", "required", "explanation"),
        ("hard_case", 5, "长" * 2001, "too_long", "explanation"),
    ],
)
def test_extension_requests_with_bad_input(handled, actors, unchanged, reason_code, days, explanation, code, field):
    ExtensionReason.objects.create(code="inactive", name="停用的理由", active=False)
    with unchanged(handled), pytest.raises(InvalidInput) as caught:
        sla_actions.request_extension(
            actors["handler"], handled.pk, reason_code=reason_code, working_days=days, explanation=explanation
        )
    assert (caught.value.code, caught.value.field) == (code, field)


def test_thirty_working_days_is_the_most(handled, actors):
    extension = request_extension(actors["handler"], handled, days=30)
    assert extension.working_days == 30


#: act -> (who may not, the error code)
WRONG_ROLES = [
    ("request_extension", "supervisor"),
    ("request_extension", "dispatcher"),
    ("decide_extension", "handler"),
    ("decide_extension", "leader"),
    ("decide_extension", "dispatcher"),
    ("decide_extension", "admin"),
    ("file_plan", "supervisor"),
    ("decide_plan", "handler"),
    ("decide_plan", "cityleader"),
    ("record_milestone", "supervisor"),
]


def _call(name, actor, ticket):
    if name == "request_extension":
        return request_extension(actor, ticket)
    if name == "decide_extension":
        return sla_actions.decide_extension(actor, ticket.pk, approve=True)
    if name == "file_plan":
        return file_plan(actor, ticket, "2026-12-18")
    if name == "decide_plan":
        return sla_actions.decide_plan(actor, ticket.pk, approve=True)
    milestone = ticket.plans.get(status="approved").milestones.first()
    return sla_actions.record_milestone(actor, ticket.pk, milestone_id=milestone.pk, evidence="已完成")


def _ready(name, actors, ticket):
    """Bring the ticket to where `name` is possible for the right role."""
    if name == "decide_extension":
        request_extension(actors["handler"], ticket)
    elif name == "decide_plan":
        file_plan(actors["handler"], ticket, "2026-11-20")
    elif name == "record_milestone":
        approved_plan(actors, ticket, "2026-11-20", "2026-12-18")


@pytest.mark.parametrize(("name", "who"), WRONG_ROLES)
def test_wrong_role(handled, actors, unchanged, name, who):
    _ready(name, actors, handled)
    with unchanged(handled), pytest.raises(Forbidden) as caught:
        _call(name, actors[who], handled)
    assert caught.value.code == "role_not_allowed"


@pytest.mark.parametrize("name", ["request_extension", "file_plan", "record_milestone"])
def test_another_unit(handled, actors, unchanged, name):
    _ready(name, actors, handled)
    with unchanged(handled), pytest.raises(NotFound) as caught:
        _call(name, actors["other_handler"], handled)
    assert caught.value.code == "ticket_not_found"


@pytest.mark.parametrize("name", ["request_extension", "file_plan", "record_milestone"])
def test_an_assisting_unit_may_not_act_for_the_lead(handled, actors, org, unchanged, name):
    _ready(name, actors, handled)
    handled.assisting_units.add(org["transport"])
    with unchanged(handled), pytest.raises(Forbidden) as caught:
        _call(name, actors["other_handler"], handled)
    assert caught.value.code == "not_lead_unit"


@pytest.mark.parametrize("name", ["request_extension", "decide_extension", "file_plan", "decide_plan", "record_milestone"])
@pytest.mark.parametrize("status", ["dispatched", "replied"])
def test_only_while_the_unit_handles_the_ticket(handled, actors, unchanged, new_ticket, name, status):
    _ready(name, actors, handled)
    if status == "replied":
        ticket = handled
        actions.reply(actors["handler"], ticket.pk, "已答复诉求人。", outcome="resolved")
    else:
        ticket = new_ticket("dispatched")
    who = "supervisor" if name.startswith("decide") else "handler"
    with unchanged(ticket), pytest.raises(Conflict) as caught:
        if name == "record_milestone" and status == "dispatched":
            sla_actions.record_milestone(actors[who], ticket.pk, milestone_id=1, evidence="已完成")
        else:
            _call(name, actors[who], ticket)
    assert caught.value.code == "invalid_state"


# --- staged closure ---------------------------------------------------------------------------


def test_file_a_plan(handled, actors, users):
    plan = file_plan(actors["leader"], handled, "2026-11-20", "2026-12-18")
    assert (plan.status, plan.explanation, plan.requested_by) == ("pending", PLAN_EXPLANATION, users["leader"])
    assert list(plan.milestones.values_list("seq", "title", "due_date", "done_at")) == [
        (1, "第1阶段", dt.date(2026, 11, 20), None),
        (2, "第2阶段", dt.date(2026, 12, 18), None),
    ]
    ticket = fresh(handled)
    assert (ticket.due_at, ticket.unit_due_at) == (end("2026-11-23"), end("2026-11-23"))
    event = last_event(ticket)
    assert (event.kind, event.actor_role, event.public, event.note) == ("file_plan", "unit_leader", False, PLAN_EXPLANATION)
    assert event.data == {"plan": plan.pk, "milestones": [["第1阶段", "2026-11-20"], ["第2阶段", "2026-12-18"]]}


def test_a_milestone_may_be_today(handled, actors):
    plan = file_plan(actors["handler"], handled, "2026-11-02")
    assert plan.milestones.get().due_date == dt.date(2026, 11, 2)


@pytest.mark.parametrize(
    ("milestones", "code"),
    [
        ([], "milestones_required"),
        (None, "milestones_required"),
        ([{"title": "第一阶段", "due_date": "2026-12-18"}, {"title": "第二阶段", "due_date": "2026-11-20"}],
         "milestones_out_of_order"),
        ([{"title": "第一阶段", "due_date": "2026-11-20"}, {"title": "第二阶段", "due_date": "2026-11-20"}],
         "milestones_out_of_order"),
        ([{"title": "第一阶段", "due_date": "2026-11-01"}], "milestone_in_past"),
        ([{"title": "  ", "due_date": "2026-11-20"}], "required"),
        ([{"title": "第一阶段", "due_date": "11/20/2026"}], "invalid_date"),
        ([{"title": "第一阶段"}], "invalid_date"),
        ([{"title": "长" * 201, "due_date": "2026-11-20"}], "too_long"),
        ([{"title": f"第{i}阶段", "due_date": f"2026-12-{i:02d}"} for i in range(1, 14)], "too_many_milestones"),
    ],
)
def test_plans_with_bad_milestones(handled, actors, unchanged, milestones, code):
    with unchanged(handled), pytest.raises(InvalidInput) as caught:
        sla_actions.file_plan(actors["handler"], handled.pk, explanation=PLAN_EXPLANATION, milestones=milestones)
    assert (caught.value.code, caught.value.field) == (code, "milestones")


def test_a_plan_needs_an_explanation(handled, actors, unchanged):
    with unchanged(handled), pytest.raises(InvalidInput) as caught:
        sla_actions.file_plan(actors["handler"], handled.pk, explanation=" ", milestones=[{"title": "安装", "due_date": "2026-12-18"}])
    assert (caught.value.code, caught.value.field) == ("required", "explanation")


@pytest.mark.parametrize("first", ["pending", "approved"])
def test_one_live_plan_at_a_time(handled, actors, unchanged, first):
    if first == "pending":
        file_plan(actors["handler"], handled, "2026-11-20")
    else:
        approved_plan(actors, handled, "2026-11-20")
    with unchanged(handled), pytest.raises(Conflict) as caught:
        file_plan(actors["leader"], handled, "2026-12-18")
    assert caught.value.code == "plan_exists"


def test_approve_a_plan_tracks_the_ticket_against_it(handled, actors, users, travel):
    file_plan(actors["handler"], handled, "2026-11-20", "2026-12-18")
    travel("2026-11-03T09:00")
    plan = sla_actions.decide_plan(actors["supervisor"], handled.pk, approve=True, note="同意分阶段办理")
    assert (plan.status, plan.decided_by, plan.decision_note) == ("approved", users["supervisor"], "同意分阶段办理")
    ticket = fresh(handled)
    # The unit's deadline is the end of the last milestone's day; the requester's is not earlier.
    assert (ticket.unit_due_at, ticket.unit_due_provisional, ticket.due_at) == (end("2026-12-18"), False, end("2026-12-18"))
    assert ticket.status == "in_progress"
    event = last_event(ticket)
    assert (event.kind, event.public) == ("plan_approved", True)
    assert event.note == f"{PLAN_EXPLANATION}\n2026-11-20 第1阶段; 2026-12-18 第2阶段"
    assert event.data == {"plan": plan.pk, "unit_due_at": "2026-12-18T23:59:59+08:00", "decision_note": "同意分阶段办理"}


def test_a_plan_ending_before_the_deadline_keeps_the_requesters_deadline(handled, actors):
    approved_plan(actors, handled, "2026-11-13")
    ticket = fresh(handled)
    assert (ticket.unit_due_at, ticket.due_at) == (end("2026-11-13"), end("2026-11-23"))


def test_refuse_a_plan(handled, actors, unchanged):
    file_plan(actors["handler"], handled, "2026-11-20")
    with unchanged(handled), pytest.raises(InvalidInput) as caught:
        sla_actions.decide_plan(actors["supervisor"], handled.pk, approve=False)
    assert (caught.value.code, caught.value.field) == ("required", "note")
    plan = sla_actions.decide_plan(actors["supervisor"], handled.pk, approve=False, note="节点过于宽松")
    assert (plan.status, plan.decision_note) == ("refused", "节点过于宽松")
    assert (fresh(handled).unit_due_at, last_event(handled).kind, last_event(handled).public) == (
        end("2026-11-23"), "plan_refused", False
    )
    # A refused plan may be followed by a new one.
    assert file_plan(actors["handler"], handled, "2026-11-19").status == "pending"


def test_an_outdated_plan_cannot_be_approved(handled, actors, travel, unchanged):
    file_plan(actors["handler"], handled, "2026-11-05", "2026-12-18")
    travel("2026-11-06T09:00")
    with unchanged(handled), pytest.raises(Conflict) as caught:
        sla_actions.decide_plan(actors["supervisor"], handled.pk, approve=True)
    assert caught.value.code == "plan_outdated"


def test_deciding_a_plan_with_none_pending(handled, actors, unchanged):
    with unchanged(handled), pytest.raises(Conflict) as caught:
        sla_actions.decide_plan(actors["supervisor"], handled.pk, approve=True)
    assert caught.value.code == "no_pending_plan"


def test_record_milestones_until_the_plan_is_complete(handled, actors, users, travel):
    plan = approved_plan(actors, handled, "2026-11-20", "2026-12-18")
    first, second = plan.milestones.order_by("seq")
    travel("2026-11-19T16:00")
    upload = SimpleUploadedFile("表决结果.png", PNG, content_type="image/png")
    done = sla_actions.record_milestone(
        actors["handler"], handled.pk, milestone_id=str(first.pk), evidence=" 业主表决通过 ", files=[upload]
    )
    assert (done.done_at, done.evidence, done.recorded_by) == (
        dt.datetime(2026, 11, 19, 16, 0, tzinfo=SHANGHAI), "业主表决通过", users["handler"]
    )
    assert fresh(handled).plans.get().status == "approved"
    attachment = Attachment.objects.get(ticket=handled)
    assert (attachment.name, attachment.content_type, attachment.uploaded_by) == ("表决结果.png", "image/png", users["handler"])
    event = last_event(handled)
    assert (event.kind, event.public, event.note) == ("milestone_done", True, "第1阶段: 业主表决通过")
    assert event.data == {"milestone": first.pk, "seq": 1, "attachments": [attachment.token]}

    travel("2026-12-17T10:00")
    sla_actions.record_milestone(actors["leader"], handled.pk, milestone_id=second.pk, evidence="电梯已安装并验收")
    assert StagedPlan.objects.get(pk=plan.pk).status == "completed"
    ticket = fresh(handled)
    assert (ticket.status, ticket.unit_due_at) == ("in_progress", end("2026-12-18"))


@pytest.mark.parametrize("which", ["first of two", "the last"])
def test_a_milestone_is_recorded_once(handled, actors, unchanged, which):
    plan = approved_plan(actors, handled, "2026-11-20", "2026-12-18")
    milestones = list(plan.milestones.order_by("seq"))
    targets = milestones[:1] if which == "first of two" else milestones
    for milestone in targets:
        sla_actions.record_milestone(actors["handler"], handled.pk, milestone_id=milestone.pk, evidence="已完成")
    with unchanged(handled), pytest.raises(Conflict) as caught:
        sla_actions.record_milestone(actors["handler"], handled.pk, milestone_id=targets[-1].pk, evidence="再次记录")
    assert caught.value.code == "milestone_done"


@pytest.mark.parametrize(
    ("milestone", "evidence", "code", "field"),
    [
        ("other plan", "已完成", "invalid_milestone", "milestone_id"),
        ("pending plan", "已完成", "invalid_milestone", "milestone_id"),
        ("nonsense", "已完成", "invalid_milestone", "milestone_id"),
        (None, "已完成", "invalid_milestone", "milestone_id"),
        ("ours", "  ", "required", "evidence"),
    ],
)
def test_recording_with_bad_input(handled, actors, new_ticket, unchanged, milestone, evidence, code, field):
    plan = approved_plan(actors, handled, "2026-11-20")
    other = new_ticket("in_progress")
    other_plan = approved_plan(actors, other, "2026-11-20")
    pending = new_ticket("in_progress")
    pending_plan = file_plan(actors["handler"], pending, "2026-11-20")
    milestone_id = {
        "other plan": other_plan.milestones.get().pk, "pending plan": pending_plan.milestones.get().pk,
        "nonsense": "first", None: None, "ours": plan.milestones.get().pk,
    }[milestone]
    with unchanged(handled), pytest.raises(InvalidInput) as caught:
        sla_actions.record_milestone(actors["handler"], handled.pk, milestone_id=milestone_id, evidence=evidence)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_evidence_files_are_checked(handled, actors, unchanged):
    plan = approved_plan(actors, handled, "2026-11-20")
    bad = SimpleUploadedFile("evidence.exe", b"MZ\x90\x00" * 8, content_type="application/octet-stream")
    with unchanged(handled), pytest.raises(InvalidInput) as caught:
        sla_actions.record_milestone(
            actors["handler"], handled.pk, milestone_id=plan.milestones.get().pk, evidence="已完成", files=[bad]
        )
    assert caught.value.code == "file_type_not_allowed"


# --- provisional deadlines --------------------------------------------------------------------


def load_2027_notice() -> None:
    """A notice for 2027, as the loader stores it (test data: New Year's Day off)."""
    notice = HolidayNotice.objects.create(year=2027, title="2027年部分节假日安排")
    HolidayDay.objects.create(notice=notice, date=dt.date(2027, 1, 1), name="元旦", is_off_day=True)
    services.invalidate_calendar()


@pytest.fixture
def _forget_the_calendar():
    yield
    services.invalidate_calendar()


@pytest.mark.usefixtures("_forget_the_calendar")
def test_recount_provisional_deadlines_once_the_notice_is_loaded(new_ticket, travel, actors, org):
    travel("2026-12-28T10:00")
    ticket = new_ticket()
    extended = new_ticket()
    planned = new_ticket()
    settled = new_ticket(type="consultation")  # due 30 December: not provisional
    finished = new_ticket("closed")
    travel("2026-12-29T09:00")
    for t in (ticket, extended, planned):
        actions.dispatch(actors["dispatcher"], t.pk, org["housing"].pk)
        actions.sign(actors["handler"], t.pk)
    extend(actors, extended, days=5)
    approved_plan(actors, planned, "2027-02-26")
    before = {t.pk: (t.due_at, t.unit_due_at, t.due_provisional, t.unit_due_provisional)
              for t in Ticket.objects.all()}
    assert before[ticket.pk] == (end("2027-01-18"), end("2027-01-19"), True, True)
    assert before[extended.pk] == (end("2027-01-25"), end("2027-01-26"), True, True)
    assert before[planned.pk] == (end("2027-02-26"), end("2027-02-26"), True, False)
    assert before[settled.pk] == (end("2026-12-30"), None, False, False)
    events_before = TicketEvent.objects.filter(ticket=finished).count()

    load_2027_notice()
    travel("2026-12-30T02:00")
    assert sla_actions.recompute_provisional_deadlines() == 3

    after = {t.pk: (t.due_at, t.unit_due_at, t.due_provisional, t.unit_due_provisional)
             for t in Ticket.objects.all()}
    # 1 January 2027 is now off: every count past it moves one working day later.
    assert after[ticket.pk] == (end("2027-01-19"), end("2027-01-20"), False, False)
    assert after[extended.pk] == (end("2027-01-26"), end("2027-01-27"), False, False)
    # An approved plan keeps both deadlines at its last milestone.
    assert after[planned.pk] == (end("2027-02-26"), end("2027-02-26"), False, False)
    assert after[settled.pk] == before[settled.pk]
    assert after[finished.pk] == before[finished.pk]
    assert TicketEvent.objects.filter(ticket=finished).count() == events_before
    event = last_event(ticket)
    assert (event.kind, event.actor_role, event.public) == ("deadline_recounted", "system", True)
    assert event.data == {
        "old_due_at": "2027-01-18T23:59:59+08:00", "due_at": "2027-01-19T23:59:59+08:00",
        "unit_due_at": "2027-01-20T23:59:59+08:00", "provisional": False,
    }
    # Idempotent: a second run finds nothing provisional.
    assert sla_actions.recompute_provisional_deadlines() == 0
    assert TicketEvent.objects.filter(kind="deadline_recounted").count() == 3


@pytest.mark.usefixtures("_forget_the_calendar")
def test_recounting_without_a_new_notice_changes_nothing(new_ticket, travel):
    travel("2026-12-28T10:00")
    ticket = new_ticket()
    assert sla_actions.recompute_provisional_deadlines() == 0
    ticket = fresh(ticket)
    assert (ticket.due_at, ticket.due_provisional) == (end("2027-01-18"), True)
    assert not TicketEvent.objects.filter(kind="deadline_recounted").exists()


# --- supervision orders close when their cause goes ------------------------------------------


def test_an_approved_extension_closes_the_overdue_order(handled, actors, travel, django_capture_on_commit_callbacks):
    request_extension(actors["handler"], handled, days=5)
    travel("2026-11-24T10:00")
    order = supervision.open_order(fresh(handled), SupervisionOrder.Cause.OVERDUE)
    assert (order.status, order.level, order.unit_id) == ("open", 1, handled.lead_unit_id)
    with django_capture_on_commit_callbacks(execute=True):
        sla_actions.decide_extension(actors["supervisor"], handled.pk, approve=True, note="同意")
    order.refresh_from_db()
    assert (order.status, order.close_reason) == ("closed", gettext("The deadline was moved."))
    assert order.closed_at == dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
    assert list(TicketEvent.objects.filter(ticket=handled).values_list("kind", flat=True))[-3:] == [
        "supervision_opened", "extension_approved", "supervision_closed"
    ]


def test_recording_the_missed_milestone_closes_its_order(handled, actors, travel, django_capture_on_commit_callbacks):
    plan = approved_plan(actors, handled, "2026-11-20", "2026-12-18")
    first = plan.milestones.get(seq=1)
    travel("2026-11-23T09:00")
    order = supervision.open_order(fresh(handled), SupervisionOrder.Cause.MILESTONE_MISSED, milestone=first)
    with django_capture_on_commit_callbacks(execute=True):
        sla_actions.record_milestone(actors["handler"], handled.pk, milestone_id=first.pk, evidence="业主表决通过")
    order.refresh_from_db()
    assert (order.status, order.close_reason) == ("closed", gettext("The milestone was recorded."))


def test_orders_open_once_per_cause(handled, travel):
    travel("2026-11-24T10:00")
    ticket = fresh(handled)
    assert supervision.open_order(ticket, SupervisionOrder.Cause.OVERDUE) is not None
    assert supervision.open_order(ticket, SupervisionOrder.Cause.OVERDUE) is None
    assert SupervisionOrder.objects.filter(ticket=ticket).count() == 1


def test_a_pending_extension_lapses_with_the_reply(handled, actors):
    """Deciding is possible only while the unit handles the ticket; a reply withdraws it."""
    request_extension(actors["handler"], handled)
    actions.reply(actors["handler"], handled.pk, "已答复诉求人。", outcome="resolved")
    assert fresh(handled).extensions.get().status == Decision.WITHDRAWN
    with pytest.raises(Conflict) as caught:
        sla_actions.decide_extension(actors["supervisor"], handled.pk, approve=True)
    assert caught.value.code == "invalid_state"


def test_the_system_may_not_take_unit_acts(handled, unchanged):
    with unchanged(handled), pytest.raises(Forbidden) as caught:
        request_extension(system_actor(), handled)
    assert caught.value.code == "role_not_allowed"


def test_a_reply_withdraws_applications_still_pending(new_ticket, actors):
    from minyi.sla.models import Extension

    ticket = new_ticket("in_progress")
    sla_actions.request_extension(
        actors["handler"], ticket.pk, reason_code="hard_case", working_days=3, explanation="需联合核查"
    )
    actions.reply(actors["handler"], ticket.pk, "已处理完毕，现场已整改。", outcome="resolved")
    extension = Extension.objects.get(ticket=ticket)
    assert extension.status == "withdrawn"
    assert extension.decided_at is not None


def test_no_new_plan_after_a_completed_one(new_ticket, actors):
    import datetime as dt

    from minyi.core import clock

    ticket = new_ticket("in_progress")
    day = clock.local_today() + dt.timedelta(days=7)
    plan = sla_actions.file_plan(
        actors["handler"], ticket.pk, explanation="分阶段推进", milestones=[{"title": "完成整改", "due_date": day}]
    )
    sla_actions.decide_plan(actors["supervisor"], ticket.pk, approve=True)
    sla_actions.record_milestone(
        actors["handler"], ticket.pk, milestone_id=plan.milestones.get().pk, evidence="已完成"
    )
    plan.refresh_from_db()
    assert plan.status == "completed"
    from minyi.tickets import access

    assert "file_plan" not in access.available_transitions(actors["handler"], ticket)
    with pytest.raises(Conflict) as refused:
        sla_actions.file_plan(
            actors["handler"], ticket.pk, explanation="再来一次", milestones=[{"title": "x", "due_date": day}]
        )
    assert refused.value.code == "plan_exists"
