"""The only way to list supervision orders by permission."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from minyi.core.errors import Forbidden, NotFound
from minyi.org.actors import SYSTEM, Actor
from minyi.org.models import UNIT_ROLES, Role
from minyi.supervision.models import ReplyScreening, SupervisionOrder
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


#: Roles that open supervision orders by hand and rule on quality findings.
SUPERVISE_ROLES = frozenset({Role.SUPERVISOR})


def can_supervise(actor: Actor) -> bool:
    return actor.is_staff_user and bool(actor.roles & SUPERVISE_ROLES)


def access_supervise(actor: Actor) -> None:
    """Opening orders by hand, closing them, ruling on quality findings: supervisors only."""
    require_staff(actor)
    if not can_supervise(actor):
        raise Forbidden(_("Only supervisors may do this."), "role_not_allowed")


def access_order(actor: Actor, order_id: int, *, for_update: bool = False) -> SupervisionOrder:
    """An order `actor` may see (404 otherwise)."""
    orders = access_supervision_queryset(actor)
    if not orders.filter(pk=order_id).exists():
        raise NotFound(_("No such supervision order, or it is not visible to you."), "order_not_found")
    if for_update:
        return SupervisionOrder.objects.select_for_update().select_related("ticket").get(pk=order_id)
    return orders.select_related("ticket", "unit").get(pk=order_id)


def can_answer_order(actor: Actor, order: SupervisionOrder) -> bool:
    """The supervised unit's handlers and leaders answer its orders."""
    return bool(actor.roles & UNIT_ROLES) and actor.unit_id is not None and order.unit_id == actor.unit_id


def access_answer_order(actor: Actor, order_id: int) -> SupervisionOrder:
    """An order `actor` may answer, locked for the answer."""
    order = access_order(actor, order_id, for_update=True)
    if not can_answer_order(actor, order):
        raise Forbidden(_("Only the supervised unit may answer this order."), "not_supervised_unit")
    return order


def access_screening_queryset(actor: Actor) -> QuerySet[ReplyScreening]:
    """Quality findings: every one for platform roles that follow supervision, a unit's own for
    its handlers and leaders."""
    require_staff(actor)
    rows = ReplyScreening.objects.all()
    if actor.roles & ALL_ORDERS_ROLES:
        return rows
    if actor.roles & UNIT_ROLES and actor.unit_id is not None:
        return rows.filter(unit_id=actor.unit_id)
    return rows.none()
