"""Closing the loop: the leader's approval of a reply under escalated handling, the review of
a dissatisfied rating (redo or close), rating through a link, and closing unrated tickets when
the rating window ends. One function per transition, as in `minyi.tickets.actions`."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils.translation import gettext as _

from minyi.core import clock
from minyi.core.errors import Conflict, DomainError
from minyi.feedback.links import read_token
from minyi.feedback.models import RatingReview
from minyi.org.actors import Actor, requester_actor, system_actor
from minyi.sla import services as sla
from minyi.tickets import access, workflow
from minyi.tickets.actions import (
    clean_rating,
    publish_reply,
    rate_locked,
    record_event,
    required_text,
    transition,
)
from minyi.tickets.choices import Rating, ReplyState, ReviewDecision, Status
from minyi.tickets.models import Reply, Ticket, TicketRating

log = logging.getLogger(__name__)


def _pending_reply(ticket: Ticket) -> Reply:
    item = ticket.replies.filter(state=ReplyState.PENDING_APPROVAL).order_by("-created_at", "-id").first()
    if item is None:  # cannot happen in the pending_approval state; kept as a guard
        raise Conflict(_("There is no reply awaiting approval."), "no_reply")
    return item


def approve_reply(actor: Actor, ticket_id: int, *, note: str = "") -> Ticket:
    """The unit leader approves (signs) the reply of an escalated ticket; it reaches the requester."""
    note = (note or "").strip()[:2000]
    with transition(actor, ticket_id, "approve_reply") as (ticket, role):
        before = ticket.status
        now = clock.now()
        item = _pending_reply(ticket)
        item.approved_by, item.approved_at = actor.user, now
        item.save(update_fields=["approved_by", "approved_at"])
        publish_reply(ticket, item, now)
        record_event(
            ticket, "approve_reply", actor, role, from_status=before, note=item.text, unit=ticket.lead_unit,
            data={"reply": item.pk, "approval_note": note, "outcome": item.outcome.code if item.outcome else ""},
        )
    return ticket


def reject_reply(actor: Actor, ticket_id: int, *, note: str) -> Ticket:
    """The unit leader sends the reply back to be rewritten; the requester sees nothing of it."""
    note = required_text(note, "note", 2000)
    with transition(actor, ticket_id, "reject_reply") as (ticket, role):
        before = ticket.status
        item = _pending_reply(ticket)
        item.state = ReplyState.REJECTED
        item.save(update_fields=["state"])
        ticket.status = workflow.target_for("reject_reply")
        ticket.save(update_fields=["status"])
        record_event(
            ticket, "reject_reply", actor, role, from_status=before, note=note, unit=ticket.lead_unit,
            data={"reply": item.pk}, public=False,
        )
    return ticket


def review(actor: Actor, ticket_id: int, *, decision: str, explanation: str) -> Ticket:
    """Judge a dissatisfied rating (不满意审核). Reasonable: the same unit handles the ticket
    again (不满意重办) with a shorter deadline, under escalated handling (its leader approves the
    reply). Not reasonable: the ticket closes with the reviewer's explanation."""
    if decision not in ReviewDecision.values:
        raise DomainError(_("Please choose redo or close."), "invalid_decision", field="decision")
    explanation = required_text(explanation, "explanation", 2000)
    with transition(actor, ticket_id, "review") as (ticket, role):
        rating = (
            TicketRating.objects.filter(ticket=ticket, rating=Rating.DISSATISFIED)
            .select_related("reply").order_by("-created_at", "-id").first()
        )
        if rating is None:  # cannot happen under review; kept as a guard
            raise Conflict(_("There is no dissatisfied rating to review."), "no_rating")
        before = ticket.status
        now = clock.now()
        redo = decision == ReviewDecision.REDO
        unit = rating.reply.unit or ticket.lead_unit
        data: dict = {"decision": decision, "rating": rating.pk}
        fields = ["status"]
        due = None
        if redo:
            if unit is None:
                raise Conflict(_("No unit replied to this ticket; it cannot be redone."), "no_unit")
            due = sla.redo_deadline(now, ticket.time_limit_days + ticket.extended_days)
            ticket.redo_count += 1  # and so escalated handling from now on
            ticket.lead_unit = unit
            ticket.unit_due_at, ticket.unit_due_provisional = due.at, due.provisional
            ticket.due_at, ticket.due_provisional = due.at, due.provisional
            ticket.rating_due_at = None
            fields += ["redo_count", "lead_unit", "unit_due_at", "unit_due_provisional",
                       "due_at", "due_provisional", "rating_due_at"]
            data.update(round=ticket.redo_count, due_at=due.at.isoformat(), unit=unit.name)
        else:
            ticket.closed_at = now
            fields.append("closed_at")
        ticket.status = workflow.target_for("review", redo=redo)
        ticket.save(update_fields=fields)
        RatingReview.objects.create(
            ticket=ticket, rating=rating, unit=unit, decision=decision, explanation=explanation,
            round=ticket.redo_count if redo else 0, redo_due_at=due.at if due else None,
            reviewer=actor.user, decided_at=now,
        )
        record_event(ticket, "review", actor, role, from_status=before, note=explanation, unit=unit, data=data)
    return ticket


def require_new_reply(actor: Actor, ticket_id: int, *, note: str, data: dict) -> Ticket:
    """A confirmed quality finding sends a replied ticket back to its unit for a new reply,
    with a redo's shorter deadline; the rating window closes until the new reply."""
    with transition(actor, ticket_id, "require_new_reply") as (ticket, role):
        before = ticket.status
        due = sla.redo_deadline(clock.now(), ticket.time_limit_days + ticket.extended_days)
        ticket.status = workflow.target_for("require_new_reply")
        ticket.unit_due_at, ticket.unit_due_provisional = due.at, due.provisional
        ticket.rating_due_at = None
        ticket.save(update_fields=["status", "unit_due_at", "unit_due_provisional", "rating_due_at"])
        record_event(
            ticket, "require_new_reply", actor, role, from_status=before, note=note, unit=ticket.lead_unit,
            public=False, data={**data, "due_at": due.at.isoformat()},
        )
    return ticket


def rate_by_link(token: str, *, rating: str, comment: str = "") -> Ticket:
    """The requester rates through the one-use link sent with the reply."""
    ticket_id, reply_id = read_token(token)
    rating, comment, _note = clean_rating(rating, comment)
    actor = requester_actor()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
        if ticket is None:
            raise Conflict(_("This rating link is not valid."), "link_invalid")
        role = access.transition_role(actor, ticket, "rate")
        return rate_locked(actor, ticket, role, rating, comment, reply_id=reply_id)


def link_ticket(token: str) -> tuple[Ticket, Reply]:
    """What a rating link shows: the ticket and the reply it rates (refused if forged)."""
    ticket_id, reply_id = read_token(token)
    item = Reply.objects.select_related("ticket", "unit", "outcome").filter(pk=reply_id).first()
    if item is None:
        raise Conflict(_("This rating link is not valid."), "link_invalid")
    ticket = Ticket.objects.select_related("lead_unit").get(pk=ticket_id)
    return ticket, item


def close_unrated(now: dt.datetime | None = None, *, ticket_ids: list[int] | None = None) -> int:
    """Close replied tickets whose rating window has ended (of `ticket_ids`, or all), counted
    as unrated. Each ticket in its own transaction; a ticket rated meanwhile is left alone.
    Safe on several workers."""
    now = now or clock.now()
    actor = system_actor()
    closed = 0
    due = Ticket.objects.filter(status=Status.REPLIED, rating_due_at__lt=now)
    if ticket_ids is not None:
        due = due.filter(pk__in=ticket_ids)
    ids = list(due.order_by("rating_due_at").values_list("pk", flat=True)[:5000])
    for pk in ids:
        try:
            with transition(actor, pk, "close") as (ticket, role):
                if ticket.status != Status.REPLIED or ticket.rating_due_at is None or ticket.rating_due_at >= now:
                    continue
                before = ticket.status
                ticket.status = workflow.target_for("close")
                ticket.closed_at = now
                ticket.save(update_fields=["status", "closed_at"])
                record_event(
                    ticket, "close", actor, role, from_status=before, unit=ticket.lead_unit,
                    note=_("The rating window ended without a rating."), data={"unrated": True},
                )
                closed += 1
        except DomainError:
            continue
    return closed

