"""Dispatch endpoints (`/api/v1/dispatch/...`) and the dispatch parts of a ticket's detail."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from minyi.api import schemas as s
from minyi.api.auth import StaffAuth, request_actor
from minyi.dispatch import services
from minyi.org.actors import Actor
from minyi.tickets import access, presence
from minyi.tickets.models import Ticket

router = Router(tags=["dispatch"])


def assist_inputs_out(ticket: Ticket) -> list[dict[str, Any]]:
    return [
        {
            "id": item.pk, "unit_id": item.unit_id, "unit": item.unit.name, "text": item.text,
            "author": getattr(getattr(item.author, "staff_profile", None), "display_name", "") or "",
            "late": item.late, "created_at": item.created_at,
        }
        for item in ticket.assist_inputs.select_related("unit", "author__staff_profile")
    ] if presence.has(ticket, "assist_inputs") else []


def routing_out(actor: Actor, ticket: Ticket) -> dict[str, Any]:
    return services.suggest(ticket).as_dict()


@router.get("/returns", response={200: list[s.ReturnCountOut], **s.ERRORS}, auth=StaffAuth())
def returns(request: HttpRequest, unit_id: int | None = None):
    """Returns (退单) and their outcomes per unit: upheld (re-dispatched elsewhere), rejected
    (force-dispatched back by arbitration), pending. Platform roles see every unit; a unit's
    staff see only their own."""
    actor = request_actor(request)
    return services.return_counts(access.access_unit_scope(actor, unit_id))
