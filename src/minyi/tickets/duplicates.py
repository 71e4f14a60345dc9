"""Possible duplicates of a ticket: recent open tickets about the same issue in the same place.

Read-only. Candidates are few and cheap to fetch (same street, or same district when the ticket
has no street; recent; open; at most `CANDIDATE_LIMIT`), then scored by text similarity: the
Jaccard index of the union of character bigrams and jieba words of title and text.
`similar_to_draft` asks the same of a request not saved yet (the intake form, as it is typed).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from minyi.assist.text import chars, words
from minyi.core import clock
from minyi.org.models import Region
from minyi.tickets.choices import OPEN_STATUSES
from minyi.tickets.intake import find_region
from minyi.tickets.models import Ticket

CANDIDATE_LIMIT = 200


@dataclass(frozen=True)
class Similar:
    ticket: Ticket
    score: float
    reasons: list[str] = field(default_factory=list)


def features(title: str, text: str) -> frozenset[str]:
    """Character bigrams and jieba words of the title and text."""
    joined = f"{title} {text}"
    s = chars(joined)
    grams = {s[i : i + 2] for i in range(len(s) - 1)}
    return frozenset(grams | {f"w:{w}" for w in words(joined) if len(w) > 1})


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard index of two feature sets (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def candidates(ticket: Ticket) -> list[Ticket]:
    """Recent open tickets in the same street (or district when there is no street), newest first."""
    since = clock.now() - dt.timedelta(days=settings.MINYI_DUPLICATE_DAYS)
    tickets = Ticket.objects.filter(status__in=OPEN_STATUSES, created_at__gte=since)
    if ticket.pk is not None:  # a draft (not saved yet) has no row to leave out
        tickets = tickets.exclude(pk=ticket.pk)
    if ticket.street_id is not None:
        tickets = tickets.filter(street_id=ticket.street_id)
    else:
        tickets = tickets.filter(district_id=ticket.district_id)
    return list(
        tickets.select_related("street", "district").only(
            "id", "number", "status", "title", "text", "created_at", "latitude", "longitude",
            "street__name", "district__name", "street_id", "district_id",
        ).order_by("-created_at", "-id")[:CANDIDATE_LIMIT]
    )


def similar_open_tickets(ticket: Ticket, limit: int = 5) -> list[Similar]:
    """Open tickets that are probably about the same issue, most similar first."""
    threshold = settings.MINYI_DUPLICATE_THRESHOLD
    radius = settings.MINYI_DUPLICATE_RADIUS_M
    mine = features(ticket.title, ticket.text)
    found = []
    for other in candidates(ticket):
        score = similarity(mine, features(other.title, other.text))
        if score < threshold:
            continue
        reasons = [_("similar text (%(score)d%%)") % {"score": round(score * 100)}]
        if ticket.street_id is not None:
            reasons.append(_("same street"))
        else:
            reasons.append(_("same district"))
        if None not in (ticket.latitude, ticket.longitude, other.latitude, other.longitude):
            metres = distance_m(
                float(ticket.latitude), float(ticket.longitude),  # type: ignore[arg-type]
                float(other.latitude), float(other.longitude),  # type: ignore[arg-type]
            )
            if metres > radius:
                continue
            reasons.append(_("%(m)d m away") % {"m": round(metres)})
        found.append(Similar(other, round(score, 3), reasons))
    found.sort(key=lambda s: (-s.score, -s.ticket.created_at.timestamp()))
    return found[:limit]


def similar_to_draft(
    title: str,
    text: str,
    district: str | None,
    street: str | None = None,
    latitude: Decimal | float | None = None,
    longitude: Decimal | float | None = None,
    limit: int = 5,
) -> list[Similar] | None:
    """`similar_open_tickets` for a request not saved yet (the intake form as it is typed): its
    title and text, and the place known so far — district and street by code or name (a street
    outside the district is left out), coordinates when known. None when there is no district
    or no text yet to compare: nothing can be said."""
    found = find_region(district, Region.Kind.DISTRICT)
    if found is None or not (title + text).strip():
        return None
    draft = Ticket(
        title=title,
        text=text,
        district=found,
        street=find_region(street, Region.Kind.STREET, parent=found),
        latitude=None if latitude is None else Decimal(str(latitude)),
        longitude=None if longitude is None else Decimal(str(longitude)),
    )
    return similar_open_tickets(draft, limit=limit)
