"""Who hears about a ticket event. Runs after the commit, in the background worker.

Delivery is idempotent: a notification is unique per (user, event), so running the job
twice, or on two workers, creates each once. Log lines carry ticket numbers, never
personal data.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from huey.contrib.djhuey import db_task

from minyi.org.models import Role

log = logging.getLogger(__name__)


#: Applications and findings that wait for a supervisor.
SUPERVISOR_KINDS = frozenset({"request_extension", "file_plan", "supervision_answered", "quality_flagged"})
#: Decisions the lead unit must hear about.
UNIT_KINDS = frozenset(
    {
        "extension_approved", "extension_refused", "plan_approved", "plan_refused", "arbitrate", "assist_input",
        "approve_reply", "reject_reply", "require_new_reply", "supervision_opened",
    }
)


def recipients(event) -> list[int]:
    """User ids to notify of `event` (data-driven by the event kind)."""
    users = get_user_model().objects.filter(is_active=True)
    ticket = event.ticket
    if event.kind == "dispatch":
        unit_ids = [ticket.lead_unit_id, *ticket.assisting_units.values_list("id", flat=True)]
        users = users.filter(
            staff_profile__unit_id__in=unit_ids,
            groups__name__in=[Role.HANDLER, Role.UNIT_LEADER],
        )
    elif event.kind == "return":
        users = users.filter(groups__name=Role.DISPATCHER)
    elif event.kind == "reply" and event.to_status == "pending_approval" and ticket.lead_unit_id:
        # Escalated handling: the unit's leaders approve the reply.
        users = users.filter(staff_profile__unit_id=ticket.lead_unit_id, groups__name=Role.UNIT_LEADER)
    elif event.kind == "review" and event.to_status == "in_progress" and ticket.lead_unit_id:
        users = users.filter(
            staff_profile__unit_id=ticket.lead_unit_id, groups__name__in=[Role.HANDLER, Role.UNIT_LEADER],
        )
    elif event.kind in SUPERVISOR_KINDS or (event.kind == "rate" and event.to_status == "under_review"):
        users = users.filter(groups__name=Role.SUPERVISOR)
    elif event.kind in UNIT_KINDS and ticket.lead_unit_id:
        users = users.filter(
            staff_profile__unit_id=ticket.lead_unit_id,
            groups__name__in=[Role.HANDLER, Role.UNIT_LEADER],
        )
    else:
        return []
    return list(users.values_list("id", flat=True).distinct())


@db_task(retries=3, retry_delay=10)
def deliver(event_id: int) -> int:
    from minyi.tickets.models import Notification, TicketEvent

    event = TicketEvent.objects.select_related("ticket").filter(pk=event_id).first()
    if event is None:
        return 0
    user_ids = recipients(event)
    Notification.objects.bulk_create(
        [
            Notification(user_id=uid, event=event, ticket=event.ticket, created_at=event.created_at)
            for uid in user_ids
        ],
        ignore_conflicts=True,
    )
    log.info("ticket %s: %s notified %d staff", event.ticket.number, event.kind, len(user_ids))
    return len(user_ids)


#: Every kind `recipients` may name someone for; other events enqueue nothing (most intake).
NOTIFYING_KINDS = SUPERVISOR_KINDS | UNIT_KINDS | {"dispatch", "return", "rate", "reply", "review"}


def event_committed(event_id: int, kind: str = "") -> None:
    """Called by the actions after their transaction commits."""
    if kind and kind not in NOTIFYING_KINDS:
        return
    deliver(event_id)
