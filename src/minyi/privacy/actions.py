"""Revealing a personal value in clear: only roles allowed to, with a reason; every attempt,
granted or refused, is an audit row (never the value). The only way to read a requester's
masked field in clear."""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from minyi.core import clock
from minyi.core.errors import Conflict, DomainError, Forbidden, InvalidInput
from minyi.org.actors import Actor
from minyi.privacy import policy
from minyi.privacy.models import Reveal
from minyi.tickets import access

log = logging.getLogger(__name__)

MIN_REASON = 4


def reveal(actor: Actor, ticket_id: int, *, field: str, reason: str) -> str:
    """The value of `field` in clear, if `actor`'s role may reveal it and gives a reason."""
    ticket = access.access_ticket(actor, ticket_id)  # 404 for tickets the actor cannot see
    reason = (reason or "").strip()
    refusal: DomainError | None = None
    if field not in policy.FIELDS:
        refusal = InvalidInput(_("Unknown field."), "invalid_field", field="field")
    elif not access.can_reveal(actor, field):
        refusal = Forbidden(_("Your role may not reveal this field."), "role_not_allowed")
    elif ticket.anonymous:
        refusal = Conflict(_("The requester is anonymous: there is nothing to reveal."), "anonymous")
    elif len(reason) < MIN_REASON:
        refusal = InvalidInput(_("Please give the reason for revealing this value."), "reason_required", field="reason")
    elif len(reason) > 500:
        refusal = InvalidInput(_("The text is too long (at most %(n)d characters).") % {"n": 500}, "too_long", field="reason")
    value = "" if refusal else getattr(ticket, policy.FIELDS[field])
    if refusal is None and not value:
        refusal = Conflict(_("The requester gave no such value."), "no_value")
    Reveal.objects.create(
        ticket=ticket, field=field[:24], user=actor.user, role=",".join(sorted(actor.roles))[:24], reason=reason[:500],
        granted=refusal is None, refusal=refusal.code if refusal else "", created_at=clock.now(),
    )
    log.info(
        "reveal of %s on ticket %s by user %s: %s", field[:24], ticket.number, actor.user.pk,
        "granted" if refusal is None else refusal.code,
    )
    if refusal is not None:
        raise refusal
    return value
