"""A fixed-window rate limit for anonymous endpoints, kept in Django's cache (Redis in production)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _

from minyi.core.errors import RateLimited


def client_ip(request: HttpRequest) -> str:
    if settings.MINYI_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "unknown")


def check_rate(request: HttpRequest, scope: str, limit: int | None = None) -> None:
    """Count one anonymous request from this client in `scope`; raise RateLimited past the limit."""
    limit = settings.MINYI_PUBLIC_RATE_LIMIT if limit is None else limit
    window = settings.MINYI_PUBLIC_RATE_WINDOW
    bucket = int(time.time() // window)
    key = f"rl:{scope}:{client_ip(request)}:{bucket}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count > limit:
        raise RateLimited(_("Too many requests. Please wait a minute and try again."))
