"""The one place that reads the time, so tests and the demo loader can move it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_frozen: ContextVar[dt.datetime | None] = ContextVar("minyi_frozen_now", default=None)


def now() -> dt.datetime:
    frozen = _frozen.get()
    return frozen if frozen is not None else timezone.now()


def local_today() -> dt.date:
    return timezone.localdate(now())


@contextmanager
def frozen_at(moment: dt.datetime) -> Iterator[None]:
    """Within the block, `now()` returns `moment` (aware). For tests and loading demo history."""
    if timezone.is_naive(moment):
        raise ValueError("frozen_at needs an aware datetime")
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)
