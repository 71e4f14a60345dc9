"""Huey tasks of virtual-number calls (discovered by huey.contrib.djhuey; `make run` starts the
consumer, which runs the periodic one)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.exceptions import TaskLockedException

from minyi.calls.actions import end_bindings_for_closed_tickets, expire_bindings
from minyi.calls.models import Binding
from minyi.calls.providers import get_provider
from minyi.core import clock

log = logging.getLogger(__name__)

LOCK = "minyi-call-bindings-job"


@db_periodic_task(crontab(minute="*"))
def bindings_job() -> dict[str, int]:
    """Every minute: end the bindings of closed, merged or re-dispatched tickets, then those
    whose time ran out. Idempotent and safe on several workers; the lock only spares work."""
    try:
        with HUEY.lock_task(LOCK):
            now = clock.now()
            counts = {"closed": end_bindings_for_closed_tickets(now), "expired": expire_bindings(now)}
    except TaskLockedException:
        return {}
    if any(counts.values()):
        log.info("call bindings: %s", counts)
    return counts


@db_task(retries=3, retry_delay=30)
def unbind_at_provider(binding_id: int) -> bool:
    """Tell the carrier that a binding ended (after the commit that ended it). A failure is
    retried; the carrier's binding runs out at its expiry in any case."""
    binding = Binding.objects.select_related("number").filter(pk=binding_id, active=False).first()
    if binding is None or not binding.provider_ref:
        return False
    get_provider(binding.provider).unbind(binding.number.number, binding.provider_ref)
    log.info("binding %s: unbound at %s", binding.pk, binding.provider)
    return True
