"""Every change of a ticket's state, one function per transition.

Each action: opens a transaction, locks the ticket row, checks permission (through
`access`) and state (the workflow table), mutates and saves only the changed fields, appends
one timeline event, and schedules notifications for after the commit. Web views, the REST API
and background jobs call these; nothing else writes a ticket's state.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, Required, TypedDict, Unpack

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from minyi.core import clock
from minyi.core.errors import Conflict, Gone, InvalidInput
from minyi.dispatch.timing import dispatch_clocks
from minyi.org.actors import Actor
from minyi.org.models import Role, Unit
from minyi.privacy.crypto import phone_hash
from minyi.sla import services as sla
from minyi.tickets import access, notify, workflow
from minyi.tickets.choices import OPEN_STATUSES, Rating, ReplyState, RequestType, Status
from minyi.tickets.codes import hash_access_code, new_access_code
from minyi.tickets.intake import CleanFile, Submission
from minyi.tickets.models import (
    AssistInput,
    Attachment,
    Reply,
    ReplyOutcome,
    ReturnReason,
    Ticket,
    TicketEvent,
    TicketRating,
)
from minyi.tickets.store import store_new_ticket
from minyi.tickets.timeline import followed

log = logging.getLogger(__name__)


def _status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


class EventFields(TypedDict, total=False):
    """What an event says besides its ticket, kind, actor and role."""

    from_status: Required[str]
    note: str
    unit: Unit | None
    data: dict[str, Any] | None
    public: bool


def new_event(ticket: Ticket, kind: str, actor: Actor, role: str, **fields: Unpack[EventFields]) -> TicketEvent:
    """A timeline event of `ticket`, not yet saved (`record_event` saves it)."""
    return TicketEvent(
        ticket=ticket,
        kind=kind,
        actor=actor.user,
        actor_role=role,
        actor_label=actor.label,
        unit=fields.get("unit"),
        from_status=fields["from_status"],
        to_status=ticket.status,
        note=fields.get("note", ""),
        data=fields.get("data") or {},
        public=fields.get("public", True),
        created_at=clock.now(),
    )


def event_saved(event: TicketEvent) -> TicketEvent:
    """After an event is written: its notifications go out once the transaction commits."""
    transaction.on_commit(lambda: notify.event_committed(event.pk, event.kind))
    return event


def record_event(ticket: Ticket, kind: str, actor: Actor, role: str, **fields: Unpack[EventFields]) -> TicketEvent:
    """Append one event to `ticket`'s timeline (in the caller's transaction)."""
    event = new_event(ticket, kind, actor, role, **fields)
    event.save(force_insert=True)
    return event_saved(event)


@contextmanager
def transition(actor: Actor, ticket_id: int, name: str) -> Iterator[tuple[Ticket, str]]:
    """Lock the ticket, check who may act and that the state allows it; yield (ticket, role)."""
    with transaction.atomic():
        ticket = access.access_ticket(actor, ticket_id, for_update=True)
        role = access.transition_role(actor, ticket, name)
        check_state(ticket, name)
        yield ticket, role


def check_state(ticket: Ticket, name: str) -> None:
    if not workflow.state_allows(name, ticket.status):
        raise Conflict(
            _("The ticket is now “%(status)s”; this action is no longer possible. Please reload.")
            % {"status": _status_label(ticket.status)},
            "invalid_state",
        )


def required_text(value: str | None, field: str, max_length: int = 5000) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(_("Please write the text."), "required", field=field)
    if len(text) > max_length:
        raise InvalidInput(
            _("The text is too long (at most %(n)d characters).") % {"n": max_length},
            "too_long", field=field,
        )
    return text


def add_attachments(
    ticket: Ticket, files: tuple[CleanFile, ...] | list[CleanFile], actor: Actor, *, public: bool = True
) -> list[Attachment]:
    """Store checked uploads (see `intake.clean_files`) on the ticket; call inside the action."""
    stored = []
    for item in files:
        attachment = Attachment(
            ticket=ticket,
            token=secrets.token_hex(16),
            name=item.name,
            content_type=item.content_type,
            extension=item.extension,
            size=item.size,
            public=public,
            uploaded_by=actor.user,
        )
        attachment.file.save(f"upload{item.extension}", item.upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


# --- intake -------------------------------------------------------------------------------


def submit(actor: Actor, submission: Submission) -> tuple[Ticket, str]:
    """File a new request. Returns the ticket and its access code (shown once, stored hashed)."""
    role = workflow.role_for("submit", actor.roles)
    if role is None:
        raise access.Forbidden(_("Your role may not do this."), "role_not_allowed")
    code = new_access_code()
    now = clock.now()
    days, urgent_hours = sla.policy_for(submission.type, submission.category)
    due = sla.deadline_for(now, days, urgent=submission.urgent, urgent_hours=urgent_hours)
    ticket = Ticket(
        channel=submission.channel,
        status=Status.SUBMITTED,
        anonymous=submission.anonymous,
        requester_kind=submission.requester_kind,
        requester_name=submission.requester_name,
        requester_phone=submission.requester_phone,
        requester_phone_hash=phone_hash(submission.requester_phone),
        requester_id_number=submission.requester_id_number,
        requester_email=submission.requester_email,
        enterprise_name=submission.enterprise_name,
        enterprise_credit_code=submission.enterprise_credit_code,
        contact_allowed=submission.contact_allowed,
        access_code_hash=hash_access_code(code),
        type=submission.type,
        urgent=submission.urgent,
        category=submission.category,
        district=submission.district,
        street=submission.street,
        address=submission.address,
        latitude=submission.latitude,
        longitude=submission.longitude,
        title=submission.title,
        text=submission.text,
        created_at=now,
        time_limit_days=days,
        due_at=due.at,
        due_provisional=due.provisional,
        created_by=actor.user,
    )
    event = new_event(
        ticket, "submit", actor, role, from_status="",
        data={"channel": ticket.channel, "attachments": len(submission.files)},
    )
    # One statement on PostgreSQL without attachments; a transaction when files follow.
    with transaction.atomic() if submission.files else nullcontext():
        store_new_ticket(ticket, event, clock.local_today())
        add_attachments(ticket, submission.files, actor)
    event_saved(event)
    log.info("ticket %s submitted via %s", ticket.number, ticket.channel)
    if settings.MINYI_AUTO_DISPATCH:
        from minyi.dispatch.services import auto_dispatch  # dispatch builds on this module

        ticket = auto_dispatch(ticket)
    return ticket, code


def direct_answer(actor: Actor, ticket_id: int, text: str) -> Ticket:
    """The platform answers a consultation itself (knowledge base) and closes it."""
    text = required_text(text, "text")
    with transition(actor, ticket_id, "direct_answer") as (ticket, role):
        if ticket.type != RequestType.CONSULTATION:
            raise Conflict(
                _("Only consultations can be answered directly by the platform."),
                "not_a_consultation",
            )
        before = ticket.status
        now = clock.now()
        Reply.objects.create(ticket=ticket, text=text, author=actor.user, direct=True, created_at=now)
        ticket.status = workflow.target_for("direct_answer")
        ticket.replied_at = ticket.closed_at = now
        ticket.save(update_fields=["status", "replied_at", "closed_at"])
        record_event(ticket, "direct_answer", actor, role, from_status=before, note=text)
    return ticket


def unit_deadline(ticket: Ticket, received_at) -> sla.Deadline:
    """The unit's deadline when it receives the ticket at `received_at`."""
    _, urgent_hours = sla.policy_for(ticket.type, ticket.category)
    return sla.deadline_for(
        received_at, ticket.time_limit_days + ticket.extended_days, urgent=ticket.urgent, urgent_hours=urgent_hours
    )


# --- duplicates -----------------------------------------------------------------------------


def merge(actor: Actor, ticket_id: int, into_id: int | None, note: str = "") -> Ticket:
    """Merge a duplicate not yet at a unit into another open ticket (合并). The duplicate keeps
    its number and timeline; its requester follows the other ticket's handling and rates its
    reply on their own ticket. Tickets merged earlier into the duplicate follow it."""
    note = (note or "").strip()
    if len(note) > 2000:
        raise InvalidInput(_("The text is too long (at most %(n)d characters).") % {"n": 2000}, "too_long", field="note")
    if not into_id:
        raise InvalidInput(_("Please choose the ticket to merge into."), "invalid_target", field="into_id")
    if into_id == ticket_id:
        raise InvalidInput(_("A ticket cannot be merged into itself."), "merge_into_self", field="into_id")
    with transaction.atomic():
        access.access_ticket(actor, ticket_id)  # visibility (404) before anything is locked
        if not access.access_ticket_queryset(actor).filter(pk=into_id).exists():
            raise InvalidInput(_("There is no such ticket to merge into."), "invalid_target", field="into_id")
        # Both rows locked in id order, so two opposite merges cannot deadlock.
        locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[ticket_id, into_id]).order_by("pk")}
        ticket, target = locked[ticket_id], locked[into_id]
        role = access.transition_role(actor, ticket, "merge")
        check_state(ticket, "merge")
        if target.status not in OPEN_STATUSES:
            raise InvalidInput(
                _("Ticket %(number)s is no longer open; choose an open ticket.") % {"number": target.number},
                "target_closed", field="into_id",
            )
        before = ticket.status
        ticket.status = workflow.target_for("merge")
        ticket.merged_into = target
        ticket.save(update_fields=["status", "merged_into"])
        followers = list(Ticket.objects.select_for_update().filter(merged_into=ticket).order_by("pk"))
        for follower in followers:
            follower.merged_into = target
            follower.save(update_fields=["merged_into"])
        record_event(
            ticket, "merge", actor, role, from_status=before, note=note,
            data={"into": target.number, "into_id": target.pk, "followers": [f.number for f in followers]},
        )
        record_event(
            target, "merged_in", actor, role, from_status=target.status, note=note,
            data={"merged": [ticket.number, *[f.number for f in followers]], "merged_id": ticket.pk},
            public=False,
        )
    return ticket


# --- dispatch and the unit ------------------------------------------------------------------


def dispatch(
    actor: Actor,
    ticket_id: int,
    unit_id: int,
    *,
    assisting_unit_ids: list[int] | tuple[int, ...] = (),
    note: str = "",
) -> Ticket:
    units = {u.pk: u for u in Unit.objects.filter(pk__in=[unit_id, *assisting_unit_ids], active=True)}
    unit = units.get(unit_id)
    if unit is None:
        raise InvalidInput(_("Please choose an active handling unit."), "invalid_unit", field="unit_id")
    assisting = [units[pk] for pk in dict.fromkeys(assisting_unit_ids) if pk != unit_id and pk in units]
    if len(assisting) != len({pk for pk in assisting_unit_ids if pk != unit_id}):
        raise InvalidInput(_("An assisting unit is not valid."), "invalid_unit", field="assisting_unit_ids")
    with transition(actor, ticket_id, "dispatch") as (ticket, role):
        before = ticket.status
        returned_by = ticket.lead_unit_id if before == Status.RETURNED else None
        now = clock.now()
        data: dict[str, Any] = {"unit": unit.name, "assisting": [u.name for u in assisting]}
        if returned_by is not None:
            # The return is upheld when the ticket goes elsewhere; sent to the same unit again
            # (e.g. after the platform completed missing information) it is "resent", and the
            # unit may return it again. Rejecting a return is `arbitrate`.
            outcome = "resent" if returned_by == unit.pk else "upheld"
            data.update(return_outcome=outcome, returned_unit_id=returned_by)
        start_unit_clocks(ticket, unit, now)
        ticket.status = workflow.target_for("dispatch")
        ticket.forced_dispatch = False
        ticket.save(update_fields=["status", "forced_dispatch", *UNIT_CLOCK_FIELDS])
        ticket.assisting_units.set(assisting)
        record_event(
            ticket, "dispatch", actor, role, from_status=before, note=note.strip(), unit=unit,
            data={**data, **unit_clock_data(ticket)},
        )
    return ticket


#: What a dispatch (or a forced dispatch) resets: the receiving unit and its clocks.
UNIT_CLOCK_FIELDS = [
    "lead_unit", "dispatched_at", "signed_at", "signed_late", "unit_due_at", "unit_due_provisional",
    "sign_due_at", "return_due_at", "assist_due_at",
]


def start_unit_clocks(ticket: Ticket, unit: Unit, now) -> None:
    """The unit's clocks start at its receipt; a re-dispatch restarts them (not the requester's)."""
    unit_due = unit_deadline(ticket, now)
    clocks = dispatch_clocks(now, urgent=ticket.urgent, unit_due_at=unit_due.at)
    ticket.lead_unit = unit
    ticket.dispatched_at = now
    ticket.signed_at = None
    ticket.signed_late = None
    ticket.unit_due_at, ticket.unit_due_provisional = unit_due.at, unit_due.provisional
    ticket.sign_due_at, ticket.return_due_at, ticket.assist_due_at = clocks


def unit_clock_data(ticket: Ticket) -> dict[str, str]:
    return {
        "unit_due_at": ticket.unit_due_at.isoformat() if ticket.unit_due_at else "",
        "sign_due_at": ticket.sign_due_at.isoformat() if ticket.sign_due_at else "",
        "return_due_at": ticket.return_due_at.isoformat() if ticket.return_due_at else "",
    }


def arbitrate(actor: Actor, ticket_id: int, *, note: str) -> Ticket:
    """The dispatcher rejects the unit's return and force-dispatches the ticket back to it
    (仲裁): the unit's clocks restart and it may not return the ticket again."""
    note = required_text(note, "note", 2000)
    with transition(actor, ticket_id, "arbitrate") as (ticket, role):
        before = ticket.status
        unit = ticket.lead_unit
        if unit is None or not unit.active:  # cannot happen after a return; kept as a guard
            raise Conflict(_("The unit that returned the ticket is no longer active."), "invalid_unit")
        now = clock.now()
        start_unit_clocks(ticket, unit, now)
        ticket.status = workflow.target_for("arbitrate")
        ticket.forced_dispatch = True
        ticket.save(update_fields=["status", "forced_dispatch", *UNIT_CLOCK_FIELDS])
        record_event(
            ticket, "arbitrate", actor, role, from_status=before, note=note, unit=unit,
            data={"unit": unit.name, "return_outcome": "rejected", **unit_clock_data(ticket)},
            public=False,
        )
    return ticket


def sign(actor: Actor, ticket_id: int, *, note: str = "") -> Ticket:
    with transition(actor, ticket_id, "sign") as (ticket, role):
        before = ticket.status
        now = clock.now()
        ticket.status = workflow.target_for("sign")
        ticket.signed_at = now
        # Late when past the sign-for time (feeds the response rate); tickets dispatched before
        # sign-for times existed have none and count as on time.
        ticket.signed_late = ticket.sign_due_at is not None and now > ticket.sign_due_at
        ticket.save(update_fields=["status", "signed_at", "signed_late"])
        record_event(
            ticket, "sign", actor, role, from_status=before, note=note.strip(), unit=ticket.lead_unit,
            data={"late": ticket.signed_late},
        )
    return ticket


def return_ticket(actor: Actor, ticket_id: int, *, reason_code: str, note: str, legal_basis: str = "") -> Ticket:
    """A unit hands a wrongly dispatched ticket back to the dispatcher (退单), within the return
    window after its receipt, with a reason code and the legal basis it relies on."""
    reason = ReturnReason.objects.filter(code=reason_code, active=True).first()
    if reason is None:
        raise InvalidInput(_("Please choose a reason for the return."), "invalid_reason", field="reason_code")
    note = required_text(note, "note", 2000)
    legal_basis = (legal_basis or "").strip()
    if reason.requires_legal_basis or legal_basis:
        legal_basis = required_text(legal_basis, "legal_basis", 1000)
    with transition(actor, ticket_id, "return") as (ticket, role):
        if ticket.forced_dispatch:
            raise Conflict(
                _("The dispatcher ruled on this ticket's return: it cannot be returned again."),
                "forced_dispatch",
            )
        now = clock.now()
        if ticket.return_due_at is not None and now > ticket.return_due_at:
            raise Conflict(
                _("The time to return this ticket has passed; please handle it."), "return_window_passed"
            )
        before = ticket.status
        unit = ticket.lead_unit
        ticket.status = workflow.target_for("return")
        ticket.save(update_fields=["status"])
        record_event(
            ticket, "return", actor, role, from_status=before, note=note, unit=unit,
            data={"reason_code": reason.code, "reason": reason.name, "legal_basis": legal_basis},
            public=False,
        )
    return ticket


def assist_input(actor: Actor, ticket_id: int, *, text: str) -> AssistInput:
    """An assisting unit adds its input (协办意见) for the lead unit; after the deadline it is
    still taken, marked late."""
    text = required_text(text, "text", 5000)
    with transition(actor, ticket_id, "assist_input") as (ticket, role):
        now = clock.now()
        late = ticket.assist_due_at is not None and now > ticket.assist_due_at
        unit = Unit.objects.get(pk=actor.unit_id or 0)  # access checked it is an assisting unit
        item = AssistInput.objects.create(
            ticket=ticket, unit=unit, text=text, author=actor.user, late=late, created_at=now
        )
        record_event(
            ticket, "assist_input", actor, role, from_status=ticket.status, note=text, unit=unit,
            data={"unit": unit.name, "late": late, "input": item.pk}, public=False,
        )
    return item


def reply(
    actor: Actor, ticket_id: int, text: str, *, outcome: str | None,
    files: tuple[CleanFile, ...] | list[CleanFile] = (),
) -> Ticket:
    """The lead unit replies (答复) with the outcome, its text and attachments. Under escalated
    handling (after a redo) a handler's reply waits for the unit leader's approval; otherwise,
    or when the leader writes it, it reaches the requester at once. Every reply is screened
    for quality when submitted."""
    text = required_text(text, "text")
    reply_outcome = ReplyOutcome.objects.filter(code=outcome or "", active=True).first()
    if reply_outcome is None:
        raise InvalidInput(_("Please choose the outcome of the request."), "invalid_outcome", field="outcome")
    with transition(actor, ticket_id, "reply") as (ticket, role):
        before = ticket.status
        now = clock.now()
        needs_approval = ticket.escalated and role != Role.UNIT_LEADER
        item = Reply.objects.create(
            ticket=ticket, text=text, unit=ticket.lead_unit, author=actor.user, outcome=reply_outcome,
            round=ticket.redo_count, created_at=now,
            state=ReplyState.PENDING_APPROVAL if needs_approval else ReplyState.PUBLISHED,
        )
        if ticket.escalated and not needs_approval:  # the leader signs their own reply
            item.approved_by, item.approved_at = actor.user, now
            item.save(update_fields=["approved_by", "approved_at"])
        for attachment in add_attachments(ticket, files, actor):
            attachment.reply = item
            attachment.save(update_fields=["reply"])
        from minyi.sla.actions import withdraw_pending  # sla.actions builds on this module

        withdraw_pending(ticket, now)
        data = {"outcome": reply_outcome.code, "outcome_name": reply_outcome.name, "reply": item.pk,
                "round": item.round, "attachments": len(files)}
        if needs_approval:
            ticket.status = workflow.target_for("reply", needs_approval=True)
            ticket.save(update_fields=["status"])
            record_event(
                ticket, "reply", actor, role, from_status=before, note=text, unit=ticket.lead_unit,
                data={**data, "pending_approval": True}, public=False,
            )
        else:
            publish_reply(ticket, item, now)
            record_event(ticket, "reply", actor, role, from_status=before, note=text, unit=ticket.lead_unit, data=data)
        from minyi.supervision.screening import screen_reply  # supervision builds on this module

        screen_reply(item)
    return ticket


def publish_reply(ticket: Ticket, item: Reply, now) -> None:
    """The reply reaches the requester: the ticket waits for a rating until the window ends,
    and the requester (with any merged requesters) is sent the reply and a rating link."""
    item.state = ReplyState.PUBLISHED
    item.published_at = now
    item.save(update_fields=["state", "published_at"])
    ticket.status = Status.REPLIED
    ticket.replied_at = now
    ticket.rating_due_at = sla.rating_due(now)
    ticket.save(update_fields=["status", "replied_at", "rating_due_at"])
    reply_id = item.pk
    from minyi.feedback import delivery  # feedback builds on this module

    transaction.on_commit(lambda: delivery.reply_published(reply_id))


# --- the requester's rating and closure ----------------------------------------------------


def rate(
    actor: Actor,
    ticket_id: int | None,
    *,
    rating: str,
    comment: str = "",
    code: str | None = None,
    number: str | None = None,
    visit_note: str = "",
) -> Ticket:
    """Rate the latest reply. The requester proves who they are with number and access code;
    platform staff record a return visit's rating (回访) with their own login and a note."""
    rating, comment, visit_note = clean_rating(rating, comment, visit_note)
    with transaction.atomic():
        if actor.is_staff_user and ticket_id is not None:
            ticket = access.access_ticket(actor, ticket_id, for_update=True)
        else:
            ticket = access.access_track(number or "", code or "", for_update=True)
        role = access.transition_role(actor, ticket, "rate")
        return rate_locked(actor, ticket, role, rating, comment, visit_note)


def clean_rating(rating: str, comment: str, visit_note: str = "") -> tuple[str, str, str]:
    if rating not in Rating.values:
        raise InvalidInput(_("Please choose a rating."), "invalid_rating", field="rating")
    comment, visit_note = (comment or "").strip(), (visit_note or "").strip()
    if len(comment) > 1000:
        raise InvalidInput(_("The comment is too long (at most 1000 characters)."), "too_long", field="comment")
    if len(visit_note) > 2000:
        raise InvalidInput(_("The text is too long (at most %(n)d characters).") % {"n": 2000}, "too_long", field="visit_note")
    return rating, comment, visit_note


def rate_locked(
    actor: Actor, ticket: Ticket, role: str, rating: str, comment: str, visit_note: str = "",
    *, reply_id: int | None = None,
) -> Ticket:
    """Rate on a locked ticket: the latest published reply, once, within the rating window.
    `reply_id` (from a rating link) must still be that reply."""
    into = followed(ticket)
    latest = into.replies.filter(state=ReplyState.PUBLISHED).order_by("-created_at", "-id").first()
    if latest is not None and TicketRating.objects.filter(ticket=ticket, reply=latest).exists():
        raise Conflict(_("This reply has already been rated."), "already_rated")
    if reply_id is not None and (latest is None or latest.pk != reply_id):
        raise Gone(_("This rating link is no longer valid: the ticket has a newer reply."), "link_expired")
    if ticket.status != Status.MERGED:
        check_state(ticket, "rate")
    if latest is None:
        raise Conflict(_("There is no reply to rate yet."), "no_reply")
    now = clock.now()
    if into.rating_due_at is not None and now > into.rating_due_at:
        raise Conflict(_("The time to rate this reply has passed."), "rating_window_closed")
    before = ticket.status
    TicketRating.objects.create(
        ticket=ticket, reply=latest, rating=rating, comment=comment, visit_note=visit_note,
        recorded_by=actor.user, created_at=now,
    )
    data: dict[str, Any] = {"rating": rating, "return_visit": actor.is_staff_user, "reply": latest.pk}
    if ticket.status == Status.MERGED:
        # A merged ticket's requester rates the reply of the ticket it went into, on their own
        # ticket; the other ticket's state is not theirs to change.
        data["reply_of"] = ticket.merged_into_id
    else:
        ticket.status = workflow.target_for("rate", rating)
        fields = ["status"]
        if ticket.status == Status.CLOSED:
            ticket.closed_at = now
            fields.append("closed_at")
        ticket.save(update_fields=fields)
    if visit_note:
        data["visit_note"] = visit_note
    record_event(ticket, "rate", actor, role, from_status=before, note=comment, data=data)
    return ticket


def close(actor: Actor, ticket_id: int, *, note: str = "") -> Ticket:
    with transition(actor, ticket_id, "close") as (ticket, role):
        before = ticket.status
        ticket.status = workflow.target_for("close")
        ticket.closed_at = clock.now()
        ticket.save(update_fields=["status", "closed_at"])
        record_event(ticket, "close", actor, role, from_status=before, note=note.strip())
    return ticket
