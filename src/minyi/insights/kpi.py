"""The city's measures (考核指标) for a month: read-only aggregates in the database, one query
per source table, over index ranges (tickets by submission time and by reply time).

- received: tickets submitted in the month; direct-answer rate: of those, answered and
  closed by the platform itself.
- on-time rate (按时办结率): of tickets replied in the month after dispatch, replied by their
  deadline (the requester's, with extensions); average handling days: dispatch → reply.
- response rate (签收及时率): of tickets signed for in the month, signed within the sign-for time.
- resolution rate (解决率): of unit replies published in the month, outcome counts as resolved.
- satisfaction rate (满意率): of ratings given in the month, satisfied or basically satisfied;
  redo rate: dissatisfied ratings judged reasonable (redone), per rating.
- supervision: orders opened in the month.
Rates are None when their base is empty. Filters: a unit (lead unit), a district.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q

from minyi.feedback.models import RatingReview
from minyi.sla.policies import SHANGHAI
from minyi.supervision.models import SupervisionOrder
from minyi.tickets.choices import Rating, ReplyState, ReviewDecision
from minyi.tickets.models import Reply, Ticket, TicketRating


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """'2026-10' → [1 Oct 00:00, 1 Nov 00:00) in Asia/Shanghai."""
    year, number = (int(x) for x in month.split("-"))
    start = dt.datetime(year, number, 1, tzinfo=SHANGHAI)
    end = dt.datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=SHANGHAI)
    return start, end


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def monthly(month: str, *, unit_id: int | None = None, district_id: int | None = None) -> dict[str, Any]:
    start, end = month_bounds(month)
    tickets = Ticket.objects.all()
    if unit_id is not None:
        tickets = tickets.filter(lead_unit_id=unit_id)
    if district_id is not None:
        tickets = tickets.filter(district_id=district_id)

    # Each count names a column of the covering index it scans (not the id, which is not in
    # it), so PostgreSQL answers from the index alone.
    received = tickets.filter(created_at__gte=start, created_at__lt=end).aggregate(
        n=Count("created_at"),
        direct=Count("created_at", filter=Q(status="closed", dispatched_at__isnull=True, replied_at__isnull=False)),
    )
    handled = tickets.filter(replied_at__gte=start, replied_at__lt=end, dispatched_at__isnull=False).aggregate(
        n=Count("replied_at"),
        on_time=Count("replied_at", filter=Q(replied_at__lte=F("due_at"))),
        handling=Avg(ExpressionWrapper(F("replied_at") - F("dispatched_at"), output_field=DurationField())),
    )
    signed = tickets.filter(signed_at__gte=start, signed_at__lt=end).aggregate(
        n=Count("signed_at"), late=Count("signed_at", filter=Q(signed_late=True)),
    )
    replies = Reply.objects.filter(
        published_at__gte=start, published_at__lt=end, state=ReplyState.PUBLISHED, direct=False
    )
    ratings = TicketRating.objects.filter(created_at__gte=start, created_at__lt=end)
    reviews = RatingReview.objects.filter(decided_at__gte=start, decided_at__lt=end, decision=ReviewDecision.REDO)
    orders = SupervisionOrder.objects.filter(opened_at__gte=start, opened_at__lt=end)
    if unit_id is not None:
        replies, ratings = replies.filter(unit_id=unit_id), ratings.filter(reply__unit_id=unit_id)
        reviews, orders = reviews.filter(unit_id=unit_id), orders.filter(unit_id=unit_id)
    if district_id is not None:
        replies, ratings = replies.filter(ticket__district_id=district_id), ratings.filter(ticket__district_id=district_id)
        reviews, orders = reviews.filter(ticket__district_id=district_id), orders.filter(ticket__district_id=district_id)
    resolved = replies.aggregate(
        n=Count("published_at"), resolved=Count("published_at", filter=Q(outcome__resolved=True))
    )
    rated = ratings.aggregate(
        n=Count("created_at"),
        good=Count("created_at", filter=Q(rating__in=[Rating.SATISFIED, Rating.BASICALLY_SATISFIED])),
        dissatisfied=Count("created_at", filter=Q(rating=Rating.DISSATISFIED)),
    )
    redos = reviews.count()
    handling = handled["handling"]
    return {
        "month": month,
        "received": received["n"],
        "direct_answer_rate": _rate(received["direct"], received["n"]),
        "replied": handled["n"],
        "on_time_rate": _rate(handled["on_time"], handled["n"]),
        "average_handling_days": round(handling.total_seconds() / 86400, 2) if handling is not None else None,
        "signed": signed["n"],
        "response_rate": _rate(signed["n"] - signed["late"], signed["n"]),
        "resolution_rate": _rate(resolved["resolved"], resolved["n"]),
        "rated": rated["n"],
        "satisfaction_rate": _rate(rated["good"], rated["n"]),
        "dissatisfied": rated["dissatisfied"],
        "redos": redos,
        "redo_rate": _rate(redos, rated["n"]),
        "supervision_orders": orders.count(),
    }
