"""Huey tasks of supervision (discovered by huey.contrib.djhuey)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task
from huey.exceptions import TaskLockedException

from minyi.supervision.screening import rescan

log = logging.getLogger(__name__)


@db_periodic_task(crontab(hour="2", minute="30"))
def nightly_quality_rescan() -> dict[str, int]:
    """Every night: screen the recent replies again (a text pasted onto later tickets shows
    only then). Idempotent: a rescan changes only undecided findings."""
    try:
        with HUEY.lock_task("minyi-quality-rescan"):
            counts = rescan()
    except TaskLockedException:
        return {}
    log.info("quality rescan: %s", counts)
    return counts
