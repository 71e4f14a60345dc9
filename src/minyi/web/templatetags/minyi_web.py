"""Labels for stored codes (statuses, roles, types...) in the current language."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from minyi.org.actors import PUBLIC, REQUESTER, SYSTEM
from minyi.org.models import Role
from minyi.sla.models import Decision, StagedPlan
from minyi.supervision.models import SupervisionOrder
from minyi.tickets.choices import Channel, Rating, RequesterKind, RequestType, Status
from minyi.tickets.timeline import event_label as _event_label

register = template.Library()


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
