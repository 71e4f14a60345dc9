"""The database side of dispatch: the routing suggestion for a ticket, auto-dispatch at
intake, and returns with their outcomes counted per unit."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.db.models.fields.json import KT
from django.utils.translation import gettext as _

from minyi.core.errors import DomainError
from minyi.dispatch import routing
from minyi.dispatch.models import RoutingRule
from minyi.org.actors import system_actor
from minyi.org.models import Category, Unit
from minyi.tickets import actions
from minyi.tickets.models import RETURN_EVENTS, Ticket, TicketEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Routed:
    """A suggestion with its units loaded and the reason in words."""

    suggestion: routing.Suggestion
    unit: Unit | None
    assisting: list[Unit]
    rule: RoutingRule | None
    why: str

    def as_dict(self) -> dict[str, Any]:
        def unit_out(u: Unit) -> dict[str, Any]:
            return {"id": u.pk, "code": u.code, "name": u.name}

        return {
            "unit": unit_out(self.unit) if self.unit else None,
            "assisting_units": [unit_out(u) for u in self.assisting],
            "source": self.suggestion.source,
            "rule_id": self.suggestion.rule_id,
            "matched_on": self.suggestion.matched_on,
            "explicit": self.suggestion.explicit,
            "why": self.why,
        }


def facts_for(ticket: Ticket) -> routing.Facts:
    chain, defaults = [], []
    node: Category | None = ticket.category
    while node is not None:
        chain.append(node.pk)
        defaults.append(node.default_unit_id if node.default_unit_id and node.active else None)
        node = node.parent
    active = Unit.objects.filter(active=True)
    street_office = (
        active.filter(kind=Unit.Kind.STREET, region_id=ticket.street_id).order_by("code").values_list("pk", flat=True).first()
        if ticket.street_id else None
    )
    district_government = (
        active.filter(kind=Unit.Kind.DISTRICT, region_id=ticket.district_id).order_by("code").values_list("pk", flat=True).first()
    )
    return routing.Facts(
        tuple(chain), ticket.district_id, ticket.street_id, tuple(defaults), street_office, district_government
    )


def rules_for(facts: routing.Facts) -> list[routing.Rule]:
    rows = (
        RoutingRule.objects.filter(active=True, lead_unit__active=True, category_id__in=facts.category_chain)
        .prefetch_related("assisting_units")
    )
    return [
        routing.Rule(
            r.pk, r.category_id, r.lead_unit_id, r.district_id, r.street_id, r.priority,
            tuple(u.pk for u in r.assisting_units.all() if u.active),
        )
        for r in rows
    ]


def suggest(ticket: Ticket) -> Routed:
    """The unit the routing rules (or the fallbacks) suggest for `ticket`, and why."""
    facts = facts_for(ticket)
    suggestion = routing.resolve(facts, rules_for(facts))
    units = Unit.objects.in_bulk([pk for pk in [suggestion.unit_id, *suggestion.assisting_unit_ids] if pk])
    rule = RoutingRule.objects.select_related("category", "district", "street").get(pk=suggestion.rule_id) if suggestion.rule_id else None
    return Routed(
        suggestion,
        units.get(suggestion.unit_id) if suggestion.unit_id else None,
        [units[pk] for pk in suggestion.assisting_unit_ids if pk in units],
        rule,
        explain(suggestion, rule),
    )


def explain(suggestion: routing.Suggestion, rule: RoutingRule | None) -> str:
    if rule is not None:
        place = {
            "street": _("the street %(name)s") % {"name": rule.street.name if rule.street else ""},
            "district": _("the district %(name)s") % {"name": rule.district.name if rule.district else ""},
        }.get(suggestion.matched_on, _("any location"))
        text = _("Routing rule #%(id)d: %(category)s in %(place)s (priority %(priority)d).") % {
            "id": rule.pk, "category": rule.category.path, "place": place, "priority": rule.priority,
        }
        return f"{text} {rule.note}".strip()
    return str(
        {
            routing.CATEGORY_DEFAULT: _("No routing rule matches: the category's usual handling unit."),
            routing.STREET_OFFICE: _("No routing rule matches and the category has no usual unit: the street office of the ticket's street."),
            routing.DISTRICT_GOVERNMENT: _("No routing rule matches and the category has no usual unit: the district government."),
        }.get(suggestion.source, _("No routing rule or fallback unit: please choose the unit."))
    )


def auto_dispatch(ticket: Ticket) -> Ticket:
    """Dispatch a new ticket as the system when an explicit routing rule names its unit
    (MINYI_AUTO_DISPATCH). Anything else waits for the dispatcher."""
    routed = suggest(ticket)
    if not routed.suggestion.explicit or routed.unit is None:
        return ticket
    try:
        return actions.dispatch(
            system_actor(), ticket.pk, routed.unit.pk,
            assisting_unit_ids=[u.pk for u in routed.assisting],
            note=routed.why,
        )
    except DomainError as exc:  # e.g. the unit was deactivated meanwhile: the dispatcher decides
        log.warning("ticket %s: auto-dispatch refused (%s)", ticket.number, exc.code)
        return ticket


def return_counts(unit_id: int | None = None) -> list[dict[str, Any]]:
    """Per unit: returns, upheld (re-dispatched elsewhere), resent (dispatched to the same unit
    again, e.g. with completed information), rejected (force-dispatched back by arbitration) and
    pending (awaiting the dispatcher's ruling); from the timeline, counted by the database in one
    query over the events that the partial index `event_returns` holds (returns, and the
    dispatches and arbitrations that carry a return's outcome)."""
    events = TicketEvent.objects.filter(RETURN_EVENTS)
    if unit_id is not None:
        events = events.filter(Q(unit_id=unit_id) | Q(data__returned_unit_id=unit_id))
    grouped = (
        events.values("kind", "unit_id", outcome=KT("data__return_outcome"), returned=KT("data__returned_unit_id"))
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[str, Counter[int]] = {key: Counter() for key in ("returns", "upheld", "resent", "rejected")}
    for row in grouped:
        if row["kind"] == "return":
            counts["returns"][row["unit_id"]] += row["n"]
        elif row["kind"] == "arbitrate":
            counts["rejected"][row["unit_id"]] += row["n"]
        elif row["outcome"] in ("upheld", "resent") and row["returned"]:
            counts[row["outcome"]][int(row["returned"])] += row["n"]
    # One unit: its row only (the query also reads dispatches to it that count for other units).
    unit_ids = {unit_id} if unit_id is not None else set().union(*counts.values())
    units = Unit.objects.in_bulk([pk for pk in unit_ids if pk is not None])
    rows = []
    for pk, unit in sorted(units.items(), key=lambda item: item[1].code):
        n = {key: counter.get(pk, 0) for key, counter in counts.items()}
        rows.append(
            {
                "unit_id": pk, "unit": unit.name, **n,
                "pending": max(0, n["returns"] - n["upheld"] - n["resent"] - n["rejected"]),
            }
        )
    return rows
