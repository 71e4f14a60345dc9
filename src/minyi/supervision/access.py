"""The only way to list supervision orders by permission."""

from __future__ import annotations

from django.db.models import QuerySet

from minyi.org.actors import SYSTEM, Actor
from minyi.org.models import UNIT_ROLES, Role
from minyi.supervision.models import SupervisionOrder
from minyi.tickets.access import require_staff

#: Roles that follow every unit's supervision orders.
ALL_ORDERS_ROLES = frozenset({Role.SUPERVISOR, Role.CITY_LEADER, Role.ADMIN, Role.DISPATCHER})


def can_see_supervision(actor: Actor) -> bool:
    """Whether the supervision queue is for `actor`: those who follow every unit's orders, and
    the handling units (their own unit's)."""
    return bool(actor.roles & (ALL_ORDERS_ROLES | UNIT_ROLES))


def sees_all_orders(actor: Actor) -> bool:
    return bool(actor.roles & ALL_ORDERS_ROLES)


def access_supervision_queryset(actor: Actor) -> QuerySet[SupervisionOrder]:
    """Every order `actor` may see: all of them for supervisors, city leaders, administrators
    and dispatchers; a unit's own orders for its handlers and leaders; none otherwise."""
    require_staff(actor)
    orders = SupervisionOrder.objects.all()
    if actor.roles & ALL_ORDERS_ROLES or SYSTEM in actor.roles:
        return orders
    if actor.roles & UNIT_ROLES and actor.unit_id is not None:
        return orders.filter(unit_id=actor.unit_id)
    return orders.none()
