"""The actions: one write path per transition, one event per change, refusals change nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from conftest import submission_data
from minyi.core import clock
from minyi.core.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from minyi.org.actors import requester_actor, system_actor
from minyi.tickets import actions, notify
from minyi.tickets.intake import clean_submission
from minyi.tickets.models import AppendOnlyError, Notification, Reply, TicketEvent, TicketRating

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPLY = "已安排维保单位更换电梯主板，并于本周五前完成检测。"


def events(ticket):
    return list(
        TicketEvent.objects.filter(ticket=ticket).values_list("kind", "actor_role", "from_status", "to_status")
    )


def last_event(ticket) -> TicketEvent:
    return TicketEvent.objects.filter(ticket=ticket).order_by("-id").first()


# --- the happy paths --------------------------------------------------------------------------


def test_submit_records_the_ticket_and_its_first_event(org, actors, users):
    moment = dt.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    with clock.frozen_at(moment):
        ticket, code = actions.submit(
            actors["agent"], clean_submission(submission_data(org), [], channel="hotline")
        )
    ticket.refresh_from_db()
    assert ticket.status == "submitted"
    assert ticket.number == "20260930-000001"
    assert ticket.created_at == moment
    assert ticket.due_at == dt.datetime(2026, 10, 27, 23, 59, 59, tzinfo=SHANGHAI)  # complaint
    assert ticket.created_by == users["agent"]
    assert len(code) == 10
    event = last_event(ticket)
    assert (event.kind, event.actor, event.actor_role, event.actor_label) == (
        "submit", users["agent"], "intake_agent", "agent"
    )
    assert (event.from_status, event.to_status, event.public) == ("", "submitted", True)
    assert event.data == {"channel": "hotline", "attachments": 0}


def test_submit_needs_a_role_that_may_take_in(org, actors):
    submission = clean_submission(submission_data(org), [], channel="hotline")
    for name in ["handler", "leader", "supervisor", "cityleader", "admin"]:
        with pytest.raises(Forbidden) as caught:
            actions.submit(actors[name], submission)
        assert caught.value.code == "role_not_allowed"
    assert TicketEvent.objects.count() == 0


def test_the_whole_path_with_a_return_and_a_return_visit(new_ticket, actors, org, users):
    ticket = new_ticket("returned")
    actions.arbitrate(actors["dispatcher"], ticket.pk, note="经研判属住建局职责，退单不成立")
    actions.sign(actors["leader"], ticket.pk, note="已签收")
    actions.reply(actors["leader"], ticket.pk, REPLY, outcome="resolved")
    actions.rate(actors["agent"], ticket.pk, rating="basically_satisfied", comment="回访：基本满意")
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert events(ticket) == [
        ("submit", "intake_agent", "", "submitted"),
        ("dispatch", "dispatcher", "submitted", "dispatched"),
        ("return", "handler", "dispatched", "returned"),
        ("arbitrate", "dispatcher", "returned", "dispatched"),
        ("sign", "unit_leader", "dispatched", "in_progress"),
        ("reply", "unit_leader", "in_progress", "replied"),
        ("rate", "intake_agent", "replied", "closed"),
    ]
    rating = TicketRating.objects.get(ticket=ticket)
    assert (rating.rating, rating.comment, rating.recorded_by) == (
        "basically_satisfied", "回访：基本满意", users["agent"]
    )
    assert last_event(ticket).data == {"rating": "basically_satisfied", "return_visit": True, "reply": ticket.replies.get().pk}


def test_direct_answer_closes_a_consultation(new_ticket, actors, users):
    ticket = new_ticket(type="consultation")
    moment = clock.now() + dt.timedelta(minutes=5)
    with clock.frozen_at(moment):
        actions.direct_answer(actors["agent"], ticket.pk, "  公交卡补办可在各大地铁站客服中心办理。  ")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.replied_at, ticket.closed_at) == ("closed", moment, moment)
    reply = Reply.objects.get(ticket=ticket)
    assert (reply.text, reply.direct, reply.unit, reply.author) == (
        "公交卡补办可在各大地铁站客服中心办理。", True, None, users["agent"]
    )
    assert events(ticket)[-1] == ("direct_answer", "intake_agent", "submitted", "closed")


def test_dispatch_with_assisting_units(new_ticket, actors, org):
    with clock.frozen_at(dt.datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)):
        ticket = new_ticket()
    with clock.frozen_at(dt.datetime(2026, 11, 3, 9, 0, tzinfo=SHANGHAI)):
        actions.dispatch(
            actors["dispatcher"], ticket.pk, org["housing"].pk,
            assisting_unit_ids=[org["street_office"].pk, org["housing"].pk, org["street_office"].pk],
        )
    ticket.refresh_from_db()
    assert ticket.lead_unit == org["housing"]
    # The lead is not also assisting; duplicates collapse.
    assert list(ticket.assisting_units.all()) == [org["street_office"]]
    # The unit's clock starts at its receipt: 15 working days from Tuesday 3 November 2026.
    assert ticket.unit_due_at == dt.datetime(2026, 11, 24, 23, 59, 59, tzinfo=SHANGHAI)
    assert ticket.due_at == dt.datetime(2026, 11, 23, 23, 59, 59, tzinfo=SHANGHAI)
    event = last_event(ticket)
    assert event.unit == org["housing"]
    # Sign for within 1 office hour; return within one working day of office time (9 hours).
    assert event.data == {
        "unit": org["housing"].name, "assisting": [org["street_office"].name],
        "unit_due_at": "2026-11-24T23:59:59+08:00",
        "sign_due_at": "2026-11-03T10:00:00+08:00",
        "return_due_at": "2026-11-03T18:00:00+08:00",
    }
    assert ticket.assist_due_at == dt.datetime(2026, 11, 6, 23, 59, 59, tzinfo=SHANGHAI)


def test_redispatch_after_a_return_moves_the_ticket(new_ticket, actors, org):
    ticket = new_ticket("returned")
    actions.dispatch(actors["dispatcher"], ticket.pk, org["transport"].pk)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.lead_unit, ticket.signed_at) == ("dispatched", org["transport"], None)
    # The old unit may no longer act on it, and no longer sees it.
    with pytest.raises(NotFound):
        actions.sign(actors["handler"], ticket.pk)
    actions.sign(actors["other_handler"], ticket.pk)


@pytest.mark.parametrize("invalid", ["unit", "inactive", "assisting"])
def test_dispatch_refuses_invalid_units(new_ticket, actors, org, unchanged, invalid):
    ticket = new_ticket()
    org["transport"].active = False
    org["transport"].save()
    unit_id, assisting, field = {
        "unit": (999999, [], "unit_id"),
        "inactive": (org["transport"].pk, [], "unit_id"),
        "assisting": (org["housing"].pk, [org["transport"].pk], "assisting_unit_ids"),
    }[invalid]
    with unchanged(ticket), pytest.raises(InvalidInput) as caught:
        actions.dispatch(actors["dispatcher"], ticket.pk, unit_id, assisting_unit_ids=assisting)
    assert (caught.value.code, caught.value.field) == ("invalid_unit", field)


def test_return_records_the_reason_privately(new_ticket, actors, org):
    ticket = new_ticket("dispatched")
    actions.return_ticket(actors["handler"], ticket.pk, reason_code="wrong_locality", note=" 属于南山区 ", legal_basis="《物业管理条例》第十二条")
    event = last_event(ticket)
    assert (event.kind, event.note, event.public, event.unit) == ("return", "属于南山区", False, org["housing"])
    assert event.data == {
        "reason_code": "wrong_locality", "reason": "不属于本辖区", "legal_basis": "《物业管理条例》第十二条"
    }


@pytest.mark.parametrize(
    ("reason_code", "note", "code", "field"),
    [
        ("no_such_reason", "说明", "invalid_reason", "reason_code"),
        ("not_our_remit", "   ", "required", "note"),
        ("not_our_remit", "长" * 2001, "too_long", "note"),
    ],
)
def test_return_refusals(new_ticket, actors, unchanged, reason_code, note, code, field):
    ticket = new_ticket("dispatched")
    with unchanged(ticket), pytest.raises(InvalidInput) as caught:
        actions.return_ticket(actors["handler"], ticket.pk, reason_code=reason_code, note=note, legal_basis="《物业管理条例》第十二条")
    assert (caught.value.code, caught.value.field) == (code, field)


def test_an_inactive_reason_is_refused(new_ticket, actors, unchanged):
    from minyi.tickets.models import ReturnReason

    ReturnReason.objects.filter(code="duplicate").update(active=False)
    ticket = new_ticket("dispatched")
    with unchanged(ticket), pytest.raises(InvalidInput) as caught:
        actions.return_ticket(actors["handler"], ticket.pk, reason_code="duplicate", note="重复", legal_basis="《物业管理条例》第十二条")
    assert caught.value.code == "invalid_reason"


def test_requester_rates_with_number_and_code(new_ticket):
    ticket = new_ticket("replied")
    actions.rate(requester_actor(), None, rating="dissatisfied", comment="电梯仍然故障",
                 number=ticket.number, code=ticket.access_code.lower())
    ticket.refresh_from_db()
    assert (ticket.status, ticket.closed_at) == ("under_review", None)
    rating = TicketRating.objects.get(ticket=ticket)
    assert (rating.rating, rating.recorded_by, rating.reply) == (
        "dissatisfied", None, Reply.objects.get(ticket=ticket)
    )
    event = last_event(ticket)
    assert (event.actor, event.actor_role, event.data) == (
        None, "requester", {"rating": "dissatisfied", "return_visit": False, "reply": rating.reply.pk}
    )


@pytest.mark.parametrize(
    ("number", "code"),
    [("right", "WRONGCODE2"), ("20200101-000001", "right"), ("", "right"), ("right", "")],
)
def test_requester_rating_with_a_wrong_number_or_code(new_ticket, unchanged, number, code):
    ticket = new_ticket("replied")
    number = ticket.number if number == "right" else number
    code = ticket.access_code if code == "right" else code
    with unchanged(ticket), pytest.raises(NotFound) as caught:
        actions.rate(requester_actor(), None, rating="satisfied", number=number, code=code)
    assert caught.value.code == "track_not_found"


@pytest.mark.parametrize(
    ("rating", "comment", "code", "field"),
    [("great", "", "invalid_rating", "rating"), ("satisfied", "长" * 1001, "too_long", "comment")],
)
def test_rate_refuses_bad_input(new_ticket, unchanged, rating, comment, code, field):
    ticket = new_ticket("replied")
    with unchanged(ticket), pytest.raises(InvalidInput) as caught:
        actions.rate(requester_actor(), None, rating=rating, comment=comment,
                     number=ticket.number, code=ticket.access_code)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_close_after_review_and_by_the_system(new_ticket, actors):
    reviewed = new_ticket("replied")
    actions.rate(actors["supervisor"], reviewed.pk, rating="dissatisfied")
    actions.close(actors["supervisor"], reviewed.pk, note="经核查诉求不合理")
    reviewed.refresh_from_db()
    assert reviewed.status == "closed"
    assert events(reviewed)[-2:] == [
        ("rate", "supervisor", "replied", "under_review"),
        ("close", "supervisor", "under_review", "closed"),
    ]
    expired = new_ticket("replied")
    actions.close(system_actor(), expired.pk, note="评价期满")
    event = last_event(expired)
    assert (event.kind, event.actor, event.actor_role, event.actor_label) == ("close", None, "system", "system")


# --- refusals change nothing ------------------------------------------------------------------

CALLS = {
    "direct_answer": lambda a, t: actions.direct_answer(a, t, "答复内容足够长"),
    "dispatch": lambda a, t: actions.dispatch(a, t, a_unit_id()),
    "sign": lambda a, t: actions.sign(a, t),
    "return": lambda a, t: actions.return_ticket(a, t, reason_code="not_our_remit", note="不属于本单位", legal_basis="《物业管理条例》第十二条"),
    "reply": lambda a, t: actions.reply(a, t, REPLY, outcome="resolved"),
    "rate": lambda a, t: actions.rate(a, t, rating="satisfied"),
    "close": lambda a, t: actions.close(a, t),
}


def a_unit_id() -> int:
    from minyi.org.models import Unit

    return Unit.objects.get(code="SZZJJ").pk


@pytest.mark.parametrize(
    ("name", "status", "actor"),
    [
        ("direct_answer", "submitted", "supervisor"),
        ("direct_answer", "submitted", "cityleader"),
        ("dispatch", "submitted", "agent"),
        ("dispatch", "submitted", "admin"),
        ("dispatch", "returned", "handler"),
        ("sign", "dispatched", "dispatcher"),
        ("return", "dispatched", "supervisor"),
        ("reply", "in_progress", "dispatcher"),
        ("rate", "replied", "dispatcher"),
        ("rate", "replied", "handler"),
        ("close", "replied", "agent"),
        ("close", "replied", "leader"),
    ],
)
def test_wrong_role(new_ticket, actors, unchanged, name, status, actor):
    ticket = new_ticket(status, type="consultation")
    with unchanged(ticket), pytest.raises(Forbidden) as caught:
        CALLS[name](actors[actor], ticket.pk)
    assert caught.value.code == "role_not_allowed"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("direct_answer", "dispatched"), ("direct_answer", "closed"),
        ("dispatch", "dispatched"), ("dispatch", "in_progress"), ("dispatch", "closed"),
        ("sign", "in_progress"), ("sign", "returned"), ("sign", "replied"),
        ("return", "in_progress"), ("return", "returned"),
        ("reply", "dispatched"), ("reply", "replied"),
        ("rate", "in_progress"), ("rate", "closed"),
        ("close", "in_progress"), ("close", "closed"),
    ],
)
def test_wrong_state(new_ticket, actors, unchanged, name, status):
    by = {
        "direct_answer": "dispatcher", "dispatch": "dispatcher", "sign": "handler",
        "return": "handler", "reply": "handler", "rate": "supervisor", "close": "supervisor",
    }[name]
    ticket = new_ticket(status, type="consultation")
    with unchanged(ticket), pytest.raises(Conflict) as caught:
        CALLS[name](actors[by], ticket.pk)
    # A rated ticket says so; other states say the state moved on.
    assert caught.value.code == ("already_rated" if (name, status) == ("rate", "closed") else "invalid_state")


@pytest.mark.parametrize(("name", "status"), [("sign", "dispatched"), ("return", "dispatched"), ("reply", "in_progress")])
def test_another_unit(new_ticket, actors, unchanged, name, status):
    ticket = new_ticket(status)
    with unchanged(ticket), pytest.raises(NotFound) as caught:
        CALLS[name](actors["other_handler"], ticket.pk)
    assert caught.value.code == "ticket_not_found"


@pytest.mark.parametrize(("name", "status"), [("sign", "dispatched"), ("return", "dispatched"), ("reply", "in_progress")])
def test_an_assisting_unit_may_not_act_for_the_lead(new_ticket, actors, org, unchanged, name, status):
    ticket = new_ticket(status)
    ticket.assisting_units.add(org["transport"])
    with unchanged(ticket), pytest.raises(Forbidden) as caught:
        CALLS[name](actors["other_handler"], ticket.pk)
    assert caught.value.code == "not_lead_unit"


def test_direct_answer_only_for_consultations(new_ticket, actors, unchanged):
    ticket = new_ticket(type="complaint")
    with unchanged(ticket), pytest.raises(Conflict) as caught:
        actions.direct_answer(actors["dispatcher"], ticket.pk, "答复内容足够长")
    assert caught.value.code == "not_a_consultation"


@pytest.mark.parametrize("name", ["direct_answer", "reply"])
@pytest.mark.parametrize(("text", "code"), [("", "required"), ("   ", "required"), ("长" * 5001, "too_long")])
def test_texts_are_required_and_bounded(new_ticket, actors, unchanged, name, text, code):
    ticket = new_ticket("submitted" if name == "direct_answer" else "in_progress", type="consultation")
    by = "dispatcher" if name == "direct_answer" else "handler"
    call = actions.direct_answer if name == "direct_answer" else actions.reply
    with unchanged(ticket), pytest.raises(InvalidInput) as caught:
        call(actors[by], ticket.pk, text, **({"outcome": "resolved"} if name == "reply" else {}))
    assert (caught.value.code, caught.value.field) == (code, "text")


def test_the_public_and_roleless_staff_are_refused(new_ticket, actors, users, unchanged):
    from django.contrib.auth.models import AnonymousUser, User

    from minyi.org.actors import actor_for_user

    ticket = new_ticket("dispatched")
    users["handler"].groups.clear()
    roleless = User.objects.get(pk=users["handler"].pk)  # a fresh login: roles read anew
    with unchanged(ticket):
        with pytest.raises(NotAuthenticated):
            actions.sign(actor_for_user(AnonymousUser()), ticket.pk)
        with pytest.raises(Forbidden) as caught:
            actions.sign(actor_for_user(roleless), ticket.pk)
        assert caught.value.code == "no_role"


def test_missing_ticket(actors, db):
    with pytest.raises(NotFound) as caught:
        actions.sign(actors["handler"], 999999)
    assert caught.value.code == "ticket_not_found"


# --- the timeline is append-only --------------------------------------------------------------


def test_events_cannot_be_changed_or_deleted(new_ticket):
    ticket = new_ticket("dispatched")
    event = last_event(ticket)
    event.note = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        TicketEvent.objects.filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(AppendOnlyError):
        TicketEvent.objects.filter(pk=event.pk).delete()
    stored = TicketEvent.objects.get(pk=event.pk)
    assert stored.note == ""
    assert TicketEvent.objects.filter(ticket=ticket).count() == 2


# --- notifications after commit ---------------------------------------------------------------


def _notified(event) -> list[str]:
    return sorted(Notification.objects.filter(event=event).values_list("user__username", flat=True))


def test_notifications_are_sent_after_commit(new_ticket, actors, org, django_capture_on_commit_callbacks):
    ticket = new_ticket()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk)
    event = last_event(ticket)
    assert len(callbacks) == 1
    assert Notification.objects.filter(event=event).count() == 0  # nothing before the commit
    callbacks[0]()
    assert _notified(event) == ["handler", "leader"]
    # Delivering twice (a retried job, a second worker) creates nothing more.
    notify.deliver.call_local(event.pk)
    assert _notified(event) == ["handler", "leader"]


def test_who_hears_of_what(new_ticket, actors, django_capture_on_commit_callbacks):
    ticket = new_ticket("dispatched")
    with django_capture_on_commit_callbacks(execute=True):
        actions.return_ticket(actors["handler"], ticket.pk, reason_code="not_our_remit", note="不属于本单位", legal_basis="《物业管理条例》第十二条")
    assert _notified(last_event(ticket)) == ["dispatcher"]

    ticket = new_ticket("replied")
    with django_capture_on_commit_callbacks(execute=True):
        actions.rate(actors["agent"], ticket.pk, rating="dissatisfied")
    assert _notified(last_event(ticket)) == ["supervisor"]

    ticket = new_ticket("dispatched")
    with django_capture_on_commit_callbacks(execute=True):
        actions.sign(actors["handler"], ticket.pk)
    assert _notified(last_event(ticket)) == []


def test_a_refused_action_schedules_nothing(new_ticket, actors, django_capture_on_commit_callbacks):
    ticket = new_ticket("in_progress")
    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(Conflict):
        actions.sign(actors["handler"], ticket.pk)
    assert callbacks == []


def test_time_limit_applications_and_decisions_are_notified(
    new_ticket, actors, users, django_capture_on_commit_callbacks
):
    from minyi.sla import actions as sla_actions
    from minyi.tickets.models import Notification

    ticket = new_ticket("in_progress")
    with django_capture_on_commit_callbacks(execute=True):
        sla_actions.request_extension(
            actors["handler"], ticket.pk, reason_code="hard_case", working_days=3, explanation="需联合核查"
        )
    asked = Notification.objects.filter(ticket=ticket, event__kind="request_extension")
    assert set(asked.values_list("user__username", flat=True)) == {"supervisor"}

    with django_capture_on_commit_callbacks(execute=True):
        sla_actions.decide_extension(actors["supervisor"], ticket.pk, approve=True)
    told = Notification.objects.filter(ticket=ticket, event__kind="extension_approved")
    assert set(told.values_list("user__username", flat=True)) == {"handler", "leader"}


def test_submit_stores_every_kind_of_value_as_given(org, actors):
    """On PostgreSQL a new ticket travels as one JSON row (`tickets/store.py`): decimals,
    instants to the microsecond, sealed personal fields, quotes, backslashes and characters
    outside the BMP come back exactly as the ORM would have written them."""
    moment = dt.datetime(2026, 9, 30, 10, 0, 1, 123456, tzinfo=SHANGHAI)
    text = '他说："井盖\\破损"，\'严重\'。😀 {"x": 1} %s %(y)s'
    data = submission_data(
        org, text=text, title="井盖破损😀", latitude="22.543096", longitude="114.057865",
        requester_id_number="11010519491231002X", requester_email="zhang@example.cn", urgent=True,
    )
    with clock.frozen_at(moment):
        ticket, _code = actions.submit(actors["agent"], clean_submission(data, [], channel="hotline"))
    stored = type(ticket).objects.get(pk=ticket.pk)
    assert (stored.title, stored.text) == ("井盖破损😀", text)
    assert (str(stored.latitude), str(stored.longitude)) == ("22.543096", "114.057865")
    assert stored.created_at == moment and stored.due_at == ticket.due_at
    assert (stored.requester_name, stored.requester_phone) == ("张三", "13800138000")
    assert (stored.requester_id_number, stored.requester_email) == ("11010519491231002X", "zhang@example.cn")
    assert stored.urgent is True and stored.unit_due_at is None and stored.lead_unit_id is None
    assert (stored.category_id, stored.district_id, stored.street_id) == (
        org["property"].pk, org["futian"].pk, org["lianhua"].pk
    )
    event = last_event(stored)
    assert event.ticket_id == ticket.pk and event.created_at == moment
    assert event.data == {"channel": "hotline", "attachments": 0}
