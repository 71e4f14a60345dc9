"""The REST API (django-ninja): thin; every change goes through the actions
(`minyi.tickets.actions`, `minyi.sla.actions`). Time limits and supervision: `minyi.api.sla`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib.auth import authenticate
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import Field

from minyi.api import feedback as feedback_api
from minyi.api import insights as insights_api
from minyi.api import schemas as s
from minyi.api import sla as sla_api
from minyi.api.auth import StaffAuth, StaffOrPublicAuth, issue_token, request_actor
from minyi.api.calls import router as calls_router
from minyi.assist.api import router as assist_router
from minyi.core import clock
from minyi.core.errors import DomainError, InvalidInput, NotAuthenticated
from minyi.core.ratelimit import check_rate
from minyi.dispatch import api as dispatch_api
from minyi.feedback import actions as feedback_actions
from minyi.org import reference
from minyi.org.actors import Actor, requester_actor
from minyi.org.models import Category, Region, Unit
from minyi.privacy import actions as privacy_actions
from minyi.privacy.crypto import phone_hash
from minyi.privacy.models import Reveal
from minyi.sla import actions as sla_actions
from minyi.sla import clocks, services
from minyi.sla.calendar import WorkCalendar
from minyi.tickets import access, actions, presence
from minyi.tickets.choices import OPEN_STATUSES, Channel, RequestType
from minyi.tickets.choices import Status as TicketStatus
from minyi.tickets.duplicates import similar_open_tickets
from minyi.tickets.intake import clean_files, clean_submission
from minyi.tickets.models import Ticket
from minyi.tickets.paging import LIST_DEFERRED, ticket_page
from minyi.tickets.timeline import (
    followed,
    latest_rating,
    merged_public_timeline,
    public_timeline,
    published_replies,
    requester_can_rate,
    staff_timeline,
)

api = NinjaAPI(
    title="Minyi API",
    version="1",
    description="The REST API of Minyi (民意), the platform for citizens' requests to city government.",
    urls_namespace="api",
)
staff = StaffAuth()
staff_or_public = StaffOrPublicAuth()
ERRORS = s.ERRORS
api.add_router("/sla", sla_api.sla_router)
api.add_router("/supervision", sla_api.supervision_router)
api.add_router("/dispatch", dispatch_api.router)
api.add_router("/assist", assist_router)
api.add_router("/feedback", feedback_api.router)
api.add_router("/insights", insights_api.router)
api.add_router("/rate", feedback_api.link_router)
api.add_router("/quality", feedback_api.quality_router)
api.add_router("/calls", calls_router)
feedback_api.add_supervision_routes(sla_api.supervision_router)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.http_status)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError):
    first = exc.errors[0] if exc.errors else {}
    loc = [str(part) for part in first.get("loc", []) if part not in ("body", "payload", "query", "path")]
    body = {
        "code": "invalid",
        "message": _("The request is not valid: %(detail)s") % {"detail": first.get("msg", "")},
        "field": ".".join(loc) or None,
    }
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(
        request, {"code": "not_authenticated", "message": _("Please log in.")}, status=401
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError):
    return api.create_response(request, {"code": "http_error", "message": str(exc)}, status=exc.status_code)


def _actor(request: HttpRequest) -> Actor:
    return request_actor(request)


# --- authentication and the caller -----------------------------------------------------------


@api.post("/auth/token", response={200: s.TokenOut, **ERRORS}, tags=["auth"])
def token(request: HttpRequest, payload: s.TokenIn):
    """Exchange a staff username and password for a bearer token."""
    check_rate(request, "login", limit=10)
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        raise NotAuthenticated(_("Wrong username or password."), "invalid_credentials")
    key, expires = issue_token(user)
    return {"token": key, "expires_at": expires}


def _unit_out(unit: Unit) -> dict[str, Any]:
    return {
        "id": unit.pk, "code": unit.code, "name": unit.name, "kind": unit.kind,
        "parent_id": unit.parent_id, "region_id": unit.region_id,
    }


@api.get("/me", response={200: s.MeOut, **ERRORS}, auth=staff, tags=["auth"])
def me(request: HttpRequest):
    actor = _actor(request)
    access.require_staff(actor)
    unit = Unit.objects.filter(pk=actor.unit_id).first() if actor.unit_id else None
    return {
        "id": actor.user.pk,
        "username": actor.user.get_username(),
        "display_name": actor.label,
        "roles": sorted(actor.roles),
        "unit": _unit_out(unit) if unit else None,
    }


# --- the organisation ------------------------------------------------------------------------


@api.get("/units", response=list[s.UnitOut], tags=["organisation"])
def units(request: HttpRequest):
    return [_unit_out(u) for u in Unit.objects.filter(active=True).order_by("code")]


@api.get("/categories", response=list[s.CategoryOut], tags=["organisation"])
def categories(request: HttpRequest):
    nodes = list(Category.objects.filter(active=True).order_by("code"))
    by_id = {c.pk: c for c in nodes}

    def path(c: Category) -> str:
        names = [c.name]
        while c.parent_id and c.parent_id in by_id:
            c = by_id[c.parent_id]
            names.append(c.name)
        return " / ".join(reversed(names))

    return [
        {
            "id": c.pk, "code": c.code, "name": c.name, "path": path(c), "level": c.level,
            "parent_id": c.parent_id, "default_type": c.default_type, "default_unit_id": c.default_unit_id,
        }
        for c in nodes
    ]


@api.get("/regions", response=list[s.RegionOut], tags=["organisation"])
def regions(request: HttpRequest):
    """Districts and their streets (the gazetteer used for a ticket's location)."""
    return list(Region.objects.order_by("code").values("id", "code", "name", "kind", "parent_id"))


# --- tickets ---------------------------------------------------------------------------------


def _summary(ticket: Ticket, now: dt.datetime, calendar: WorkCalendar) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "status": ticket.status,
        "status_label": str(TicketStatus(ticket.status).label),
        "type": ticket.type,
        "urgent": ticket.urgent,
        "title": ticket.title,
        "channel": ticket.channel,
        "category_id": ticket.category_id,
        "category": ticket.category.name,
        "district": ticket.district.name,
        "street": ticket.street.name if ticket.street else None,
        "lead_unit_id": ticket.lead_unit_id,
        "lead_unit": ticket.lead_unit.name if ticket.lead_unit else None,
        "created_at": ticket.created_at,
        "overdue": ticket.status in OPEN_STATUSES and ticket.due_at < now,
        **sla_api.clock_fields(ticket, now, calendar),
    }


def _reply_out(reply, attachment_url=None) -> dict[str, Any]:
    """A reply as the API shows it; `attachment_url(attachment)` links its files for the caller."""
    return {
        "id": reply.pk, "text": reply.text, "unit": reply.unit.name if reply.unit else None, "direct": reply.direct,
        "outcome": reply.outcome.code if reply.outcome else None,
        "outcome_name": reply.outcome.name if reply.outcome else None,
        "state": reply.state, "round": reply.round, "approved": reply.approved_at is not None,
        "attachments": [
            {"name": a.name, "content_type": a.content_type, "size": a.size, "url": attachment_url(a)}
            for a in reply.attachments.all()
        ] if attachment_url else [],
        "created_at": reply.created_at,
    }


def _detail(actor: Actor, ticket: Ticket) -> dict[str, Any]:
    contact = access.access_requester_contact(actor, ticket)
    now, calendar = clock.now(), services.current_calendar()
    sla_api.prefetch_time_limits(ticket)
    data = _summary(ticket, now, calendar)
    data.update(
        title=access.visible_text(actor, ticket.title),
        text=access.visible_text(actor, ticket.text),
        address=contact["address"],
        latitude=float(ticket.latitude) if ticket.latitude is not None else None,
        longitude=float(ticket.longitude) if ticket.longitude is not None else None,
        assisting_units=[_unit_out(u) for u in ticket.assisting_units.all()],
        requester={
            "anonymous": ticket.anonymous,
            "kind": ticket.requester_kind,
            "name": contact["name"],
            "phone": contact["phone"],
            "email": contact["email"],
            "id_number": contact["id_number"],
            "address": contact["address"],
            "revealable": contact["revealable"],
            "enterprise_name": ticket.enterprise_name,
            "contact_allowed": ticket.contact_allowed,
        },
        attachments=[
            {"id": a.pk, "name": a.name, "content_type": a.content_type, "size": a.size,
             "url": f"/api/v1/tickets/{ticket.pk}/attachments/{a.token}"}
            for a in ticket.attachments.all() if a.reply_id is None
        ],
        replies=[
            _reply_out(r, lambda a: f"/api/v1/tickets/{ticket.pk}/attachments/{a.token}")
            for r in presence.replies_with_files(ticket, ticket.replies.select_related("unit", "outcome"))
        ],
        rating=latest_rating(ticket),
        rating_due_at=ticket.rating_due_at,
        redo_count=ticket.redo_count,
        escalated=ticket.escalated,
        reviews=feedback_api.reviews_out(ticket),
        screenings=feedback_api.screenings_out(actor, ticket),
        dispatched_at=ticket.dispatched_at,
        signed_at=ticket.signed_at,
        sign_due_at=ticket.sign_due_at,
        signed_late=ticket.signed_late,
        return_due_at=ticket.return_due_at,
        forced_dispatch=ticket.forced_dispatch,
        assist_due_at=ticket.assist_due_at,
        assist_inputs=dispatch_api.assist_inputs_out(ticket),
        replied_at=ticket.replied_at,
        closed_at=ticket.closed_at,
        available_actions=access.available_transitions(actor, ticket),
        merged_into=ticket.merged_into.number if ticket.merged_into else None,
        merged=list(ticket.merged_tickets.order_by("id").values_list("number", flat=True))
        if presence.has(ticket, "merged_tickets") else [],
        **sla_api.time_limit_fields(ticket, now, calendar),
    )
    return data


TICKET_IN_SCHEMA = s.TicketIn.model_json_schema()


def _json_or_multipart(request: HttpRequest, files_field: str) -> tuple[dict[str, Any], list[Any]]:
    """A body sent as a JSON object, or as multipart/form-data with uploads in `files_field`."""
    if request.content_type == "multipart/form-data":
        return request.POST.dict(), request.FILES.getlist(files_field)
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise InvalidInput(_("The body must be JSON."), "invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidInput(_("The body must be a JSON object."), "invalid_json")
    return data, []


def _with_uploads(schema: dict[str, Any], files_field: str) -> dict[str, Any]:
    """OpenAPI: a body documented as JSON and as multipart/form-data with uploads."""
    uploads = {files_field: {"type": "array", "items": {"type": "string", "format": "binary"}}}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "multipart/form-data": {
                    "schema": {**schema, "properties": {**schema["properties"], **uploads}}
                },
            },
        }
    }


@api.post(
    "/tickets",
    response={201: s.TicketCreatedOut, **ERRORS},
    auth=staff_or_public,
    tags=["tickets"],
    openapi_extra=_with_uploads(TICKET_IN_SCHEMA, "attachments"),
)
def create_ticket(request: HttpRequest):
    """File a request. Staff (intake agents) with a token; anyone without one (public channel,
    rate-limited). Send JSON, or multipart/form-data with `attachments` (images, PDF)."""
    actor = _actor(request)
    if actor.is_staff_user:
        access.require_staff(actor)
    else:
        check_rate(request, "submit")
    data, files = _json_or_multipart(request, "attachments")
    channel: str = Channel.API
    if actor.is_staff_user and data.get("channel"):
        channel = str(data["channel"])
    submission = clean_submission(data, files, channel=channel)
    ticket, code = actions.submit(actor, submission)
    return Status(201, {"id": ticket.pk, "number": ticket.number, "access_code": code, "status": ticket.status, "due_at": sla_api.local(ticket.due_at)})


class TicketFilter(Schema):
    status: str | None = None
    unit_id: int | None = None
    type: str | None = None
    category_id: int | None = None
    district: str | None = None
    overdue: bool | None = None
    q: str | None = None
    phone: str | None = Field(None, description="The caller's earlier tickets: matched by the keyed hash of the number, never decrypted (intake and supervisors)")
    warning: str | None = Field(None, description="on_time, due_soon or overdue: the running deadline's state")
    ordering: str = Field("-created_at", description="-created_at (newest first), created_at, or time_left "
                          "(least time left on the running deadline first; tickets without a clock last)")
    page: int = 1
    page_size: int = 20


ORDERINGS = {"-created_at": ("-created_at", "-id"), "created_at": ("created_at", "id")}


def filtered_tickets(actor: Actor, f: TicketFilter, now: dt.datetime, calendar: WorkCalendar):
    tickets = access.access_ticket_queryset(actor)
    if f.ordering not in {*ORDERINGS, "time_left"}:
        raise InvalidInput(_("Unknown ordering."), "invalid_ordering", field="ordering")
    if f.warning or f.ordering == "time_left":
        tickets = clocks.with_deadlines(tickets, now, calendar)
    if f.warning:
        if f.warning not in clocks.WARNING_STATES:
            raise InvalidInput(_("Unknown warning state."), "invalid_warning", field="warning")
        tickets = tickets.filter(clocks.warning_filter(f.warning, now, calendar))
    if f.status:
        statuses = [x for x in f.status.split(",") if x]
        bad = [x for x in statuses if x not in TicketStatus.values]
        if bad:
            raise InvalidInput(_("Unknown status."), "invalid_status", field="status")
        tickets = tickets.filter(status__in=statuses)
    if f.unit_id:
        tickets = tickets.filter(lead_unit_id=f.unit_id)
    if f.type:
        if f.type not in RequestType.values:
            raise InvalidInput(_("Unknown request type."), "invalid_type", field="type")
        tickets = tickets.filter(type=f.type)
    if f.category_id:
        tickets = tickets.filter(
            Q(category_id=f.category_id)
            | Q(category__parent_id=f.category_id)
            | Q(category__parent__parent_id=f.category_id)
        )
    if f.district:
        tickets = tickets.filter(Q(district__code=f.district) | Q(district__name=f.district))
    if f.overdue is not None:
        tickets = tickets.filter(status__in=OPEN_STATUSES, due_at__lt=now) if f.overdue else tickets.exclude(status__in=OPEN_STATUSES, due_at__lt=now)
    if f.q:
        tickets = tickets.filter(Q(title__icontains=f.q) | Q(number=f.q.strip()))
    if f.phone:
        access.access_phone_search(actor)
        digits = phone_hash(f.phone)
        if not digits:
            raise InvalidInput(_("The phone number is not valid."), "invalid_phone", field="phone")
        tickets = tickets.filter(requester_phone_hash=digits)
    if f.ordering == "time_left":
        return clocks.by_time_left(tickets)
    return tickets.order_by(*ORDERINGS[f.ordering])


@api.get("/tickets", response={200: s.TicketPageOut, **ERRORS}, auth=staff, tags=["tickets"])
def list_tickets(request: HttpRequest, filters: Query[TicketFilter]):
    """Tickets the caller may see, filtered, ordered (newest first by default) and paginated."""
    actor = _actor(request)
    access.require_staff(actor)
    now, calendar = clock.now(), services.current_calendar()
    page_size = max(1, min(filters.page_size, 100))
    tickets = reference.with_ticket_relations(filtered_tickets(actor, filters, now, calendar)).defer(*LIST_DEFERRED)
    page, rows = ticket_page(tickets, filters.page, page_size)
    reference.attach_ticket_relations(rows)
    return {
        "count": page.paginator.count, "page": page.number, "page_size": page_size,
        "results": [{**_summary(t, now, calendar), "title": access.visible_text(actor, t.title)} for t in rows],
    }


@api.get("/tickets/{ticket_id}", response={200: s.TicketOut, **ERRORS}, auth=staff, tags=["tickets"])
def get_ticket(request: HttpRequest, ticket_id: int):
    actor = _actor(request)
    return _detail(actor, access.access_ticket(actor, ticket_id, present=True))


@api.get("/tickets/{ticket_id}/events", response={200: list[s.EventOut], **ERRORS}, auth=staff, tags=["tickets"])
def ticket_events(request: HttpRequest, ticket_id: int):
    """The ticket's whole timeline: every transition with actor, role, time and states."""
    actor = _actor(request)
    ticket = access.access_ticket(actor, ticket_id)
    return [
        {
            "id": e.pk, "kind": e.kind, "actor": e.actor_label, "actor_role": e.actor_role,
            "unit": e.unit.name if e.unit else None, "from_status": e.from_status,
            "to_status": e.to_status, "note": access.visible_text(actor, e.note), "data": e.data, "public": e.public,
            "created_at": e.created_at,
        }
        for e in staff_timeline(ticket)
    ]


@api.get(
    "/tickets/{ticket_id}/attachments/{token}",
    response=ERRORS,
    auth=staff,
    tags=["tickets"],
    openapi_extra={
        "responses": {
            200: {
                "description": "The file (an image or a PDF)",
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def ticket_attachment(request: HttpRequest, ticket_id: int, token: str):
    """Download an attachment of a ticket the caller may see."""
    item = access.access_attachment(_actor(request), token, ticket_id)
    response = FileResponse(item.file.open("rb"), content_type=item.content_type, filename=item.name)
    response["Cache-Control"] = "private, no-store"
    return response


def _after(actor: Actor, ticket: Ticket | int) -> dict[str, Any]:
    """The ticket's detail after an action (read anew, as the caller may see it)."""
    ticket_id = ticket if isinstance(ticket, int) else ticket.pk
    return _detail(actor, access.access_ticket(actor, ticket_id, present=True))


TRANSITION: dict[str, Any] = {"response": {200: s.TicketOut, **ERRORS}, "auth": staff, "tags": ["transitions"]}


@api.post("/tickets/{ticket_id}/direct_answer", **TRANSITION)
def direct_answer(request: HttpRequest, ticket_id: int, payload: s.TextIn):
    """Answer a consultation from the knowledge base and close it (直接答复)."""
    actor = _actor(request)
    return _after(actor, actions.direct_answer(actor, ticket_id, payload.text))


@api.post("/tickets/{ticket_id}/dispatch", **TRANSITION)
def dispatch(request: HttpRequest, ticket_id: int, payload: s.DispatchIn):
    """Dispatch to a lead unit, optionally with assisting units (派单)."""
    actor = _actor(request)
    ticket = actions.dispatch(actor, ticket_id, payload.unit_id, assisting_unit_ids=payload.assisting_unit_ids, note=payload.note)
    return _after(actor, ticket)


@api.get(
    "/tickets/{ticket_id}/duplicates", response={200: list[s.DuplicateOut], **ERRORS}, auth=staff, tags=["dispatch"]
)
def ticket_duplicates(request: HttpRequest, ticket_id: int):
    """Open tickets probably about the same issue (similar text, same street or district,
    nearby when both have coordinates, recent), most similar first."""
    ticket = access.access_ticket(_actor(request), ticket_id)
    return [s.duplicate_out(d) for d in similar_open_tickets(ticket)]


@api.post("/tickets/{ticket_id}/merge", **TRANSITION)
def merge(request: HttpRequest, ticket_id: int, payload: s.MergeIn):
    """Merge a duplicate (submitted or returned) into another open ticket (合并): 422
    `merge_into_self`, `invalid_target` or `target_closed`. The duplicate keeps its number; its
    requester follows the other ticket and rates its reply on their own ticket."""
    actor = _actor(request)
    return _after(actor, actions.merge(actor, ticket_id, payload.into_id, payload.note))


@api.post("/tickets/{ticket_id}/sign", **TRANSITION)
def sign(request: HttpRequest, ticket_id: int, payload: s.NoteIn | None = None):
    """The lead unit signs for the ticket (签收)."""
    actor = _actor(request)
    return _after(actor, actions.sign(actor, ticket_id, note=payload.note if payload else ""))


@api.post("/tickets/{ticket_id}/return", **TRANSITION)
def return_ticket(request: HttpRequest, ticket_id: int, payload: s.ReturnIn):
    """The lead unit returns a wrongly dispatched ticket to the dispatcher (退单), within the
    return window after its receipt (409 `return_window_passed`), with a reason code and its
    legal basis. A ticket force-dispatched by arbitration cannot be returned (409 `forced_dispatch`)."""
    actor = _actor(request)
    ticket = actions.return_ticket(
        actor, ticket_id, reason_code=payload.reason_code, note=payload.note, legal_basis=payload.legal_basis
    )
    return _after(actor, ticket)


@api.post("/tickets/{ticket_id}/arbitrate", **TRANSITION)
def arbitrate(request: HttpRequest, ticket_id: int, payload: s.ArbitrateIn):
    """The dispatcher rejects a return and force-dispatches the ticket back to the unit that
    returned it (仲裁), with a ruling note; the unit's clocks restart."""
    actor = _actor(request)
    return _after(actor, actions.arbitrate(actor, ticket_id, note=payload.note))


@api.post("/tickets/{ticket_id}/assist_input", **TRANSITION)
def assist_input(request: HttpRequest, ticket_id: int, payload: s.AssistInputIn):
    """An assisting unit adds its input for the lead unit (协办意见); late input is marked."""
    actor = _actor(request)
    actions.assist_input(actor, ticket_id, text=payload.text)
    return _after(actor, ticket_id)


@api.get("/tickets/{ticket_id}/routing", response={200: s.RoutingOut, **ERRORS}, auth=staff, tags=["dispatch"])
def ticket_routing(request: HttpRequest, ticket_id: int):
    """The unit the routing rules suggest for the ticket, and why (rule or fallback)."""
    actor = _actor(request)
    return dispatch_api.routing_out(actor, access.access_ticket(actor, ticket_id))


@api.post(
    "/tickets/{ticket_id}/reply",
    **TRANSITION,
    openapi_extra=_with_uploads(s.ReplyIn.model_json_schema(), "files"),
)
def reply(request: HttpRequest, ticket_id: int):
    """The lead unit replies to the requester (答复) with the outcome (`GET
    /api/v1/feedback/outcomes`), its text and attachments (multipart `files`: images, PDF).
    Under escalated handling (after a redo) a handler's reply waits for the unit leader's
    approval (`pending_approval`). The requester is sent the reply and a rating link."""
    actor = _actor(request)
    data, uploads = _json_or_multipart(request, "files")
    files = clean_files(uploads, field="files")
    ticket = actions.reply(actor, ticket_id, str(data.get("text") or ""), outcome=str(data.get("outcome") or ""), files=files)
    return _after(actor, ticket)


@api.post("/tickets/{ticket_id}/approve_reply", **TRANSITION)
def approve_reply(request: HttpRequest, ticket_id: int, payload: s.NoteIn | None = None):
    """The unit leader approves (signs) the reply of an escalated ticket; it reaches the
    requester. Handlers are refused (403 `role_not_allowed`)."""
    actor = _actor(request)
    return _after(actor, feedback_actions.approve_reply(actor, ticket_id, note=payload.note if payload else ""))


@api.post("/tickets/{ticket_id}/reject_reply", **TRANSITION)
def reject_reply(request: HttpRequest, ticket_id: int, payload: s.NoteIn):
    """The unit leader sends the reply back to be rewritten, with a note."""
    actor = _actor(request)
    return _after(actor, feedback_actions.reject_reply(actor, ticket_id, note=payload.note))


@api.post("/tickets/{ticket_id}/rate", **TRANSITION)
def rate(request: HttpRequest, ticket_id: int, payload: s.ReturnVisitIn):
    """Platform staff record the requester's rating from a return visit call (回访), with a note."""
    actor = _actor(request)
    ticket = actions.rate(
        actor, ticket_id, rating=payload.rating, comment=payload.comment, visit_note=payload.visit_note
    )
    return _after(actor, ticket)


@api.post("/tickets/{ticket_id}/review", **TRANSITION)
def review(request: HttpRequest, ticket_id: int, payload: s.ReviewIn):
    """Review a dissatisfied rating (不满意审核): `redo` sends the ticket back to the unit that
    replied with a shorter deadline and escalated handling; `close` closes it with the
    explanation, which the requester reads."""
    actor = _actor(request)
    ticket = feedback_actions.review(actor, ticket_id, decision=payload.decision, explanation=payload.explanation)
    return _after(actor, ticket)


@api.post("/tickets/{ticket_id}/close", **TRANSITION)
def close(request: HttpRequest, ticket_id: int, payload: s.NoteIn | None = None):
    """Close a replied ticket (办结), e.g. when the rating window has passed."""
    actor = _actor(request)
    return _after(actor, actions.close(actor, ticket_id, note=payload.note if payload else ""))


# --- time limits: extensions (延期) and staged closure (阶段性办结) ------------------------------


@api.post("/tickets/{ticket_id}/request_extension", **TRANSITION)
def request_extension(request: HttpRequest, ticket_id: int, payload: s.ExtensionIn):
    """The lead unit asks for more working days, before its deadline (延期申请). At most two
    extensions are approved per ticket, one may wait for a decision at a time."""
    actor = _actor(request)
    sla_actions.request_extension(
        actor, ticket_id, reason_code=payload.reason_code, working_days=payload.working_days,
        explanation=payload.explanation,
    )
    return _after(actor, ticket_id)


@api.post("/tickets/{ticket_id}/decide_extension", **TRANSITION)
def decide_extension(request: HttpRequest, ticket_id: int, payload: s.DecisionIn):
    """A supervisor approves the pending extension (both deadlines move by its working days and
    the requester is told) or refuses it with a note."""
    actor = _actor(request)
    sla_actions.decide_extension(actor, ticket_id, approve=payload.approve, note=payload.note)
    return _after(actor, ticket_id)


@api.post("/tickets/{ticket_id}/file_plan", **TRANSITION)
def file_plan(request: HttpRequest, ticket_id: int, payload: s.PlanIn):
    """The lead unit, having explained to the requester, files a staged-closure plan with dated
    milestones (阶段性办结)."""
    actor = _actor(request)
    milestones = [m.model_dump() for m in payload.milestones]
    sla_actions.file_plan(actor, ticket_id, explanation=payload.explanation, milestones=milestones)
    return _after(actor, ticket_id)


@api.post("/tickets/{ticket_id}/decide_plan", **TRANSITION)
def decide_plan(request: HttpRequest, ticket_id: int, payload: s.DecisionIn):
    """A supervisor approves the pending plan (the unit's deadline becomes the end of the last
    milestone's day) or refuses it with a note."""
    actor = _actor(request)
    sla_actions.decide_plan(actor, ticket_id, approve=payload.approve, note=payload.note)
    return _after(actor, ticket_id)


@api.post(
    "/tickets/{ticket_id}/record_milestone",
    **TRANSITION,
    openapi_extra=_with_uploads(s.MilestoneDoneIn.model_json_schema(), "files"),
)
def record_milestone(request: HttpRequest, ticket_id: int):
    """The lead unit records a milestone of the approved plan as done, with its evidence. Send
    JSON, or multipart/form-data with `files` (images, PDF)."""
    actor = _actor(request)
    data, files = _json_or_multipart(request, "files")
    sla_actions.record_milestone(
        actor, ticket_id, milestone_id=data.get("milestone_id"), evidence=str(data.get("evidence") or ""),
        files=files,
    )
    return _after(actor, ticket_id)


# --- the requester ---------------------------------------------------------------------------


def track_data(ticket: Ticket) -> dict[str, Any]:
    """What a requester sees of their ticket (shared with the portal). A merged ticket shows
    the state, unit and replies of the ticket it went into."""
    into = followed(ticket)
    return {
        "number": ticket.number,
        "status": into.status,
        "status_label": str(TicketStatus(into.status).label),
        "type": ticket.type,
        "title": ticket.title,
        "created_at": ticket.created_at,
        "due_at": sla_api.local(into.due_at),
        "lead_unit": into.lead_unit.name if into.lead_unit else None,
        "replies": [_reply_out(r) for r in published_replies(into)],
        "rating": latest_rating(ticket),
        "rating_due_at": sla_api.local(into.rating_due_at),
        "can_rate": requester_can_rate(ticket),
        "timeline": merged_public_timeline(ticket, into) if into is not ticket else public_timeline(ticket),
        "merged_into": into.number if into is not ticket else None,
    }


@api.get("/track/{number}", response={200: s.TrackOut, **ERRORS}, tags=["requester"])
def track(request: HttpRequest, number: str, code: str = ""):
    """Follow a ticket with its number and the access code given at submission: send the code
    in the `X-Access-Code` header (preferred: query strings end up in access logs) or as
    `?code=`. After repeated wrong codes the number is locked for a while (429 `track_locked`)."""
    check_rate(request, "track")
    code = request.headers.get("X-Access-Code") or code
    if not code:
        raise InvalidInput(_("Please give the access code."), "invalid", field="code")
    return track_data(access.access_track(number, code))


@api.post("/tickets/{ticket_id}/reveal", response={200: s.RevealOut, **ERRORS}, auth=staff, tags=["privacy"])
def reveal(request: HttpRequest, ticket_id: int, payload: s.RevealIn):
    """Reveal a masked personal field in clear, giving a reason. Only some roles may (403
    `role_not_allowed`); every attempt, granted or refused, is audited; the value is never logged."""
    value = privacy_actions.reveal(_actor(request), ticket_id, field=payload.field, reason=payload.reason)
    response = {"field": payload.field, "value": value}
    return response


@api.get("/privacy/reveals", response={200: s.RevealAuditPageOut, **ERRORS}, auth=staff, tags=["privacy"])
def reveals(request: HttpRequest, ticket_id: int | None = None, page: int = 1, page_size: int = 50):
    """The audit of reveals (who, when, which ticket, which field, why; granted or refused),
    newest first: administrators and supervisors."""
    actor = _actor(request)
    access.access_reveal_audit(actor)
    rows = Reveal.objects.select_related("ticket", "user").order_by("-created_at", "-id")
    if ticket_id is not None:
        rows = rows.filter(ticket_id=ticket_id)
    size = max(1, min(page_size, 200))
    paginator = Paginator(rows, size)
    current = paginator.get_page(page)
    return {
        "count": paginator.count, "page": current.number, "page_size": size,
        "results": [
            {"id": r.pk, "ticket_id": r.ticket_id, "ticket_number": r.ticket.number, "field": r.field,
             "user": r.user.get_username(), "role": r.role, "reason": r.reason, "granted": r.granted,
             "refusal": r.refusal, "created_at": r.created_at}
            for r in current
        ],
    }


@api.post("/track/{number}/rate", response={200: s.TrackOut, **ERRORS}, tags=["requester"])
def track_rate(request: HttpRequest, number: str, payload: s.TrackRateIn):
    """The requester rates the reply (满意 / 基本满意 / 不满意)."""
    check_rate(request, "track")
    ticket = actions.rate(requester_actor(), None, rating=payload.rating, comment=payload.comment, code=payload.code, number=number)
    return track_data(ticket)

