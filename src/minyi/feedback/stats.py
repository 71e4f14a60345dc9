"""Figures of the feedback loop per unit: ratings, unrated closures and redos (read-only,
aggregated in the database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q

from minyi.feedback.models import RatingReview
from minyi.org.models import Unit
from minyi.tickets.choices import Rating, ReviewDecision
from minyi.tickets.models import UNIT_REPLIES, UNRATED_CLOSES, Reply, TicketEvent, TicketRating


def unit_feedback(unit_id: int | None = None, since: dt.datetime | None = None) -> list[dict[str, Any]]:
    """One row per unit with replies: replies, ratings by grade, unrated closures, redos."""
    replies = Reply.objects.filter(UNIT_REPLIES)
    ratings = TicketRating.objects.filter(reply__unit__isnull=False)
    unrated = TicketEvent.objects.filter(UNRATED_CLOSES, unit__isnull=False)
    redos = RatingReview.objects.filter(decision=ReviewDecision.REDO, unit__isnull=False)
    if unit_id is not None:
        replies, ratings = replies.filter(unit_id=unit_id), ratings.filter(reply__unit_id=unit_id)
        unrated, redos = unrated.filter(unit_id=unit_id), redos.filter(unit_id=unit_id)
    if since is not None:
        replies, ratings = replies.filter(created_at__gte=since), ratings.filter(created_at__gte=since)
        unrated, redos = unrated.filter(created_at__gte=since), redos.filter(decided_at__gte=since)
    rows: dict[int, dict[str, Any]] = {}

    def row(pk: int) -> dict[str, Any]:
        return rows.setdefault(pk, {
            "unit_id": pk, "replies": 0, "satisfied": 0, "basically_satisfied": 0, "dissatisfied": 0,
            "unrated": 0, "redos": 0,
        })

    # COUNT(*), not COUNT(id): the partial indexes on replies and unrated closures then answer
    # alone (an index-only scan) instead of reading every row's table page.
    for pk, n in replies.values_list("unit_id").annotate(n=Count("*")).order_by():
        row(pk)["replies"] = n
    grades = {grade: Count("id", filter=Q(rating=grade)) for grade in Rating.values}
    graded: Any = ratings.values("reply__unit_id").annotate(**grades).order_by()
    for item in graded:
        target = row(item["reply__unit_id"])
        for grade in Rating.values:
            target[grade] = item[grade]
    for pk, n in unrated.values_list("unit_id").annotate(n=Count("*")).order_by():
        row(pk)["unrated"] = n
    for pk, n in redos.values_list("unit_id").annotate(n=Count("*")).order_by():
        row(pk)["redos"] = n
    names = dict(Unit.objects.filter(pk__in=rows).values_list("pk", "name"))
    result = []
    for pk, item in rows.items():
        rated = item["satisfied"] + item["basically_satisfied"] + item["dissatisfied"]
        good = item["satisfied"] + item["basically_satisfied"]
        result.append({
            **item, "unit": names.get(pk, ""),
            "satisfaction_rate": round(good / rated, 4) if rated else None,
        })
    return sorted(result, key=lambda r: (-r["redos"], -r["dissatisfied"], r["unit"]))
