"""Huey tasks of the time-limit module (discovered by huey.contrib.djhuey; `make run` starts
the consumer, which runs the periodic ones)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task
from huey.exceptions import TaskLockedException

from minyi.core import clock
from minyi.sla import services
from minyi.sla.jobs import scan

log = logging.getLogger(__name__)

LOCK = "minyi-deadline-job"


@db_periodic_task(crontab(minute="*/5"))
def deadline_job() -> dict[str, int]:
    """Every five minutes: closures, due-soon warnings, supervision orders, escalations.

    The job is idempotent and safe on two workers at once; the lock only spares the second
    worker the work while the first is still running.
    """
    try:
        with HUEY.lock_task(LOCK):
            counts = scan()
    except TaskLockedException:
        log.info("deadline job: already running on another worker, skipped")
        return {}
    log.info("deadline job: %s", counts)
    return counts


@db_periodic_task(crontab(hour="9", minute="0"))
def holiday_notice_check() -> list[int]:
    """Every morning: warn the administrators when a year that deadlines may soon reach has no
    holiday notice (they load it with `minyi holidays import`)."""
    missing = services.missing_notice_years(clock.local_today())
    if missing:
        log.warning(
            "no holiday notice for %s: deadlines reaching into it count Monday to Friday and are "
            "provisional; load the State Council's notice with `minyi holidays import FILE`",
            ", ".join(map(str, missing)),
        )
    return missing
