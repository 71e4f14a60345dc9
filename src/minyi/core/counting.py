"""Several counts in one round trip: a page's badges (unread notifications, open orders...)
each cost a query and the ORM's work to build it; here one statement asks them all."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet


def count_all(querysets: dict[str, QuerySet[Any]]) -> dict[str, int]:
    """{name: number of rows of the queryset}, read in one statement (none for no querysets;
    a queryset that can match nothing, such as `.none()`, counts 0 without being asked)."""
    parts: list[str] = []
    params: list[Any] = []
    counts = dict.fromkeys(querysets, 0)
    asked: list[str] = []
    for name, queryset in querysets.items():
        try:
            sql, values = queryset.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted_{len(parts)})")  # noqa: S608 (the ORM's SQL)
        params.extend(values)
        asked.append(name)
    if parts:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            row = cursor.fetchone()
        counts.update(zip(asked, (int(n) for n in row), strict=True))
    return counts
