"""Huey tasks of the feedback loop (discovered by huey.contrib.djhuey)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from minyi.feedback.actions import close_unrated

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/15"))
def rating_window_job() -> int:
    """Every quarter of an hour: close replied tickets whose rating window ended, as unrated.
    Idempotent (each ticket is re-checked under its row lock), safe on several workers."""
    closed = close_unrated()
    if closed:
        log.info("rating window: %d ticket(s) closed unrated", closed)
    return closed
