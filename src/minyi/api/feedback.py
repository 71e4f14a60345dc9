"""The REST API of the feedback loop: reply outcomes, rating links, figures per unit; manual
supervision orders and their answers; quality screening. Thin: the rules live in
`minyi.feedback` and `minyi.supervision`."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from minyi.api import schemas as s
from minyi.api.auth import StaffAuth, request_actor
from minyi.core import clock
from minyi.core.errors import Forbidden, InvalidInput
from minyi.core.ratelimit import check_rate
from minyi.feedback import actions as feedback_actions
from minyi.feedback.stats import unit_feedback
from minyi.org.actors import Actor
from minyi.supervision import actions as supervision_actions
from minyi.supervision import screening
from minyi.supervision.access import (
    access_screening_queryset,
    access_supervision_queryset,
    can_see_supervision,
)
from minyi.supervision.dashboard import dashboard
from minyi.supervision.models import ReplyScreening
from minyi.tickets import access, presence
from minyi.tickets.choices import Status
from minyi.tickets.models import ReplyOutcome, Ticket
from minyi.tickets.timeline import latest_rating, requester_can_rate

router = Router(tags=["feedback"])
link_router = Router(tags=["requester"])
quality_router = Router(tags=["supervision"])
staff = StaffAuth()


def reviews_out(ticket: Ticket) -> list[dict[str, Any]]:
    return [
        {"decision": r.decision, "explanation": r.explanation, "round": r.round, "redo_due_at": r.redo_due_at,
         "decided_at": r.decided_at}
        for r in ticket.reviews.order_by("decided_at", "id")
    ] if presence.has(ticket, "reviews") else []


def screening_out(row: ReplyScreening) -> dict[str, Any]:
    return {
        "id": row.pk, "reply_id": row.reply_id, "relevance": round(row.relevance, 4), "state": row.state,
        "findings": [{**f, "reason": _(f["reason"])} for f in row.findings],
        "screened_at": row.screened_at, "decision_note": row.decision_note,
    }


def screenings_out(actor: Actor, ticket: Ticket) -> list[dict[str, Any]]:
    if not presence.has(ticket, "screenings"):
        return []
    rows = access_screening_queryset(actor).filter(ticket=ticket).order_by("screened_at", "id")
    return [screening_out(r) for r in rows]


# --- outcomes and figures -------------------------------------------------------------------------


@router.get("/outcomes", response=list[s.OutcomeOut])
def outcomes(request: HttpRequest):
    """The outcomes a reply states (data, edited in the admin)."""
    return [{"code": o.code, "name": o.name, "resolved": o.resolved} for o in ReplyOutcome.objects.filter(active=True)]


@router.get("/units", response={200: list[s.UnitFeedbackOut], **s.ERRORS}, auth=staff)
def units_feedback(request: HttpRequest, unit_id: int | None = None):
    """Per unit: replies, ratings by grade, tickets closed unrated, redos (不满意重办). A unit's
    staff see their own unit's row only."""
    scope = access.access_unit_scope(request_actor(request), unit_id)
    return unit_feedback(scope)


# --- the requester's rating link ------------------------------------------------------------------


def _link_out(token: str) -> dict[str, Any]:
    from minyi.api.app import _reply_out  # the app module builds on this one

    ticket, item = feedback_actions.link_ticket(token)
    return {
        "number": ticket.number, "title": ticket.title, "status": ticket.status,
        "status_label": str(Status(ticket.status).label), "reply": _reply_out(item),
        "rating": latest_rating(ticket), "can_rate": requester_can_rate(ticket),
        "rating_due_at": item.ticket.rating_due_at,
    }


@link_router.get("/{token}", response={200: s.RateLinkOut, **s.ERRORS})
def rating_link(request: HttpRequest, token: str):
    """What the one-use rating link sent with a reply shows (404 `link_invalid` if forged)."""
    check_rate(request, "track")
    return _link_out(token)


@link_router.post("/{token}", response={200: s.RateLinkOut, **s.ERRORS})
def rate_by_link(request: HttpRequest, token: str, payload: s.RateIn):
    """Rate through the link: once (409 `already_rated`), within the rating window (409
    `rating_window_closed`), for the latest reply (410 `link_expired`)."""
    check_rate(request, "track")
    feedback_actions.rate_by_link(token, rating=payload.rating, comment=payload.comment)
    return _link_out(token)


# --- supervision by hand (added to the /supervision router) ----------------------------------------


def add_supervision_routes(r: Router) -> None:
    from minyi.api.sla import order_out
    from minyi.supervision.actions import levels

    def row_out(order) -> dict[str, Any]:
        return {
            **order_out(order, levels()), "ticket_id": order.ticket_id, "ticket_number": order.ticket.number,
            "ticket_title": order.ticket.title, "unit_id": order.unit_id,
            "unit": order.unit.name if order.unit else None, "milestone_id": order.milestone_id,
        }

    def reread(actor: Actor, pk: int):
        return access_supervision_queryset(actor).select_related("ticket", "unit").get(pk=pk)

    @r.post("/orders", response={200: s.SupervisionOrderRowOut, **s.ERRORS}, auth=staff)
    def open_order(request: HttpRequest, payload: s.OrderIn):
        """A supervisor opens an order on a ticket (人工督办) with a reason, a level and a
        deadline (the level's response time when `due` is empty)."""
        actor = request_actor(request)
        order = supervision_actions.open_manual(
            actor, payload.ticket_id, reason=payload.reason, level=payload.level, due=payload.due
        )
        return row_out(reread(actor, order.pk))

    @r.post("/orders/{order_id}/answer", response={200: s.SupervisionOrderRowOut, **s.ERRORS}, auth=staff)
    def answer_order(request: HttpRequest, order_id: int, payload: s.OrderAnswerIn):
        """The supervised unit answers the order; an answered order does not escalate."""
        actor = request_actor(request)
        order = supervision_actions.answer(actor, order_id, text=payload.text)
        return row_out(reread(actor, order.pk))

    @r.post("/orders/{order_id}/close", response={200: s.SupervisionOrderRowOut, **s.ERRORS}, auth=staff)
    def close_order(request: HttpRequest, order_id: int, payload: s.NoteIn):
        """A supervisor closes the order (销号) with a note."""
        actor = request_actor(request)
        order = supervision_actions.close_by_hand(actor, order_id, note=payload.note)
        return row_out(reread(actor, order.pk))

    @r.get("/dashboard", response={200: s.DashboardOut, **s.ERRORS}, auth=staff)
    def supervision_dashboard(request: HttpRequest):
        """Open orders by unit and level, with those past their own deadline."""
        actor = request_actor(request)
        if not can_see_supervision(actor):
            raise Forbidden(_("Your role may not do this."), "role_not_allowed")
        return dashboard(access_supervision_queryset(actor), clock.now())


# --- quality screening -------------------------------------------------------------------------------


class ScreeningFilter(Schema):
    state: str | None = "flagged"
    page: int = 1
    page_size: int = 20


def _screening_detail(row: ReplyScreening) -> dict[str, Any]:
    return {
        **screening_out(row), "ticket_id": row.ticket_id, "ticket_number": row.ticket.number,
        "ticket_title": row.ticket.title, "unit": row.unit.name if row.unit else None, "reply_text": row.reply.text,
    }


@quality_router.get("/screenings", response={200: s.ScreeningPageOut, **s.ERRORS}, auth=staff)
def screenings(request: HttpRequest, filters: Query[ScreeningFilter]):
    """Screened replies, flagged ones by default, newest first (supervisors see all units')."""
    rows = access_screening_queryset(request_actor(request))
    if filters.state:
        if filters.state not in ReplyScreening.State.values:
            raise InvalidInput(_("Unknown state."), "invalid_state_filter", field="state")
        rows = rows.filter(state=filters.state)
    page_size = max(1, min(filters.page_size, 100))
    paginator = Paginator(rows.select_related("ticket", "unit", "reply").order_by("-screened_at", "-id"), page_size)
    page = paginator.get_page(filters.page)
    return {
        "count": paginator.count, "page": page.number, "page_size": page_size,
        "results": [_screening_detail(r) for r in page],
    }


def _reread_screening(actor: Actor, pk: int) -> dict[str, Any]:
    return _screening_detail(access_screening_queryset(actor).select_related("ticket", "unit", "reply").get(pk=pk))


@quality_router.post("/screenings/{screening_id}/confirm", response={200: s.ScreeningDetailOut, **s.ERRORS}, auth=staff)
def confirm(request: HttpRequest, screening_id: int, payload: s.NoteIn):
    """A supervisor confirms a finding: a quality supervision order opens and the unit must
    reply anew (a replied or closed ticket goes back to it)."""
    actor = request_actor(request)
    screening.confirm(actor, screening_id, note=payload.note)
    return _reread_screening(actor, screening_id)


@quality_router.post("/screenings/{screening_id}/dismiss", response={200: s.ScreeningDetailOut, **s.ERRORS}, auth=staff)
def dismiss(request: HttpRequest, screening_id: int, payload: s.NoteIn):
    """A supervisor dismisses a finding with a note."""
    actor = request_actor(request)
    screening.dismiss(actor, screening_id, note=payload.note)
    return _reread_screening(actor, screening_id)
