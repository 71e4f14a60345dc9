"""Bearer tokens for the REST API. Only a token's SHA-256 is stored; tokens expire."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from ninja.security.base import AuthBase

from minyi.core import clock
from minyi.core.errors import NotAuthenticated
from minyi.org.actors import Actor, actor_for_user, for_one_request
from minyi.org.models import ApiToken


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user) -> tuple[str, dt.datetime]:
    token = secrets.token_urlsafe(32)
    expires = clock.now() + dt.timedelta(hours=settings.MINYI_API_TOKEN_HOURS)
    ApiToken.objects.create(key_hash=_digest(token), user=user, expires_at=expires)
    return token, expires


#: Per process: token digest → (read at, actor, token expiry). A deactivated user or a changed
#: role takes effect within MINYI_TOKEN_CACHE_SECONDS; an expired token at once.
_actors: dict[str, tuple[float, Actor, dt.datetime]] = {}


def actor_from_token(token: str) -> Actor:
    digest = _digest(token)
    seconds = settings.MINYI_TOKEN_CACHE_SECONDS
    now = clock.now()
    if seconds > 0:
        hit = _actors.get(digest)
        if hit is not None and time.monotonic() - hit[0] < seconds and hit[2] > now:
            return for_one_request(hit[1])
    row = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=digest, expires_at__gt=now, user__is_active=True)
        .first()
    )
    if row is None:
        _actors.pop(digest, None)
        raise NotAuthenticated("The token is invalid or has expired.", "invalid_token")
    actor = actor_for_user(row.user)
    if seconds > 0:
        if len(_actors) > 10_000:
            _actors.clear()
        _actors[digest] = (time.monotonic(), actor, row.expires_at)
    return for_one_request(actor)


def request_actor(request: HttpRequest) -> Actor:
    """The caller, as the endpoint's auth class found it."""
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Use the header 'Authorization: Bearer <token>'.", "invalid_token")
    return token.strip()


class StaffAuth(AuthBase):
    """Ninja auth: a valid bearer token is required."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Actor | None:
        token = _bearer(request)
        if token is None:
            return None
        return actor_from_token(token)


class StaffOrPublicAuth(StaffAuth):
    """A bearer token if one is sent (and it must be valid); otherwise the public."""

    def __call__(self, request: HttpRequest) -> Actor | None:
        token = _bearer(request)
        if token is None:
            return actor_for_user(AnonymousUser())
        return actor_from_token(token)
