"""Reference data read on every intake and every console page (categories with their parents,
the gazetteer, the time-limit rules, the units' names, the supervision levels), kept per process and re-read at most every MINYI_REFERENCE_CACHE_SECONDS
(0 in tests: always read). Administrators' edits reach every process within that time.
The objects are shared: read them, never change them."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from minyi.org.models import Category, Region, Unit


@dataclass
class Snapshot:
    categories: dict[int, Category] = field(default_factory=dict)
    regions: dict[tuple[str, str], Region] = field(default_factory=dict)  # (kind, code or name) → region
    region_ids: dict[int, Region] = field(default_factory=dict)
    policies: dict[str, list[Any]] = field(default_factory=dict)  # request type → TimeLimitPolicy rows
    units: dict[int, Unit] = field(default_factory=dict)
    unit_names: dict[int, str] = field(default_factory=dict)
    unit_options: list[tuple[str, str]] = field(default_factory=list)  # active units by code: (id, name)
    supervision_levels: dict[int, Any] = field(default_factory=dict)  # level → SupervisionLevel

    def category(self, pk: int) -> Category | None:
        found = self.categories.get(pk)
        return found if found is not None and found.active else None

    def region(self, value: str, kind: str, parent: Region | None = None) -> Region | None:
        found = self.regions.get((kind, value)) or self.regions.get((kind, "name:" + value))
        if found is None and value.isdigit():
            found = self.region_ids.get(int(value))
            found = found if found is not None and found.kind == kind else None
        if found is not None and parent is not None and found.parent_id != parent.pk:
            # Names repeat across districts: look for the one under `parent`.
            found = self.regions.get((kind, f"name:{value}@{parent.pk}"))
        return found


_memo: dict[str, Any] = {"at": -1e9, "snapshot": None}


def _load() -> Snapshot:
    from minyi.sla.models import TimeLimitPolicy
    from minyi.supervision.models import SupervisionLevel

    snap = Snapshot()
    snap.categories = {c.pk: c for c in Category.objects.all()}
    for node in snap.categories.values():  # link parents in memory: no query per ancestor
        if node.parent_id is not None:
            node._state.fields_cache["parent"] = snap.categories.get(node.parent_id)
        else:
            node._state.fields_cache["parent"] = None
    for region in Region.objects.all():
        snap.region_ids[region.pk] = region
        snap.regions[(region.kind, region.code)] = region
        snap.regions.setdefault((region.kind, "name:" + region.name), region)
        snap.regions[(region.kind, f"name:{region.name}@{region.parent_id}")] = region
        snap.regions[(region.kind, f"name:{region.code}@{region.parent_id}")] = region
    for rule in TimeLimitPolicy.objects.all():
        snap.policies.setdefault(rule.request_type, []).append(rule)
    snap.units = {u.pk: u for u in Unit.objects.all()}
    snap.unit_names = {pk: u.name for pk, u in snap.units.items()}
    snap.unit_options = [
        (str(pk), name) for pk, name in Unit.objects.filter(active=True).order_by("code").values_list("pk", "name")
    ]
    snap.supervision_levels = {lv.level: lv for lv in SupervisionLevel.objects.all()}
    return snap


def snapshot() -> Snapshot:
    seconds = settings.MINYI_REFERENCE_CACHE_SECONDS
    if seconds <= 0:
        return _load()
    now = time.monotonic()
    if _memo["snapshot"] is None or now - _memo["at"] > seconds:
        _memo["snapshot"], _memo["at"] = _load(), now
    return _memo["snapshot"]


def cached() -> Snapshot | None:
    """The snapshot when reference data is cached (MINYI_REFERENCE_CACHE_SECONDS > 0), else None:
    callers then read the tables themselves."""
    return snapshot() if settings.MINYI_REFERENCE_CACHE_SECONDS > 0 else None


#: A ticket's reference relations: read from the snapshot when it is cached, joined otherwise.
TICKET_RELATIONS = ("category", "district", "street", "lead_unit")


def with_ticket_relations(tickets: QuerySet[Any]) -> QuerySet[Any]:
    """`tickets` joined to their category, district, street and lead unit, unless the snapshot
    holds those (then `attach_ticket_relations` gives them to the rows read: no join, no rows
    of four more models built per ticket)."""
    return tickets if cached() is not None else tickets.select_related(*TICKET_RELATIONS)


def attach_ticket_relations(tickets: Iterable[Any]) -> None:
    """Give tickets read without joins their category (with its ancestors), district, street
    and lead unit from the snapshot. One the snapshot lacks (added since it was read) is left
    to load on first use."""
    snap = cached()
    if snap is None:
        return
    tables = (("category", snap.categories), ("district", snap.region_ids), ("street", snap.region_ids),
              ("lead_unit", snap.units))
    for ticket in tickets:
        fields_cache = ticket._state.fields_cache
        for name, table in tables:
            if name in fields_cache:
                continue
            pk = getattr(ticket, name + "_id")
            if pk is None:
                fields_cache[name] = None
            elif pk in table:
                fields_cache[name] = table[pk]


def invalidate() -> None:
    _memo["snapshot"] = None
