"""Preconditions of the time-limit acts beyond state and role (the actions enforce them too;
pages and the API use these to offer exactly what can be done)."""

from __future__ import annotations

import datetime as dt

from minyi.sla.models import Decision, StagedPlan
from minyi.tickets.models import Ticket

MAX_EXTENSIONS = 2
#: A ticket has one plan at a time: pending, being tracked, or completed (then the unit replies).
LIVE_PLAN_STATUSES = (StagedPlan.Status.PENDING, StagedPlan.Status.APPROVED, StagedPlan.Status.COMPLETED)


def preconditions(ticket: Ticket, now: dt.datetime) -> dict[str, bool]:
    extensions = list(ticket.extensions.all())
    plans = list(ticket.plans.all())
    pending_extension = any(e.status == Decision.PENDING for e in extensions)
    approved = sum(e.status == Decision.APPROVED for e in extensions)
    live_plans = [p for p in plans if p.status in LIVE_PLAN_STATUSES]
    approved_plan = next((p for p in plans if p.status == StagedPlan.Status.APPROVED), None)
    return {
        "request_extension": not pending_extension
        and approved < MAX_EXTENSIONS
        and approved_plan is None
        and (ticket.unit_due_at is None or now <= ticket.unit_due_at),
        "decide_extension": pending_extension,
        "file_plan": not live_plans,
        "decide_plan": any(p.status == StagedPlan.Status.PENDING for p in plans),
        "record_milestone": approved_plan is not None
        and approved_plan.milestones.filter(done_at=None).exists(),
    }
