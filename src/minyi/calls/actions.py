"""The one write path of virtual-number calls: bind a requester and a handler to a number,
end bindings, record calls. Each change appends an event to the ticket's timeline (never a
telephone number in it). See docs/adr/0009-virtual-numbers.md.

- `bind` — the handler presses "call the requester": lock the ticket, check (`calls.access`),
  return the live binding if there is one, else take a free number under a row lock and bind.
- `resolve` / `record_call_start` — what the SIP redirect server asks and records.
- `record_call` — a call record posted by the switch or the carrier (the callback).
- `expire_bindings` / `end_bindings_for_closed_tickets` — the periodic job (`tasks.py`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from minyi.calls import access as calls_access
from minyi.calls import conf
from minyi.calls.models import LOCAL, Binding, CallRecord, EndReason, VirtualNumber
from minyi.calls.numbers import normalise_number
from minyi.calls.providers import ProviderError, get_provider, usable_providers
from minyi.calls.routing import (
    A_TO_B,
    B_TO_A,
    EXPIRED,
    BindingView,
    Route,
    conflicts,
    end_reason,
    route,
)
from minyi.core import clock
from minyi.core.errors import Conflict, InvalidInput, NotFound
from minyi.org.actors import SYSTEM, Actor, requester_actor, system_actor
from minyi.org.models import StaffProfile
from minyi.tickets import access
from minyi.tickets.actions import record_event
from minyi.tickets.choices import OPEN_STATUSES
from minyi.tickets.models import Ticket

log = logging.getLogger(__name__)

#: How many bindings one run of the periodic job ends at most (the next run takes the rest).
BATCH = 2000
#: Tolerance between the carrier's clock and ours when a call record is matched to a binding.
CLOCK_SLACK = dt.timedelta(seconds=60)


# --- binding -----------------------------------------------------------------------------------


def bind(actor: Actor, ticket_id: int) -> Binding:
    """Bind the requester (A) of `ticket_id` and the acting handler (B) to a virtual number X
    for MINYI_CALL_BINDING_MINUTES. Pressing again while bound returns the same binding.

    Refusals: 404 `ticket_not_found`; 403 `role_not_allowed`, `not_lead_unit`,
    `contact_not_allowed`; 409 `invalid_state`, `no_phone`, `no_handler_phone`, `same_number`,
    `no_free_number`; 502 `provider_error`. A refusal changes nothing.
    """
    with transaction.atomic():
        ticket = access.access_ticket(actor, ticket_id, for_update=True)
        role = calls_access.access_call(actor, ticket)
        assert ticket.lead_unit_id is not None  # access_call checked the lead unit
        now = clock.now()
        a = normalise_number(ticket.requester_phone)
        b = calls_access.handler_number(actor)
        if a == b:
            raise Conflict(_("Your line is the requester's own number; it cannot be bound."), "same_number")
        current = (
            Binding.objects.select_for_update().select_related("number")
            .filter(ticket=ticket, handler=actor.user, active=True).first()
        )
        if current is not None:
            if current.expires_at > now and (current.party_a, current.party_b) == (a, b):
                return current
            reason = EndReason.EXPIRED if current.expires_at <= now else EndReason.PARTIES_CHANGED
            _end(current, reason, now, actor, role, ticket=ticket)
        number = _free_number(a, b, now)
        expires = now + dt.timedelta(minutes=conf.binding_minutes())
        bound = get_provider(number.provider).bind(a, b, number.number, expires)
        if bound.number != number.number:  # the carrier chose another of its numbers
            other = VirtualNumber.objects.filter(number=bound.number, provider=number.provider).first()
            if other is None:
                raise ProviderError(_("The carrier bound a number that is not in the pool."))
            number = other
        binding = Binding.objects.create(
            number=number, ticket=ticket, handler=actor.user, handler_role=role, unit_id=ticket.lead_unit_id,
            party_a=a, party_b=b, provider=number.provider, provider_ref=bound.ref,
            created_at=now, expires_at=expires,
        )
        record_event(
            ticket, "call_bound", actor, role, from_status=ticket.status, unit=ticket.lead_unit, public=False,
            data={"binding": binding.pk, "expires_at": expires.isoformat()},
        )
    log.info("ticket %s: binding %s until %s", ticket.number, binding.pk, expires.isoformat())
    return binding


def _live_parties(number_id: int, now: dt.datetime) -> list[tuple[str, str]]:
    return list(
        Binding.objects.filter(number_id=number_id, active=True, expires_at__gt=now).values_list("party_a", "party_b")
    )


def _busy_numbers(a: str, b: str, now: dt.datetime) -> set[int]:
    """Numbers on which A or B is already a party of a live binding (compared in Python, so the
    parties may be stored sealed)."""
    rows = Binding.objects.filter(active=True, expires_at__gt=now).values_list("number_id", "party_a", "party_b")
    return {number_id for number_id, pa, pb in rows if conflicts(a, b, [(pa, pb)])}


def _free_number(a: str, b: str, now: dt.datetime) -> VirtualNumber:
    """A pool number that may take the binding (A, B) under the AXB rule, locked until commit.

    On PostgreSQL two handlers binding at once lock different numbers (`SKIP LOCKED`); when every
    free number is being bound by someone else, wait for one and check it again (its new binding
    may have taken the slot). SQLite runs one writing transaction at a time.
    """
    pool = VirtualNumber.objects.filter(active=True, provider__in=usable_providers()).order_by("pk")
    skip_locked = connection.features.has_select_for_update_skip_locked
    for _attempt in range(5):
        candidates = pool.exclude(pk__in=_busy_numbers(a, b, now))
        number = candidates.select_for_update(skip_locked=True).first() if skip_locked else None
        if number is None:
            number = candidates.select_for_update().first()
        if number is None:
            break
        if not conflicts(a, b, _live_parties(number.pk, now)):  # re-read under the lock
            return number
    raise Conflict(_("No virtual number is free at the moment. Please try again shortly."), "no_free_number")


def _staff_actor(user, role: str) -> Actor:
    try:
        label = user.staff_profile.display_name
    except StaffProfile.DoesNotExist:
        label = ""
    return Actor(user=user, roles=frozenset({role}), label=label or user.get_username())


def _event_ticket(ticket_id: int) -> Ticket:
    """What a timeline event needs of its ticket; the requester's sealed fields stay unopened."""
    return Ticket.objects.only("id", "number", "status", "lead_unit_id").get(pk=ticket_id)


def _bindings():
    """Bindings with their handler (and label) and unit, for events."""
    return Binding.objects.select_related("handler__staff_profile", "unit")


def _end(
    binding: Binding, reason: str, now: dt.datetime, actor: Actor, role: str, *, ticket: Ticket | None = None
) -> None:
    """End a locked, active binding; the carrier is told after the commit."""
    binding.active = False
    binding.ended_at = now
    binding.end_reason = reason
    binding.save(update_fields=["active", "ended_at", "end_reason"])
    ticket = ticket or _event_ticket(binding.ticket_id)
    record_event(
        ticket, "call_unbound", actor, role, from_status=ticket.status, unit=binding.unit, public=False,
        data={"binding": binding.pk, "reason": reason},
    )
    if binding.provider != LOCAL and binding.provider_ref:
        from minyi.calls.tasks import unbind_at_provider  # the tasks module builds on this one

        pk = binding.pk
        transaction.on_commit(lambda: unbind_at_provider(pk))


def _sweep(now: dt.datetime, rows, accept: Callable[[str], bool]) -> int:
    ended = 0
    actor = system_actor()
    for pk, unit_id, expires_at, status, lead_unit_id in rows:
        reason = end_reason(status=status, lead_unit_id=lead_unit_id, unit_id=unit_id, expires_at=expires_at, now=now)
        if reason is None or not accept(reason):
            continue
        with transaction.atomic():
            binding = Binding.objects.select_for_update().select_related("unit").filter(pk=pk, active=True).first()
            if binding is None:  # ended meanwhile (another worker, or the handler re-binding)
                continue
            ticket = _event_ticket(binding.ticket_id)
            reason = end_reason(
                status=ticket.status, lead_unit_id=ticket.lead_unit_id, unit_id=binding.unit_id,
                expires_at=binding.expires_at, now=now,
            )
            if reason is None or not accept(reason):
                continue
            _end(binding, reason, now, actor, SYSTEM, ticket=ticket)
            ended += 1
    return ended


def _active_rows(**filters):
    return (
        Binding.objects.filter(active=True, **filters).order_by("expires_at", "pk")
        .values_list("pk", "unit_id", "expires_at", "ticket__status", "ticket__lead_unit_id")[:BATCH]
    )


def expire_bindings(now: dt.datetime | None = None) -> int:
    """End the bindings whose time ran out (with the ticket's reason when it closed meanwhile).
    Idempotent; safe on several workers (each binding is re-checked under its row lock)."""
    now = now or clock.now()
    return _sweep(now, _active_rows(expires_at__lte=now), lambda reason: True)


def end_bindings_for_closed_tickets(now: dt.datetime | None = None) -> int:
    """End the live bindings of tickets that closed, were merged or went to another unit."""
    now = now or clock.now()
    return _sweep(now, _active_rows(), lambda reason: reason != EXPIRED)


# --- routing (the SIP redirect server) ---------------------------------------------------------


def bindings_on(x: str, now: dt.datetime) -> list[BindingView]:
    """The live bindings on X of open tickets: one indexed query (number, active)."""
    rows = Binding.objects.filter(
        number__number=x, active=True, expires_at__gt=now, ticket__status__in=OPEN_STATUSES,
    ).values_list("pk", "party_a", "party_b", "expires_at")
    return [BindingView(pk, x, pa, pb, expires) for pk, pa, pb, expires in rows]


def resolve(x: str, caller: str, now: dt.datetime | None = None) -> Route:
    """Where a call from `caller` to virtual number `x` goes now (see `routing.route`)."""
    now = now or clock.now()
    x = normalise_number(x)
    return route(x, caller, now, bindings_on(x, now) if x else [])


def call_ref(call_id: str) -> str:
    """How a call id is kept: its SHA-256 (switches may put addresses or numbers in it)."""
    call_id = (call_id or "").strip()
    return hashlib.sha256(call_id.encode()).hexdigest() if call_id else ""


def _caller(binding: Binding, direction: str) -> tuple[Actor, str, str]:
    """(actor, role, caller_role) of the party who placed a call in `direction`."""
    if direction == B_TO_A:
        return _staff_actor(binding.handler, binding.handler_role), binding.handler_role, CallRecord.Caller.HANDLER
    return requester_actor(), "requester", CallRecord.Caller.REQUESTER


def record_call_start(found: Route, call_id: str, now: dt.datetime | None = None) -> CallRecord | None:
    """A call the SIP server put through: its record and a `call_started` event (internal).
    Once per call id (a retransmitted or repeated INVITE records nothing more)."""
    if found.binding_id is None:
        return None
    now = now or clock.now()
    ref = call_ref(call_id)
    binding = _bindings().filter(pk=found.binding_id).first()
    if binding is None:
        return None
    ticket = _event_ticket(binding.ticket_id)
    actor, role, caller_role = _caller(binding, found.direction)
    try:
        with transaction.atomic():
            record = CallRecord.objects.create(
                binding=binding, ticket=ticket, direction=found.direction, caller_role=caller_role,
                call_ref=ref, started_at=now,
            )
            record_event(
                ticket, "call_started", actor, role, from_status=ticket.status, unit=binding.unit,
                public=False, data={"call": record.pk, "direction": found.direction, "caller": caller_role},
            )
    except IntegrityError:  # this call id is recorded already
        return None
    return record


# --- call records from the switch or the carrier (the callback) -------------------------------


@dataclass(frozen=True)
class CallReport:
    """A finished call as a switch's CDR hook or a carrier's call-record push reports it."""

    call_id: str
    started_at: dt.datetime
    ended_at: dt.datetime
    answered_at: dt.datetime | None = None
    duration_seconds: int | None = None
    binding_ref: str = ""  # the carrier's binding id
    number: str = ""  # X
    caller: str = ""  # the calling number (A or B)
    direction: str = ""  # b_to_a or a_to_b, when the caller is not given
    result: str = ""


def _clean(report: CallReport) -> tuple[dt.datetime | None, int, str]:
    if not call_ref(report.call_id):
        raise InvalidInput(_("The call id is missing."), "required", field="call_id")
    if report.ended_at < report.started_at:
        raise InvalidInput(_("The call ends before it starts."), "invalid_times", field="ended_at")
    answered = report.answered_at
    if answered is not None and not report.started_at <= answered <= report.ended_at:
        raise InvalidInput(_("The call was answered outside its own time."), "invalid_times", field="answered_at")
    if report.duration_seconds is not None:
        if report.duration_seconds < 0:
            raise InvalidInput(_("The duration cannot be negative."), "invalid", field="duration_seconds")
        duration = report.duration_seconds
    else:
        duration = int((report.ended_at - answered).total_seconds()) if answered else 0
    result = report.result or (CallRecord.Result.ANSWERED if duration > 0 else CallRecord.Result.NO_ANSWER)
    if result not in CallRecord.Result.values or result == CallRecord.Result.ROUTED:
        raise InvalidInput(_("Unknown call result."), "invalid_result", field="result")
    return answered, duration, result


def _binding_for(report: CallReport) -> Binding:
    bindings = _bindings()
    caller = normalise_number(report.caller)
    if report.binding_ref:
        found = bindings.filter(provider_ref=report.binding_ref[:64]).exclude(provider_ref="").first()
    elif report.number and caller:
        at = report.started_at
        candidates = bindings.filter(
            number__number=normalise_number(report.number),
            created_at__lte=at + CLOCK_SLACK, expires_at__gte=at - CLOCK_SLACK,
        ).filter(Q(ended_at__isnull=True) | Q(ended_at__gte=at - CLOCK_SLACK)).order_by("-pk")
        found = next((b for b in candidates if caller in (b.party_a, b.party_b)), None)
    else:
        raise InvalidInput(_("Give the binding id, or the virtual number and the caller."), "required", field="binding_id")
    if found is None:
        raise NotFound(_("No binding matches this call."), "binding_not_found")
    return found


def _direction(binding: Binding, report: CallReport) -> str:
    caller = normalise_number(report.caller)
    if caller and caller == binding.party_b:
        return B_TO_A
    if caller and caller == binding.party_a:
        return A_TO_B
    if not caller and report.direction in (B_TO_A, A_TO_B):
        return report.direction
    raise InvalidInput(_("The caller is neither party of the binding."), "unknown_caller", field="caller")


def _record_end(record: CallRecord) -> None:
    """The end of a call on the timeline. A call from the unit that the requester answered is
    shown to the requester ("the handling unit called you"); everything else is internal."""
    binding = record.binding
    actor, role, _caller_role = _caller(binding, record.direction)
    answered = record.result == CallRecord.Result.ANSWERED
    public = record.direction == B_TO_A and answered
    record_event(
        record.ticket, "unit_called" if public else "call_ended", actor, role, from_status=record.ticket.status,
        unit=binding.unit, public=public,
        data={
            "call": record.pk, "direction": record.direction, "caller": record.caller_role, "result": record.result,
            "duration_seconds": record.duration_seconds, "started_at": record.started_at.isoformat(),
            "answered_at": record.answered_at.isoformat() if record.answered_at else None,
            "ended_at": record.ended_at.isoformat() if record.ended_at else None,
        },
    )


def record_call(report: CallReport) -> tuple[CallRecord, bool]:
    """Record a finished call (the callback). Returns the record and whether anything changed:
    a call already recorded as ended is a repeat and changes nothing; a call the SIP server put
    through gets its end. Refusals: 422 (times, caller), 404 `binding_not_found`."""
    answered, duration, result = _clean(report)
    ref = call_ref(report.call_id)
    with transaction.atomic():
        record = CallRecord.objects.select_for_update().filter(call_ref=ref).first()
        if record is not None:
            if record.ended_at is not None:
                return record, False
        else:
            binding = _binding_for(report)
            direction = _direction(binding, report)
            try:
                with transaction.atomic():
                    record = CallRecord.objects.create(
                        binding=binding, ticket_id=binding.ticket_id, direction=direction,
                        caller_role=_caller(binding, direction)[2], call_ref=ref, started_at=report.started_at,
                    )
            except IntegrityError:  # the same call reported twice at once: the other one records it
                return CallRecord.objects.get(call_ref=ref), False
        record.binding = _bindings().get(pk=record.binding_id)
        record.ticket = _event_ticket(record.ticket_id)
        record.answered_at = answered
        record.ended_at = report.ended_at
        record.duration_seconds = duration
        record.result = result
        record.save(update_fields=["answered_at", "ended_at", "duration_seconds", "result"])
        _record_end(record)
    return record, True
