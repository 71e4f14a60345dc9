"""How the timeline reads: labels for event kinds, and the part a requester sees."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from minyi.tickets import presence
from minyi.tickets.choices import ReplyState, Status
from minyi.tickets.models import Reply, Ticket, TicketEvent, TicketRating

EVENT_LABELS = {
    "submit": _("Request received"),
    "direct_answer": _("Answered directly by the platform"),
    "dispatch": _("Dispatched to the handling unit"),
    "sign": _("Signed for by the handling unit"),
    "return": _("Returned to the dispatcher"),
    "arbitrate": _("Return rejected: dispatched again to the same unit"),
    "assist_input": _("Input from an assisting unit"),
    "reply": _("Replied"),
    "rate": _("Rated"),
    "close": _("Closed"),
    "merge": _("Merged into another ticket about the same issue"),
    "merged_in": _("A duplicate ticket was merged into this one"),
    # Time limits (the public ones are told to the requester).
    "request_extension": _("Extension requested"),
    "extension_approved": _("Handling time extended"),
    "extension_refused": _("Extension refused"),
    "file_plan": _("Staged-closure plan filed"),
    "plan_approved": _("Staged-closure plan approved"),
    "plan_refused": _("Staged-closure plan refused"),
    "milestone_done": _("Milestone reached"),
    "deadline_recounted": _("Deadline re-counted"),
    "due_soon": _("Deadline approaching"),
    "supervision_opened": _("Supervision order opened"),
    "supervision_escalated": _("Supervision escalated"),
    "supervision_closed": _("Supervision order closed"),
    "supervision_answered": _("The unit answered the supervision order"),
    # Closing the loop.
    "approve_reply": _("Reply approved by the unit leader"),
    "reject_reply": _("Reply sent back by the unit leader"),
    "review": _("Dissatisfied rating reviewed"),
    "redo": _("Sent back to the unit to be handled again"),
    "require_new_reply": _("New reply required after quality review"),
    "quality_flagged": _("Reply flagged by quality screening"),
    "quality_dismissed": _("Quality finding dismissed"),
    "reply_sent": _("Reply sent to the requester"),
    # Virtual-number calls (云呼): never a number on the timeline.
    "call_bound": _("Privacy number assigned for a call"),
    "call_unbound": _("Privacy number released"),
    "call_started": _("Call through the privacy number"),
    "call_ended": _("Call ended"),
    "unit_called": _("The handling unit called the requester"),
}

#: What a requester reads for a staff action: never staff names, never internal notes. The
#: notes of the time-limit events are written for the requester (the new deadline, the plan).
PUBLIC_NOTE_KINDS = frozenset(
    {
        "direct_answer", "reply", "rate", "extension_approved", "plan_approved", "milestone_done",
        "deadline_recounted", "approve_reply", "review",
    }
)


def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind))


def staff_timeline(ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("unit").order_by("created_at", "id")


def public_timeline(ticket: Ticket) -> list[dict]:
    """The requester-visible timeline: public events, the unit's name but no staff names."""
    rows = []
    for event in ticket.events.filter(public=True).select_related("unit").order_by("created_at", "id"):
        rows.append(
            {
                "kind": event.kind,
                "label": event_label(event.kind),
                "unit": event.unit.name if event.unit else None,
                "to_status": event.to_status,
                "note": event.note if event.kind in PUBLIC_NOTE_KINDS else "",
                "created_at": event.created_at,
            }
        )
    return rows


def latest_rating(ticket: Ticket) -> str | None:
    if not presence.has(ticket, "ratings"):
        return None
    rating = ticket.ratings.order_by("-created_at", "-id").first()
    return rating.rating if rating else None


def followed(ticket: Ticket) -> Ticket:
    """The ticket whose handling the requester follows: the one a merged ticket went into."""
    if ticket.status == Status.MERGED and ticket.merged_into_id is not None:
        return Ticket.objects.select_related("lead_unit").get(pk=ticket.merged_into_id)
    return ticket


def requester_can_rate(ticket: Ticket) -> bool:
    """Whether the requester may rate now: their ticket is replied, or (merged) the ticket it
    went into has a reply they have not rated yet."""
    if ticket.status != Status.MERGED:
        return ticket.status == Status.REPLIED
    latest = (
        Reply.objects.filter(ticket_id=ticket.merged_into_id or 0, state=ReplyState.PUBLISHED)
        .order_by("-created_at", "-id").first()
    )
    return latest is not None and not TicketRating.objects.filter(ticket=ticket, reply=latest).exists()


def merged_public_timeline(ticket: Ticket, into: Ticket) -> list[dict]:
    """A merged ticket's timeline: its own public events, then the handling of the ticket it
    went into since the merge (never that requester's rating)."""
    rows = public_timeline(ticket)
    merged_at = next((r["created_at"] for r in rows if r["kind"] == "merge"), None)
    for row in public_timeline(into):
        if merged_at is not None and row["created_at"] >= merged_at and row["kind"] != "rate":
            rows.append(row)
    return rows


def published_replies(ticket: Ticket) -> QuerySet[Reply]:
    """The replies the requester sees (not those awaiting the leader's approval or withdrawn)."""
    return ticket.replies.filter(state=ReplyState.PUBLISHED).select_related("unit", "outcome")
