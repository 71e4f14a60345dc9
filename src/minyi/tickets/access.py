"""The only ways to fetch a ticket or see a requester's personal data.

Every view, API endpoint and action goes through these functions; nothing else filters
tickets by permission.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from minyi.core import clock
from minyi.core.errors import Forbidden, NotAuthenticated, NotFound, RateLimited
from minyi.org import reference
from minyi.org.actors import PUBLIC, SYSTEM, Actor
from minyi.org.models import UNIT_ROLES, Role
from minyi.privacy import policy as privacy
from minyi.tickets import presence, workflow
from minyi.tickets.codes import access_code_matches, normalise_code
from minyi.tickets.models import Attachment, Ticket

#: Up to this many assisted tickets are passed to SQL as a list; more as a subquery.
ASSISTING_LIST_MAX = 2000


def access_ticket_queryset(actor: Actor) -> QuerySet[Ticket]:
    """Every ticket `actor` may see: the whole city for platform roles, their unit's otherwise."""
    tickets = Ticket.objects.all()
    if actor.city_wide or SYSTEM in actor.roles:
        return tickets
    if actor.roles & UNIT_ROLES and actor.unit_id is not None:
        # No join (no DISTINCT over millions of rows). The tickets the unit assists are read
        # first: as a short literal list, PostgreSQL ORs two index scans (the lead unit's and
        # the primary key's) instead of filtering every open ticket through a subquery.
        through = Ticket.assisting_units.through.objects.filter(unit_id=actor.unit_id)
        memo = actor.memo if actor.memo is not None else {}
        assisting = memo.get("assisting")
        if assisting is None:  # read once per request
            assisting = memo["assisting"] = list(through.values_list("ticket_id", flat=True)[: ASSISTING_LIST_MAX + 1])
        if len(assisting) > ASSISTING_LIST_MAX:
            return tickets.filter(Q(lead_unit_id=actor.unit_id) | Q(pk__in=through.values("ticket_id")))
        if not assisting:
            return tickets.filter(lead_unit_id=actor.unit_id)
        return tickets.filter(Q(lead_unit_id=actor.unit_id) | Q(pk__in=assisting))
    return tickets.none()


def require_staff(actor: Actor) -> None:
    if SYSTEM in actor.roles:
        return
    if not actor.is_staff_user:
        raise NotAuthenticated(_("Please log in."))
    if not actor.roles:
        raise Forbidden(_("Your account has no role on the platform."), "no_role")


def access_ticket(actor: Actor, ticket_id: int, *, for_update: bool = False, present: bool = False) -> Ticket:
    """The ticket `ticket_id` if `actor` may see it (NotFound otherwise). `present`: also read
    which related rows it has (`presence`), for the pages that show them."""
    require_staff(actor)
    tickets = access_ticket_queryset(actor)
    if for_update:
        # Lock the row itself; visibility was checked on the same query.
        visible = tickets.filter(pk=ticket_id).exists()
        if not visible:
            raise NotFound(_("No such ticket, or it is not visible to you."), "ticket_not_found")
        return Ticket.objects.select_for_update().get(pk=ticket_id)
    tickets = reference.with_ticket_relations(tickets.filter(pk=ticket_id))
    ticket = (presence.annotate(tickets) if present else tickets).first()
    if ticket is None:
        raise NotFound(_("No such ticket, or it is not visible to you."), "ticket_not_found")
    reference.attach_ticket_relations([ticket])
    return presence.mark_absent(ticket) if present else ticket


def access_ticket_id_by_number(actor: Actor, number: str) -> int | None:
    """The id of the ticket numbered `number` if `actor` may see it (a merge target typed in)."""
    require_staff(actor)
    return access_ticket_queryset(actor).filter(number=(number or "").strip()).values_list("pk", flat=True).first()


#: Roles that take requests in and may use the intake suggestions.
ASSIST_ROLES = frozenset({Role.INTAKE_AGENT, Role.DISPATCHER, Role.ADMIN})


def can_intake(actor: Actor) -> bool:
    """Whether `actor` may take a request in (the workflow table's `submit`)."""
    return actor.is_staff_user and workflow.role_for("submit", actor.roles) is not None


def access_intake(actor: Actor) -> None:
    require_staff(actor)
    if not can_intake(actor):
        raise Forbidden(_("Your role may not do this."), "role_not_allowed")


def can_review(actor: Actor) -> bool:
    """Whether the review queue of dissatisfied ratings is for `actor`: the roles the workflow
    table lets review."""
    return actor.is_staff_user and workflow.role_for("review", actor.roles) is not None


#: Roles that read the audit of reveals of personal data.
AUDIT_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR})


def can_read_reveal_audit(actor: Actor) -> bool:
    return actor.is_staff_user and bool(actor.roles & AUDIT_ROLES)


def access_reveal_audit(actor: Actor) -> None:
    require_staff(actor)
    if not actor.roles & AUDIT_ROLES:
        raise Forbidden(_("Only administrators and supervisors read the audit."), "role_not_allowed")


def can_use_intake_suggestions(actor: Actor) -> bool:
    return actor.is_staff_user and bool(actor.roles & ASSIST_ROLES)


def can_see_intake_duplicates(actor: Actor) -> bool:
    """Whether the intake suggestions may list likely duplicates of the request being typed:
    other people's tickets, so only for intake roles who see every ticket of the city."""
    return can_use_intake_suggestions(actor) and actor.city_wide


def access_intake_suggestions(actor: Actor) -> None:
    require_staff(actor)
    if not can_use_intake_suggestions(actor):
        raise Forbidden(_("Only intake agents and dispatchers use intake suggestions."), "forbidden")


def access_attachment(actor: Actor, token: str, ticket_id: int | None = None) -> Attachment:
    """An attachment, to staff who may see its ticket (optionally also checking which ticket)."""
    found = Attachment.objects.filter(token=token).values_list("ticket_id", flat=True).first()
    if found is None or (ticket_id is not None and found != ticket_id):
        raise NotFound(_("No such attachment."), "attachment_not_found")
    ticket = access_ticket(actor, found)
    return ticket.attachments.get(token=token)


def access_track(number: str, code: str, *, for_update: bool = False) -> Ticket:
    """The requester's way in: the ticket number and the access code given at submission.

    A wrong number and a wrong code get the same answer, so neither can be probed alone. After
    MINYI_TRACK_LOCK_ATTEMPTS wrong codes for one number within MINYI_TRACK_LOCK_SECONDS the
    number is locked for that long, even for the right code (besides the per-client rate limit):
    a 10-character code from 32 symbols (50 bits) cannot be guessed a few tries at a time.
    """
    refused = NotFound(_("The ticket number or access code is wrong."), "track_not_found")
    number = (number or "").strip()
    code = normalise_code(code or "")
    if not number or not code:
        raise refused
    lock_key = "minyi:track-fail:" + hashlib.sha256(number.encode()).hexdigest()[:24]
    failures = cache.get(lock_key, 0)
    if failures >= settings.MINYI_TRACK_LOCK_ATTEMPTS:
        raise RateLimited(
            _("Too many wrong access codes for this ticket. Please try again in %(minutes)d minutes.")
            % {"minutes": max(1, settings.MINYI_TRACK_LOCK_SECONDS // 60)},
            "track_locked",
        )
    tickets = Ticket.objects.filter(number=number)
    if for_update:
        tickets = tickets.select_for_update()
    ticket = tickets.first()
    if ticket is None or not access_code_matches(code, ticket.access_code_hash):
        if cache.add(lock_key, 1, settings.MINYI_TRACK_LOCK_SECONDS) is False:
            try:
                cache.incr(lock_key)
            except ValueError:  # expired between add and incr
                cache.add(lock_key, 1, settings.MINYI_TRACK_LOCK_SECONDS)
        raise refused
    return ticket


def transition_role(actor: Actor, ticket: Ticket, name: str) -> str:
    """The role under which `actor` may take transition `name` on `ticket`, or Forbidden.

    Checks the workflow table's roles and, for unit-scoped transitions, that the actor works
    for the ticket's lead unit. The state is checked by the action (a Conflict, not a refusal).
    """
    role = workflow.role_for(name, actor.roles)
    if role is None:
        raise Forbidden(_("Your role may not do this."), "role_not_allowed")
    transition = workflow.TRANSITIONS[name]
    if transition.unit_scoped and role in UNIT_ROLES and ticket.lead_unit_id != actor.unit_id:
        raise Forbidden(
            _("Only the lead unit of this ticket may do this."), "not_lead_unit"
        )
    if transition.assisting_scoped and (
        role not in UNIT_ROLES
        or actor.unit_id is None
        or ticket.lead_unit_id == actor.unit_id  # the lead is never also assisting (no query)
        or not ticket.assisting_units.filter(pk=actor.unit_id).exists()
    ):
        raise Forbidden(
            _("Only an assisting unit of this ticket may do this."), "not_assisting_unit"
        )
    return role


def access_unit_scope(actor: Actor, unit_id: int | None) -> int | None:
    """The unit whose dispatch figures `actor` asks for: platform roles any unit (None: all);
    a unit role only its own (asking for another unit is refused)."""
    require_staff(actor)
    if actor.city_wide or SYSTEM in actor.roles:
        return unit_id
    if actor.roles & UNIT_ROLES and actor.unit_id is not None:
        if unit_id is not None and unit_id != actor.unit_id:
            raise Forbidden(_("You may see only your own unit's figures."), "not_own_unit")
        return actor.unit_id
    raise Forbidden(_("Your role may not do this."), "role_not_allowed")


SLA_ACTS = frozenset({"request_extension", "decide_extension", "file_plan", "decide_plan", "record_milestone"})


def available_transitions(actor: Actor, ticket: Ticket) -> list[str]:
    """Exactly the transitions `actor` may take on `ticket` now (for pages and the API)."""
    from minyi.sla.guards import preconditions

    candidates: list[str] = []
    for name in workflow.available(ticket.status, actor.roles):
        try:
            transition_role(actor, ticket, name)
        except Forbidden:
            continue
        candidates.append(name)
    now = clock.now()
    checks = {
        "direct_answer": ticket.type == "consultation",
        # A forced dispatch (arbitration) cannot be returned, nor a ticket past its return window.
        "return": not ticket.forced_dispatch and (ticket.return_due_at is None or now <= ticket.return_due_at),
        # Taken only by confirming a quality finding (minyi.supervision.screening.confirm).
        "require_new_reply": False,
    }
    if set(candidates) & SLA_ACTS:  # the time-limit guards read the database: only when needed
        checks |= preconditions(ticket, now)
    return [name for name in candidates if checks.get(name, True)]


def access_requester_contact(actor: Actor, ticket: Ticket) -> dict[str, Any]:
    """The requester's personal fields as `actor` may see them (minyi.privacy.policy): clear,
    masked or hidden ("") by role, and which of them `actor` may reveal with a reason. Nobody
    sees an anonymous requester; its phone, kept only to call back, is used by the platform."""
    if ticket.anonymous:
        return {"name": _("Anonymous"), "phone": "", "email": "", "id_number": "", "address": ticket.address,
                "revealable": []}
    contact: dict[str, Any] = {}
    for field, attribute in privacy.FIELDS.items():
        contact[field] = privacy.shown(field, getattr(ticket, attribute), privacy.visibility(actor.roles, field))
    contact["revealable"] = [
        field for field, attribute in privacy.FIELDS.items()
        if getattr(ticket, attribute) and can_reveal(actor, field)
    ]
    return contact


def can_reveal(actor: Actor, field: str) -> bool:
    """Whether `actor` may reveal `field` in clear (with a reason): a field its roles see
    masked or not at all, which one of them may reveal (minyi.privacy.policy)."""
    return (
        actor.is_staff_user and privacy.may_reveal(actor.roles, field)
        and privacy.visibility(actor.roles, field) != privacy.CLEAR
    )


def access_phone_search(actor: Actor) -> None:
    """Finding a caller's earlier tickets by phone: for roles that see or may reveal phones."""
    require_staff(actor)
    if not (privacy.visibility(actor.roles, "phone") == privacy.CLEAR or privacy.may_reveal(actor.roles, "phone")):
        raise Forbidden(_("Your role may not search by phone number."), "role_not_allowed")


def visible_text(actor: Actor, text: str) -> str:
    """Free text (the request, notes) as `actor` reads it: numbers inside it (mobiles, ID
    numbers, bank cards) are masked for every role outside intake."""
    return text if privacy.text_in_clear(actor.roles) else privacy.mask_text(text)


def is_public(actor: Actor) -> bool:
    return PUBLIC in actor.roles


def can_search_text_for(actor: Actor, keyword: str) -> bool:
    """Whether a keyword search may match `keyword` inside titles for `actor`: whoever reads
    numbers in text masked may not probe them by searching digits (three or more in a row,
    spaces and dashes aside); such a keyword matches ticket numbers only."""
    if privacy.text_in_clear(actor.roles):
        return True
    return not re.search(r"\d{3}", re.sub(r"[\s-]", "", keyword or ""))


#: Roles that read the city's measures (考核指标); a unit's staff read their own unit's.
KPI_ROLES = frozenset({Role.CITY_LEADER, Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN})


def can_see_kpis(actor: Actor) -> bool:
    return actor.is_staff_user and bool(actor.roles & (KPI_ROLES | UNIT_ROLES))


def access_kpi_scope(actor: Actor, unit_id: int | None) -> int | None:
    """The unit whose measures `actor` asks for (None: the whole city): the measures' roles any
    unit, a unit's staff only their own (`access_unit_scope`); other roles are refused."""
    require_staff(actor)
    if not can_see_kpis(actor):
        raise Forbidden(_("Your role may not do this."), "role_not_allowed")
    return access_unit_scope(actor, unit_id)


#: Why a ticket page shows a staff member no call section at all (see `can_offer_call`).
_NO_CALL_SECTION = frozenset({"role_not_allowed", "not_lead_unit", "invalid_state"})


def can_offer_call(actor: Actor, ticket: Ticket) -> bool:
    """Whether the ticket page offers `actor` a call to the requester through a virtual number,
    or says why not: the lead unit's handlers and leaders while the unit holds the ticket. The
    rules are `minyi.calls.access.refusal`'s; this only tells which refusals hide the offer."""
    from minyi.calls import access as calls_access  # calls.access builds on this module

    refusal = calls_access.refusal(actor, ticket)
    return refusal is None or refusal.code not in _NO_CALL_SECTION
