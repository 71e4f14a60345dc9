"""The console's login backend: Django's, with the signed-in user and their roles kept per
process for a few seconds.

Every console page reads its user (one query) and their roles and unit (another) before doing
anything. Here both are kept per process for `MINYI_TOKEN_CACHE_SECONDS` (30 s; 0 in tests:
always read), as the API already does for tokens: a deactivated user, a changed role or a
changed password takes effect within that time in the other processes, and at once in the
process that saved it. Each request gets its own copy of the user, so nothing one request
sets on it reaches another.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models.signals import m2m_changed, post_delete, post_save

from minyi.org.actors import actor_for_user

#: user id → (read at, user, actor)
_users: dict[Any, tuple[float, Any, Any]] = {}


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        seconds = settings.MINYI_TOKEN_CACHE_SECONDS
        if seconds <= 0:
            return super().get_user(user_id)
        hit = _users.get(user_id)
        if hit is None or time.monotonic() - hit[0] >= seconds:
            user = super().get_user(user_id)
            if user is None:
                _users.pop(user_id, None)
                return None
            if len(_users) > 10_000:
                _users.clear()
            hit = _users[user_id] = (time.monotonic(), user, actor_for_user(user))
        user = copy.copy(hit[1])
        user._minyi_actor = hit[2]  # type: ignore[union-attr]  # actor_for_user reads it: no query for the roles
        return user


def forget(*_args: Any, instance: Any = None, **_kwargs: Any) -> None:
    """A user, their groups or their profile changed: read them again in this process."""
    from minyi.org.models import StaffProfile

    if isinstance(instance, get_user_model()):
        _users.pop(instance.pk, None)
    elif isinstance(instance, StaffProfile):
        _users.pop(instance.user_id, None)
    else:  # a group's members changed, say
        _users.clear()


def connect() -> None:
    user_model = get_user_model()
    post_save.connect(forget, sender=user_model, dispatch_uid="minyi-forget-user")
    post_delete.connect(forget, sender=user_model, dispatch_uid="minyi-forget-user-deleted")
    m2m_changed.connect(forget, sender=user_model.groups.through, dispatch_uid="minyi-forget-user-groups")
    from django.contrib.auth.models import Group

    from minyi.org.models import StaffProfile

    post_save.connect(forget, sender=StaffProfile, dispatch_uid="minyi-forget-profile")
    post_save.connect(forget, sender=Group, dispatch_uid="minyi-forget-group")
    post_delete.connect(forget, sender=Group, dispatch_uid="minyi-forget-group-deleted")
