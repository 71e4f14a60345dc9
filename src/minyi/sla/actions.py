"""Acts on a ticket's time limits: extensions (延期), staged-closure plans (阶段性办结) and
re-counting provisional deadlines. Same shape as `minyi.tickets.actions`: lock, check, change,
one timeline event each."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from minyi.core import clock
from minyi.core.errors import Conflict, InvalidInput
from minyi.org.actors import Actor, system_actor
from minyi.sla import services
from minyi.sla.guards import LIVE_PLAN_STATUSES, MAX_EXTENSIONS
from minyi.sla.models import Decision, Extension, ExtensionReason, Milestone, StagedPlan
from minyi.sla.policies import SHANGHAI, Deadline, end_of_day
from minyi.tickets.actions import (
    add_attachments,
    record_event,
    required_text,
    transition,
    unit_deadline,
)
from minyi.tickets.choices import OPEN_STATUSES
from minyi.tickets.intake import clean_files
from minyi.tickets.models import Ticket

MAX_EXTENSION_DAYS = 30
MAX_MILESTONES = 12


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _iso(moment: dt.datetime | None) -> str | None:
    """A moment for event data, always with the +08:00 offset (rows read back come in UTC)."""
    return moment.astimezone(SHANGHAI).isoformat() if moment is not None else None


def extend(due: dt.datetime, working_days: int) -> tuple[dt.datetime, bool]:
    """A deadline moved `working_days` working days later (and whether that is provisional)."""
    calendar = services.current_calendar()
    start = due.astimezone(SHANGHAI).date()
    last = calendar.add_working_days(start, working_days)
    return end_of_day(last), calendar.provisional(start, last)


# --- extensions ------------------------------------------------------------------------------


def request_extension(
    actor: Actor, ticket_id: int, *, reason_code: str, working_days: Any, explanation: str
) -> Extension:
    reason = ExtensionReason.objects.filter(code=reason_code, active=True).first()
    if reason is None:
        raise InvalidInput(_("Please choose a reason for the extension."), "invalid_reason", field="reason_code")
    try:
        days = int(working_days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidInput(
            _("Ask for 1 to %(n)d working days.") % {"n": MAX_EXTENSION_DAYS}, "invalid_days", field="working_days"
        )
    explanation = required_text(explanation, "explanation", 2000)
    with transition(actor, ticket_id, "request_extension") as (ticket, role):
        now = clock.now()
        if ticket.unit_due_at is not None and now > ticket.unit_due_at:
            raise Conflict(_("The deadline has passed: an extension must be asked for before it."), "deadline_passed")
        if ticket.plans.filter(status=StagedPlan.Status.APPROVED).exists():
            raise Conflict(_("The ticket is tracked against its staged-closure plan."), "plan_tracked")
        extensions = list(ticket.extensions.all())
        if any(e.status == Decision.PENDING for e in extensions):
            raise Conflict(_("An extension is already waiting for a decision."), "extension_pending")
        if sum(e.status == Decision.APPROVED for e in extensions) >= MAX_EXTENSIONS:
            raise Conflict(
                _("A ticket may be extended at most %(n)d times.") % {"n": MAX_EXTENSIONS}, "extension_limit"
            )
        extension = Extension.objects.create(
            ticket=ticket, reason=reason, working_days=days, explanation=explanation,
            requested_by=actor.user, requested_at=now,
        )
        record_event(
            ticket, "request_extension", actor, role, from_status=ticket.status, note=explanation,
            unit=ticket.lead_unit, public=False,
            data={"extension": extension.pk, "reason": reason.name, "working_days": days},
        )
    return extension


def decide_extension(actor: Actor, ticket_id: int, *, approve: bool, note: str = "") -> Extension:
    note = (note or "").strip()
    if not approve and not note:
        raise InvalidInput(_("Please say why the extension is refused."), "required", field="note")
    with transition(actor, ticket_id, "decide_extension") as (ticket, role):
        extension = ticket.extensions.select_for_update().filter(status=Decision.PENDING).first()
        if extension is None:
            raise Conflict(_("No extension is waiting for a decision."), "no_pending_extension")
        now = clock.now()
        extension.decided_by, extension.decided_at, extension.decision_note = actor.user, now, note
        if not approve:
            extension.status = Decision.REFUSED
            extension.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
            record_event(
                ticket, "extension_refused", actor, role, from_status=ticket.status, note=note,
                unit=ticket.lead_unit, public=False, data={"extension": extension.pk},
            )
            return extension
        days = extension.working_days
        extension.old_due_at = ticket.due_at
        ticket.due_at, ticket.due_provisional = extend(ticket.due_at, days)
        if ticket.unit_due_at is not None:
            ticket.unit_due_at, ticket.unit_due_provisional = extend(ticket.unit_due_at, days)
        ticket.extended_days += days
        ticket.save(update_fields=["due_at", "due_provisional", "unit_due_at", "unit_due_provisional", "extended_days"])
        extension.status = Decision.APPROVED
        extension.new_due_at = ticket.due_at
        extension.save(
            update_fields=["status", "decided_by", "decided_at", "decision_note", "old_due_at", "new_due_at"]
        )
        # The requester's notice: the reason and the new deadline, on their timeline.
        notice = _("The handling time is extended by %(n)d working days (%(reason)s). New deadline: %(due)s.") % {
            "n": days, "reason": extension.reason.name, "due": _local(ticket.due_at),
        }
        record_event(
            ticket, "extension_approved", actor, role, from_status=ticket.status, note=notice,
            unit=ticket.lead_unit,
            data={
                "extension": extension.pk, "working_days": days,
                "old_due_at": _iso(extension.old_due_at), "new_due_at": _iso(ticket.due_at),
                "unit_due_at": _iso(ticket.unit_due_at),
                "decision_note": note,
            },
        )
    _resolve_supervision(ticket.pk)
    return extension


# --- staged closure --------------------------------------------------------------------------


def _clean_milestones(items: Any, today: dt.date) -> list[tuple[str, dt.date]]:
    if not isinstance(items, list | tuple) or not items:
        raise InvalidInput(_("A plan needs at least one dated milestone."), "milestones_required", field="milestones")
    if len(items) > MAX_MILESTONES:
        raise InvalidInput(
            _("A plan has at most %(n)d milestones.") % {"n": MAX_MILESTONES}, "too_many_milestones", field="milestones"
        )
    cleaned: list[tuple[str, dt.date]] = []
    for item in items:
        title = str((item or {}).get("title") or "").strip() if isinstance(item, dict) else ""
        raw = (item or {}).get("due_date") if isinstance(item, dict) else None
        if not title:
            raise InvalidInput(_("Every milestone needs a description."), "required", field="milestones")
        if len(title) > 200:
            raise InvalidInput(_("A milestone's description is too long."), "too_long", field="milestones")
        try:
            due = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
        except ValueError:
            raise InvalidInput(_("Every milestone needs a date (YYYY-MM-DD)."), "invalid_date", field="milestones") from None
        if due < today:
            raise InvalidInput(_("A milestone's date is in the past."), "milestone_in_past", field="milestones")
        if cleaned and due <= cleaned[-1][1]:
            raise InvalidInput(
                _("Milestones must be in date order, each after the one before."),
                "milestones_out_of_order", field="milestones",
            )
        cleaned.append((title, due))
    return cleaned


def file_plan(actor: Actor, ticket_id: int, *, explanation: str, milestones: Any) -> StagedPlan:
    """The unit, having explained to the requester, files a plan with dated milestones."""
    explanation = required_text(explanation, "explanation", 2000)
    cleaned = _clean_milestones(milestones, clock.local_today())
    with transition(actor, ticket_id, "file_plan") as (ticket, role):
        if ticket.plans.filter(status__in=LIVE_PLAN_STATUSES).exists():
            raise Conflict(_("This ticket already has a staged-closure plan."), "plan_exists")
        plan = StagedPlan.objects.create(
            ticket=ticket, explanation=explanation, requested_by=actor.user, requested_at=clock.now()
        )
        Milestone.objects.bulk_create(
            [Milestone(plan=plan, seq=i, title=title, due_date=due) for i, (title, due) in enumerate(cleaned, 1)]
        )
        record_event(
            ticket, "file_plan", actor, role, from_status=ticket.status, note=explanation,
            unit=ticket.lead_unit, public=False,
            data={"plan": plan.pk, "milestones": [[t, d.isoformat()] for t, d in cleaned]},
        )
    return plan


def decide_plan(actor: Actor, ticket_id: int, *, approve: bool, note: str = "") -> StagedPlan:
    note = (note or "").strip()
    if not approve and not note:
        raise InvalidInput(_("Please say why the plan is refused."), "required", field="note")
    with transition(actor, ticket_id, "decide_plan") as (ticket, role):
        plan = ticket.plans.select_for_update().filter(status=StagedPlan.Status.PENDING).first()
        if plan is None:
            raise Conflict(_("No plan is waiting for a decision."), "no_pending_plan")
        now = clock.now()
        plan.decided_by, plan.decided_at, plan.decision_note = actor.user, now, note
        if not approve:
            plan.status = StagedPlan.Status.REFUSED
            plan.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
            record_event(
                ticket, "plan_refused", actor, role, from_status=ticket.status, note=note,
                unit=ticket.lead_unit, public=False, data={"plan": plan.pk},
            )
            return plan
        milestones = list(plan.milestones.order_by("seq"))
        if milestones[0].due_date < clock.local_today():
            raise Conflict(_("The plan's first milestone is already past; ask the unit for a new plan."), "plan_outdated")
        plan.status = StagedPlan.Status.APPROVED
        plan.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        # The ticket is now tracked against its plan: the unit's deadline is the last milestone.
        end = end_of_day(milestones[-1].due_date)
        ticket.unit_due_at, ticket.unit_due_provisional = end, False
        ticket.due_at = max(ticket.due_at, end)
        ticket.save(update_fields=["unit_due_at", "unit_due_provisional", "due_at"])
        lines = "; ".join(f"{m.due_date:%Y-%m-%d} {m.title}" for m in milestones)
        record_event(
            ticket, "plan_approved", actor, role, from_status=ticket.status,
            note=f"{plan.explanation}\n{lines}", unit=ticket.lead_unit,
            data={"plan": plan.pk, "unit_due_at": end.isoformat(), "decision_note": note},
        )
    _resolve_supervision(ticket.pk)
    return plan


def record_milestone(
    actor: Actor, ticket_id: int, *, milestone_id: Any, evidence: str, files: list[Any] | None = None
) -> Milestone:
    evidence = required_text(evidence, "evidence", 2000)
    checked = clean_files(list(files or []), field="files")
    try:
        milestone_pk = int(milestone_id)
    except (TypeError, ValueError):
        raise InvalidInput(_("Please choose a milestone."), "invalid_milestone", field="milestone_id") from None
    with transition(actor, ticket_id, "record_milestone") as (ticket, role):
        milestone = (
            Milestone.objects.select_for_update()
            # A completed plan's milestones are all done: recording one again is `milestone_done`.
            .filter(
                pk=milestone_pk, plan__ticket=ticket,
                plan__status__in=[StagedPlan.Status.APPROVED, StagedPlan.Status.COMPLETED],
            )
            .select_related("plan")
            .first()
        )
        if milestone is None:
            raise InvalidInput(_("Please choose a milestone of the approved plan."), "invalid_milestone", field="milestone_id")
        if milestone.done_at is not None:
            raise Conflict(_("This milestone is already recorded."), "milestone_done")
        milestone.done_at, milestone.evidence, milestone.recorded_by = clock.now(), evidence, actor.user
        milestone.save(update_fields=["done_at", "evidence", "recorded_by"])
        stored = add_attachments(ticket, checked, actor)
        plan = milestone.plan
        if not plan.milestones.filter(done_at=None).exists():
            plan.status = StagedPlan.Status.COMPLETED
            plan.save(update_fields=["status"])
        record_event(
            ticket, "milestone_done", actor, role, from_status=ticket.status,
            note=f"{milestone.title}: {evidence}", unit=ticket.lead_unit,
            data={"milestone": milestone.pk, "seq": milestone.seq, "attachments": [a.token for a in stored]},
        )
    _resolve_supervision(ticket.pk)
    return milestone


def withdraw_pending(ticket: Ticket, now: dt.datetime) -> None:
    """When the unit replies, applications still waiting for a decision lapse (called inside
    the reply action's transaction)."""
    note = _("Withdrawn: the unit replied before a decision.")
    ticket.extensions.filter(status=Decision.PENDING).update(
        status=Decision.WITHDRAWN, decided_at=now, decision_note=note
    )
    ticket.plans.filter(status=StagedPlan.Status.PENDING).update(
        status=StagedPlan.Status.WITHDRAWN, decided_at=now, decision_note=note
    )


# --- provisional deadlines --------------------------------------------------------------------


def recompute_provisional_deadlines() -> int:
    """Re-count every open ticket's provisional deadline on the current calendar (after a
    holiday notice is loaded). Returns how many tickets changed."""
    actor = system_actor()
    changed = 0
    ids = list(
        Ticket.objects.filter(status__in=OPEN_STATUSES)
        .filter(Q(due_provisional=True) | Q(unit_due_provisional=True))
        .values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=pk)
            before = (ticket.due_at, ticket.unit_due_at)
            fields = []
            if ticket.due_provisional:
                due = services.deadline_for(
                    ticket.created_at, ticket.time_limit_days + ticket.extended_days,
                    urgent=False,
                )
                # An approved plan's last milestone keeps the requester's deadline as late.
                plan_end = Milestone.objects.filter(
                    plan__ticket=ticket, plan__status__in=[StagedPlan.Status.APPROVED, StagedPlan.Status.COMPLETED]
                ).aggregate(last=Max("due_date"))["last"]
                if plan_end is not None and end_of_day(plan_end) > due.at:
                    due = Deadline(end_of_day(plan_end), False)
                ticket.due_at, ticket.due_provisional = due.at, due.provisional
                fields += ["due_at", "due_provisional"]
            if ticket.unit_due_provisional and ticket.dispatched_at is not None:
                unit_due = unit_deadline(ticket, ticket.dispatched_at)
                ticket.unit_due_at, ticket.unit_due_provisional = unit_due.at, unit_due.provisional
                fields += ["unit_due_at", "unit_due_provisional"]
            if not fields:
                continue
            ticket.save(update_fields=fields)
            if (ticket.due_at, ticket.unit_due_at) != before or not (ticket.due_provisional or ticket.unit_due_provisional):
                changed += 1
                record_event(
                    ticket, "deadline_recounted", actor, "system", from_status=ticket.status,
                    note=_("Deadline re-counted on the newly loaded holiday notice: %(due)s.") % {"due": _local(ticket.due_at)},
                    data={
                        "old_due_at": _iso(before[0]), "due_at": _iso(ticket.due_at),
                        "unit_due_at": _iso(ticket.unit_due_at),
                        "provisional": ticket.due_provisional or ticket.unit_due_provisional,
                    },
                )
    return changed


def _resolve_supervision(ticket_id: int) -> None:
    from minyi.supervision.actions import close_resolved

    transaction.on_commit(lambda: close_resolved(ticket_ids=[ticket_id]))
