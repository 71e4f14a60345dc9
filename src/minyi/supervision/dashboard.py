"""The supervision dashboard: open orders by unit and level (read-only, one aggregate query)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet

from minyi.supervision.actions import level_name, levels
from minyi.supervision.models import SupervisionOrder


def dashboard(orders: QuerySet[SupervisionOrder], now: dt.datetime) -> dict[str, Any]:
    ladder = levels()
    rows: dict[int | None, dict[str, Any]] = {}
    grouped = (
        orders.filter(status=SupervisionOrder.Status.OPEN)
        .values("unit_id", "unit__name", "level")
        .annotate(n=Count("id"), late=Count("id", filter=Q(due_at__lt=now)))
        .order_by()
    )
    for item in grouped:
        row = rows.setdefault(
            item["unit_id"],
            {"unit_id": item["unit_id"], "unit": item["unit__name"], "levels": {}, "open": 0, "overdue": 0},
        )
        row["levels"][str(item["level"])] = item["n"]
        row["open"] += item["n"]
        row["overdue"] += item["late"]
    ordered = sorted(rows.values(), key=lambda r: (-max((int(k) for k in r["levels"]), default=0), -r["open"], r["unit"] or ""))
    return {
        "levels": [{"level": lv, "name": level_name(lv, ladder)} for lv in sorted(ladder)],
        "rows": ordered,
        "total_open": sum(r["open"] for r in ordered),
    }
