"""Huey tasks of the time-limit module (discovered by huey.contrib.djhuey)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task
from huey.exceptions import TaskLockedException

from minyi.sla.jobs import scan

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
def deadline_job() -> dict[str, int]:
    """Every five minutes: due-soon warnings, supervision orders, escalations, closures."""
    try:
        with HUEY.lock_task("minyi-deadline-job"):
            counts = scan()
    except TaskLockedException:  # another worker is running it right now
        return {}
    log.info("deadline job: %s", counts)
    return counts
