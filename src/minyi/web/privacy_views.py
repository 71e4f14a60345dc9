"""The console's privacy pages (ADR 10, issue 6): revealing a masked personal value with a
reason, the audit of reveals, and calling the requester through a virtual number.

Thin like the rest of the console: `minyi.privacy.actions.reveal` decides and audits every
attempt, `minyi.calls.actions.bind` binds, `access.access_reveal_audit` guards the audit.
A revealed value is sent once, in a response nobody may cache, and never kept anywhere.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from minyi.calls import actions as calls_actions
from minyi.core.errors import DomainError, InvalidInput
from minyi.org.actors import Actor
from minyi.privacy import actions as privacy_actions
from minyi.privacy.models import Reveal
from minyi.tickets import access
from minyi.web.templatetags.minyi_web import role_text
from minyi.web.views import (
    CONTACT_LABELS,
    call_context,
    console_error,
    contact_rows,
    is_htmx,
    render_console,
    reveal_form,
    staff_name,
    staff_view,
    ticket_context,
)

#: The refusals of a reveal as the audit page names them (the codes of privacy.actions).
REFUSALS = {
    "role_not_allowed": gettext_lazy("Role not allowed"),
    "reason_required": gettext_lazy("No reason given"),
    "too_long": gettext_lazy("Reason too long"),
    "anonymous": gettext_lazy("Anonymous requester"),
    "no_value": gettext_lazy("No such value"),
    "invalid_field": gettext_lazy("Unknown field"),
}


def no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@staff_view
@require_POST
def reveal(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Show one masked personal field in clear, once, to a role that may, with a reason. The
    attempt is audited whatever the outcome; a refusal is an error on the reveal form."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    try:
        ticket = access.access_ticket(actor, ticket_id, present=True)
    except DomainError as exc:
        return no_store(console_error(request, exc))
    field = str(request.POST.get("field", "")).strip()[:24]
    form = reveal_form(field, request.POST)
    form.is_valid()
    value: str | None = None
    try:
        value = privacy_actions.reveal(actor, ticket.pk, field=field, reason=form.cleaned_data.get("reason") or "")
    except DomainError as exc:
        if field not in CONTACT_LABELS:
            return no_store(console_error(request, exc))
        if isinstance(exc, InvalidInput) or exc.field:
            form.add_domain_error(exc)
        else:
            form.errors  # noqa: B018  (the lenient clean runs first, then the refusal is added)
            form.add_error(None, str(exc.message))
        status = exc.http_status
        outcome: dict[str, Any] = {"form": form}
    else:
        status = 200
        outcome = {"value": value}
    if is_htmx(request):
        contact = access.access_requester_contact(actor, ticket)
        row = next(r for r in contact_rows(contact, {field: outcome}) if r["field"] == field)
        return no_store(
            render(request, "web/console/_contact_field.html", {"row": row, "ticket": ticket}, status=status)
        )
    context = ticket_context(request, ticket, reveal={field: outcome})
    return no_store(render_console(request, "web/console/ticket.html", context, status=status))


@staff_view
@require_GET
def reveal_audit(request: HttpRequest) -> HttpResponse:
    """Every reveal of personal data, granted or refused, newest first (administrators and
    supervisors); filtered by ticket number."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    try:
        access.access_reveal_audit(actor)
    except DomainError as exc:
        return console_error(request, exc)
    number = request.GET.get("ticket", "").strip()[:20]
    granted = request.GET.get("granted", "").strip()
    rows = Reveal.objects.select_related("ticket", "user__staff_profile").order_by("-created_at", "-id")
    if number:
        rows = rows.filter(ticket__number=number)
    if granted in ("yes", "no"):
        rows = rows.filter(granted=granted == "yes")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    items = [
        {
            "r": r,
            "field": str(CONTACT_LABELS.get(r.field, r.field)),
            "user": staff_name(r.user),
            "username": r.user.get_username(),
            "roles": "、".join(role_text(role) for role in r.role.split(",") if role),
            "refusal": str(REFUSALS.get(r.refusal, r.refusal)),
        }
        for r in page.object_list
    ]
    query = {k: v for k, v in {"ticket": number, "granted": granted}.items() if v}
    return render_console(
        request,
        "web/console/reveals.html",
        {
            "nav": "reveals",
            "page": page,
            "rows": items,
            "number": number,
            "granted": granted,
            "query": urlencode(query),
        },
    )


@staff_view
@require_POST
def call(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """"Contact the requester": bind the requester and this handler to a virtual number
    (`minyi.calls.actions.bind`) and show the number to dial and until when it works. Pressing
    again while bound shows the same number. A refusal is said on the call card."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    alert, status = "", 200
    try:
        calls_actions.bind(actor, ticket_id)
    except DomainError as exc:
        alert, status = str(exc.message), exc.http_status
    try:
        ticket = access.access_ticket(actor, ticket_id, present=True)
    except DomainError as exc:
        return console_error(request, exc)
    if not is_htmx(request):
        if alert:
            messages.error(request, alert)
        else:
            messages.success(request, _("The virtual number is bound: dial it from your own line."))
        return redirect("web:ticket", ticket_id=ticket_id)
    context = {"ticket": ticket, "call": call_context(actor, ticket, alert=alert)}
    if context["call"] is None:  # nothing left to show (e.g. the ticket left the unit meanwhile)
        return no_store(render(request, "web/console/_alert.html", {"message": alert}, status=status))
    return no_store(render(request, "web/console/_call.html", context, status=status))
