"""The intake form's "智能识别": suggestions as the text is typed (an HTMX fragment); in the
console, also the open tickets that are likely duplicates of the request being taken in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from minyi.assist.suggest import suggest
from minyi.core.errors import RateLimited
from minyi.core.ratelimit import check_rate
from minyi.org.actors import actor_for_user
from minyi.tickets import access
from minyi.tickets.duplicates import similar_to_draft

#: Below this many characters there is nothing to suggest from.
MIN_CHARS = 6


@require_POST
def intake_suggestions(request: HttpRequest) -> HttpResponse:
    """Suggestions for the intake form's title and text. Staff who take in requests get them
    freely; the public portal's form is rate-limited per client."""
    actor = actor_for_user(request.user)
    if not access.can_use_intake_suggestions(actor):
        try:
            check_rate(request, "assist", getattr(settings, "MINYI_ASSIST_PUBLIC_RATE_LIMIT", 120))
        except RateLimited:
            return HttpResponse("", status=200)  # suggestions are optional; stay quiet
    title = request.POST.get("title", "")[:200]
    text = request.POST.get("text", "")[:5000]
    context: dict[str, Any] = {"ready": False}
    if len((title + text).strip()) >= MIN_CHARS:
        s = suggest(text, title)
        rows = [(name, getattr(s, name)) for name in ("type", "category", "urgent", "district", "street", "unit")]
        fill = {
            "type": s.type.value,
            "category_id": s.category.value,
            "urgent": s.urgent.value,
            "district": s.district.value,
            "street": s.street.value,
        }
        context = {"ready": True, "rows": rows, "fill": fill, "staff": actor.is_staff_user}
        if access.can_see_intake_duplicates(actor):
            # The place chosen on the form, else the one suggested from the text.
            context["duplicates"] = similar_to_draft(
                title, text,
                district=request.POST.get("district") or s.district.value,
                street=request.POST.get("street") or s.street.value,
            )
    return render(request, "assist/_suggestions.html", context)
