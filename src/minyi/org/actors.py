"""Who is acting: a staff user with roles and a unit, the requester, or the platform itself."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.auth import get_user_model

from minyi.org.models import CITY_WIDE_ROLES, Role

#: Pseudo-roles that are not staff groups.
REQUESTER = "requester"
SYSTEM = "system"
PUBLIC = "public"


@dataclass(frozen=True)
class Actor:
    user: Any = None  # django.contrib.auth user, or None for the requester and the system
    roles: frozenset[str] = field(default_factory=frozenset)
    unit_id: int | None = None
    label: str = ""
    #: What was read about this actor during one web or API request (the tickets its unit
    #: assists...), when the actor lives for one request only (`for_one_request`); None otherwise.
    memo: dict[str, Any] | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def is_staff_user(self) -> bool:
        return self.user is not None

    @property
    def city_wide(self) -> bool:
        return bool(self.roles & CITY_WIDE_ROLES)

    def has(self, role: str) -> bool:
        return role in self.roles


def actor_for_user(user: Any) -> Actor:
    """The roles of a staff user are their groups named after a Role; superusers are admins."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Actor(roles=frozenset({PUBLIC}), label=PUBLIC)
    cached = getattr(user, "_minyi_actor", None)
    if cached is not None:
        return cached
    valid = set(Role.values)
    # One query: a row per group (at least one row), each with the staff profile's columns.
    rows = list(
        get_user_model()._default_manager.filter(pk=user.pk).values_list(
            "groups__name", "staff_profile__unit_id", "staff_profile__display_name"
        )
    )
    roles = {name for name, _, _ in rows if name in valid}
    if user.is_superuser:
        roles.add(Role.ADMIN)
    unit_id, display_name = (rows[0][1], rows[0][2]) if rows else (None, None)
    actor = Actor(
        user=user,
        roles=frozenset(roles),
        unit_id=unit_id,
        label=display_name or user.get_username(),
    )
    user._minyi_actor = actor
    return actor


def for_one_request(actor: Actor) -> Actor:
    """A copy of `actor` that remembers what it read until the request ends."""
    copy = replace(actor)
    object.__setattr__(copy, "memo", {})
    return copy


def requester_actor() -> Actor:
    return Actor(roles=frozenset({REQUESTER}), label=REQUESTER)


def system_actor() -> Actor:
    return Actor(roles=frozenset({SYSTEM}), label=SYSTEM)
