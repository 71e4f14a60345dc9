"""Labels for stored codes (statuses, roles, types...) in the current language."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.template.defaultfilters import date as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from minyi.org.actors import PUBLIC, REQUESTER, SYSTEM, Actor
from minyi.org.models import Role
from minyi.sla.models import Decision, StagedPlan
from minyi.supervision.models import ReplyScreening, SupervisionOrder
from minyi.tickets import access
from minyi.tickets.choices import (
    Channel,
    Rating,
    RequesterKind,
    RequestType,
    ReviewDecision,
    Status,
)
from minyi.tickets.timeline import event_label as _event_label

register = template.Library()


@register.simple_tag
def select_options(choices: Iterable[tuple[object, object]], selected: object) -> SafeString:
    """`<option>`s for (value, label) pairs, the one equal to `selected` selected: built in
    Python, since a filter list may have hundreds of options (every unit) on every page."""
    chosen = "" if selected is None else str(selected)
    return format_html_join(
        "", '<option value="{}"{}>{}</option>',
        ((value, mark_safe(" selected") if str(value) == chosen else "", label) for value, label in choices),  # noqa: S308
    )


def _label(choices, value: str) -> str:
    if value in choices.values:
        return str(choices(value).label)
    return value or ""


@register.filter
def status_label(value: str) -> str:
    return _label(Status, value)


@register.filter
def type_label(value: str) -> str:
    return _label(RequestType, value)


@register.filter
def channel_label(value: str) -> str:
    return _label(Channel, value)


@register.filter
def rating_label(value: str) -> str:
    return _label(Rating, value)


@register.filter
def requester_kind_label(value: str) -> str:
    return _label(RequesterKind, value)


@register.filter
def event_label(kind: str) -> str:
    return _event_label(kind)


def role_text(value: str) -> str:
    pseudo = {REQUESTER: _("Requester"), SYSTEM: _("System"), PUBLIC: _("Public")}
    if value in pseudo:
        return str(pseudo[value])
    return _label(Role, value)


@register.filter
def role_label(value: str) -> str:
    return role_text(value)


@register.filter
def filesize(value: int) -> str:
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{value / 1024:.0f} KB"
    return f"{value / (1024 * 1024):.1f} MB"


@register.simple_tag
def deadline(due: Any, warning: str = "", provisional: bool = False) -> SafeString:
    """A deadline in Shenzhen time with its warning badge and provisional marker (a tag, not an
    included template: it is drawn on every row of a worklist)."""
    if not due:
        return mark_safe('<span class="muted">—</span>')  # noqa: S308
    html = format_html('<span class="deadline nowrap">{}</span>', date_format(localtime(due), "Y-m-d H:i"))
    if warning:
        html += format_html(
            ' <span class="badge warning-{}" data-warning="{}">{}</span>', warning, warning, warning_label(warning)
        )
    if provisional:
        html += format_html(
            ' <span class="badge badge-provisional" data-provisional title="{}">{}</span>',
            _("Counted on a year whose holiday notice is not loaded yet."), _("Provisional"),
        )
    return mark_safe(html)  # noqa: S308 (built with format_html)


@register.filter
def warning_label(value: str) -> str:
    """The badge of a running deadline: 正常 / 即将到期 / 已超期."""
    labels = {"on_time": _("On time"), "due_soon": _("Due soon"), "overdue": _("Overdue")}
    return str(labels.get(value, ""))


@register.filter
def decision_label(value: str) -> str:
    return _label(Decision, value)


@register.filter
def plan_status_label(value: str) -> str:
    return _label(StagedPlan.Status, value)


@register.filter
def cause_label(value: str) -> str:
    return _label(SupervisionOrder.Cause, value)


@register.filter
def order_status_label(value: str) -> str:
    labels: dict[str, str] = {
        SupervisionOrder.Status.OPEN.value: pgettext("supervision order", "Open"),
        SupervisionOrder.Status.CLOSED.value: pgettext("supervision order", "Closed"),
    }
    return str(labels.get(value, value))


# --- quality screening of replies: the findings' stable codes, shown in the current language ----

#: Short names of the findings (the codes of `minyi.supervision.quality`).
FINDING_NAMES = {
    "irrelevant": gettext_lazy("Does not answer the request"),
    "perfunctory": gettext_lazy("Perfunctory reply"),
    "undated_promise": gettext_lazy("Promise without a date"),
    "pasted": gettext_lazy("Same text as on an unrelated request"),
}
#: Why, in full: the same English texts as `minyi.supervision.quality.REASONS`.
FINDING_REASONS = {
    "irrelevant": gettext_lazy(
        "The reply has little in common with the request: it does not seem to answer it."
    ),
    "perfunctory": gettext_lazy(
        "The reply only acknowledges, forwards or promises to handle the request; "
        "it gives no finding, action taken, answer or dated commitment."
    ),
    "undated_promise": gettext_lazy("The reply promises further handling without a date or deadline."),
    "pasted": gettext_lazy("The same reply was given to an unrelated request."),
}
#: What the evidence of each finding is.
FINDING_EVIDENCE = {
    "irrelevant": gettext_lazy("Key words of the request the reply does not mention"),
    "perfunctory": gettext_lazy("Formulae and undertakings without substance"),
    "undated_promise": gettext_lazy("Promises without a date"),
    "pasted": gettext_lazy("The repeated text"),
}


@register.filter
def finding_name(code: str) -> str:
    return str(FINDING_NAMES.get(code, code))


@register.filter
def finding_reason(finding: dict) -> str:
    code = finding.get("code", "") if isinstance(finding, dict) else ""
    if code in FINDING_REASONS:
        return str(FINDING_REASONS[code])
    return _(finding.get("reason", "")) if isinstance(finding, dict) and finding.get("reason") else ""


@register.filter
def finding_evidence(code: str) -> str:
    return str(FINDING_EVIDENCE.get(code, ""))


@register.filter
def screening_state_label(value: str) -> str:
    return _label(ReplyScreening.State, value)


@register.filter
def review_decision_label(value: str) -> str:
    return _label(ReviewDecision, value)


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


@register.filter
def iso_datetime(value: str):
    """An ISO 8601 text (as stored in event data) as a datetime, for the `date` filter."""
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


#: Who reads a page that has no staff member on its request: numbers in text are masked.
_UNKNOWN_READER = Actor(roles=frozenset({PUBLIC}), label=PUBLIC)


@register.filter
def visible_text(text: str | None, request) -> str:
    """Free text (titles, requests, notes, comments) as the page's reader may read it:
    `{{ ticket.text|visible_text:request }}`. The console's views put the staff member on the
    request; numbers inside the text are masked for roles outside intake
    (`access.visible_text`), and for any reader who is not known."""
    actor = getattr(request, "actor", None) if request is not None else None
    return access.visible_text(actor if isinstance(actor, Actor) else _UNKNOWN_READER, text or "")
