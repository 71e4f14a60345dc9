"""The REST API of virtual-number calls (云呼): a handler binds the requester to a virtual number
and reads the calls; switches and carriers post call records. Thin: the rules live in
`minyi.calls`. No response carries the requester's or the handler's number."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.security import APIKeyHeader
from pydantic import Field

from minyi.api import schemas as s
from minyi.api.auth import StaffAuth, request_actor
from minyi.calls import access as calls_access
from minyi.calls import actions
from minyi.calls.models import Binding, CallRecord
from minyi.core import clock
from minyi.org.actors import Actor, system_actor
from minyi.sla.policies import SHANGHAI
from minyi.tickets.models import Ticket

router = Router(tags=["calls"])
staff = StaffAuth()
#: Refusals of the bind action, with a carrier's failure (502).
BIND_ERRORS = {**s.ERRORS, 502: s.ErrorOut}


class CallbackSecret(APIKeyHeader):
    """Switches and carriers authenticate call records with the shared secret
    MINYI_CALL_CALLBACK_SECRET in this header (compared in constant time)."""

    param_name = "X-Minyi-Callback-Secret"

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor:
        calls_access.require_callback(key)
        return system_actor()


class BindingOut(Schema):
    number: str = Field(description="The virtual number X to dial (never the requester's number)")
    expires_at: dt.datetime = Field(description="Calls through X work until then (+08:00)")


class CallOut(Schema):
    id: int
    direction: str = Field(description="b_to_a (the unit called the requester) or a_to_b")
    caller: str = Field(description="handler or requester")
    result: str = Field(description="routed (end not reported yet), answered, no_answer, busy or failed")
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_seconds: int | None


class TicketCallsOut(Schema):
    binding: BindingOut | None = Field(description="The caller's own live binding on this ticket, if any")
    can_call: bool = Field(description="Whether the caller may bind (call the requester) now")
    refusal: str | None = Field(description="Why not, as the stable error code bind would answer")
    calls: list[CallOut]


class CallbackIn(Schema):
    """A finished call, in the shape of the carriers' call-record pushes. Times without an offset
    are Asia/Shanghai."""

    call_id: str = Field(min_length=1, max_length=200, description="The switch's or carrier's call id (SIP Call-ID)")
    binding_id: str | None = Field(None, max_length=64, description="The carrier's binding (subscription) id")
    number: str | None = Field(None, max_length=32, description="The virtual number X (with caller, instead of binding_id)")
    caller: str | None = Field(None, max_length=32, description="The calling number: tells the direction")
    direction: str | None = Field(None, description="b_to_a or a_to_b, when the caller is not given")
    started_at: dt.datetime
    answered_at: dt.datetime | None = None
    ended_at: dt.datetime
    duration_seconds: int | None = Field(None, ge=0, description="Talk time; from answered_at to ended_at if absent")
    result: str | None = Field(None, description="answered, no_answer, busy or failed (from the duration if absent)")


class CallbackOut(Schema):
    id: int
    recorded: bool = Field(description="False when this call was recorded already (a repeated callback)")


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(SHANGHAI) if moment is not None else None


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    return moment.replace(tzinfo=SHANGHAI)


def binding_out(binding: Binding) -> dict[str, Any]:
    return {"number": binding.number.number, "expires_at": _local(binding.expires_at)}


def call_out(record: CallRecord) -> dict[str, Any]:
    return {
        "id": record.pk, "direction": record.direction, "caller": record.caller_role, "result": record.result,
        "started_at": _local(record.started_at), "answered_at": _local(record.answered_at),
        "ended_at": _local(record.ended_at), "duration_seconds": record.duration_seconds,
    }


def ticket_calls(actor: Actor, ticket: Ticket) -> dict[str, Any]:
    """What a staff member sees of a ticket's calls: their own live binding, whether they may
    call, and every call (who called, when, how long; never a number)."""
    own = (
        Binding.objects.select_related("number")
        .filter(ticket=ticket, handler=actor.user, active=True, expires_at__gt=clock.now()).first()
    )
    refusal = calls_access.refusal(actor, ticket)
    return {
        "binding": binding_out(own) if own else None,
        "can_call": refusal is None,
        "refusal": refusal.code if refusal else None,
        "calls": [call_out(r) for r in ticket.calls.order_by("started_at", "id")],
    }


@router.post("/tickets/{ticket_id}/bind", response={200: BindingOut, **BIND_ERRORS}, auth=staff)
def bind(request: HttpRequest, ticket_id: int):
    """Call the requester: bind them and the calling handler to a virtual number X for
    MINYI_CALL_BINDING_MINUTES. Dial X from your own line to reach the requester; the requester
    reaches you by calling X back. Pressing again while bound returns the same number. Only the
    lead unit's handlers and leaders, while the unit holds the ticket and the requester allowed
    contact (403 `contact_not_allowed`, 409 `no_phone`, `no_handler_phone`, `no_free_number`)."""
    binding = actions.bind(request_actor(request), ticket_id)
    return binding_out(Binding.objects.select_related("number").get(pk=binding.pk))


@router.get("/tickets/{ticket_id}", response={200: TicketCallsOut, **s.ERRORS}, auth=staff)
def calls(request: HttpRequest, ticket_id: int):
    """The caller's live binding on the ticket and its calls (start, end, duration, who called)."""
    actor = request_actor(request)
    return ticket_calls(actor, calls_access.access_calls(actor, ticket_id))


@router.post("/callback", response={200: CallbackOut, **s.ERRORS}, auth=CallbackSecret())
def callback(request: HttpRequest, payload: CallbackIn):
    """A switch or carrier reports a finished call (header X-Minyi-Callback-Secret). Matched by
    call id to a call the SIP server put through, else by the carrier's binding id, else by the
    virtual number and the caller at the call's start. Repeats change nothing."""
    report = actions.CallReport(
        call_id=payload.call_id, started_at=_aware(payload.started_at),  # type: ignore[arg-type]
        ended_at=_aware(payload.ended_at),  # type: ignore[arg-type]
        answered_at=_aware(payload.answered_at), duration_seconds=payload.duration_seconds,
        binding_ref=payload.binding_id or "", number=payload.number or "", caller=payload.caller or "",
        direction=payload.direction or "", result=payload.result or "",
    )
    record, recorded = actions.record_call(report)
    return {"id": record.pk, "recorded": recorded}
