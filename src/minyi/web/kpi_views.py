"""The measures page (考核指标, issue 7): a month's figures from `minyi.insights.kpi.monthly`
for the city, a unit or a district, and a chart of the last six months' on-time, satisfaction
and resolution rates (ECharts, served from the package's own static files)."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from minyi.core import clock
from minyi.core.errors import DomainError
from minyi.insights.kpi import monthly
from minyi.org.actors import Actor
from minyi.org.models import Region, Unit
from minyi.tickets import access
from minyi.web.views import console_error, render_console, staff_view

MONTH = re.compile(r"20\d\d-(0[1-9]|1[0-2])")
#: How many months the chart shows, ending with the month asked for.
CHART_MONTHS = 6
#: The rates on the chart, in the order of its legend.
CHART_RATES = {
    "on_time_rate": gettext_lazy("On-time rate"),
    "satisfaction_rate": gettext_lazy("Satisfaction rate"),
    "resolution_rate": gettext_lazy("Resolution rate"),
}
#: The month's figures as the page lists them: (key, label, kind, what it counts).
FIGURES = [
    ("received", gettext_lazy("Requests received"), "count", gettext_lazy("Tickets submitted in the month")),
    ("direct_answer_rate", gettext_lazy("Direct-answer rate"), "rate",
     gettext_lazy("Of those, answered and closed by the platform itself")),
    ("replied", gettext_lazy("Replied after dispatch"), "count", gettext_lazy("Dispatched tickets replied in the month")),
    ("on_time_rate", gettext_lazy("On-time rate"), "rate", gettext_lazy("Of those, replied by the deadline")),
    ("average_handling_days", gettext_lazy("Average handling time"), "days", gettext_lazy("From dispatch to reply")),
    ("signed", gettext_lazy("Signed for"), "count", gettext_lazy("Tickets signed for in the month")),
    ("response_rate", gettext_lazy("Timely sign-for rate"), "rate", gettext_lazy("Signed for within the sign-for time")),
    ("resolution_rate", gettext_lazy("Resolution rate"), "rate",
     gettext_lazy("Unit replies whose outcome counts as resolved")),
    ("rated", gettext_lazy("Ratings"), "count", gettext_lazy("Ratings given in the month")),
    ("satisfaction_rate", gettext_lazy("Satisfaction rate"), "rate", gettext_lazy("Satisfied or basically satisfied")),
    ("dissatisfied", gettext_lazy("Dissatisfied"), "count", gettext_lazy("Dissatisfied ratings")),
    ("redos", gettext_lazy("Redos"), "count", gettext_lazy("Dissatisfied ratings judged reasonable and handled again")),
    ("redo_rate", gettext_lazy("Redo rate"), "rate", gettext_lazy("Redos per rating")),
    ("supervision_orders", gettext_lazy("Supervision orders"), "count", gettext_lazy("Orders opened in the month")),
]


def months_ending(month: str, n: int) -> list[str]:
    """The `n` months up to and including `month` ('2026-03' → [..., '2026-02', '2026-03'])."""
    year, number = (int(x) for x in month.split("-"))
    index = year * 12 + number - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - n + 1, index + 1)]


def shown(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "days":
        return _("%(n)s days") % {"n": f"{value:.1f}"}
    return str(value)


@staff_view
@require_GET
def kpis(request: HttpRequest) -> HttpResponse:
    """A month's measures (default: this month) and the six months up to it; platform roles
    choose a unit or the whole city, a unit's staff see their own unit; any may choose a district."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    asked = request.GET.get("unit", "").strip()
    try:
        unit_id = access.access_kpi_scope(actor, int(asked) if asked.isdigit() else None)
    except DomainError as exc:
        return console_error(request, exc)
    this_month = clock.local_today().strftime("%Y-%m")
    month = request.GET.get("month", "").strip()
    month_error = ""
    if not month:
        month = this_month
    elif not MONTH.fullmatch(month):
        month_error, month = _("Give the month as YYYY-MM."), this_month
    districts = list(Region.objects.filter(kind=Region.Kind.DISTRICT).order_by("code"))
    code = request.GET.get("district", "").strip()
    district = next((d for d in districts if d.code == code), None)
    months = months_ending(month, CHART_MONTHS)
    series = [monthly(m, unit_id=unit_id, district_id=district.pk if district else None) for m in months]
    figures = series[-1]
    chart = {
        "months": months,
        "series": [
            {
                "key": key,
                "name": str(label),
                "data": [None if row[key] is None else round(row[key] * 100, 1) for row in series],
            }
            for key, label in CHART_RATES.items()
        ],
        "empty": _("No figures"),
    }
    city_wide = actor.city_wide
    unit = Unit.objects.filter(pk=unit_id).only("name").first() if unit_id is not None else None
    return render_console(
        request,
        "web/console/kpis.html",
        {
            "nav": "kpis",
            "month": month,
            "month_error": month_error,
            "unit": unit,
            "unit_id": unit_id,
            "district": district,
            "districts": districts,
            "units": Unit.objects.filter(active=True).order_by("code") if city_wide else [],
            "city_wide": city_wide,
            "figures": [
                {"key": key, "label": label, "help": help_text, "kind": kind, "value": figures[key],
                 "shown": shown(figures[key], kind)}
                for key, label, kind, help_text in FIGURES
            ],
            "history": [
                {"month": m, "cells": [shown(row[key], "rate") for key in CHART_RATES]}
                for m, row in zip(months, series, strict=True)
            ],
            "rate_labels": list(CHART_RATES.values()),
            "chart": chart,
        },
    )
