"""Quality screening of replies, on the database: score each reply when it is submitted,
rescan recent replies nightly, and let a supervisor confirm a finding (a quality supervision
order and a new reply) or dismiss it. The rules themselves are pure (`quality.py`)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from minyi.core import clock
from minyi.core.errors import Conflict, NotFound
from minyi.org.actors import Actor
from minyi.supervision import quality
from minyi.supervision.access import SUPERVISE_ROLES, access_screening_queryset, access_supervise
from minyi.supervision.models import ReplyScreening, SupervisionOrder
from minyi.tickets import workflow
from minyi.tickets.actions import record_event, required_text
from minyi.tickets.models import Reply

log = logging.getLogger(__name__)

#: How many of the unit's other recent replies a reply is compared with ("pasted" text).
PEERS = 200


def thresholds() -> quality.Thresholds:
    return quality.Thresholds(
        relevance_min=settings.MINYI_QUALITY_RELEVANCE_MIN,
        duplicate_similarity=settings.MINYI_QUALITY_PASTE_SIMILARITY,
    )


def _request_text(item: Reply) -> str:
    return f"{item.ticket.title}\n{item.ticket.text}"


def _peers(item: Reply, since: dt.datetime) -> list[tuple[str, str]]:
    if item.unit_id is None:
        return []
    rows = (
        Reply.objects.filter(unit_id=item.unit_id, created_at__gte=since, direct=False)
        .exclude(ticket_id=item.ticket_id)
        .select_related("ticket")
        .order_by("-created_at")[:PEERS]
    )
    return [(_request_text(r), r.text) for r in rows]


def findings_of(item: Reply, now: dt.datetime) -> quality.Screening:
    since = now - dt.timedelta(days=settings.MINYI_QUALITY_RESCAN_DAYS)
    return quality.screen(
        _request_text(item), item.text, other_replies=_peers(item, since),
        thresholds=thresholds(),
    )


def _as_rows(result: quality.Screening) -> list[dict]:
    return [{"code": f.code, "reason": f.reason, "evidence": list(f.evidence)} for f in result.findings]


def screen_reply(item: Reply, now: dt.datetime | None = None) -> ReplyScreening:
    """Score a reply (inside the reply action's transaction, or in the nightly rescan). A
    supervisor's decision is never undone by a rescan. A finding is a record of its own (the
    supervisors' quality queue), not a timeline event: only decisions on it are."""
    now = now or clock.now()
    result = findings_of(item, now)
    findings = _as_rows(result)
    flagging = set(settings.MINYI_QUALITY_FLAG_CODES)
    state = ReplyScreening.State.FLAGGED if any(f["code"] in flagging for f in findings) else ReplyScreening.State.CLEAN
    row = ReplyScreening.objects.select_for_update().filter(reply=item).first()
    if row is not None and row.state in (ReplyScreening.State.CONFIRMED, ReplyScreening.State.DISMISSED):
        return row
    if row is None:
        row = ReplyScreening.objects.create(
            reply=item, ticket_id=item.ticket_id, unit_id=item.unit_id, relevance=result.relevance,
            findings=findings, state=state, screened_at=now,
        )
    else:
        row.relevance, row.findings, row.state, row.screened_at = result.relevance, findings, state, now
        row.save(update_fields=["relevance", "findings", "state", "screened_at"])
    return row


def rescan(now: dt.datetime | None = None, days: int | None = None) -> dict[str, int]:
    """The nightly rescan: every reply of the last `days` days is scored again against the
    unit's other recent replies (a text pasted later onto other tickets is found now)."""
    now = now or clock.now()
    since = now - dt.timedelta(days=days if days is not None else settings.MINYI_QUALITY_RESCAN_DAYS)
    counts = {"screened": 0, "flagged": 0}
    ids = list(Reply.objects.filter(created_at__gte=since, direct=False).values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            item = Reply.objects.select_related("ticket", "unit").get(pk=pk)
            row = screen_reply(item, now)
        counts["screened"] += 1
        counts["flagged"] += row.state == ReplyScreening.State.FLAGGED
    return counts


def _locked_flag(actor: Actor, screening_id: int) -> ReplyScreening:
    access_supervise(actor)
    if not access_screening_queryset(actor).filter(pk=screening_id).exists():
        raise NotFound(_("No such quality finding."), "screening_not_found")
    row = ReplyScreening.objects.select_for_update().select_related("reply", "ticket").get(pk=screening_id)
    if row.state != ReplyScreening.State.FLAGGED:
        raise Conflict(_("This finding has already been decided."), "already_decided")
    return row


def confirm(actor: Actor, screening_id: int, *, note: str) -> ReplyScreening:
    """A supervisor confirms a finding: a quality supervision order is opened, and a ticket still
    awaiting its rating goes back to the unit for a new reply with a redo's shorter deadline (a
    closed ticket stays closed; the unit answers the order)."""
    from minyi.feedback.actions import require_new_reply  # feedback builds on supervision
    from minyi.supervision.actions import open_manual  # actions build on the access module

    note = required_text(note, "note", 2000)
    with transaction.atomic():
        row = _locked_flag(actor, screening_id)
        now = clock.now()
        ticket_id = row.ticket_id
        # A replied ticket goes back to the unit; one already there, or closed, just gets the order.
        if row.ticket.status in workflow.TRANSITIONS["require_new_reply"].sources:
            require_new_reply(actor, ticket_id, note=note, data={"screening": row.pk, "reply": row.reply_id})
        order = open_manual(actor, ticket_id, reason=note, cause=SupervisionOrder.Cause.QUALITY)
        row.state, row.decided_by, row.decided_at, row.decision_note, row.order = (
            ReplyScreening.State.CONFIRMED, actor.user, now, note, order,
        )
        row.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "order"])
    return row


def dismiss(actor: Actor, screening_id: int, *, note: str) -> ReplyScreening:
    note = required_text(note, "note", 2000)
    with transaction.atomic():
        row = _locked_flag(actor, screening_id)
        now = clock.now()
        row.state, row.decided_by, row.decided_at, row.decision_note = (
            ReplyScreening.State.DISMISSED, actor.user, now, note,
        )
        row.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        ticket = row.ticket
        record_event(
            ticket, "quality_dismissed", actor, sorted(actor.roles & SUPERVISE_ROLES)[0],
            from_status=ticket.status, note=note, unit=row.reply.unit, public=False,
            data={"screening": row.pk, "reply": row.reply_id},
        )
    return row

