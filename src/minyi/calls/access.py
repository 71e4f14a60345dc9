"""Who may call a requester through a virtual number, who may read the calls, and who may
report them. The only place these rules live; pages and the API ask here."""

from __future__ import annotations

import hmac

from django.utils.translation import gettext as _

from minyi.calls import conf
from minyi.calls.models import HandlerLine
from minyi.calls.numbers import normalise_number
from minyi.core.errors import Conflict, DomainError, Forbidden, NotAuthenticated
from minyi.org.actors import Actor
from minyi.org.models import Role
from minyi.tickets import access
from minyi.tickets.choices import AT_UNIT_STATUSES, Status
from minyi.tickets.models import Ticket

#: The roles that call requesters: the lead unit's handlers and leaders.
CALL_ROLES = (Role.HANDLER, Role.UNIT_LEADER)


def call_role(actor: Actor) -> str | None:
    return next((role for role in CALL_ROLES if role in actor.roles), None)


def handler_number(actor: Actor) -> str:
    """The actor's own line (party B), in national form; "" when the administrator set none."""
    if actor.user is None:
        return ""
    memo = actor.memo if actor.memo is not None else {}  # read once per request (the page asks twice)
    if "handler_line" not in memo:
        phone = HandlerLine.objects.filter(user=actor.user).values_list("phone", flat=True).first()
        memo["handler_line"] = normalise_number(phone or "")
    return str(memo["handler_line"])


def refusal(actor: Actor, ticket: Ticket) -> DomainError | None:
    """Why `actor` may not call the requester of `ticket` (a ticket they may see) now, or None.
    In this order: role, lead unit, state, the requester's consent, the requester's phone, the
    handler's own line."""
    role = call_role(actor)
    if role is None:
        return Forbidden(_("Only the lead unit's handlers and leaders call requesters."), "role_not_allowed")
    if actor.unit_id is None or ticket.lead_unit_id != actor.unit_id:
        return Forbidden(_("Only the lead unit of this ticket may do this."), "not_lead_unit")
    if ticket.status not in AT_UNIT_STATUSES:
        return Conflict(
            _("The ticket is now “%(status)s”; the unit no longer calls the requester through it.")
            % {"status": Status(ticket.status).label},
            "invalid_state",
        )
    if not ticket.contact_allowed:
        return Forbidden(_("The requester did not agree to be contacted."), "contact_not_allowed")
    if not normalise_number(ticket.requester_phone):
        return Conflict(_("The requester left no phone number."), "no_phone")
    if not handler_number(actor):
        return Conflict(
            _("Your phone line is not set up for calls; ask the administrator to add it."), "no_handler_phone",
        )
    return None


def access_call(actor: Actor, ticket: Ticket) -> str:
    """The role under which `actor` calls the requester of `ticket`, or the refusal raised."""
    error = refusal(actor, ticket)
    if error is not None:
        raise error
    role = call_role(actor)
    assert role is not None  # refusal() checked it
    return role


def can_call(actor: Actor, ticket: Ticket) -> bool:
    return refusal(actor, ticket) is None


def access_calls(actor: Actor, ticket_id: int) -> Ticket:
    """A ticket whose calls `actor` may read: whoever sees the ticket (404 otherwise)."""
    return access.access_ticket(actor, ticket_id)


def access_callback(secret: str | None) -> bool:
    """Whether a call-record callback carries the shared secret (constant-time). With no secret
    configured, every callback is refused."""
    expected = conf.callback_secret()
    if not expected or not secret:
        return False
    return hmac.compare_digest(secret.encode(), expected.encode())


def require_callback(secret: str | None) -> None:
    if not access_callback(secret):
        raise NotAuthenticated(_("The callback secret is missing or wrong."), "invalid_secret")
