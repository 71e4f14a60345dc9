"""Which unit a ticket should go to, and why: a pure function over plain values.

Order (ADR 0005):
1. Active routing rules whose category is the ticket's category or one of its ancestors, and
   whose street / district (when set) are the ticket's. The most specific place wins (street >
   district > anywhere), then the higher priority, then the nearer category, then the older rule.
2. Fallbacks when no rule matches: the category's usual unit (the nearest along the category's
   ancestors), else the street office of the ticket's street, else the district government.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RULE, CATEGORY_DEFAULT, STREET_OFFICE, DISTRICT_GOVERNMENT, NONE = (
    "rule", "category_default", "street_office", "district_government", "none",
)


@dataclass(frozen=True)
class Facts:
    #: The ticket's category first, then its ancestors.
    category_chain: tuple[int, ...]
    district_id: int | None
    street_id: int | None
    #: The usual unit of each category in the chain (same order; None when it has none).
    category_default_units: tuple[int | None, ...] = ()
    street_office_id: int | None = None
    district_government_id: int | None = None


@dataclass(frozen=True)
class Rule:
    id: int
    category_id: int
    lead_unit_id: int
    district_id: int | None = None
    street_id: int | None = None
    priority: int = 0
    assisting_unit_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    unit_id: int | None
    source: str  # RULE, CATEGORY_DEFAULT, STREET_OFFICE, DISTRICT_GOVERNMENT or NONE
    rule_id: int | None = None
    assisting_unit_ids: tuple[int, ...] = field(default=())
    #: For a rule: "street", "district" or "any" (the place it matched on).
    matched_on: str = ""

    @property
    def explicit(self) -> bool:
        """True when an administrator's rule named the unit (auto-dispatch trusts only these)."""
        return self.source == RULE


def place_match(rule: Rule, facts: Facts) -> str | None:
    """How the rule's place matches the ticket: "street", "district", "any", or None."""
    if rule.street_id is not None:
        if rule.street_id != facts.street_id:
            return None
        if rule.district_id is not None and rule.district_id != facts.district_id:
            return None
        return "street"
    if rule.district_id is not None:
        return "district" if rule.district_id == facts.district_id else None
    return "any"


SPECIFICITY = {"street": 2, "district": 1, "any": 0}


def resolve(facts: Facts, rules: list[Rule] | tuple[Rule, ...]) -> Suggestion:
    depth = {category_id: i for i, category_id in enumerate(facts.category_chain)}
    best: tuple[tuple[int, int, int, int], Rule, str] | None = None
    for rule in rules:
        if rule.category_id not in depth:
            continue
        matched = place_match(rule, facts)
        if matched is None:
            continue
        key = (SPECIFICITY[matched], rule.priority, -depth[rule.category_id], -rule.id)
        if best is None or key > best[0]:
            best = (key, rule, matched)
    if best is not None:
        _, rule, matched = best
        return Suggestion(
            rule.lead_unit_id, RULE, rule.id,
            tuple(pk for pk in rule.assisting_unit_ids if pk != rule.lead_unit_id), matched,
        )
    for unit_id in facts.category_default_units:
        if unit_id is not None:
            return Suggestion(unit_id, CATEGORY_DEFAULT)
    if facts.street_office_id is not None:
        return Suggestion(facts.street_office_id, STREET_OFFICE)
    if facts.district_government_id is not None:
        return Suggestion(facts.district_government_id, DISTRICT_GOVERNMENT)
    return Suggestion(None, NONE)
