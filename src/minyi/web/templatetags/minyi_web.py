"""Labels for stored codes (statuses, roles, types...) in the current language."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from minyi.org.actors import PUBLIC, REQUESTER, SYSTEM
from minyi.org.models import Role
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
